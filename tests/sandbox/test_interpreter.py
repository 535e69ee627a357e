"""The local sandbox's interpreter on hosts with only ``python3`` (no ``python``): a request for
``python`` runs the resolved interpreter, cold and warm; an interpreter that cannot be found is
a clear error naming the option (exit 2 from the CLI)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from darwin_hookspecs import ExecRequest, UserError
from darwin_plugins.local_sandbox.interpreter import resolve_python
from support import quick_config

from .conftest import make_sandbox

SYSTEM_PYTHON3 = "/usr/bin/python3"  # Debian: /usr/bin holds python3 and no python


def only_python3() -> str:
    assert os.access(SYSTEM_PYTHON3, os.X_OK) and not os.path.exists("/usr/bin/python"), \
        "this test needs a host with /usr/bin/python3 and no /usr/bin/python (Debian 12)"
    return SYSTEM_PYTHON3


@pytest.mark.parametrize("name", ["local", "local-warm"])
def test_python_and_python3_run_the_interpreter_when_only_python3_exists(tmp_path: Path, name: str) -> None:
    python3 = only_python3()
    sandbox = make_sandbox(name, run_id="test-python3", python=python3)
    try:
        for command in ("python", "python3"):
            work = tmp_path / command
            work.mkdir()
            work.chmod(0o777)
            result = sandbox.run(ExecRequest(argv=[command, "-c", "import sys; print(sys.executable)"],
                                             workdir=work, timeout_s=60))
            assert result.exit_code == 0, result
            assert os.path.realpath(result.stdout.strip()) == os.path.realpath(python3), result
    finally:
        sandbox.close()


def test_resolution_order_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_python(None) == os.path.abspath(sys.executable)  # the orchestrator's own
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(only_python3())
    monkeypatch.setenv("PATH", str(bin_dir))
    assert resolve_python("python3") == str(bin_dir / "python3")  # a name: looked up on PATH
    monkeypatch.setattr(sys, "executable", "")
    assert resolve_python(None) == str(bin_dir / "python3")  # no sys.executable: python3
    with pytest.raises(UserError, match=r"python = '/nowhere/python'.*fix: set \[sandbox\] python"):
        resolve_python("/nowhere/python")
    (bin_dir / "python3").unlink()
    with pytest.raises(UserError, match=r"no Python interpreter found.*fix: set \[sandbox\] python"):
        resolve_python(None)


def test_a_run_on_the_system_python3_and_a_missing_interpreter(quickstart: Path, darwin_cli) -> None:
    python3 = only_python3()
    config = quick_config(quickstart, generations=2, sandbox__python=python3)
    done = darwin_cli("run", str(config), "--run-dir", str(quickstart / "run"), "-q")
    assert done.returncode == 0, done.stderr
    status = json.loads(darwin_cli("status", str(quickstart / "run"), "--json").stdout)
    assert status["status"] == "completed" and status["initial_score"] == pytest.approx(9 / 16)
    missing = quick_config(quickstart, generations=1, sandbox__python="/nowhere/python3")
    refused = darwin_cli("run", str(missing), "--run-dir", str(quickstart / "missing"), "-q")
    assert refused.returncode == 2, refused.stderr
    assert "/nowhere/python3" in refused.stderr and "[sandbox] python" in refused.stderr
