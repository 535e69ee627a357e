"""A sandbox: a plain subprocess with a timeout and an output limit (no isolation at all:
fine for a tutorial, not for untrusted code; Darwin's ``local`` sandbox adds bubblewrap)."""

from __future__ import annotations

import os
import signal
import subprocess
import time

from pydantic import BaseModel, ConfigDict

from darwin_hookspecs import ExecRequest, ExecResult, SandboxError, hookimpl


class SubprocessOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kill_grace_s: float = 1.0
    """Seconds between SIGTERM and SIGKILL when a command times out."""


class SubprocessSandbox:
    def __init__(self, options: SubprocessOptions) -> None:
        self.grace = options.kill_grace_s

    def run(self, request: ExecRequest) -> ExecResult:
        start = time.monotonic()
        try:
            proc = subprocess.Popen(request.argv, cwd=request.workdir, env=request.env,
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, start_new_session=True)
        except FileNotFoundError as exc:  # the command is missing: a result, not an error
            return ExecResult(exit_code=127, stderr=str(exc), duration_s=time.monotonic() - start)
        except OSError as exc:  # the sandbox itself cannot run anything
            raise SandboxError(f"subprocess sandbox cannot start {request.argv[0]!r}: {exc}; "
                               "fix: check the working directory and permissions") from exc
        try:
            out, err = proc.communicate(request.stdin.encode() if request.stdin else None,
                                        timeout=request.timeout_s)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)  # the whole process tree
            try:
                out, err = proc.communicate(timeout=self.grace)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                out, err = proc.communicate()
            timed_out = True
        limit = request.output_limit_bytes
        truncated = len(out) + len(err) > limit
        reason = "timeout" if timed_out else ("output_limit" if truncated else
                                              "signal" if proc.returncode < 0 else None)
        return ExecResult(exit_code=None if timed_out else proc.returncode,
                          stdout=out[:limit].decode(errors="replace"),
                          stderr=err[:max(limit - len(out), 0)].decode(errors="replace"),
                          duration_s=time.monotonic() - start, timed_out=timed_out,
                          killed_reason=reason, truncated=truncated)

    def guarantees(self) -> dict[str, bool]:
        return {"network": False, "read_only_host": False, "memory_limit": False,
                "pids_limit": False, "no_secrets": True}  # only request.env reaches the command

    def close(self) -> None:
        pass


@hookimpl
def darwin_register_sandboxes(registry) -> None:
    registry.add("subprocess", lambda options, context: SubprocessSandbox(options),
                 options=SubprocessOptions, description="Plain subprocess (no isolation).")
