"""The version of marianne-lint (a leaf module: everything may import it)."""

__version__ = "0.1.0"
