"""``[run] lookahead = 1``: two generations open at once (src/darwin_core/pipeline.py).

Real parts: the quickstart program, the local sandbox (every evaluation is a sandboxed command
that sleeps a random time), the engine's own store; a recording generator that takes a
measurable time and a benchmark plugin that times each sandboxed evaluation in the orchestrator.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from darwin_core import Engine, load_config
from darwin_core.reader import open_run
from darwin_hookspecs import DarwinError, ExecRequest, Proposal, TaskResult, TaskSpec, UserError, hookimpl

from support import kill_run_when, quick_config


class _Timed:
    """A generator (``slow``) and a benchmark (``timed``) that record when each runs.

    The generator appends a line derived from the attempt's seed to ``textstats.py`` after
    sleeping ``generate_s`` (plus a random jitter); the benchmark's score is a hash of the file
    (so the plans depend on the records), and its sandboxed command sleeps a random time."""

    def __init__(self, generate_s: float = 0.0, jitter_s: float = 0.0, evaluate_s: tuple[float, float] = (0, 0),
                 slow_index: int | None = None, same_index: int | None = None) -> None:
        self.generate_s, self.jitter_s, self.evaluate_s = generate_s, jitter_s, evaluate_s
        self.slow_index = slow_index
        """Children of the attempts with this index sleep 0.2 s more (a systematic order)."""
        self.same_index = same_index
        """Attempts with this index propose the same child whatever their parent (the root's code
        and one line): duplicates, skipped once an evaluated one is in their skip trees."""
        self.root_text = ""
        self.lock = threading.Lock()
        self.proposals: dict[str, tuple[float, float]] = {}
        self.evaluations: dict[str, tuple[float, float]] = {}
        self.seen: dict[str, dict[str, Any]] = {}

    @hookimpl
    def darwin_register_generators(self, registry: Any) -> None:
        outer = self

        class Slow:
            sandbox_free = True

            def propose(self, context: Any) -> Proposal:
                started = time.time()
                time.sleep(outer.generate_s + random.uniform(0, outer.jitter_s))
                text = (context.parent_dir / "textstats.py").read_text()
                if context.parent.id == "v0000root":
                    outer.root_text = text  # generations 1 and 2 draw only the root
                with outer.lock:
                    outer.proposals[context.attempt_id] = (started, time.time())
                    outer.seen[context.attempt_id] = {"parent": context.parent.id, "sibling": context.sibling_index,
                                                      "stats": dict(context.operator_stats)}
                family = "even" if context.seed % 2 == 0 else "odd"
                same = outer.same_index is not None and context.attempt_id.endswith(f"a{outer.same_index:03d}")
                line = "# same" if same else \
                    f"# {context.attempt_id} {context.seed}"
                return Proposal(changes={"textstats.py": (outer.root_text if same else text) + f"\n{line}\n"},
                                improvement_type="test:slow", metadata={"families": [family]})

        registry.add("slow", lambda options, context: Slow())

    @hookimpl
    def darwin_register_benchmarks(self, registry: Any) -> None:
        outer = self
        low, high = self.evaluate_s

        class Timed:
            mode = "program"

            def tasks(self) -> list[TaskSpec]:
                return [TaskSpec(id="t1"), TaskSpec(id="t2")]

            def evaluate(self, variant_dir: Path, tasks: list[TaskSpec], sandbox: Any) -> list[TaskResult]:
                text = (variant_dir / "textstats.py").read_bytes()
                last = text.decode().rstrip().splitlines()[-1]  # which attempt's child: its proposal's line
                attempt_id = last.split()[1] if last.startswith("# g") else "root"
                extra = 0.2 if outer.slow_index is not None and attempt_id.endswith(f"a{outer.slow_index:03d}") else 0
                code = f"import random, time; time.sleep({extra} + random.uniform({low}, {high}))"
                started = time.time()
                run = sandbox.run(ExecRequest(argv=["python", "-c", code], workdir=variant_dir))
                with outer.lock:
                    outer.evaluations[attempt_id] = (started, time.time())
                digest = hashlib.sha256(text).digest()
                return [TaskResult(t.id, run.exit_code == 0 and digest[i] % 3 > 0, digest[i] / 255)
                        for i, t in enumerate(tasks)]

        registry.add("timed", lambda options, context: Timed())


def _config(quickstart: Path, **run: Any) -> Path:
    config = quick_config(quickstart, generator__name="slow", benchmark__name="timed", **run)
    config.write_text(config.read_text().replace('path = "benchmark/tasks.toml"\n', ""))
    return config


def _max_overlap(intervals: list[tuple[float, float]]) -> int:
    events = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals])
    most = now = 0
    for _, step in events:
        now += step
        most = max(most, now)
    return most


@pytest.mark.parametrize("lookahead", [1, 0])
def test_the_next_generations_model_calls_overlap_this_ones_evaluations(quickstart: Path, lookahead: int) -> None:
    timed = _Timed(generate_s=0.25, evaluate_s=(0.3, 0.3))
    config = _config(quickstart, generations=5, children_per_generation=2, lookahead=lookahead)
    engine = Engine.create(load_config(config), quickstart / "run", extra_plugins=[timed])
    assert engine.run_loop().status == "completed"
    view = open_run(quickstart / "run")
    assert len(view.attempts) == 10 and all(a.status == "finished" for a in view.attempts)
    generation = {a.id: a.generation for a in view.attempts}
    assert sorted(timed.evaluations) == sorted([*generation, "root"])  # every child evaluated once
    assert _max_overlap(list(timed.evaluations.values())) <= 2  # max_workers = 2, two generations open too
    assert _max_overlap(list(timed.proposals.values())) <= 2  # so are the model calls
    overlapping = {attempt_id for attempt_id, (p_start, p_end) in timed.proposals.items()
                   if any(generation[other] == generation[attempt_id] - 1 and start < p_end and p_start < end
                          for other, (start, end) in timed.evaluations.items() if other != "root")}
    if lookahead:  # generations 2..5 ask the model while the previous one is evaluated
        assert len(overlapping) >= 6, (overlapping, timed.proposals, timed.evaluations)
    else:  # one generation at a time
        assert not overlapping, overlapping


def _plans(run_dir: Path) -> list[tuple[str, str, Any]]:
    return [(a.id, a.parent_id, a.metadata.get("sibling_index")) for a in open_run(run_dir).attempts]


def test_the_same_seed_gives_the_same_plans_whatever_the_timing(tmp_path: Path, quickstart: Path) -> None:
    """Evaluations sleep 0-100 ms at random, and those of one index 200 ms more (index 0, 1, then
    2), proposals 0-40 ms: which job finishes first differs between the runs (systematically),
    the plans (and what each generator saw) do not."""
    runs = []
    for slow in (0, 1, 2):
        name = f"slow{slow}"
        timed = _Timed(jitter_s=0.04, evaluate_s=(0.0, 0.1), slow_index=slow, same_index=2)
        config = _config(quickstart, generations=6, children_per_generation=3, lookahead=1)
        engine = Engine.create(load_config(config), tmp_path / name, extra_plugins=[timed])
        assert engine.run_loop().status == "completed"
        scores = sorted((v.id, v.parent_id, v.status, round(v.score, 9)) for v in open_run(tmp_path / name).variants)
        runs.append((_plans(tmp_path / name), dict(sorted(timed.seen.items())), scores))
    assert runs[0] == runs[1] == runs[2]
    plans, seen, _ = runs[0]
    assert len(plans) == 18
    assert len({parent for _, parent, _ in plans}) > 3  # the plans follow the records, not only the root
    assert any(s["stats"] for s in seen.values())  # the operator statistics reached the generator
    assert any(s["sibling"] for s in seen.values())
    assert any(status == "invalid" for _, _, status, _ in runs[0][2])  # duplicates were skipped


def test_kill_9_with_two_generations_open_then_resume_settles_every_attempt_once(quickstart: Path, darwin_cli) -> None:
    cap = 21
    config = quick_config(quickstart, generations=100, children_per_generation=3, max_attempts=cap, lookahead=1,
                          selection__name="random")
    run_dir = quickstart / "run"

    def two_generations_open(view: Any) -> bool:
        open_generations = {a.generation for a in view.attempts if a.status in ("planned", "running")}
        return len(open_generations) >= 2 and any(a.status == "running" for a in view.attempts) \
            and sum(a.status == "finished" for a in view.attempts) >= 3

    kill_run_when(config, run_dir, two_generations_open, what="two generations open", poll_s=0.02)
    killed = open_run(run_dir)
    open_generations = {a.generation for a in killed.attempts if a.status in ("planned", "running")}
    assert len(open_generations) >= 2, [(a.id, a.status) for a in killed.attempts]
    finished = {a.id: a.child_id for a in killed.attempts if a.status == "finished"}
    running = [a.id for a in killed.attempts if a.status == "running"]
    assert running
    resumed = darwin_cli("resume", str(run_dir), "-q")
    assert resumed.returncode == 0, resumed.stderr
    view = open_run(run_dir)
    assert view.run.status == "completed"
    after = {a.id: a for a in view.attempts}
    assert all(after[a].status == "finished" and after[a].child_id == child for a, child in finished.items())
    assert not any(a.retry_of in finished for a in view.attempts)  # finished attempts never redone
    for attempt_id in running:  # finished from its recorded child, or retried once
        retries = [a for a in view.attempts if a.retry_of == attempt_id]
        assert after[attempt_id].status == "finished" and not retries or \
            after[attempt_id].status == "interrupted" and len(retries) == 1, (attempt_id, after[attempt_id].status)
    slots: dict[tuple[int, int], list[str]] = {}
    for attempt in view.attempts:
        slots.setdefault((attempt.generation, attempt.index), []).append(attempt.status)
    for slot, statuses in slots.items():
        assert statuses.count("finished") + statuses.count("skipped") == 1, (slot, statuses)
    assert not any(a.status in ("running", "planned") for a in view.attempts)
    assert sum(a.retry_of is None for a in view.attempts) == cap  # max_attempts exact
    assert len({v.id for v in view.variants}) == len(view.variants)
    assert sum(v.parent_id is not None for v in view.variants) == len(slots)  # one child per slot
    verify = darwin_cli("verify", str(run_dir))
    assert verify.returncode == 0, verify.stderr


class _PlainExecutor:
    """An executor that cannot make room for more jobs than ``max_workers``."""

    @hookimpl
    def darwin_register_executors(self, registry: Any) -> None:
        from concurrent.futures import ThreadPoolExecutor

        class Plain:
            in_process = True
            max_workers = 2

            def __init__(self) -> None:
                self.pool = ThreadPoolExecutor(2)

            def submit(self, fn: Any, *args: Any) -> Any:
                return self.pool.submit(fn, *args)

            def shutdown(self, wait: bool = True) -> None:
                self.pool.shutdown(wait=wait)

        registry.add("plain", lambda options, context: Plain())


def test_lookahead_needs_an_executor_that_makes_room_and_is_at_most_1(quickstart: Path, darwin_cli) -> None:
    config = quick_config(quickstart, lookahead=1, executor__name="plain", executor__max_workers=None)
    engine = Engine.create(load_config(config), quickstart / "run", extra_plugins=[_PlainExecutor()])
    refused = r"lookahead = 1 needs an in-process executor .*'plain'.*Fix: set run.lookahead = 0"
    with pytest.raises(UserError, match=refused):
        engine.run_loop()
    assert open_run(quickstart / "run").attempts == []  # refused before anything was planned
    result = darwin_cli("run", str(quick_config(quickstart, lookahead=2)), "--run-dir", str(quickstart / "r2"), "-q")
    assert result.returncode == 2 and "lookahead" in result.stderr, result.stderr
    with pytest.raises(DarwinError):
        load_config(quick_config(quickstart, lookahead=-1))
