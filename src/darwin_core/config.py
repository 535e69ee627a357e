"""Run configuration: a TOML file validated by pydantic models that reject unknown keys.

Backend sections (``[generator]``, ``[sandbox]``...) hold a ``name`` plus the backend's own
keys, which the backend's options model validates once the backend is known.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from darwin_hookspecs import UserError

from .acceptance import AcceptanceSection
from .inspirations import InspirationsSection

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class ConfigError(UserError):
    """The configuration is wrong; the message names the file, the key and the fix."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BackendSection(BaseModel):
    """``name`` picks the backend; every other key is an option of that backend."""

    model_config = ConfigDict(extra="allow")
    name: str

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class StorageSection(BaseModel):
    """``url`` picks the backend by scheme; other keys are options of that backend."""

    model_config = ConfigDict(extra="allow")
    url: str = ""
    retry_for_s: float = Field(60.0, gt=0)
    """How long to retry an unreachable store before stopping the run (resumable)."""
    lease_ttl_s: float = Field(30.0, gt=0)
    """The writer lease's ttl: after a crash, MongoDB and S3 runs resume once it has passed."""

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class StageConfig(_Strict):
    """One evaluation stage.

    :param tasks: How many tasks: a count, a fraction of all tasks, or ``"all"``.
    :param threshold: Weighted pass rate (over the tasks evaluated so far) needed to go on.
    :param score_threshold: The objective's value on those tasks needed to go on (at least it
        when maximising, at most it when minimising); ``None``: no such condition.
    """

    tasks: Union[int, float, Literal["all"]] = "all"
    threshold: float = Field(0.0, ge=0.0, le=1.0)
    score_threshold: float | None = None


class EvaluationSection(_Strict):
    stages: list[StageConfig] = Field(default_factory=lambda: [StageConfig()])
    include_target: bool = True
    """Put the targeted task in the first stage."""
    skip_duplicates: bool = True
    """Record a child whose code equals an evaluated variant's without evaluating it (turn off
    for nondeterministic benchmarks)."""
    repeats: int = Field(1, ge=1, le=100)
    """Evaluate every task this many times (each with its own ``DARWIN_SEED``); scores are means."""
    select_by: Literal["mean", "lower_bound"] = "mean"
    """With repeats: rank variants by the mean objective, or by the mean one standard error worse."""


class RunSection(_Strict):
    name: str = "darwin"
    seed: int = 0
    initial: Path
    """Directory holding the initial variant's code (relative to the config file)."""
    generations: int = Field(10, ge=0)
    children_per_generation: int = Field(2, ge=1)
    max_attempts: int | None = Field(None, ge=0)
    stop_at_score: float | None = None
    """Stop once the best score reaches this (in the objective's direction)."""
    plausible_extra: int = Field(0, ge=0)
    """Once ``stop_at_score`` is reached, this many more attempts (parents: the root) before
    stopping; score ties then go to the fewest edits from the root, then the behaviour closest to
    the root's (docs/search.md)."""
    time_budget_s: float | None = Field(None, gt=0)
    archive_policy: Literal["keep_all", "keep_better"] = "keep_all"
    keep_better_margin: float = Field(0.1, ge=0.0)
    retries_on_interrupt: int = Field(1, ge=0)
    lookahead: int = Field(0, ge=0, le=1)
    """Generations open at once beyond the oldest (0: one at a time; 1: the next generation's
    model calls overlap this one's evaluations, see docs/engine.md#pipelining)."""
    replay_in_memory: int = Field(1000, ge=0)
    """Replay records (``state_replay``, the gate's) held in memory, the newest; older ones stay
    in the run's storage (the gate's tallies are kept up to date without them)."""
    ignore: list[str] = Field(
        default_factory=lambda: ["__pycache__", ".git", ".pytest_cache", "*.pyc", ".darwin"]
    )

    @model_validator(mode="after")
    def _plausible_needs_a_target(self) -> "RunSection":
        if self.plausible_extra and self.stop_at_score is None:
            raise ValueError(f"run.plausible_extra = {self.plausible_extra} needs run.stop_at_score (the extra "
                             "attempts start once it is reached); fix: set run.stop_at_score or "
                             "run.plausible_extra = 0")
        return self


class PluginsSection(BaseModel):
    """Which plugins a run loads, and ``[plugins.NAME]`` tables: options of plugin ``NAME``
    (validated by the plugin's own ``darwin_options`` model, handed to its ``darwin_configure``)."""

    model_config = ConfigDict(extra="allow")
    disable: list[str] = Field(default_factory=list)
    """Plugins not to load (built-in or entry-point names); ``DARWIN_DISABLE_PLUGINS`` adds to it."""
    enable: list[str] = Field(default_factory=list)
    """Entry-point plugins to load even in an embedded run (which otherwise loads only the
    built-in plugins and the ones it passes); an error names any that is not installed."""

    @model_validator(mode="after")
    def _tables(self) -> "PluginsSection":
        for key, value in (self.model_extra or {}).items():
            if not isinstance(value, dict):
                raise ValueError(f"plugins.{key} must be a table [plugins.{key}] of that plugin's "
                                 "options (or a key disable/enable)")
        return self

    @property
    def options(self) -> dict[str, dict[str, Any]]:
        """``{plugin name: its [plugins.NAME] table}``."""
        return {k: dict(v) for k, v in (self.model_extra or {}).items()}


class BudgetSection(_Strict):
    """Hard limits on model spend (``None``: unlimited); see ``darwin_core.ledger``."""

    tokens: int | None = Field(None, ge=0)
    usd: float | None = Field(None, ge=0)
    wall_time_s: float | None = Field(None, gt=0)


class DarwinConfig(_Strict):
    run: RunSection
    generator: BackendSection = Field(default_factory=lambda: BackendSection(name="mutation"))
    sandbox: BackendSection = Field(default_factory=lambda: BackendSection(name="local"))
    benchmark: BackendSection = Field(default_factory=lambda: BackendSection(name="custom"))
    storage: StorageSection = Field(default_factory=StorageSection)
    executor: BackendSection = Field(default_factory=lambda: BackendSection(name="local"))
    selection: BackendSection = Field(
        default_factory=lambda: BackendSection(name="score_child_prop")
    )
    predictor: BackendSection | None = None
    memory: BackendSection | None = None
    """The memory backend (``name = "reasoning-bank"``; ``darwin plugins`` lists them) and its
    options; none when absent."""
    evaluation: EvaluationSection = Field(default_factory=EvaluationSection)
    inspirations: InspirationsSection = Field(default_factory=InspirationsSection)
    acceptance: AcceptanceSection = Field(default_factory=AcceptanceSection)
    plugins: PluginsSection = Field(default_factory=PluginsSection)
    budget: BudgetSection = Field(default_factory=BudgetSection)

    # set by load_config, not by the file
    source: Path | None = Field(None, exclude=True)

    @property
    def config_dir(self) -> Path:
        return self.source.parent if self.source else Path.cwd()

    def resolve(self, path: Path | str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.config_dir / p).resolve()


def load_config(path: Path | str) -> DarwinConfig:
    """Read and validate a TOML config file; raise :class:`ConfigError` naming what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found; fix: pass the path of a TOML file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the syntax at that place") from None
    return config_from_dict(data, source=path.resolve())


def config_from_dict(data: dict[str, Any], *, source: Path | None = None) -> DarwinConfig:
    """Validate a config given as a dict (the Python API's entry point)."""
    if "source" in data:
        raise ConfigError(f"{source or '<config>'}: unknown key 'source' at top level")
    try:
        config = DarwinConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, source, DarwinConfig)) from None
    config.source = source
    return config


def format_validation_error(
    exc: ValidationError, source: Path | str | None, model: type[BaseModel] | None = None,
    section: str = "",
) -> str:
    """One line per problem: file, key, what is wrong, and how to fix it."""
    where = str(source) if source else "<config>"
    lines = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        if section:
            loc = [section, *loc]
        key = ".".join(loc) if loc else "(top level)"
        if err["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, [str(p) for p in err["loc"]][:-1]) if model else []
            hint = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
            lines.append(f"{where}: unknown key '{key}'; fix: remove or correct it{hint}")
        elif err["type"] == "missing":
            lines.append(f"{where}: missing required key '{key}'; fix: add it")
        else:
            lines.append(
                f"{where}: key '{key}': {err['msg']} (got {err.get('input')!r}); fix: correct it"
            )
    return "\n".join(lines)


def _allowed_keys(model: type[BaseModel], path: list[str]) -> list[str]:
    current: Any = model
    for part in path:
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        annotation = field.annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        current = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if current is None:
            return []
    return sorted(k for k in current.model_fields if k != "source")
