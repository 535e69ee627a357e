"""What the LLM generators tell the model: the parent's evaluation (metrics, artifacts), the
failing task's log, inspirations from the archive, lessons from memory, and a system message and
template read from files named in the config. Asserted on the requests the loopback server saw."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from llm_support import DIAGNOSIS, FAKE_KEY, KEY_ENV, MEAN_FIX, conversation, write_llm_config
from loopback import LoopbackLLM
from test_call_path import make_path

from darwin_hookspecs import BuildContext, GenerationContext, Inspiration, TaskResult, Target, UserError, Variant
from darwin_plugins.llm import prompts
from darwin_plugins.llm.choice import ModelChooser
from darwin_plugins.llm.generator import LLMGenerator, LLMOptions, book_for

FAILING_LOG = "AssertionError: mean([1, 2, 3]) == 1.5, expected 2.0  <<unique-log-7781>>"


def system_of(body: dict) -> str:
    """The system message as the wire format carries it (OpenAI: a message; Anthropic: a field)."""
    if "system" in body:
        return str(body["system"])
    return next(str(m["content"]) for m in body["messages"] if m["role"] == "system")


def parent_variant() -> Variant:
    failing = TaskResult(task_id="test_mean", passed=False, score=0.0, failure_kind="fail", log=FAILING_LOG,
                         details={"assertions": 3, "target_kind": "failing_task"})
    passing = TaskResult(task_id="test_gcd", passed=True, score=1.0, log="ok")
    # metrics and artifacts as the richer records carry them (set on the record whether or not
    # TaskResult declares the fields yet: the generator reads them with getattr)
    failing.metrics = {"accuracy": 0.25, "runtime_ms": 12.5}  # type: ignore[attr-defined]
    failing.artifacts = {"stderr": "Traceback: <<artifact-stderr-42>>"}  # type: ignore[attr-defined]
    return Variant(id="v0000root", parent_id=None, generation=0, status="accepted", score=0.5,
                   task_results={"test_mean": failing, "test_gcd": passing})


def make_generator(tmp_path: Path, backend: str, server: LoopbackLLM, config_dir: Path | None = None,
                   **options) -> LLMGenerator:
    """The generator as its factory builds it, over the call path of the call-path tests."""
    opts = LLMOptions(model="m1", **options)
    book = book_for(opts, BuildContext(config_dir=config_dir or tmp_path), backend)
    return LLMGenerator(backend, opts, make_path(tmp_path, backend, server), ModelChooser(["m1"], [1.0]), book)


PROGRAM = (Path(__file__).parents[2] / "examples" / "quickstart" / "program" / "textstats.py").read_text()


def inspiration(variant_id: str, score: float, new_code: str | None = None, ancestor: str | None = None,
                **fields) -> Inspiration:
    variant = Variant(id=variant_id, parent_id="v0000root", generation=2, status="accepted", score=score, **fields)
    files = {"textstats.py": new_code if new_code is not None else PROGRAM}
    return Inspiration(variant=variant, files=files, ancestor_id="v0001a000" if ancestor else None,
                       ancestor_files={"textstats.py": ancestor} if ancestor else None)


EARLIER = PROGRAM.replace("    mid = n // 2\n", "    mid = n // 2  # an ancestor's change\n")
INSPIRATIONS = [
    # against the common ancestor the engine computed: only this variant's own change shows
    inspiration("v0007a002", 0.875, EARLIER.replace("        if v < best:", "        if v > best:  # insp-diff-A"),
                ancestor=EARLIER, description="fixed the maximum"),
    # no ancestor given: the difference with the parent
    inspiration("v0009a001", 0.75, PROGRAM.replace("        total -= v", "        total += v  # insp-diff-B")),
]


@pytest.mark.parametrize("backend", ["openai", "anthropic"])
def test_the_prompt_carries_evaluation_log_inspirations_memory_and_the_custom_system(
        tmp_path, key_env, quickstart, backend):
    server = LoopbackLLM(lambda body: DIAGNOSIS if prompts.DIAGNOSE_MARK in conversation(body) else MEAN_FIX).start()
    try:
        (tmp_path / "prompts").mkdir()
        (tmp_path / "prompts" / "system.md").write_text("You are the <<custom-system-9>> engineer.\n")
        generator = make_generator(tmp_path, backend, server, system_prompt_file="prompts/system.md",
                                   max_inspirations=2)
        parent_dir = tmp_path / "parent"
        shutil.copytree(quickstart / "program", parent_dir)
        context = GenerationContext(
            run_id="r", attempt_id="a1", parent=parent_variant(), parent_dir=parent_dir,
            target=Target(kind="failing_task", task_id="test_mean", description="task test_mean fails"),
            seed=3, memory=["dividing by len + 1 broke mean before <<lesson-5>>"],
            inspirations=[inspiration("v0000root", 0.5)]  # the parent itself: skipped
            + INSPIRATIONS + [inspiration("v0099a000", 0.1)],
        )
        proposal = generator.propose(context)
    finally:
        server.stop()
    assert "return sum(values) / len(values)" in proposal.changes["textstats.py"]
    assert proposal.metadata["inspirations"] == ["v0007a002", "v0009a001"]  # bounded by max_inspirations
    assert len(server.bodies) == 2  # diagnose, implement
    for body in server.bodies:
        assert system_of(body) == "You are the <<custom-system-9>> engineer.\n"
        user = next(str(m["content"]) for m in body["messages"] if m["role"] == "user")
        # the parent's evaluation: score, per-task verdicts, metrics (declared or from details), artifacts
        assert "score 0.5 (1 of 2 evaluated tasks passed)" in user and "The objective" not in user
        assert "test_mean: FAILED (fail)" in user and "accuracy=0.25" in user and "runtime_ms=12.5" in user
        assert "test_gcd: passed" in user
        assert "<<artifact-stderr-42>>" in user
        # the targeted task's log, taken from the parent's record when the target carries none
        assert "<<unique-log-7781>>" in user
        # inspirations with their scores, descriptions and changes; the third one left out
        assert "### v0007a002 (score 0.875)\nfixed the maximum" in user
        assert "changes against its common ancestor with the parent" in user
        assert "+        if v > best:  # insp-diff-A" in user and "an ancestor's change" not in user
        assert "### v0009a001 (score 0.75)" in user and "changes against the parent" in user
        assert "-        total -= v\n+        total += v  # insp-diff-B" in user
        assert "v0099a000" not in user and "### v0000root" not in user
        assert "<<lesson-5>>" in user
        assert "(len(values) + 1)\n\n\ndef median" in user  # the files exactly as they are
    assert prompts.DIAGNOSE_MARK in conversation(server.bodies[0])
    assert prompts.IMPLEMENT_MARK in conversation(server.bodies[1])


def test_a_custom_template_shapes_both_steps(tmp_path, key_env, quickstart):
    server = LoopbackLLM(lambda body: DIAGNOSIS if "STEP=## Step: diagnose" in conversation(body) else MEAN_FIX).start()
    template = ("<<my-template>> STEP=$step\nScore so far:\n$evaluation\nCode:\n$files\n"
                "Plan: $diagnosis\nNotes: $memory\n$$literal dollar\n$instructions\n")
    (tmp_path / "t.txt").write_text(template)
    try:
        generator = make_generator(tmp_path, "openai", server, config_dir=tmp_path / "elsewhere",
                                   prompt_template_file=str(tmp_path / "t.txt"))
        parent_dir = tmp_path / "parent"
        shutil.copytree(quickstart / "program", parent_dir)
        proposal = generator.propose(GenerationContext(
            run_id="r", attempt_id="a1", parent=parent_variant(), parent_dir=parent_dir,
            target=Target(kind="failing_task", task_id="test_mean"), seed=1))
    finally:
        server.stop()
    assert proposal.changes
    diagnose, implement = (next(m["content"] for m in b["messages"] if m["role"] == "user") for b in server.bodies)
    assert diagnose.startswith("<<my-template>> STEP=## Step: diagnose")
    assert implement.startswith("<<my-template>> STEP=## Step: implement")
    assert "$literal dollar" in implement and "Diagnosis:\nwhat_failed: mean divides" in implement
    assert "SEARCH/REPLACE" in implement and "JSON object" in diagnose  # $instructions per step
    assert "Other variants from the archive" not in implement  # no $inspirations in this template
    assert server.bodies[0]["messages"][0]["content"] == prompts.SYSTEM  # default system message


@pytest.mark.parametrize("template, message", [
    ("$files\n$instructions\n$nope\n", r"unknown placeholder\(s\) \$nope"),
    ("$files only\n", r"lacks \$instructions"),
    ("costs 5$ $instructions", r"write \$\$ for a literal \$"),
])
def test_a_bad_template_is_refused_with_the_fix(tmp_path, template, message):
    (tmp_path / "t.txt").write_text(template)
    with pytest.raises(UserError, match=message):
        prompts.PromptBook.from_files(None, "t.txt", tmp_path, "openai")


def test_prompt_files_resolve_against_the_config_dir_and_a_missing_one_exits_2(
        quickstart, llm_server, key_env, darwin_cli, tmp_path):
    (quickstart / "system.txt").write_text("<<system-from-config-dir>>")
    config = write_llm_config(quickstart, "openai", llm_server, run={"children_per_generation": 1},
                              generator={"system_prompt_file": "system.txt"})
    result = darwin_cli("run", str(config), "--run-dir", str(tmp_path / "run"), "-q", cwd=tmp_path,
                        env={KEY_ENV: FAKE_KEY})
    assert result.returncode == 0, result.stderr[-3000:]
    assert llm_server.bodies and all(b["messages"][0]["content"] == "<<system-from-config-dir>>"
                                     for b in llm_server.bodies)
    requests = llm_server.requests

    config = write_llm_config(quickstart, "openai", llm_server, generator={"prompt_template_file": "missing.tmpl"})
    result = darwin_cli("run", str(config), "--run-dir", str(tmp_path / "run2"), "-q", env={KEY_ENV: FAKE_KEY})
    assert result.returncode == 2, result.stderr[-3000:]
    assert "prompt_template_file 'missing.tmpl' not found" in result.stderr
    assert str(quickstart / "missing.tmpl") in result.stderr.replace("\n", "")
    assert llm_server.requests == requests  # nothing was asked


def test_sections_are_bounded(tmp_path):
    from darwin_plugins.llm import context

    results = {f"t{i:03d}": TaskResult(task_id=f"t{i:03d}", passed=i % 2 == 0, score=float(i % 2 == 0))
               for i in range(100)}
    results["t001"].artifacts = {"big": "x" * 50_000}  # type: ignore[attr-defined]
    parent = Variant(id="p", parent_id=None, generation=0, status="accepted", score=0.5, task_results=results)
    text = context.render_evaluation(parent)
    assert len(text) <= context.EVALUATION_CHARS + 20
    assert "t001: FAILED" in text.splitlines()[1]  # failing tasks first
    assert f"and {100 - context.MAX_TASKS} more tasks" in text
    assert json.dumps(text).count("x") < context.ARTIFACT_CHARS + 100


def test_a_minimised_objective_is_named_with_its_direction():
    """A benchmark's optional ``objective`` (see the Benchmark protocol): the model is told what
    the score is and which way is better."""
    from darwin_plugins.llm import context

    class Objective:  # the contract's Objective shape: metric, direction, terms, describe()
        metric, direction, terms = "length", "minimise", {}

        def describe(self) -> str:
            return "minimise length"

    class Tour:
        objective = Objective()

    parent = Variant(id="p", parent_id=None, generation=0, status="accepted", score=1234.5,
                     task_results={"t": TaskResult(task_id="t", passed=True, score=1234.5)})
    text = context.render_evaluation(parent, Tour())
    assert text.startswith("The objective: minimise length (the score below is its value: lower is better).")
    assert "score 1234.5 (1 of 1" in text
    assert context.describe_objective(None) == "" and context.describe_objective(object()) == ""
