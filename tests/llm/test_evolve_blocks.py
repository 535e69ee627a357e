"""Evolve blocks: the regions a generator may change (markers or configured regions), what is
refused, and the LLM generator refusing a reply that edits outside them (through the loopback
server and ``darwin run``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llm_support import DIAGNOSIS, MEAN_FIX, conversation, write_llm_config

from darwin_plugins.evolve_blocks import END, START, RegionSpec, editable_regions, marker_spans
from darwin_plugins.llm import prompts

BLOCKED = f"""import math

# {START}
def area(r):
    return 3 * r * r
# {END}


def unchanged():
    return 1
"""


def test_marker_blocks_allow_edits_inside_and_refuse_the_rest():
    regions = editable_regions({"circle.py": BLOCKED, "other.py": "x = 1\n"})
    assert regions.restricted and [(s.start, s.end) for s in regions.spans["circle.py"]] == [(3, 5)]
    inside = BLOCKED.replace("3 * r * r", "math.pi * r ** 2").replace("def area(r):", "def area(r):\n    # doc")
    assert regions.check({"circle.py": BLOCKED}, {"circle.py": inside}) == []
    assert regions.allows("circle.py", 4, 5) and not regions.allows("circle.py", 1, 1)
    outside = BLOCKED.replace("return 1", "return 2")
    assert regions.check({"circle.py": BLOCKED}, {"circle.py": outside}) == [
        "circle.py: line 10 changed, outside the editable regions"]
    above = BLOCKED.replace("import math\n", "import math\nimport os\n")
    assert "inserted after line 1" in regions.check({"circle.py": BLOCKED}, {"circle.py": above})[0]
    moved = BLOCKED.replace(f"# {END}\n", "").replace("return 1\n", f"return 1\n# {END}\n")
    assert regions.check({"circle.py": BLOCKED}, {"circle.py": moved})[0] == (
        "circle.py: line 6 (a marker line: keep it where it is) changed, outside the editable regions")
    added = BLOCKED.replace("    return 3 * r * r", f"    return 3 * r * r\n# {END}\n# {START}")
    assert "marker lines were changed" in regions.check({"circle.py": BLOCKED}, {"circle.py": added})[0]
    assert "may not change" in regions.check({"other.py": "x = 1\n"}, {"other.py": "x = 2\n"})[0]
    assert "a new file" in regions.check({}, {"new.py": "y = 1\n"})[0]
    assert "deleted" in regions.check({"circle.py": BLOCKED}, {"circle.py": None})[0]
    assert "lines 4-5" in regions.describe()


def test_nothing_restricted_without_markers_or_regions():
    regions = editable_regions({"a.py": "x = 1\n"})
    assert not regions.restricted and regions.describe() == ""
    assert regions.check({"a.py": "x = 1\n"}, {"a.py": "x = 2\n", "b.py": "new"}) == []


def test_unpaired_markers_read_as_the_mutation_generator_reads_them_and_say_so():
    notes: list[str] = []
    assert [(s.start, s.end) for s in marker_spans(f"x = 0\n# {START}\nx = 1\ny = 2\n", "a.py", notes)] == [(2, 4)]
    assert "never closed" in notes[0] and "a.py:2" in notes[0]  # an open block runs to the end
    regions = editable_regions({"a.py": f"x = 1\n# {END}\n"})  # a stray END: nothing editable
    assert regions.restricted and "a.py:2: a stray EVOLVE-BLOCK-END" in regions.notes[0]
    assert regions.check({"a.py": f"x = 1\n# {END}\n"}, {"a.py": f"x = 2\n# {END}\n"})
    assert "stray" in regions.describe()


def test_configured_regions_follow_a_symbol_and_whole_files():
    source = "import os\n\n\nclass Solver:\n    @staticmethod\n    def step(x):\n        return x\n\n\ndef other():\n    pass\n"
    regions = editable_regions({"s.py": source, "notes.md": "hi"},
                               [RegionSpec(path="s.py", symbol="Solver.step"), RegionSpec(path="*.md")])
    span = regions.spans["s.py"][0]
    assert (span.start, span.end) == (4, 7) and "Solver.step" in span.label  # the decorator included
    changed = source.replace("return x", "return x + 1")
    assert regions.check({"s.py": source}, {"s.py": changed, "notes.md": "bye", "new.md": "x"}) == []
    assert regions.check({"s.py": source}, {"s.py": source.replace("pass", "return 0")})
    missing = editable_regions({"s.py": source}, [RegionSpec(path="s.py", symbol="nope")])
    assert "no function or class 'nope'" in missing.notes[0]
    lines = editable_regions({"s.py": source}, [RegionSpec.parse("s.py:10-11")])  # the mutation generator's form
    assert lines.check({"s.py": source}, {"s.py": source.replace("pass", "return 0")}) == []
    assert lines.check({"s.py": source}, {"s.py": changed})
    with pytest.raises(ValueError, match="path:first-last"):
        RegionSpec.parse("s.py")


def evolve_quickstart(quickstart: Path) -> None:
    """Markers around ``mean`` only: fixing another function is outside the block."""
    path = quickstart / "program" / "textstats.py"
    text = path.read_text()
    text = text.replace("def mean(values):", f"# {START}\ndef mean(values):")
    text = text.replace("\n\ndef median(values):", f"# {END}\n\n\ndef median(values):")
    path.write_text(text)


MAXIMUM_FIX = """textstats.py
<<<<<<< SEARCH
        if v < best:
=======
        if v > best:
>>>>>>> REPLACE
"""


def read_variants(run_dir: Path) -> list:
    from darwin_core.reader import open_run

    return open_run(run_dir).variants


def test_a_reply_editing_outside_the_block_is_refused_and_the_child_invalid(
        quickstart, llm_server, key_env, darwin_cli, tmp_path):
    evolve_quickstart(quickstart)
    llm_server.responder = lambda body: DIAGNOSIS if prompts.DIAGNOSE_MARK in conversation(body) else MAXIMUM_FIX
    config = write_llm_config(quickstart, "openai", llm_server, run={"children_per_generation": 1},
                              generator={"max_edit_retries": 1})
    run_dir = tmp_path / "run"
    result = darwin_cli("run", str(config), "--run-dir", str(run_dir), "-q")
    assert result.returncode == 0, result.stderr[-3000:]
    child = read_variants(run_dir)[1]
    assert child.status == "invalid"
    assert child.description.startswith("refused: the edits change code outside the editable regions")
    assert "textstats.py: line" in child.metadata["refused"] and "outside the editable regions" in child.metadata["refused"]
    assert llm_server.billed_requests == 3  # diagnose, a reply, the bounded retry after the refusal
    first, retry = (conversation(b) for b in llm_server.bodies[1:])
    assert "Only these regions may change" in first and "EVOLVE-BLOCK-START" in first
    assert "refused: they change code outside the editable regions" in retry


def test_a_reply_inside_the_block_is_accepted_and_a_refusal_is_fed_back(
        quickstart, llm_server, key_env, darwin_cli, tmp_path):
    evolve_quickstart(quickstart)

    def responder(body):
        text = conversation(body)
        if prompts.DIAGNOSE_MARK in text:
            return DIAGNOSIS
        return MEAN_FIX if "refused: they change" in text else MAXIMUM_FIX  # outside first, inside once told

    llm_server.responder = responder
    config = write_llm_config(quickstart, "anthropic", llm_server, run={"children_per_generation": 1},
                              generator={"max_edit_retries": 1})
    run_dir = tmp_path / "run"
    result = darwin_cli("run", str(config), "--run-dir", str(run_dir), "-q")
    assert result.returncode == 0, result.stderr[-3000:]
    root, child = read_variants(run_dir)
    assert child.status == "accepted" and child.score > root.score
    assert "refused" not in child.metadata and "lines" in child.metadata["evolve_regions"]


def test_configured_regions_refuse_through_darwin_run(quickstart, llm_server, key_env, darwin_cli, tmp_path):
    llm_server.responder = lambda body: DIAGNOSIS if prompts.DIAGNOSE_MARK in conversation(body) else MAXIMUM_FIX
    config = write_llm_config(quickstart, "openai", llm_server, run={"children_per_generation": 1},
                              generator={"max_edit_retries": 0})
    with config.open("a") as f:
        f.write('[[generator.regions]]\npath = "textstats.py"\nsymbol = "mean"\n')
    run_dir = tmp_path / "run"
    result = darwin_cli("run", str(config), "--run-dir", str(run_dir), "-q")
    assert result.returncode == 0, result.stderr[-3000:]
    child = read_variants(run_dir)[1]
    assert child.status == "invalid" and "outside the editable regions" in child.metadata["refused"]
    assert "function `mean`" in conversation(llm_server.bodies[0])
    rows = json.loads(darwin_cli("archive", str(run_dir), "--json").stdout)
    assert rows[1]["description"].startswith("refused:")
