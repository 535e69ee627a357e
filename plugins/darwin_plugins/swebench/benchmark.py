"""Benchmark ``swebench`` (agent mode): each instance is solved by the variant (a coding agent)
in a container of the instance's environment, and its diff is graded like the official harness.

Why the benchmark drives containers itself instead of going through the run's ``Sandbox``: an
instance environment is an image whose repository lives at a fixed path (``/testbed``, with
editable installs pointing at it) and the official grading is a sequence of steps in one
container (apply, reset, retry, run the eval script). The sandbox contract (a host working
directory mounted as the command's cwd) cannot express that. Every untrusted step (the agent,
the patch application, the tests) still runs only in single-use containers without network,
host mounts or secrets, with memory/pids limits; the orchestrator only parses logs.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

from darwin_hookspecs import BuildContext, Sandbox, TaskResult, TaskSpec

from . import reports
from .agent import AgentRun, run_agent
from .containers import Limits, connect, docker_url
from .dataset import load_instances
from .grading import Grade, grade
from .harness import eval_spec
from .images import ImageResolver
from .noise import combine
from .options import SWEBenchOptions

LOG_LIMIT = 6000
GRADED_DATASET = "instances.graded.jsonl"


class SWEBenchBenchmark:
    mode: Literal["program", "agent"] = "agent"

    def __init__(self, options: SWEBenchOptions, *, base_dir: Path, output_dir: Path,
                 run_id: str, scratch: Path | None = None) -> None:
        self.options = options
        self.instances = load_instances(
            options.dataset, base_dir=base_dir, split=options.split,
            instance_ids=options.instance_ids,
            instance_ids_file=options.instance_ids_file,
        )
        self.by_id = {i["instance_id"]: i for i in self.instances}
        self.output_dir = output_dir
        self.run_id = run_id or "darwin"
        self.limits = Limits(memory_mb=options.memory_mb, pids=options.pids_limit, cpus=options.cpus)
        self._client: Any = None
        self._images: ImageResolver | None = None
        self._lock = threading.Lock()
        self._graded: dict[str, dict[str, Any]] = {}
        self._base_dir = base_dir
        self._scratch = scratch

    # ------------------------------------------------------------- contract

    def tasks(self) -> list[TaskSpec]:
        return [TaskSpec(id=i["instance_id"], tags=[i["repo"]],
                         data={"repo": i["repo"], "base_commit": i["base_commit"]})
                for i in self.instances]

    def evaluate(self, variant_dir: Path, tasks: list[TaskSpec], sandbox: Sandbox) -> list[TaskResult]:
        """Run the agent in ``variant_dir`` on each task (``repeats`` times), grade every diff,
        and write predictions, reports and the summary. ``sandbox`` is not used: see the
        module docstring."""
        model = self.model_name(variant_dir)
        jobs = [(task, r) for task in tasks for r in range(self.options.repeats)]
        with ThreadPoolExecutor(max_workers=self.options.workers) as pool:
            outcomes = list(pool.map(lambda job: self._solve(variant_dir, model, *job), jobs))
        by_task: dict[str, list[TaskResult]] = {}
        predictions: dict[int, list[dict[str, Any]]] = {}
        for (task, repeat), (result, prediction) in zip(jobs, outcomes):
            by_task.setdefault(task.id, []).append(result)
            predictions.setdefault(repeat, []).append(prediction)
        ids = [i["instance_id"] for i in self.instances]
        for repeat, rows in predictions.items():
            run = self.eval_run(repeat)
            reports.write_predictions(reports.predictions_path(self.output_dir, model, run), rows)
            reports.write_summary(self.output_dir, run, model, ids)
        return [combine(by_task[t.id]) for t in tasks]

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            except Exception:  # noqa: BLE001
                pass

    # ------------------------------------------------------------- helpers

    def eval_run(self, repeat: int) -> str:
        """The official ``run_id`` of a repeat (its own logs, predictions and summary)."""
        return self.run_id if repeat == 0 else f"{self.run_id}.r{repeat}"

    def model_name(self, variant_dir: Path) -> str:
        """``<model_name>@<hash of the agent's code>``: identical code, identical name."""
        digest = hashlib.sha256()
        for path in sorted(variant_dir.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(variant_dir).as_posix().encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
        return f"{self.options.model_name}@{digest.hexdigest()[:12]}"

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = connect(docker_url(self.options.docker_host))
                o = self.options
                repos = None
                if o.repos_dir is not None:
                    repos = o.repos_dir if o.repos_dir.is_absolute() else self._base_dir / o.repos_dir
                self._images = ImageResolver(
                    self._client, templates=o.image_names, repos_dir=repos,
                    base_image=o.base_image, setup_commands=o.setup_commands, workdir=o.workdir,
                    scratch=self._scratch,
                )
            return self._client

    def image_for(self, instance_id: str) -> str:
        self.client()
        assert self._images is not None
        return self._images.image_for(self.by_id[instance_id])

    def grade_prediction(self, prediction: dict[str, Any], *, repeat: int = 0) -> Grade:
        """Grade one prediction (official format) and write its logs and report."""
        instance = self.by_id[prediction["instance_id"]]
        client = self.client()
        image = self.image_for(instance["instance_id"])
        spec = eval_spec(instance, image, self.options.workdir)
        self._record_graded(instance, spec)
        log_dir = reports.instance_log_dir(self.output_dir, self.eval_run(repeat),
                                           prediction["model_name_or_path"], instance["instance_id"])
        return grade(client, spec, prediction, log_dir, workdir=self.options.workdir,
                     limits=self.limits, timeout_s=self.options.eval_timeout_s,
                     hostname=f"sweb-r{repeat}", run_label=self.run_id)

    def _record_graded(self, instance: dict[str, Any], spec: Any) -> None:
        """Keep ``instances.graded.jsonl``: the instances with the image, eval script, log
        parser and eval type they were graded with, so the official tools can re-grade the
        logs (``run_evaluation --dataset_name <it> --rewrite_reports true``)."""
        row = {**instance, "image": spec.image, "eval_script": spec.eval_script,
               "log_parser": spec.test_spec.log_parser, "eval_type": spec.test_spec.eval_type}
        path = self.output_dir / GRADED_DATASET
        with self._lock:
            if not self._graded and path.is_file():  # a resumed run keeps earlier rows
                for line in path.read_text(encoding="utf-8").splitlines():
                    earlier = json.loads(line)
                    self._graded[earlier["instance_id"]] = earlier
            if self._graded.get(instance["instance_id"]) == row:
                return
            self._graded[instance["instance_id"]] = row
            self.output_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text("".join(json.dumps(r) + "\n" for r in self._graded.values()),
                           encoding="utf-8")
            tmp.replace(path)

    def _solve(self, variant_dir: Path, model: str, task: TaskSpec,
               repeat: int) -> tuple[TaskResult, dict[str, Any]]:
        instance = self.by_id[task.id]
        o = self.options
        agent = run_agent(
            self.client(), self.image_for(task.id), instance, variant_dir,
            command=o.agent_command, workdir=o.workdir, timeout_s=o.agent_timeout_s,
            limits=self.limits, env=o.agent_env, network=o.agent_network,
            hostname=f"agent-r{repeat}", run_label=self.run_id,
        )
        prediction = {"instance_id": task.id, "model_name_or_path": model,
                      "model_patch": agent.patch}
        log_dir = reports.instance_log_dir(self.output_dir, self.eval_run(repeat), model, task.id)
        log_dir.mkdir(parents=True, exist_ok=True)
        (log_dir / "agent.log").write_text(agent.log, encoding="utf-8")
        result = self.grade_prediction(prediction, repeat=repeat)
        return to_task_result(task.id, agent, result, log_dir, model, self.eval_run(repeat)), prediction


def to_task_result(task_id: str, agent: AgentRun, result: Grade, log_dir: Path, model: str,
                   eval_run: str) -> TaskResult:
    """Map an agent run and its grade to a :class:`TaskResult` (``details`` keep the
    SWE-bench status; ``details["target_kind"]`` aims DGM's targeting)."""
    details: dict[str, Any] = {
        "swebench_status": result.status, "model_name_or_path": model, "eval_run": eval_run,
        "log_dir": str(log_dir), "agent_exit_code": agent.exit_code,
        "agent_timed_out": agent.timed_out, "patch_lines": len(agent.patch.splitlines()),
    }
    if result.reason:
        details["reason"] = result.reason[:2000]
    if result.report.get("tests_status"):
        details["tests_status"] = {k: {"failure": v.get("failure", [])}
                                   for k, v in result.report["tests_status"].items()
                                   if k in ("FAIL_TO_PASS", "PASS_TO_PASS")}
    kind: str | None = None
    if result.status == "unresolved":
        kind = "fail"
    elif result.status == "error":
        kind = "timeout" if result.timed_out else "error"
    elif result.status == "empty_patch":
        if agent.context_length:
            kind = "context_length"
            details["target_kind"] = "context_length"
            details["target_description"] = (f"on {task_id} the agent ran out of context length "
                                             "and produced no patch")
        elif agent.timed_out:
            kind = "timeout"
            details["target_kind"] = "empty_patch"
        elif agent.exit_code not in (0, None):
            kind = "crash"
        else:
            kind = "empty_patch"
            details["target_kind"] = "empty_patch"
            details["target_description"] = f"on {task_id} the agent produced an empty patch"
    passed = result.status == "resolved"
    log = f"[{result.status}] {task_id}" + (f": {result.reason}" if result.reason else "")
    log += f"\n--- agent log (exit {agent.exit_code}) ---\n{agent.log[-2500:]}"
    if result.test_output:
        log += f"\n--- test output ---\n{result.test_output[-2500:]}"
    return TaskResult(task_id=task_id, passed=passed, score=1.0 if passed else 0.0,
                      duration_s=agent.duration_s + result.duration_s, failure_kind=kind,
                      log=log[-LOG_LIMIT:], details=details)


def create(options: SWEBenchOptions, context: BuildContext) -> SWEBenchBenchmark:
    base = context.config_dir
    if options.output_dir is not None:
        out = options.output_dir if options.output_dir.is_absolute() else base / options.output_dir
    elif context.run_dir is not None:
        out = context.run_dir / "swebench"
    else:
        out = Path(tempfile.mkdtemp(prefix="darwin-swebench-"))
    scratch = context.run_dir / "scratch" if context.run_dir else None
    if scratch is not None:
        scratch.mkdir(parents=True, exist_ok=True)
    return SWEBenchBenchmark(options, base_dir=base, output_dir=out, run_id=context.run_id,
                             scratch=scratch)
