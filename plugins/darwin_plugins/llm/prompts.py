"""Prompts of the two steps (diagnose, implement) and the edit-format instructions."""

from __future__ import annotations

import json
from typing import Any, Callable

from darwin_hookspecs import Target

SYSTEM = (
    "You are an expert software engineer improving a program so that more of its benchmark "
    "tasks pass. Make small, correct, general changes; never special-case a test."
)

DIAGNOSE_MARK = "## Step: diagnose"
IMPLEMENT_MARK = "## Step: implement"
DIAGNOSIS_KEYS = ("what_failed", "what_to_change", "how")

FORMATS = {
    "search_replace": (
        "Answer with one or more SEARCH/REPLACE blocks. Each block is: the file's relative path "
        "alone on a line, then\n<<<<<<< SEARCH\n(lines copied exactly from the current file)\n"
        "=======\n(the new lines)\n>>>>>>> REPLACE\nUse an empty SEARCH part to create a file."
    ),
    "diff": (
        "Answer with a unified diff (--- a/PATH, +++ b/PATH, @@ hunks with a few context lines). "
        "Line numbers may be approximate; context lines must match the current file."
    ),
    "whole": (
        "Answer with the complete new content of every file you change: the file's relative path "
        "alone on a line, then the whole file in a fenced code block."
    ),
}


def render_files(files: dict[str, str]) -> str:
    return "\n\n".join(f"### {path}\n```\n{text}\n```" for path, text in sorted(files.items()))


def describe_target(target: Target | None) -> str:
    if target is None:
        return "No specific failing task: improve the program in general."
    parts = [f"Target: {target.kind}" + (f" (task {target.task_id})" if target.task_id else "")]
    if target.description:
        parts.append(target.description)
    if target.log:
        parts.append("Output of the failing task:\n```\n" + target.log[-4000:] + "\n```")
    return "\n".join(parts)


def diagnose_prompt(files: dict[str, str], target: Target | None, memory: list[str]) -> str:
    hints = "\n".join(f"- {m}" for m in memory) if memory else "(none)"
    return (
        f"{DIAGNOSE_MARK}\n\nThe program's files:\n\n{render_files(files)}\n\n"
        f"{describe_target(target)}\n\nWhat worked or failed before:\n{hints}\n\n"
        "Diagnose the failure. Answer with only a JSON object with the string keys "
        f"{', '.join(repr(k) for k in DIAGNOSIS_KEYS)}: what failed, what to change, and how."
    )


def parse_diagnosis(text: str) -> dict[str, Any]:
    """The JSON object in ``text``; raises ``ValueError`` with a message for the model."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise ValueError("no JSON object found")
    data = json.loads(text[start:end + 1])
    if not isinstance(data, dict):
        raise ValueError("the JSON is not an object")
    missing = [k for k in DIAGNOSIS_KEYS if not str(data.get(k, "")).strip()]
    if missing:
        raise ValueError(f"missing keys: {', '.join(missing)}")
    return data


def diagnose(files: dict[str, str], target: Target | None, memory: list[str],
             ask: Callable[[list[dict[str, str]], str, int], Any], max_repairs: int) -> dict[str, Any] | None:
    """Ask for the diagnosis JSON, asking again (at most ``max_repairs`` times) when the reply is
    not one; ``ask(messages, role, step)`` returns a completion with ``.text``. ``None`` when the
    model said nothing; ``{"raw": ...}`` when it never produced the JSON."""
    messages = [{"role": "system", "content": SYSTEM},
                {"role": "user", "content": diagnose_prompt(files, target, memory)}]
    last = ""
    for step in range(max_repairs + 1):
        last = ask(messages, "diagnose", step).text
        try:
            return parse_diagnosis(last)
        except ValueError as exc:
            messages = messages + [
                {"role": "assistant", "content": last or "(empty)"},
                {"role": "user", "content": f"That was not the requested JSON object ({exc}). "
                                            "Answer again with only the JSON object."},
            ]
    return {"raw": last[:4000]} if last.strip() else None


def implement_prompt(files: dict[str, str], target: Target | None, diagnosis: dict[str, Any] | None,
                     memory: list[str], fmt: str) -> str:
    plan = "\n".join(f"{k}: {diagnosis.get(k)}" for k in DIAGNOSIS_KEYS) if diagnosis else "(no diagnosis)"
    hints = "\n".join(f"- {m}" for m in memory) if memory else "(none)"
    return (
        f"{IMPLEMENT_MARK}\n\nThe program's files:\n\n{render_files(files)}\n\n"
        f"{describe_target(target)}\n\nDiagnosis:\n{plan}\n\nWhat worked or failed before:\n{hints}\n\n"
        f"Implement the change. {FORMATS[fmt]}"
    )


def edit_feedback(error: str, truncated: bool) -> str:
    cut = " Your reply was cut off by the length limit: send fewer, smaller edits." if truncated else ""
    return f"Your edits could not be applied: {error}{cut}\nSend corrected edits for the current files."
