"""The backends of one session of a run: checked before a run is created
(:func:`preflight`), built when the loop starts (:class:`Session`)."""

from __future__ import annotations

from dataclasses import dataclass

from darwin_hookspecs import Executor, SelectionStrategy, to_dict

from .gating import Gate, build_gate
from .holdout import HoldoutChecker
from .memory import attach_memory, detach_memory
from .objective import Scorer
from .plugins import PluginManager, validate_options
from .record import Recorder
from .run import RunHandle, build_context
from .runtime import Runtime
from .stopping import StopSignal


@dataclass
class Session:
    """The backends built when :meth:`Engine.run_loop` starts (plugins load their state then),
    closed when it ends and still readable after."""

    runtime: Runtime
    executor: Executor
    selector: SelectionStrategy
    gate: Gate
    recorder: Recorder
    stop: StopSignal | None = None

    @classmethod
    def start(cls, handle: RunHandle, runtime: Runtime) -> "Session":
        config, plugins, context = handle.config, handle.plugins, build_context(handle)
        gate = build_gate(config, plugins, context, handle.store)
        scorer = use_objective(handle, runtime)
        holdout = HoldoutChecker(runtime, handle.store, handle.codebook, handle.run_dir / "scratch")
        session = cls(
            runtime=runtime, gate=gate, recorder=Recorder(handle, runtime.tasks, gate, scorer, holdout),
            executor=plugins.create("executor", config.executor.name, config.executor.options, context),
            selector=plugins.create("selection", config.selection.name, config.selection.options, context),
        )
        try:
            attach_memory(plugins, config, context)
        except BaseException:
            session.executor.shutdown(wait=False)
            raise
        return session

    def close(self, plugins: PluginManager, *, wait: bool) -> None:
        """Stop the executor (waiting for its jobs unless interrupted) and detach the memory."""
        try:
            self.executor.shutdown(wait=wait)
        finally:
            detach_memory(plugins)


def use_objective(handle: RunHandle, runtime: Runtime) -> Scorer:
    """Rank the run by its benchmark's objective, recorded on the run for readers."""
    scorer = Scorer.for_runtime(runtime)
    handle.archive.set_objective(scorer.objective)
    if handle.run is not None:
        handle.run.metadata["objective"] = to_dict(scorer.objective)
        handle.store.save_run(handle.run)
    return scorer


def preflight(handle: RunHandle) -> None:
    """Check every configured backend exists, is installed and accepts its options, before
    anything is recorded: a typo never leaves a half-created run behind."""
    config, plugins, context = handle.config, handle.plugins, build_context(handle)
    for kind, section in [("generator", config.generator), ("sandbox", config.sandbox),
                          ("benchmark", config.benchmark), ("executor", config.executor),
                          ("selection", config.selection),
                          *([("memory", config.memory)] if config.memory is not None else [])]:
        spec = plugins.spec(kind, section.name)
        spec.check_available()
        validate_options(spec, section.options, context, section=kind)
    if config.predictor is not None:  # its section mixes gate and backend keys
        plugins.spec("predictor", config.predictor.name).check_available()
