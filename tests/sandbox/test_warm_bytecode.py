"""A warm run's trusted script (``ExecRequest.trusted``) comes compiled from the orchestrator:
once per content, recompiled when the file changes, never for a file the caller did not vouch
for or that leads outside the staged copy, and with the semantics of ``runpy.run_path``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from darwin_hookspecs import ExecRequest
from darwin_plugins.local_sandbox import forkserver
from darwin_plugins.local_sandbox.bytecode import ScriptCodes

from .conftest import make_sandbox

SCRIPT = ("import sys\nVALUE = {value}\n"
          "print(__name__, __file__, sys.argv, VALUE)\n"
          "if len(sys.argv) > 1:\n    raise ValueError('asked to fail')\n")


@pytest.fixture(scope="module")
def warm() -> Any:
    sandbox = make_sandbox("local-warm", run_id="test-warm-bytecode")
    yield sandbox
    sandbox.close()


def workdir(tmp_path: Path, value: int = 1) -> Path:
    work = tmp_path / "w"
    work.mkdir(exist_ok=True)
    work.chmod(0o777)
    (work / "tool.py").write_text(SCRIPT.format(value=value))
    return work


def run(sandbox: Any, work: Path, *args: str, trusted: list[str] = ["tool.py"]) -> Any:
    return sandbox.run(ExecRequest(argv=["python", "tool.py", *args], workdir=work, timeout_s=60,
                                   trusted=list(trusted)))


def test_a_trusted_script_is_compiled_once_per_content(warm: Any, tmp_path: Path) -> None:
    work = workdir(tmp_path, 1)
    compiled = warm.codes.compiled
    for _ in range(3):
        result = run(warm, work)
        assert result.exit_code == 0 and result.stdout.split()[-1] == "1", result
    assert warm.codes.compiled == compiled + 1
    workdir(tmp_path, 2)  # the file changes: its new content is compiled and run
    result = run(warm, work)
    assert result.exit_code == 0 and result.stdout.split()[-1] == "2", result
    assert warm.codes.compiled == compiled + 2


def test_it_runs_as_runpy_would_run_the_source(warm: Any, tmp_path: Path) -> None:
    work = workdir(tmp_path, 3)
    cached, plain = run(warm, work, "x"), run(warm, work, "x", trusted=[])
    assert cached.exit_code == plain.exit_code == 1, (cached, plain)
    assert cached.stdout == plain.stdout == "__main__ tool.py ['tool.py', 'x'] 3\n"
    assert cached.stderr == plain.stderr and 'File "tool.py", line 5' in cached.stderr, cached
    assert cached.stderr.strip().endswith("ValueError: asked to fail") and "runpy" not in cached.stderr


def test_files_not_vouched_for_or_leading_outside_are_not_compiled(warm: Any, tmp_path: Path) -> None:
    work = workdir(tmp_path)
    compiled = warm.codes.compiled
    assert run(warm, work, trusted=[]).exit_code == 0
    assert run(warm, work, trusted=["other.py", "tool"]).exit_code == 0
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "tool.py").write_text("print('outside')\n")
    (work / "sub").symlink_to(outside)
    link = warm.run(ExecRequest(argv=["python", "sub/tool.py"], workdir=work, timeout_s=60, trusted=["sub"]))
    assert link.exit_code != 0 and "outside" not in link.stdout  # the link dangles in the sandbox
    assert warm.codes.compiled == compiled


def test_the_child_compiles_the_source_when_the_bytecode_is_not_its_own(tmp_path: Path) -> None:
    codes = ScriptCodes(os.sys.executable)
    work = workdir(tmp_path, 4)
    script = codes.for_run(ExecRequest(argv=["python", "tool.py"], workdir=work, trusted=["tool.py"]), work)
    assert script is not None and forkserver._script_code(script) is not None
    assert forkserver._script_code({**script, "magic": "00000000"}) is None  # another interpreter's
    assert forkserver._script_code({**script, "code": script["code"][:-6] + "zz"}) is None  # mangled
    assert forkserver._script_code(None) is None
    other = ScriptCodes("/bin/sh")  # the sandbox runs another interpreter: nothing is compiled here
    assert other.for_run(ExecRequest(argv=["python", "tool.py"], workdir=work, trusted=["tool.py"]), work) is None
