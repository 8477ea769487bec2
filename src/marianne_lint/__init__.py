"""marianne-lint: JSON Schema and a semantic linter for Marianne configuration files."""

__version__ = "0.1.0"
