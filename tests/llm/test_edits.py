"""Parsing and robust application of edits in model replies."""

from __future__ import annotations

import pytest

from darwin_plugins.llm.edits import EditError, apply_edits, parse_edits, replace_once

SOURCE = '''def mean(values):
    """Arithmetic mean."""
    if not values:
        return 0.0
    return sum(values) / (len(values) + 1)


def gcd(a, b):
    while b:
        a, b = b, a % b
    return a
'''


def test_search_replace_exact_and_multi_file():
    reply = """Here is the fix.

```python
stats.py
<<<<<<< SEARCH
    return sum(values) / (len(values) + 1)
=======
    return sum(values) / len(values)
>>>>>>> REPLACE
```

pkg/new.py
<<<<<<< SEARCH
=======
X = 1
>>>>>>> REPLACE
"""
    edits = parse_edits(reply, "search_replace")
    assert [e.path for e in edits] == ["stats.py", "pkg/new.py"]
    changes = apply_edits({"stats.py": SOURCE}, edits)
    assert "/ len(values)\n" in changes["stats.py"]
    assert changes["pkg/new.py"] == "X = 1\n"


def test_whitespace_and_indentation_tolerant_matching():
    # trailing spaces, and the whole block indented differently
    search = "if not values:   \n    return 0.0"
    out = replace_once(SOURCE, search, "if not values:\n    return None")
    assert "    if not values:\n        return None\n" in out


def test_fuzzy_anchor_tolerates_a_small_typo():
    out = replace_once(SOURCE, "    return sum(value) / (len(values) + 1)", "    return sum(values) / len(values)")
    assert "return sum(values) / len(values)" in out and "+ 1)" not in out


def test_ambiguous_and_missing_search_are_explained():
    with pytest.raises(EditError, match="2 times"):
        replace_once("a\nb\na\nb\n", "a\nb", "c")
    with pytest.raises(EditError, match="not found.*closest lines"):
        replace_once(SOURCE, "completely different text here\nand more", "x")


def test_unified_diff_is_applied_by_content():
    diff = """--- a/stats.py
+++ b/stats.py
@@ -40,3 +40,3 @@ def mean(values):
     if not values:
         return 0.0
-    return sum(values) / (len(values) + 1)
+    return sum(values) / len(values)
"""
    edits = parse_edits(diff, "diff")
    changes = apply_edits({"stats.py": SOURCE}, edits)
    assert "/ len(values)\n" in changes["stats.py"]


def test_whole_file_replacement_and_fallback_between_formats():
    reply = "stats.py\n```python\nprint('new')\n```\n"
    assert apply_edits({"stats.py": SOURCE}, parse_edits(reply, "whole")) == {"stats.py": "print('new')\n"}
    # asked for diff, answered whole file: still understood
    assert parse_edits(reply, "diff")[0].whole


def test_truncated_block_and_bad_paths_are_errors():
    with pytest.raises(EditError, match="cut off"):
        parse_edits("stats.py\n<<<<<<< SEARCH\nx\n=======\ny\n", "search_replace")
    with pytest.raises(EditError, match="no edit"):
        parse_edits("I could not find the bug.", "search_replace")
    from darwin_plugins.llm.edits import Edit

    with pytest.raises(EditError, match="leaves the project"):
        apply_edits({}, [Edit("../etc/passwd", "", "x")])
    with pytest.raises(EditError, match="does not exist"):
        apply_edits({"a.py": "x"}, [Edit("b.py", "y", "z")])
