"""Write docs/hooks.md from the hook specifications (the single source of truth).

    python scripts/gen_hook_docs.py          # rewrite docs/hooks.md
    python scripts/gen_hook_docs.py --check  # exit 1 if docs/hooks.md is out of date
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

from darwin_hookspecs import specs

DOC = Path(__file__).resolve().parents[1] / "docs" / "hooks.md"


def hooks() -> list[tuple[str, object]]:
    return sorted(
        ((name, fn) for name, fn in vars(specs).items() if name.startswith("darwin_") and callable(fn)),
        key=lambda item: inspect.getsourcelines(item[1])[1],  # type: ignore[arg-type]
    )


def render() -> str:
    out = [
        "# Hook reference",
        "",
        "Generated from `hookspecs/src/darwin_hookspecs/specs.py` by `scripts/gen_hook_docs.py`;",
        "do not edit by hand. Implement a hook with `@darwin_hookspecs.hookimpl` on a function of",
        "the same name in a module or object exposed through the `darwin` entry-point group.",
        "",
        inspect.cleandoc(specs.__doc__ or ""),
        "",
    ]
    for name, fn in hooks():
        signature = str(inspect.signature(fn)).replace("'", "").replace('"', "")
        out += [f"## `{name}`", "", "```python", f"def {name}{signature}", "```", "",
                inspect.cleandoc(fn.__doc__ or ""), ""]
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv:
        sys.exit(0 if DOC.read_text() == text else 1)
    DOC.write_text(text)
    print(f"wrote {DOC}")
