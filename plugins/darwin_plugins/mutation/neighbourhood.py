"""A parent's neighbourhood: every single edit, in a deterministic priority order.

Each edit has a key stable across a lineage (file, line, operator, occurrence, alternative).
Its priority is a weighted random key (Efraimidis-Spirakis: ``log(u) / w`` with ``u`` a hash
of the run's seed and the edit's key), so sorting by it samples edits without replacement in
proportion to ``w``: the family's weight shared by its edits (in proportion to their near-miss
priors, :mod:`.priors`), times the line's suspiciousness
(executed by the parent's failing tasks: GenProg's fault localisation). Edits already tried on
an ancestor come later (their priority times ``tried_delay``; ``inf``: after every fresh edit). The ``k``-th valid, new mutant is the ``k``-th attempt's child.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from .idioms import overrides as idiom_priors
from .operators import ParsedModule, Site, apply_edits
from .priors import complement, multiplier


@dataclass
class Edit:
    rel: str
    site: Site
    alt: int
    key: str
    weight: float
    priority: float

    @property
    def short(self) -> str:
        return hashlib.sha1(self.key.encode()).hexdigest()[:10]

    @property
    def description(self) -> str:
        return self.site.alternatives[self.alt][0]


@dataclass
class Neighbourhood:
    edits: list[Edit]
    sources: dict[str, str]
    parsed: dict[str, ParsedModule]
    valid: list[tuple[int, str]] = field(default_factory=list)
    """``(index in edits, mutated source)`` of the valid, distinct mutants found so far."""
    scanned: int = 0
    seen: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    literals: list = field(default_factory=list)
    """Numeric literals a perturbation may change (:func:`.perturb.literals`)."""
    restricted: bool = False
    """Whether evolve blocks or regions restrict the editable code."""
    pairs: Any = None
    """The two-edit sequence (:mod:`.pairs`)."""
    turns: list[tuple[bool, int]] = field(default_factory=list)
    """Attempt ``k``'s ``(is_pair, index)`` once pairs are on (:func:`.pairs.slot`)."""
    turn_lock: threading.Lock = field(default_factory=threading.Lock)
    suspicion: dict[str, dict[int, float]] = field(default_factory=dict)
    """``{file: {line: weight}}``: the line weights the order was built with (empty: no coverage)."""
    focus: Any = None
    """Where the pairs come from and when they start (:func:`.focus.plan`)."""
    codes: dict[int, str | None] = field(default_factory=dict)
    """Mutants made ahead of :meth:`nth` (:func:`.focus.plan`), by edit index (None: the edit
    does not apply); :meth:`nth` takes them instead of making them again."""
    compiled: dict[int, bool] = field(default_factory=dict)
    """Whether those mutants compile, where already checked."""
    planned: int = 0
    """Edits the focus plan looked at (as if validated first): a pair repeating one of them is
    skipped (:mod:`.repeats`), and :meth:`settle` validates them before a pair's record."""
    bounds: dict[int, tuple[int, int]] = field(default_factory=dict)
    """Where in its file each edit may change code, by edit index (:mod:`.repeats`)."""
    offsets: dict[str, Any] = field(default_factory=dict)
    """Each file's chunk and token offsets (:mod:`.repeats`)."""

    def nth(self, k: int) -> tuple[Edit, str] | None:
        """The ``k``-th valid mutant whose code differs from the parent and from earlier ones."""
        with self.lock:
            while len(self.valid) <= k and self.scanned < len(self.edits):
                index = self.scanned
                self.scanned += 1
                edit = self.edits[index]
                new = self.code(index)  # made ahead by the focus plan, or now
                compiles = new is not None and self.compiles(index, new)
                self.codes.pop(index, None)
                self.compiled.pop(index, None)
                if new is None or not compiles:  # an alternative that yields invalid code is skipped
                    continue
                digest = hashlib.sha1(f"{edit.rel}\0{new}".encode()).hexdigest()
                if new == self.sources[edit.rel] or digest in self.seen:
                    continue
                self.seen.add(digest)
                self.valid.append((index, new))
            if k < len(self.valid):
                index, new = self.valid[k]
                return self.edits[index], new
            return None

    def code(self, index: int) -> str | None:
        """Edit ``index``'s mutant, memoised in :attr:`codes` (None: the edit does not apply)."""
        if index not in self.codes:
            edit = self.edits[index]
            try:
                self.codes[index] = apply_edits(self.parsed[edit.rel], [(edit.site, edit.alt)])
            except Exception:  # noqa: BLE001 - an alternative that cannot be built is skipped
                self.codes[index] = None
        return self.codes[index]

    def compiles(self, index: int, new: str | None) -> bool:
        """Whether edit ``index``'s mutant ``new`` compiles (syntax check only; nothing is
        executed), memoised in :attr:`compiled`."""
        if index not in self.compiled:
            try:
                ok = new is not None and compile(new, self.edits[index].rel, "exec") is not None
            except Exception:  # noqa: BLE001 - an alternative that yields invalid code is skipped
                ok = False
            self.compiled[index] = ok
        return self.compiled[index]

    def settle(self) -> int:
        """``len(valid)`` once the edits the focus plan looked at are validated (what validating
        them first gave)."""
        while self.scanned < self.planned and self.nth(len(self.valid)) is not None:
            pass
        return len(self.valid)

    def tried_before(self, k: int) -> list[str]:
        """Short keys of the mutants ``0..k-1`` (what earlier siblings tried)."""
        return [self.edits[i].short for i, _ in self.valid[:k]]


def suspiciousness(coverage: list[dict[str, list[int]]]) -> dict[str, dict[int, float]]:
    """``{file: {line: 1 + share of failing tasks executing it}}``."""
    counts = _counts(coverage)
    n = max(len(coverage), 1)
    return {rel: {line: 1.0 + c / n for line, c in per.items()} for rel, per in counts.items()}


def ochiai(failing: list[dict[str, list[int]]], passing: list[dict[str, list[int]]],
           floor: float = 0.1) -> dict[str, dict[int, float]]:
    """``{file: {line: floor + Ochiai}}`` for the lines a failing task executes; Ochiai is
    ``failed(l) / sqrt(failed * (failed(l) + passed(l)))`` (1: only failing tasks run the line)."""
    bad, good = _counts(failing), _counts(passing)
    total = max(len(failing), 1)
    return {rel: {line: floor + c / math.sqrt(total * (c + good.get(rel, {}).get(line, 0)))
                  for line, c in per.items()} for rel, per in bad.items()}


def _counts(coverage: list[dict[str, list[int]]]) -> dict[str, dict[int, int]]:
    counts: dict[str, dict[int, int]] = {}
    for cov in coverage:
        for rel, lines in cov.items():
            per = counts.setdefault(rel, {})
            for line in set(lines):
                per[line] = per.get(line, 0) + 1
    return counts


def build(
    parsed: dict[str, ParsedModule], sources: dict[str, str], *, seed: int,
    family_weights: dict[str, float], coverage: list[dict[str, list[int]]],
    uncovered_weight: float, tried: set[str], keep: "callable[[str, Site], bool]",  # type: ignore[valid-type]
    sharpness: float = 1.0, tried_delay: float = math.inf, share: str = "family",
    passing: list[dict[str, list[int]]] | None = None, localise: str = "failing",
    complements: float = 1.0, idioms: bool = False,
) -> Neighbourhood:
    raw: list[tuple[str, Site, int, str]] = []
    fixed: dict[tuple[int, int], float] = {}  # (id(site), alternative) -> prior in place of its own (:mod:`.idioms`)
    for rel in sorted(parsed):
        occurrence: dict[tuple[int, str], int] = {}
        if idioms:
            fixed.update({(id(parsed[rel].sites[i]), alt): p
                          for (i, alt), p in idiom_priors(parsed[rel].module, parsed[rel].sites).items()})
        for site in parsed[rel].sites:
            if site.family not in family_weights or not keep(rel, site):
                continue
            n = occurrence.get((site.line, site.label), 0)
            occurrence[(site.line, site.label)] = n + 1
            for alt, (desc, _make) in enumerate(site.alternatives):
                raw.append((rel, site, alt, f"{rel}:{site.line}:{site.label}:{n}:{desc}"))
    pool: dict[object, float] = {}  # what an edit's weight is shared with: its family, or its site
    priors = [site.priors.get(alt, multiplier(site.family, site.alternatives[alt][0])) for _, site, alt, _ in raw]
    for (_, site, _, _), prior in zip(raw, priors):
        group = site.family if share == "family" else id(site)
        pool[group] = pool.get(group, 0.0) + prior
    lines = ochiai(coverage, passing or []) if localise == "ochiai" else suspiciousness(coverage)
    edits: list[Edit] = []
    for (rel, site, alt, key), prior in zip(raw, priors):
        weight = family_weights[site.family] * prior / pool[site.family if share == "family" else id(site)]
        if complements != 1.0 and complement(site.family, site.alternatives[alt][0]):
            weight *= complements
        if (id(site), alt) in fixed and alt not in site.priors:  # not shared out: the family's share shrinks
            weight *= fixed[(id(site), alt)] / prior
        if lines:
            weight *= lines.get(rel, {}).get(site.line, uncovered_weight)
        if weight <= 0:
            continue
        digest = hashlib.sha256(f"{seed}\0{key}".encode()).digest()
        u = (int.from_bytes(digest[:8], "big") + 0.5) / 2.0**64
        edits.append(Edit(rel, site, alt, key, weight, math.log(u) / weight ** sharpness))
    for edit in edits:
        if edit.short in tried:  # tried on an ancestor: later (last with ``tried_delay = inf``)
            edit.priority = edit.priority * tried_delay if math.isfinite(tried_delay) else edit.priority - 1e12
    edits.sort(key=lambda e: (-e.priority, e.key))
    return Neighbourhood(edits, sources, parsed, suspicion=lines)


class NeighbourhoodCache:
    """Recently used neighbourhoods (validation of their prefix is reused across siblings)."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self.items: OrderedDict[str, Neighbourhood] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str) -> Neighbourhood | None:
        with self.lock:
            item = self.items.get(key)
            if item is not None:
                self.items.move_to_end(key)
            return item

    def put(self, key: str, item: Neighbourhood) -> Neighbourhood:
        with self.lock:
            item = self.items.setdefault(key, item)
            while len(self.items) > self.size:
                self.items.popitem(last=False)
            return item
