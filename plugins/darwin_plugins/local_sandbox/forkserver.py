"""The warm sandbox's fork server: the program that runs *inside* the sandbox (standard library
only; its source is sent as ``python -c SOURCE FD``, so it needs no file visible in there).

It imports the modules a benchmark asks to preload, makes itself non-dumpable (children cannot
``ptrace`` it or read its memory) and, as PID 1 of bubblewrap's PID namespace, cannot be
signalled by them. Then, per request read from the control socket (fd ``FD``; a length-prefixed
JSON header carrying the child's stdin/stdout/stderr as ``SCM_RIGHTS``), it forks one child that
takes those streams, its own session, fresh rlimits, the declared environment and the staged
working copy, and runs the command: Python code (``python -c``, ``-m``, a script) in the forked
interpreter, anything else by ``exec``. A child changes only its own copy of the interpreter;
the next request gets a fresh fork of the untouched server. After the child ends the server
kills whatever it left (``kill(-1)`` in the namespace, else its process group), empties the
namespace's private ``/tmp`` and ``/dev/shm`` and reports ``{"exit": code}``.

The fork for the next request is made ahead of it (a *spare*), once the previous run is cleaned
up and reported: the spare is a fresh fork of the untouched server that has done the set-up that
does not depend on the request (its own session, the death signal, default signal handlers, a
warm-up compile of a constant snippet, which faults in the pages a first compile writes) and
waits on a private socket for its request, which the server forwards with the streams. Nothing
runs in it before its request, so it holds no more state than a fork made at request time.
"""

import json
import os
import signal
import socket
import struct
import sys

NOT_FOUND = "command not found:"
PYTHON_NAMES = ("python", "python3")
SAFE_PY_ENV = ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "PYTHONUNBUFFERED")
CHILD_IMPORTS = ("atexit", "ctypes", "importlib.util", "io", "pkgutil", "resource", "runpy", "threading",
                 "traceback", "types")
"""What a child's own set-up and ``_run_python`` import: imported once by the server, not per run."""


_LIBC = []  # libc's prctl, looked up once by the server: a CDLL per call makes a class per child
SERVER = {}  # resolved once by the server, kept by its forks: "args" (its arg_start, arg_end), "exe"


def _prctl(option, value):
    try:
        if not _LIBC:
            import ctypes
            _LIBC.append(ctypes.CDLL(None, use_errno=True).prctl)
        _LIBC[0](option, value, 0, 0, 0)
    except Exception:  # noqa: BLE001 - best effort: ctypes may be missing
        pass


def _arg_area():
    try:
        with open("/proc/self/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        return int(fields[45]), int(fields[46])  # fields 48, 49
    except (OSError, ValueError, IndexError):
        return None


def _set_cmdline(argv):
    """The command's argv in ``/proc/self/cmdline`` (not the server's), as ``setproctitle`` does."""
    try:
        import ctypes
        start, end = SERVER.get("args") or _arg_area()
        data = b"\0".join(a.encode("utf-8", "surrogateescape") for a in argv)[: end - start - 1]
        ctypes.memmove(start, data + b"\0" * (end - start - len(data)), end - start)
    except Exception:  # noqa: BLE001 - best effort
        pass


WARM_UP = """
import sys
def f(a, *b, c=1, **d):
    for i in range(a):
        try:
            x = [j * 2 for j in b if j] or {"k": i, **d}
        except (ValueError, KeyError) as e:
            raise RuntimeError(f"{e!r}") from e
    return x
class C:
    def m(self):
        return self
"""
"""Compiled by each spare before its request (a constant: never the request's code)."""


def _recv(ctl):
    """``(request, fds, raw header)`` of one message, ``(None, fds, b"")`` at its end."""
    head, fds, _, _ = socket.recv_fds(ctl, 8, 3)
    if len(head) < 8:
        return None, fds, b""
    size = struct.unpack("!Q", head)[0]
    data = b""
    while len(data) < size:
        chunk = ctl.recv(size - len(data))
        if not chunk:
            return None, fds, b""
        data += chunk
    return json.loads(data), fds, data


def _send(ctl, obj):
    data = json.dumps(obj).encode()
    ctl.sendall(struct.pack("!Q", len(data)) + data)


def _python_plan(argv, env):
    """``(kind, target, args)`` when the command is Python the fork can run, else ``None``."""
    if not argv or os.path.basename(argv[0]) not in PYTHON_NAMES + (os.path.basename(sys.executable),):
        return None
    exe = SERVER.get("exe") or os.path.realpath(sys.executable)
    if argv[0] not in PYTHON_NAMES and os.path.realpath(argv[0]) != exe:
        return None
    if any(k.startswith("PYTHON") and k not in SAFE_PY_ENV for k in env):
        return None
    rest = argv[1:]
    if not rest:
        return None  # an interactive interpreter reading stdin: exec it
    if rest[0] == "-c" and len(rest) >= 2:
        return "code", rest[1], ["-c", *rest[2:]]
    if rest[0] == "-m" and len(rest) >= 2:
        return "module", rest[1], [rest[1], *rest[2:]]
    if rest[0].startswith("-"):
        return None
    return "script", rest[0], rest


def _limits(req):
    import resource
    for name, value in req["rlimits"].items():
        limit = getattr(resource, name)
        try:
            resource.setrlimit(limit, (value, value))
        except (ValueError, OSError):
            pass


def _detach(ctl):
    """The request-independent set-up of a child (a spare does it before its request)."""
    ctl.close()
    os.setsid()
    _prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: never outlive the server
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _spare(ctl):
    """Fork the child for the next request: ``(pid, socket to send it the request on)``."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = os.fork()
    if pid != 0:
        theirs.close()
        return pid, ours
    try:
        ours.close()
        _detach(ctl)
        compile(WARM_UP, "<warm-up>", "exec")
        req, fds, _ = _recv(theirs)
        theirs.close()
    except BaseException as exc:  # noqa: BLE001
        os.write(2, ("[darwin warm sandbox] spare set-up failed: %r\n" % (exc,)).encode())
        os._exit(125)
    if req is None:  # the server ended first
        os._exit(0)
    _child(req, fds)


def _start(req, fds, raw, ctl, spare):
    """The run's pid: the spare given the request, else (it is gone) a fork made now."""
    if spare is not None:
        pid, sock = spare
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == 0:  # still there (else reaped now)
                socket.send_fds(sock, [struct.pack("!Q", len(raw)) + raw], fds)
                return pid
        except OSError:
            pass
        finally:
            sock.close()
    pid = os.fork()
    if pid == 0:
        try:
            _detach(ctl)
        except BaseException as exc:  # noqa: BLE001
            os.write(2, ("[darwin warm sandbox] child set-up failed: %r\n" % (exc,)).encode())
            os._exit(125)
        _child(req, fds)
    return pid


def _child(req, fds):
    try:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        for fd in fds:
            if fd > 2:
                os.close(fd)
        _prctl(4, 1)  # PR_SET_DUMPABLE: the child's own /proc entries are its own again
        _set_cmdline(req["argv"])
        _limits(req)
        os.chdir(req["cwd"])
        env = req["env"]
        os.environ.clear()
        os.environ.update(env)
        plan = _python_plan(req["argv"], env)
    except BaseException as exc:  # noqa: BLE001
        os.write(2, ("[darwin warm sandbox] child set-up failed: %r\n" % (exc,)).encode())
        os._exit(125)
    if plan is None:
        argv = req["argv"]
        try:
            os.execvpe(argv[0], argv, env)
        except OSError:
            os.write(2, ("%s %s\n" % (NOT_FOUND, argv[0])).encode())
            os._exit(127)
    os._exit(_run_python(plan, env, req.get("script")))


def _script_code(script):
    """The script's code compiled by the orchestrator (``ExecRequest.trusted``), when its
    bytecode format is this interpreter's, else ``None`` (then it is compiled here)."""
    import importlib.util
    import marshal
    if not script or script.get("magic") != importlib.util.MAGIC_NUMBER.hex():
        return None
    try:
        return marshal.loads(bytes.fromhex(script["code"]))
    except (ValueError, EOFError, TypeError, KeyError):
        return None


def _run_python(plan, env, script=None):
    import io
    import types
    kind, target, args = plan
    sys.stdin = sys.__stdin__ = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
    unbuffered = "PYTHONUNBUFFERED" in env
    for fd, name in ((1, "stdout"), (2, "stderr")):
        stream = io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), encoding="utf-8",
                                  errors="backslashreplace" if fd == 2 else "strict",
                                  line_buffering=unbuffered or fd == 2, write_through=fd == 2)
        setattr(sys, name, stream)
        setattr(sys, "__%s__" % name, stream)
    sys.dont_write_bytecode = "PYTHONDONTWRITEBYTECODE" in env
    sys.argv = list(args)
    extra = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    base = [p for p in sys.path[1:] if p not in extra]
    code = 0
    try:
        try:
            if kind == "code":
                sys.path[:] = ["", *extra, *base]
                main = types.ModuleType("__main__")
                main.__builtins__ = __builtins__
                sys.modules["__main__"] = main
                exec(compile(target, "<string>", "exec"), main.__dict__)  # noqa: S102 - in the sandbox
            elif kind == "module":
                import runpy
                sys.path[:] = [os.getcwd(), *extra, *base]
                runpy.run_module(target, run_name="__main__", alter_sys=True)
            else:
                import runpy
                sys.path[:] = [os.path.dirname(os.path.abspath(target)), *extra, *base]
                compiled = _script_code(script)
                if compiled is not None and hasattr(runpy, "_run_module_code"):  # run_path, given the code
                    runpy._run_module_code(compiled, None, "__main__", pkg_name="", script_name=target)
                else:
                    runpy.run_path(target, run_name="__main__")
        finally:
            import threading
            threading._shutdown()  # wait for non-daemon threads, as the interpreter does
            import atexit
            atexit._run_exitfuncs()
    except SystemExit as exc:
        code = _exit_code(exc.code)
    except BaseException:  # noqa: BLE001 - what the interpreter would print
        import traceback
        try:
            kind, value, tb = sys.exc_info()
            while tb is not None and (tb.tb_frame.f_globals is globals()
                                      or tb.tb_frame.f_globals.get("__name__") == "runpy"):
                tb = tb.tb_next  # the server's and runpy's frames are not the program's
            traceback.print_exception(kind, value, tb)
        except BaseException:  # noqa: BLE001
            pass
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - e.g. a closed pipe
            pass
    return code


def _exit_code(value):
    if value is None:
        return 0
    if isinstance(value, int):
        return value & 0xFF
    try:
        sys.stderr.write(str(value) + "\n")
    except BaseException:  # noqa: BLE001
        pass
    return 1


def _wipe(paths):
    import shutil
    left = []
    for root in paths:
        try:
            names = os.listdir(root)
        except OSError:
            continue
        for name in names:
            path = os.path.join(root, name)
            try:
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
            except OSError:
                left.append(path)
    return left


def _reap_until(pid):
    status = 0
    while True:
        try:
            got, st = os.waitpid(-1, 0)
        except ChildProcessError:
            return status
        except InterruptedError:
            continue
        if got == pid:
            return st


def _clean_up(pid, namespace_init):
    if namespace_init:
        try:
            os.kill(-1, signal.SIGKILL)  # every process of the namespace but this one
        except OSError:
            pass
    else:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    while True:
        try:
            os.waitpid(-1, os.WNOHANG if not namespace_init else 0)
        except ChildProcessError:
            return
        except InterruptedError:
            continue
        if not namespace_init:
            return


def main(fd, preload):
    ctl = socket.socket(fileno=fd)
    namespace_init = os.getpid() == 1
    if not namespace_init:
        _prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the orchestrator
    import importlib
    for name in CHILD_IMPORTS:
        try:
            importlib.import_module(name)
        except ImportError:  # e.g. no ctypes: the child imports (or does without) it itself
            pass
    for name in preload:
        importlib.import_module(name)
    SERVER.update(args=_arg_area(), exe=os.path.realpath(sys.executable))  # a read-only path
    import gc
    gc.freeze()  # what the server holds stays out of the children's collections (no copy-on-write)
    _prctl(4, 0)  # PR_SET_DUMPABLE = 0: no ptrace, no /proc/1/mem for the children
    spare = _spare(ctl)
    _send(ctl, {"ready": os.getpid(), "preloaded": sorted(preload), "spare": spare[0]})
    while True:
        req, fds, raw = _recv(ctl)
        if req is None:
            return
        pid = _start(req, fds, raw, ctl, spare)
        spare = None
        for fd in fds:
            os.close(fd)
        status = _reap_until(pid)
        _clean_up(pid, namespace_init)
        code = os.waitstatus_to_exitcode(status)
        left = _wipe(req.get("wipe", [])) if namespace_init else []
        _send(ctl, {"exit": code, "left": left})
        spare = _spare(ctl)  # after the clean-up: a fork of the untouched server, nothing else


if __name__ == "__main__":
    main(int(sys.argv[1]), [m for m in sys.argv[2].split(",") if m] if len(sys.argv) > 2 else [])
