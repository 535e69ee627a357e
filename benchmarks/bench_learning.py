"""Learning from the archive, measured side by side on the quickstart with the mutation generator.

    python benchmarks/bench_learning.py [--seeds 1 2] [--gate-generations 10] [--select-attempts 16]

1. Predictor discrimination and calibration on held-out attempts: the ``world-model`` predicts
   every attempt of ungated runs before its outcome is known (prequential hold-out), and a model
   trained on one seed's replay buffer predicts another seed's attempts (cross-run hold-out).
2. Gating: the same runs (same seeds, same planned attempts) without and with the gate;
   evaluations saved versus the drop in final best score.
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
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--select-seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--gate-generations", type=int, default=8)
    parser.add_argument("--children", type=int, default=4)
    parser.add_argument("--threshold", type=float, default=0.75)
    parser.add_argument("--select-attempts", type=int, default=12)
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
        gating = []
        for seed in args.seeds:
            base = run(workdir, f"ungated-{seed}", {"run": {**common, "seed": seed},
                                                     "predictor": {"name": "world-model", "threshold": 0.0, "warmup": 10}})
            gated = run(workdir, f"gated-{seed}", {"run": {**common, "seed": seed},
                                                   "predictor": {"name": "world-model", "threshold": args.threshold,
                                                                 "exploration": 0.1, "warmup": 10}})
            gating.append((seed, base, gated))
            print(f"seed {seed}: ungated best {base['best']:.4f} ({base['evaluated']} evaluated), "
                  f"gated best {gated['best']:.4f} ({gated['evaluated']} evaluated, {gated['skipped']} skipped)",
                  file=sys.stderr, flush=True)

        # ------------------------------------------------------- predictor quality
        probs: list[float] = []
        ys: list[bool] = []
        for _, base, _ in gating:
            p, y = held_out(base["records"])
            probs += p
            ys += y
        cross = []
        if len(gating) >= 2:
            for i, (_, train, _) in enumerate(gating):
                _, test, _ = gating[(i + 1) % len(gating)]
                cross.append(cross_run(train["records"], test["records"]))
        results["predictor"] = {
            "prequential_auc": roc_auc(probs, ys), "prequential_brier": brier_score(probs, ys),
            "prequential_n": len(ys), "base_rate": (sum(ys) / len(ys)) if ys else None,
            "cross_run": [{"auc": a, "brier": b, "n": n} for a, b, n in cross],
        }
        evaluated_base = sum(b["evaluated"] for _, b, _ in gating)
        evaluated_gated = sum(g["evaluated"] for _, _, g in gating)
        tasks_base = sum(b["tasks_evaluated"] for _, b, _ in gating)
        tasks_gated = sum(g["tasks_evaluated"] for _, _, g in gating)
        best_base = statistics.mean(b["best"] for _, b, _ in gating)
        best_gated = statistics.mean(g["best"] for _, _, g in gating)
        results["gating"] = {
            "threshold": args.threshold,
            "per_seed": [{"seed": s, "ungated_best": b["best"], "gated_best": g["best"],
                          "ungated_evaluated": b["evaluated"], "gated_evaluated": g["evaluated"],
                          "gated_skipped": g["skipped"]} for s, b, g in gating],
            "evaluations_saved": 1 - evaluated_gated / evaluated_base if evaluated_base else None,
            "tasks_saved": 1 - tasks_gated / tasks_base if tasks_base else None,
            "best_ungated": best_base, "best_gated": best_gated,
            "score_drop": (1 - best_gated / best_base) if best_base else None,
        }

        # ---------------------------------------------------------- selection
        selection: dict[str, list[dict[str, Any]]] = {}
        for strategy in ("cmp", "score_child_prop", "random"):
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
        records = [r for _, b, _ in gating for r in b["records"] if r.trainable]
        results["throughput"] = throughput(records)
        results["wall_s"] = time.perf_counter() - started
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    pred, gate, sel, thr = results["predictor"], results["gating"], results["selection"], results["throughput"]
    print("\n== predictor (world-model), held-out attempts ==")
    print(f"prequential: AUC {fmt(pred['prequential_auc'])}  Brier {fmt(pred['prequential_brier'])}  "
          f"n={pred['prequential_n']}  base rate {fmt(pred['base_rate'])}  (target AUC >= 0.7)")
    for c in pred["cross_run"]:
        print(f"cross-run:   AUC {fmt(c['auc'])}  Brier {fmt(c['brier'])}  n={c['n']}")
    print(f"\n== gating (threshold {gate['threshold']}, exploration 0.1) ==")
    for row in gate["per_seed"]:
        print(f"seed {row['seed']}: evaluated {row['ungated_evaluated']} -> {row['gated_evaluated']} "
              f"(skipped {row['gated_skipped']}); best {row['ungated_best']:.4f} -> {row['gated_best']:.4f}")
    print(f"evaluations saved {fmt(gate['evaluations_saved'])} (tasks {fmt(gate['tasks_saved'])}); "
          f"mean final best {gate['best_ungated']:.4f} -> {gate['best_gated']:.4f} "
          f"(drop {fmt(gate['score_drop'])}; target: >= 0.30 saved for <= 0.05 drop)")
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


def plot(path: Path, gating: list[Any], selection: dict[str, list[dict[str, Any]]],
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
    ax.plot(xs, fr, "o-", label="world-model (held-out)")
    for x, f, n in zip(xs, fr, counts):
        ax.annotate(str(n), (x, f), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set(xlabel="predicted P(accepted)", ylabel="observed fraction accepted", title="Calibration")
    ax.legend(fontsize=8)
    ax = axes[1]
    for seed, base, gated in gating:
        ax.plot(range(1, len(base["curve"]) + 1), base["curve"], "-", label=f"ungated seed {seed}")
        ax.plot(range(1, len(gated["curve"]) + 1), gated["curve"], "--", label=f"gated seed {seed}")
    ax.set(xlabel="evaluated attempts", ylabel="best score", title="Gating: best score vs evaluations")
    ax.legend(fontsize=8)
    ax = axes[2]
    names = list(selection)
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
