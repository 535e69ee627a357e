"""Predictor gating: skip attempts a predictor deems unlikely to pay off.

Every attempt's features and outcome go to the replay buffer (``state_replay``). With no
``[predictor]`` configured every attempt runs. With one, the predictor backend (see
``darwin_register_predictors``) is asked before each attempt is paid for: once it has learned
from ``warmup`` finished attempts, an attempt whose ``p_accept`` is below ``threshold`` (or whose
``expected_delta`` is below ``min_expected_delta``) is skipped, except with probability
``exploration``, so the gate keeps seeing outcomes of attempts it would have skipped. Every
decision is recorded on the attempt (``attempt.metadata["gate"]``) and in the replay buffer.

The predictor learns online from every finished attempt; its state is saved in
``state_predictor`` (every ``save_every`` observations and at the end) so a resumed or
warm-started run carries it. Attempts the saved state has not seen are replayed into it.

With ``when = "after"`` the gate decides after the generate step instead, before evaluation: the
review step (:mod:`darwin_core.admission`) hands the change to :meth:`LearningGate.review`, and
the change is evaluated (a second executor job) only if the gate lets it through. The predictor then also sees the change's ``patch_*``
features (:mod:`darwin_core.patch_features`); a change whose code equals an already
recorded variant is skipped as a ``duplicate`` (``skip_duplicates``), and one that repeats an
edit already evaluated without improving anything as a ``failed_edit``
(``skip_failed_edits``). Generation is paid for either way; evaluation is what this gate saves.

``[predictor]`` keys: ``name`` (the backend), the gate's keys above, and the backend's options.
"""

from __future__ import annotations

import base64
import math
import random
import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from darwin_hookspecs import Attempt, BuildContext, NotFoundError, PluginError, Predictor, Variant

from .archive import Archive
from .calibration import brier_score, roc_auc
from .config import ConfigError, DarwinConfig, format_validation_error
from .features import History, attempt_features
from .patch_features import Patch, patch_features
from .replay import SKIPPED_OUTCOME, ReplayBuffer, ReplayRecord, new_record, outcome_of
from .store import RunStore

STATE_COLLECTION = "state_predictor"
STATE_KEY = "gate"


class Gate:
    """The default gate: lets every attempt through and learns nothing."""

    def decide(self, attempt: Attempt, parent: Variant, archive: Archive) -> tuple[bool, dict[str, Any]]:
        """Return ``(run_it, decision record)``."""
        return True, {}

    def review(self, attempt: Attempt, parent: Variant, archive: Archive, patch: Patch) -> tuple[bool, dict[str, Any]]:
        """After the generate step (only when :attr:`reviews`): return ``(evaluate it, decision record)``."""
        return True, {}

    reviews: bool = False
    """Whether this gate reviews changes after the generate step (:meth:`review`); when it does not,
    the review step admits every change and an attempt is generated and evaluated in one
    executor job."""

    def observe(self, attempt: Attempt, parent: Variant, child: Variant, archive: Archive) -> None:
        """Learn from a finished attempt."""

    def save(self) -> None:
        """Persist learned state with the run."""


class GateOptions(BaseModel):
    """The gate's keys of the ``[predictor]`` section."""

    model_config = ConfigDict(extra="forbid")
    threshold: float = Field(0.2, ge=0.0, le=1.0)
    """Skip attempts whose predicted probability of an accepted child is below this."""
    min_expected_delta: float | None = None
    """Also skip attempts whose predicted score change is below this (``None``: ignore it)."""
    exploration: float = Field(0.1, ge=0.0, le=1.0)
    """Probability of running an attempt the gate would skip."""
    warmup: int = Field(20, ge=0)
    """Finished attempts to learn from before the gate skips anything."""
    save_every: int = Field(10, ge=1)
    """Save the predictor's state every this many observations (and at the end)."""
    objective: Literal["accepted", "improved"] = "accepted"
    """What the predictor learns (its ``p_accept``): an accepted child, or a child that
    improved on its parent (scored higher, evaluated on every stage)."""
    when: Literal["before", "after"] = "before"
    """``before`` the generate step (saves the proposal and its evaluation) or ``after`` it, before
    evaluation (sees the change itself; saves evaluation only)."""
    skip_duplicates: bool = True
    """With ``when = "after"``: skip a change whose code equals a recorded variant's."""
    skip_failed_edits: int = Field(1, ge=0)
    """With ``when = "after"``: skip a change whose edit (the same removed and added lines, on
    whatever parent) was evaluated this many times before and never improved its parent
    (0: never)."""


class LearningGate(Gate):
    """Records every attempt in the replay buffer; gates through a predictor when one is set."""

    def __init__(
        self,
        store: RunStore,
        *,
        run_id: str,
        seed: int,
        generator: str,
        model: str = "",
        predictor: Predictor | None = None,
        predictor_name: str = "",
        options: GateOptions | None = None,
        replay_in_memory: int | None = 1000,
    ) -> None:
        self.store = store
        self.run_id = run_id
        self.seed = seed
        self.generator = generator
        self.model = model
        self.predictor = predictor
        self.predictor_name = predictor_name
        self.options = options or GateOptions()
        self.replay = ReplayBuffer(store, keep=replay_in_memory)
        self.history = History(self.replay.records())
        self._pending: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        self._observed: list[str] = []  # replay keys the predictor has learned from, in order
        self._seen: set[str] = set()
        self._since_save = 0
        self._state_exists = False
        if predictor is not None:
            self._restore()
        self.replay.trim()  # read whole once at start-up (tallies, replay into the predictor)

    # ----------------------------------------------------------------- state

    def _restore(self) -> None:
        """Load the saved predictor state, then replay what it has not seen."""
        assert self.predictor is not None
        try:
            value, _ = self.store.get(STATE_COLLECTION, STATE_KEY)
        except NotFoundError:
            value = None
        self._state_exists = value is not None
        if value is not None and value.get("backend") == self.predictor_name:
            self._call("load_state", base64.b64decode(value["state"]))
            self._observed = list(value.get("observed", []))
            self._seen = set(self._observed)
        for record in self.replay.trainable():
            if record.key not in self._seen and self._teaches(record):
                assert record.outcome is not None
                self._learn(record.key, record.features, record.outcome)

    def save(self) -> None:
        if self.predictor is None:
            return
        state = self._call("state")
        value = {
            "backend": self.predictor_name, "format": 1,
            "state": base64.b64encode(state).decode("ascii"),
            "observations": len(self._observed), "observed": list(self._observed),
            "metrics": {k: v for k, v in self._call("metrics").items() if math.isfinite(v)},
            "saved_at": time.time(),
        }
        self.store.put(STATE_COLLECTION, STATE_KEY, value, create=not self._state_exists)
        self._state_exists = True
        self._since_save = 0

    @property
    def observations(self) -> int:
        return len(self._observed)

    def _call(self, method: str, *args: Any) -> Any:
        try:
            return getattr(self.predictor, method)(*args)
        except Exception as exc:  # noqa: BLE001 - a broken predictor is named
            if isinstance(exc, (PluginError, ConfigError)):
                raise
            raise PluginError(
                f"predictor {self.predictor_name!r} failed in {method}: {type(exc).__name__}: "
                f"{exc}; fix: upgrade the backend or remove the [predictor] section"
            ) from exc

    # ------------------------------------------------------------- decisions

    @property
    def reviews(self) -> bool:  # type: ignore[override]
        return self.predictor is not None and self.options.when == "after"

    def decide(self, attempt: Attempt, parent: Variant, archive: Archive) -> tuple[bool, dict[str, Any]]:
        features = attempt_features(attempt, parent, archive, self.history,
                                    generator=self.generator, model=self.model)
        if self.predictor is None or self.reviews:
            self._pending[attempt.id] = (features, {})
            return True, {}
        return self._gate(attempt, features, duplicate_of=None)

    def review(self, attempt: Attempt, parent: Variant, archive: Archive, patch: Patch) -> tuple[bool, dict[str, Any]]:
        features, _ = self._pending.get(attempt.id) or (
            attempt_features(attempt, parent, archive, self.history, generator=self.generator, model=self.model), {})
        signature = patch.signature
        features = {**features, **patch_features(patch, attempt.target, self.history.signature_rates(signature)),
                    "patch_signature": signature}
        duplicate = patch.duplicate_of if self.options.skip_duplicates else None
        tally = self.history.by_signature.get(signature)
        limit = self.options.skip_failed_edits
        repeat = bool(limit and tally is not None and tally.improved == 0 and tally.n >= limit)
        return self._gate(attempt, features, duplicate_of=duplicate, failed_edit=repeat)

    def _gate(self, attempt: Attempt, features: dict[str, Any], duplicate_of: str | None,
              failed_edit: bool = False) -> tuple[bool, dict[str, Any]]:
        """Predict, decide, record the decision; skipped attempts go to the replay buffer now."""
        prediction = self._call("predict", [features])[0]
        opts = self.options
        ready = self.observations >= opts.warmup
        low = prediction.p_accept < opts.threshold or (
            opts.min_expected_delta is not None and prediction.expected_delta < opts.min_expected_delta
        )
        if duplicate_of is not None:
            verdict = "duplicate"
        elif failed_edit:
            verdict = "failed_edit"
        elif not ready:
            verdict = "warmup"
        elif not low:
            verdict = "run"
        elif random.Random(f"{self.seed}:gate:{attempt.id}").random() < opts.exploration:
            verdict = "explore"
        else:
            verdict = "skip"
        decision = {
            "predictor": self.predictor_name, "decision": verdict, "ready": ready,
            "stage": "after_generation" if self.reviews else "before_generation",
            "p_accept": float(prediction.p_accept), "expected_delta": float(prediction.expected_delta),
            "threshold": opts.threshold, "min_expected_delta": opts.min_expected_delta,
            "observations": self.observations, "objective": opts.objective,
        }
        if duplicate_of is not None:
            decision["duplicate_of"] = duplicate_of
        if verdict in ("skip", "duplicate", "failed_edit"):
            self._pending.pop(attempt.id, None)
            record = new_record(self.run_id, attempt, features, decision, time.time())
            record.outcome = dict(SKIPPED_OUTCOME)
            self.replay.add(record)
            return False, decision
        self._pending[attempt.id] = (features, decision)
        return True, decision

    def observe(self, attempt: Attempt, parent: Variant, child: Variant, archive: Archive) -> None:
        pending = self._pending.pop(attempt.id, None)
        if pending is None:  # decided in an earlier process: rebuild what we can
            pending = (attempt_features(attempt, parent, archive, self.history,
                                        generator=self.generator, model=self.model),
                       dict(attempt.metadata.get("gate") or {}))
        features, decision = pending
        record = new_record(self.run_id, attempt, features, decision, time.time())
        record.outcome = outcome_of(parent, child, archive.last_stage, archive.objective)
        record = self.replay.add(record)
        self.history.add(record)
        if self.predictor is None or record.key in self._seen or not self._teaches(record):
            return
        assert record.outcome is not None
        self._learn(record.key, record.features, record.outcome)
        self._since_save += 1
        if self._since_save >= self.options.save_every:
            self.save()

    def _teaches(self, record: ReplayRecord) -> bool:
        """An after-generation gate learns only from attempts it reviewed (a change that was
        evaluated); a before-generation gate from every attempt that ran."""
        if not record.trainable:
            return False
        return not self.reviews or record.decision.get("stage") == "after_generation"

    def _learn(self, key: str, features: dict[str, Any], outcome: dict[str, Any]) -> None:
        self._call("observe", features, learned_outcome(outcome, self.options.objective))
        self._observed.append(key)
        self._seen.add(key)


def learned_outcome(outcome: dict[str, Any], objective: str) -> dict[str, Any]:
    """The outcome as the predictor sees it: with ``objective = "improved"``, ``accepted``
    means "improved on its parent"."""
    if objective == "improved":
        return {**outcome, "accepted": outcome.get("failure_kind") is None}
    return outcome


def build_gate(config: DarwinConfig, plugins: Any, context: BuildContext, store: RunStore) -> Gate:
    """The run's gate, from its ``[predictor]`` section (``None``: record only, never skip)."""
    section = config.predictor
    predictor, options, name = None, GateOptions(), ""
    if section is not None:
        backend_options = section.options
        gate_keys = {k: backend_options.pop(k) for k in list(backend_options) if k in GateOptions.model_fields}
        try:
            options = GateOptions.model_validate(gate_keys)
        except ValidationError as exc:
            raise ConfigError(format_validation_error(exc, config.source, GateOptions, section="[predictor]")) from None
        name = section.name
        predictor = plugins.create("predictor", name, backend_options, context)
    return LearningGate(
        store, run_id=store.run_id, seed=config.run.seed, generator=config.generator.name,
        model=str(config.generator.options.get("model", "")), predictor=predictor,
        predictor_name=name, options=options, replay_in_memory=config.run.replay_in_memory,
    )


# ------------------------------------------------------------------- reporting


def learning_status(store: RunStore) -> dict[str, Any]:
    """What ``darwin status`` shows about the replay buffer, the gate and the predictor.

    Calibration (Brier) and discrimination (AUC) are measured on held-out attempts: those whose
    prediction was made, after warm-up, before their outcome was known to the predictor.
    """
    replay = ReplayBuffer(store)
    if not len(replay):
        return {}
    decisions: dict[str, int] = {}
    probabilities: list[float] = []
    outcomes: list[bool] = []
    delta_errors: list[float] = []
    for record in replay.records():
        verdict = record.decision.get("decision")
        if verdict:
            decisions[verdict] = decisions.get(verdict, 0) + 1
        if record.trainable and record.decision.get("ready") and "p_accept" in record.decision:
            assert record.outcome is not None
            probabilities.append(float(record.decision["p_accept"]))
            objective = str(record.decision.get("objective", "accepted"))
            outcomes.append(bool(learned_outcome(record.outcome, objective)["accepted"]))
            delta_errors.append(abs(float(record.decision.get("expected_delta", 0.0))
                                    - float(record.outcome.get("score_delta", 0.0))))
    status: dict[str, Any] = {
        "replay_records": len(replay),
        "gate_decisions": decisions,
    }
    try:
        state, _ = store.get(STATE_COLLECTION, STATE_KEY)
    except NotFoundError:
        state = None
    if state is not None or probabilities:
        brier, auc = brier_score(probabilities, outcomes), roc_auc(probabilities, outcomes)
        status.update({
            "predictor": state.get("backend") if state else None,
            "predictor_observations": state.get("observations") if state else 0,
            "predictor_heldout": len(probabilities),
            "predictor_brier": round(brier, 4) if brier is not None else None,
            "predictor_auc": round(auc, 4) if auc is not None else None,
            "predictor_delta_mae": round(sum(delta_errors) / len(delta_errors), 4) if delta_errors else None,
        })
        if outcomes:  # what always predicting the observed rate would score: the bar to beat
            rate = sum(outcomes) / len(outcomes)
            status["predictor_base_rate"] = round(rate, 4)
            status["predictor_base_brier"] = round(rate * (1 - rate), 4)
    return status
