"""A generator: flip one comparison operator, preferably on a line the target task ran."""

from __future__ import annotations

import random
import re

from pydantic import BaseModel, ConfigDict

from darwin_hookspecs import GenerationContext, Proposal, hookimpl

OPERATOR = re.compile(r"(?<![<>=!])(<=|>=|==|!=|<|>)(?!=)")
SWAPS = {"<": [">", "<=", ">="], ">": ["<", ">=", "<="], "<=": ["<", ">", ">="],
         ">=": [">", "<", "<="], "==": ["!="], "!=": ["=="]}


class FlipOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    file: str = "calc.py"
    """The file whose comparisons may be flipped."""


class FlipGenerator:
    def __init__(self, options: FlipOptions) -> None:
        self.file = options.file

    def propose(self, context: GenerationContext) -> Proposal:
        rng = random.Random(context.seed)  # same seed, same child: runs are reproducible
        path = context.parent_dir / self.file
        if not path.is_file():  # nothing to edit: an empty proposal (recorded as invalid)
            return Proposal(changes={}, description=f"no {self.file} in the parent")
        text = path.read_text()
        lines = text.splitlines(keepends=True)
        sites = [(n, m) for n, line in enumerate(lines, 1) for m in OPERATOR.finditer(line)]
        covered = set((context.target.coverage or {}).get(self.file, []))
        aimed = [s for s in sites if s[0] in covered] or sites  # coverage aims the edit
        if not aimed:
            return Proposal(changes={}, description="no comparison to flip")  # -> invalid
        number, match = rng.choice(aimed)
        new = rng.choice(SWAPS[match.group(1)])
        line = lines[number - 1]
        lines[number - 1] = line[:match.start()] + new + line[match.end():]
        return Proposal(changes={self.file: "".join(lines)}, improvement_type="flip",
                        description=f"line {number}: {match.group(1)} -> {new}")


@hookimpl
def darwin_register_generators(registry) -> None:
    registry.add("flip", lambda options, context: FlipGenerator(options), options=FlipOptions,
                 description="Flip one comparison operator (offline).")
