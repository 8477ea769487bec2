"""The documentation: docs/rules.md in sync with the registry, the rules' examples true, the guides sound.

Every ``Failing`` example of a rule's docstring must make that rule fire, every ``Passing``
example must not. Examples are fragments; :func:`marianne_lint.report.docgen.runnable` completes them
into whole documents by the convention written in ``docgen``'s module docstring. Each example is
linted as a file in its own empty temporary folder, with every rule enabled.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from marianne_lint.config import Config
from marianne_lint.pipeline import Settings, lint_source
from marianne_lint.reading.source import decode
from marianne_lint.report import RULE_URL, docgen
from marianne_lint.rules import RULES, Rule

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
RULES_MD = DOCS / "rules.md"
GUIDES = ("rules.md", "editor.md", "pre-commit.md", "github-actions.md", "gitlab.md")

#: Examples that are prose, not YAML: nothing to lint. Every prose example must be listed here.
PROSE = {
    ("unreadable-file", "Failing"): "a file in another encoding, or not text at all, cannot be shown as YAML",
    ("unreadable-file", "Passing"): "the same file saved as UTF-8",
    ("resource-limit", "Passing"): "any file of a sensible size",
}

#: Examples that run with other option values than the defaults, and why.
OPTIONS: dict[tuple[str, str], tuple[dict[str, Any], str]] = {
    ("resource-limit", "Failing"): (
        {"max-alias-nodes": 500},
        "the example shows three of the ten levels it describes (819 nodes), so the bound is lowered from 100000",
    ),
}

#: Rules that look at the file system: the folder of the linted file, relative to the temporary
#: folder, and the files (or folders, ending in "/") created there first. The ``Passing``
#: examples name files that must exist; the ``Failing`` ones name files that must not.
FILESYSTEM: dict[str, tuple[str, tuple[str, ...]]] = {
    "workspace-parent-missing": ("scores", ("workspaces/",)),  # the workspace is ../workspaces/report-run
    "template-file-missing": (".", ("prompts/review.j2",)),
    "system-prompt-file-missing": (".", ("prompts/system.md",)),
    "working-directory-missing": (".", ("src/",)),
    "injection-file-missing": (".", ("ws/",)),  # the rule only looks inside a workspace that exists
    "injection-has-no-content": (".", ("ws/notes/drafts/", "ws/docs/readme.md")),
    "technique-skill-missing": (".", ("skills/review.md",)),
    "fleet-score-missing": (".", ("scores/build.yaml",)),
    "validation-file-missing": (".", ()),
    "profile-shadows-builtin": (".marianne/instruments", ()),  # where Marianne loads project profiles
}
#: Absolute paths the Failing examples of file-system rules rely on being absent.
ABSENT = ("/srv/projects/missing-folder", "/srv/shared/missing-status.txt")

CASES = [(rule, index, example) for rule in RULES for index, example in enumerate(docgen.examples(rule))]


def _id(case: tuple[Rule, int, docgen.Example]) -> str:
    rule, index, example = case
    return f"{rule.name}:{example.label}:{index}"


# -- docs/rules.md -----------------------------------------------------------------------------------


def test_rules_md_is_up_to_date() -> None:
    assert RULES_MD.is_file(), f"{RULES_MD} is missing; write it with: {docgen.COMMAND}"
    assert RULES_MD.read_text(encoding="utf-8") == docgen.render(), (
        f"docs/rules.md is out of date; regenerate it with: {docgen.COMMAND}"
    )


def _github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_rule_url_leads_to_its_heading() -> None:
    text = docgen.render()
    anchors: dict[str, int] = {}
    for line in text.split("\n"):
        if line.startswith("#"):
            anchor = _github_anchor(line.lstrip("#"))
            anchors[anchor] = anchors.get(anchor, 0) + 1
    for rule in RULES:
        url = RULE_URL.format(name=rule.name)
        path, _, fragment = url.partition("#")
        assert path.endswith("/docs/rules.md"), url
        assert fragment == rule.name
        assert f"\n### {rule.name}\n" in text, f"no heading named exactly {rule.name}"
        assert anchors.get(fragment) == 1, f"#{fragment} does not lead to exactly one heading"


def test_each_section_has_code_severity_kinds_options_and_doc() -> None:
    for rule in RULES:
        section = docgen.render_rule(rule)
        assert f"`{rule.code}`" in section and f"**Severity:** {rule.severity.label}" in section
        for option, default in rule.options.items():
            assert f"`{option} = " in section, (rule.name, option, default)
        first_paragraph = rule.doc().split("\n\n", 1)[0].replace("``", "`")
        assert first_paragraph in section
        yaml_examples = [example for example in docgen.examples(rule) if example.yaml is not None]
        assert section.count("```yaml") >= len(yaml_examples)
        assert any(example.failing for example in docgen.examples(rule)), f"{rule.name} has no Failing example"
    assert "`max-alias-nodes = 100000`" in docgen.render_rule(next(r for r in RULES if r.name == "resource-limit"))


def test_docgen_check_reports_a_stale_file(tmp_path: Path) -> None:
    target = tmp_path / "rules.md"
    command = [sys.executable, "-m", "marianne_lint.report.docgen", "--check", "--output", str(target)]
    missing = subprocess.run(command, capture_output=True, text=True, check=False)
    assert missing.returncode == 1 and "missing" in missing.stderr and docgen.COMMAND in missing.stderr
    target.write_text(docgen.render() + "\nhand edit\n", encoding="utf-8")
    stale = subprocess.run(command, capture_output=True, text=True, check=False)
    assert stale.returncode == 1 and "out of date" in stale.stderr
    written = subprocess.run([*command[:3], "--output", str(target)], capture_output=True, text=True, check=False)
    assert written.returncode == 0, written.stderr
    fresh = subprocess.run(command, capture_output=True, text=True, check=False)
    assert fresh.returncode == 0, fresh.stderr


# -- the examples ------------------------------------------------------------------------------------


def test_prose_examples_are_exactly_the_listed_ones() -> None:
    prose = {(rule.name, example.label) for rule, _, example in CASES if example.yaml is None}
    assert prose == set(PROSE)


def _create(base: Path, paths: tuple[str, ...]) -> None:
    for relative in paths:
        target = base / relative
        if relative.endswith("/"):
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.suffix == ".yaml":  # a score that a fleet names: a valid one
            target.write_text("name: build\nsheet: {size: 1, total_items: 1}\nprompt: {template: Build}\n",
                              encoding="utf-8")
        else:
            target.write_text("placeholder\n", encoding="utf-8")


@pytest.mark.parametrize("case", [case for case in CASES if case[2].yaml is not None], ids=_id)
def test_documented_example(case: tuple[Rule, int, docgen.Example], tmp_path: Path) -> None:
    rule, _, example = case
    folder, created = FILESYSTEM.get(rule.name, (".", ()))
    if rule.name in FILESYSTEM and example.failing:
        present = [path for path in ABSENT if os.path.exists(path)]
        if present:
            pytest.skip(f"this machine has {present}, which the example needs to be absent")
    _create(tmp_path, created)
    made = docgen.runnable(rule, example)
    path = tmp_path / folder / made.filename
    path.parent.mkdir(parents=True, exist_ok=True)
    data = made.text.encode("utf-8")
    path.write_bytes(data)
    options, _why = OPTIONS.get((rule.name, example.label), ({}, ""))
    settings = Settings.from_config(Config(select=["ALL"], options=dict(options)))
    result = lint_source(decode(str(path), data), settings, kind=made.kind, file_path=path)
    assert result is not None
    fired = [f"{d.line}:{d.column} {d.message}" for d in result.diagnostics if d.rule == rule.name]
    others = sorted({d.rule for d in result.diagnostics if d.rule != rule.name})
    if example.failing:
        assert fired, f"{rule.name} does not fire on its Failing example (other findings: {others}):\n{made.text}"
    else:
        assert not fired, f"{rule.name} fires on its Passing example: {fired}\n{made.text}"


def test_completion_convention() -> None:
    """The fragment convention of docgen, on a block and a flow ``sheet``."""
    rule = next(r for r in RULES if r.name == "duplicate-dependency")
    block = docgen.runnable(rule, docgen.Example(True, "sheet:\n  dependencies:\n    3: [1, 2, 1]\n"))
    assert block.text == (
        "name: example\nsheet:\n  size: 1\n  total_items: 10\n  dependencies:\n    3: [1, 2, 1]\n"
        + docgen.PROMPT_DEFAULT
    )
    flow = docgen.runnable(rule, docgen.Example(True, "sheet: {total_items: 3}\nprompt: {template: hi}\n"))
    assert flow.text == "name: example\nsheet: {size: 1, total_items: 3}\nprompt: {template: hi}\n"
    structural = next(r for r in RULES if r.name == "schema-missing-key")
    written = "name: x\nsheet: {total_items: 3}\n"
    assert docgen.runnable(structural, docgen.Example(True, written)).text == written
    syntax = next(r for r in RULES if r.name == "yaml-syntax")
    assert "\t" in docgen.runnable(syntax, docgen.examples(syntax)[0]).text


# -- the guides --------------------------------------------------------------------------------------


def test_guides_exist_and_readme_links_them() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in GUIDES:
        assert (DOCS / name).is_file(), name
        assert f"docs/{name}" in readme, f"README.md does not link docs/{name}"
    assert "hooks/README.md" in readme


def test_relative_links_resolve() -> None:
    files = [*(DOCS / name for name in GUIDES), ROOT / "hooks" / "README.md", ROOT / "README.md",
             ROOT / "vscode-schema" / "README.md"]
    broken = []
    for file in files:
        for target in re.findall(r"\]\(([^)\s]+)\)", file.read_text(encoding="utf-8")):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue
            if not (file.parent / target.split("#", 1)[0]).exists():
                broken.append(f"{file.relative_to(ROOT)}: {target}")
    assert not broken, broken


def _yaml_blocks(path: Path) -> list[Any]:
    text = path.read_text(encoding="utf-8")
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", text, flags=re.S)]


def _commands(value: Any) -> list[str]:
    """Every marianne-lint command line in a loaded workflow or pipeline."""
    out: list[str] = []
    if isinstance(value, dict):
        for item in value.values():
            out.extend(_commands(item))
    elif isinstance(value, list):
        for item in value:
            out.extend(_commands(item))
    elif isinstance(value, str):
        out.extend(line.strip() for line in value.split("\n") if line.strip().startswith("marianne-lint"))
    return out


def _broken_project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    (project / "scores").mkdir(parents=True)
    (project / "scores" / "cycle.score.yaml").write_text(
        "name: cycle\nworkspace: ./ws\nsheet:\n  size: 1\n  total_items: 2\n  dependencies:\n    1: [2]\n"
        "    2: [1]\nprompt:\n  template: Write\nvalidations:\n  - type: file_exists\n    path: '{workspace}/a'\n",
        encoding="utf-8",
    )
    return project


def _run(command: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    argv = command.split()
    assert argv[0] == "marianne-lint"
    full_env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"} | env
    return subprocess.run([sys.executable, "-m", "marianne_lint", *argv[1:]], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_github_actions_guide(tmp_path: Path) -> None:
    workflows = [block for block in _yaml_blocks(DOCS / "github-actions.md")
                 if isinstance(block, dict) and "jobs" in block]
    assert len(workflows) == 2
    annotations, workflow = workflows
    assert "marianne-lint" in _commands(annotations)  # no --format: annotations under GITHUB_ACTIONS
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    upload = [step for step in steps if str(step.get("uses", "")).startswith("github/codeql-action/upload-sarif@")]
    assert upload and upload[0]["with"]["sarif_file"] == "results.sarif"
    assert upload[0]["if"] == "always()"
    assert any(job.get("permissions", {}).get("security-events") == "write" for job in workflow["jobs"].values())
    sarif_commands = [c for c in _commands(workflow) if "--format sarif" in c]
    assert sarif_commands and all("--output-file results.sarif" in c for c in sarif_commands)
    project = _broken_project(tmp_path)
    done = _run(sarif_commands[0], project)
    assert done.returncode in (0, 1), done.stderr
    report = json.loads((project / "results.sarif").read_text(encoding="utf-8"))
    assert report["version"] == "2.1.0"
    assert any(result["ruleId"] in ("ML201", "dependency-cycle") for result in report["runs"][0]["results"])
    # The plain command in a workflow prints annotations by itself.
    plain = _run("marianne-lint", project, GITHUB_ACTIONS="true")
    assert plain.returncode == 1 and plain.stdout.startswith("::error file=")


def test_gitlab_guide(tmp_path: Path) -> None:
    blocks = [block for block in _yaml_blocks(DOCS / "gitlab.md") if isinstance(block, dict)]
    jobs = [job for block in blocks for job in block.values() if isinstance(job, dict) and "script" in job]
    assert jobs
    job = jobs[0]
    assert job["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    assert job["artifacts"].get("when") == "always"
    command = next(c for c in _commands(job) if "--format gitlab" in c)
    assert "--output-file gl-code-quality-report.json" in command
    project = _broken_project(tmp_path)
    done = _run(command, project)
    assert done.returncode == 1, done.stderr
    issues = json.loads((project / "gl-code-quality-report.json").read_text(encoding="utf-8"))
    assert any(issue["check_name"] == "dependency-cycle" for issue in issues)
    for issue in issues:
        assert {"description", "check_name", "fingerprint", "severity", "location"} <= set(issue)


def test_editor_guide_names_the_schemas_and_the_modeline() -> None:
    text = (DOCS / "editor.md").read_text(encoding="utf-8")
    from marianne_lint.building.schema_export import schema_file_name, schema_id

    for kind in ("score", "conductor", "instrument", "fleet"):
        assert schema_file_name(kind) in text
    assert f"# yaml-language-server: $schema={schema_id('score')}" in text
    assert "yaml.schemas" in text and "YAML 1.1" in text and "YAML 1.2" in text


# -- documented versions exist --------------------------------------------------------------------

_DOCUMENTED_REF = re.compile(r"^\s*rev:\s*(\S+)|marianne-lint@([0-9A-Za-z._/-]+)", re.M)


def documented_refs() -> list[tuple[str, str]]:
    """(file, ref) for every ``rev:`` and ``marianne-lint@REF`` in the README, docs and hooks."""
    root = Path(__file__).resolve().parents[1]
    files = [root / "README.md", *sorted((root / "docs").glob("*.md")), *sorted((root / "hooks").glob("*"))]
    found = []
    for file in files:
        if file.is_file():
            for match in _DOCUMENTED_REF.finditer(file.read_text(encoding="utf-8")):
                found.append((file.name, match.group(1) or match.group(2)))
    return found


def test_every_documented_rev_resolves_in_the_repository() -> None:
    import shutil
    import subprocess

    root = Path(__file__).resolve().parents[1]
    refs = documented_refs()
    assert len(refs) >= 5, refs  # README, pre-commit guide, hooks guide, example, CI guides
    if shutil.which("git") is None or not (root / ".git").exists():
        if os.environ.get("CI"):
            pytest.fail("CI must run in a git checkout: documented revisions cannot be checked")
        pytest.skip("not a git checkout")
    shallow = subprocess.run(["git", "rev-parse", "--is-shallow-repository"], cwd=root, capture_output=True, text=True)
    if shallow.stdout.strip() == "true":
        pytest.skip("a shallow clone does not hold the history the documented commits are in")
    missing = []
    for name, ref in refs:
        probe = subprocess.run(["git", "cat-file", "-e", f"{ref}^{{commit}}"], cwd=root, capture_output=True)
        if probe.returncode != 0:
            missing.append(f"{name}: {ref}")
    assert not missing, f"documented revisions that do not exist in this repository: {missing}"
