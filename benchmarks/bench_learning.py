"""Learning from the archive, measured side by side on the quickstart with the mutation generator.

    python benchmarks/bench_learning.py [--seeds 1 2 3] [--gate-generations 24] [--select-attempts 48]

1. Predictor discrimination and calibration on held-out attempts: the ``world-model`` predicts
   every attempt of ungated runs before its outcome is known (prequential hold-out), after
   generation (online, with the ``patch_*`` features) and before it (the same attempts replayed
   with the pre-generation features only); a model trained on one seed's replay buffer predicts
   another seed's attempts (cross-run hold-out).
2. Gating: the same seeds ungated and with each gate (``ARMS``): the predictor before
   generation, the after-generation rules (duplicates, edits that already failed), and those
   rules plus the predictor; evaluations saved versus the drop in the mean final best score.
3. Parent selection: ``cmp`` vs ``score_child_prop`` vs ``random``, final best score at an equal
   attempt budget over several seeds.
4. Batched predictions per second on the CPU.

Runs use ``archive_policy = "keep_better"`` (margin 0) for the gating runs, so that "accepted"
means "no worse than the initial variant"; with the quickstart's ``keep_all`` nearly every child
is accepted and there is nothing to predict. Prints a table; ``--plot FILE.png`` draws figures
when matplotlib is importable.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "examples" / "quickstart"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value))


def write_config(directory: Path, name: str, sections: dict[str, dict[str, Any]]) -> Path:
    base: dict[str, dict[str, Any]] = {
        "run": {"name": name, "initial": "program"},
        "generator": {"name": "mutation"},
        "sandbox": {"name": "local"},
        "benchmark": {"name": "custom", "path": "benchmark/tasks.toml"},
        "executor": {"name": "local", "max_workers": 2},
    }
    for section, values in sections.items():
        base.setdefault(section, {}).update(values)
    lines = []
    for section, values in base.items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {_toml(v)}" for k, v in values.items()]
    lines += ["[[evaluation.stages]]", "tasks = 6", "threshold = 0.5", "[[evaluation.stages]]", 'tasks = "all"']
    path = directory / f"{name}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def run(workdir: Path, name: str, sections: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One quiet run; its figures."""
    from darwin_core.config import load_config
    from darwin_core.engine import Engine
    from darwin_core.gating import LearningGate

    engine = Engine.create(load_config(write_config(workdir, name, sections)), workdir / "runs" / name)
    t0 = time.perf_counter()
    summary = engine.run_loop()
    wall = time.perf_counter() - t0
    attempts = list(engine.attempts.values())
    children = [engine.archive.get(a.child_id) for a in attempts if a.child_id]
    # best score after each evaluated attempt, in completion order
    curve, best = [], engine.archive.root.score if engine.archive.root else 0.0
    for child in sorted(children, key=lambda v: v.created_at):
        if child.status == "accepted" and child.stage_reached >= engine.archive.last_stage:
            best = max(best, child.score)
        curve.append(best)
    gate = engine.gate
    records = gate.replay.records() if isinstance(gate, LearningGate) else []
    return {
        "name": name, "wall_s": wall, "best": summary.best_score, "initial": summary.initial_score,
        "attempts": len(attempts), "evaluated": len(children),
        "tasks_evaluated": sum(len(c.task_results) for c in children),
        "skipped": sum(a.status == "skipped" for a in attempts), "curve": curve,
        "records": records, "accepted": sum(c.status == "accepted" for c in children),
    }


ARMS: dict[str, dict[str, Any]] = {
    # every change evaluated; the after-generation model predicts each one before it is
    "ungated": {"when": "after", "threshold": 0.0, "skip_duplicates": False, "skip_failed_edits": 0},
    # the predictor alone, before generation (one arm per --thresholds value)
    "before": {"when": "before", "exploration": 0.1},
    # after generation: duplicates and edits that already failed, no predictor threshold
    "after-rules": {"when": "after", "threshold": 0.0},
    # after generation: those rules and the predictor (one arm per --thresholds value)
    "after-predictor": {"when": "after", "exploration": 0.1},
}


def prequential_before(records: list[Any], warmup: int = 10) -> tuple[list[float], list[bool]]:
    """The before-generation model's predictions of the same attempts, replayed in order: each
    attempt predicted from its pre-generation features, then learned from (as the gate does)."""
    from darwin_plugins.world_model.model import WorldModel, WorldModelOptions

    model = WorldModel(WorldModelOptions(), seed=0)
    probs, ys = [], []
    for r in (r for r in records if r.trainable):
        features = {k: v for k, v in r.features.items() if not k.startswith("patch_")}
        if model.observations >= warmup:
            probs.append(model.predict([features])[0].p_accept)
            ys.append(bool(r.outcome["accepted"]))
        model.observe(features, r.outcome)
    return probs, ys


def held_out(records: list[Any]) -> tuple[list[float], list[bool]]:
    probs, ys = [], []
    for r in records:
        if r.trainable and r.decision.get("ready"):
            probs.append(float(r.decision["p_accept"]))
            ys.append(bool(r.outcome["accepted"]))
    return probs, ys


def cross_run(train: list[Any], test: list[Any]) -> tuple[float | None, float | None, int]:
    from darwin_core.calibration import brier_score, roc_auc
    from darwin_plugins.world_model.model import WorldModel, WorldModelOptions

    model = WorldModel(WorldModelOptions(), seed=0)
    for r in train:
        if r.trainable:
            model.observe(r.features, r.outcome)
    model.train()
    tests = [r for r in test if r.trainable]
    probs = [p.p_accept for p in model.predict([r.features for r in tests])]
    ys = [bool(r.outcome["accepted"]) for r in tests]
    return roc_auc(probs, ys), brier_score(probs, ys), len(ys)


def throughput(records: list[Any], n: int = 100_000, repeats: int = 3) -> dict[str, float]:
    """Best of ``repeats`` (the machine is shared): encoded batch, encoding, and both together."""
    from darwin_plugins.world_model.model import WorldModel, WorldModelOptions

    model = WorldModel(WorldModelOptions(), seed=0)
    for r in records:
        if r.trainable:
            model.observe(r.features, r.outcome)
    model.train()
    features = [records[i % len(records)].features for i in range(n)]
    best = {"encoded_per_s": 0.0, "encode_per_s": 0.0, "end_to_end_per_s": 0.0}
    for _ in range(repeats):
        t0 = time.perf_counter()
        x = model.encode(features)
        t1 = time.perf_counter()
        model.predict_encoded(x)
        t2 = time.perf_counter()
        model.predict(features)
        t3 = time.perf_counter()
        for key, seconds in (("encode_per_s", t1 - t0), ("encoded_per_s", t2 - t1), ("end_to_end_per_s", t3 - t2)):
            best[key] = max(best[key], n / seconds)
    return best


def fmt(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--select-seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--gate-generations", type=int, default=24)
    parser.add_argument("--children", type=int, default=4)
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.75],
                        help="predictor thresholds of the gated arms (one arm each)")
    parser.add_argument("--improve-thresholds", type=float, nargs="*", default=[],
                        help="thresholds of after-generation arms whose predictor learns 'improved'")
    parser.add_argument("--arms", nargs="*", default=None,
                        help="run only these gating arms (and 'ungated'); default: all")
    parser.add_argument("--skip-selection", action="store_true", help="no parent-selection comparison")
    parser.add_argument("--select-attempts", type=int, default=48)
    parser.add_argument("--plot", type=Path, default=None, help="write figures to this PNG")
    parser.add_argument("--json", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args()

    from darwin_core.calibration import brier_score, roc_auc

    workdir = Path(tempfile.mkdtemp(prefix="bench-learning-"))
    shutil.copytree(QUICKSTART / "program", workdir / "program")
    shutil.copytree(QUICKSTART / "benchmark", workdir / "benchmark")
    results: dict[str, Any] = {}
    started = time.perf_counter()
    try:
        # ---------------------------------------------------- gating, side by side
        common = {"generations": args.gate_generations, "children_per_generation": args.children,
                  "archive_policy": "keep_better", "keep_better_margin": 0.0}
        arms: dict[str, dict[str, Any]] = {}
        for name, options in ARMS.items():
            if name in ("before", "after-predictor"):  # one arm per predictor threshold
                for threshold in args.thresholds:
                    arms[f"{name}@{threshold}"] = {"name": "world-model", "warmup": 10, **options,
                                                   "threshold": threshold}
            else:
                arms[name] = {"name": "world-model", "warmup": 10, **options}
        for threshold in args.improve_thresholds:  # the predictor learns "improved", not "accepted"
            arms[f"after-improved@{threshold}"] = {"name": "world-model", "warmup": 10, "when": "after",
                                                   "objective": "improved", "exploration": 0.1,
                                                   "threshold": threshold}
        if args.arms:
            unknown = set(args.arms) - set(arms)
            if unknown:
                parser.error(f"--arms: unknown {sorted(unknown)}; known: {sorted(arms)}")
            arms = {name: arms[name] for name in arms if name in args.arms or name == "ungated"}
        gating: dict[str, list[dict[str, Any]]] = {name: [] for name in arms}
        for seed in args.seeds:
            for name, predictor in arms.items():
                r = run(workdir, f"{name}-{seed}", {"run": {**common, "seed": seed}, "predictor": predictor})
                gating[name].append(r)
                print(f"seed {seed} {name:16s} best {r['best']:.4f}  evaluated {r['evaluated']:3d}  "
                      f"skipped {r['skipped']:3d}  {r['wall_s']:.0f}s", file=sys.stderr, flush=True)

        # ------------------------------------------------------- predictor quality
        ungated = gating["ungated"]
        probs: list[float] = []
        ys: list[bool] = []
        pre_probs: list[float] = []
        pre_ys: list[bool] = []
        for r in ungated:
            p, y = held_out(r["records"])  # predicted online, after generation
            probs += p
            ys += y
            p, y = prequential_before(r["records"])  # the same attempts, before generation
            pre_probs += p
            pre_ys += y
        cross = []
        if len(ungated) >= 2:
            for i, train in enumerate(ungated):
                test = ungated[(i + 1) % len(ungated)]
                cross.append(cross_run(train["records"], test["records"]))
        results["predictor"] = {
            "after_auc": roc_auc(probs, ys), "after_brier": brier_score(probs, ys), "after_n": len(ys),
            "before_auc": roc_auc(pre_probs, pre_ys), "before_brier": brier_score(pre_probs, pre_ys),
            "before_n": len(pre_ys), "base_rate": (sum(ys) / len(ys)) if ys else None,
            "base_brier": brier_score([sum(ys) / len(ys)] * len(ys), ys) if ys else None,
            "cross_run": [{"auc": a, "brier": b, "n": n} for a, b, n in cross],
        }
        base_evaluated = sum(r["evaluated"] for r in ungated)
        base_tasks = sum(r["tasks_evaluated"] for r in ungated)
        base_best = statistics.mean(r["best"] for r in ungated)
        results["gating"] = {}
        for name, rs in gating.items():
            best = statistics.mean(r["best"] for r in rs)
            decisions: dict[str, int] = {}
            for r in rs:
                for record in r["records"]:
                    verdict = record.decision.get("decision")
                    if verdict:
                        decisions[verdict] = decisions.get(verdict, 0) + 1
            results["gating"][name] = {
                "evaluated": sum(r["evaluated"] for r in rs), "skipped": sum(r["skipped"] for r in rs),
                "evaluations_saved": 1 - sum(r["evaluated"] for r in rs) / base_evaluated if base_evaluated else None,
                "tasks_saved": 1 - sum(r["tasks_evaluated"] for r in rs) / base_tasks if base_tasks else None,
                "mean_best": best, "bests": [r["best"] for r in rs],
                "sem_best": statistics.stdev(r["best"] for r in rs) / len(rs) ** 0.5 if len(rs) > 1 else 0.0,
                "score_drop": (1 - best / base_best) if base_best else None, "decisions": decisions,
            }

        # ---------------------------------------------------------- selection
        selection: dict[str, list[dict[str, Any]]] = {}
        for strategy in () if args.skip_selection else ("cmp", "score_child_prop", "random"):
            for seed in args.select_seeds:
                r = run(workdir, f"{strategy}-{seed}", {
                    "run": {"seed": seed, "generations": 1000, "children_per_generation": args.children,
                            "max_attempts": args.select_attempts},
                    "selection": {"name": strategy}})
                selection.setdefault(strategy, []).append(r)
                print(f"{strategy} seed {seed}: best {r['best']:.4f}", file=sys.stderr, flush=True)
        results["selection"] = {
            s: {"mean_best": statistics.mean(r["best"] for r in rs), "bests": [r["best"] for r in rs],
                "attempts": [r["attempts"] for r in rs]}
            for s, rs in selection.items()
        }

        # ---------------------------------------------------------- throughput
        records = [rec for r in ungated for rec in r["records"] if rec.trainable]
        results["throughput"] = throughput(records)
        results["wall_s"] = time.perf_counter() - started
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    pred, gate, sel, thr = results["predictor"], results["gating"], results["selection"], results["throughput"]
    print("\n== predictor (world-model), held-out attempts of the ungated runs ==")
    print(f"after generation:  AUC {fmt(pred['after_auc'])}  Brier {fmt(pred['after_brier'])}  n={pred['after_n']}")
    print(f"before generation: AUC {fmt(pred['before_auc'])}  Brier {fmt(pred['before_brier'])}  n={pred['before_n']}")
    print(f"base rate {fmt(pred['base_rate'])} (its Brier {fmt(pred['base_brier'])}); target AUC >= 0.7")
    for c in pred["cross_run"]:
        print(f"cross-run (trained on one seed, tested on the next): AUC {fmt(c['auc'])}  Brier {fmt(c['brier'])}  n={c['n']}")
    print(f"\n== gating, seeds {args.seeds}, {args.gate_generations}x{args.children} attempts, "
          f"predictor thresholds {args.thresholds} ==")
    print(f"{'arm':21s} {'evaluated':>9s} {'saved':>6s} {'tasks saved':>11s} {'mean best':>9s} {'+-sem':>6s} {'drop':>6s}")
    for name, row in gate.items():
        print(f"{name:21s} {row['evaluated']:9d} {fmt(row['evaluations_saved'], 3):>6s} {fmt(row['tasks_saved'], 3):>11s} "
              f"{row['mean_best']:9.4f} {row['sem_best']:6.4f} {fmt(row['score_drop'], 3):>6s}")
    for name, row in gate.items():
        print(f"  {name}: decisions {row['decisions']}; best per seed {row['bests']}")
    print("target: >= 0.30 evaluations saved for <= 0.05 drop of the mean final best score")
    if sel:
        print(f"\n== selection, {args.select_attempts} attempts, seeds {args.select_seeds} ==")
        for s, row in sel.items():
            print(f"{s:18s} mean best {row['mean_best']:.4f}  per seed {row['bests']}")
    print("\n== predictions per second (CPU, one thread) ==")
    print(f"batched, encoded: {thr['encoded_per_s']:,.0f}/s  encoding dicts: {thr['encode_per_s']:,.0f}/s  "
          f"predict(list of dicts): {thr['end_to_end_per_s']:,.0f}/s  (target >= 100,000/s)")
    print(f"\nwall time {results['wall_s']:.0f}s")

    if args.json:
        slim = {k: v for k, v in results.items()}
        args.json.write_text(json.dumps(slim, indent=2, default=str))
    if args.plot:
        plot(args.plot, gating, selection, probs, ys)
    return 0


def plot(path: Path, gating: dict[str, list[dict[str, Any]]], selection: dict[str, list[dict[str, Any]]],
         probs: list[float], ys: list[bool]) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot", file=sys.stderr)
        return
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    ax = axes[0]
    bins = [i / 5 for i in range(6)]
    xs, fr, counts = [], [], []
    for lo, hi in zip(bins, bins[1:]):
        members = [y for p, y in zip(probs, ys) if lo <= p < hi or (hi == 1.0 and p == 1.0)]
        if members:
            xs.append((lo + hi) / 2)
            fr.append(sum(members) / len(members))
            counts.append(len(members))
    ax.plot([0, 1], [0, 1], "k:", label="perfect calibration")
    ax.plot(xs, fr, "o-", label="world-model after generation (held-out)")
    for x, f, n in zip(xs, fr, counts):
        ax.annotate(str(n), (x, f), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set(xlabel="predicted P(accepted)", ylabel="observed fraction accepted", title="Calibration")
    ax.legend(fontsize=8)
    ax = axes[1]
    base = gating["ungated"]
    base_evaluated = sum(r["evaluated"] for r in base)
    for i, (name, rs) in enumerate(gating.items()):
        saved = 1 - sum(r["evaluated"] for r in rs) / base_evaluated
        bests = [r["best"] for r in rs]
        sem = statistics.stdev(bests) / len(bests) ** 0.5 if len(bests) > 1 else 0.0
        ax.errorbar([100 * saved], [statistics.mean(bests)], yerr=[sem], fmt="os^vD<>p*h"[i % 10],
                    color=f"C{i}", capsize=3, label=name)
    ax.axvline(30, color="k", ls=":", lw=0.8)
    ax.axhline(0.95 * statistics.mean(r["best"] for r in base), color="k", ls=":", lw=0.8)
    ax.set(xlabel="evaluations saved vs ungated (%)", ylabel="mean final best score (+- s.e.m.)",
           title="Gating: evaluations saved vs final score")
    ax.legend(fontsize=7, loc="lower left")
    ax = axes[2]
    names = list(selection)
    if not names:
        ax.set_axis_off()
        fig.tight_layout()
        fig.savefig(path, dpi=90)
        return
    means = [statistics.mean(r["best"] for r in selection[n]) for n in names]
    ax.bar(names, means, color=["tab:green", "tab:blue", "tab:gray"])
    for i, n in enumerate(names):
        ax.scatter([i] * len(selection[n]), [r["best"] for r in selection[n]], color="k", zorder=3, s=12)
    ax.set(ylabel="final best score", title="Parent selection at equal attempts",
           ylim=(min(means) - 0.1, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    print(f"plot written to {path}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
