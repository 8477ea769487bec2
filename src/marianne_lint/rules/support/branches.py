"""The ``{% if %}`` chains of a prompt template, read from its tags (never rendered).

The rules that ask which stage renders a place of a template (validations named in a later
stage's branch, lookups by ``instance``, ``fan_count`` in a stage with one voice) share the tag
pattern and the plain stage comparisons read here.
"""

from __future__ import annotations

import re

#: A control tag of a branch or loop, with the rest of the tag (the test).
CHAIN_TAG = re.compile(r"\{%-?\s*(if|elif|else|endif|for|endfor)\b(.*?)-?%\}", re.S)
#: A test Marianne's counters answer alone: ``stage == 2``, ``sheet_num > 1``.
SIMPLE_TEST = re.compile(r"^\s*(stage|movement|sheet_num)\s*(==|!=|>=|<=|>|<)\s*(\d+)\s*$")


class BranchStages:
    """Which stage renders a place of a template, for places asked in increasing order (one pass)."""

    def __init__(self, text: str) -> None:
        self._tags = CHAIN_TAG.finditer(text)
        self._next = next(self._tags, None)
        self._open: list[str] = []

    def at(self, offset: int) -> int | str | None:
        """A number when an enclosing ``{% if %}`` branch tests ``stage == N`` (or ``movement``),
        None when no branch encloses ``offset`` (every stage renders it), "unknown" otherwise."""
        while self._next is not None and self._next.end() <= offset:
            word, test = self._next.group(1), self._next.group(2)
            if word == "if":
                self._open.append(test)
            elif word in ("elif", "else") and self._open:
                self._open[-1] = test if word == "elif" else "else"
            elif word == "endif" and self._open:
                self._open.pop()
            self._next = next(self._tags, None)
        for test in reversed(self._open):
            simple = SIMPLE_TEST.match(test)
            if simple is not None and simple.group(1) != "sheet_num" and simple.group(2) == "==":
                return int(simple.group(3))
        return "unknown" if self._open else None
