"""One working copy per attempt: evaluation copies hard-linked from the variant when the
sandbox runs on its own copy, and no run or change can write through a link into the parent."""

from __future__ import annotations

import os
from pathlib import Path
import pytest

from darwin_core.evaluate import apply_changes
from darwin_plugins.custom_benchmark.benchmark import CustomBenchmark

from .conftest import make_sandbox

HOSTILE = ("import os\n"
           "os.chmod('prog.py', 0o666)\n"
           "open('prog.py', 'w').write('CORRUPTED')\n"
           "open('tests/test_prog.py', 'a').write('CORRUPTED')\n"
           "print('nlink', os.stat('prog.py').st_nlink)\n")


def bench(tmp_path: Path) -> tuple[CustomBenchmark, Path]:
    root = tmp_path / "bench"
    (root / "tests").mkdir(parents=True)
    (root / "tests" / "test_prog.py").write_text("def test_ok():\n    assert True\n")
    (root / "tasks.toml").write_text(
        '[benchmark]\nfiles = ["tests"]\n\n'
        '[[task]]\nid = "hostile"\ncommand = ["python", "-c", %r]\n\n'
        '[[task]]\ntest = "tests/test_prog.py::test_ok"\n' % HOSTILE)
    variant = tmp_path / "variant"
    variant.mkdir()
    (variant / "prog.py").write_text("ORIGINAL\n")
    (variant / "prog.py").chmod(0o644)
    return CustomBenchmark(root / "tasks.toml", scratch=tmp_path / "scratch"), variant


@pytest.mark.parametrize("backend", ["local", "local-warm"])
def test_a_run_writing_into_a_linked_file_leaves_the_parent_intact(backend: str, tmp_path: Path) -> None:
    sandbox = make_sandbox(backend, run_id=f"test-links-{backend}")
    try:
        benchmark, variant = bench(tmp_path)
        assert sandbox.guarantees()["private_working_copy"]  # so the evaluation copy is linked
        results = {r.task_id: r for r in benchmark.evaluate(variant, benchmark.tasks(), sandbox)}
    finally:
        sandbox.close()
        benchmark.close()  # the evaluation copy (its links) is deleted behind the evaluation
    assert results["hostile"].passed, results["hostile"].log
    assert "nlink 1" in results["hostile"].log  # the run saw its own copy, not the links
    assert results["tests/test_prog.py::test_ok"].passed
    assert (variant / "prog.py").read_text() == "ORIGINAL\n"
    assert (variant / "prog.py").stat().st_mode & 0o777 == 0o644
    assert (variant / "prog.py").stat().st_nlink == 1
    assert (tmp_path / "bench" / "tests" / "test_prog.py").read_text().endswith("assert True\n")


def test_the_evaluation_copy_is_hard_linked(tmp_path: Path) -> None:
    benchmark, variant = bench(tmp_path)
    work = tmp_path / "eval"
    work.mkdir()
    benchmark._prepare(variant, work, linked=True)
    assert os.path.samefile(work / "prog.py", variant / "prog.py")
    assert (variant / "prog.py").stat().st_mode & 0o777 == 0o644  # never chmodded through the link


def test_applying_a_change_never_writes_through_a_link(tmp_path: Path) -> None:
    stored = tmp_path / "stored"
    stored.mkdir()
    (stored / "a.py").write_text("parent\n")
    child = tmp_path / "child"
    child.mkdir()
    os.link(stored / "a.py", child / "a.py")
    assert apply_changes({"a.py": b"child\n"}, child) == ""
    assert (child / "a.py").read_text() == "child\n"
    assert (stored / "a.py").read_text() == "parent\n"

