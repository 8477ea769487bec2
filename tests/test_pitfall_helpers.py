"""Inline tests of the readers behind the pitfall rules: shell text, grep patterns, quoting, comments."""

from __future__ import annotations

import pytest

from marianne_lint.rules.support.shell import problems, without_jinja
from marianne_lint.rules.templates import _comment_openers, _unclosed_comment
from marianne_lint.rules.validations import _quoted_placeholders, passing_grep


@pytest.mark.parametrize(
    ("text", "line", "column", "what"),
    [
        ("Run the build and don't stop.", 1, 21, "cannot parse"),
        ("ls\n```bash\nmake\n```", 2, 0, "code fence"),
        ("# steps\n- make build", 2, 0, "markdown"),
        ("## Build\nRun the tests.", 2, 0, "sentence"),
        ("echo $(ls", 1, 9, "expects"),
    ],
)
def test_shell_problems_name_the_place(text: str, line: int, column: int, what: str) -> None:
    found = problems(text)
    assert found, text
    assert (found[0].line, found[0].column) == (line, column)
    assert what in found[0].what


@pytest.mark.parametrize(
    "text",
    [
        "set -euo pipefail\ncd \"{{ workspace }}\"\nfor f in *.md; do wc -l \"$f\"; done",
        "# a comment line\nmake test > out.txt 2>&1",
        "{% if sheet_num == 1 %}make a{% else %}make b{% endif %}",
        "python3 -c \"print('ok')\"",
        "cat <<EOF\nhello\nEOF\n",
        "Rscript analysis.R input.csv",
    ],
)
def test_shell_scripts_are_clean(text: str) -> None:
    assert problems(text) == []


def test_shell_reader_keeps_columns_and_survives_hostile_text() -> None:
    assert without_jinja("a {{ x }} b") == "a XXXXXXX b"
    assert without_jinja("a {% if x %}\nb") == "a           \nb"
    assert problems("echo \udfff ok") == []  # a lone surrogate is not an error of the script
    assert problems("é'x")[0].column == 1  # columns count characters, not UTF-8 bytes
    assert problems("(" * 5000)  # deep nesting: an error, not a recursion failure
    assert len(problems("- a\n" * 1000, limit=3)) == 3


@pytest.mark.parametrize(
    ("command", "pattern"),
    [
        ("pytest -q | grep passed", "passed"),
        ("grep -q '[0-9]+ passed' log", "[0-9]+ passed"),
        ("grep -c PASSED log", "PASSED"),
        ("grep -E '^ok' x", "^ok"),
        ("make test | grep -e success", "success"),
        ("pytest | grep -v failed | grep passed", None),
        ("grep -q 'all tests passed' log", None),
        ("grep -q passport x", None),
        ("! grep -q passed x", None),
        ("grep -vq passed x", None),
    ],
)
def test_passing_grep(command: str, pattern: str | None) -> None:
    assert passing_grep(command) == pattern


def test_quoted_placeholders_follow_shell_quoting() -> None:
    assert list(_quoted_placeholders('test -s "{workspace}/a"')) == [("workspace", '"')]
    assert list(_quoted_placeholders("grep x '{report}'")) == [("report", "'")]
    assert list(_quoted_placeholders("test -s {workspace}/a")) == []
    assert list(_quoted_placeholders('echo "a" {workspace}')) == []
    assert list(_quoted_placeholders("echo \\\"{workspace}")) == []  # an escaped quote opens nothing


def test_comment_openers() -> None:
    text = "echo ${#a[@]}\nkeep\n{# note #}\n{% raw %}${#b}{% endraw %}"
    assert [(start, dollar) for start, _end, dollar in _comment_openers(text)] == [(6, True)]
    assert _unclosed_comment("x ${#arr}") == (1, 2, "${#")
    assert _unclosed_comment("{# fine #} and {# open") == (1, 15, "{#")
    assert _unclosed_comment("{# closed #}") is None
