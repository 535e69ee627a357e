"""The Sandbox contract, identical on every backend: exit codes, separate stdout/stderr,
stdin, the declared environment only, unknown commands, output limits, writes coming back,
and concurrent callers."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from darwin_hookspecs import ExecRequest


def request(tmp_path: Path, code: str, **kw: Any) -> ExecRequest:
    tmp_path.chmod(0o777)
    return ExecRequest(argv=["python", "-c", code], workdir=tmp_path, **{"timeout_s": 60, **kw})


def test_exit_code_streams_and_stdin(sandbox: Any, tmp_path: Path) -> None:
    code = ("import sys\ndata = sys.stdin.read()\nprint('out', data.upper())\n"
            "print('err', len(data), file=sys.stderr)\nsys.exit(3)")
    result = sandbox.run(request(tmp_path, code, stdin="hello\n" * 20000))
    assert result.exit_code == 3 and result.killed_reason is None, result
    assert result.stdout.startswith("out HELLO\nHELLO") and result.stdout.count("HELLO") == 20000
    assert result.stderr.strip() == "err 120000"


def test_environment_holds_only_what_is_declared(sandbox: Any, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DARWIN_TEST_HOST_ONLY", "leak")
    result = sandbox.run(request(tmp_path, "import os; print(sorted(os.environ))",
                                 env={"DECLARED": "yes"}))
    names = eval(result.stdout)  # noqa: S307 - a list of names printed by our own code
    assert "DECLARED" in names and "DARWIN_TEST_HOST_ONLY" not in names
    # PWD (the working directory, set by bubblewrap after --chdir) is the only addition
    assert set(names) <= {"DECLARED", "PATH", "HOME", "LANG", "PYTHONDONTWRITEBYTECODE", "PWD"}


def test_unknown_command_and_output_limit(sandbox: Any, tmp_path: Path) -> None:
    tmp_path.chmod(0o777)
    missing = sandbox.run(ExecRequest(argv=["no-such-command-darwin"], workdir=tmp_path))
    assert missing.exit_code not in (0, None) and missing.killed_reason is None
    big = sandbox.run(request(tmp_path, "print('z' * 100_000)", output_limit_bytes=1000))
    assert big.truncated and big.killed_reason == "output_limit" and len(big.stdout) <= 1000


def test_concurrent_callers(sandbox: Any, tmp_path: Path) -> None:
    results: dict[int, Any] = {}

    def one(i: int) -> None:
        wd = tmp_path / f"w{i}"
        wd.mkdir()
        results[i] = sandbox.run(request(wd, f"open('out.txt', 'w').write('{i}'); print({i})"))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert {i: r.stdout.strip() for i, r in results.items()} == {i: str(i) for i in range(4)}
    assert all((tmp_path / f"w{i}" / "out.txt").read_text() == str(i) for i in range(4))
