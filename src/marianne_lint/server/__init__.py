"""The language server (``marianne-lint server``): every rule live in the editor, over LSP on stdio."""

from __future__ import annotations

from collections.abc import Sequence


def server_command(argv: Sequence[str]) -> int:
    """Run the language server on stdin/stdout until the client exits."""
    raise NotImplementedError("the language server is being built")
