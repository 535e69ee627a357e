"""Reused working copies (darwin_core.workcopy): what one attempt leaves in its copy never
reaches the next attempt's parent."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from darwin_core import Engine, config_from_dict
from darwin_core.snapshots import read_tree
from darwin_core.workcopy import CopyPool
from darwin_hookspecs import Proposal, TaskResult, TaskSpec, hookimpl

PARENT = {"counter.txt": b"0\n", "pkg/mod.py": b"X = 1\n", "pkg/deep/data.bin": b"\x00\x01" * 50}


def entries(root: Path) -> dict[str, str]:
    """Every entry under ``root`` with its kind (symlinks not followed)."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            mode = path.lstat().st_mode
            kind = "link" if stat.S_ISLNK(mode) else "dir" if stat.S_ISDIR(mode) else "file"
            found[path.relative_to(root).as_posix()] = kind
    return found


def expected_entries(files: dict[str, bytes]) -> dict[str, str]:
    kinds = {rel: "file" for rel in files}
    for rel in files:
        parts = rel.split("/")
        kinds.update({"/".join(parts[:i]): "dir" for i in range(1, len(parts))})
    return kinds


def vandalise(tree: Path, outside: Path) -> None:
    """What a hostile evaluation could leave: new files and directories, a file changed in place
    with its times restored, a symlink and a hard link out of the tree, modes changed, a FIFO."""
    (tree / "leak.txt").write_text("left by the previous attempt")
    (tree / "newdir" / "sub").mkdir(parents=True)
    (tree / "newdir" / "sub" / "x.py").write_text("import os")
    counter = tree / "counter.txt"
    before = counter.stat()
    counter.write_bytes(b"9" * before.st_size)  # same size
    os.utime(counter, ns=(before.st_atime_ns, before.st_mtime_ns))
    (tree / "pkg" / "mod.py").unlink()
    (tree / "pkg" / "mod.py").symlink_to(outside)  # writing it would write outside
    os.link(outside, tree / "pkg" / "hard.py")
    (tree / "pkg" / "deep" / "data.bin").chmod(0o755)
    (tree / "pkg" / "deep").chmod(0o700)
    os.mkfifo(tree / "pkg" / "fifo")
    (tree.parent / "beside-the-tree").write_text("x")


def test_a_checked_out_copy_equals_the_parent_whatever_the_last_attempt_left(tmp_path: Path) -> None:
    pool = CopyPool()
    scratch = tmp_path / "scratch"
    outside = tmp_path / "outside.txt"
    outside.write_text("must stay as it is")
    copy = pool.take(scratch)
    tree = copy.checkout(PARENT)
    assert read_tree(tree) == PARENT
    vandalise(tree, outside)
    pool.give(copy)

    again = pool.take(scratch)
    assert again is copy  # reused, not a new directory
    tree = again.checkout(PARENT)
    assert entries(tree) == expected_entries(PARENT)  # first: reading a FIFO would block
    assert read_tree(tree) == PARENT
    assert os.listdir(again.root) == ["tree"]
    assert all(not stat.S_IMODE((tree / rel).stat().st_mode) & 0o111 for rel in PARENT)
    assert outside.read_text() == "must stay as it is" and outside.stat().st_nlink == 1

    other = {"counter.txt": b"1\n", "b/new.py": b"pass\n"}  # another parent: the old files go
    assert read_tree(again.checkout(other)) == other
    assert entries(again.root / "tree") == expected_entries(other)


def test_a_copy_whose_tree_or_root_was_replaced_starts_afresh(tmp_path: Path) -> None:
    pool = CopyPool()
    scratch = tmp_path / "scratch"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("x")
    copy = pool.take(scratch)
    tree = copy.checkout(PARENT)
    os.rename(tree, tmp_path / "moved")
    tree.symlink_to(elsewhere, target_is_directory=True)  # the tree is now a link out
    tree = copy.checkout(PARENT)
    assert not tree.is_symlink() and read_tree(tree) == PARENT
    assert os.listdir(elsewhere) == ["keep.txt"]

    old_root = copy.root
    os.rename(old_root, tmp_path / "gone")  # the root itself disappeared
    tree = copy.checkout(PARENT)
    assert copy.root != old_root and copy.root.parent == scratch
    assert read_tree(tree) == PARENT and entries(tree) == expected_entries(PARENT)
    pool.give(copy)
    pool.close(scratch)


class Vandals:
    """A generator that records the parent directory it is given, and a benchmark (evaluated
    in this process, in the child's own directory) that vandalises the child after each run."""

    def __init__(self, outside: Path) -> None:
        self.outside = outside
        self.seen: list[tuple[str, Path, dict[str, bytes], dict[str, str]]] = []

    @hookimpl
    def darwin_register_generators(self, registry: Any) -> None:
        vandals = self

        class Touch:
            def propose(self, context: Any) -> Proposal:
                tree = Path(context.parent_dir)
                kinds = entries(tree)  # first: reading a FIFO would block
                files = read_tree(tree) if "pkg/fifo" not in kinds else {}
                vandals.seen.append((context.parent.id, tree, files, kinds))
                return Proposal(changes={"counter.txt": f"{context.attempt_id}\n"}, improvement_type="noop")

        registry.add("vandal-touch", lambda o, c: Touch())

    @hookimpl
    def darwin_register_benchmarks(self, registry: Any) -> None:
        vandals = self

        class Vandal:
            mode = "program"

            def tasks(self) -> list[TaskSpec]:
                return [TaskSpec(id="t0")]

            def evaluate(self, variant_dir: Path, tasks: list[TaskSpec], sandbox: Any) -> list[TaskResult]:
                if (variant_dir / "counter.txt").read_text() != "0\n":  # a child: leave a mess
                    vandalise(variant_dir, vandals.outside)
                return [TaskResult(t.id, True, 1.0) for t in tasks]

        registry.add("vandal", lambda o, c: Vandal())


def test_no_state_leaks_from_one_attempt_to_the_next_in_a_run(tmp_path: Path) -> None:
    program = tmp_path / "program"
    (program / "pkg" / "deep").mkdir(parents=True)
    for rel, data in PARENT.items():
        (program / rel).write_bytes(data)
    outside = tmp_path / "outside.txt"
    outside.write_text("must stay as it is")
    vandals = Vandals(outside)
    config = {
        "run": {"name": "copies", "initial": str(program), "children_per_generation": 4, "generations": 3},
        "generator": {"name": "vandal-touch"}, "benchmark": {"name": "vandal"},
        "executor": {"name": "local", "max_workers": 2},
    }
    engine = Engine.create(config_from_dict(config), tmp_path / "run", extra_plugins=[vandals])
    summary = engine.run_loop()
    assert summary.attempts == 12 and len(vandals.seen) == 12
    codebook = engine.handle.codebook
    for parent_id, _, files, kinds in vandals.seen:
        want = codebook.files(parent_id)
        assert files == want, parent_id
        assert kinds == expected_entries(want), parent_id
    assert len({tree for _, tree, _, _ in vandals.seen}) <= 2  # a copy per worker, reused
    assert outside.read_text() == "must stay as it is"
    assert not list((tmp_path / "run" / "scratch").iterdir())  # the copies go with the run


def test_writing_a_file_of_a_copy_never_goes_through_a_link(tmp_path: Path) -> None:
    from darwin_core.workcopy import write_file

    tree = tmp_path / "tree"
    tree.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"outside")
    same = tree / "same.txt"
    same.write_bytes(b"0123456")
    inode = same.stat().st_ino
    write_file(same, b"abcdefg")  # same size, one link: in place
    assert same.read_bytes() == b"abcdefg" and same.stat().st_ino == inode
    write_file(same, b"longer than before")
    assert same.read_bytes() == b"longer than before"
    (tree / "link.txt").symlink_to(outside)
    os.link(outside, tree / "hard.txt")
    os.mkfifo(tree / "fifo")
    for name in ("link.txt", "hard.txt", "fifo"):  # each the size of what is written
        write_file(tree / name, b"7 bytes")
        assert (tree / name).read_bytes() == b"7 bytes" and not (tree / name).is_symlink(), name
    assert outside.read_bytes() == b"outside" and outside.stat().st_nlink == 1
    write_file(tree / "new" / "dir" / "f.py", b"x")
    assert (tree / "new" / "dir" / "f.py").read_bytes() == b"x"
