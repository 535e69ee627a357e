"""What the agent's tools must do (plain asserts)."""

import tools


def test_parse_one_block():
    reply = "a.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n"
    assert tools.parse_blocks(reply) == [("a.py", "x = 1", "x = 2")]


def test_parse_two_blocks():
    reply = ("a.py\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n"
             "b/c.py\n<<<<<<< SEARCH\np\n=======\nq\n>>>>>>> REPLACE\n")
    assert [b[0] for b in tools.parse_blocks(reply)] == ["a.py", "b/c.py"]


def test_apply_exact():
    assert tools.apply_block("a\nb\nc\n", "b", "B") == "a\nB\nc\n"


def test_apply_ambiguous_is_refused():
    assert tools.apply_block("b\nb\n", "b", "B") is None


def test_truncate_short_text_is_unchanged():
    assert tools.truncate_middle("hello", 10) == "hello"


def test_truncate_respects_the_limit():
    assert len(tools.truncate_middle("x" * 100, 20)) <= 20


def test_truncate_keeps_both_ends():
    out = tools.truncate_middle("BEGIN" + "x" * 100 + "END", 20)
    assert out.startswith("BEGIN") and out.endswith("END")
