"""A third-party memory backend: registered with ``darwin_register_memory``, picked by
``[memory] name``, attached to the memory hooks for the run, next to plugins that implement the
hooks directly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from darwin_core import Engine, load_config
from darwin_core.memory import PLUGIN_NAME
from darwin_hookspecs import hookimpl
from pydantic import BaseModel, ConfigDict

from support import quick_config


class TallyOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prefix: str = "tally"


class Tally:
    """Remembers how many attempts finished; hints with that count."""

    def __init__(self, prefix: str, seen: list[tuple[str, Any]]) -> None:
        self.prefix, self.seen = prefix, seen

    def retrieve(self, run: Any, parent: Any, target: Any) -> list[str]:
        finished = sum(1 for kind, _ in self.seen if kind == "record")
        return [f"{self.prefix}: {finished} finished before"]

    def record(self, run: Any, attempt: Any, parent: Any, child: Any) -> None:
        self.seen.append(("record", (attempt.id, child.id)))


class TallyPlugin:
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []
        self.hints: list[list[str]] = []

    @hookimpl
    def darwin_register_memory(self, registry: Any) -> None:
        registry.add("tally", lambda options, context: Tally(options.prefix, self.seen),
                     options=TallyOptions, description="counts finished attempts")

    @hookimpl
    def darwin_memory_retrieve(self, run: Any, parent: Any, target: Any) -> list[str]:
        return ["direct hint"]  # a plugin implementing the hook itself still contributes

    @hookimpl
    def darwin_register_generators(self, registry: Any) -> None:
        from darwin_plugins.mutation.generator import MutationOptions, create

        hints = self.hints

        class Recording:
            def __init__(self, context: Any) -> None:
                self.inner = create(MutationOptions(), context)

            def propose(self, context: Any) -> Any:
                hints.append(list(context.memory))
                return self.inner.propose(context)

        registry.add("recording", lambda o, c: Recording(c))


def test_the_configured_memory_backend_answers_the_memory_hooks(quickstart: Path) -> None:
    plugin = TallyPlugin()
    config = quick_config(quickstart, generations=2, children_per_generation=1, generator__name="recording",
                          memory__name="tally", memory__prefix="seen", executor__max_workers=1)
    engine = Engine.create(load_config(config), quickstart / "run", extra_plugins=[plugin])
    engine.run_loop()
    assert [kind for kind, _ in plugin.seen] == ["record", "record"]  # one per finished attempt
    assert [attempt_id for _, (attempt_id, _) in plugin.seen] == sorted(engine.attempts)
    # its hints come first, then those of the plugin's own hook; the count grows
    assert plugin.hints == [["seen: 0 finished before", "direct hint"],
                            ["seen: 1 finished before", "direct hint"]]
    assert not engine.plugins.pm.has_plugin(PLUGIN_NAME)  # detached when the run ended


def test_without_a_memory_section_no_backend_is_attached(quickstart: Path) -> None:
    plugin = TallyPlugin()
    config = quick_config(quickstart, generations=1, children_per_generation=1, generator__name="recording")
    Engine.create(load_config(config), quickstart / "run", extra_plugins=[plugin]).run_loop()
    assert plugin.seen == [] and plugin.hints == [["direct hint"]]
