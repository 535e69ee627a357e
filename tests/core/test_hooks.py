"""Every hook fires as documented during a real run, observed by a throwaway plugin."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

from darwin_core import Engine, PluginManager, load_config
from darwin_core.reader import open_run
from darwin_hookspecs import BuildContext, Proposal, hookimpl

from support import quick_config


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.memory_seen: list[list[str]] = []

    def _add(self, name: str, detail: Any = None) -> None:
        self.events.append((name, detail))

    @hookimpl
    def darwin_run_started(self, run, resumed, services):
        self._add("darwin_run_started", (resumed, "storage" in services))

    @hookimpl
    def darwin_run_finished(self, run, summary):
        self._add("darwin_run_finished", summary.status)

    @hookimpl
    def darwin_generation_started(self, run, generation, attempts):
        self._add("darwin_generation_started", (generation, len(attempts)))

    @hookimpl
    def darwin_generation_finished(self, run, generation):
        self._add("darwin_generation_finished", generation)

    @hookimpl
    def darwin_attempt_started(self, run, attempt):
        self._add("darwin_attempt_started", attempt.id)

    @hookimpl
    def darwin_attempt_finished(self, run, attempt, child):
        self._add("darwin_attempt_finished", (attempt.id, child.id if child else None))

    @hookimpl
    def darwin_proposal_generated(self, run, attempt, proposal, started_at, duration_s):
        assert started_at > 0 and duration_s >= 0
        self._add("darwin_proposal_generated", attempt.id)

    @hookimpl
    def darwin_task_evaluated(self, run, attempt, result):
        self._add("darwin_task_evaluated", (attempt.id if attempt else None, result.task_id))

    @hookimpl
    def darwin_variant_accepted(self, run, variant):
        self._add("darwin_variant_accepted", variant.id)

    @hookimpl
    def darwin_variant_rejected(self, run, variant, reason):
        self._add("darwin_variant_rejected", (variant.id, reason))

    @hookimpl
    def darwin_record_written(self, run_id, collection, key, nbytes, started_at, duration_s):
        self._add("darwin_record_written", (collection, key, nbytes > 0))

    @hookimpl
    def darwin_memory_retrieve(self, run, parent, target):
        return [f"hint for {target.task_id} from {parent.id}"]

    @hookimpl
    def darwin_memory_record(self, run, attempt, parent, child):
        self._add("darwin_memory_record", (parent.id, child.id, child.status))

    # a generator that records what memory it was handed, then mutates like the default
    @hookimpl
    def darwin_register_generators(self, registry):
        from darwin_plugins.mutation.generator import MutationGenerator, MutationOptions

        recorder = self

        class Recording:
            def __init__(self) -> None:
                self.inner = MutationGenerator(MutationOptions())

            def propose(self, context) -> Proposal:
                recorder.memory_seen.append(list(context.memory))
                return self.inner.propose(context)

        registry.add("recording", lambda o, c: Recording())


def test_lifecycle_hooks_fire_in_order(quickstart: Path) -> None:
    recorder = Recorder()
    config = quick_config(quickstart, generations=2, children_per_generation=2,
                          generator__name="recording", archive_policy="keep_better",
                          keep_better_margin=0.0)
    Engine.create(load_config(config), quickstart / "run", extra_plugins=[recorder]).run_loop()
    names = [name for name, _ in recorder.events]
    counts = Counter(names)
    assert names[0] == "darwin_record_written"  # the run record comes first
    assert recorder.events[names.index("darwin_run_started")][1] == (False, True)
    assert names[-1] == "darwin_run_finished" and recorder.events[-1][1] == "completed"
    assert counts["darwin_generation_started"] == counts["darwin_generation_finished"] == 2
    assert counts["darwin_attempt_started"] == counts["darwin_attempt_finished"] == 4
    assert counts["darwin_proposal_generated"] == 4 and counts["darwin_memory_record"] == 4
    assert counts["darwin_variant_accepted"] + counts["darwin_variant_rejected"] == 4
    root_tasks = [d for n, d in recorder.events if n == "darwin_task_evaluated" and d[0] is None]
    assert len(root_tasks) == 16
    # every attempt starts before it finishes, inside its generation
    for attempt_id in {d for n, d in recorder.events if n == "darwin_attempt_started"}:
        start = recorder.events.index(("darwin_attempt_started", attempt_id))
        finish = next(i for i, (n, d) in enumerate(recorder.events)
                      if n == "darwin_attempt_finished" and d[0] == attempt_id)
        assert start < finish
    written = {d[0] for n, d in recorder.events if n == "darwin_record_written"}
    assert {"run", "variants", "attempts", "generations"} <= written
    # memory hints reached the generator, one per attempt
    assert len(recorder.memory_seen) == 4
    assert all(len(m) == 1 and m[0].startswith("hint for") for m in recorder.memory_seen)
    view = open_run(quickstart / "run")
    # every child not accepted (rejected, or invalid such as a duplicate of evaluated code) fires it
    rejected = [v.id for v in view.variants if v.status != "accepted"]
    assert sorted(rejected) == sorted(d[0] for n, d in recorder.events if n == "darwin_variant_rejected")


class AllKinds:
    """Registers one backend of every remaining kind, and the run uses them."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    @hookimpl
    def darwin_register_storage(self, registry):
        from darwin_plugins.file_storage import FileStorage, path_from_url

        def make(options, context):
            self.used.add("storage")
            return FileStorage(path_from_url("file://" + options["url"].split("://", 1)[1]))

        registry.add("memfile", make, description="file storage under another scheme")

    @hookimpl
    def darwin_register_executors(self, registry):
        from darwin_plugins.local_executor import LocalExecutor

        def make(options, context):
            self.used.add("executor")
            return LocalExecutor(1)

        registry.add("serial", make)

    @hookimpl
    def darwin_register_selectors(self, registry):
        outer = self

        class First:
            def select(self, archive, n, rng: random.Random):
                outer.used.add("selection")
                return [archive.selectable()[0].id] * n

        registry.add("first", lambda o, c: First())

    @hookimpl
    def darwin_register_predictors(self, registry):
        class Constant:  # the Predictor protocol, doing nothing
            def predict(self, features):
                return []

            def observe(self, features, outcome):
                pass

            def state(self):
                return b""

            def load_state(self, data):
                pass

            def metrics(self):
                return {}

        registry.add("constant", lambda o, c: Constant(), description="placeholder")


def test_every_registration_hook_reaches_the_engine(quickstart: Path) -> None:
    plugin = AllKinds()
    storage_dir = quickstart / "elsewhere"
    config = quick_config(quickstart, generations=1, children_per_generation=2,
                          executor__name="serial", selection__name="first",
                          storage__url=f"memfile://{storage_dir}")
    text = config.read_text().replace("max_workers = 2\n", "")
    config.write_text(text)
    Engine.create(load_config(config), quickstart / "run", extra_plugins=[plugin]).run_loop()
    assert plugin.used == {"storage", "executor", "selection"}
    from darwin_plugins.file_storage import FileStorage

    assert len(list(FileStorage(storage_dir, must_exist=True).scan("variants"))) == 3
    manager = PluginManager(extra_plugins=[AllKinds()])
    assert "constant" in manager.registries["predictor"]
    assert manager.create("predictor", "constant", {}, BuildContext()) is not None
