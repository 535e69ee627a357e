"""A tiny rule-based coding agent (standard library only, no LLM).

It reads the problem statement ($DARWIN_PROBLEM_STATEMENT) and looks for a hint of the form
"`NAME` uses `OLD` where it should use `NEW`". It then edits, in the repository
($DARWIN_REPO, the current directory), the first occurrence of OLD inside the definition of
NAME (or anywhere in the file when NAME is not a definition), skipping test files. Without a
hint it changes nothing, which SWE-bench counts as an empty patch.

Darwin evolves this file: it is the variant.
"""

import os
import re
import sys

HINT = re.compile(r"`([^`]+)` uses `([^`]+)` where it should use `([^`]+)`")


def read_problem():
    with open(os.environ.get("DARWIN_PROBLEM_STATEMENT", "/darwin_task/problem_statement.md"),
              encoding="utf-8") as handle:
        return handle.read()


def source_files(repo):
    for folder, dirs, files in os.walk(repo):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in ("tests", "test"))
        for name in sorted(files):
            if name.endswith(".py") and not name.startswith("test_"):
                yield os.path.join(folder, name)


def fix_in_text(text, name, old, new):
    """Replace the first ``old`` after ``def name(`` (else the first anywhere)."""
    start = text.find("def " + name + "(")
    if start < 0:
        start = 0
    index = text.find(old, start)
    if index < 0:
        return None
    return text[:index] + new + text[index + len(old):]


def main():
    problem = read_problem()
    repo = os.environ.get("DARWIN_REPO", os.getcwd())
    hints = HINT.findall(problem)
    if not hints:
        print("no actionable hint in the problem statement; leaving the repository unchanged")
        return 0
    changed = 0
    for name, old, new in hints:
        name = name.rstrip("()")
        for path in source_files(repo):
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
            fixed = fix_in_text(text, name, old, new)
            if fixed is not None and fixed != text:
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(fixed)
                print("edited %s: %r -> %r" % (os.path.relpath(path, repo), old, new))
                changed += 1
                break
    if not changed:
        print("hint found but no source matched it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
