"""Check a config without running it: every backend is built (then closed), the benchmark's
tasks are listed and the initial variant is read. Nothing is recorded anywhere.

``darwin validate`` prints the result; ``darwin run`` calls it before creating the run, so a
config that cannot run never leaves a run directory behind.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from darwin_hookspecs import BuildContext, DarwinError, UserError

from ..config import BackendSection, DarwinConfig
from ..plugins import PluginManager, validate_options

BACKEND_KINDS = ("sandbox", "benchmark", "generator", "executor", "selection")


@dataclass
class Checked:
    """What the preflight built and found."""

    backends: list[tuple[str, str]] = field(default_factory=list)
    tasks: int = 0
    initial_files: int = 0
    storage_url: str = ""


def sections(config: DarwinConfig, plugins: PluginManager) -> list[tuple[str, BackendSection]]:
    """``(kind, section)`` of every backend the config names (optional kinds when set)."""
    found = [(kind, getattr(config, kind)) for kind in BACKEND_KINDS]
    memory = config.memory
    if memory is not None and "memory" in plugins.registries:
        found.append(("memory", memory))
    return found


def check_options(config: DarwinConfig, plugins: PluginManager, source: Any = None) -> None:
    """Validate every backend's options (errors name ``source``, default the config file)."""
    context = BuildContext(config_dir=config.config_dir, seed=config.run.seed, hook=plugins.hook,
                           services={"config_source": source or config.source})
    for kind, section in sections(config, plugins):
        spec = plugins.spec(kind, section.name)
        spec.check_available()
        validate_options(spec, section.options, context, section=kind)
    if config.predictor is not None:
        _predictor_options(config, plugins, context)
    from ..plugin_config import plugin_options

    plugin_options(plugins, config)  # [plugins.NAME] sections, by each plugin's own model


def _predictor_options(config: DarwinConfig, plugins: PluginManager, context: BuildContext) -> dict[str, Any]:
    """The ``[predictor]`` keys that are the backend's (the others configure the gate)."""
    from pydantic import ValidationError

    from ..config import ConfigError, format_validation_error
    from ..gating import GateOptions

    assert config.predictor is not None
    options = config.predictor.options
    gate = {k: options.pop(k) for k in list(options) if k in GateOptions.model_fields}
    try:
        GateOptions.model_validate(gate)
    except ValidationError as exc:
        source = context.services.get("config_source")
        raise ConfigError(format_validation_error(exc, source, GateOptions, section="[predictor]")) from None
    spec = plugins.spec("predictor", config.predictor.name)
    spec.check_available()
    validate_options(spec, options, context, section="predictor")
    return options


def preflight(config: DarwinConfig, plugins: PluginManager | None = None, *,
              source: Any = None) -> Checked:
    """Build every backend of ``config`` in a scratch directory, list the tasks, read the
    initial variant; raise the :class:`DarwinError` of the first problem."""
    from ..snapshots import read_tree

    plugins = plugins or PluginManager(disable=config.plugins.disable, enable=config.plugins.enable)
    check_options(config, plugins, source)
    checked = Checked()
    initial = config.resolve(config.run.initial)
    if not initial.is_dir():
        raise UserError(f"{config.source or '<config>'}: [run] initial = {str(config.run.initial)!r}: "
                        f"no directory {initial}; fix: point it at the initial variant's code")
    checked.initial_files = len(read_tree(initial, config.run.ignore))
    if not checked.initial_files:
        raise UserError(f"initial variant {initial} holds no file; fix: [run] initial")
    with tempfile.TemporaryDirectory(prefix="darwin-validate-") as scratch:
        context = BuildContext(run_id="", run_dir=Path(scratch), config_dir=config.config_dir,
                               seed=config.run.seed, hook=plugins.hook,
                               services={"config_source": source or config.source})
        built: list[Any] = []
        try:
            for kind, section in sections(config, plugins):
                backend = plugins.create(kind, section.name, section.options, context)
                built.append(backend)
                checked.backends.append((kind, section.name))
                if kind == "benchmark":
                    checked.tasks = _check_tasks(section.name, backend)
            if config.predictor is not None:
                options = _predictor_options(config, plugins, context)
                built.append(plugins.create("predictor", config.predictor.name, options, context))
                checked.backends.append(("predictor", config.predictor.name))
            checked.storage_url = _check_storage(config, plugins, Path(scratch))
        finally:
            for backend in reversed(built):
                _close(backend)
    return checked


def _check_tasks(name: str, benchmark: Any) -> int:
    tasks = benchmark.tasks()
    if not tasks:
        raise UserError(f"benchmark {name!r} has no task; fix its task list")
    ids = [t.id for t in tasks]
    if len(set(ids)) != len(ids):
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        raise UserError(f"benchmark {name!r} has duplicate task ids ({', '.join(dupes[:5])}); fix: make them unique")
    training = [t for t in tasks if not t.holdout]  # held-out tasks are not searched on
    if not training:
        raise UserError(f"benchmark {name!r} holds every task out; fix: keep some for the search")
    return len(training)


def _check_storage(config: DarwinConfig, plugins: PluginManager, scratch: Path) -> str:
    """Check the configured store: its options always; a remote one (``mongodb://``, ``s3://``)
    is opened, to find an unreachable server now. A ``file://`` store is not opened (that would
    create its files): it is created with the run."""
    from ..rundir import open_storage

    url = config.storage.url or (scratch / "store").as_uri()
    url = url.replace("{run_id}", "darwin-validate").replace("{run_dir}", str(scratch))
    spec = plugins.registries["storage"].for_url(url)  # type: ignore[attr-defined]
    spec.check_available()
    if spec.name == "file" and config.storage.url:
        context = BuildContext(config_dir=config.config_dir, services={"config_source": config.source})
        validate_options(spec, {**config.storage.options, "url": url}, context, section="storage")
    else:
        _close(open_storage(plugins, url, config.storage.options, run_id="darwin-validate",
                            run_dir=scratch, config_dir=config.config_dir))
    return config.storage.url or "file:// in the run directory"


def _close(backend: Any) -> None:
    for name in ("close", "shutdown"):
        method = getattr(backend, name, None)
        if callable(method):
            try:
                method()
            except DarwinError:
                pass
            return
