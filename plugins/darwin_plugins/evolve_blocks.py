"""Evolve blocks: which parts of a variant a generator may change.

Two ways to say it, usable together:

- markers in the files (OpenEvolve's convention): the lines strictly between a line holding
  ``EVOLVE-BLOCK-START`` and the next line holding ``EVOLVE-BLOCK-END`` may change (a block
  never closed runs to the end of the file, as in the mutation generator); the marker lines
  themselves and everything outside may not;
- the generator's ``regions`` option (:class:`RegionSpec`): ``"path:first-last"`` (1-based,
  inclusive, the mutation generator's form; the numbers are those of each parent's file, so
  they do not follow the code as children change it), a whole file (``{path = "*.md"}``, a
  glob), or one Python function or class (``{path = "s.py", symbol = "Solver.step"}``),
  located with :mod:`ast` in each parent so the region follows the code as it evolves.

When neither is present nothing is restricted. When either is, a change outside the editable
spans (in a frozen file, a new file, a deleted file, a moved marker) is refused with a reason.
Shared by the generators (``llm``, ``mutation``): :func:`editable_regions` once per parent, then
:meth:`EditableRegions.allows` to pick edit sites and :meth:`EditableRegions.check` to vet a
change.
"""

from __future__ import annotations

import ast
import difflib
import fnmatch
import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from pydantic import BaseModel, ConfigDict, model_validator

START = "EVOLVE-BLOCK-START"
END = "EVOLVE-BLOCK-END"


class RegionSpec(BaseModel):
    """An editable region named in a generator's options."""

    model_config = ConfigDict(extra="forbid")
    path: str
    """A file's relative path, or a glob (``*.py``)."""
    symbol: str | None = None
    """A function or class in that Python file (``solve``, ``Solver.step``)."""
    lines: tuple[int, int] | None = None
    """First and last line (1-based, inclusive). Neither ``symbol`` nor ``lines``: the whole file."""

    @model_validator(mode="after")
    def _one_kind(self) -> "RegionSpec":
        if self.symbol is not None and self.lines is not None:
            raise ValueError("a region names a symbol or lines, not both")
        if self.lines is not None and not 1 <= self.lines[0] <= self.lines[1]:
            raise ValueError(f"lines {list(self.lines)}: expected [first, last] with 1 <= first <= last")
        return self

    @classmethod
    def parse(cls, value: "str | RegionSpec | Mapping[str, object]") -> "RegionSpec":
        """A region from ``"path:first-last"`` (the mutation generator's form) or a table."""
        if isinstance(value, RegionSpec):
            return value
        if isinstance(value, str):
            match = _SPEC.match(value.strip())
            if not match:
                raise ValueError(f"region {value!r} is not 'path:first-last' (e.g. 'solver.py:10-40'); "
                                 "for a whole file or a function use a table {path = ..., symbol = ...}")
            return cls(path=match["path"], lines=(int(match["first"]), int(match["last"])))
        return cls.model_validate(value)


_SPEC = re.compile(r"^(?P<path>.+):(?P<first>\d+)-(?P<last>\d+)$")


class BlockError(ValueError):
    """A configured region cannot be located; the message names the file and why."""


@dataclass(frozen=True)
class Span:
    """Editable lines ``start`` (included) to ``end`` (excluded), 0-based; ``label`` for people."""

    start: int
    end: int
    label: str = ""


@dataclass
class EditableRegions:
    """What may change in one parent. ``restricted`` false: everything may."""

    restricted: bool = False
    spans: dict[str, list[Span]] = field(default_factory=dict)
    """Files with editable spans (a whole-file region is one span over the whole file)."""
    whole: list[str] = field(default_factory=list)
    """Globs of files that may change entirely, be created or deleted."""
    notes: list[str] = field(default_factory=list)
    """Problems met while reading the regions (unpaired markers, a symbol not found)."""

    def allows(self, path: str, first_line: int, last_line: int) -> bool:
        """Whether lines ``first_line``..``last_line`` (1-based, inclusive) of ``path`` may change."""
        if not self.restricted or self._whole(path):
            return True
        return any(s.start < first_line and last_line <= s.end for s in self.spans.get(path, []))

    def check(self, old_files: Mapping[str, str], changes: Mapping[str, str | None]) -> list[str]:
        """Reasons the change ``{path: new text or None}`` against ``old_files`` is refused (empty:
        it stays inside the editable regions)."""
        if not self.restricted:
            return []
        reasons: list[str] = []
        for path in sorted(changes):
            new, old = changes[path], old_files.get(path)
            if new == old or self._whole(path):
                continue
            if old is None:
                reasons.append(f"{path}: a new file, outside the editable regions")
            elif new is None:
                reasons.append(f"{path}: deleted, but only its editable regions may change")
            elif path not in self.spans:
                reasons.append(f"{path}: this file may not change (no editable region in it)")
            else:
                reasons += self._check_text(path, old, new)
        return reasons

    def describe(self) -> str:
        """The editable regions, for a prompt (empty when nothing is restricted)."""
        if not self.restricted:
            return ""
        lines = [f"- {glob}: the whole file (it may also be created or deleted)" for glob in self.whole]
        for path in sorted(self.spans):
            for span in self.spans[path]:
                what = span.label or "a region"
                lines.append(f"- {path}: {what} (lines {span.start + 1}-{span.end})")
        if not lines:
            lines.append("- (none: nothing may change)")
        lines += [f"- note: {note}" for note in self.notes]
        return "\n".join(lines)

    def _whole(self, path: str) -> bool:
        return any(fnmatch.fnmatch(path, glob) for glob in self.whole)

    def _check_text(self, path: str, old: str, new: str) -> list[str]:
        old_lines, new_lines = old.splitlines(), new.splitlines()
        if _marker_lines(old_lines) != _marker_lines(new_lines):
            return [f"{path}: the {START}/{END} marker lines were changed, moved or added; keep them as they are"]
        spans = self.spans[path]
        reasons = []
        matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
        for tag, i1, i2, _, _ in matcher.get_opcodes():
            if tag == "equal":
                continue
            if i1 == i2:  # an insertion before old line i1 (0-based)
                if not any(s.start <= i1 <= s.end for s in spans):
                    reasons.append(f"{path}: lines inserted after line {i1}, outside the editable regions")
            elif not any(s.start <= i1 and i2 <= s.end for s in spans):
                where = f"line {i1 + 1}" if i2 == i1 + 1 else f"lines {i1 + 1}-{i2}"
                if _marker_lines(old_lines[i1:i2]):
                    where += " (a marker line: keep it where it is)"
                reasons.append(f"{path}: {where} changed, outside the editable regions")
        return reasons


def _marker_lines(lines: Sequence[str]) -> list[str]:
    return [line.strip() for line in lines if START in line or END in line]


def marker_spans(text: str, path: str = "", notes: list[str] | None = None) -> list[Span]:
    """The editable spans between ``EVOLVE-BLOCK-START`` / ``EVOLVE-BLOCK-END`` lines of ``text``
    (a block never closed runs to the end; a stray marker is ignored, and said in ``notes``)."""
    spans: list[Span] = []
    start: int | None = None
    lines = text.splitlines()
    label = f"the block between the {START}/{END} markers"
    for number, line in enumerate(lines):
        if START in line and start is None:
            start = number + 1
        elif END in line and start is not None:
            spans.append(Span(start, number, label))
            start = None
        elif (START in line or END in line) and notes is not None:
            notes.append(f"{path}:{number + 1}: a stray {START if START in line else END} marker (ignored)")
    if start is not None:
        spans.append(Span(start, len(lines), f"the block after the {START} marker (never closed: to the end)"))
        if notes is not None:
            notes.append(f"{path}:{start}: {START} is never closed by {END}; the block runs to the end of the file")
    return spans


def symbol_span(text: str, symbol: str, path: str = "") -> Span:
    """The lines of function or class ``symbol`` (dotted for nested ones), decorators included;
    raises :class:`BlockError` when the file does not parse or the symbol is not in it."""
    try:
        body: list[ast.stmt] = ast.parse(text).body
    except SyntaxError as exc:
        raise BlockError(f"{path}: cannot locate {symbol!r}: the file does not parse ({exc.msg}, line {exc.lineno})")
    node: ast.AST | None = None
    for part in symbol.split("."):
        node = next((n for n in body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                     and n.name == part), None)
        if node is None:
            raise BlockError(f"{path}: no function or class {symbol!r}")
        body = node.body  # type: ignore[attr-defined]
    first = min([node.lineno] + [d.lineno for d in node.decorator_list])  # type: ignore[union-attr,attr-defined]
    kind = "class" if isinstance(node, ast.ClassDef) else "function"
    return Span(first - 1, node.end_lineno or node.lineno, f"{kind} `{symbol}`")  # type: ignore[union-attr]


def editable_regions(files: Mapping[str, str], specs: Sequence[RegionSpec] = ()) -> EditableRegions:
    """What may change in the variant whose text files are ``files``: the marker blocks of every
    file holding markers, and the regions ``specs`` name."""
    regions = EditableRegions()
    for path in sorted(files):
        text = files[path]
        if START not in text and END not in text:
            continue
        regions.restricted = True
        spans = marker_spans(text, path, regions.notes)
        if spans:
            regions.spans.setdefault(path, []).extend(spans)
    for spec in specs:
        regions.restricted = True
        if spec.symbol is None and spec.lines is None:
            regions.whole.append(spec.path)
            continue
        what = f"`{spec.symbol}`" if spec.symbol else f"lines {spec.lines[0]}-{spec.lines[1]}"  # type: ignore[index]
        matched = [p for p in sorted(files) if fnmatch.fnmatch(p, spec.path)]
        if not matched:
            regions.notes.append(f"{spec.path}: no such file for the region {what}")
        for path in matched:
            if spec.lines is not None:
                first, last = spec.lines
                regions.spans.setdefault(path, []).append(Span(first - 1, last, f"lines {first}-{last}"))
                continue
            try:
                regions.spans.setdefault(path, []).append(symbol_span(files[path], spec.symbol or "", path))
            except BlockError as exc:
                regions.notes.append(str(exc))
    for path in list(regions.spans):
        regions.spans[path].sort(key=lambda s: (s.start, s.end))
    return regions
