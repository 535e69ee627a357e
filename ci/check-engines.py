#!/usr/bin/env python3
"""Smoke-check the sandbox parameters against Docker and Podman through the docker SDK.

Usage (after ci/services.sh start and ci/build-image.sh):
    python -m venv /tmp/ci-venv && /tmp/ci-venv/bin/pip install 'docker>=7,<8'
    /tmp/ci-venv/bin/python ci/check-engines.py [docker|podman ...]

Reads DARWIN_DOCKER_HOST / DARWIN_PODMAN_HOST (from /run/darwin/services.env) or uses the
defaults. Exits non-zero when a check fails. The parameters here are the ones documented in
ci/README.md; keep the two in step.
"""
from __future__ import annotations

import io
import os
import socket
import sys
import tarfile
import time

import docker
from docker.errors import APIError

HOSTS = {
    "docker": os.environ.get("DARWIN_DOCKER_HOST", "unix:///var/run/docker.sock"),
    "podman": os.environ.get("DARWIN_PODMAN_HOST", "unix:///run/darwin/podman.sock"),
}
IMAGE = os.environ.get("DARWIN_SANDBOX_IMAGE", "darwin-sandbox:latest")
PYTEST_IMAGE = os.environ.get("DARWIN_PYTEST_IMAGE", "darwin-sandbox-pytest:latest")

# The parameter set that works on both engines (see ci/README.md).
PARAMS = dict(
    network_mode="none",
    user="darwin",
    read_only=True,
    tmpfs={
        "/work": "rw,exec,nosuid,nodev,size=256m,mode=1777",
        "/tmp": "rw,nosuid,nodev,size=64m,mode=1777",
    },
    mem_limit="256m",
    memswap_limit="256m",
    nano_cpus=1_000_000_000,
    pids_limit=64,
    cap_drop=["ALL"],
    security_opt=["no-new-privileges"],
    working_dir="/work",
    labels={"darwin.run": "check-engines"},
)

PROBE = r"""
import os, subprocess, tempfile
st = open("/proc/self/status").read()
info = {
    "uid": os.getuid(),
    "ifaces": sorted(l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:]),
    "capeff": [l.split()[1] for l in st.splitlines() if l.startswith("CapEff")][0],
    "nnp": [l.split()[1] for l in st.splitlines() if l.startswith("NoNewPrivs")][0],
    "mem": open("/sys/fs/cgroup/memory/memory.limit_in_bytes").read().strip(),
    "pids": open("/sys/fs/cgroup/pids/pids.max").read().strip(),
    "cpu_quota": open("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read().strip(),
}
try:
    open("/etc/x", "w"); info["rootfs_ro"] = False
except OSError:
    info["rootfs_ro"] = True
open("/work/x.sh", "w").write("#!/bin/sh\necho exec-ok\n"); os.chmod("/work/x.sh", 0o755)
info["work_exec"] = subprocess.run(["/work/x.sh"], capture_output=True, text=True).stdout.strip()
info["tmp"] = tempfile.mkstemp()[1].startswith("/tmp/")
info["git"] = subprocess.run(["git", "--version"], capture_output=True, text=True).returncode == 0
info["patch"] = subprocess.run(["patch", "--version"], capture_output=True, text=True).returncode == 0
print(repr(info))
"""

EXPECT = {
    "uid": 1000, "ifaces": ["lo"], "capeff": "0000000000000000", "nnp": "1",
    "mem": str(256 * 2**20), "pids": "64", "cpu_quota": "100000", "rootfs_ro": True,
    "work_exec": "exec-ok", "tmp": True, "git": True, "patch": True,
}

failures: list[str] = []


def check(engine: str, what: str, ok: bool, detail: object = "") -> None:
    print(f"  [{'ok' if ok else 'FAIL'}] {what}" + (f": {detail}" if detail != "" else ""))
    if not ok:
        failures.append(f"{engine}: {what} {detail}")


def tar_of(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in files.items():
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode, ti.uid, ti.gid = len(data), 0o644, 1000, 1000
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def put_tar_via_exec(client: docker.DockerClient, cid: str, dest: str, data: bytes) -> int:
    """Extract a tar stream into dest by writing it to the stdin of `tar -x` (exec)."""
    ex = client.api.exec_create(cid, ["tar", "-x", "-C", dest], stdin=True, user="darwin")
    sock = client.api.exec_start(ex["Id"], socket=True)
    raw = getattr(sock, "_sock", sock)  # SocketIO on unix sockets
    try:
        raw.sendall(data)
        raw.shutdown(socket.SHUT_WR)
        while raw.recv(65536):  # drain the (multiplexed) output until EOF
            pass
    finally:
        raw.close()
    for _ in range(200):
        info = client.api.exec_inspect(ex["Id"])
        if not info["Running"]:
            return info["ExitCode"]
        time.sleep(0.05)
    return -1


def run_engine(engine: str) -> None:
    print(f"== {engine} ({HOSTS[engine]})")
    client = docker.DockerClient(base_url=HOSTS[engine], timeout=120)
    v = client.version()
    print(f"  server {v.get('Version')} api {client.api.api_version}")

    # 1. The brief's one-shot run, exactly.
    t = time.monotonic()
    out = client.containers.run(
        IMAGE, ["python3", "-c", "print(1)"], network_mode="none", user="darwin",
        read_only=True, tmpfs={"/work": ""}, mem_limit="256m", pids_limit=64,
        cap_drop=["ALL"], security_opt=["no-new-privileges"], remove=True,
    )
    check(engine, "containers.run print(1)", out == b"1\n", f"{out!r} {time.monotonic() - t:.2f}s")

    # 2. Full parameter set, limits observed from inside.
    out = client.containers.run(IMAGE, ["python3", "-c", PROBE], remove=True, **PARAMS)
    info = eval(out.decode())  # noqa: S307 - our own probe's repr
    for key, want in EXPECT.items():
        check(engine, f"inside: {key}", info.get(key) == want, info.get(key))

    # 3. Long-running container + exec_run + archive round trip.
    ct = client.containers.run(IMAGE, ["sleep", "infinity"], detach=True, **PARAMS)
    try:
        ct.reload()
        check(engine, "long-running container running", ct.status == "running", ct.status)
        times = []
        for _ in range(5):
            t = time.monotonic()
            r = ct.exec_run(["python3", "-c", "import os; print(os.getuid(), os.getcwd())"],
                            user="darwin", workdir="/work")
            times.append(time.monotonic() - t)
        check(engine, "exec_run", r.exit_code == 0 and r.output == b"1000 /work\n",
              f"{r.exit_code} {r.output!r} median {sorted(times)[2] * 1000:.0f} ms")
        r = ct.exec_run(["sh", "-c", "echo out; echo err >&2; exit 3"], demux=True)
        check(engine, "exec_run exit code + demux", r.exit_code == 3 and r.output == (b"out\n", b"err\n"),
              f"{r.exit_code} {r.output!r}")
        r = ct.exec_run(["sh", "-c", "cat; echo"], stdin=False, environment={"A": "1"})
        check(engine, "exec_run without stdin returns", r.exit_code == 0, r.exit_code)
        # Copy in: a tar stream on the stdin of `tar -x` (works on both engines, any size).
        payload = tar_of({"a/b.txt": b"via exec stdin\n", "big.bin": b"x" * (4 * 2**20)})
        code = put_tar_via_exec(client, ct.id, "/work", payload)
        r = ct.exec_run(["cat", "/work/a/b.txt"], user="darwin")
        check(engine, "copy in: tar -x on exec stdin", code == 0 and r.output == b"via exec stdin\n",
              r.output)
        # Copy out: `tar -c` on exec stdout (works on both engines).
        r = ct.exec_run(["tar", "-c", "-C", "/work", "a"], user="darwin", demux=True)
        names = tarfile.open(fileobj=io.BytesIO(r.output[0])).getnames()
        check(engine, "copy out: tar -c on exec stdout", "a/b.txt" in names, names)
        # put_archive/get_archive on a read-only container's tmpfs: Podman yes, Docker no.
        want = engine == "podman"
        try:
            ok = ct.put_archive("/work", tar_of({"hello.py": b"print('hi from archive')\n"}))
            r = ct.exec_run(["python3", "/work/hello.py"], user="darwin")
            got = bool(ok) and r.output == b"hi from archive\n"
            detail = r.output
        except APIError as e:
            got, detail = False, e.explanation
        check(engine, f"put_archive into /work tmpfs {'works' if want else 'fails (known)'}",
              got == want, detail)
        try:
            stream, _ = ct.get_archive("/work/a")
            got = "a/b.txt" in tarfile.open(fileobj=io.BytesIO(b"".join(stream))).getnames()
            detail = ""
        except APIError as e:
            got, detail = False, e.explanation
        check(engine, f"get_archive from /work tmpfs {'works' if want else 'fails (known)'}",
              got == want, detail)
        found = [c.id for c in client.containers.list(filters={"label": "darwin.run"})]
        check(engine, "list by label darwin.run", ct.id in found)
    finally:
        t = time.monotonic()
        ct.remove(force=True)
        print(f"  remove(force) {time.monotonic() - t:.2f}s")

    # 4. OOM kill under the memory limit.
    ct = client.containers.run(
        IMAGE, ["python3", "-c", "x = bytearray(512 * 2**20); print('survived')"],
        detach=True, **PARAMS)
    try:
        r = ct.wait(timeout=60)
        ct.reload()
        check(engine, "OOM kill -> 137", r["StatusCode"] == 137,
              f"{r} OOMKilled={ct.attrs['State'].get('OOMKilled')}")
    finally:
        ct.remove(force=True)

    # 5. pids limit: a fork bomb stays bounded.
    out = client.containers.run(
        IMAGE, ["python3", "-c",
                "import os\nn=0\ntry:\n    while True:\n        pid=os.fork()\n        if pid==0:\n            import time; time.sleep(5); os._exit(0)\n        n+=1\nexcept OSError as e:\n    print(n)"],
        remove=True, **PARAMS)
    check(engine, "pids_limit bounds forks", int(out) < 64, out.strip())

    # 6. No network_mode given: Docker (--bridge=none) gives only lo; Podman fails closed.
    ct = client.containers.create(IMAGE, ["python3", "-c", "print(open('/proc/net/dev').read().count(':') - 1)"],
                                  labels={"darwin.run": "check-engines"})
    try:
        ct.start()
        ct.wait(timeout=60)
        out = ct.logs().strip()
        check(engine, "no network_mode -> only lo (0 other ifaces)", engine == "docker" and out == b"0", out)
    except APIError as e:
        check(engine, "no network_mode -> start refused (fail closed)", engine == "podman",
              e.explanation[:90])
    finally:
        ct.remove(force=True)

    # 7. pytest image.
    try:
        out = client.containers.run(PYTEST_IMAGE, ["sh", "-c",
                                    "printf 'def test_a():\\n    assert 1\\n' > t_a.py && python3 -m pytest -q -p no:cacheprovider t_a.py && pytest --version"],
                                    remove=True, **PARAMS)
        check(engine, "pytest image", b"1 passed" in out, out.decode().strip().splitlines()[-1])
    except Exception as e:  # noqa: BLE001
        check(engine, "pytest image", False, e)


def main() -> int:
    engines = sys.argv[1:] or list(HOSTS)
    for e in engines:
        try:
            run_engine(e)
        except Exception as exc:  # noqa: BLE001
            check(e, "unexpected error", False, repr(exc))
    if failures:
        print("FAILURES:\n  " + "\n  ".join(failures))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
