"""Linting a score never runs, renders or fetches anything it names.

Every place of a score that Marianne executes, renders or sends somewhere
holds a payload here that would leave a trace if it ran: a marker file under
tmp_path (``touch``, Jinja's ``os.system`` escapes) or a connection to a
socket this test listens on at 127.0.0.1. The score is linted in-process
(with subprocess, os.system, os.popen, the exec/spawn family and socket
connections replaced by tripwires) and through the command line; afterwards
no marker exists and the socket accepted nothing. Rendering
``range(10**12)`` would never end, so finishing in seconds shows that no
template was rendered.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

from marianne_lint.config import Config
from marianne_lint.pipeline import Settings, lint_source
from marianne_lint.reading.source import read_path


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A socket on 127.0.0.1 that records whether anything connected to it."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.setblocking(False)
    try:
        yield server
    finally:
        server.close()


def accepted(server: socket.socket) -> bool:
    try:
        connection, _ = server.accept()
    except BlockingIOError:
        return False
    connection.close()
    return True


def payloads(markers: Path, port: int) -> tuple[dict[str, str], str]:
    """Shell commands and Jinja expressions that each leave their own marker; and a connecting command."""
    def touch(name: str) -> str:
        return f"touch {markers / name}"

    connector = markers.parent / "connect.py"
    connector.write_text(
        f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2).close()\n", encoding="utf-8"
    )
    connect = f"{sys.executable} {connector}"  # no quotes: it fits in any Jinja or shell string
    jinja = {
        "cycler": f"{{{{ cycler.__init__.__globals__.os.system('{touch('jinja-cycler')}') }}}}",
        "lipsum": f"{{{{ lipsum.__globals__['os'].system('{touch('jinja-lipsum')}') }}}}",
        "joiner": f"{{{{ joiner.__init__.__globals__.os.popen('{touch('jinja-joiner')}').read() }}}}",
        "builtins": (
            "{{ self.__init__.__globals__.__builtins__.__import__('os')"
            f".system('{touch('jinja-builtins')}') }}}}"
        ),
        "subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "socket": f"{{{{ lipsum.__globals__.os.system('{connect}') }}}}",
        "forever": "{% for x in range(10**12) %}{{ x }}{% endfor %}",
        "bomb": "{{ 'x' * 10**10 }}",
    }
    return jinja, connect


def hostile_score(folder: Path, port: int) -> Path:
    """A score whose every executable, renderable or fetchable field is a tripwire."""
    markers = folder / "markers"
    markers.mkdir()
    jinja, connect = payloads(markers, port)

    def touch(name: str) -> str:
        return f"touch {markers / name}; {connect}"

    script = folder / "hook.sh"
    script.write_text(f"#!/bin/sh\ntouch {markers / 'script-file'}\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    every_jinja = " ".join(jinja.values())
    score: dict[str, Any] = {
        "name": "hostile",
        "workspace": str(folder / "workspace"),
        "sheet": {
            "size": 1,
            "total_items": 3,
            "skip_when_command": {
                1: {"command": touch("skip-when-command"), "description": "probe"},
                2: {"command": f"$({touch('skip-when-subshell')})"},
            },
            "prelude": [
                {"file": jinja["cycler"], "as": "context"},
                {"directory": jinja["lipsum"], "as": "skill"},
            ],
            "cadenzas": {
                1: [{"file": jinja["builtins"], "as": "tool"}],
                2: [{"directory": jinja["socket"], "as": "context"}],
            },
        },
        "prompt": {
            "template": f"Sheet {{{{ sheet_num }}}} of {{{{ undefined_tripwire_name }}}}. {every_jinja}",
            "variables": {"payload": jinja["joiner"], "more": every_jinja},
        },
        "validations": [
            {"type": "command_succeeds", "command": touch("validation-command")},
            {"type": "command_succeeds", "command": f"{jinja['lipsum']} && {touch('validation-jinja')}"},
            {"type": "file_exists", "path": f"{{workspace}}/$({touch('validation-path')})"},
        ],
        "on_success": [
            {"type": "run_command", "command": touch("run-command")},
            {"type": "run_script", "command": str(script)},
            {"type": "run_job", "job_path": str(script), "detached": True},
            {"type": "run_command", "command": touch("run-command-dir"), "working_directory": str(folder)},
        ],
        "concert": {"enabled": True},
        "notifications": [
            {"type": "webhook", "config": {"url": f"http://127.0.0.1:{port}/hook", "command": touch("webhook")}},
            {"type": "slack", "config": {"webhook_url": f"http://127.0.0.1:{port}/slack"}},
            {"type": "email", "config": {"smtp_host": "127.0.0.1", "smtp_port": port, "to": "a@example.com"}},
            {"type": "desktop", "config": {"command": touch("desktop")}},
        ],
        "cross_sheet": {
            "auto_capture_stdout": True,
            "capture_files": [jinja["cycler"], f"$({touch('capture-subshell')})", "{{ sheet_num - 1 }}/*.md"],
        },
        "grounding": {
            "enabled": True,
            "hooks": [
                {
                    "type": "file_checksum",
                    "name": "tripwire",
                    "expected_checksums": {f"$({touch('grounding')})": "0" * 64, jinja["lipsum"]: "1" * 64},
                }
            ],
        },
        "techniques": {
            "skill": {"kind": "skill", "phases": ["work"], "config": {"path": f"$({touch('technique-skill')})"}},
            "server": {
                "kind": "mcp",
                "phases": ["work"],
                "config": {"server": touch("technique-mcp"), "command": touch("technique-cmd"),
                           "url": f"http://127.0.0.1:{port}/mcp"},
            },
            "protocol": {"kind": "protocol", "phases": ["review"], "config": {"template": jinja["builtins"]}},
        },
        "instrument_config": {"cli_extra_args": [f"$({touch('instrument-args')})"]},
    }
    path = folder / "hostile.yaml"
    path.write_text(yaml.safe_dump(score, sort_keys=False, allow_unicode=True, width=10_000), encoding="utf-8")
    return path


YAML_TAGS = """\
name: tagged
workspace: ./w
sheet: {{size: 1, total_items: 1}}
prompt:
  template: !!python/object/apply:os.system ["touch {marker}"]
validations:
  - !!python/object/new:subprocess.Popen [["touch", "{marker}"]]
"""


class Tripwire(Exception):
    pass


@pytest.fixture
def tripwires(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace every way to run a process or open a connection with a recorder that also raises.

    The record is what the test checks: a linter that caught the exception
    would still leave its call in the list.
    """
    calls: list[str] = []

    def wire(name: str) -> Any:
        def tripped(*args: Any, **kwargs: Any) -> Any:
            calls.append(f"{name}{args!r}")
            raise Tripwire(name)

        return tripped

    monkeypatch.setattr(subprocess, "Popen", wire("subprocess.Popen"))
    for name in ("run", "call", "check_call", "check_output", "getoutput", "getstatusoutput"):
        monkeypatch.setattr(subprocess, name, wire(f"subprocess.{name}"))
    for name in ("system", "popen", "execv", "execve", "execvp", "execvpe", "execl", "execlp", "spawnv",
                 "spawnve", "spawnvp", "posix_spawn", "posix_spawnp", "fork", "forkpty"):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, wire(f"os.{name}"))
    monkeypatch.setattr(socket, "create_connection", wire("socket.create_connection"))
    monkeypatch.setattr(socket.socket, "connect", wire("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", wire("socket.connect_ex"))
    monkeypatch.setattr(socket, "getaddrinfo", wire("socket.getaddrinfo"))
    return calls


def no_traces(folder: Path, server: socket.socket) -> None:
    markers = folder / "markers"
    left = sorted(p.name for p in markers.iterdir()) if markers.is_dir() else []
    assert left == [], f"payloads ran: {left}"
    assert not accepted(server), "something connected to the test socket"


def test_linting_in_process_runs_nothing(
    tmp_path: Path, listener: socket.socket, tripwires: list[str]
) -> None:
    score = hostile_score(tmp_path, listener.getsockname()[1])
    settings = Settings.from_config(Config(select=["ALL"]))
    started = time.monotonic()
    result = lint_source(read_path(str(score), "hostile.yaml"), settings, kind="score", file_path=score)
    elapsed = time.monotonic() - started
    assert tripwires == []
    no_traces(tmp_path, listener)
    assert elapsed < 10, f"linting took {elapsed:.1f} s: was a template rendered?"
    # The payloads were read and checked, not skipped: the file built its model and the template rules ran.
    assert result is not None
    rules = {d.rule for d in result.diagnostics}
    assert not any(rule.startswith("schema-") or rule == "yaml-syntax" for rule in rules), result.diagnostics
    assert "template-syntax" not in rules
    assert any(d.rule == "undefined-template-variable" and "undefined_tripwire_name" in d.message
               for d in result.diagnostics), sorted(rules)


def test_linting_on_the_command_line_runs_nothing(tmp_path: Path, listener: socket.socket) -> None:
    score = hostile_score(tmp_path, listener.getsockname()[1])
    (tmp_path / ".marianne-lint.toml").write_text('select = ["ALL"]\n', encoding="utf-8")
    for fmt in ("json", "full", "sarif"):
        proc = subprocess.run(
            [sys.executable, "-m", "marianne_lint", "--format", fmt, score.name],
            cwd=tmp_path,
            capture_output=True,
            timeout=60,
        )
        assert b"Traceback" not in proc.stderr, proc.stderr.decode()
        assert proc.returncode in (0, 1), proc.stderr.decode()
        if fmt == "json":
            report = json.loads(proc.stdout)
            assert report["summary"]["files"] == 1
            assert any(d["rule"] == "undefined-template-variable" and "undefined_tripwire_name" in d["message"]
                       for d in report["diagnostics"])
    no_traces(tmp_path, listener)


def test_python_tags_are_never_constructed(tmp_path: Path, listener: socket.socket, tripwires: list[str]) -> None:
    marker = tmp_path / "markers" / "yaml-tag"
    marker.parent.mkdir()
    (tmp_path / "tagged.yaml").write_text(YAML_TAGS.format(marker=marker), encoding="utf-8")
    settings = Settings.from_config(Config(select=["ALL"]))
    result = lint_source(read_path(str(tmp_path / "tagged.yaml"), "tagged.yaml"), settings)
    assert result is not None
    assert [d.rule for d in result.diagnostics] == ["yaml-syntax"]
    assert "python/object" in result.diagnostics[0].message
    assert tripwires == []
    no_traces(tmp_path, listener)


def test_the_tripwires_work(tmp_path: Path, listener: socket.socket) -> None:
    """The payloads do leave traces when they run, so their absence above means something."""
    markers = tmp_path / "markers"
    markers.mkdir()
    jinja, connect = payloads(markers, listener.getsockname()[1])
    from jinja2 import Environment

    environment = Environment()
    environment.from_string(jinja["cycler"]).render()
    environment.from_string(jinja["lipsum"]).render()
    assert sorted(p.name for p in markers.iterdir()) == ["jinja-cycler", "jinja-lipsum"]
    subprocess.run(connect.split(), capture_output=True, timeout=30)
    time.sleep(0.1)
    assert accepted(listener)
