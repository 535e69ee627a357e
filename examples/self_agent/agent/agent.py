"""A small coding agent: reads its task, asks the model for SEARCH/REPLACE edits of the files in
the current directory, applies them, and retries with the error when an edit does not apply.

Darwin's ``self`` generator runs it on a copy of its own code, so the edits it makes are to
itself. It reaches the model only through the gateway (``DARWIN_LLM_SOCKET``), which holds the key.
"""

import os
import sys

import tools

MAX_ROUNDS = 3
SYSTEM = (
    "You are a coding agent improving your own source code. Answer with SEARCH/REPLACE blocks: "
    "the file path alone on a line, then <<<<<<< SEARCH, the exact current lines, =======, the "
    "new lines, >>>>>>> REPLACE."
)


def main():
    task = open(os.environ.get("DARWIN_TASK_FILE", ".darwin/task.md"), encoding="utf-8").read()
    files = {path: open(path, encoding="utf-8").read() for path in tools.list_files(".")}
    listing = "\n\n".join(f"### {p}\n```\n{tools.truncate_middle(t, 20000)}\n```" for p, t in files.items())
    messages = [{"role": "system", "content": SYSTEM},
                {"role": "user", "content": f"{task}\n\nYour files:\n\n{listing}"}]
    for round_number in range(1, MAX_ROUNDS + 1):
        reply = tools.chat(messages)
        blocks = tools.parse_blocks(reply)
        errors = []
        for path, search, replace in blocks:
            if os.path.isabs(path) or ".." in path.split("/"):
                errors.append(f"{path}: not a relative path inside the project")
                continue
            current = files.get(path, "")
            updated = tools.apply_block(current, search, replace)
            if updated is None:
                errors.append(f"{path}: the SEARCH text was not found exactly once")
                continue
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(updated)
            files[path] = updated
        if blocks and not errors:
            print(f"round {round_number}: applied {len(blocks)} edit(s)")
            return 0
        problem = "; ".join(errors) or "no SEARCH/REPLACE block found"
        print(f"round {round_number}: {problem}")
        messages += [{"role": "assistant", "content": reply},
                     {"role": "user", "content": f"Your edits could not be applied: {problem}. Try again."}]
    return 1


if __name__ == "__main__":
    sys.exit(main())
