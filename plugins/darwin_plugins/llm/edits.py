"""Edits in a model's reply: parsing (SEARCH/REPLACE, unified diff, whole files) and robust
application to a tree of files.

Matching a SEARCH text (or a diff hunk's old lines) tries, in order: the exact text; the lines
with trailing whitespace ignored; the lines with indentation ignored (the replacement is then
re-indented by the same offset); a fuzzy window (difflib ratio >= ``fuzzy_threshold``). A match
must be unique. Any failure raises :class:`EditError` whose message is written for the model,
so it can correct its edit.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

FENCE = re.compile(r"^\s*(```|~~~)")
SEARCH_START = re.compile(r"^\s*<{5,9} ?SEARCH\s*$")
DIVIDER = re.compile(r"^\s*={5,9}\s*$")
REPLACE_END = re.compile(r"^\s*>{5,9} ?REPLACE\s*$")
PATH_LIKE = re.compile(r"^[\w./\\-]+\.[\w]+$|^[\w./\\-]*/[\w.-]+$")


class EditError(ValueError):
    """An edit could not be parsed or applied; the message is meant for the model."""


@dataclass
class Edit:
    """Replace ``search`` by ``replace`` in ``path`` (empty ``search``: create or append);
    ``whole`` replaces the file entirely."""

    path: str
    search: str
    replace: str
    whole: bool = False


# ------------------------------------------------------------------- parsing


def _clean_path(line: str) -> str:
    text = line.strip().strip("`*").strip()
    for prefix in ("File:", "file:", "Path:", "path:", "#"):
        if text.startswith(prefix):
            text = text[len(prefix):].strip()
    return text.strip("`*:").strip()


def parse_search_replace(text: str) -> list[Edit]:
    """Blocks of the form ``path`` / ``<<<<<<< SEARCH`` / old / ``=======`` / new /
    ``>>>>>>> REPLACE``; the path is the nearest non-fence line above the block."""
    lines = text.splitlines()
    edits: list[Edit] = []
    path = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if SEARCH_START.match(line):
            j = i - 1
            while j >= 0 and (FENCE.match(lines[j]) or not lines[j].strip()):
                j -= 1
            candidate = _clean_path(lines[j]) if j >= 0 else ""
            if candidate and PATH_LIKE.match(candidate):
                path = candidate
            if not path:
                raise EditError(f"line {i + 1}: a SEARCH block without a file path; put the file's "
                                "relative path alone on the line before <<<<<<< SEARCH")
            search: list[str] = []
            i += 1
            while i < len(lines) and not DIVIDER.match(lines[i]):
                if SEARCH_START.match(lines[i]) or REPLACE_END.match(lines[i]):
                    raise EditError(f"line {i + 1}: expected ======= after the SEARCH text of {path}")
                search.append(lines[i])
                i += 1
            if i >= len(lines):
                raise EditError(f"the SEARCH block for {path} is not closed by ======= and >>>>>>> REPLACE "
                                "(the reply may have been cut off); send complete blocks")
            replace: list[str] = []
            i += 1
            while i < len(lines) and not REPLACE_END.match(lines[i]):
                replace.append(lines[i])
                i += 1
            if i >= len(lines):
                raise EditError(f"the block for {path} is not closed by >>>>>>> REPLACE (the reply may "
                                "have been cut off); send complete blocks")
            edits.append(Edit(path, _join(search), _join(replace)))
        i += 1
    return edits


def parse_whole_files(text: str) -> list[Edit]:
    """A path line followed by a fenced block holding the file's complete new content."""
    lines = text.splitlines()
    edits: list[Edit] = []
    i = 0
    while i < len(lines):
        if FENCE.match(lines[i]):
            j = i - 1
            while j >= 0 and not lines[j].strip():
                j -= 1
            candidate = _clean_path(lines[j]) if j >= 0 else ""
            fence = FENCE.match(lines[i]).group(1)  # type: ignore[union-attr]
            body: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(fence):
                body.append(lines[i])
                i += 1
            if i >= len(lines):
                raise EditError(f"the fenced block for {candidate or 'a file'} is not closed (the reply "
                                "may have been cut off); send the complete file")
            if candidate and PATH_LIKE.match(candidate):
                edits.append(Edit(candidate, "", _join(body) + "\n", whole=True))
        i += 1
    return edits


def parse_unified_diff(text: str) -> list[Edit]:
    """``--- a/x`` / ``+++ b/x`` / ``@@`` hunks; each hunk becomes a SEARCH/REPLACE edit (line
    numbers are ignored: hunks are located by their content)."""
    lines = text.splitlines()
    edits: list[Edit] = []
    path = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("+++ "):
            target = line[4:].split("\t")[0].strip()
            path = target[2:] if target.startswith(("a/", "b/")) else target
            if path == "/dev/null":
                old = lines[i - 1][4:].split("\t")[0].strip() if i > 0 else ""
                path = "!delete:" + (old[2:] if old.startswith(("a/", "b/")) else old)
        elif line.startswith("@@") and path:
            old_lines: list[str] = []
            new_lines: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].startswith(("@@", "--- ", "+++ ", "diff ")):
                hunk_line = lines[i]
                if hunk_line.startswith("+"):
                    new_lines.append(hunk_line[1:])
                elif hunk_line.startswith("-"):
                    old_lines.append(hunk_line[1:])
                elif hunk_line.startswith(" ") or hunk_line == "":
                    old_lines.append(hunk_line[1:])
                    new_lines.append(hunk_line[1:])
                elif hunk_line.startswith("\\"):
                    pass
                else:
                    break
                i += 1
            if path.startswith("!delete:"):
                edits.append(Edit(path[len("!delete:"):], "", "", whole=True))
            else:
                edits.append(Edit(path, _join(old_lines), _join(new_lines)))
            continue
        i += 1
    return edits


def parse_edits(text: str, fmt: str) -> list[Edit]:
    """Parse ``text`` in format ``fmt`` (``search_replace``, ``diff``, ``whole``), falling back to
    the other formats when the reply used one of them instead."""
    order = {"search_replace": [parse_search_replace, parse_unified_diff, parse_whole_files],
             "diff": [parse_unified_diff, parse_search_replace, parse_whole_files],
             "whole": [parse_whole_files, parse_search_replace, parse_unified_diff]}[fmt]
    first_error: EditError | None = None
    for parser in order:
        try:
            edits = parser(text)
        except EditError as exc:
            first_error = first_error or exc
            continue
        if edits:
            return edits
    if first_error:
        raise first_error
    raise EditError("the reply holds no edit; answer with edits in the requested format")


def _join(lines: list[str]) -> str:
    return "\n".join(lines)


# ----------------------------------------------------------------- applying


def apply_edits(files: dict[str, str], edits: list[Edit], fuzzy_threshold: float = 0.9) -> dict[str, str | None]:
    """Apply ``edits`` to ``files`` (``{path: text}``); return ``{path: new text or None}`` for
    every changed file. All-or-nothing: raises :class:`EditError` on the first failing edit."""
    current: dict[str, str | None] = dict(files)
    for number, edit in enumerate(edits, 1):
        path = edit.path.replace("\\", "/").lstrip("./") if edit.path.startswith("./") else edit.path.replace("\\", "/")
        if path.startswith("/") or ".." in path.split("/"):
            raise EditError(f"edit {number}: path {edit.path!r} leaves the project; use a relative path")
        if edit.whole:
            current[path] = edit.replace if edit.replace else None
            continue
        text = current.get(path)
        if text is None:
            if edit.search.strip():
                known = ", ".join(sorted(p for p, t in current.items() if t is not None)[:20])
                raise EditError(f"edit {number}: file {path!r} does not exist; existing files: {known}")
            current[path] = edit.replace + ("\n" if not edit.replace.endswith("\n") else "")
            continue
        if not edit.search.strip():
            current[path] = text + ("" if text.endswith("\n") or not text else "\n") + edit.replace + "\n"
            continue
        try:
            current[path] = replace_once(text, edit.search, edit.replace, fuzzy_threshold)
        except EditError as exc:
            raise EditError(f"edit {number} ({path}): {exc}") from None
    return {p: t for p, t in current.items() if files.get(p) != t}


def replace_once(text: str, search: str, replace: str, fuzzy_threshold: float = 0.9) -> str:
    """Replace the unique occurrence of ``search`` in ``text`` (tolerant matching)."""
    count = text.count(search)
    if count == 1:
        return text.replace(search, replace, 1)
    if count > 1:
        raise EditError(f"the SEARCH text occurs {count} times; include more surrounding lines so it is unique")
    lines = text.split("\n")
    old = search.strip("\n").split("\n")
    new = replace.strip("\n").split("\n") if replace.strip("\n") else []
    for normalise, reindent in ((str.rstrip, False), (str.strip, True)):
        want = [normalise(x) for x in old]
        hits = [i for i in range(len(lines) - len(old) + 1)
                if [normalise(x) for x in lines[i:i + len(old)]] == want]
        if len(hits) > 1:
            raise EditError(f"the SEARCH text matches {len(hits)} places; include more surrounding lines")
        if hits:
            return _splice(lines, hits[0], len(old), old, new, reindent)
    best, best_i = 0.0, -1
    joined = "\n".join(x.strip() for x in old)
    for i in range(len(lines) - len(old) + 1):
        window = "\n".join(x.strip() for x in lines[i:i + len(old)])
        ratio = difflib.SequenceMatcher(None, joined, window, autojunk=False).ratio()
        if ratio > best:
            best, best_i = ratio, i
    if best >= fuzzy_threshold and best_i >= 0:
        return _splice(lines, best_i, len(old), old, new, True)
    hint = ""
    if best_i >= 0:
        hint = "; the closest lines are:\n" + "\n".join(lines[best_i:best_i + len(old)])
    raise EditError(f"the SEARCH text was not found (best similarity {best:.2f}){hint}\n"
                    "copy the SEARCH lines exactly from the current file")


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _splice(lines: list[str], start: int, length: int, old: list[str], new: list[str], reindent: bool) -> str:
    if reindent:
        first_old = next((x for x in old if x.strip()), "")
        first_real = next((x for x in lines[start:start + length] if x.strip()), "")
        have, want = _indent(first_old), _indent(first_real)
        if have != want:
            fixed = []
            for line in new:
                if line.startswith(have):
                    fixed.append(want + line[len(have):])
                elif not line.strip():
                    fixed.append(line)
                else:
                    fixed.append(want + line.lstrip())
            new = fixed
    return "\n".join(lines[:start] + new + lines[start + length:])
