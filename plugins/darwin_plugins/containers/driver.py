"""Supervisor run inside a container for one evaluation (``python3 -I -S -c <this file>``).

It is never imported by the orchestrator: :func:`driver_source` reads this file and sends it as
an argument of a single ``exec``, so the image needs nothing but a Python 3.6+ interpreter.

Protocol (all on the exec's stdin/stdout):

* stdin: ``8-byte big-endian length`` + JSON config + exactly ``tar_size`` bytes of tar
  (the working copy).
* stdout: ``MAGIC`` + ``8-byte length`` + JSON result + the command's stdout bytes + its stderr
  bytes + a tar stream of the working copy after the run, until EOF.

Steps: kill leftovers of a previous run and wipe ``/work``, ``/tmp`` and ``/dev/shm``; unpack
the working copy; run the command in its own session with rlimits, a declared environment, a
wall-clock timeout and bounded output; kill every other process of the container (daemons);
report; stream the working copy back. It makes itself non-dumpable so that the command (same
uid) cannot write into its pipes through ``/proc``.
"""

# This file must stay compatible with old interpreters found in benchmark images (3.6+).
import json
import os
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tarfile
import threading
import time

MAGIC = b"DARWIN-RESULT-1\n"
SCRUB = ("/tmp", "/dev/shm")


def _non_dumpable():
    try:
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except Exception:  # noqa: BLE001 - best effort (python3-minimal has no ctypes)
        pass


def _read_exact(stream, size):
    chunks = []
    while size > 0:
        chunk = stream.read(size)
        if not chunk:
            raise EOFError("stdin closed early")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _others():
    me = os.getpid()
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) not in (1, me):
            try:
                with open("/proc/%s/stat" % name) as fh:
                    state = fh.read().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if state not in ("Z", "X"):
                pids.append(int(name))
    return pids


def kill_others(budget_s=3.0):
    """SIGKILL every process of the container but init and us; True when none is left."""
    deadline = time.monotonic() + budget_s
    while True:
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
        if not _others():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)


def _wipe(path):
    clean = True
    try:
        names = os.listdir(path)
    except OSError:
        return True
    for name in names:
        full = os.path.join(path, name)
        try:
            if os.path.isdir(full) and not os.path.islink(full):
                shutil.rmtree(full)
            else:
                os.unlink(full)
        except OSError:
            clean = False
    return clean


class Capture(threading.Thread):
    def __init__(self, pipe, limit):
        threading.Thread.__init__(self, daemon=True)
        self.pipe, self.limit = pipe, limit
        self.chunks, self.size, self.overflow = [], 0, False
        self.start()

    def run(self):
        while True:
            try:
                chunk = os.read(self.pipe.fileno(), 65536)
            except OSError:
                break
            if not chunk:
                break
            room = self.limit - self.size
            if room > 0:
                self.chunks.append(chunk[:room])
                self.size += min(room, len(chunk))
            if len(chunk) > room:
                self.overflow = True

    def data(self):
        return b"".join(self.chunks)


def _oom_kills():
    try:
        with open("/sys/fs/cgroup/memory/memory.oom_control") as fh:
            for line in fh:
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    try:
        with open("/sys/fs/cgroup/memory.events") as fh:  # cgroup v2
            for line in fh:
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _resolve(argv, env):
    exe = shutil.which(argv[0], path=env.get("PATH"))
    if exe is None and argv[0] == "python":
        exe = shutil.which("python3", path=env.get("PATH"))
    return [exe or argv[0]] + list(argv[1:])


def run_command(cfg):
    env = cfg["env"]
    limits = []
    if cfg.get("cpu_s"):
        limits.append((resource.RLIMIT_CPU, int(cfg["cpu_s"])))
    if cfg.get("file_size_mb"):
        limits.append((resource.RLIMIT_FSIZE, int(cfg["file_size_mb"]) * 1024 * 1024))
    limits.append((resource.RLIMIT_CORE, 0))

    def preexec():
        for which, value in limits:
            resource.setrlimit(which, (value, value))

    oom_before = _oom_kills()
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            _resolve(cfg["argv"], env), cwd=cfg["workdir"], env=env,
            stdin=subprocess.PIPE if cfg.get("stdin") else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
            preexec_fn=preexec,
        )
    except OSError as exc:
        return {"exit_code": 127, "reason": None}, b"", ("cannot run %r: %s" % (cfg["argv"][0], exc)).encode(), False
    limit = int(cfg["output_limit_bytes"])
    out, err = Capture(proc.stdout, limit), Capture(proc.stderr, limit)
    if cfg.get("stdin"):
        def feed():
            try:
                proc.stdin.write(cfg["stdin"].encode())
                proc.stdin.close()
            except OSError:
                pass
        threading.Thread(target=feed, daemon=True).start()
    reason = None
    deadline = start + float(cfg["timeout_s"])
    while proc.poll() is None:
        if time.monotonic() > deadline:
            reason = "timeout"
        elif out.overflow or err.overflow:
            reason = "output_limit"
        if reason:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            break
        time.sleep(0.005 if time.monotonic() - start < 0.2 else 0.02)
    clean = kill_others()
    proc.wait()
    out.join(2)
    err.join(2)
    code = proc.returncode
    if reason is None and (out.overflow or err.overflow):
        reason = "output_limit"
    if reason is None and (_oom_kills() > oom_before or b"MemoryError" in err.data()[-2000:]):
        reason = "oom"
    if reason is None and code is not None and code < 0:
        reason = "signal"
    result = {
        "exit_code": code, "reason": reason, "truncated": out.overflow or err.overflow,
        "duration_s": time.monotonic() - start,
    }
    return result, out.data(), err.data(), clean


def _add_tree(tar, root):
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames) + sorted(filenames):
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            try:
                info = tar.gettarinfo(full, arcname=rel)
                if info.isfile():
                    with open(full, "rb") as fh:
                        tar.addfile(info, fh)
                elif info.isdir() or info.issym():
                    tar.addfile(info)
            except OSError:
                continue


def main():
    _non_dumpable()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    size = struct.unpack(">Q", _read_exact(stdin, 8))[0]
    cfg = json.loads(_read_exact(stdin, size).decode())
    workdir = cfg["workdir"]
    clean = kill_others()
    for path in (workdir,) + SCRUB:
        clean = _wipe(path) and clean
    import io

    archive = io.BytesIO(_read_exact(stdin, int(cfg["tar_size"])))
    with tarfile.open(fileobj=archive, mode="r:") as tar:
        if hasattr(tarfile, "fully_trusted_filter"):
            tar.extraction_filter = tarfile.fully_trusted_filter  # made by the orchestrator
        tar.extractall(workdir)
    del archive
    result, out, err, clean_after = run_command(cfg)
    result["clean"] = clean and clean_after
    result["stdout_len"], result["stderr_len"] = len(out), len(err)
    header = json.dumps(result).encode()
    stdout.write(MAGIC + struct.pack(">Q", len(header)) + header)
    stdout.write(out)
    stdout.write(err)
    with tarfile.open(fileobj=stdout, mode="w|") as tar:
        _add_tree(tar, workdir)
    stdout.flush()


if __name__ == "__main__":
    main()
