"""The sandbox conformance suite: exit codes, output, environment, working copy, limits.

Define ``darwin_sandbox`` (and ``darwin_python``, the interpreter's name on the sandbox's
``PATH``, when it is not ``python3``)::

    class TestMySandbox(SandboxConformance):
        @pytest.fixture
        def darwin_sandbox(self):
            sandbox = build_backend("sandbox", "mine", plugins=[my_plugin])
            yield sandbox
            sandbox.close()
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from darwin_hookspecs import ExecRequest, ExecResult, Sandbox

SECRET = "DARWIN_CONFORMANCE_SECRET"


class SandboxConformance:
    """Subclass it and define a ``darwin_sandbox`` fixture."""

    @pytest.fixture
    def darwin_sandbox(self) -> Sandbox:
        raise pytest.UsageError("define a `darwin_sandbox` fixture returning your sandbox")

    @pytest.fixture
    def darwin_python(self) -> str:
        return "python3"

    def _run(self, sandbox: Sandbox, python: str, code: str, workdir: Path, **kw: object) -> ExecResult:
        workdir.mkdir(parents=True, exist_ok=True)
        return sandbox.run(ExecRequest(argv=[python, "-c", code], workdir=workdir, **kw))  # type: ignore[arg-type]

    def test_is_a_sandbox(self, darwin_sandbox: Sandbox) -> None:
        assert isinstance(darwin_sandbox, Sandbox)
        guarantees = darwin_sandbox.guarantees()
        assert isinstance(guarantees, dict) and all(isinstance(v, bool) for v in guarantees.values())

    def test_exit_code_and_output(self, darwin_sandbox: Sandbox, darwin_python: str, tmp_path: Path) -> None:
        ok = self._run(darwin_sandbox, darwin_python, "print('out'); import sys; print('err', file=sys.stderr)", tmp_path)
        assert ok.exit_code == 0 and ok.stdout.strip() == "out" and "err" in ok.stderr
        assert ok.killed_reason is None and not ok.timed_out
        bad = self._run(darwin_sandbox, darwin_python, "raise SystemExit(3)", tmp_path)
        assert bad.exit_code == 3 and bad.killed_reason is None

    def test_stdin_is_passed(self, darwin_sandbox: Sandbox, darwin_python: str, tmp_path: Path) -> None:
        result = self._run(darwin_sandbox, darwin_python, "import sys; print(sys.stdin.read()[::-1])",
                           tmp_path, stdin="abc")
        assert result.stdout.strip() == "cba"

    def test_workdir_is_the_cwd_and_writes_are_visible(self, darwin_sandbox: Sandbox, darwin_python: str,
                                                       tmp_path: Path) -> None:
        work = tmp_path / "work"
        work.mkdir()
        (work / "input.txt").write_text("seen")
        code = "import os; print(open('input.txt').read()); open('made.txt', 'w').write(os.getcwd())"
        result = self._run(darwin_sandbox, darwin_python, code, work)
        assert result.exit_code == 0, result.stderr
        assert result.stdout.strip() == "seen" and (work / "made.txt").is_file()

    def test_environment_is_the_requests_alone(self, darwin_sandbox: Sandbox, darwin_python: str,
                                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(SECRET, "host-only")
        code = f"import os; print(os.environ.get('GIVEN'), os.environ.get('{SECRET}'))"
        result = self._run(darwin_sandbox, darwin_python, code, tmp_path, env={"GIVEN": "yes"})
        assert result.stdout.split() == ["yes", "None"], "host variables must not leak into the command"

    def test_timeout_kills_and_is_reported(self, darwin_sandbox: Sandbox, darwin_python: str, tmp_path: Path) -> None:
        start = time.monotonic()
        result = self._run(darwin_sandbox, darwin_python, "import time; time.sleep(60)", tmp_path, timeout_s=1.0)
        assert time.monotonic() - start < 30
        assert result.timed_out and result.killed_reason == "timeout"

    def test_output_limit(self, darwin_sandbox: Sandbox, darwin_python: str, tmp_path: Path) -> None:
        result = self._run(darwin_sandbox, darwin_python, "print('x' * 200000)", tmp_path, output_limit_bytes=10_000)
        assert result.truncated and len(result.stdout) + len(result.stderr) <= 20_000

    def test_a_missing_command_is_a_result(self, darwin_sandbox: Sandbox, tmp_path: Path) -> None:
        result = darwin_sandbox.run(ExecRequest(argv=["darwin-no-such-command"], workdir=tmp_path))
        assert result.exit_code != 0

    def test_concurrent_runs(self, darwin_sandbox: Sandbox, darwin_python: str, tmp_path: Path) -> None:
        def one(i: int) -> str:
            return self._run(darwin_sandbox, darwin_python, f"print({i} * 2)", tmp_path / f"w{i}").stdout.strip()

        with ThreadPoolExecutor(4) as pool:
            assert list(pool.map(one, range(8))) == [str(i * 2) for i in range(8)]

    def test_parent_environment_untouched(self, darwin_sandbox: Sandbox, darwin_python: str, tmp_path: Path) -> None:
        before = dict(os.environ)
        self._run(darwin_sandbox, darwin_python, "import os; os.environ['X'] = '1'", tmp_path)
        assert dict(os.environ) == before
