"""The selection conformance suite: what every parent-selection strategy must do.

In a test module (the fixture may live in ``conftest.py``)::

    import pytest
    from darwin_plugins.testing import build_backend
    from darwin_plugins.testing.selection_conformance import SelectionConformance

    class TestMyStrategy(SelectionConformance):
        @pytest.fixture
        def darwin_selection(self):
            return build_backend("selection", "mine", {"size": 2}, plugins=[my_plugin])
"""

from __future__ import annotations

import random

import pytest

from darwin_hookspecs import SelectionStrategy

from .archive import ListArchive, variant


def sample_archive() -> ListArchive:
    """A root, accepted children of varied scores, and children that may not be parents."""
    items = [variant("v0", None, 0.2)]
    for i in range(1, 9):
        items.append(variant(f"v{i}", f"v{(i - 1) // 2}", score=(i * 37 % 10) / 10))
    items += [variant("r1", "v1", 0.99, status="rejected"), variant("x1", "v2", 1.0, status="invalid"),
              variant("e1", "v0", 1.0, status="error")]
    return ListArchive(items)


class SelectionConformance:
    """Subclass it and define a ``darwin_selection`` fixture returning the strategy."""

    @pytest.fixture
    def darwin_selection(self) -> SelectionStrategy:
        raise pytest.UsageError("define a `darwin_selection` fixture returning your strategy")

    def test_is_a_selection_strategy(self, darwin_selection: SelectionStrategy) -> None:
        assert isinstance(darwin_selection, SelectionStrategy)

    @pytest.mark.parametrize("n", [1, 3, 10])
    def test_returns_n_selectable_ids(self, darwin_selection: SelectionStrategy, n: int) -> None:
        archive = sample_archive()
        chosen = darwin_selection.select(archive, n, random.Random(1))
        assert isinstance(chosen, list) and len(chosen) == n
        allowed = {v.id for v in archive.selectable()}
        assert set(chosen) <= allowed, f"{set(chosen) - allowed} are not accepted variants"

    def test_zero_parents(self, darwin_selection: SelectionStrategy) -> None:
        assert darwin_selection.select(sample_archive(), 0, random.Random(1)) == []

    def test_only_the_root(self, darwin_selection: SelectionStrategy) -> None:
        archive = ListArchive([variant("v0", None, 0.0), variant("bad", "v0", 1.0, status="rejected")])
        assert darwin_selection.select(archive, 4, random.Random(2)) == ["v0"] * 4

    def test_reproducible_from_rng_alone(self, darwin_selection: SelectionStrategy) -> None:
        archive = sample_archive()
        random.seed(1)
        first = darwin_selection.select(archive, 12, random.Random(7))
        random.seed(99)  # the global generator must not matter
        again = darwin_selection.select(archive, 12, random.Random(7))
        assert first == again

    def test_does_not_mutate_the_archive(self, darwin_selection: SelectionStrategy) -> None:
        archive = sample_archive()
        before = [(v.id, v.status, v.score) for v in archive.variants()]
        darwin_selection.select(archive, 5, random.Random(3))
        assert [(v.id, v.status, v.score) for v in archive.variants()] == before
