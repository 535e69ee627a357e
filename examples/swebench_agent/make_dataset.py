"""Build Darwin's tiny SWE-bench-format dataset: git repositories with a bug each, and
``instances.jsonl`` (official fields: base_commit, patch, test_patch, FAIL_TO_PASS...).

    python3 examples/swebench_agent/make_dataset.py [OUT]      (default: dataset/ next to this file)

Writes ``OUT/repos/<owner>__<name>/`` (git repositories) and ``OUT/instances.jsonl``. Commits use
a fixed author and date, so ``base_commit`` hashes are the same on every machine. Tests run
with pytest (the ``darwin-sandbox-pytest`` image) and are parsed by the official
``parse_log_pytest``. Standard library only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Darwin", "GIT_AUTHOR_EMAIL": "darwin@example.org",
    "GIT_COMMITTER_NAME": "Darwin", "GIT_COMMITTER_EMAIL": "darwin@example.org",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00+0000", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00+0000",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
}
TEST_CMD = "python3 -m pytest -rA -p no:cacheprovider {tests}"

CALC_BASE = {
    "calc/__init__.py": "",
    "calc/ops.py": (
        '"""Arithmetic helpers."""\n\n\n'
        "def add(a, b):\n    return a - b\n\n\n"
        "def sub(a, b):\n    return a - b\n\n\n"
        "def mul(a, b):\n    return a * b\n"
    ),
    "tests/__init__.py": "",
    "tests/test_ops.py": (
        "from calc.ops import mul, sub\n\n\n"
        "def test_sub():\n    assert sub(5, 3) == 2\n\n\n"
        "def test_mul():\n    assert mul(4, 3) == 12\n"
    ),
}
TEXT_BASE = {
    "textkit/__init__.py": "",
    "textkit/words.py": (
        '"""Word utilities."""\n\n\n'
        "def word_count(text):\n    return len(text.split(\" \"))\n\n\n"
        "def shout(text):\n    return text.upper() + \"!\"\n"
    ),
    "tests/__init__.py": "",
    "tests/test_words.py": (
        "from textkit.words import shout\n\n\n"
        "def test_shout():\n    assert shout(\"hi\") == \"HI!\"\n"
    ),
}
SHAPES_BASE = {
    "shapes/__init__.py": "",
    "shapes/area.py": (
        '"""Areas of shapes."""\n\n\n'
        "def square(side):\n    return side * 2\n\n\n"
        "def rectangle(width, height):\n    return width * height\n"
    ),
    "tests/__init__.py": "",
    "tests/test_area.py": (
        "from shapes.area import rectangle\n\n\n"
        "def test_rectangle():\n    assert rectangle(2, 5) == 10\n"
    ),
}
CLOCK_BASE = {
    "clock/__init__.py": "",
    "clock/tick.py": '"""Ticks."""\n\n\ndef next_tick(t):\n    return t\n',
    "tests/__init__.py": "",
    "tests/test_tick.py": "from clock.tick import next_tick\n\n\ndef test_exists():\n    assert callable(next_tick)\n",
}

INSTANCES = [
    {
        "instance_id": "darwin-examples__calc-1",
        "repo": "darwin-examples/calc",
        "base": CALC_BASE,
        "problem_statement": (
            "add() subtracts instead of adding\n\n`add(2, 3)` returns -1 instead of 5. "
            "`add` uses `a - b` where it should use `a + b`.\n"
        ),
        "gold": {"calc/ops.py": CALC_BASE["calc/ops.py"].replace(
            "def add(a, b):\n    return a - b", "def add(a, b):\n    return a + b")},
        "tests": {"tests/test_ops.py": CALC_BASE["tests/test_ops.py"].replace(
            "from calc.ops import mul, sub", "from calc.ops import add, mul, sub")
            + "\n\ndef test_add():\n    assert add(2, 3) == 5\n"},
        "FAIL_TO_PASS": ["tests/test_ops.py::test_add"],
        "PASS_TO_PASS": ["tests/test_ops.py::test_sub", "tests/test_ops.py::test_mul"],
    },
    {
        "instance_id": "darwin-examples__textkit-1",
        "repo": "darwin-examples/textkit",
        "base": TEXT_BASE,
        "problem_statement": (
            "word_count miscounts repeated spaces\n\n`word_count(\"a  b\")` returns 3. "
            "`word_count` uses `text.split(\" \")` where it should use `text.split()`.\n"
        ),
        "gold": {"textkit/words.py": TEXT_BASE["textkit/words.py"].replace(
            'text.split(" ")', "text.split()")},
        "tests": {"tests/test_words.py": TEXT_BASE["tests/test_words.py"].replace(
            "import shout", "import shout, word_count")
            + "\n\ndef test_word_count_spaces():\n    assert word_count(\"a  b\") == 2\n"},
        "FAIL_TO_PASS": ["tests/test_words.py::test_word_count_spaces"],
        "PASS_TO_PASS": ["tests/test_words.py::test_shout"],
    },
    {
        "instance_id": "darwin-examples__shapes-1",
        "repo": "darwin-examples/shapes",
        "base": SHAPES_BASE,
        "problem_statement": (
            "Wrong area for squares\n\nThe area of a square of side 3 comes out as 6; it "
            "should be 9.\n"
        ),
        "gold": {"shapes/area.py": SHAPES_BASE["shapes/area.py"].replace(
            "return side * 2", "return side * side")},
        "tests": {"tests/test_area.py": SHAPES_BASE["tests/test_area.py"].replace(
            "import rectangle", "import rectangle, square")
            + "\n\ndef test_square():\n    assert square(3) == 9\n"},
        "FAIL_TO_PASS": ["tests/test_area.py::test_square"],
        "PASS_TO_PASS": ["tests/test_area.py::test_rectangle"],
    },
    {
        # Deliberately flaky: the new test also depends on the machine's name, which differs
        # between runs (Darwin names repeat k's containers sweb-r<k>), like a real test that
        # depends on its environment. Identical code passes on even repeats only.
        "instance_id": "darwin-examples__clock-1",
        "repo": "darwin-examples/clock",
        "base": CLOCK_BASE,
        "problem_statement": (
            "next_tick does not advance\n\n`next_tick(1)` returns 1. `next_tick` uses "
            "`return t` where it should use `return t + 1`.\n"
        ),
        "gold": {"clock/tick.py": CLOCK_BASE["clock/tick.py"].replace("return t\n", "return t + 1\n")},
        "tests": {"tests/test_tick.py": CLOCK_BASE["tests/test_tick.py"]
                  + "\n\ndef test_next_tick():\n    import socket\n\n"
                    "    assert next_tick(1) == 2\n"
                    "    assert int(socket.gethostname()[-1]) % 2 == 0, socket.gethostname()\n"},
        "FAIL_TO_PASS": ["tests/test_tick.py::test_next_tick"],
        "PASS_TO_PASS": ["tests/test_tick.py::test_exists"],
    },
]


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {repo}: {proc.stderr}")
    return proc.stdout


def write_files(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def diff_for(repo: Path, changes: dict[str, str]) -> str:
    """The unified diff (``git diff`` format) that ``changes`` make to the checked-out tree;
    the tree is left unchanged."""
    write_files(repo, changes)
    git(repo, "add", "-A")
    patch = git(repo, "diff", "--cached", "--no-color")
    git(repo, "reset", "-q", "--hard")
    return patch


def make_repo(path: Path, files: dict[str, str]) -> str:
    """A git repository holding ``files`` in one commit; returns the commit hash."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    write_files(path, files)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "base")
    return git(path, "rev-parse", "HEAD").strip()


def build(out: Path) -> Path:
    """Create ``out/repos/*`` and ``out/instances.jsonl``; return the latter."""
    rows = []
    for spec in INSTANCES:
        repo = out / "repos" / spec["repo"].replace("/", "__")
        if repo.exists():
            base_commit = git(repo, "rev-parse", "HEAD").strip()
        else:
            base_commit = make_repo(repo, spec["base"])
        tests = sorted(spec["tests"])
        rows.append({
            "repo": spec["repo"],
            "instance_id": spec["instance_id"],
            "base_commit": base_commit,
            "patch": diff_for(repo, spec["gold"]),
            "test_patch": diff_for(repo, spec["tests"]),
            "problem_statement": spec["problem_statement"],
            "hints_text": "",
            "created_at": "2026-01-01T00:00:00Z",
            "version": "0.1",
            "FAIL_TO_PASS": json.dumps(spec["FAIL_TO_PASS"]),
            "PASS_TO_PASS": json.dumps(spec["PASS_TO_PASS"]),
            "environment_setup_commit": base_commit,
            # Darwin's fields for instances without an official eval script / image:
            "test_cmd": TEST_CMD.format(tests=" ".join(tests)),
            "log_parser": "parse_log_pytest",
        })
    path = out / "instances.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("dataset")
    print(build(target.resolve()))
