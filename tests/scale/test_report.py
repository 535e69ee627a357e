"""``darwin report``: the page is self-contained and renders in headless Chromium."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path
from typing import Any

from darwin_core.reader import open_run

from .cdp import Browser, find_chromium


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def test_report_files_are_self_contained(small_run: Path, darwin_cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = darwin_cli("report", str(small_run), "--out", str(out))
    assert result.returncode == 0, result.stderr
    html = (out / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "the page must fetch nothing"
    assert "<link" not in html and "<script src" not in html
    from PIL import Image

    for name in ("tree.png", "best_score.png", "tasks.png"):
        with Image.open(out / name) as image:
            assert image.size[0] > 200 and image.size[1] > 100
            assert len(image.convert("RGB").getcolors(1 << 24)) > 10  # something was drawn

    missing = darwin_cli("report", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "fix" in missing.stderr


def test_report_renders_in_chromium(small_run: Path, darwin_cli: Any, tmp_path: Path) -> None:
    chromium = find_chromium()
    assert chromium, "chromium is required (apt-get install chromium; ci/install-system.sh installs it)"
    out = tmp_path / "report"
    assert darwin_cli("report", str(small_run), "--out", str(out), "--no-figures").returncode == 0
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
        assert browser.evaluate("document.querySelectorAll('#matrix tbody tr').length") == len(variants)

        # the screenshot shows the tree: an accepted node's centre has its score colour
        clicked = next(v for v in reversed(view.variants) if v.patch_ref and v.status == "accepted")
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

        problems = [e for e in browser.all_events
                    if e.get("method") == "Runtime.exceptionThrown"
                    or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "assert", "warning"))
                    or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")]
        assert not problems, problems
        urls = [e["params"]["request"]["url"] for e in browser.all_events if e.get("method") == "Network.requestWillBeSent"]
        assert urls and all(u.startswith(("file:", "data:", "about:")) for u in urls), urls
    finally:
        browser.close()
