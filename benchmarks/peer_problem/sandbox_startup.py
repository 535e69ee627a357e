"""What one sandboxed evaluation costs, piece by piece, interleaved in one run: ``python -c
pass``, bench_peer's evaluator, and the quickstart's test runner on its 16 tests (with and
without coverage tracing, as the ``custom`` benchmark runs it), each bare and through the
``local`` sandbox (the default: bubblewrap and cgroups when available), with the orchestrator's
interpreter as is and with ``-S`` (no ``site``: no ``.pth`` files, so no editable-install
import hook).

    python benchmarks/peer_problem/sandbox_startup.py [--n 20]
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20)
    args = parser.parse_args()
    sys.path[:0] = [str(ROOT / "src"), str(ROOT / "hookspecs" / "src"), str(ROOT / "plugins")]
    from darwin_core.plugins import PluginManager
    from darwin_hookspecs import BuildContext, ExecRequest

    work = Path(tempfile.mkdtemp(prefix="peer-startup-"))
    try:
        shutil.copy(HERE / "program" / "program.py", work)
        shutil.copy(HERE / "evaluator.py", work)
        quickstart = ROOT / "examples" / "quickstart"
        shutil.copytree(quickstart / "program", work, dirs_exist_ok=True)
        shutil.copytree(quickstart / "benchmark" / "tests", work / "tests")
        (work / ".darwin").mkdir()
        shutil.copy(ROOT / "plugins" / "darwin_plugins" / "custom_benchmark" / "runner.py", work / ".darwin")
        for path in [work, *work.rglob("*")]:
            path.chmod(0o777 if path.is_dir() else 0o666)
        tests = [f"tests/test_textstats.py::{name}" for name in _test_names(work / "tests" / "test_textstats.py")]
        runner = [".darwin/runner.py", "--timeout", "1", "--exclude", "tests", "--exclude", ".darwin"]
        sandbox = PluginManager().create("sandbox", "local", {}, BuildContext(run_id="bench"))
        commands = {
            "pass": ["python", "-c", "pass"],
            "pass -S": ["python", "-S", "-c", "pass"],
            "evaluator": ["python", "evaluator.py", "program.py"],
            "evaluator -S": ["python", "-S", "evaluator.py", "program.py"],
            "tests": ["python", *runner, *tests],
            "tests+cov": ["python", *runner, "--coverage", *tests],
            "tests+cov -S": ["python", "-S", *runner, "--coverage", *tests],
        }
        cases = [(where, name) for where in ("bare", "local sandbox") for name in commands]
        times: dict[tuple[str, str], list[float]] = {case: [] for case in cases}
        cpu: dict[tuple[str, str], list[float]] = {case: [] for case in cases}
        order = random.Random(0)
        for _ in range(args.n):
            order.shuffle(cases)
            for where, name in cases:
                argv = commands[name]
                before = _cpu()
                start = time.perf_counter()
                if where == "bare":
                    subprocess.run([sys.executable, *argv[1:]], cwd=work, capture_output=True)
                else:
                    result = sandbox.run(ExecRequest(argv=argv, workdir=work, timeout_s=30))
                    assert result.exit_code in (0, 1), result.stderr  # the quickstart's bugs fail tests
                times[(where, name)].append(time.perf_counter() - start)
                cpu[(where, name)].append(_cpu() - before)
        print("medians, ms:         wall     CPU (this process and its children)")
        for case in sorted(times):
            print(f"{case[0]:>14}  {case[1]:<13} {1000 * statistics.median(times[case]):7.1f}  "
                  f"{1000 * statistics.median(cpu[case]):7.1f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _test_names(path: Path) -> list[str]:
    import ast

    return [n.name for n in ast.parse(path.read_text()).body
            if isinstance(n, ast.FunctionDef) and n.name.startswith("test")]


if __name__ == "__main__":
    main()
