"""``darwin resume`` of a run that has nothing left: noticed from its records, before any
backend (sandbox, benchmark, generator, executor) is built or the writer lease is taken.

A run recorded ``completed`` whose every attempt is settled (none ``planned`` or ``running``:
no crash to recover) and whose stop rules, with the config as it is now, stop it before its
first unfinished generation, would only record the same status again: the resume prints the
summary the engine's would and exits 0, writing nothing. Anything else (another status, an
unsettled attempt, a config that asks for more: ``--set run.generations=N``) goes through the
engine as before. Observers are not told of a run started and finished (no plugin is built).
"""

from __future__ import annotations

from pathlib import Path

from darwin_hookspecs import RunSummary

from .summary import ENDED


def finished_run(run_dir: Path) -> RunSummary | None:
    """The summary a resume of ``run_dir`` would end with if it has nothing left to do (read
    only, with the reader's plugins: storage and selection), else ``None``."""
    from .finish import summary
    from .run import RunHandle
    from .stopping import StopRules

    handle = RunHandle.open(run_dir, reader=True, load=False)
    try:
        run = handle.store.load_run()  # one record first: an unfinished run costs no more
        if run is None or run.status != "completed":
            return None
        handle.load()
        if not len(handle.archive) or any(a.status not in ENDED for a in handle.attempts.summaries()):
            return None
        rules = StopRules(handle)
        stop = rules.between_generations(rules.first_generation())
        if stop is None or stop.status != "completed" or stop.exit_code:
            return None
        return summary(handle, stop.status, stop.reason)
    finally:
        handle.close()
