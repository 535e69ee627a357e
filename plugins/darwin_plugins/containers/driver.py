"""Supervisor run inside a container for one evaluation (``python3 -I -S -c <this file>``).

It is never imported by the orchestrator: :func:`engine_client.driver_source` reads this file and
sends it as an argument of a single ``exec``, so an image needs nothing but a Python 3.4+
interpreter. It imports only built-in modules (no ``subprocess``, ``json``, ``tarfile``,
``signal``: each costs tens of milliseconds of start-up, which is most of a pooled run).

Protocol, all on the exec's stdin/stdout:

* stdin: ``8-byte big-endian length`` + ``marshal`` (version 2) config + the working copy as
  an archive of records (see :mod:`archive`).
* stdout: ``MAGIC`` + ``8-byte length`` + JSON result + the command's stdout bytes + its stderr
  bytes + the working copy after the run, as records, until EOF.

Steps: kill leftovers of a previous run and wipe ``/work``, ``/tmp`` and ``/dev/shm``; unpack
the working copy; run the command in its own session with rlimits, a declared environment, a
wall-clock timeout and bounded output; kill every other process of the container (daemons);
report; stream the working copy back. The orchestrator treats all of it as untrusted.
"""

import marshal
import os
import resource
import select
import struct
import sys
import time

MAGIC = b"DARWIN-RESULT-1\n"
SCRUB = ("/tmp", "/dev/shm")
SIGKILL = 9
CHUNK = 1 << 20


def _read_exact(fd, size):
    parts = []
    while size > 0:
        chunk = os.read(fd, min(size, CHUNK))
        if not chunk:
            raise EOFError("stdin closed early")
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _others():
    me = os.getpid()
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) not in (1, me):
            try:
                with open("/proc/%s/stat" % name, "rb") as fh:
                    state = fh.read().rsplit(b")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if state not in (b"Z", b"X"):
                pids.append(int(name))
    return pids


def kill_others(budget_s=3.0):
    """SIGKILL every process of the container but init and us; True when none is left."""
    deadline = time.monotonic() + budget_s
    while True:
        try:
            os.kill(-1, SIGKILL)
        except OSError:
            pass
        if not _others():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)


def _rmtree(path):
    for entry in os.scandir(path):
        if entry.is_dir(follow_symlinks=False):
            _rmtree(entry.path)
            os.rmdir(entry.path)
        else:
            os.unlink(entry.path)


def _wipe(path):
    try:
        _rmtree(path)
        return True
    except FileNotFoundError:
        return True
    except OSError:
        return False


# ------------------------------------------------------------------ archive records
# kind (1 byte: d, f, l, E=end) + path length (2) + path + mode (4) + data length (8) + data


def unpack(fd, root):
    while True:
        kind = _read_exact(fd, 1)
        if kind == b"E":
            return
        (size,) = struct.unpack(">H", _read_exact(fd, 2))
        path = os.path.join(root, os.fsdecode(_read_exact(fd, size)))
        mode, length = struct.unpack(">IQ", _read_exact(fd, 12))
        if kind == b"d":
            os.makedirs(path, exist_ok=True)
            os.chmod(path, mode & 0o7777)
        elif kind == b"l":
            os.symlink(os.fsdecode(_read_exact(fd, length)), path)
        else:
            out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode & 0o7777)
            try:
                while length > 0:
                    chunk = _read_exact(fd, min(length, CHUNK))
                    _write_all(out, chunk)
                    length -= len(chunk)
            finally:
                os.close(out)


def _record(fd, kind, rel, mode, length):
    name = os.fsencode(rel)
    _write_all(fd, kind + struct.pack(">H", len(name)) + name + struct.pack(">IQ", mode, length))


def pack(fd, root, rel=""):
    try:
        entries = sorted(os.scandir(os.path.join(root, rel) if rel else root), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        sub = os.path.join(rel, entry.name) if rel else entry.name
        try:
            st = entry.stat(follow_symlinks=False)
            if entry.is_symlink():
                target = os.fsencode(os.readlink(entry.path))
                _record(fd, b"l", sub, 0o777, len(target))
                _write_all(fd, target)
            elif entry.is_dir(follow_symlinks=False):
                _record(fd, b"d", sub, st.st_mode & 0o7777, 0)
                pack(fd, root, sub)
            elif entry.is_file(follow_symlinks=False):
                src = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW)
                try:
                    _record(fd, b"f", sub, st.st_mode & 0o7777, st.st_size)
                    left = st.st_size
                    while left > 0:  # nothing else runs now: the size cannot change
                        chunk = os.read(src, min(left, CHUNK)) or b"\0" * min(left, CHUNK)
                        _write_all(fd, chunk)
                        left -= len(chunk)
                finally:
                    os.close(src)
        except OSError:
            continue


# ---------------------------------------------------------------------------- run


def _oom_kills():
    for path in ("/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events"):
        try:
            with open(path) as fh:
                for line in fh:
                    if line.startswith("oom_kill "):
                        return int(line.split()[1])
        except (OSError, ValueError):
            pass
    return 0


def _which(name, path):
    if "/" in name:
        return name
    for folder in path.split(":"):
        full = os.path.join(folder, name)
        if os.path.isfile(full) and os.access(full, os.X_OK):
            return full
    if name == "python":
        return _which("python3", path)
    return None


def _spawn(cfg):
    """fork + exec the command in a new session; returns (pid, stdin_w, stdout_r, stderr_r)."""
    env = cfg["env"]
    exe = _which(cfg["argv"][0], env.get("PATH", "/usr/bin:/bin"))
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    in_r, in_w = os.pipe() if cfg.get("stdin") else (os.open(os.devnull, os.O_RDONLY), None)
    limits = [(resource.RLIMIT_CORE, 0)]
    if cfg.get("cpu_s"):
        limits.append((resource.RLIMIT_CPU, int(cfg["cpu_s"])))
    if cfg.get("file_size_mb"):
        limits.append((resource.RLIMIT_FSIZE, int(cfg["file_size_mb"]) * 1024 * 1024))
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.setsid()
            os.dup2(in_r, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            os.closerange(3, 65536)
            for which, value in limits:
                resource.setrlimit(which, (value, value))
            os.chdir(cfg["workdir"])
            if exe is None:
                raise OSError(2, "command not found: %s" % cfg["argv"][0])
            os.execve(exe, [exe] + list(cfg["argv"][1:]), env)
        except BaseException as exc:  # noqa: BLE001 - report and leave the child
            try:
                os.write(2, ("cannot run %r: %s\n" % (cfg["argv"][0], exc)).encode())
            finally:
                os._exit(127)
    for fd in (in_r, out_w, err_w):
        os.close(fd)
    return pid, in_w, out_r, err_r


def run_command(cfg):
    oom_before = _oom_kills()
    start = time.monotonic()
    pid, in_w, out_r, err_r = _spawn(cfg)
    limit = int(cfg["output_limit_bytes"])
    captured = {out_r: [], err_r: []}
    sizes = {out_r: 0, err_r: 0}
    overflow = False

    def keep(fd, chunk):
        """Keep what fits under the output limit; return True when some was dropped."""
        room = limit - sizes[fd]
        if room > 0:
            captured[fd].append(chunk[:room])
            sizes[fd] += min(room, len(chunk))
        return len(chunk) > room

    pending = (cfg.get("stdin") or "").encode()
    if in_w is not None:
        os.set_blocking(in_w, False)
        if not pending:
            os.close(in_w)
            in_w = None
    reason, status = None, None
    deadline = start + float(cfg["timeout_s"])
    readers = [out_r, err_r]
    while True:
        if status is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
                break
        now = time.monotonic()
        if now > deadline:
            reason = "timeout"
        elif overflow:
            reason = "output_limit"
        if reason:
            try:
                os.killpg(pid, SIGKILL)
            except OSError:
                pass
            break
        writers = [in_w] if in_w is not None else []
        if not readers and not writers:
            time.sleep(min(0.01, max(0.0, deadline - now)))
            continue
        ready_r, ready_w, _ = select.select(readers, writers, [], min(0.05, max(0.0, deadline - now)))
        for fd in ready_w:
            try:
                sent = os.write(fd, pending[:65536])
                pending = pending[sent:]
            except OSError:
                pending = b""
            if not pending:
                os.close(in_w)
                in_w = None
        for fd in ready_r:
            chunk = os.read(fd, 65536)
            if not chunk:
                readers.remove(fd)
                continue
            overflow = keep(fd, chunk) or overflow
    clean = kill_others()
    if status is None:
        status = os.waitpid(pid, 0)[1]
    if in_w is not None:
        os.close(in_w)
    for fd in readers:  # everything that could write is dead: drain what is buffered
        os.set_blocking(fd, False)
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            overflow = keep(fd, chunk) or overflow
    for fd in (out_r, err_r):
        os.close(fd)
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)
    err = b"".join(captured[err_r])
    if reason is None and overflow:
        reason = "output_limit"
    if reason is None and (_oom_kills() > oom_before or b"MemoryError" in err[-2000:]):
        reason = "oom"
    if reason is None and code < 0:
        reason = "signal"
    result = {"exit_code": code, "reason": reason, "truncated": overflow,
              "duration_s": time.monotonic() - start, "clean": clean}
    return result, b"".join(captured[out_r]), err


def _json(result):
    def value(v):
        if v is None:
            return "null"
        if v is True or v is False:
            return "true" if v else "false"
        if isinstance(v, str):
            return '"%s"' % v  # only fixed words (reasons)
        return repr(v)
    return "{" + ", ".join('"%s": %s' % (k, value(v)) for k, v in result.items()) + "}"


def main():
    stdin, stdout = sys.stdin.fileno(), sys.stdout.fileno()
    (size,) = struct.unpack(">Q", _read_exact(stdin, 8))
    cfg = marshal.loads(_read_exact(stdin, size))
    workdir = cfg["workdir"]
    clean = kill_others()
    for path in (workdir,) + SCRUB:
        clean = _wipe(path) and clean
    unpack(stdin, workdir)
    result, out, err = run_command(cfg)
    result["clean"] = clean and result["clean"]
    result["stdout_len"], result["stderr_len"] = len(out), len(err)
    header = _json(result).encode()
    _write_all(stdout, MAGIC + struct.pack(">Q", len(header)) + header)
    _write_all(stdout, out)
    _write_all(stdout, err)
    pack(stdout, workdir)
    _write_all(stdout, b"E")


main()
