"""ML6xx: files and folders a config refers to."""

from __future__ import annotations
