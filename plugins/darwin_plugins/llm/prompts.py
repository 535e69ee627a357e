"""Prompts of the two steps (diagnose, implement): the system message, the template, and the
edit-format instructions.

Both steps render one template (:data:`DEFAULT_TEMPLATE`, or the file named by the generator's
``prompt_template_file``) with :class:`string.Template` placeholders: ``$step`` (the step's
heading), ``$files``, ``$target``, ``$evaluation``, ``$inspirations``, ``$evolve_blocks``,
``$diagnosis`` (implement step only), ``$memory`` and ``$instructions`` (what to answer, and in
which format; required). A section with nothing to say renders empty. The system message is
:data:`SYSTEM` or the file named by ``system_prompt_file``.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

from darwin_hookspecs import Target, UserError

from .context import Sections, build_sections, describe_target, render_files  # noqa: F401 (re-exported)

SYSTEM = (
    "You are an expert software engineer improving a program so that more of its benchmark "
    "tasks pass. Make small, correct, general changes; never special-case a test."
)

DIAGNOSE_MARK = "## Step: diagnose"
IMPLEMENT_MARK = "## Step: implement"
DIAGNOSIS_KEYS = ("what_failed", "what_to_change", "how")

PLACEHOLDERS = ("step", "files", "target", "evaluation", "inspirations", "evolve_blocks", "diagnosis",
                "memory", "instructions")
EMPTY = "\x00"
DEFAULT_TEMPLATE = "\n\n".join(f"${name}" for name in PLACEHOLDERS) + "\n"

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

DIAGNOSE_INSTRUCTIONS = (
    "Diagnose the failure. Answer with only a JSON object with the string keys "
    f"{', '.join(repr(k) for k in DIAGNOSIS_KEYS)}: what failed, what to change, and how."
)


class PromptBook:
    """The system message and the template both steps render."""

    def __init__(self, system: str = SYSTEM, template: str = DEFAULT_TEMPLATE, source: str = "the template") -> None:
        self.system = system
        self.template = string.Template(template)
        if not self.template.is_valid():
            raise UserError(f"{source}: a '$' that starts no placeholder; fix: write $$ for a literal $, "
                            f"placeholders are {', '.join('$' + p for p in PLACEHOLDERS)}")
        unknown = sorted(set(self.template.get_identifiers()) - set(PLACEHOLDERS))
        if unknown:
            raise UserError(f"{source}: unknown placeholder(s) {', '.join('$' + u for u in unknown)}; "
                            f"known: {', '.join('$' + p for p in PLACEHOLDERS)}")
        if "instructions" not in self.template.get_identifiers():
            raise UserError(f"{source}: the template lacks $instructions (what the model must answer, "
                            "and in which format); fix: add $instructions to it")

    @classmethod
    def from_files(cls, system_file: str | None, template_file: str | None, config_dir: Path,
                   backend: str) -> "PromptBook":
        """Read the files named in the config (relative to ``config_dir``); defaults for unset ones."""
        system = _read(system_file, config_dir, backend, "system_prompt_file") if system_file else SYSTEM
        template = _read(template_file, config_dir, backend, "prompt_template_file") if template_file else DEFAULT_TEMPLATE
        source = f"generator {backend!r}: prompt_template_file {template_file!r}" if template_file else "the template"
        return cls(system, template, source)

    def render(self, step: str, sections: Sections, instructions: str, diagnosis: str = "") -> str:
        values = {**asdict(sections), "step": DIAGNOSE_MARK if step == "diagnose" else IMPLEMENT_MARK,
                  "diagnosis": diagnosis, "instructions": instructions}
        # an empty section takes its surrounding blank lines with it (the files' own stay intact)
        text = self.template.substitute({k: v or EMPTY for k, v in values.items()})
        return re.sub(rf"(\n*{EMPTY})+\n*", "\n\n", text).strip("\n" + EMPTY) + "\n"

    def messages(self, user: str) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system}, {"role": "user", "content": user}]


def _read(name: str, config_dir: Path, backend: str, option: str) -> str:
    path = Path(name).expanduser()
    path = path if path.is_absolute() else Path(config_dir) / path
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"generator {backend!r}: {option} {name!r} not found (looked for {path}, relative "
                        "to the config file's directory); fix: create the file or correct the path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"generator {backend!r}: {option} {path} cannot be read ({exc}); fix: make it a "
                        "readable UTF-8 text file") from None


DEFAULT_BOOK = PromptBook()


def diagnose_prompt(files: dict[str, str], target: Target | None, memory: list[str], *,
                    book: PromptBook = DEFAULT_BOOK, sections: Sections | None = None) -> str:
    sections = sections or build_sections(files, target, memory)
    return book.render("diagnose", sections, DIAGNOSE_INSTRUCTIONS)


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
             ask: Callable[[list[dict[str, str]], str, int], Any], max_repairs: int, *,
             book: PromptBook = DEFAULT_BOOK, sections: Sections | None = None) -> dict[str, Any] | None:
    """Ask for the diagnosis JSON, asking again (at most ``max_repairs`` times) when the reply is
    not one; ``ask(messages, role, step)`` returns a completion with ``.text``. ``None`` when the
    model said nothing; ``{"raw": ...}`` when it never produced the JSON."""
    messages = book.messages(diagnose_prompt(files, target, memory, book=book, sections=sections))
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
                     memory: list[str], fmt: str, *, book: PromptBook = DEFAULT_BOOK,
                     sections: Sections | None = None) -> str:
    plan = "\n".join(f"{k}: {diagnosis.get(k)}" for k in DIAGNOSIS_KEYS) if diagnosis else "(no diagnosis)"
    if diagnosis and diagnosis.get("raw"):
        plan = str(diagnosis["raw"])
    sections = sections or build_sections(files, target, memory)
    return book.render("implement", sections, f"Implement the change. {FORMATS[fmt]}", "Diagnosis:\n" + plan)


def edit_feedback(error: str, truncated: bool) -> str:
    cut = " Your reply was cut off by the length limit: send fewer, smaller edits." if truncated else ""
    return f"Your edits could not be applied: {error}{cut}\nSend corrected edits for the current files."
