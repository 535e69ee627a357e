"""The run's root: the initial variant read from ``[run] initial`` and recorded once."""

from __future__ import annotations

from darwin_hookspecs import UserError, Variant

from .record import ROOT_ID
from .run import RunHandle
from .session import Session
from .snapshots import read_tree


def ensure_root(handle: RunHandle, steps: Session) -> None:
    """Record (and evaluate) the initial variant unless the archive holds it already."""
    if ROOT_ID in handle.archive:
        return
    config = handle.config
    initial = config.resolve(config.run.initial)
    files = read_tree(initial, config.run.ignore) if initial.is_dir() else {}
    if not files:
        what = "holds no file" if initial.is_dir() else "is not a directory"
        raise UserError(f"initial variant {initial} {what}; fix: restore it, or "
                        f"`darwin resume {handle.run_dir} --set run.initial=PATH`")
    root = Variant(id=ROOT_ID, parent_id=None, generation=0, status="accepted",
                   snapshot={rel: handle.store.put_blob(data) for rel, data in files.items()},
                   generator="initial", improvement_type="initial", description="the initial variant")
    steps.recorder.record_initial(steps.runtime, root, judge=False)
