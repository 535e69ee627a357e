"""Features of a generated change, computed in the orchestrator after generation and before
evaluation (the after-generation gate, see :mod:`darwin_core.gating`).

A :class:`Patch` is the proposal with the parent's old content of the files it changes. Its
features: how big it is (files, lines added and removed, bytes), what kind of change it is (the
proposal's ``improvement_type`` and its short metadata labels, e.g. the mutation operator),
whether it touches the lines the targeted task executed (when the benchmark reports coverage),
whether it edits tests, and how the same edit (its :func:`edit_signature`) fared earlier in the
run. Every key starts with ``patch_`` so pre- and post-generation features never collide.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from typing import Any

from darwin_hookspecs import Proposal, Target

MAX_LABEL = 80
"""Longest metadata text kept as a label (longer text is free-form, not a category)."""


@dataclass
class Patch:
    """A generated change, before it is evaluated.

    :param proposal: What the generator returned.
    :param old: The parent's content of every changed file that existed in the parent.
    :param new: The effective changes (``None`` deletes a file).
    :param duplicate_of: A recorded variant with exactly the child's code, if any.
    """

    proposal: Proposal
    old: dict[str, bytes]
    new: dict[str, bytes | None]
    duplicate_of: str | None = None
    changed_lines: dict[str, list[int]] = field(default_factory=dict)
    """The parent's line numbers each file's change replaces or deletes (computed)."""
    added: int = 0
    removed: int = 0
    signature: str = ""
    """A short hash of what the edit does, independent of where the rest of the file stands:
    the removed and added lines (whitespace-trimmed) per file. The same mutation applied to two
    different parents has the same signature (computed)."""

    def __post_init__(self) -> None:
        digest = hashlib.sha256()
        for rel in sorted(self.new):
            data = self.new[rel]
            before, after = _lines(self.old.get(rel, b"")), _lines(data or b"")
            digest.update(f"\0{rel}\0{data is None}".encode())
            lines: list[int] = []
            for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
                if tag == "equal":
                    continue
                self.removed += i2 - i1
                self.added += j2 - j1
                # an insertion touches the line it follows (1-based), a replacement its own lines
                lines.extend(range(i1 + 1, i2 + 1) if i2 > i1 else [max(i1, 1)])
                removed = "\n".join(line.strip() for line in before[i1:i2])
                added = "\n".join(line.strip() for line in after[j1:j2])
                digest.update(f"\1{removed}\2{added}".encode())
            self.changed_lines[rel] = lines
        self.signature = digest.hexdigest()[:16]


def _lines(data: bytes) -> list[str]:
    return data.decode("utf-8", errors="replace").splitlines()


def edit_signature(old: dict[str, bytes], new: dict[str, bytes | None]) -> str:
    """The :attr:`Patch.signature` of changing ``old`` files into ``new`` ones."""
    return Patch(proposal=Proposal(changes={}), old=old, new=new).signature


def patch_features(patch: Patch, target: Target | None, signature_rates: dict[str, float]) -> dict[str, Any]:
    """The ``patch_*`` features of ``patch`` (``signature_rates``: the history of its signature,
    see :meth:`darwin_core.features.History.signature_rates`)."""
    proposal = patch.proposal
    features: dict[str, Any] = {
        "patch_files": float(len(patch.new)),
        "patch_new_files": float(sum(rel not in patch.old for rel in patch.new)),
        "patch_deleted_files": float(sum(data is None for data in patch.new.values())),
        "patch_lines_added": float(patch.added),
        "patch_lines_removed": float(patch.removed),
        "patch_bytes": float(sum(abs(len(data or b"") - len(patch.old.get(rel, b""))) for rel, data in patch.new.items())),
        "patch_touches_tests": float(any("test" in rel.lower() for rel in patch.new)),
        "patch_kind": proposal.improvement_type or "",
        "patch_first_file": min(patch.new) if patch.new else "",
        **signature_rates,
    }
    coverage = (target.coverage if target else None) or {}
    if coverage:
        touched = [(rel, line) for rel, lines in patch.changed_lines.items() for line in lines]
        covered = sum(line in set(coverage.get(rel, ())) for rel, line in touched)
        features["patch_target_coverage"] = covered / len(touched) if touched else 0.0
    for key, value in sorted(proposal.metadata.items()):
        if isinstance(value, bool):
            features[f"patch_meta_{key}"] = float(value)
        elif isinstance(value, (int, float)):
            features[f"patch_meta_{key}"] = float(value)
        elif isinstance(value, str) and len(value) <= MAX_LABEL:
            features[f"patch_meta_{key}"] = value
    return features
