"""Exit codes and the argument parser every command shares (a leaf module).

Exit codes: 0 no finding at or above the failing severity, 1 findings at or
above it (unreadable and unparsable files included), 2 the tool could not do
its job (bad option or configuration, internal error).
"""

from __future__ import annotations

import argparse
import sys

EXIT_OK, EXIT_FINDINGS, EXIT_TOOL = 0, 1, 2

#: The first argument that selects a subcommand instead of a path to lint.
SUBCOMMANDS = ("rules", "schema", "graph", "server")


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors exit with :data:`EXIT_TOOL`, as every tool failure does."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}{self._suggestion(message)}", file=sys.stderr)
        raise SystemExit(EXIT_TOOL)

    def _suggestion(self, message: str) -> str:
        """'; did you mean --select?' for an unknown option close to a known one."""
        prefix = "unrecognized arguments: "
        if not message.startswith(prefix):
            return ""
        import difflib

        known = [option for action in self._actions for option in action.option_strings if option.startswith("--")]
        for word in message[len(prefix):].split():
            if word.startswith("-"):
                close = difflib.get_close_matches(word.split("=", 1)[0], known, n=1, cutoff=0.6)
                if close:
                    return f" (did you mean {close[0]}?)"
        return ""
