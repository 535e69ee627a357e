"""The search loop bench_search.py measures: Darwin's selection strategies and generators,
driven the way the engine drives them, with a fast evaluator.

Per generation, ``n`` parents are drawn by the real selection strategy (seeded like the
engine), each attempt is aimed at a failing task of its parent (``choose_target``), told its
``sibling_index`` (earlier attempts on the same parent) and proposed by the real generator; a
changed child is evaluated on every task. Everything the engine's archive policy would do with
``keep_all`` holds: every evaluated child is accepted, an empty proposal is an ``invalid``
child that costs an attempt but no evaluation.

Generated code never runs in this process: the evaluator is a separate process that forks one
child per evaluation and runs the custom benchmark's own test runner in it (per-test
``setitimer`` timeout, coverage of the variant's lines), so an evaluation costs milliseconds
instead of a sandbox start.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from darwin_core.archive import Archive
from darwin_core.plan import derive_seed
from darwin_core.record import ROOT_ID
from darwin_core.plugins import PluginManager
from darwin_core.targeting import choose_target
from darwin_hookspecs import BuildContext, GenerationContext, TaskResult, Variant, to_dict
from bench_search_optim import siblings_before

REPO = Path(__file__).resolve().parents[1]
RUNNER = REPO / "plugins" / "darwin_plugins" / "custom_benchmark" / "runner.py"
MARK = "@@darwin@@"


# ------------------------------------------------------------------ evaluator


def serve() -> None:
    """The evaluator process: one JSON request per line, one JSON answer per line."""
    sys.path.insert(0, str(RUNNER.parent))
    import runner  # noqa: F401 - the benchmark's own runner, loaded once and forked

    for line in sys.stdin:
        request = json.loads(line)
        if request.get("kind") == "evaluator":  # an evaluator.py problem (bench_search_optim)
            from bench_search_optim import serve_one

            print(json.dumps(serve_one(request)), flush=True)
            continue
        out_path = os.path.join(request["dir"], ".results")
        pid = os.fork()
        if pid == 0:  # the child: run the tests of the variant in its directory
            try:
                os.chdir(request["dir"])
                fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
                os.dup2(fd, 1)
                sys.__stdout__ = sys.stdout = os.fdopen(1, "w")
                runner.main(["--coverage", "--timeout", str(request["timeout"]), *request["ids"]])
                sys.stdout.flush()
            finally:
                os._exit(0)
        wait_or_kill(pid, request["timeout"] * len(request["ids"]) + 5)
        records = []
        if os.path.exists(out_path):
            with open(out_path, encoding="utf-8", errors="replace") as fh:
                records = [json.loads(l[len(MARK):]) for l in fh if l.startswith(MARK)]
        print(json.dumps(records), flush=True)


def wait_or_kill(pid: int, timeout: float) -> bool:
    """Reap the forked child ``pid``; kill it once ``timeout`` seconds pass. True if it exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.waitpid(pid, os.WNOHANG)[0]:
            return True
        time.sleep(0.002)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return False


class Evaluator:
    """Talks to the evaluator process."""

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        self.proc = subprocess.Popen([sys.executable, __file__, "--serve"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env)
        self.evaluations = 0

    def run(self, directory: Path, ids: list[str], timeout: float) -> dict[str, dict[str, Any]]:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps({"dir": str(directory), "ids": ids, "timeout": timeout}) + "\n")
        self.proc.stdin.flush()
        self.evaluations += 1
        return {r["id"]: r for r in json.loads(self.proc.stdout.readline())}

    def call(self, request: dict[str, Any]) -> Any:
        """One request of another kind (an evaluator.py call), its JSON answer."""
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        self.evaluations += 1
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)


# ------------------------------------------------------------------ problems


@dataclass
class Problem:
    name: str
    program: Path
    tests: Path
    """Directory holding ``tests/`` laid over each working copy."""
    holdout: Path | None = None
    timeout: float = 0.25
    ids: list[str] = field(default_factory=list)
    holdout_ids: list[str] = field(default_factory=list)
    holdout_files: tuple[str, ...] = ()
    """Test files of ``tests/`` held out (the quickstart's ``test_holdout.py``): never visible."""

    def __post_init__(self) -> None:
        self.ids = _discover(self.tests)
        self.holdout_ids = _discover(self.holdout) if self.holdout else []
        if self.holdout_files:
            held = [i for i in self.ids if i.split("::")[0].rsplit("/", 1)[-1] in self.holdout_files]
            self.ids = [i for i in self.ids if i not in held]
            self.holdout, self.holdout_ids = self.tests, held


def _discover(base: Path) -> list[str]:
    ids = []
    for path in sorted((base / "tests").glob("test_*.py")):
        for line in path.read_text().splitlines():
            if line.startswith("def test_"):
                ids.append(f"tests/{path.name}::{line[4:line.index('(')]}")
    return ids


def _write(files: dict[str, str], tests: Path, directory: Path) -> None:
    if directory.exists():
        shutil.rmtree(directory)
    if (tests / "tests").is_dir():
        shutil.copytree(tests / "tests", directory / "tests")
    else:
        directory.mkdir(parents=True)
    for rel, text in files.items():
        (directory / rel).parent.mkdir(parents=True, exist_ok=True)
        (directory / rel).write_text(text)


def evaluate(evaluator: Evaluator, problem: Problem, files: dict[str, str], scratch: Path,
             holdout: bool = False) -> dict[str, TaskResult]:
    if hasattr(problem, "evaluate_files"):  # an evaluator.py problem
        return problem.evaluate_files(evaluator, files, scratch)  # type: ignore[attr-defined]
    base, ids = (problem.holdout, problem.holdout_ids) if holdout else (problem.tests, problem.ids)
    assert base is not None
    _write(files, base, scratch)
    records = evaluator.run(scratch, ids, problem.timeout)
    results = {}
    for task in ids:
        r = records.get(task, {"status": "crash", "log": "no result"})
        passed = r["status"] == "passed"
        results[task] = TaskResult(task_id=task, passed=passed, score=float(passed),
                                   failure_kind=None if passed else r["status"], log=r.get("log", "")[-1500:],
                                   coverage=r.get("coverage"))
    return results


# ------------------------------------------------------------------ search


class _RecordsView:
    """The run's variant records, as a storage's ``scan`` yields them (the generator's bandit)."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive

    def scan(self, collection: str):  # noqa: ANN201
        if collection == "variants":
            for v in self.archive.variants():
                yield v.id, to_dict(v), ""
        return


@dataclass
class Outcome:
    best: float
    first_at: int
    """Attempts until the final best score was first reached."""
    attempts: int
    evaluations: int
    holdout: float | None
    seconds: float
    distinct: int
    zeros: int = 0
    """Evaluated children scoring 0 (invalid configurations, errors)."""
    ties: int = 0
    """Evaluated children scoring exactly their parent's score."""
    improved: int = 0
    plausible: list[dict[str, Any]] = field(default_factory=list)
    """With ``extra``: every evaluated variant at ``stop_at`` or above, in order found (id, files,
    attempt, edits and prior of its lineage, coverage per task), and the root's as ``"root"``."""


def search(problem: Any, evaluator: Evaluator, *, seed: int, selection: str, selection_options: dict[str, Any],
           generator: str = "mutation", generator_options: dict[str, Any] | None = None, budget: int = 200,
           per_generation: int = 4, stop_at: float | None = 1.0, skip_duplicates: bool = True,
           extra: int = 0, extra_from: str = "search") -> Outcome:
    """One run. Like the engine's defaults, a child whose code equals an evaluated variant's is an
    ``invalid`` duplicate (an attempt, no evaluation: ``skip_duplicates``), and the generator is
    told the outcomes per family of earlier generations (``operator_stats``). ``extra``: keep
    going that many attempts after first reaching ``stop_at`` (within ``budget``) and collect the
    plausible variants (``Outcome.plausible``); ``extra_from``: where those attempts start,
    ``search`` (selection as before), ``root`` (the root's next edits; ``site``: those on the first
    plausible patch's lines first) or ``parent`` (the first plausible variant's parent: its siblings)."""
    t0 = time.perf_counter()
    plugins = PluginManager()
    archive = Archive()
    context = BuildContext(seed=seed, services={"storage": _RecordsView(archive)})
    selector = plugins.create("selection", "best" if selection == "root" else selection,
                              dict(selection_options), context)
    gen = plugins.create("generator", generator, dict(generator_options or {}), context)
    files: dict[str, dict[str, str]] = {}
    root_files = {p.relative_to(problem.program).as_posix(): p.read_text()
                  for p in sorted(problem.program.rglob("*.py"))}
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        scratch = Path(tmp)
        results = evaluate(evaluator, problem, root_files, scratch / "eval")
        root = Variant(id=ROOT_ID, parent_id=None, generation=0, status="accepted",
                       score=_score(results), task_results=results, stage_reached=0)
        archive.add(root)
        files[ROOT_ID] = root_files
        siblings: dict[str, int] = {}
        best, first_at, attempts, evaluated, distinct = root.score, 0, 0, 0, {_key(root_files)}
        zeros = ties = improved = 0
        known = {_key(root_files): ROOT_ID}
        generation = 0
        lineage: dict[str, tuple[int, float, list[str]]] = {ROOT_ID: (0, 1.0, [])}  # edits, prior, descriptions
        site: Any = None
        plausible: list[dict[str, Any]] = []
        if extra:
            plausible.append({"id": "root", "coverage": _coverage(results)})
        reached: int | None = None
        while attempts < budget and not (stop_at is not None and best >= stop_at
                                          and attempts >= (reached or 0) + extra):
            generation += 1
            n = min(per_generation, budget - attempts)
            if selection == "root" or (reached is not None and extra_from == "root"):
                parents = [ROOT_ID] * n  # baseline: the root's neighbourhood, no archive
            elif reached is not None and extra_from == "site":
                from plausible_choice import SiteFirst
                parents, site = [ROOT_ID] * n, site or SiteFirst(plugins, generator, generator_options, context,
                                                                 lineage[plausible[1]["id"]][2])
            elif reached is not None and extra_from == "parent":
                parents = [archive.get(plausible[1]["id"]).parent_id or ROOT_ID] * n
            else:
                parents = selector.select(archive, n, random.Random(f"{seed}:select:{generation}"))
            stats = _operator_stats(archive, generation)
            for index, parent_id in enumerate(parents):
                parent = archive.get(parent_id)
                target = choose_target(parent, random.Random(f"{seed}:target:{generation}:{index}"))
                parent_dir = scratch / "parent"
                _write(files[parent_id], problem.tests, parent_dir)
                attempt_id = f"g{generation:04d}a{index:03d}"
                k = siblings.get(parent_id, 0)
                siblings[parent_id] = k + 1
                ctx = GenerationContext(run_id="bench", attempt_id=attempt_id, parent=parent, parent_dir=parent_dir,
                                        target=target, seed=derive_seed(seed, generation, index), sibling_index=k,
                                        operator_stats=stats, siblings=siblings_before(archive, parent_id, generation))
                ctx.inspirations = _inspirations(archive, files, parent, ctx)
                proposal = site.propose(ctx) if site and parent_id == ROOT_ID else None
                if proposal is not None:  # the root's own order resumes where it was
                    siblings[parent_id] = k
                proposal = proposal or gen.propose(ctx)
                attempts += 1
                child_files = {**files[parent_id], **{r: t for r, t in proposal.changes.items() if t is not None}}
                vid = "v" + attempt_id[1:]
                duplicate = known.get(_key(child_files)) if skip_duplicates else None
                if not proposal.changes or child_files == files[parent_id] or duplicate is not None:
                    meta = {**proposal.metadata, **({"duplicate_of": duplicate} if duplicate else {})}
                    child = Variant(id=vid, parent_id=parent_id, generation=generation, status="invalid",
                                    metadata=meta, target=target)
                else:
                    distinct.add(_key(child_files))
                    known[_key(child_files)] = vid
                    evaluated += 1
                    res = evaluate(evaluator, problem, child_files, scratch / "eval")
                    child = Variant(id=vid, parent_id=parent_id, generation=generation, status="accepted",
                                    score=_score(res), task_results=res, stage_reached=0, target=target,
                                    metadata=dict(proposal.metadata), improvement_type=proposal.improvement_type)
                    files[vid] = child_files
                    zeros += child.score == 0.0
                    ties += child.score == parent.score
                    improved += child.score > parent.score
                    if child.score > best:
                        best, first_at = child.score, attempts
                    if extra:
                        n_edits, prior, described = lineage[parent_id]
                        lineage[vid] = (n_edits + len(proposal.metadata.get("edits") or [1]),
                                        prior * _prior(proposal.description, proposal.metadata),
                                        [*described, proposal.description])
                        if stop_at is not None and child.score >= stop_at:
                            reached = attempts if reached is None else reached
                            plausible.append({"id": vid, "files": child_files, "attempt": attempts,
                                              "description": proposal.description,
                                              "lineage": lineage[vid][2],
                                              "edits": lineage[vid][0], "prior": lineage[vid][1],
                                              "coverage": _coverage(res)})
                archive.add(child)
        holdout = None
        if problem.holdout is not None and archive.best is not None:
            res = evaluate(evaluator, problem, files[archive.best.id], scratch / "eval", holdout=True)
            holdout = _score(res)
    return Outcome(best=best, first_at=first_at, attempts=attempts, evaluations=evaluated,
                   holdout=holdout, seconds=time.perf_counter() - t0, distinct=len(distinct) - 1,
                   zeros=zeros, ties=ties, improved=improved, plausible=plausible)


def _coverage(results: dict[str, TaskResult]) -> dict[str, Any]:
    return {t: (r.passed, r.coverage) for t, r in results.items()}


def _prior(description: str, metadata: dict[str, Any]) -> float:
    """The product of the mutation priors' multipliers of a proposal's edits (1 when unknown)."""
    from darwin_plugins.mutation.priors import multiplier

    families = metadata.get("families") or [metadata.get("family") or ""]
    out = 1.0
    for family, part in zip(families, description.split("; ")):
        inner = part.partition(" (")[2].rpartition(") in ")[0]
        out *= multiplier(family, inner) if inner else 1.0
    return out


def _operator_stats(archive: Archive, generation: int) -> dict[str, tuple[int, int]]:
    """What the engine hands a generator (``OperatorStats.before``): outcomes per label over the
    children of earlier generations."""
    from darwin_plugins.mutation.bandit import family_stats

    records = [to_dict(v) for v in archive.variants() if v.generation < generation]
    return {k: (w, n) for k, (w, n) in family_stats(records).items()}


def _inspirations(archive: Archive, files: dict[str, dict[str, str]], parent: Variant, ctx: GenerationContext) -> list:
    """What the engine hands a generator (``[inspirations]`` defaults: the two best other
    variants and one drawn from another lineage), each with the common ancestor's files."""
    from darwin_core.inspirations import InspirationsSection, choose
    from darwin_hookspecs import Inspiration

    ids = [i for i in choose(archive, parent.id, InspirationsSection(), random.Random(ctx.seed)) if i in files]
    out = []
    for other in ids:
        ancestor = _common_ancestor(archive, parent.id, other)
        out.append(Inspiration(variant=archive.get(other), files=files[other], ancestor_id=ancestor,
                               ancestor_files=files.get(ancestor) if ancestor else None))
    return out


def _common_ancestor(archive: Archive, a: str, b: str) -> str | None:
    line = []
    node: str | None = a
    while node is not None:
        line.append(node)
        node = archive.get(node).parent_id
    seen = set(line)
    node = b
    while node is not None:
        if node in seen:
            return node
        node = archive.get(node).parent_id
    return None


def _score(results: dict[str, TaskResult]) -> float:
    return sum(r.score for r in results.values()) / max(len(results), 1)


def _key(files: dict[str, str]) -> str:
    return json.dumps(sorted(files.items()))


if __name__ == "__main__" and "--serve" in sys.argv:
    serve()
