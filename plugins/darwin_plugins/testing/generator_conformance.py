"""The generator conformance suite: what every generator's ``propose`` must return.

Define ``darwin_generator`` (the generator) and, optionally, ``darwin_parent_files`` (the
parent's code, ``{path: text}``; default: one small Python module)::

    class TestMyGenerator(GeneratorConformance):
        deterministic = True    # same seed -> same proposal (False for LLM generators)

        @pytest.fixture
        def darwin_generator(self):
            return build_backend("generator", "mine", plugins=[my_plugin])
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from darwin_hookspecs import GenerationContext, Generator, Proposal, Target, Usage, Variant

PARENT = {"calc.py": "def clamp(x, lo, hi):\n    if x > lo:\n        return lo\n    if x > hi:\n"
                     "        return hi\n    return x\n\n\ndef double(x):\n    return x + x\n"}


def context(parent_dir: Path, files: dict[str, str], seed: int = 1, target: Target | None = None) -> GenerationContext:
    """A generation context over a private copy of ``files`` in ``parent_dir``."""
    for rel, text in files.items():
        (parent_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (parent_dir / rel).write_text(text)
    parent = Variant(id="v0000root", parent_id=None, generation=0, status="accepted", score=0.5)
    target = target or Target(kind="failing_task", task_id="t1", log="AssertionError: clamp(-5, 0, 10) == 10",
                              coverage={rel: [1, 2, 3] for rel in files})
    return GenerationContext(run_id="conformance", attempt_id="g0001a000", parent=parent,
                             parent_dir=parent_dir, target=target, seed=seed)


class GeneratorConformance:
    """Subclass it and define a ``darwin_generator`` fixture."""

    deterministic = True
    """Whether the same context and seed must give the same proposal (offline generators)."""

    @pytest.fixture
    def darwin_generator(self) -> Generator:
        raise pytest.UsageError("define a `darwin_generator` fixture returning your generator")

    @pytest.fixture
    def darwin_parent_files(self) -> dict[str, str]:
        return dict(PARENT)

    def _propose(self, generator: Generator, tmp_path: Path, files: dict[str, str], seed: int = 1,
                 name: str = "parent") -> Proposal:
        return generator.propose(context(tmp_path / name, files, seed))

    def test_is_a_generator(self, darwin_generator: Generator) -> None:
        assert isinstance(darwin_generator, Generator)

    def test_proposal_shape(self, darwin_generator: Generator, darwin_parent_files: dict[str, str],
                            tmp_path: Path) -> None:
        proposal = self._propose(darwin_generator, tmp_path, darwin_parent_files)
        assert isinstance(proposal, Proposal)
        assert isinstance(proposal.changes, dict)
        for rel, text in proposal.changes.items():
            path = PurePosixPath(rel)
            assert rel and not path.is_absolute() and ".." not in path.parts, f"unsafe path {rel!r}"
            assert text is None or isinstance(text, str), f"{rel}: new text must be str or None"
        assert isinstance(proposal.description, str) and isinstance(proposal.improvement_type, str)
        assert all(isinstance(u, Usage) for u in proposal.usage)

    def test_changes_differ_from_the_parent(self, darwin_generator: Generator,
                                            darwin_parent_files: dict[str, str], tmp_path: Path) -> None:
        proposal = self._propose(darwin_generator, tmp_path, darwin_parent_files)
        for rel, text in proposal.changes.items():
            assert text is None or darwin_parent_files.get(rel) != text, f"{rel} is unchanged"

    def test_does_not_touch_the_parent_outside_its_copy(self, darwin_generator: Generator,
                                                        darwin_parent_files: dict[str, str],
                                                        tmp_path: Path) -> None:
        self._propose(darwin_generator, tmp_path, darwin_parent_files)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["parent"]

    def test_same_seed_same_proposal(self, darwin_generator: Generator,
                                     darwin_parent_files: dict[str, str], tmp_path: Path) -> None:
        if not self.deterministic:
            pytest.skip("declared non-deterministic (deterministic = False)")
        first = self._propose(darwin_generator, tmp_path, darwin_parent_files, seed=5, name="a")
        again = self._propose(darwin_generator, tmp_path, darwin_parent_files, seed=5, name="b")
        assert first.changes == again.changes

    def test_nothing_to_change_is_an_empty_proposal_not_an_exception(
        self, darwin_generator: Generator, tmp_path: Path
    ) -> None:
        proposal = self._propose(darwin_generator, tmp_path, {"README.txt": "no code here\n"})
        assert isinstance(proposal, Proposal)
