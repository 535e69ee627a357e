"""The working copy staged on a tmpfs (``/dev/shm``): copied in before a run, copied back
through a filtered tar afterwards. With a memory cgroup, what a run writes there is charged to
it, so "filling the disk" ends in an OOM kill instead of filling the host's disk."""

from __future__ import annotations

import io
import os
import shutil
import stat
import tarfile
import tempfile
from pathlib import Path

from darwin_hookspecs import ExecResult
from darwin_plugins.sandbox_common import transfer
from darwin_plugins.sandbox_common.reaping import orphaned
from darwin_hookspecs.trash import Trash

from .options import CGROUP_PREFIX, STAGE_ROOT


def reap_stages() -> None:
    """Remove staged copies left by orchestrators that died (kill -9) mid-run."""
    for path in orphaned(STAGE_ROOT.glob(f"{CGROUP_PREFIX}*"), CGROUP_PREFIX):
        shutil.rmtree(path, ignore_errors=True)


def stage_in(workdir: Path, owner: int | None, sockets: list[tuple[Path, str]] | None = None,
             link_sockets: bool = False) -> Path:
    """Copy the working copy to a tmpfs. Unix sockets (a model gateway listening in the
    working copy) cannot be copied: they are listed in ``sockets`` for the caller to bind, or
    symlinked when there is no bubblewrap to bind them."""
    stage = Path(tempfile.mkdtemp(prefix=f"{CGROUP_PREFIX}{os.getpid()}-", dir=STAGE_ROOT))
    found: list[tuple[Path, str]] = []

    def skip_sockets(directory: str, names: list[str]) -> set[str]:
        skipped = set()
        for name in names:
            path = Path(directory) / name
            if stat.S_ISSOCK(path.lstat().st_mode):
                skipped.add(name)
                found.append((path, path.relative_to(workdir).as_posix()))
        return skipped

    shutil.copytree(workdir, stage, symlinks=True, dirs_exist_ok=True, ignore=skip_sockets)
    stage.chmod(workdir.stat().st_mode & 0o7777)
    for host_path, rel in found:
        if owner is not None:
            host_path.chmod(0o666)  # the run's uid must be able to connect
        if link_sockets:
            (stage / rel).symlink_to(host_path)
        else:
            (stage / rel).touch()  # a mount point for the bind
    if sockets is not None:
        sockets.extend(found)
    if owner is not None:  # the sandbox runs as this uid on the host: give it its copy
        os.chown(stage, owner, owner)
        for root, dirs, files in os.walk(stage):
            for name in dirs + files:
                os.lchown(os.path.join(root, name), owner, owner)
    return stage


def stage_out(stage: Path, workdir: Path, result: ExecResult) -> None:
    """Copy what the run left in the staged copy back (untrusted: filtered tar round trip)."""
    try:
        transfer.unpack_into(workdir, io.BytesIO(transfer.pack(stage)))
    except (OSError, tarfile.TarError) as exc:
        result.stderr += f"\n[darwin local sandbox] working copy not copied back: {exc}"
        result.killed_reason = result.killed_reason or "infra"


def discard_stage(stage: Path, trash: Trash) -> None:
    """Move a used staged copy aside (a warm server's next copy takes its name) and delete it
    behind the caller (a leftover is reaped like any staged copy: same prefix and pid)."""
    gone = STAGE_ROOT / f"{CGROUP_PREFIX}{os.getpid()}-gone-{os.urandom(6).hex()}"
    try:
        os.rename(stage, gone)
    except OSError:
        shutil.rmtree(stage, ignore_errors=True)
        return
    trash.put(gone)
