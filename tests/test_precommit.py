"""The hooks of ``.pre-commit-hooks.yaml``, run by the real pre-commit the way a user's repository runs them.

pre-commit only sees the committed work of a hook repository, so the module first takes a
snapshot of this checkout (tracked files plus untracked files that are not ignored, as they are
on disk now) and commits it into a temporary git repository: that is the hook repository. Each
test then builds a fresh user repository with a ``.pre-commit-config.yaml`` pointing at the
snapshot's commit, stages files and runs ``pre-commit run`` (which checks the staged files, as
the git hook does) or a real ``git commit``.

The hook environment is installed once per session into a ``PRE_COMMIT_HOME`` under the
session's temporary folder; that needs PyPI (the hook installs marianne-lint's dependencies).
Without pre-commit or git these tests are skipped, except under CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[1]
#: The first run installs the hook environment from PyPI.
TIMEOUT = 900

CLEAN_SCORE = """\
name: nightly-report
workspace: ./workspace
instrument: claude-code
sheet:
  size: 1
  total_items: 2
  dependencies:
    2: [1]
prompt:
  template: "Write part {{ sheet_num }} of {{ total_sheets }} into {{ workspace }}/part-{{ sheet_num }}.md"
validations:
  - type: content_contains
    path: "{workspace}/part-{sheet_num}.md"
    pattern: "## Summary"
"""

CYCLE_SCORE = CLEAN_SCORE.replace("    2: [1]\n", "    1: [2]\n    2: [1]\n")

#: Runs, but with a warning only (an idle timeout that kills healthy sheets).
WARNING_SCORE = CLEAN_SCORE + (
    "stale_detection:\n  enabled: true\n  idle_timeout_seconds: 45\n  check_interval_seconds: 15\n"
)

GITHUB_WORKFLOW = """\
name: ci
on:
  push:
    branches: [main]
  pull_request:
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - run: make test
"""

KUBERNETES = (
    "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n"
    "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n"
)
COMPOSE = "services:\n  web:\n    image: nginx\n    ports: ['8080:80']\n"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but the pre-commit tests cannot run: {reason}")
    pytest.skip(reason)


def _env(pre_commit_home: Path | None = None, path_prefix: Path | None = None) -> dict[str, str]:
    """The environment of git and pre-commit: no outer git or pre-commit state, no user git config."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GIT_", "PRE_COMMIT")) and key not in ("SKIP", "PYTHONPATH", "GITHUB_ACTIONS")
    }
    env.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Test",
        GIT_AUTHOR_EMAIL="test@example.invalid",
        GIT_COMMITTER_NAME="Test",
        GIT_COMMITTER_EMAIL="test@example.invalid",
    )
    if pre_commit_home is not None:
        env["PRE_COMMIT_HOME"] = str(pre_commit_home)
    if path_prefix is not None:
        env["PATH"] = f"{path_prefix}{os.pathsep}{env.get('PATH', '')}"
    return env


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args], cwd=cwd,
                          env=_env(), capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


PRE_COMMIT = [sys.executable, "-m", "pre_commit"]


@pytest.fixture(scope="session")
def tools() -> None:
    if importlib.util.find_spec("pre_commit") is None:
        _unavailable("pre-commit is not installed (pip install '.[test]')")
    if shutil.which("git") is None:
        _unavailable("git is not installed")


@dataclass(frozen=True)
class HookRepo:
    path: Path
    rev: str


@pytest.fixture(scope="session")
def hook_repo(tools: None, tmp_path_factory: pytest.TempPathFactory) -> HookRepo:
    """This checkout as it is on disk, committed into a temporary repository."""
    if not (ROOT / ".git").exists():
        _unavailable(f"{ROOT} is not a git checkout")
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, timeout=120, check=True).stdout.decode("utf-8")
    repo = tmp_path_factory.mktemp("hook-repo")
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if not source.is_file():  # deleted in the working tree but still in the index
            continue
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "--no-verify", "-m", "snapshot of the working tree")
    return HookRepo(repo, _git(repo, "rev-parse", "HEAD").strip())


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


@dataclass
class UserRepo:
    path: Path
    home: Path
    path_prefix: Path | None = None

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*PRE_COMMIT, *args], cwd=self.path, env=_env(self.home, self.path_prefix),
                              capture_output=True, text=True, timeout=TIMEOUT, check=False)
        output = done.stdout + done.stderr
        if done.returncode == 3 and "Installing environment" in output:
            _unavailable(f"pre-commit could not install the hook environment:\n{output[-2000:]}")
        return done

    def commit(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "-c", "commit.gpgsign=false", "commit", "-m", "add scores"], cwd=self.path,
                              env=_env(self.home, self.path_prefix), capture_output=True, text=True, timeout=TIMEOUT,
                              check=False)


@pytest.fixture
def user_repo(hook_repo: HookRepo, pre_commit_home: Path, tmp_path: Path) -> Iterator[
        tuple[HookRepo, Path, Path]]:
    yield hook_repo, pre_commit_home, tmp_path / "user"


def make_repo(setup: tuple[HookRepo, Path, Path], files: dict[str, str], hook_id: str = "marianne-lint",
              extra: dict[str, object] | None = None, path_prefix: Path | None = None) -> UserRepo:
    """A user repository with ``files`` staged and a config using hook ``hook_id`` of the snapshot."""
    hook_repo, home, path = setup
    path.mkdir(parents=True)
    hook: dict[str, object] = {"id": hook_id, **(extra or {})}
    config = {"repos": [{"repo": str(hook_repo.path), "rev": hook_repo.rev, "hooks": [hook]}]}
    (path / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    for name, text in files.items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    _git(path, "init", "-q")
    _git(path, "add", "-A")
    return UserRepo(path, home, path_prefix)


def _output(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout + done.stderr


# -- the manifest ------------------------------------------------------------------------------------


def test_manifest_and_example_config_are_valid(tools: None) -> None:
    for command, file in (("validate-manifest", ".pre-commit-hooks.yaml"),
                          ("validate-config", "hooks/pre-commit-config.example.yaml")):
        done = subprocess.run([*PRE_COMMIT, command, str(ROOT / file)], env=_env(), capture_output=True, text=True,
                              timeout=120, check=False)
        assert done.returncode == 0, _output(done)
        assert "warning" not in _output(done).lower(), _output(done)


def test_manifest_fields() -> None:
    hooks = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text("utf-8"))}
    assert set(hooks) == {"marianne-lint", "marianne-lint-system"}
    assert hooks["marianne-lint"]["language"] == "python"
    assert hooks["marianne-lint-system"]["language"] == "system"
    for hook in hooks.values():
        assert hook["entry"].split() == ["marianne-lint", "--skip-non-marianne", "--force-exclude"]
        assert hook["require_serial"] is True
        assert hook.get("types_or", hook.get("types")) == ["yaml"]
        assert hook.get("pass_filenames", True) is True
    example = yaml.safe_load((ROOT / "hooks" / "pre-commit-config.example.yaml").read_text("utf-8"))
    assert {hook["id"] for repo in example["repos"] for hook in repo["hooks"]} <= set(hooks)


# -- the python hook, as a user's repository runs it ---------------------------------------------------


def test_a_clean_score_commits(user_repo: tuple[HookRepo, Path, Path]) -> None:
    repo = make_repo(user_repo, {"scores/nightly.score.yaml": CLEAN_SCORE})
    installed = repo.run("install")
    assert installed.returncode == 0, _output(installed)
    done = repo.run("run", "--color", "never")  # installs the hook environment on the first run
    assert done.returncode == 0, _output(done)
    committed = repo.commit()
    assert committed.returncode == 0, _output(committed)
    assert re.search(r"marianne-lint\.+Passed", _output(committed)), _output(committed)
    assert _git(repo.path, "status", "--porcelain") == ""  # the hook leaves nothing behind (its cache ignores itself)


def test_a_dependency_cycle_fails_with_the_finding(user_repo: tuple[HookRepo, Path, Path]) -> None:
    repo = make_repo(user_repo, {"scores/nightly.score.yaml": CYCLE_SCORE})
    done = repo.run("run", "--color", "never")
    output = _output(done)
    assert done.returncode == 1, output
    assert re.search(r"marianne-lint\.+Failed", output), output
    assert "scores/nightly.score.yaml:8:9: ML201 error: sheets 1 -> 2 -> 1 form a dependency cycle" in output, output
    assert "[dependency-cycle]" in output


def test_other_yaml_files_are_skipped(user_repo: tuple[HookRepo, Path, Path]) -> None:
    repo = make_repo(user_repo, {
        "scores/nightly.score.yaml": CLEAN_SCORE,
        ".github/workflows/ci.yml": GITHUB_WORKFLOW,
        "deploy/k8s.yaml": KUBERNETES,
        "compose.yaml": COMPOSE,
    })
    done = repo.run("run", "--color", "never", "--verbose")
    output = _output(done)
    assert done.returncode == 0, output
    assert "(1 file checked)" in output, output  # the score; the other three were skipped


def test_one_sorted_report_for_many_files(user_repo: tuple[HookRepo, Path, Path]) -> None:
    """require_serial: one process lints every staged file and prints one report."""
    files = {f"scores/part-{number:02d}.yaml": CYCLE_SCORE for number in range(40)}
    done = make_repo(user_repo, files).run("run", "--color", "never")
    output = _output(done)
    assert done.returncode == 1, output
    assert len(re.findall(r"^Found .*\(\d+ files? checked\)\.$", output, flags=re.M)) == 1, output
    assert "(40 files checked)" in output, output
    paths = re.findall(r"^(scores/part-\d+\.yaml):\d+:\d+: ML201", output, flags=re.M)
    assert len(paths) == 40 and paths == sorted(paths), paths


def test_fail_on_warning(user_repo: tuple[HookRepo, Path, Path]) -> None:
    hook_repo, home, path = user_repo
    default = make_repo((hook_repo, home, path / "default"), {"scores/nightly.score.yaml": WARNING_SCORE})
    assert default.run("run", "--color", "never").returncode == 0
    strict = make_repo((hook_repo, home, path / "strict"), {"scores/nightly.score.yaml": WARNING_SCORE},
                       extra={"args": ["--fail-on", "warning"]})
    done = strict.run("run", "--color", "never")
    assert done.returncode == 1, _output(done)
    assert "[idle-timeout-too-short]" in _output(done)


def test_files_narrows_what_is_linted(user_repo: tuple[HookRepo, Path, Path]) -> None:
    repo = make_repo(user_repo, {"scores/nightly.score.yaml": CLEAN_SCORE, "drafts/broken.score.yaml": CYCLE_SCORE},
                     extra={"files": "^scores/"})
    done = repo.run("run", "--color", "never")
    assert done.returncode == 0, _output(done)


# -- the system hook ---------------------------------------------------------------------------------


def test_the_system_hook_uses_the_installed_marianne_lint(user_repo: tuple[HookRepo, Path, Path]) -> None:
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "marianne-lint").exists() and not (bin_dir / "marianne-lint.exe").exists():
        _unavailable(f"marianne-lint is not installed beside {sys.executable}")
    repo = make_repo(user_repo, {"scores/nightly.score.yaml": CYCLE_SCORE, ".github/workflows/ci.yml": GITHUB_WORKFLOW},
                     hook_id="marianne-lint-system", path_prefix=bin_dir)
    done = repo.run("run", "--color", "never")
    output = _output(done)
    assert done.returncode == 1, output
    assert re.search(r"marianne-lint \(installed\)\.+Failed", output), output
    assert "[dependency-cycle]" in output and "ci.yml" not in output
