"""The language server (``marianne-lint server``): every rule live in the editor, over LSP on stdio.

Imported only by that subcommand: ``import marianne_lint`` and the lint command never load pygls.
"""

from __future__ import annotations

from collections.abc import Sequence


def server_command(argv: Sequence[str]) -> int:
    """Run the language server on stdin/stdout until the client exits."""
    from marianne_lint.commands.args import EXIT_OK, Parser

    parser = Parser(prog="marianne-lint server", description=(
        "Run the marianne-lint language server over stdio (started by an editor; see docs/editor.md)."))
    parser.add_argument("--stdio", action="store_true",
                        help="talk LSP on stdin/stdout (the default and only transport)")
    parser.add_argument("--lint-delay-ms", type=float, default=0.0, metavar="MS", help=(
        "wait this long after the last change before linting (default 0: lint at once, and while a lint "
        "runs, gather the changes into one lint of the newest text)"))
    parser.add_argument("--log-file", metavar="PATH", help="write the server's own debug log to this file")
    args = parser.parse_args(list(argv))
    if args.log_file:
        import logging

        logging.basicConfig(filename=args.log_file, level=logging.DEBUG,
                            format="%(asctime)s %(threadName)s %(name)s %(levelname)s %(message)s")
    from marianne_lint.server.app import create_server

    server = create_server(delay=max(0.0, args.lint_delay_ms) / 1000)
    server.start_io()
    return EXIT_OK


__all__ = ["server_command"]
