"""The plan step: a generation's attempts, chosen and recorded before anything runs.

Parents are drawn by the selection strategy with a generator seeded by ``(seed, generation)``;
each attempt is aimed at a weakness of its parent (:mod:`darwin_core.targeting`). Attempts and
the generation's plan are created durably (or, after a crash, loaded as a first pass made
them), so the same seed gives the same plan. :func:`recover` settles the attempts a crash left
``running``.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from typing import Any

from darwin_hookspecs import Attempt, SelectionStrategy

from . import inspirations, plausible
from .config import DarwinConfig
from .plan_records import plan_of, with_planned
from .record import variant_id_for
from .run import RunHandle
from .targeting import choose_target


def derive_seed(*parts: Any) -> int:
    return random.Random(":".join(str(p) for p in parts)).getrandbits(32)


def counted_attempts(handle: RunHandle) -> int:
    """Attempts that count against ``max_attempts`` (retries do not). The attempts only grow,
    in insertion order: only those added since the last call are looked at (skipping the
    others is done in C by ``islice``); read from their summaries, nothing is decoded."""
    attempts = handle.attempts
    seen, count = handle.cache.get("counted", (0, 0))
    if seen > len(attempts):
        seen, count = 0, 0
    count += sum(1 for key in itertools.islice(attempts, seen, None) if attempts.summary(key).retry_of is None)
    handle.cache["counted"] = (len(attempts), count)
    return count


def sibling_counts(handle: RunHandle, generation: int) -> Counter[str]:
    """Attempts planned on each parent before ``generation`` (retries excluded), kept up to
    date from the generation records, so that planning a generation costs its own size, not
    the run's; counted from every attempt when a generation's record is missing (from the
    attempts' summaries: nothing is decoded)."""
    attempts = handle.attempts
    cached = handle.cache.get("siblings")
    done, counts = cached if cached and cached[0] <= generation else (1, Counter())
    for g in range(done, generation):
        record = handle.generations.get(g)
        if record is None or any(a not in attempts for a in record["attempts"]):
            counts = Counter(a.parent_id for a in attempts.summaries()
                             if a.retry_of is None and a.generation < generation)
            break
        for attempt_id in record["attempts"]:
            attempt = attempts.summary(attempt_id)
            if attempt.retry_of is None and attempt.generation == g:
                counts[attempt.parent_id] += 1
    handle.cache["siblings"] = (generation, counts)
    return counts  # the cache itself: read it, never change it


def _add_attempt(handle: RunHandle, attempt: Attempt) -> Attempt:
    """A planned attempt, held by the handle and, once recorded, by its generation's record
    (:mod:`.plan_records`); the attempt a crashed pass planned under its id if there is one."""
    if attempt.id in handle.attempts:  # planned by a crashed pass (the handle loaded every attempt)
        return handle.attempts[attempt.id]
    handle.attempts[attempt.id] = attempt
    handle.store.unstored.add(attempt.id)
    return attempt


def plan(handle: RunHandle, selector: SelectionStrategy, generation: int) -> list[Attempt]:
    """The attempts of ``generation`` (planned now, or as recorded).

    Each records ``metadata["sibling_index"]``: how many attempts were planned on the same
    parent earlier in the run (generation, then index order), so generators can vary what
    they do for siblings; it is a function of the records, so a resumed run gets the same.
    It also records ``metadata["inspirations"]``, the ids :func:`darwin_core.inspirations.choose`
    picked for it."""
    record = handle.generations.get(generation)
    if record is not None:
        return [handle.attempts[a] for a in record["attempts"] if a in handle.attempts]
    cfg = handle.config.run
    n = cfg.children_per_generation
    if cfg.max_attempts is not None:
        n = min(n, cfg.max_attempts - counted_attempts(handle))
    extra = plausible.remaining(handle)  # past stop_at_score with plausible_extra: from the root
    if extra is not None:
        n = min(n, extra)
    if n <= 0:
        return []
    siblings, here = sibling_counts(handle, generation), Counter[str]()
    if extra is not None and handle.archive.root is not None:
        parents = [handle.archive.root.id] * n
    else:
        parents = selector.select(handle.archive, n, random.Random(f"{cfg.seed}:select:{generation}"))
    planned: list[Attempt] = []
    for index, parent_id in enumerate(parents):
        parent = handle.archive.get(parent_id)
        target = choose_target(parent, random.Random(f"{cfg.seed}:target:{generation}:{index}"))
        metadata: dict[str, Any] = {"sibling_index": siblings[parent_id] + here[parent_id]}
        inspiring = inspirations.choose(handle.archive, parent_id, handle.config.inspirations,
                                        random.Random(f"{cfg.seed}:inspire:{generation}:{index}"))
        if inspiring:
            metadata["inspirations"] = inspiring
        planned.append(_add_attempt(handle, Attempt(
            id=f"g{generation:04d}a{index:03d}", generation=generation, index=index,
            parent_id=parent_id, seed=derive_seed(cfg.seed, generation, index), target=target,
            metadata=metadata,
        )))
        here[parent_id] += 1
    record = with_planned({"generation": generation, "attempts": [a.id for a in planned], "status": "running"},
                          (a for a in planned if a.status == "planned"))
    stored = handle.generations[generation] = handle.store.create_or_load("generations", f"{generation:06d}", record)
    if stored is not record:  # planned by a crashed pass: its attempts are the plan
        for attempt in plan_of(handle.store, stored):
            handle.attempts[attempt.id] = attempt
            handle.store.unstored.add(attempt.id)
    return [handle.attempts[a] for a in stored["attempts"]]


def settle_recorded(handle: RunHandle) -> None:
    """Finish the attempts a crash left ``running`` whose child is recorded, whatever generation
    a resume's limits still reach (the others are retried when their generation is planned)."""
    attempts = handle.attempts
    for key in [a.id for a in attempts.summaries() if a.status == "running"]:
        if variant_id_for(key) in handle.archive:
            attempt = attempts[key]
            attempt.status, attempt.child_id = "finished", variant_id_for(key)
            handle.store.save_attempt(attempt)


def recover(handle: RunHandle, config: DarwinConfig, generation: int, attempts: list[Attempt]) -> list[Attempt]:
    """Settle attempts a crash left ``running``: finish those whose child is recorded, retry
    the others once (as a new attempt, keeping the original's seed, target and sibling index)."""
    result: list[Attempt] = []
    for attempt in attempts:
        if attempt.status != "running":
            result.append(attempt)
            continue
        child_id = variant_id_for(attempt.id)
        if child_id in handle.archive:
            attempt.status, attempt.child_id = "finished", child_id
            handle.store.save_attempt(attempt)
            result.append(attempt)
            continue
        attempt.status = "interrupted"
        retries = int(attempt.metadata.get("retry", 0))
        if retries >= config.run.retries_on_interrupt:
            attempt.status = "abandoned"
            attempt.error = "interrupted again after its retry; not retried further"
        handle.store.save_attempt(attempt)
        result.append(attempt)
        if attempt.status != "interrupted":
            continue
        metadata: dict[str, Any] = {"retry": retries + 1}
        for key in ("sibling_index", "inspirations"):
            if key in attempt.metadata:
                metadata[key] = attempt.metadata[key]
        stored = _add_attempt(handle, Attempt(
            id=f"{attempt.id.split('r')[0]}r{retries + 1}", generation=attempt.generation,
            index=attempt.index, parent_id=attempt.parent_id, seed=attempt.seed,
            target=attempt.target, retry_of=attempt.id, metadata=metadata,
        ))
        record = handle.generations[generation]
        if stored.id not in record["attempts"]:
            record = with_planned({**record, "attempts": [*record["attempts"], stored.id]}, [stored])
            handle.store.save_generation(record, create=False)
            handle.generations[generation] = record
        result.append(stored)
    return result
