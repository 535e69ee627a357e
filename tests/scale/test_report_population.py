"""``darwin report`` and ``darwin status`` show the selection strategy's population: the
``map_elites`` grid and the ``islands``, from real runs of the CLI (read back independently)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from darwin_core.plugins import PluginManager
from darwin_core.reader import open_run
from darwin_core.report.data import gather
from darwin_core.report.page import render_page
from darwin_core.report.svg import score_colour

from support import QUICKSTART, cost_problem


def darwin(*args: str) -> subprocess.CompletedProcess[str]:
    """The real ``darwin`` CLI in a subprocess (module fixtures cannot use ``darwin_cli``)."""
    return subprocess.run([sys.executable, "-m", "darwin_core", *args], env={**os.environ, "COLUMNS": "200"},
                          capture_output=True, text=True, timeout=300)


def _run(base: Path, darwin_cli: Any, selection: str, generations: int) -> Path:
    shutil.copytree(QUICKSTART, base / "qs")
    config = base / "qs" / "darwin.toml"
    text = re.sub(r"(?m)^generations = \d+", f"generations = {generations}", config.read_text())
    text = re.sub(r"(?m)^backtrack = .*\n", "", text)  # an option of `best` only
    config.write_text(text.replace('name = "best"', selection, 1))
    result = darwin_cli("run", str(config), "--run-dir", str(base / "run"), "-q")
    assert result.returncode == 0, result.stderr
    return base / "run"


def _report(run_dir: Path, darwin_cli: Any, out: Path) -> str:
    result = darwin_cli("report", str(run_dir), "--out", str(out), "--no-figures")
    assert result.returncode == 0, result.stderr
    return (out / "index.html").read_text(encoding="utf-8")


def _status(run_dir: Path, darwin_cli: Any) -> dict[str, Any]:
    result = darwin_cli("status", str(run_dir), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _best_first(variants: list[Any], sign: float = 1.0) -> Any:
    """The best in the objective's direction, the earliest among equals (``variants`` in creation order)."""
    top = max(sign * v.score for v in variants)
    return next(v for v in variants if sign * v.score == top)


@pytest.fixture(scope="module")
def elites_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(tmp_path_factory.mktemp("elites"), darwin,
                'name = "map_elites"\nfeatures = ["behaviour", "distance"]\nbins = 3', 4)


@pytest.fixture(scope="module")
def islands_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(tmp_path_factory.mktemp("islands"), darwin,
                'name = "islands"\nislands = 3\nrules = ["best", "random"]\nmigrate_every = 2', 6)


def _expected_grid(run_dir: Path) -> dict[tuple[Any, ...], Any]:
    """Cells recomputed from the records: passing tasks x edits from the root (capped at bins - 1)."""
    view = open_run(run_dir)
    depth: dict[str, int] = {}
    for v in view.variants:
        edits = (v.metadata or {}).get("edits")
        own = len(edits) if isinstance(edits, list) and edits else 1
        depth[v.id] = depth[v.parent_id] + own if v.parent_id else 0
    cells: dict[tuple[Any, ...], list[Any]] = {}
    for v in view.archive.selectable():
        key = (tuple(sorted(t for t, r in v.task_results.items() if r.passed)), min(depth[v.id], 2))
        cells.setdefault(key, []).append(v)
    return {key: _best_first(members) for key, members in cells.items()}


def test_the_report_draws_the_map_elites_grid(elites_run: Path, darwin_cli: Any, tmp_path: Path) -> None:
    html = _report(elites_run, darwin_cli, tmp_path / "report")
    expected = _expected_grid(elites_run)
    behaviours = {key[0] for key in expected}
    assert len(expected) >= 3, "the run should fill several cells"
    assert "Population: the map_elites grid" in html
    filled = re.findall(r'<g class="cell filled( best)?" data-id="([^"]+)"', html)
    assert sorted(i for _, i in filled) == sorted(v.id for v in expected.values())
    total = len(behaviours) * 3
    assert html.count('class="cell empty"') == total - len(expected)
    assert f'data-filled="{len(expected)}" data-total="{total}"' in html
    best = _best_first(list(expected.values()))
    assert [i for mark, i in filled if mark] == [best.id]  # the best elite is outlined
    assert f"elite {best.id} · score {best.score:.6g}" in html  # its raw score in the tooltip
    status = _status(elites_run, darwin_cli)
    assert status["population"]["kind"] == "grid"
    assert (status["population"]["cells_filled"], status["population"]["cells_total"]) == (len(expected), total)
    text = darwin_cli("status", str(elites_run)).stdout
    assert f"{len(expected)} / {total} cells filled" in text


def test_more_than_two_features_are_small_multiples(tmp_path: Path, darwin_cli: Any) -> None:
    run_dir = _run(tmp_path, darwin_cli, 'name = "map_elites"\nfeatures = ["distance", "score", "family"]\nbins = 2', 3)
    html = _report(run_dir, darwin_cli, tmp_path / "report")
    families = {str((v.metadata or {}).get("family", "")) for v in open_run(run_dir).archive.selectable()}
    assert len(families) >= 2
    assert len(re.findall(r'<svg id="qd-grid-\d+"', html)) == len(families)
    assert html.count("<figcaption>family = ") == len(families)
    assert f'data-total="{2 * 2 * len(families)}"' in html


def test_the_report_shows_each_island(islands_run: Path, darwin_cli: Any, tmp_path: Path) -> None:
    html = _report(islands_run, darwin_cli, tmp_path / "report")
    view = open_run(islands_run)
    ids = {v.id: tuple(map(int, re.match(r"v(\d+)a(\d+)", v.id).groups())) for v in view.variants if v.parent_id}
    per = max(j for _, j in ids.values()) + 1  # draws per generation: island of draw j of gen g is (g per + j) mod 3
    home = {i: (g * per + j) % 3 for i, (g, j) in ids.items()}
    columns = re.findall(r'<div class="island" data-island="(\d)" data-best="([^"]*)">(.*?)</div></div>', html)
    assert [c[0] for c in columns] == ["0", "1", "2"]
    status = _status(islands_run, darwin_cli)["population"]
    assert status["kind"] == "islands" and status["migrate_every"] == 2 and status["last_migration"] == 6
    for (index, best_id, body), summary in zip(columns, status["islands"]):
        island = int(index)
        own = [v for v in view.archive.selectable() if v.parent_id is None or home[v.id] == island]
        chips = re.findall(r'<span class="chip( migrant)?( best)?" data-id="([^"]+)"', body)
        ids = {c[2] for c in chips}
        assert {v.id for v in own} <= ids  # its own variants and the root ...
        migrants = {c[2] for c in chips if c[0]}
        assert migrants == ids - {v.id for v in own}  # ... and the migrants, marked
        assert all(home[m] == (island - 1) % 3 for m in migrants)  # from its ring predecessor
        members = [v for v in view.variants if v.id in ids]
        assert best_id == _best_first(members).id == summary["best_id"]
        assert "best <b" in body and best_id in body
        assert summary["size"] == len(ids) and summary["rule"] == ["best", "random"][island % 2]
    assert any(re.search(r'class="chip migrant', c[2]) for c in columns), "a migration happened at generation 2"


def test_a_minimised_objective_colours_the_lowest_elite_best(tmp_path: Path, darwin_cli: Any) -> None:
    config = cost_problem(tmp_path)
    config.write_text(config.read_text().replace(
        '[selection]\nname = "best"', '[selection]\nname = "map_elites"\nfeatures = ["score"]\nbins = 4'))
    assert darwin_cli("run", str(config), "--run-dir", str(tmp_path / "run"), "-q").returncode == 0
    html = _report(tmp_path / "run", darwin_cli, tmp_path / "report")
    cells = {i: (float(s), fill) for i, s, fill in
             re.findall(r'<g class="cell filled(?: best)?" data-id="([^"]+)" data-score="([^"]+)"><rect [^>]*fill="([^"]+)"', html)}
    assert len(cells) >= 2
    lowest = min(cells, key=lambda i: cells[i][0])
    highest = max(cells, key=lambda i: cells[i][0])
    assert cells[lowest][1] == score_colour(1.0) and cells[highest][1] == score_colour(0.0)
    assert f'<g class="cell filled best" data-id="{lowest}"' in html
    section = html.split('<div id="population">', 1)[1].split("<h2>", 1)[0]
    assert f"{cells[lowest][0]:.4g} (best)" in section and f"{cells[highest][0]:.4g} (worst)" in section


def test_a_strategy_without_a_population_has_no_section(tmp_path: Path, darwin_cli: Any) -> None:
    run_dir = _run(tmp_path, darwin_cli, 'name = "best"', 1)
    html = _report(run_dir, darwin_cli, tmp_path / "report")
    assert 'id="population"' not in html and "Population" not in html
    status = _status(run_dir, darwin_cli)
    assert status["population"] is None and "population_note" not in status


def test_a_strategy_that_cannot_be_built_leaves_a_note(elites_run: Path) -> None:
    view = open_run(elites_run, plugins=PluginManager(disable=["darwin-selection"]))
    data = gather(view)
    assert data.population is None
    assert any("selection 'map_elites' could not be built" in n for n in data.notes)
    page = render_page(data, {})
    assert 'id="population"' not in page and "could not be built" in page and 'id="tree"' in page
    assert view.status_dict()["population_note"].startswith("selection 'map_elites' could not be built")


def test_the_grid_and_islands_render_in_chromium(elites_run: Path, islands_run: Path, tmp_path: Path) -> None:
    import base64
    import io

    from PIL import Image

    from .cdp import Browser, find_chromium

    chromium = find_chromium()
    assert chromium, "chromium is required (apt-get install chromium; ci/install-system.sh installs it)"
    elites = _expected_grid(elites_run)
    best = _best_first(list(elites.values()))
    pages = {name: tmp_path / name / "index.html" for name in ("elites", "islands")}
    for name, run_dir in (("elites", elites_run), ("islands", islands_run)):
        _report(run_dir, darwin, pages[name].parent)
    browser = Browser(chromium)
    try:
        browser.call("Page.navigate", session=True, url=pages["elites"].as_uri())
        browser.wait_event("Page.loadEventFired")
        shown = browser.evaluate("""[...document.querySelectorAll('#population g.cell.filled rect')].filter(r => {
            const b = r.getBoundingClientRect(); return b.width > 20 && b.height > 10; }).length""")
        assert shown == len(elites)
        assert browser.evaluate("document.querySelectorAll('#population rect.cell.empty').length") > 0
        centre = browser.evaluate(f"""(() => {{
            const g = document.querySelector('#population g.cell.best[data-id="{best.id}"]');
            g.scrollIntoView({{block: 'center'}});
            const r = g.querySelector('rect').getBoundingClientRect();
            return [r.left + 6, r.top + 6, g.querySelector('rect').getAttribute('fill')];
        }})()""")
        shot = base64.b64decode(browser.call("Page.captureScreenshot", session=True, format="png")["data"])
        (tmp_path / "grid.png").write_bytes(shot)
        pixel = Image.open(io.BytesIO(shot)).convert("RGB").getpixel((round(centre[0]), round(centre[1])))
        expected = tuple(int(centre[2][i:i + 2], 16) for i in (1, 3, 5))
        assert all(abs(a - b) <= 30 for a, b in zip(pixel, expected)), (pixel, expected)
        browser.click(centre[0], centre[1])  # a real click on a cell shows its variant
        assert browser.evaluate("document.getElementById('detail').getAttribute('data-shown')") == best.id

        browser.call("Page.navigate", session=True, url=pages["islands"].as_uri())
        browser.wait_event("Page.loadEventFired")
        boxes = browser.evaluate("""[...document.querySelectorAll('#population .island')].map(i => {
            const b = i.getBoundingClientRect(); return [b.width, b.height, i.querySelectorAll('.chip').length]; })""")
        assert len(boxes) == 3 and all(w > 150 and h > 60 and chips > 0 for w, h, chips in boxes)
        problems = [e for e in browser.all_events if e.get("method") == "Runtime.exceptionThrown"
                    or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "warning"))]
        assert not problems, problems
    finally:
        browser.close()
