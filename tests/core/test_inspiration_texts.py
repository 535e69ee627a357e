"""Inspirations built through the run's text cache are those built without it, and a generator
changing its inspirations' files changes nothing the next attempt sees."""

from __future__ import annotations

from typing import Any

from darwin_core.inspirations import InspirationsSection, TextCache, build
from darwin_hookspecs import Variant

PARENTS = {"root": None, "a": "root", "b": "root", "c": "a", "p": "a"}
FILES = {
    "root": {"main.py": b"x = 0\n", "blob.bin": b"\0\1"},
    "a": {"main.py": b"x = 1\n", "blob.bin": b"\0\1"},
    "b": {"main.py": b"x = 2\n", "big.txt": b"y" * 100},
    "c": {"main.py": b"x = 3\n", "notes.txt": b"caf\xc3\xa9"},
    "p": {"main.py": b"x = 4\n"},
}


class Archive:
    def __contains__(self, variant_id: str) -> bool:
        return variant_id in PARENTS

    def lineage(self, variant_id: str) -> list[str]:
        chain: list[str] = []
        current: str | None = variant_id
        while current is not None:
            chain.append(current)
            current = PARENTS[current]
        return chain[::-1]

    def get(self, variant_id: str) -> Variant:
        return Variant(id=variant_id, parent_id=PARENTS[variant_id], generation=0, status="accepted")


class CodeBook:
    def __init__(self) -> None:
        self.reads: list[str] = []

    def files(self, variant_id: str) -> dict[str, bytes]:
        self.reads.append(variant_id)
        return dict(FILES[variant_id])


def _plain(inspirations: list[Any]) -> list[tuple[Any, ...]]:
    return [(i.variant.id, i.files, i.ancestor_id, i.ancestor_files) for i in inspirations]


def test_the_cache_gives_the_same_inspirations_reads_each_variant_once_and_hands_out_copies() -> None:
    options = InspirationsSection(max_file_bytes=50)
    parent, ids = Archive().get("p"), ["b", "c", "p", "gone"]  # the parent and an unknown id: skipped
    expected = _plain(build(ids, parent, Archive(), CodeBook(), options))
    assert [e[0] for e in expected] == ["b", "c"]
    assert expected[0][1] == {"main.py": "x = 2\n"} and expected[0][3] == {"main.py": "x = 0\n"}  # root: blob.bin out
    assert expected[1][1] == {"main.py": "x = 3\n", "notes.txt": "café"} and expected[1][2] == "a"

    cache, codebook = TextCache(), CodeBook()
    first = build(ids, parent, Archive(), codebook, options, cache)
    assert _plain(first) == expected
    first[0].files["main.py"] = "changed by a generator"
    first[1].ancestor_files["main.py"] = "changed too"  # type: ignore[index]
    again = build(ids, parent, Archive(), codebook, options, cache)
    assert _plain(again) == expected
    assert sorted(codebook.reads) == ["a", "b", "c", "root"]  # each read once, however many builds


def test_the_cache_keeps_the_most_recently_used() -> None:
    cache, codebook = TextCache(kept=2), CodeBook()
    for variant_id in ("a", "b", "a", "c", "a", "b"):
        cache.of(codebook, variant_id, 64)
    assert codebook.reads == ["a", "b", "c", "b"]  # "b" dropped when "c" came; "a" kept throughout


def test_the_cache_is_bounded_by_size() -> None:
    cache, codebook = TextCache(chars=8), CodeBook()  # a's and p's text: 6 characters; b's: 106
    for variant_id in ("a", "b", "a", "b", "p", "a"):
        cache.of(codebook, variant_id, 1000)
        assert cache.held <= 8
    assert codebook.reads == ["a", "b", "b", "p", "a"]  # b too large to keep; p pushed a out
