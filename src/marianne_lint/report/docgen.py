"""The rules reference, ``docs/rules.md``, rendered from the rule registry.

``python -m marianne_lint.report.docgen`` writes ``docs/rules.md`` (relative to the current folder, or
``--output FILE``); ``--check`` writes nothing and exits 1 with a message when the file is
missing or differs from a fresh rendering. Every finding's ``url`` in the JSON, SARIF and
GitLab reports points at ``docs/rules.md#<rule-name>`` (see
:data:`marianne_lint.report.RULE_URL`), so each rule gets a heading whose text is exactly its
name: GitHub derives the anchor from the heading text, and a kebab-case name is its own anchor.

What a rule's docstring looks like
----------------------------------
The docstring (``Rule.doc()``) is the rule's documentation. Its first paragraph is the summary;
the paragraphs after it explain the details, with ``code`` in double backquotes and ``* `` for
list items. Examples follow, each introduced by a line of its own:

* ``Failing::`` or ``Passing::`` followed by an indented YAML block;
* ``Failing (in ``report-v3.yaml``)::``: the same, for a file of that name (rules that look at
  the file name);
* ``Failing: some prose.`` (no ``::``): an example that cannot be written down as YAML (a file
  in the wrong encoding, a file too large to show).

In the YAML of an example, ``<TAB>`` stands for a tab character.

How an example becomes a file the linter can check (:func:`runnable`)
--------------------------------------------------------------------
Examples show only the lines that matter, so most of them are fragments of a document. The
tests (``tests/test_docs.py``) lint every YAML example: a ``Failing`` example must make its rule
fire, a ``Passing`` example must not. To make a fragment a document, :func:`runnable` applies
this convention:

1. ``<TAB>`` becomes a tab character.
2. Rules reported while the file is read or built (``reported_by`` is the reader, the loader or
   the structure step) need no valid document: their examples are linted exactly as written.
3. The examples of every other rule (rules with a check of their own, which only run on a
   document Marianne accepts, and the suppression rules, which need those checks to have run)
   are completed with the keys the document's kind requires, and only those, leaving every key
   the example writes as it is:

   * score: ``name: example`` is put first when ``name`` is missing; a missing ``sheet`` is
     added as ``size: 1`` and ``total_items: 10``, and a ``sheet`` written without ``size`` or
     ``total_items`` gets the missing one of the two (in block or flow style, as written); a
     missing ``prompt`` is added with a one-line template. ``workspace`` is never added.
   * instrument profile: ``name``, ``display_name`` and ``kind: cli`` are put first when
     missing, and a ``kind: cli`` profile without a ``cli`` section gets a minimal one.
   * fleet: ``name`` and ``type: fleet`` are put first when missing.
   * conductor: nothing (an empty conductor config is valid).

4. The document is linted as the rule's kind when the rule checks one kind, and as a score
   when the rule checks every kind; with every rule enabled; as a file named ``example.yaml``,
   or the file name the example gives.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marianne_lint.report.rule_doc import _blocks, _markdown
from marianne_lint.rules import READER_OPTIONS, RULES
from marianne_lint.rules.base import Rule

#: Written (or checked) when ``--output`` is not given, relative to the current folder.
DEFAULT_OUTPUT = Path("docs/rules.md")

#: The command that regenerates the file, named in its header and in ``--check`` messages.
COMMAND = "python -m marianne_lint.report.docgen"

#: Headings of the code families, by code prefix.
FAMILIES: dict[str, str] = {
    "ML0": "ML0xx: reading the file",
    "ML1": "ML1xx: structure",
    "ML2": "ML2xx: the sheet graph",
    "ML3": "ML3xx: limits and timing",
    "ML4": "ML4xx: validations",
    "ML5": "ML5xx: templates and variables",
    "ML6": "ML6xx: files and paths",
    "ML7": "ML7xx: instruments and best practice",
    "ML8": "ML8xx: chaining scores",
}

FAMILY_INTROS: dict[str, str] = {
    "ML0": "YAML syntax, duplicate keys, values that YAML 1.1 reads differently from YAML 1.2, "
    "and the hygiene of suppression comments.",
    "ML1": "The schema of Marianne's models. Every `schema-*` finding means Marianne refuses the file.",
    "ML2": "Dependencies between sheets, fan-out, and sheet numbers that point outside the score.",
    "ML3": "Token thresholds, timeouts, stale detection, retries and cost ceilings.",
    "ML4": "Validations that can never run, conditions Marianne reads differently, empty checks.",
    "ML5": "Prompt templates, template variables and the placeholders of paths, commands and hooks.",
    "ML6": "Files and folders a config refers to. Findings here depend on the machine the linter runs on.",
    "ML7": "Instrument names, backend settings and instrument profiles.",
    "ML8": "`on_success` hooks that start the next score of a concert.",
}

#: Options that a rule does not list in ``Rule.options`` but that govern it.
EXTRA_OPTIONS: dict[str, dict[str, Any]] = {"resource-limit": READER_OPTIONS}

#: Rules whose examples are linted exactly as written (see the module docstring, point 2).
AS_WRITTEN = frozenset({"the reader", "the loader", "the structure step"})

TAB_MARK = "<TAB>"
SHEET_DEFAULTS = (("size", "1"), ("total_items", "10"))
PROMPT_DEFAULT = 'prompt:\n  template: "Write part {{ sheet_num }} of {{ total_sheets }}."\n'

_EXAMPLE_LABEL = re.compile(r"^(?P<which>Failing|Passing)\b\s*(?:\(in ``(?P<file>[^`]+)``\))?\s*$")
_PROSE_EXAMPLE = re.compile(r"^(?P<which>Failing|Passing)(?P<rest>\s*(?:\([^)]*\))?):\s+(?P<text>\S.*)$")


@dataclass(frozen=True, slots=True)
class Example:
    """One ``Failing`` or ``Passing`` example of a rule's docstring."""

    failing: bool
    yaml: str | None
    """The YAML as written in the docstring (dedented; ``<TAB>`` still a marker); None for prose."""
    prose: str | None = None
    """The text of an example written as prose."""
    filename: str | None = None
    """The file name the example is about (``Failing (in ``NAME``)::``)."""

    @property
    def label(self) -> str:
        return "Failing" if self.failing else "Passing"


@dataclass(frozen=True, slots=True)
class Runnable:
    """An example made into a whole document (see the module docstring)."""

    kind: str
    filename: str
    text: str


# -- reading docstrings ------------------------------------------------------------------------------


def examples(rule: Rule) -> list[Example]:
    """The ``Failing``/``Passing`` examples of a rule's docstring, in order."""
    out: list[Example] = []
    for block in _blocks(rule.doc()):
        if block.literal is not None:
            label = _EXAMPLE_LABEL.match(block.text)
            if label is not None:
                out.append(Example(label.group("which") == "Failing", block.literal, None, label.group("file")))
            continue
        prose = _PROSE_EXAMPLE.match(block.text.split("\n", 1)[0])
        if prose is not None:
            text = " ".join(part.strip() for part in block.text.split("\n"))
            text = text.split(":", 1)[1].strip()
            out.append(Example(prose.group("which") == "Failing", None, text))
    return out


# -- making an example a document --------------------------------------------------------------------


def lint_kind(rule: Rule) -> str:
    """The kind a rule's examples are linted as."""
    return rule.kinds[0] if len(rule.kinds) == 1 else "score"


def runnable(rule: Rule, example: Example) -> Runnable:
    """The example as a whole document, following the convention of the module docstring."""
    if example.yaml is None:
        raise ValueError(f"the {example.label} example of {rule.name} is prose, not YAML")
    kind = lint_kind(rule)
    text = example.yaml.replace(TAB_MARK, "\t")
    if rule.reported_by not in AS_WRITTEN:
        text = _complete(kind, text)
    return Runnable(kind, example.filename or "example.yaml", text)


def _top_level(text: str) -> dict[Any, Any] | None:
    from marianne_lint.reading.loader import load

    loaded = load(text)
    return loaded.data if loaded.ok and isinstance(loaded.data, dict) else None


def _complete(kind: str, text: str) -> str:
    data = _top_level(text)
    if data is None:
        return text
    before: list[str] = []
    after: list[str] = []
    if kind == "score":
        if "name" not in data:
            before.append("name: example\n")
        sheet = data.get("sheet")
        if "sheet" not in data:
            after.append("sheet:\n" + "".join(f"  {key}: {value}\n" for key, value in SHEET_DEFAULTS))
        elif sheet is None or isinstance(sheet, dict):
            missing = [(key, value) for key, value in SHEET_DEFAULTS if not sheet or key not in sheet]
            text = _add_to_sheet(text, missing)
        if "prompt" not in data:
            after.append(PROMPT_DEFAULT)
    elif kind == "instrument":
        for key, value in (("name", "example"), ("display_name", "Example"), ("kind", "cli")):
            if key not in data:
                before.append(f"{key}: {value}\n")
        if data.get("kind", "cli") == "cli" and "cli" not in data:
            after.append("cli:\n  command:\n    executable: example\n  output: {}\n")
    elif kind == "fleet":
        for key, value in (("name", "example"), ("type", "fleet")):
            if key not in data:
                before.append(f"{key}: {value}\n")
    if not text.endswith("\n"):
        text += "\n"
    return "".join(before) + text + "".join(after)


def _add_to_sheet(text: str, missing: list[tuple[str, str]]) -> str:
    """Add ``missing`` keys to the top-level ``sheet`` mapping, keeping its style."""
    if not missing:
        return text
    lines = text.split("\n")
    for number, line in enumerate(lines):
        block = re.match(r"^sheet:\s*(#.*)?$", line)
        if block is not None:
            following = [other for other in lines[number + 1:] if other.strip() and not other.lstrip().startswith("#")]
            indent = len(following[0]) - len(following[0].lstrip()) if following else 0
            indent = indent or 2
            lines[number + 1:number + 1] = [" " * indent + f"{key}: {value}" for key, value in missing]
            return "\n".join(lines)
        flow = re.match(r"^sheet:\s*\{(?P<rest>.*)$", line)
        if flow is not None:
            rest = flow.group("rest")
            added = ", ".join(f"{key}: {value}" for key, value in missing)
            separator = " " if rest.lstrip().startswith("}") else ", "
            lines[number] = "sheet: {" + added + separator + rest.lstrip()
            return "\n".join(lines)
    return text


# -- rendering ---------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return _markdown(text).replace("|", "\\|")


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return str(value)


_KIND_WORDS = {"score": "scores", "conductor": "conductor configs", "instrument": "instrument profiles",
               "fleet": "fleet files"}


def render_rule(rule: Rule) -> str:
    """The Markdown section of one rule (its heading is the rule name)."""
    out = [f"### {rule.name}", ""]
    kinds = "every kind of file" if len(rule.kinds) == 4 else ", ".join(_KIND_WORDS[k] for k in rule.kinds)
    out.append(f"**Code:** `{rule.code}` · **Severity:** {rule.severity.label} · **Checks:** {kinds}")
    if rule.fixable:
        how = {"safe": "`--fix`", "unsafe": "`--fix --unsafe-fixes`",
               "sometimes": "`--fix` (some findings only with `--unsafe-fixes`)"}[rule.fixable]
        out.append("")
        out.append(f"**Fix** ({how}): {_markdown(rule.fix_summary)}")
    options = {**EXTRA_OPTIONS.get(rule.name, {}), **rule.options}
    if options:
        out.append("")
        out.append("**Options** (in `[tool.marianne-lint]`), with their defaults:")
        out.append("")
        out.extend(f"- `{name} = {_toml(default)}`" for name, default in options.items())
    for block in _blocks(rule.doc()):
        out.append("")
        if block.literal is None:
            prose = _PROSE_EXAMPLE.match(block.text.split("\n", 1)[0])
            if prose is not None:
                text = _markdown(block.text)
                head, _, tail = text.partition(":")
                out.append(f"**{head.strip()}:**{tail}")
            else:
                out.append(_markdown(block.text))
            continue
        label = _EXAMPLE_LABEL.match(block.text)
        if label is not None:
            if label.group("file"):
                out.append(f"**{label.group('which')}** (in `{label.group('file')}`):")
            else:
                out.append(f"**{label.group('which')}:**")
        elif block.text:
            out.append(_markdown(block.text) + ":")
        out.append("")
        out.append("```yaml")
        out.append(block.literal.rstrip("\n"))
        out.append("```")
    return "\n".join(out) + "\n"


def _family(rule: Rule) -> str:
    return rule.code[:3]


def render(rules: Sequence[Rule] = RULES) -> str:
    """The whole of ``docs/rules.md``."""
    out = [
        "# Rules",
        "",
        f"<!-- Generated by `{COMMAND}` from the rule classes; edit their docstrings, not this file. -->",
        "",
        "Every rule has a code (`ML201`) and a name (`dependency-cycle`); both work in `select`, `ignore`,",
        "`severity` and suppression comments. Severities: **error** (Marianne refuses the file, or it cannot",
        "run as written), **warning** (it runs, but not as its author meant), **info** (advice). An option",
        "is set in `[tool.marianne-lint]` of `pyproject.toml` or in `.marianne-lint.toml`. The examples",
        "show only the lines that matter; the rest of the file is assumed to be valid.",
        "",
        "| code | name | severity | summary |",
        "| --- | --- | --- | --- |",
    ]
    out.extend(f"| {r.code} | [{r.name}](#{r.name}) | {r.severity.label} | {_cell(r.summary)} |" for r in rules)
    family = None
    for rule in rules:
        if _family(rule) != family:
            family = _family(rule)
            out.extend(["", f"## {FAMILIES[family]}", "", FAMILY_INTROS[family]])
        out.append("")
        out.append(render_rule(rule).rstrip("\n"))
    return "\n".join(out) + "\n"


def stale(path: Path) -> str | None:
    """Why ``path`` is not what :func:`render` gives, or None when it is."""
    try:
        current = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return "missing"
    except (OSError, UnicodeDecodeError) as exc:
        return f"unreadable ({exc})"
    return None if current == render() else "out of date"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=COMMAND, description="Write (or check) the rules reference, docs/rules.md, from the rule registry."
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when the file is stale")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, metavar="FILE",
                        help=f"the file to write or check (default: {DEFAULT_OUTPUT})")
    args = parser.parse_args(argv)
    output: Path = args.output
    if args.check:
        problem = stale(output)
        if problem is None:
            print(f"{output} is up to date")
            return 0
        print(f"{output} is {problem}; regenerate it with: {COMMAND}"
              + ("" if output == DEFAULT_OUTPUT else f" --output {output}"), file=sys.stderr)
        return 1
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(render(), encoding="utf-8")
    except OSError as exc:
        print(f"{COMMAND}: cannot write {output}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = [
    "COMMAND",
    "DEFAULT_OUTPUT",
    "Example",
    "Runnable",
    "examples",
    "lint_kind",
    "main",
    "render",
    "render_rule",
    "runnable",
    "stale",
]
