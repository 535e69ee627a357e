"""The warm mode of the ``local`` sandbox: nothing of one run reaches the next, and a server
that timed out, hit its memory limit or was tampered with is discarded and replaced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from darwin_hookspecs import ExecRequest

from .conftest import make_sandbox, run_python


@pytest.fixture(scope="module")
def warm() -> Any:
    sandbox = make_sandbox("local-warm", run_id="test-warm")
    yield sandbox
    sandbox.close()


def run(sandbox: Any, workdir: Path, code: str, **kw: Any) -> Any:
    return run_python(sandbox, workdir, code, **{"preload": ["json"], **kw})


def test_module_level_changes_do_not_reach_the_next_run(warm: Any, tmp_path: Path) -> None:
    first = run(warm, tmp_path / "a", (
        "import json, os, sys, builtins\n"
        "json.dumps = lambda *a, **k: 'PATCHED'\n"        # a preloaded module, monkeypatched
        "builtins.LEAKED = 1\n"                            # a written global
        "sys.modules['planted_module'] = sys\n"
        "sys.path.insert(0, '/planted')\n"
        "os.environ['LEAKED_ENV'] = '1'\n"
        "open('/tmp/leaked', 'w').write('x')\n"
        "print(json.dumps({}))\n"))
    assert first.exit_code == 0 and first.stdout.strip() == "PATCHED", first
    servers_before = warm.warm.created
    second = run(warm, tmp_path / "b", (
        "import json, os, sys, builtins\n"
        "print(json.dumps({}), hasattr(builtins, 'LEAKED'), 'planted_module' in sys.modules,\n"
        "      '/planted' in sys.path, 'LEAKED_ENV' in os.environ, os.path.exists('/tmp/leaked'))\n"))
    assert second.exit_code == 0, second
    assert second.stdout.split() == ["{}", "False", "False", "False", "False", "False"], second
    assert warm.warm.created == servers_before  # served by the same warm server, not a new one


def test_preloaded_modules_are_imported_by_the_server(warm: Any, tmp_path: Path) -> None:
    result = run(warm, tmp_path / "p", "import sys; print('decimal' in sys.modules)",
                 preload=["decimal"])
    assert result.exit_code == 0 and result.stdout.strip() == "True", result


@pytest.mark.parametrize("case,code,reason", [
    ("timeout", "import time; time.sleep(30)", "timeout"),
    ("oom", "x = []\nwhile True: x.append(bytearray(32 << 20))", "oom"),
    ("tamper", "open('../planted', 'w').write('x')", None),
])
def test_a_spoiled_server_is_discarded_and_replaced(warm: Any, tmp_path: Path, case: str,
                                                    code: str, reason: str | None) -> None:
    discarded = warm.warm.discarded
    result = run(warm, tmp_path / case, code, timeout_s=3, memory_mb=256)
    assert result.killed_reason == reason, result
    assert warm.warm.discarded == discarded + 1
    again = run(warm, tmp_path / "after", "import os; print(os.listdir('..'))", memory_mb=256)
    assert again.exit_code == 0 and again.stdout.strip() == "['w']", again


def test_non_python_commands_and_scripts(warm: Any, tmp_path: Path) -> None:
    work = tmp_path / "s"
    work.mkdir()
    work.chmod(0o777)
    (work / "tool.py").write_text("import sys\nprint('args', sys.argv[1:])\nsys.exit(4)\n")
    script = warm.run(ExecRequest(argv=["python", "tool.py", "x"], workdir=work, timeout_s=60))
    assert script.exit_code == 4 and script.stdout.strip() == "args ['x']", script
    shell = warm.run(ExecRequest(argv=["sh", "-c", "echo $0 ok; exit 5"], workdir=work, timeout_s=60))
    assert shell.exit_code == 5 and shell.stdout.strip() == "sh ok", shell
    error = warm.run(ExecRequest(argv=["python", "-c", "raise KeyError('k')"], workdir=work,
                                 timeout_s=60))
    assert error.exit_code == 1 and error.stderr.strip().endswith("KeyError: 'k'"), error
    assert "forkserver" not in error.stderr and "_run_python" not in error.stderr


@pytest.mark.parametrize("backend", ["local", "local-warm"])
def test_copy_back_false_leaves_the_working_copy_as_it_was(backend: str, tmp_path: Path) -> None:
    sandbox = make_sandbox(backend, run_id=f"test-copy-back-{backend}")
    try:
        for copy_back in (False, True):
            work = tmp_path / f"w-{copy_back}"
            result = run(sandbox, work, "open('made.txt', 'w').write('x'); print('done')", copy_back=copy_back)
            assert result.exit_code == 0 and result.stdout.strip() == "done", result
            assert (work / "made.txt").exists() is copy_back  # the run's writes come back only if asked
    finally:
        sandbox.close()


def test_concurrent_runs_keep_as_many_servers_warm(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    sandbox = make_sandbox("local-warm", run_id="test-warm-peak", warm_idle=1)
    code = "import time; time.sleep(0.5); print('ok')"
    try:  # long-lived threads, as the engine's attempt threads are
        with ThreadPoolExecutor(3) as pool:
            first = list(pool.map(lambda i: run(sandbox, tmp_path / f"a{i}", code), range(3)))
            assert all(r.stdout.strip() == "ok" for r in first), first
            created = sandbox.warm.created
            assert created >= 3  # three at once: three servers
            second = list(pool.map(lambda i: run(sandbox, tmp_path / f"b{i}", code), range(3)))
            assert all(r.stdout.strip() == "ok" for r in second), second
            assert sandbox.warm.created == created  # all three were kept warm, though warm_idle = 1
    finally:
        sandbox.close()


def test_large_output_on_both_streams_is_read_whole(warm: Any, tmp_path: Path) -> None:
    code = ("import sys\nfor i in range(2000):\n"
            "    sys.stdout.write('o%d ' % i + 'x' * 200 + '\\n'); sys.stderr.write('e%d\\n' % i)\n")
    result = run(warm, tmp_path / "big", code)
    assert result.exit_code == 0 and not result.truncated, result
    lines = result.stdout.splitlines()
    assert len(lines) == 2000 and lines[-1].startswith("o1999 ")
    assert result.stderr.splitlines()[-1] == "e1999"
