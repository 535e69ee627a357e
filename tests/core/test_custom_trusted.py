"""The `custom` benchmark vouches (``ExecRequest.trusted``) for exactly the files it lays over a
variant, so that a warm sandbox compiles its evaluator once, and never a variant's file."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from darwin_plugins.custom_benchmark.benchmark import CustomBenchmark
from darwin_plugins.local_sandbox import LocalSandbox, LocalSandboxOptions

TASKS = '''
[benchmark]
files = ["check.py", "helpers"]
timeout = 30

[[task]]
id = "check"
command = ["python", "check.py"]

[[task]]
id = "extra"
command = ["python", "helpers/extra.py"]
'''


@pytest.fixture(scope="module")
def sandbox() -> Iterator[LocalSandbox]:
    sandbox = LocalSandbox(LocalSandboxOptions())
    yield sandbox
    sandbox.close()


def make(tmp_path: Path) -> tuple[CustomBenchmark, Path]:
    bench = tmp_path / "bench"
    (bench / "helpers").mkdir(parents=True)
    (bench / "check.py").write_text("import prog\nprint('DARWIN_SCORE=%s' % prog.VALUE)\n")
    (bench / "helpers" / "own.py").write_text("X = 1\n")
    (bench / "tasks.toml").write_text(TASKS)
    variant = tmp_path / "variant"
    (variant / "helpers").mkdir(parents=True)
    (variant / "prog.py").write_text("VALUE = 0.5\n")
    (variant / "helpers" / "extra.py").write_text("print('DARWIN_SCORE=1')\n")  # the variant's own
    return CustomBenchmark(bench / "tasks.toml", tmp_path / "scratch"), variant


def test_only_the_files_the_benchmark_laid_are_vouched_for(tmp_path: Path) -> None:
    bench, variant = make(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    bench._prepare(variant, work, linked=True)
    request = bench._request(work, ["python", "check.py"], 10)
    assert sorted(request.trusted) == [".darwin/pytest_launcher.py", ".darwin/runner.py", "check.py",
                                       "helpers/own.py"]
    assert (work / "helpers" / "extra.py").is_file()  # the variant's, in a directory of `files`
    assert bench._request(tmp_path / "elsewhere", ["python", "check.py"], 10).trusted == []


def test_the_evaluator_is_compiled_once_and_the_variants_file_never(tmp_path: Path, sandbox: LocalSandbox) -> None:
    bench, variant = make(tmp_path)
    compiled = sandbox.codes.compiled
    for _ in range(3):
        results = bench.evaluate(variant, bench.tasks(), sandbox)
        assert [r.score for r in results] == [0.5, 1.0], results
    assert sandbox.codes.compiled == compiled + 1  # check.py, once; helpers/extra.py is the variant's


def test_command_tasks_get_no_runners_and_their_copies_go_behind_them(tmp_path: Path, sandbox: LocalSandbox) -> None:
    bench, variant = make(tmp_path)
    seen: list[list[str]] = []

    class Recording:  # the real sandbox, noting what each request vouches for
        def run(self, request):  # type: ignore[no-untyped-def]
            seen.append(sorted(request.trusted))
            return sandbox.run(request)

        def guarantees(self) -> dict[str, bool]:
            return sandbox.guarantees()
    for _ in range(3):
        assert [r.score for r in bench.evaluate(variant, bench.tasks(), Recording())] == [0.5, 1.0]
    assert seen == [["check.py", "helpers/own.py"]] * 6  # no .darwin runners laid for command tasks
    bench.close()  # waits for the deletions behind the evaluations
    assert list((tmp_path / "scratch").iterdir()) == []


def _top_imports(path: Path) -> set[str]:
    import ast
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names - {"sys", "os", "time"}  # always loaded by the interpreter before the fork


def test_the_warm_server_preloads_what_the_runners_import(tmp_path: Path) -> None:
    from darwin_plugins.custom_benchmark import benchmark as module
    bench = tmp_path / "bench"
    (bench / "tests").mkdir(parents=True)
    (bench / "tests" / "test_p.py").write_text("import prog\n\ndef test_v():\n    assert prog.f(2) == 4\n")
    (bench / "tasks.toml").write_text('[benchmark]\nfiles = ["tests"]\ndiscover = ["tests/test_*.py"]\nprobes = true\n')
    probed = CustomBenchmark(bench / "tasks.toml")
    assert probed.runner == "builtin" and probed.probes
    preload = set(probed._request(tmp_path, ["python", "x"], 10).preload)
    preload |= {name.split(".")[0] for name in preload}  # importing ``importlib.util`` imports ``importlib``
    # one profile (one warm server) for the tests and the probes: each runner's own imports preloaded
    assert _top_imports(module.RUNNER) <= preload
    assert _top_imports(module.PROBE_RUNNER) <= preload
    (bench / "tasks.toml").write_text('[benchmark]\nfiles = ["tests"]\ndiscover = ["tests/test_*.py"]\n')
    assert not set(module.PROBE_IMPORTS) & set(CustomBenchmark(bench / "tasks.toml")._request(tmp_path, ["python"], 10).preload)
