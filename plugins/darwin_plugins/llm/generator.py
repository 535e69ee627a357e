"""Generators ``openai``, ``anthropic``, ``litellm``: DGM's diagnose-then-implement proposal.

1. **Diagnose** (role ``diagnose``): the model sees the parent's files, the targeted task's log,
   the parent's evaluation (scores, metrics, artifacts), inspirations from the archive, the
   editable regions and the lessons from memory (:mod:`.context`), and answers a JSON object
   (what failed, what to change, how). A reply that is not such an object is re-asked, at most
   ``max_repairs`` times; past that the raw reply stands as the plan.
2. **Implement** (role ``implement``): the model answers edits in ``edit_format``; they are
   parsed and applied tolerantly (:mod:`.edits`). When they do not apply (or the reply is empty
   or cut off, or changes code outside the evolve blocks), the error goes back to the model, at
   most ``max_edit_retries`` times; past that the proposal is empty (a refusal's reason in its
   description and ``metadata["refused"]``) and the child is recorded ``invalid``.

The system message and the prompt template can be replaced by files (:mod:`.prompts`).
"""

from __future__ import annotations

import fnmatch
import random
from pathlib import Path
from typing import Any, Callable

from darwin_hookspecs import BuildContext, GenerationContext, Proposal, SpendLedger, Usage

from ..evolve_blocks import EditableRegions, RegionSpec, editable_regions
from . import prompts
from .choice import ModelChooser, register
from .client import CallPath, Endpoint
from .context import build_sections
from .edits import EditError, apply_edits, parse_edits
from .options import CallOptions, LLMOptions, build_call_path, run_ledger


def read_files(root: Path, include: list[str], exclude: list[str], limit: int) -> dict[str, str]:
    """Text files of the variant the model may see and edit, up to ``limit`` characters."""
    files: dict[str, str] = {}
    used = 0
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        name = path.name
        if not any(fnmatch.fnmatch(rel, g) or fnmatch.fnmatch(name, g) for g in include):
            continue
        if any(fnmatch.fnmatch(rel, g) or fnmatch.fnmatch(name, g) for g in exclude):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if used + len(text) > limit:
            continue
        files[rel] = text
        used += len(text)
    return files


class LLMGenerator:
    sandbox_free = True
    """``propose`` only calls models, runs nothing in the sandbox: the engine may start it before
    its attempt's ``running`` mark is durable (the evaluation still waits for it)."""

    def __init__(self, name: str, options: LLMOptions, calls: CallPath, chooser: ModelChooser,
                 book: prompts.PromptBook | None = None) -> None:
        self.name = name
        self.options = options
        self.calls = calls
        self.chooser = chooser
        self.book = book or prompts.DEFAULT_BOOK

    def propose(self, context: GenerationContext) -> Proposal:
        opts = self.options
        rng = random.Random(f"{context.seed}:model")
        endpoint = self.calls.endpoints[self.chooser.choose(rng)]
        usage: list[Usage] = []

        def record(u: Usage) -> None:
            usage.append(u)
            if context.record_usage:
                context.record_usage(u)

        def ask(messages: list[dict[str, str]], role: str, step: int) -> Any:
            completion, _ = self.calls.complete(
                messages, role=role, attempt_id=context.attempt_id, seed=context.seed + step,
                endpoint=endpoint, temperature=opts.temperature, max_tokens=opts.max_tokens,
                record_usage=record,
            )
            return completion

        files = read_files(context.parent_dir, opts.include, opts.exclude, opts.max_context_chars)
        everything = {**self._all_text(context.parent_dir), **files}
        regions = editable_regions(files, [RegionSpec.parse(r) for r in opts.regions])
        inspirations = [i for i in getattr(context, "inspirations", None) or []
                        if i.variant.id != context.parent.id][:opts.max_inspirations]
        sections = build_sections(files, context.target, context.memory, parent=context.parent,
                                  benchmark=context.benchmark, inspirations=inspirations, max_inspirations=opts.max_inspirations,
                                  regions=regions.describe(), parent_files=everything)
        try:
            diagnosis = (prompts.diagnose(files, context.target, context.memory, ask, opts.max_repairs,
                                          book=self.book, sections=sections) if opts.diagnose else None)
            changes, note, refused = self._implement(files, everything, regions, sections, context, diagnosis, ask)
        finally:
            self.calls.ledger.flush(context.attempt_id)  # this attempt's spend and replies are durable
        summary = ""
        if diagnosis:
            summary = str(diagnosis.get("what_to_change") or diagnosis.get("raw") or "")[:500]
        if refused:
            summary = f"refused: the edits change code outside the editable regions: {refused}"
        metadata: dict[str, Any] = {"llm_model": endpoint.model, "llm_provider": endpoint.provider.name,
                                    "diagnosis": diagnosis or {}, "edit_note": note}
        if inspirations:
            metadata["inspirations"] = [i.variant.id for i in inspirations]
        if regions.restricted:
            metadata["evolve_regions"] = regions.describe()
        if refused:
            metadata["refused"] = refused
        return Proposal(
            changes=changes, improvement_type=f"llm:{opts.edit_format}",
            description=(summary or note or "LLM edit")[:1000], usage=usage, metadata=metadata,
        )

    def _implement(self, files: dict[str, str], everything: dict[str, str], regions: EditableRegions,
                   sections: Any, context: GenerationContext, diagnosis: dict[str, Any] | None,
                   ask: Callable[..., Any]) -> tuple[dict[str, str | None], str, str]:
        """The changes, a note on how they applied, and why the last reply was refused (if it was)."""
        fmt = self.options.edit_format
        messages = self.book.messages(prompts.implement_prompt(
            files, context.target, diagnosis, context.memory, fmt, book=self.book, sections=sections))
        error = refused = ""
        for step in range(self.options.max_edit_retries + 1):
            completion = ask(messages, "implement", 100 + step)
            truncated = completion.finish_reason in ("length", "max_tokens")
            refused = ""
            try:
                if not completion.text.strip():
                    raise EditError("the reply was empty")
                edits = parse_edits(completion.text, fmt)
                changes = apply_edits(everything, edits, self.options.fuzzy_threshold)
                if not changes:
                    raise EditError("the edits change nothing")
                outside = regions.check(everything, changes)
                if outside:
                    refused = "; ".join(outside)[:1000]
                    raise EditError(f"refused: they change code outside the editable regions ({refused}); "
                                    "change only the code inside them, and keep the marker lines")
                return changes, f"{len(edits)} edit(s) applied after {step + 1} repl{'y' if step == 0 else 'ies'}", ""
            except EditError as exc:
                error = str(exc)
                messages = messages + [
                    {"role": "assistant", "content": completion.text or "(empty)"},
                    {"role": "user", "content": prompts.edit_feedback(error, truncated)},
                ]
        return {}, f"edits did not apply after {self.options.max_edit_retries + 1} replies: {error[:300]}", refused

    @staticmethod
    def _all_text(root: Path) -> dict[str, str]:
        out: dict[str, str] = {}
        for path in root.rglob("*"):
            if path.is_file():
                try:
                    out[path.relative_to(root).as_posix()] = path.read_text(encoding="utf-8")
                except (UnicodeDecodeError, OSError):
                    pass
        return out


def make_chooser(options: CallOptions, ledger: SpendLedger, run_id: str) -> ModelChooser:
    specs = options.specs()
    chooser = ModelChooser([s.model for s in specs], [s.weight for s in specs], options.model_choice)
    if ledger.storage is not None and len(specs) > 1:
        from darwin_hookspecs import Variant

        try:
            for _, value, _ in ledger.storage.scan("variants"):
                chooser.observe_variant(Variant.from_dict(value))
        except Exception:  # noqa: BLE001 - evidence is optional
            pass
    if run_id:
        register(run_id, chooser)
    return chooser


def factory(provider: str) -> Callable[[LLMOptions, BuildContext], LLMGenerator]:
    def create(options: LLMOptions, context: BuildContext) -> LLMGenerator:
        ledger = run_ledger(context, provider)
        calls = build_call_path(provider, options, context, ledger, provider)
        return LLMGenerator(provider, options, calls, make_chooser(options, ledger, context.run_id),
                            book_for(options, context, provider))

    return create


def book_for(options: LLMOptions, context: BuildContext, backend: str) -> prompts.PromptBook:
    """The system message and template: the files the options name (relative to the config file's
    directory; a missing one is a clear error naming the path), or the defaults."""
    return prompts.PromptBook.from_files(options.system_prompt_file, options.prompt_template_file,
                                         context.config_dir, backend)
