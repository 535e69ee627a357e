"""Memory backend ``reasoning-bank``: lessons distilled from finished attempts.

From a child that improved on its parent it keeps what was tried and why it worked (the
change, the tasks it fixed); from the others what failed (the change, the tasks it broke, why it
was rejected). Before each attempt it retrieves the lessons most relevant to the targeted task
(BM25 over the lessons' words, offline, stdlib only) and hands them to the generator as
``GenerationContext.memory`` (the engine attaches the run's memory backend to the hooks
``darwin_memory_record`` / ``darwin_memory_retrieve``).

Lessons persist in the run's storage (collection ``state_reasoning_bank``, carried by warm
starts), so a resumed run remembers them. Turned on per run (the section's keys other than
``name`` are its options, validated before the run)::

    [memory]
    name = "reasoning-bank"
    top_k = 5            # lessons per attempt
    hint_chars = 400     # longest lesson text
"""

from __future__ import annotations

import math
import re
import threading
import time
import zlib
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from darwin_hookspecs import (
    Attempt,
    BuildContext,
    ConflictError,
    MemoryRegistry,
    Objective,
    RunInfo,
    Target,
    Variant,
    hookimpl,
)

COLLECTION = "state_reasoning_bank"
NAME = "reasoning-bank"
TOP_K = 5
HINT_CHARS = 400
QUERY_LOG_CHARS = 1500
_BLOB_MAGIC = b"DZ1\n"  # the engine's compressed-blob prefix
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+")


class ReasoningBankOptions(BaseModel):
    """Keys of the ``[memory]`` section when ``name = "reasoning-bank"``."""

    model_config = ConfigDict(extra="forbid")
    top_k: int = Field(TOP_K, ge=1, le=50)
    """Lessons handed to each attempt."""
    hint_chars: int = Field(HINT_CHARS, ge=50, le=4000)
    """Longest lesson text."""


def tokens(text: str) -> list[str]:
    """Lower-case words, with snake_case words also split into their parts."""
    out: list[str] = []
    for word in _WORD.findall(text):
        word = word.lower()
        out.append(word)
        parts = [p for p in word.split("_") if p]
        if len(parts) > 1:
            out.extend(parts)
    return out


@dataclass
class Lesson:
    """One distilled attempt."""

    key: str
    run_id: str
    attempt_id: str
    worked: bool
    task_id: str | None
    text: str
    """The hint shown to generators."""
    index_text: str
    """What retrieval matches against (the hint plus the target's description and log)."""
    score_delta: float = 0.0
    created_at: float = 0.0


class BM25:
    """Okapi BM25 over a growing set of documents, with an inverted index."""

    def __init__(self, k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.lengths: list[int] = []
        self.postings: dict[str, list[tuple[int, int]]] = {}

    def add(self, words: list[str]) -> None:
        doc = len(self.lengths)
        self.lengths.append(len(words))
        for term, tf in Counter(words).items():
            self.postings.setdefault(term, []).append((doc, tf))

    def scores(self, query: list[str]) -> list[float]:
        n = len(self.lengths)
        result = [0.0] * n
        if n == 0:
            return result
        avg = sum(self.lengths) / n or 1.0
        for term in set(query):
            posting = self.postings.get(term)
            if not posting:
                continue
            idf = math.log(1 + (n - len(posting) + 0.5) / (len(posting) + 0.5))
            for doc, tf in posting:
                norm = self.k1 * (1 - self.b + self.b * self.lengths[doc] / avg)
                result[doc] += idf * tf * (self.k1 + 1) / (tf + norm)
        return result


def _patch_excerpt(storage: Any, patch_ref: str | None, max_lines: int = 6) -> str:
    """The changed lines of a child's diff (``-old`` / ``+new``), or ``""``."""
    if storage is None or not patch_ref:
        return ""
    try:
        payload = storage.get_blob(patch_ref)
    except Exception:  # noqa: BLE001 - a missing diff only makes the lesson shorter
        return ""
    if payload.startswith(_BLOB_MAGIC):
        try:
            payload = zlib.decompress(payload[len(_BLOB_MAGIC):])
        except zlib.error:
            return ""
    lines = [
        line.rstrip() for line in payload.decode("utf-8", "replace").splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    return " | ".join(line[:120] for line in lines[:max_lines])


def distil(run: RunInfo, attempt: Attempt, parent: Variant, child: Variant, storage: Any,
           hint_chars: int = HINT_CHARS) -> Lesson:
    """The lesson of one finished attempt."""
    fixed = sorted(t for t, r in child.task_results.items()
                   if r.passed and t in parent.task_results and not parent.task_results[t].passed)
    broken = sorted(t for t, r in child.task_results.items()
                    if not r.passed and t in parent.task_results and parent.task_results[t].passed)
    objective = Objective.from_dict((run.metadata or {}).get("objective"))
    delta = objective.utility(child.score) - objective.utility(parent.score)  # > 0: better, either direction
    target = attempt.target
    worked = child.status == "accepted" and (delta > 0 or (target is not None and target.task_id in fixed))
    change = child.description or child.improvement_type or "a change"
    excerpt = _patch_excerpt(storage, child.patch_ref)
    aim = f" aimed at {target.description}" if target and target.description else ""
    if worked:
        why = f"it fixed {', '.join(fixed)}" if fixed else f"the score improved by {abs(delta):.3f}"
        text = f"WORKED: {change}{aim}; {why}."
        if broken:
            text += f" It broke {', '.join(broken)}."
    else:
        if child.status in ("error", "invalid", "rejected"):
            why = f"{child.status}: {child.reason or 'no reason given'}"
        elif broken:
            kinds = sorted({child.task_results[t].failure_kind or "fail" for t in broken})
            why = f"it broke {', '.join(broken)} ({', '.join(kinds)})"
        elif delta < 0:
            why = f"the score worsened by {abs(delta):.3f}"
        else:
            why = "it changed no test outcome"
        text = f"FAILED: {change}{aim}; {why}."
    if excerpt:
        text += f" Diff: {excerpt}"
    index_text = " ".join([text, child.improvement_type, *(
        [target.task_id or "", target.description, target.log[-QUERY_LOG_CHARS:]] if target else []
    )])
    return Lesson(
        key=f"{run.run_id}.{attempt.id}", run_id=run.run_id, attempt_id=attempt.id, worked=worked,
        task_id=target.task_id if target else None, text=text[:hint_chars], index_text=index_text,
        score_delta=delta, created_at=time.time(),
    )


def query_text(parent: Variant, target: Target) -> str:
    return " ".join([
        target.task_id or "", target.task_id or "", target.description, target.log[-QUERY_LOG_CHARS:],
        " ".join(parent.failing_tasks),
    ])


@dataclass
class ReasoningBank:
    """The lessons of one run (and of runs it was warm-started from)."""

    storage: Any = None
    top_k: int = TOP_K
    hint_chars: int = HINT_CHARS
    lessons: list[Lesson] = field(default_factory=list)
    index: BM25 = field(default_factory=BM25)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self) -> None:
        if self.storage is None:
            return
        found = []
        for _key, value, _version in self.storage.scan(COLLECTION):
            try:
                found.append(Lesson(**value))
            except TypeError:
                continue  # a lesson of another shape (newer version): ignored, not fatal
        for lesson in sorted(found, key=lambda x: (x.created_at, x.key)):
            self._index(lesson)

    def _index(self, lesson: Lesson) -> None:
        self.lessons.append(lesson)
        self.index.add(tokens(lesson.index_text))

    def record(self, lesson: Lesson) -> None:
        with self.lock:
            if any(x.key == lesson.key for x in self.lessons[-64:]):
                return
            if self.storage is not None:
                try:
                    self.storage.put_record(COLLECTION, lesson.key, asdict(lesson), if_version=None)
                except ConflictError:
                    return  # recorded by an earlier pass of a resumed run
            self._index(lesson)

    def retrieve(self, parent: Variant, target: Target) -> list[str]:
        """The ``top_k`` most relevant lessons, best first (newest first among equals)."""
        with self.lock:
            scores = self.index.scores(tokens(query_text(parent, target)))
            ranked = sorted(
                (i for i, s in enumerate(scores) if s > 0),
                key=lambda i: (-scores[i], -i),
            )
            return [self.lessons[i].text for i in ranked[: self.top_k]]


class ReasoningBankMemory:
    """The memory backend: one bank per run, distilling every finished attempt."""

    def __init__(self, bank: ReasoningBank) -> None:
        self.bank = bank

    def retrieve(self, run: RunInfo, parent: Variant, target: Target) -> list[str]:
        return self.bank.retrieve(parent, target)

    def record(self, run: RunInfo, attempt: Attempt, parent: Variant, child: Variant) -> None:
        self.bank.record(distil(run, attempt, parent, child, self.bank.storage, self.bank.hint_chars))


def create(options: ReasoningBankOptions, context: BuildContext) -> ReasoningBankMemory:
    """The bank of the run's storage (``services["storage"]``), with the lessons it holds."""
    bank = ReasoningBank(storage=context.services.get("storage"), top_k=options.top_k,
                         hint_chars=options.hint_chars)
    bank.load()
    return ReasoningBankMemory(bank)


@hookimpl
def darwin_register_memory(registry: MemoryRegistry) -> None:
    registry.add(NAME, create, options=ReasoningBankOptions,
                 description="Lessons of finished attempts (what worked, what failed), "
                 "retrieved by BM25 for each attempt's target; offline.")
