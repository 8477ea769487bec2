"""The subcommands: ``rules`` (documentation), ``schema`` (JSON Schema files), ``graph`` (sheet graph),
``server`` (the language server)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from marianne_lint.commands.args import EXIT_OK, EXIT_TOOL, Parser


def run(name: str, argv: Sequence[str]) -> int:
    if name == "rules":
        return rules_command(argv)
    if name == "schema":
        from marianne_lint.commands.schema import schema_command

        return schema_command(argv)
    if name == "server":
        from marianne_lint.server import server_command

        return server_command(argv)
    from marianne_lint.commands.graph import graph_command

    return graph_command(argv)


def rules_command(argv: Sequence[str]) -> int:
    parser = Parser(prog="marianne-lint rules", description=(
        "List the rules, or show one rule's documentation. In the list, [*] marks a rule whose findings "
        "--fix repairs, [~] one whose fix is safe for some findings only (the others need --unsafe-fixes), "
        "[!] one fixed only with --fix --unsafe-fixes."))
    parser.add_argument("rule", nargs="?", help="a rule code or name")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    from marianne_lint.rules import RULES, lookup

    if args.rule:
        rule = lookup(args.rule)
        if rule is None:
            from marianne_lint.config import did_you_mean
            from marianne_lint.rules import BY_NAME

            print(f"marianne-lint: unknown rule '{args.rule}'{did_you_mean(args.rule, list(BY_NAME))}",
                  file=sys.stderr)
            return EXIT_TOOL
        chosen = [rule]
    else:
        chosen = list(RULES)
    if args.format == "json":
        payload = [
            {
                "code": r.code,
                "name": r.name,
                "severity": r.severity.label,
                "summary": r.summary,
                "kinds": list(r.kinds),
                "options": r.options,
                "fix": r.fixable,
                "fix_summary": r.fix_summary or None,
                "doc": r.doc(),
            }
            for r in chosen
        ]
        print(json.dumps(payload if not args.rule else payload[0], indent=2))
        return EXIT_OK
    if args.rule:
        rule = chosen[0]
        print(f"{rule.code} {rule.name} ({rule.severity.label}; {', '.join(rule.kinds)})")
        from marianne_lint.report.rule_doc import as_text

        print()
        print(as_text(rule.doc()))
        if rule.fixable:
            print()
            print(f"Fix ({_FIX_WORDS[rule.fixable]}): {rule.fix_summary}")
        if rule.options:
            print()
            print("Options:")
            for option, default in rule.options.items():
                print(f"  {option} = {default!r}")
        return EXIT_OK
    width = max(len(r.name) for r in chosen)
    for r in chosen:
        print(f"{r.code}  {r.name:<{width}}  {r.severity.label:<7}  {_FIX_MARKS[r.fixable]:<3}  {r.summary}")
    return EXIT_OK


#: How ``rules`` marks each kind of fix.
_FIX_MARKS = {"safe": "[*]", "sometimes": "[~]", "unsafe": "[!]", None: ""}
_FIX_WORDS = {"safe": "safe, applied by --fix", "sometimes": "safe for some findings, else --unsafe-fixes",
              "unsafe": "applied with --fix --unsafe-fixes"}

