"""ML7xx: instruments and best practice."""

from __future__ import annotations
