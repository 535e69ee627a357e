"""What is reused from the official ``swebench`` package, behind one lazy import.

The official package provides the test spec (eval script, log parser, eval type), the log
parsers, the grading (:func:`get_eval_report`), the patch-application chain and the log
markers. It is imported only when an evaluation needs it (it pulls in ``datasets``, ``modal``
and ``docker``: about three seconds of CPU).

Instances from SWE-bench datasets of the 5.x series carry their ``eval_script``,
``log_parser`` and ``eval_type``. Instances made for Darwin (or any repository) may instead
give a ``test_cmd``; the eval script is then built here in the official shape: reset the test
files, apply the test patch, run the tests between the output markers, reset again.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from darwin_hookspecs import UserError

HEREDOC = "EOF_DARWIN_5f3c2a"


@functools.lru_cache(maxsize=1)
def official() -> SimpleNamespace:
    """The pieces of the official harness Darwin uses (imported once)."""
    from swebench.harness import constants  # noqa: PLC0415 - heavy optional dependency
    from swebench.harness.grading import get_eval_report  # noqa: PLC0415
    from swebench.harness.run_evaluation import GIT_APPLY_CMDS  # noqa: PLC0415
    from swebench.harness.utils import make_test_spec  # noqa: PLC0415

    return SimpleNamespace(
        constants=constants, get_eval_report=get_eval_report, make_test_spec=make_test_spec,
        git_apply_cmds=list(GIT_APPLY_CMDS),
    )


@dataclass
class EvalSpec:
    """An instance's official test spec plus what Darwin needs to run it."""

    instance_id: str
    image: str
    test_spec: Any  # swebench.types.TestSpec

    @property
    def eval_script(self) -> str:
        return self.test_spec.eval_script


def eval_spec(instance: dict[str, Any], image: str, workdir: str) -> EvalSpec:
    """The official test spec of ``instance``, run on ``image``."""
    h = official()
    fields = dict(instance)
    fields["image"] = image
    fields.setdefault("version", "")
    if not fields.get("eval_script"):
        if not fields.get("test_cmd"):
            raise UserError(
                f"instance {instance['instance_id']!r} has neither `eval_script` (SWE-bench 5.x "
                "datasets carry it) nor `test_cmd`; fix: use a dataset that carries eval "
                "scripts, or add `test_cmd` (and `log_parser`) to the instance"
            )
        fields["eval_script"] = make_eval_script(instance, workdir)
    fields.setdefault("log_parser", "parse_log_pytest")
    if not fields.get("eval_type"):
        fail_only = instance["repo"] in h.constants.FAIL_ONLY_REPOS
        fields["eval_type"] = "fail_only" if fail_only else "pass_and_fail"
    from swebench.harness.log_parsers import PARSER_REGISTRY  # noqa: PLC0415

    if fields["log_parser"] not in PARSER_REGISTRY:
        raise UserError(
            f"instance {instance['instance_id']!r}: unknown log_parser {fields['log_parser']!r}; "
            f"fix: one of {', '.join(sorted(PARSER_REGISTRY)[:8])}..."
        )
    return EvalSpec(instance_id=instance["instance_id"], image=image,
                    test_spec=h.make_test_spec(fields))


def test_files(test_patch: str) -> list[str]:
    """Files the test patch touches (``diff --git a/X b/X``), in order."""
    files: list[str] = []
    for match in re.finditer(r"^diff --git a/(\S+) b/(\S+)$", test_patch, re.M):
        if match.group(2) not in files:
            files.append(match.group(2))
    return files


def make_eval_script(instance: dict[str, Any], workdir: str) -> str:
    """An eval script in the official shape for an instance that gives ``test_cmd``."""
    c = official().constants
    base = instance["base_commit"]
    files = " ".join(test_files(instance["test_patch"]))
    reset = f"git checkout {base} -- {files}" if files else ":"
    patch = instance["test_patch"]
    if not patch.endswith("\n"):
        patch += "\n"
    lines = [
        "#!/bin/bash",
        "set -uxo pipefail",
        f"cd {workdir}",
        *instance.get("eval_setup", []),
        reset,
        f"git apply -v - <<'{HEREDOC}'",
        patch + HEREDOC,
        f": '{c.START_TEST_OUTPUT}'",
        instance["test_cmd"],
        f": '{c.END_TEST_OUTPUT}'",
        reset,
    ]
    return "\n".join(lines) + "\n"


def is_empty_patch(patch: str | None) -> bool:
    """The official harness counts ``""`` and ``None`` as empty patches."""
    return patch is None or patch == ""
