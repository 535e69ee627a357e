"""``darwin report``: the page is self-contained and renders in headless Chromium."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path
from typing import Any

import pytest

from darwin_core.reader import open_run
from darwin_core.report.svg import nice_ticks, step_chart, time_axis

from .cdp import Browser, find_chromium


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def _inline_pngs(html: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)]


def test_report_is_one_self_contained_file(small_run: Path, darwin_cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = darwin_cli("report", str(small_run), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]  # the figures are inside it
    html = (out / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "the page must fetch nothing"
    assert "<link" not in html and "<script src" not in html
    assert not re.search(r"""<img[^>]+src="(?!data:)""", html), "every image is inline"
    from PIL import Image

    pngs = _inline_pngs(html)
    assert len(pngs) == 3
    for png in pngs:
        with Image.open(io.BytesIO(png)) as image:
            assert image.size[0] > 200 and image.size[1] > 100
            assert len(image.convert("RGB").getcolors(1 << 24)) > 10  # something was drawn

    missing = darwin_cli("report", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "fix" in missing.stderr


@pytest.mark.parametrize("lo, hi", [(0, 0.07), (0, 0.004), (0, 1.0), (0, 16), (0, 37.5), (0, 1234), (0, 3.3)])
def test_axis_ticks_are_round_distinct_and_cover_the_data(lo: float, hi: float) -> None:
    ticks, decimals = nice_ticks(lo, hi)
    labels = [f"{t:.{decimals}f}" for t in ticks]
    assert len(set(labels)) == len(labels) >= 3, labels  # never "0.0 0.0 0.0 0.1"
    assert ticks[0] <= lo and ticks[-1] >= hi and len(ticks) <= 7
    assert all(float(label) == pytest.approx(t) for label, t in zip(labels, ticks))


def test_time_axis_unit_and_empty_charts() -> None:
    assert time_axis([0.0, 30.0])[1] == "seconds"
    assert time_axis([0.0, 600.0]) == ([0.0, 10.0], "minutes")
    assert time_axis([0.0, 36000.0])[1] == "hours"
    empty = step_chart([], chart_id="c", x_label="x", y_label="y", empty="nothing here")
    assert "nothing here" in empty and "<path" not in empty and 'class="chart empty"' in empty


def test_report_renders_in_chromium(small_run: Path, darwin_cli: Any, tmp_path: Path) -> None:
    chromium = find_chromium()
    assert chromium, "chromium is required (apt-get install chromium; ci/install-system.sh installs it)"
    out = tmp_path / "report"
    assert darwin_cli("report", str(small_run), "--out", str(out)).returncode == 0
    view = open_run(small_run)
    variants = {v.id: v for v in view.variants}
    best = view.archive.best_id
    lineage = view.archive.lineage(best) if best else []

    browser = Browser(chromium)
    try:
        browser.call("Page.navigate", session=True, url=(out / "index.html").as_uri())
        browser.wait_event("Page.loadEventFired")
        assert browser.evaluate("document.querySelectorAll('#tree circle.node').length") == len(variants)
        assert browser.evaluate("document.querySelectorAll('#tree path.edge').length") == len(variants) - 1
        assert browser.evaluate("document.querySelectorAll('#tree path.edge.best').length") == len(lineage) - 1
        assert browser.evaluate("document.querySelector('#tree circle.best').getAttribute('data-id')") == best
        for chart in ("best-over-attempts", "best-over-time"):
            length = browser.evaluate(f"document.querySelector('#{chart} path.line').getTotalLength()")
            assert length > 50, chart
            ticks = browser.evaluate(f"[...document.querySelectorAll('#{chart} text.tick.x')].map(t => t.textContent)")
            assert len(set(ticks)) == len(ticks) >= 3, (chart, ticks)
        unit = browser.evaluate("[...document.querySelectorAll('#best-over-time text.label')][0].textContent")
        assert unit in ("seconds", "minutes", "hours")
        # no spend in an offline run: the chart says so instead of drawing a flat line
        assert browser.evaluate("document.querySelectorAll('#best-over-spend path').length") == 0
        assert "No spend recorded" in browser.evaluate("document.getElementById('best-over-spend').textContent")
        # heat-map labels: whole, legible, not on top of each other
        labels = browser.evaluate("""[...document.querySelectorAll('#matrix th.task span')].map(s => {
            const r = s.getBoundingClientRect();
            return [r.left, r.right, parseFloat(getComputedStyle(s).fontSize), s.scrollHeight <= s.clientHeight + 1];
        })""")
        assert len(labels) == len({t for v in variants.values() for t in v.task_results})
        assert all(size >= 11 and whole for _, _, size, whole in labels)
        for (_, right, _, _), (left, _, _, _) in zip(labels, labels[1:]):
            assert right <= left + 0.5, "heat-map labels overlap"
        images = browser.evaluate("[...document.querySelectorAll('.figures img')].map(i => i.naturalWidth)")
        assert len(images) == 3 and min(images) > 200
        assert browser.evaluate("document.querySelectorAll('#matrix tbody tr').length") == len(variants)

        # the screenshot shows the tree: an accepted node's centre has its score colour
        clicked = next(v for v in reversed(view.variants) if v.patch_ref and v.status == "accepted" and v.failing_tasks)
        centre = browser.evaluate(f"""(() => {{
            const c = document.querySelector('circle.node[data-id="{clicked.id}"]');
            c.scrollIntoView({{block: 'center', inline: 'center'}});
            const r = c.getBoundingClientRect();
            return [r.left + r.width / 2, r.top + r.height / 2, c.getAttribute('fill')];
        }})()""")
        shot = browser.call("Page.captureScreenshot", session=True, format="png")
        png = base64.b64decode(shot["data"])
        (tmp_path / "screenshot.png").write_bytes(png)
        from PIL import Image

        image = Image.open(io.BytesIO(png)).convert("RGB")
        pixel = image.getpixel((round(centre[0]), round(centre[1])))
        expected = _rgb(centre[2])
        assert all(abs(a - b) <= 30 for a, b in zip(pixel, expected)), (pixel, expected)
        assert len(image.getcolors(1 << 24)) > 50

        # a real mouse click on the node shows its diff against its parent
        browser.click(centre[0], centre[1])
        assert browser.evaluate("document.getElementById('detail').getAttribute('data-shown')") == clicked.id
        shown = browser.evaluate("document.getElementById('diff').textContent")
        real = view.store.get_blob(clicked.patch_ref).decode()
        assert shown.strip() == real.strip()
        assert browser.evaluate("document.querySelectorAll('#diff span.add').length") >= 1
        # ... and the logs of the tasks it fails
        failing = variants[clicked.id].failing_tasks
        assert failing, "the clicked variant should fail some task"
        shown_tasks = browser.evaluate("[...document.querySelectorAll('#failing details')].map(d => d.dataset.task)")
        assert shown_tasks == failing
        first_log = browser.evaluate("document.querySelector('#failing details pre.log').textContent")
        assert first_log == variants[clicked.id].task_results[failing[0]].log[-1500:]

        problems = [e for e in browser.all_events
                    if e.get("method") == "Runtime.exceptionThrown"
                    or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert", "warning"))
                    or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")]
        assert not problems, problems
        urls = [e["params"]["request"]["url"] for e in browser.all_events if e.get("method") == "Network.requestWillBeSent"]
        assert urls and all(u.startswith(("file:", "data:", "about:")) for u in urls), urls
    finally:
        browser.close()
