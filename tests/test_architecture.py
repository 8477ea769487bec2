"""The package's layout rules: no import cycle (imports inside functions count), and the
public API is what the README documents."""

from __future__ import annotations

import ast
from pathlib import Path

import marianne_lint

PACKAGE = Path(marianne_lint.__file__).resolve().parent


def _module_name(file: Path) -> str:
    parts = list(file.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(file): file for file in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_only(tree: ast.Module) -> set[int]:
    """Line numbers of imports under ``if TYPE_CHECKING:`` (never run)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for inner in node.body:
                for sub in ast.walk(inner):
                    if isinstance(sub, (ast.Import, ast.ImportFrom)):
                        lines.add(sub.lineno)
    return lines


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports at run time, at any depth of the file."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, file in modules.items():
        tree = ast.parse(file.read_text(encoding="utf-8"))
        skip = _type_checking_only(tree)
        package = name if file.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in skip:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    targets.append(full if full in modules else base)
            for target in targets:
                if target in modules and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (the rules' own Tarjan search)."""
    from marianne_lint.rules.graph import strongly_connected

    names = sorted(graph)
    number = {name: index for index, name in enumerate(names)}
    numbered = {number[name]: sorted(number[target] for target in graph[name]) for name in names}
    return [sorted(names[i] for i in component) for component in strongly_connected(numbered) if len(component) > 1]


def test_the_checker_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_the_package() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles (imports inside functions count): " + "; ".join(
        " <-> ".join(c) for c in found
    )


def test_the_exit_codes_and_parser_module_is_a_leaf() -> None:
    graph = import_graph()
    assert graph["marianne_lint.commands.args"] == set()
    assert graph["marianne_lint.version"] == set()


def test_the_public_api_is_exported_from_the_package() -> None:
    for name in marianne_lint.__all__:
        assert getattr(marianne_lint, name) is not None, name
    assert callable(marianne_lint.lint_text) and callable(marianne_lint.lint_paths)


def test_the_registry_has_no_repeated_or_malformed_rule() -> None:
    from marianne_lint.rules import RULES, registry_problems

    assert registry_problems(RULES) == []


def test_the_registry_check_reports_a_repeated_code_and_name() -> None:
    from marianne_lint.rules import RULES, registry_problems

    first = RULES[0]
    twin = type("Twin", (type(first),), {"__doc__": "A copy."})()
    problems = registry_problems([first, twin])
    assert any("code" in p and first.code in p for p in problems), problems
    assert any("name" in p and first.name in p for p in problems), problems
