"""ML5xx: templates and variables (prompt templates, placeholders in paths and commands)."""

from __future__ import annotations
