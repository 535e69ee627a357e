"""A third-party benchmark: each task feeds a text to the variant's ``wc.py`` (run in the
sandbox) and passes when it prints the right number of words."""

from pathlib import Path

from darwin_hookspecs import ExecRequest, TaskResult, TaskSpec, hookimpl

TEXTS = {"empty": "", "one": "darwin", "spaces": "  natural   selection ", "lines": "a b\nc\td\n"}


class WordCount:
    mode = "program"

    def tasks(self):
        return [TaskSpec(id=name, data={"text": text}) for name, text in TEXTS.items()]

    def evaluate(self, variant_dir: Path, tasks, sandbox):
        results = []
        for task in tasks:
            run = sandbox.run(ExecRequest(argv=["python", "wc.py"], workdir=variant_dir,
                                          stdin=task.data["text"] or "\n", timeout_s=10))
            ok = run.stdout.strip() == str(len(task.data["text"].split()))
            results.append(TaskResult(task.id, ok, float(ok), run.duration_s, None if ok else "fail",
                                      log=run.stdout[-500:] + run.stderr[-1500:]))
        return results


@hookimpl
def darwin_register_benchmarks(registry):
    registry.add("wordcount", lambda options, context: WordCount(), description="Count words.")
