"""The clade index: incremental clade features equal the reference walk on real archives."""

from __future__ import annotations

import random

import pytest

from darwin_core.archive import Archive
from darwin_core.features import CladeIndex, History, attempt_features, clade_stats
from darwin_hookspecs import Attempt, Target, TaskResult, Variant

ROOT = "v0000root"


def _results(rng: random.Random) -> dict[str, TaskResult]:
    tasks = rng.sample(range(8), rng.randrange(0, 7))
    results = {}
    for t in tasks:
        passed = rng.random() < 0.5
        results[f"t{t}"] = TaskResult(task_id=f"t{t}", passed=passed, score=float(passed))
    return results


def _variant(rng: random.Random, vid: str, parent: Variant | None) -> Variant:
    return Variant(
        id=vid, parent_id=parent.id if parent else None,
        generation=parent.generation + 1 if parent else 0,
        status=rng.choice(["accepted", "accepted", "rejected", "invalid"]),
        score=rng.choice([0.0, 0.25, 0.5, 0.5, 0.75, 1.0]),  # few values: ties are common
        task_results=_results(rng),
    )


def _random_tree(seed: int, size: int) -> list[Variant]:
    """Variants in creation order (parents before children), each under a random earlier one."""
    rng = random.Random(seed)
    tree = [_variant(rng, ROOT, None)]
    for index in range(1, size):
        # favour recent variants so the tree gets deep as well as wide
        parent = tree[max(0, len(tree) - 1 - int(rng.expovariate(0.1)))]
        tree.append(_variant(rng, f"v{parent.generation + 1:04d}a{index:04d}", parent))
    return tree


def _assert_matches(index: CladeIndex, archive: Archive) -> None:
    for variant in archive.variants():
        assert index.stats(archive, variant.id) == clade_stats(archive, variant.id), variant.id


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_index_equals_the_reference_walk_as_variants_arrive(seed):
    tree = _random_tree(seed, 300)
    rng = random.Random(seed)
    archive, index = Archive(), CladeIndex()
    position = checks = 0
    while position < len(tree):
        step = rng.randrange(1, 8)
        for variant in tree[position:position + step]:
            archive.add(variant)
        position += step
        _assert_matches(index, archive)
        checks += 1
    assert checks > 300 // 7 and len(archive) == 300
    root = index.stats(archive, ROOT)
    assert root["clade_size"] == 300.0 and root["clade_improve_rate"] != 0.5  # scores do differ
    # a second record under a recorded id is ignored by the archive, and so by the index
    for variant in rng.sample(tree, 20):
        replacement = _variant(rng, variant.id, None)
        replacement.parent_id, replacement.score = variant.parent_id, variant.score + 1.0
        assert archive.add(replacement) is False and archive.get(variant.id) is variant
    _assert_matches(index, archive)


def test_many_variants_at_once_in_any_order():
    """Warm start / resume: a batch lands between two queries, children possibly before parents."""
    tree = _random_tree(7, 400)
    archive, index = Archive(), CladeIndex()
    archive.add(tree[0])
    _assert_matches(index, archive)
    batch = tree[1:250]
    random.Random(7).shuffle(batch)  # many children arrive before their parents
    for variant in batch:
        archive.add(variant)
    _assert_matches(index, archive)
    rest = tree[250:]
    random.Random(8).shuffle(rest)
    for chunk in range(0, len(rest), 30):
        for variant in rest[chunk:chunk + 30]:
            archive.add(variant)
        _assert_matches(index, archive)
    assert index.stats(archive, ROOT)["clade_size"] == 400.0


def test_orphans_are_absorbed_when_their_parent_arrives():
    rng = random.Random(0)
    root = _variant(rng, ROOT, None)
    mid = _variant(rng, "v0001a0001", root)
    leaf = _variant(rng, "v0002a0002", mid)
    archive, index = Archive(), CladeIndex()
    for variant in (leaf, root):  # ``mid`` is missing: ``leaf`` is a provisional top
        archive.add(variant)
    assert index.stats(archive, ROOT)["clade_size"] == 1.0
    assert index.stats(archive, leaf.id)["clade_size"] == 1.0
    archive.add(mid)
    _assert_matches(index, archive)
    assert index.stats(archive, ROOT)["clade_size"] == 3.0


def test_a_long_chain_needs_no_recursion():
    rng = random.Random(5)
    chain = [_variant(rng, ROOT, None)]
    for index in range(1, 3000):
        chain.append(_variant(rng, f"v{index:04d}a0000", chain[-1]))
    forward, index_forward = Archive(), CladeIndex()
    for position, variant in enumerate(chain):
        forward.add(variant)
        if position % 500 == 0:
            assert index_forward.stats(forward, variant.id)["clade_size"] == 1.0
            assert index_forward.stats(forward, ROOT)["clade_size"] == position + 1
    backward, index_backward = Archive(), CladeIndex()
    for variant in reversed(chain):  # leaf first: every variant absorbs its child's sums
        backward.add(variant)
    for probe in (ROOT, chain[1].id, chain[1500].id, chain[-1].id):
        expected = clade_stats(forward, probe)
        assert index_forward.stats(forward, probe) == expected
        assert index_backward.stats(backward, probe) == expected
    assert expected["clade_size"] == 1.0 and index_forward.stats(forward, ROOT)["clade_size"] == 3000.0


def test_an_index_follows_the_archive_it_is_given():
    first, second = Archive(), Archive()
    tree = _random_tree(11, 40)
    for variant in tree:
        first.add(variant)
    for variant in tree[:10]:
        second.add(variant)
    index = CladeIndex()
    _assert_matches(index, first)
    _assert_matches(index, second)  # another archive: rebuilt, not mixed
    assert index.stats(second, ROOT)["clade_size"] == 10.0


def test_attempt_features_use_the_history_index():
    tree = _random_tree(13, 120)
    archive, history = Archive(), History()
    compared = 0
    for position, variant in enumerate(tree):
        archive.add(variant)
        if position % 10 and position != len(tree) - 1:
            continue
        parent = tree[random.Random(position).randrange(position + 1)]
        attempt = Attempt(id=f"a{position:04d}", generation=parent.generation + 1, index=0,
                          parent_id=parent.id, seed=position,
                          target=Target(kind="failing_task", task_id="t1"))
        features = attempt_features(attempt, parent, archive, history, generator="mutation")
        expected = clade_stats(archive, parent.id)
        assert {k: features[k] for k in expected} == expected
        assert features["parent_depth"] == float(archive.depth(parent.id))
        compared += 1
    assert compared == 13
    assert history.clades.stats(archive, ROOT)["clade_size"] == 120.0
