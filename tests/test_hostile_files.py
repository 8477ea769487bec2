"""Hostile file systems: a checkout's contents never steer the linter's writes outside its cache
folder, a malformed cache entry is a miss, and special files never hang a run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from marianne_lint.commands import lint as cli

SCORE = """\
name: hostile
workspace: ./ws
sheet:
  size: 1
  total_items: 2
  dependencies:
    1: [2]
    2: [1]
prompt:
  template: "part {{ sheet_num }}"
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    monkeypatch.chdir(repo)
    (repo / "score.yaml").write_text(SCORE, encoding="utf-8")
    return repo


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = cli.main(["--format", "concise", *args])
    return code, capsys.readouterr().out


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# -- the cache writes only inside its folder ------------------------------------------------------


@pytest.mark.parametrize("name", [".gitignore", "CACHEDIR.TAG"])
def test_a_linked_marker_file_is_replaced_not_followed(project: Path, capsys: pytest.CaptureFixture[str],
                                                       name: str) -> None:
    victim = project.parent / "victim.txt"
    victim.write_text("precious\n", encoding="utf-8")
    cache = project / ".marianne-lint-cache"
    cache.mkdir()
    (cache / name).symlink_to(victim)
    absent = project.parent / "created-through-link"
    (cache / ("CACHEDIR.TAG" if name == ".gitignore" else ".gitignore")).symlink_to(absent)
    first = run(capsys, "score.yaml")
    assert victim.read_text(encoding="utf-8") == "precious\n"
    assert not absent.exists()
    assert run(capsys, "score.yaml") == first  # the cache still works


def test_a_linked_version_or_entry_folder_is_not_entered(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outside = project.parent / "outside"
    outside.mkdir()
    cache = project / ".marianne-lint-cache"
    cache.mkdir()
    (cache / "v2").symlink_to(outside)
    run(capsys, "score.yaml")
    run(capsys, "score.yaml")
    assert files_under(outside) == {}


def test_a_cache_folder_that_is_a_link_is_not_used(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outside = project.parent / "outside"
    outside.mkdir()
    (project / ".marianne-lint-cache").symlink_to(outside)
    first = run(capsys, "score.yaml")
    assert run(capsys, "score.yaml") == first
    assert files_under(outside) == {}


def test_a_linked_entry_is_not_read(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = run(capsys, "score.yaml")
    (entry,) = (project / ".marianne-lint-cache").rglob("*.json")
    planted = project.parent / "planted.json"
    planted.write_text(entry.read_text(encoding="utf-8").replace("dependency-cycle", "no-sheets"), encoding="utf-8")
    entry.unlink()
    entry.symlink_to(planted)
    assert run(capsys, "score.yaml") == first


# -- a malformed entry is a miss ------------------------------------------------------------------


def _diagnostic_without(key: str) -> object:
    def change(entry: dict[str, object]) -> object:
        items = entry["diagnostics"]
        assert isinstance(items, list) and items
        del items[0][key]
        return entry

    return change


MALFORMED = {
    "empty object": lambda entry: {},
    "list": lambda entry: [],
    "string": lambda entry: "x",
    "null": lambda entry: None,
    "no path": _diagnostic_without("path"),
    "no line": _diagnostic_without("line"),
    "line is text": lambda entry: {**entry, "diagnostics": [{**entry["diagnostics"][0], "line": "3"}]},
    "severity out of range": lambda entry: {**entry, "diagnostics": [{**entry["diagnostics"][0], "severity": 9}]},
    "probes not a map": lambda entry: {**entry, "probes": []},
    "bad probe": lambda entry: {**entry, "probes": {"x": [1, "a", 3]}},
    "lines not numbered": lambda entry: {**entry, "lines": {"one": "text"}},
}


@pytest.mark.parametrize("change", list(MALFORMED.values()), ids=list(MALFORMED))
def test_a_malformed_entry_is_a_miss(project: Path, capsys: pytest.CaptureFixture[str], change: object) -> None:
    first = run(capsys, "score.yaml")
    (entry_file,) = (project / ".marianne-lint-cache").rglob("*.json")
    entry = json.loads(entry_file.read_text(encoding="utf-8"))
    assert callable(change)
    entry_file.write_text(json.dumps(change(entry)), encoding="utf-8")
    assert run(capsys, "score.yaml") == first


def test_an_entry_missing_or_adding_any_key_is_a_miss(tmp_path: Path) -> None:
    """Every key encode_result writes must be there, and no other: a planted entry without its kind
    once broke every later run (KeyError), one without a finding's fix dropped the fix."""
    from marianne_lint.cache import Cache, encode_result
    from marianne_lint.diagnostics import Diagnostic, Edit, Fix, Severity

    fix = Fix("f", "safe", (Edit(0, 1, "x", 1, 1, 1, 2),))
    entry = encode_result("linted", [Diagnostic("s.yaml", 1, 1, 1, 2, "ML101", "schema-unknown-key",
                                                Severity.ERROR, "m", fix=fix)], {1: "a: 1"}, {})
    cache = Cache(tmp_path / "cache")
    cache.put("k" * 64, entry)
    assert cache.get("k" * 64) == json.loads(json.dumps(entry))
    changed: list[dict[str, object]] = []
    for key in entry:
        changed.append({k: v for k, v in entry.items() if k != key})
    for key in entry["diagnostics"][0]:
        changed.append({**entry, "diagnostics": [{k: v for k, v in entry["diagnostics"][0].items() if k != key}]})
    changed.append({**entry, "extra": 1})
    changed.append({**entry, "diagnostics": [{**entry["diagnostics"][0], "extra": 1}]})
    assert len(changed) == 4 + 13 + 2
    for bad in changed:
        cache.put("k" * 64, bad)
        assert cache.get("k" * 64) is None, bad


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, "{not json", "\udcff", ""])
def test_an_unreadable_entry_is_a_miss(project: Path, capsys: pytest.CaptureFixture[str], text: str) -> None:
    first = run(capsys, "score.yaml")
    (entry_file,) = (project / ".marianne-lint-cache").rglob("*.json")
    entry_file.write_bytes(text.encode("utf-8", "surrogateescape"))
    assert run(capsys, "score.yaml") == first


# -- special files never hang a run ---------------------------------------------------------------


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "marianne_lint", "--no-cache", "--format", "concise", *args],
        cwd=cwd, capture_output=True, text=True, timeout=60,
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_fifo_named_yaml_is_reported_not_read(project: Path) -> None:
    os.mkfifo(project / "pipe.yaml")
    for args in (["pipe.yaml"], ["."]):
        proc = _cli(project, *args)
        assert proc.returncode == 1, proc.stderr
        assert "pipe.yaml:1:1: ML006 error: cannot read the file: it is a named pipe (FIFO)" in proc.stdout


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
def test_a_device_is_reported_not_read(project: Path) -> None:
    proc = _cli(project, "/dev/zero")
    assert proc.returncode == 1
    assert "it is a device, not a regular file" in proc.stdout


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_a_special_configuration_file_is_a_tool_error(project: Path, special: str) -> None:
    if special == "fifo":
        os.mkfifo(project / "config.toml")
        special = "config.toml"
    elif not os.path.exists(special):
        pytest.skip("no /dev/zero here")
    proc = _cli(project, "--config", special, "score.yaml")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "not a regular file" in proc.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_template_file_that_is_a_fifo_is_not_read(project: Path) -> None:
    os.mkfifo(project / "prompt.j2")
    (project / "score.yaml").write_text(
        SCORE.replace('  template: "part {{ sheet_num }}"', "  template_file: prompt.j2"), encoding="utf-8"
    )
    proc = _cli(project, "score.yaml")
    assert "dependency-cycle" in proc.stdout, proc.stdout
    assert "template-file-missing" in proc.stdout  # a FIFO is not a template file


# -- property: any cache-folder contents --------------------------------------------------------

_KINDS = ("link-to-victim-file", "link-to-victim-folder", "link-to-missing", "fifo", "folder", "garbage",
          "wrong-json", "empty")


def _plant(target: Path, kind: str, victim_file: Path, victim_dir: Path, payload: bytes) -> None:
    """Replace ``target`` (a file or folder of the cache) by something hostile."""
    import shutil

    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    elif target.exists() or target.is_symlink():
        target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    if kind == "link-to-victim-file":
        target.symlink_to(victim_file)
    elif kind == "link-to-victim-folder":
        target.symlink_to(victim_dir, target_is_directory=True)
    elif kind == "link-to-missing":
        target.symlink_to(victim_dir / "created-through-link")
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "folder":
        target.mkdir()
    elif kind == "garbage":
        target.write_bytes(payload)
    elif kind == "wrong-json":
        target.write_text(json.dumps([{"path": 1}, None, payload.decode("latin-1")]), encoding="utf-8")
    else:
        target.write_bytes(b"")


def _outside(root: Path, cache: Path) -> dict[str, tuple[int, bytes]]:
    out: dict[str, tuple[int, bytes]] = {}
    for path in sorted(root.rglob("*")):
        if path == cache or cache in path.parents or path.is_symlink() or not path.is_file():
            continue
        out[str(path.relative_to(root))] = (path.stat().st_mtime_ns, path.read_bytes())
    return out


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_no_cache_folder_contents_change_the_result_or_write_outside(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """Whatever a checkout ships in the cache folder, in place of any of its files or folders (links
    out of it, FIFOs, folders, garbage, JSON of the wrong shape), a run gives the same output and exit
    code as a run without the cache, and nothing outside the cache folder is written."""
    import signal

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(where=st.sampled_from(("cache", "marker-tag", "marker-ignore", "version", "bucket", "entry")),
           kind=st.sampled_from(_KINDS), payload=st.binary(max_size=64), second=st.booleans())
    def check(where: str, kind: str, payload: bytes, second: bool) -> None:
        import shutil
        import tempfile

        root = Path(tempfile.mkdtemp(dir=tmp_path))
        repo = root / "repo"
        repo.mkdir()
        victim_dir = root / "victim"
        victim_dir.mkdir()
        victim_file = victim_dir / "precious.txt"
        victim_file.write_text("precious\n", encoding="utf-8")
        (repo / "score.yaml").write_text(SCORE, encoding="utf-8")
        cache = repo / ".marianne-lint-cache"
        old = os.getcwd()
        os.chdir(repo)
        previous = signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError("run hung")))
        signal.alarm(20)
        try:
            expected = run(capsys, "--no-cache", "score.yaml")
            assert run(capsys, "score.yaml") == expected  # fills the cache
            entries = sorted(cache.glob("v*/*/*.json"))
            assert entries
            entry = entries[0]
            targets = {"cache": cache, "marker-tag": cache / "CACHEDIR.TAG", "marker-ignore": cache / ".gitignore",
                       "version": entry.parent.parent, "bucket": entry.parent, "entry": entry}
            before = _outside(root, cache)
            _plant(targets[where], kind, victim_file, victim_dir, payload)
            if kind == "fifo" and where == "cache":
                before = _outside(root, cache)
            assert run(capsys, "score.yaml") == expected
            if second:
                assert run(capsys, "score.yaml") == expected
            assert _outside(root, cache) == before
            assert victim_file.read_text(encoding="utf-8") == "precious\n"
            assert sorted(p.name for p in victim_dir.iterdir()) == ["precious.txt"]
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
            os.chdir(old)
            shutil.rmtree(root, ignore_errors=True)

    check()


_ENTRY_KINDS = ("score", "fifo", "folder-named-yaml", "broken-link", "link-loop", "link-to-fifo", "binary",
                "non-utf8-name", "empty")


def _make_entry(folder: Path, index: int, kind: str) -> None:
    name = folder / f"entry-{index}.yaml"
    if kind == "score":
        name.write_text(SCORE, encoding="utf-8")
    elif kind == "fifo":
        os.mkfifo(name)
    elif kind == "folder-named-yaml":
        name.mkdir()
        (name / "inner.yaml").write_text(SCORE, encoding="utf-8")
    elif kind == "broken-link":
        name.symlink_to(folder / "nowhere.yaml")
    elif kind == "link-loop":
        name.symlink_to(name)
    elif kind == "link-to-fifo":
        target = folder / f"pipe-{index}"
        os.mkfifo(target)
        name.symlink_to(target)
    elif kind == "binary":
        name.write_bytes(bytes(range(256)))
    elif kind == "non-utf8-name":
        os.close(os.open(os.fsencode(folder) + b"/bad-\xff-" + str(index).encode() + b".yaml",
                         os.O_WRONLY | os.O_CREAT, 0o644))
    else:
        name.write_bytes(b"")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_folder_walk_over_special_files_never_hangs_or_crashes(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Any mix of FIFOs, links (broken, looping, to a FIFO), folders named like scores, binary files and
    non-UTF-8 names under a folder: the walk finishes, exits 0 or 1 (findings), and gives the same
    output twice."""
    import signal

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(st.sampled_from(_ENTRY_KINDS), min_size=1, max_size=6))
    def check(kinds: list[str]) -> None:
        import shutil
        import tempfile

        root = Path(tempfile.mkdtemp(dir=tmp_path))
        for index, kind in enumerate(kinds):
            _make_entry(root, index, kind)
        previous = signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(TimeoutError("walk hung")))
        signal.alarm(20)
        try:
            first = run(capsys, "--no-cache", str(root))
            assert first[0] in (0, 1), first
            assert "Traceback" not in first[1]
            assert run(capsys, "--no-cache", str(root)) == first
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
            shutil.rmtree(root, ignore_errors=True)

    check()


def test_a_setting_naming_a_device_or_a_fifo_says_what_it_is(tmp_path: Path) -> None:
    """A device or a named pipe exists: a message saying it does not would send the user looking."""
    from marianne_lint import lint_text

    os.mkfifo(tmp_path / "pipe.md")
    text = (f"name: x\nworkspace: {tmp_path}\nsheet:\n  size: 1\n  total_items: 2\n  prelude:\n"
            f"    - {{file: /dev/zero, as: context}}\n    - {{file: {tmp_path}/pipe.md, as: context}}\n"
            f"    - {{file: {tmp_path}/none.md, as: context}}\nprompt:\n  template_file: /dev/zero\n")
    messages = {d.line: d.message for d in lint_text(text, path=str(tmp_path / "s.yaml"))
                if d.rule in ("injection-file-missing", "template-file-missing")}
    assert "is a device, not a regular file" in messages[7]
    assert "is a named pipe (FIFO), not a regular file" in messages[8]
    assert "does not exist" in messages[9]
    assert "which is a device, not a regular file" in messages[11]
