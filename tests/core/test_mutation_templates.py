"""Fix templates with ingredients from the program: a missing method call (``method_call``), a
wrong initial value (``initial``), a missing guard (``guard``), a builtin's sibling (``builtin``)."""

from __future__ import annotations

from pathlib import Path

from darwin_plugins.mutation.generator import MutationGenerator, MutationOptions

from mutation_support import context, texts

VOWELS = ("def vowels(text):\n    count = 0\n    for ch in text:\n        if ch in 'aeiou':\n"
          "            count += 1\n    return count\n")
RUNNING = ("def running(values):\n    best = 0\n    out = []\n    for v in values:\n        if v > best:\n"
           "            best = v\n        out.append(best)\n    return out\n")
INTS = ("def ints(text):\n    out = []\n    for part in text.split(','):\n        out.append(int(part.strip()))\n"
        "    return out\n")
BOX = "def box(xs):\n    return min(xs), min(xs)\n"


def test_method_call_wraps_compared_names_in_normalisers_and_the_files_methods(tmp_path: Path) -> None:
    found = texts(tmp_path, VOWELS, "method_call")
    assert "        if ch.lower() in 'aeiou':\n" in "".join(found)
    assert sum("ch.strip()" in t for t in found) == 1
    # a zero-argument method the file calls elsewhere is an ingredient; one with arguments is not
    other = VOWELS + "\n\ndef shout(s, n):\n    return s.upper() + s.center(n)\n"
    found = texts(tmp_path, other, "method_call")
    assert any("if ch.upper() in" in t for t in found) and not any("ch.center()" in t for t in found)
    # no comparison, no call argument: no site
    assert texts(tmp_path, "def f(x):\n    y = x\n    return y\n", "method_call") == []


def test_initial_replaces_an_accumulators_start_by_extremes_and_the_first_element(tmp_path: Path) -> None:
    found = texts(tmp_path, RUNNING, "initial")
    starts = sorted(t.splitlines()[1].strip() for t in found)
    assert starts == sorted(["best = float('-inf')", "best = float('inf')", "best = None", "best = values[0]"])
    # bound once (not an accumulator), or at module level: no site
    assert texts(tmp_path, "def f(xs):\n    n = 0\n    return xs[n]\n", "initial") == []
    assert texts(tmp_path, "N = 0\nN = 1\n", "initial") == []


def test_guard_wraps_a_loop_statement_using_the_loop_variable(tmp_path: Path) -> None:
    found = texts(tmp_path, INTS, "guard")
    assert len(found) == 2
    assert any("        if part.strip():\n            out.append(int(part.strip()))\n" in t for t in found)
    assert any("        if part:\n            out.append(int(part.strip()))\n" in t for t in found)
    # statements not using the loop variable, and jumps, are not guarded
    other = "def f(xs):\n    n = 0\n    for x in xs:\n        n += 1\n        continue\n    return n\n"
    assert texts(tmp_path, other, "guard") == []


def test_builtin_swaps_a_called_builtin_for_its_sibling(tmp_path: Path) -> None:
    found = texts(tmp_path, BOX, "builtin")
    assert sorted(found) == sorted(["def box(xs):\n    return max(xs), min(xs)\n",
                                    "def box(xs):\n    return min(xs), max(xs)\n"])
    assert texts(tmp_path, "def f(xs):\n    return len(xs)\n", "builtin") == []


def test_templates_keep_single_edit_fixes_first(tmp_path: Path) -> None:
    """A mirrored comparison's fix in a program the templates also fit still comes within the first ten."""
    source = RUNNING.replace("v > best", "v < best")
    (tmp_path / "m.py").write_text(source)
    gen = MutationGenerator(MutationOptions(pairs=0))
    hood = gen._neighbourhood(context(0, tmp_path))
    assert hood is not None
    families = {e.site.family for e in hood.edits}
    assert {"method_call", "initial"} <= families
    order = [hood.nth(k)[1] for k in range(10)]  # type: ignore[index]
    assert any("        if v > best:\n" in t for t in order)
