"""LLM call path benchmarks, measured side by side in one run against a loopback server.

1. Concurrency: the server answers every request after a fixed delay (1 s); attempts of the
   ``openai`` generator (one implement call each) run on N threads, N = 1, 2, 4, 8, 16. The
   latency-bound limit is N / delay attempts per second; the ratio should be >= 0.9.
2. Per-call overhead: the same request through our call path (retry wrapper, breaker, rate
   limiter, ledger, response cache, with the ledger and cache in a durable ``file://`` store and
   in memory) vs a bare ``openai`` SDK call, interleaved, server delay 0. Target < 5 ms.

Run: ``python benchmarks/bench_llm.py [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "llm"))

from loopback import LoopbackLLM  # noqa: E402

from darwin_core.ledger import Ledger  # noqa: E402
from darwin_hookspecs import BuildContext, GenerationContext, Target, Variant  # noqa: E402
from darwin_plugins.file_storage import FileStorage  # noqa: E402
from darwin_plugins.llm.generator import LLMGenerator, LLMOptions  # noqa: E402
from darwin_plugins.llm.choice import ModelChooser  # noqa: E402
from darwin_plugins.llm.options import build_call_path  # noqa: E402

KEY_ENV = "DARWIN_BENCH_KEY"
FIX = "prog.py\n<<<<<<< SEARCH\nX = 1\n=======\nX = 2\n>>>>>>> REPLACE\n"


def concurrency(levels: list[int], delay: float, per_thread: int, tmp: Path) -> list[tuple[int, float, float, float]]:
    server = LoopbackLLM(lambda body: FIX, delay_s=delay).start()
    parent = tmp / "parent"
    parent.mkdir()
    (parent / "prog.py").write_text("X = 1\n")
    rows = []
    try:
        for n in levels:
            storage = FileStorage(tmp / f"store-{n}")
            options = LLMOptions(model="m", base_url=server.url + "/v1", api_key_env=KEY_ENV, diagnose=False,
                                 price_per_mtok_in=1.0, price_per_mtok_out=1.0)
            calls = build_call_path("openai", options, BuildContext(), Ledger(storage), "openai")
            gen = LLMGenerator("openai", options, calls, ModelChooser(["m"], [1.0]))
            variant = Variant(id="v0", parent_id=None, generation=0, status="accepted")

            def attempt(i: int) -> None:
                ctx = GenerationContext(run_id="bench", attempt_id=f"a{i}", parent=variant, parent_dir=parent,
                                        target=Target(kind="explore"), seed=i)
                proposal = gen.propose(ctx)
                assert proposal.changes == {"prog.py": "X = 2\n"}, proposal.metadata

            total = n * per_thread
            with ThreadPoolExecutor(max_workers=n) as pool:
                t0, c0 = time.perf_counter(), time.process_time()
                list(pool.map(attempt, range(total)))
                elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
            rate = total / elapsed
            rows.append((n, rate, rate / (n / delay), cpu / total))
    finally:
        server.stop()
    return rows


def overhead(calls_n: int, tmp: Path) -> dict[str, float]:
    import openai

    server = LoopbackLLM(lambda body: "ok").start()
    try:
        messages = [{"role": "user", "content": "say ok"}]
        bare = openai.OpenAI(api_key=os.environ[KEY_ENV], base_url=server.url + "/v1", max_retries=0)
        options = LLMOptions(model="m", base_url=server.url + "/v1", api_key_env=KEY_ENV)
        durable = build_call_path("openai", options, BuildContext(), Ledger(FileStorage(tmp / "ovh")), "openai")
        memory = build_call_path("openai", options, BuildContext(), Ledger(None), "openai")
        inner: list[float] = []  # the SDK call inside our path, timed where it happens
        provider = memory.endpoints[0].provider
        sdk_call = provider.call

        def timed_call(request, timeout_s):  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            try:
                return sdk_call(request, timeout_s)
            finally:
                inner.append(time.perf_counter() - t)

        provider.call = timed_call  # type: ignore[method-assign]
        in_path: list[float] = []
        times: dict[str, list[float]] = {"bare": [], "ours_memory": [], "ours_durable": [], "bare_2": [], "flush": []}
        order = random.Random(0)
        for i in range(calls_n + 10):
            pair = [("bare", lambda: bare.chat.completions.create(
                        model="m", messages=messages, max_tokens=16, seed=i, temperature=0.7)),
                    ("ours_memory", lambda: memory.complete(messages, role="implement", attempt_id="a", seed=i,
                                                            max_tokens=16))]
            order.shuffle(pair)  # no systematic first/second position
            for name, fn in pair:
                t0 = time.perf_counter()
                fn()
                elapsed = time.perf_counter() - t0
                if name == "ours_memory":
                    in_path.append(elapsed - inner[-1])
                if i >= 10:  # warm-up
                    times[name].append(elapsed)
        for i in range(calls_n + 10):
            pair = [("bare_2", lambda: bare.chat.completions.create(
                        model="m", messages=messages, max_tokens=16, seed=i, temperature=0.7)),
                    ("ours_durable", lambda: durable.complete(messages, role="implement", attempt_id="a",
                                                              seed=i, max_tokens=16))]
            order.shuffle(pair)
            for name, fn in pair:
                t0 = time.perf_counter()
                fn()
                if i >= 10:
                    times[name].append(time.perf_counter() - t0)
            t1 = time.perf_counter()
            durable.ledger.flush()  # what an attempt waits for once, at its end
            if i >= 10:
                times["flush"].append(time.perf_counter() - t1)
        t0 = time.perf_counter()
        for i in range(calls_n):  # cache hits: a resumed attempt replaying its calls
            durable.complete(messages, role="implement", attempt_id="a", seed=i, max_tokens=16)
        durable.ledger.flush()
        hit = (time.perf_counter() - t0) / calls_n
    finally:
        server.stop()
    med = {k: statistics.median(v) for k, v in times.items()}
    med["in_path"] = statistics.median(in_path[10:])
    return {"bare_ms": med["bare"] * 1e3, "memory_overhead_ms": (med["ours_memory"] - med["bare"]) * 1e3,
            "durable_overhead_ms": (med["ours_durable"] - med["bare_2"]) * 1e3, "cache_hit_ms": hit * 1e3,
            "flush_ms": med["flush"] * 1e3, "in_path_ms": med["in_path"] * 1e3}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer levels and calls")
    args = parser.parse_args()
    os.environ.setdefault(KEY_ENV, "sk-bench-not-a-real-key")
    levels = [1, 2, 4] if args.quick else [1, 2, 4, 8, 16]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        print("concurrency (server latency 1.0 s, 1 call per attempt)")
        print(f"{'N':>4} {'attempts/s':>11} {'limit':>7} {'ratio':>6} {'CPU ms/attempt':>15}")
        for n, rate, ratio, cpu in concurrency(levels, 1.0, 2 if args.quick else 3, tmp):
            print(f"{n:>4} {rate:>11.2f} {n / 1.0:>7.1f} {ratio:>6.2f} {cpu * 1e3:>15.1f}")
        print(f"(load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
        result = overhead(50 if args.quick else 200, tmp)
        print("\nper-call overhead vs a bare openai SDK call (medians, server latency 0)")
        print(f"  bare SDK call:                 {result['bare_ms']:.2f} ms")
        print(f"  our path, ledger in memory:   +{result['memory_overhead_ms']:.2f} ms (difference of medians)")
        print(f"  our path's own time per call:  {result['in_path_ms']:.2f} ms (call minus the SDK call inside it)")
        print(f"  our path, durable file store: +{result['durable_overhead_ms']:.2f} ms")
        print(f"  durable flush after a call:    {result['flush_ms']:.2f} ms (once per attempt)")
        print(f"  cache hit (durable store):     {result['cache_hit_ms']:.2f} ms per call")


if __name__ == "__main__":
    main()
