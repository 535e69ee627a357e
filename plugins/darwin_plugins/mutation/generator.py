"""Generator ``mutation``: one offline genetic-improvement edit per child.

Sites are weighted toward the lines the targeted failing task executed (GenProg's fault
localisation): covered lines weigh 1, others ``uncovered_weight`` (0.01). A family is drawn first
(so frequent node kinds do not drown rare operators), then a site. Parsed modules are cached by
content, so a mutant costs milliseconds.
"""

from __future__ import annotations

import fnmatch
import hashlib
import random
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import libcst as cst
from pydantic import BaseModel, ConfigDict, Field

from darwin_hookspecs import BuildContext, GenerationContext, Proposal

from .operators import FAMILIES, ParsedModule, apply_site, parse_module


class MutationOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    include: list[str] = Field(default_factory=lambda: ["*.py"])
    """Glob patterns of the files that may be mutated (relative to the variant)."""
    exclude: list[str] = Field(default_factory=lambda: ["test_*.py", "*_test.py", "tests/*", "conftest.py", "setup.py"])
    """Glob patterns of files never mutated (the tests themselves, by default)."""
    families: list[str] = Field(default_factory=lambda: list(FAMILIES))
    """Mutation families to draw from (comparison, arithmetic, boolean, constant...)."""
    uncovered_weight: float = Field(0.01, ge=0.0)
    """Weight of a site the target task's coverage does not reach (covered sites weigh 1)."""
    max_tries: int = Field(20, ge=1)
    """Mutants tried before the attempt gives up (a mutant that does not parse is redrawn)."""


class _Cache:
    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.items: OrderedDict[str, ParsedModule | None] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, source: str) -> ParsedModule | None:
        key = hashlib.sha1(source.encode()).hexdigest()
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        try:
            parsed: ParsedModule | None = parse_module(source)
        except (cst.ParserSyntaxError, RecursionError):
            parsed = None
        with self.lock:
            self.items[key] = parsed
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return parsed


class MutationGenerator:
    def __init__(self, options: MutationOptions) -> None:
        unknown = set(options.families) - set(FAMILIES)
        if unknown:
            from darwin_hookspecs import UserError

            raise UserError(f"[generator] families: unknown {sorted(unknown)}; known: {', '.join(FAMILIES)}")
        self.options = options
        self.cache = _Cache()

    def _files(self, root: Path) -> list[str]:
        files = []
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root).as_posix()
            if not path.is_file() or path.is_symlink():
                continue
            name_or_rel = (path.name, rel)
            if not any(fnmatch.fnmatch(x, p) for p in self.options.include for x in name_or_rel):
                continue
            if any(fnmatch.fnmatch(x, p) for p in self.options.exclude for x in name_or_rel):
                continue
            files.append(rel)
        return files

    def propose(self, context: GenerationContext) -> Proposal:
        rng = random.Random(context.seed)
        coverage = context.target.coverage or {}
        candidates: list[tuple[str, str, ParsedModule, Any, float]] = []
        for rel in self._files(context.parent_dir):
            source = (context.parent_dir / rel).read_text(encoding="utf-8", errors="replace")
            parsed = self.cache.get(source)
            if parsed is None:
                continue
            covered = set(coverage.get(rel, ()))
            for site in parsed.sites:
                if site.family not in self.options.families:
                    continue
                if coverage:
                    weight = 1.0 if site.line in covered else self.options.uncovered_weight
                else:
                    weight = 1.0
                if weight > 0:
                    candidates.append((rel, source, parsed, site, weight))
        if not candidates:
            return Proposal(changes={}, improvement_type="mutation:none",
                            description="no mutable site in the variant's Python files")
        # a family weighs as much as its best site: families present only in code the
        # target does not exercise are rarely drawn, and frequent node kinds do not dominate
        family_weight: dict[str, float] = {}
        for c in candidates:
            family_weight[c[3].family] = max(family_weight.get(c[3].family, 0.0), c[4])
        families = sorted(family_weight)
        for _ in range(self.options.max_tries):
            family = rng.choices(families, weights=[family_weight[f] for f in families], k=1)[0]
            pool = [c for c in candidates if c[3].family == family]
            rel, source, parsed, site, _w = rng.choices(pool, weights=[c[4] for c in pool], k=1)[0]
            try:
                new_source = apply_site(parsed, site, rng)
                compile(new_source, rel, "exec")  # syntax check only; nothing is executed
            except Exception:  # noqa: BLE001 - an operator that yields invalid code is skipped
                continue
            if new_source != source:
                return Proposal(
                    changes={rel: new_source},
                    improvement_type=f"mutation:{family}",
                    description=f"{site.label} mutation in {rel} line {site.line}",
                    metadata={"file": rel, "line": site.line, "family": family, "operator": site.label},
                )
        return Proposal(changes={}, improvement_type="mutation:none",
                        description=f"no valid mutant after {self.options.max_tries} tries")


def create(options: MutationOptions, context: BuildContext) -> MutationGenerator:
    return MutationGenerator(options)
