"""Which image an instance runs in: an official SWE-bench image present locally, or one built
offline from the instance's repository and setup commands.

Nothing is ever pulled. A built image is tagged by a hash of everything that went into it
(base image id, repository commit, setup commands), so it is built once and reused.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

from darwin_hookspecs import SandboxError, UserError

BUILD_LABEL = "darwin.swebench.recipe"


def official_names(instance: dict[str, Any], templates: list[str]) -> list[str]:
    iid = instance["instance_id"]
    names = [instance["image"]] if instance.get("image") else []
    for template in templates:
        names.append(template.format(instance_id=iid, instance_id_1776=iid.replace("__", "_1776_"),
                                     repo=instance["repo"]).lower())
    return names


class ImageResolver:
    """Finds or builds the image of each instance (thread-safe, one build per image)."""

    def __init__(self, client: Any, *, templates: list[str], repos_dir: Path | None,
                 base_image: str, setup_commands: list[str], workdir: str,
                 scratch: Path | None = None) -> None:
        self.client = client
        self.templates = templates
        self.repos_dir = repos_dir
        self.base_image = base_image
        self.setup_commands = setup_commands
        self.workdir = workdir
        self.scratch = scratch
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._cache: dict[str, str] = {}

    def image_for(self, instance: dict[str, Any]) -> str:
        iid = instance["instance_id"]
        with self._lock:
            if iid in self._cache:
                return self._cache[iid]
            lock = self._locks.setdefault(iid, threading.Lock())
        with lock:
            if iid not in self._cache:
                self._cache[iid] = self._resolve(instance)
            return self._cache[iid]

    def _exists(self, name: str) -> bool:
        import docker  # noqa: PLC0415

        try:
            self.client.images.get(name)
            return True
        except docker.errors.ImageNotFound:
            return False
        except docker.errors.APIError:
            return False

    def _resolve(self, instance: dict[str, Any]) -> str:
        names = official_names(instance, self.templates)
        for name in names:
            if self._exists(name):
                return name
        if self.repos_dir is None:
            raise UserError(
                f"instance {instance['instance_id']!r}: no image found locally (looked for "
                f"{', '.join(names)}); fix: load the official SWE-bench image (docker load / "
                "docker pull on a connected machine), or set repos_dir (and setup_commands) "
                "to build it offline"
            )
        return self._build(instance)

    # ------------------------------------------------------------------ build

    def repo_path(self, instance: dict[str, Any]) -> Path:
        assert self.repos_dir is not None
        for name in (instance["repo"].replace("/", "__"), instance["repo"].split("/")[-1]):
            path = self.repos_dir / name
            if (path / ".git").exists() or (path / "HEAD").exists():
                return path
        raise UserError(
            f"instance {instance['instance_id']!r}: repository {instance['repo']!r} not found "
            f"under {self.repos_dir} (expected {instance['repo'].replace('/', '__')}/); fix: "
            "clone it there or correct repos_dir"
        )

    def _build(self, instance: dict[str, Any]) -> str:
        repo = self.repo_path(instance)
        commands = [*self.setup_commands, *(instance.get("setup_commands") or [])]
        try:
            base_id = self.client.images.get(self.base_image).id
        except Exception:  # noqa: BLE001
            raise UserError(f"base image {self.base_image!r} is not present; fix: build it "
                            "(ci/build-image.sh) or set base_image") from None
        recipe = json.dumps({"base": base_id, "repo": instance["repo"],
                             "commit": instance["base_commit"], "setup": commands,
                             "workdir": self.workdir, "v": 1}, sort_keys=True)
        digest = hashlib.sha256(recipe.encode()).hexdigest()[:16]
        tag = f"darwin-sweb.eval.{instance['instance_id'].lower()}:{digest}"
        if self._exists(tag):
            return tag
        ctx = Path(tempfile.mkdtemp(prefix="swe-image-", dir=self.scratch))
        try:
            checkout_at(repo, instance["base_commit"], ctx / "testbed")
            lines = [
                f"FROM {self.base_image}",
                "USER root",
                f"COPY testbed {self.workdir}",
                f"WORKDIR {self.workdir}",
                "RUN git config --system --add safe.directory '*' "
                "&& git config --system user.email darwin@localhost "
                "&& git config --system user.name darwin",
                *[f"RUN {c}" for c in commands],
            ]
            (ctx / "Dockerfile").write_text("\n".join(lines) + "\n", encoding="utf-8")
            self._docker_build(ctx, tag, digest, instance["instance_id"])
        finally:
            shutil.rmtree(ctx, ignore_errors=True)
        return tag

    def _docker_build(self, ctx: Path, tag: str, digest: str, iid: str) -> None:
        log: list[str] = []
        try:
            for chunk in self.client.api.build(path=str(ctx), tag=tag, network_mode="none",
                                               rm=True, forcerm=True, decode=True,
                                               labels={BUILD_LABEL: digest}):
                if "stream" in chunk:
                    log.append(chunk["stream"])
                if "error" in chunk:
                    raise SandboxError(
                        f"instance {iid!r}: building image {tag} failed: {chunk['error'].strip()}"
                        f"\n{''.join(log)[-3000:]}\nfix: correct the setup commands (the build "
                        "has no network: everything must come from the repository or base image)"
                    )
        except SandboxError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise SandboxError(f"instance {iid!r}: building image {tag} failed: {exc}") from None


def checkout_at(repo: Path, commit: str, dest: Path) -> None:
    """A copy of ``repo`` checked out at ``commit`` holding no later history (no branches,
    tags or remote), so an agent cannot read the fix from the future."""

    def git(*args: str, cwd: Path | None = None) -> None:
        proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                              timeout=600, env={"PATH": "/usr/bin:/bin:/usr/local/bin",
                                                "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(dest.parent)})
        if proc.returncode != 0:
            raise UserError(f"git {' '.join(args)} failed in {cwd or repo}: "
                            f"{proc.stderr.strip()[-800:]}; fix: check the repository and "
                            "base_commit")

    git("clone", "-q", "--no-checkout", "--no-hardlinks", str(repo), str(dest))
    git("-c", "advice.detachedHead=false", "checkout", "-q", "--detach", commit, cwd=dest)
    git("remote", "remove", "origin", cwd=dest)
    refs = subprocess.run(["git", "for-each-ref", "--format=%(refname)"], cwd=dest,
                          capture_output=True, text=True, timeout=120).stdout.split()
    for ref in refs:
        git("update-ref", "--no-deref", "-d", ref, cwd=dest)
    git("reflog", "expire", "--expire=now", "--all", cwd=dest)
    git("gc", "-q", "--prune=now", cwd=dest)
