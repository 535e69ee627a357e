"""Calls a Python evaluator inside the sandbox (copied there; standard library only).

Imports the evaluator file, calls ``FUNCTION(program_path)`` and prints, as the last line of
stdout, ``{"metrics": {...}, "artifacts": {...}}`` (or ``{"error": traceback}`` with exit 1).
The evaluator may return a dict of metrics or an object with ``metrics`` and ``artifacts``
attributes (OpenEvolve's ``EvaluationResult``). Numbers (and booleans, as 0/1) are metrics,
nested dicts are flattened as ``outer.inner``, text and other values become artifacts.

Usage: python runner.py EVALUATOR_FILE FUNCTION PROGRAM_PATH
"""

import importlib.util
import json
import os
import sys
import traceback


def _split(result):
    if isinstance(result, dict):
        metrics, artifacts = dict(result), {}
    elif hasattr(result, "metrics"):
        metrics = dict(getattr(result, "metrics") or {})
        artifacts = dict(getattr(result, "artifacts", None) or {})
    else:
        raise TypeError("the evaluator returned %s, not a dict of metrics" % type(result).__name__)
    if isinstance(metrics.get("artifacts"), dict):
        artifacts.update(metrics.pop("artifacts"))
    flat, extra = {}, {}

    def walk(prefix, value):
        if isinstance(value, bool):
            flat[prefix] = float(value)
        elif isinstance(value, (int, float)):
            flat[prefix] = value
        elif isinstance(value, dict):
            for key, inner in value.items():
                walk("%s.%s" % (prefix, key), inner)
        else:
            extra[prefix] = value if isinstance(value, str) else repr(value)

    for key, value in metrics.items():
        walk(str(key), value)
    for key, value in artifacts.items():
        extra[str(key)] = value if isinstance(value, str) else repr(value)
    return flat, extra


def main(argv):
    evaluator, function, program = argv
    sys.path[:0] = [os.path.dirname(os.path.abspath(evaluator)), os.getcwd()]
    sys.dont_write_bytecode = True
    try:
        spec = importlib.util.spec_from_file_location("darwin_evaluator", evaluator)
        module = importlib.util.module_from_spec(spec)
        sys.modules["darwin_evaluator"] = module
        spec.loader.exec_module(module)
        result = getattr(module, function)(os.path.abspath(program))
        metrics, artifacts = _split(result)
        payload, code = {"metrics": metrics, "artifacts": artifacts}, 0
    except BaseException:  # noqa: B036 - the evaluator (or the variant it runs) may raise anything
        payload, code = {"metrics": {}, "artifacts": {}, "error": traceback.format_exc(limit=-8)}, 1
    sys.stdout.flush()
    sys.stdout.write("\n" + json.dumps(payload) + "\n")
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
