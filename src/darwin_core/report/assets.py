"""The page's inline style and script (kept here, not in data files, so any install has them)."""

CSS = """
:root { --fg:#1d2330; --muted:#667085; --line:#d0d5dd; --best:#e4572e; --bg:#fbfbfd; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
       background: var(--bg); margin: 0; padding: 18px 24px 48px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 26px 0 8px; }
.sub { color: var(--muted); margin-bottom: 14px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; min-width: 130px; }
.card .v { font-size: 18px; font-weight: 600; } .card .k { color: var(--muted); font-size: 12px; }
.row { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
#tree-box { background: #fff; border: 1px solid var(--line); border-radius: 8px; overflow: auto;
            max-height: 560px; flex: 1 1 560px; }
#detail { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px;
          flex: 1 1 420px; min-height: 200px; max-width: 760px; }
#detail .empty { color: var(--muted); }
.edge { fill: none; stroke: #98a2b3; stroke-width: 1.2; }
.edge.best { stroke: var(--best); stroke-width: 3; }
.node { stroke: #344054; stroke-width: 1; cursor: pointer; }
.node.rejected, .node.invalid, .node.error { fill-opacity: .35; stroke-dasharray: 2 2; stroke: #98a2b3; }
.node.lineage { stroke: var(--best); stroke-width: 2.5; }
.node.best { stroke: var(--best); stroke-width: 4; }
.node.selected { stroke: #000; stroke-width: 3; }
.legend { color: var(--muted); font-size: 12px; margin: 6px 0; }
.legend .sw { display: inline-block; width: 11px; height: 11px; border-radius: 50%; vertical-align: -1px; margin: 0 3px 0 10px; }
.chart { background: #fff; border: 1px solid var(--line); border-radius: 8px; }
.chart .line { fill: none; stroke: #3b528b; stroke-width: 2.2; }
.chart .dot { fill: var(--best); }
.chart .grid { stroke: #eaecf0; } .chart .axis { stroke: #667085; }
.chart .tick, .chart .label, .chart text { font-size: 11px; fill: #475467; }
pre.diff { background: #0f1420; color: #d0d5dd; padding: 10px; border-radius: 6px; overflow: auto;
           max-height: 420px; font: 12px/1.4 ui-monospace, Menlo, Consolas, monospace; }
pre.diff .add { color: #7ee787; } pre.diff .del { color: #ff7b72; } pre.diff .hunk { color: #79c0ff; }
table.matrix { border-collapse: collapse; font-size: 11px; background: #fff; }
table.matrix th, table.matrix td { border: 1px solid #eaecf0; padding: 1px 3px; text-align: center; }
table.matrix th.task { vertical-align: bottom; padding: 4px 2px; font-weight: normal; }
table.matrix th.task span { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap;
                            font-size: 12px; line-height: 16px; display: inline-block; }
table.matrix td.vid { text-align: left; white-space: nowrap; cursor: pointer; }
td.pass { background: #abefc6; } td.fail { background: #fda29b; } td.timeout { background: #fec84b; }
td.error, td.crash { background: #f97066; } td.oom, td.output_limit { background: #d6bbfb; }
td.infra, td.not_run { background: #d0d5dd; } td.none { background: #f9fafb; }
.matrix-box { overflow: auto; max-height: 520px; }
.figures img { max-width: 460px; border: 1px solid var(--line); border-radius: 8px; background: #fff; }
.notes { color: #b42318; }
.chart.empty .empty-note { font-size: 13px; fill: var(--muted); }
#detail details { margin: 4px 0; } #detail summary { cursor: pointer; }
pre.log { background: #f8f9fb; border: 1px solid var(--line); padding: 6px 8px; border-radius: 6px;
          max-height: 240px; overflow: auto; font: 12px/1.35 ui-monospace, Menlo, Consolas, monospace;
          white-space: pre-wrap; }
.qd-grid .cell.empty { fill: #f9fafb; stroke: #98a2b3; stroke-dasharray: 3 2; }
.qd-grid .cell.filled { cursor: pointer; } .qd-grid .cell.filled text { font-size: 11px; pointer-events: none; }
.qd-grid .cell.best rect { stroke: var(--best); stroke-width: 3; }
.qd-panel { margin: 0; max-width: 100%; overflow-x: auto; } .qd-panel figcaption { color: var(--muted); font-size: 12px; text-align: center; }
#qd-occupancy .slot { fill: #f2f4f7; } #qd-occupancy .occupied { fill: #3b528b; }
.island { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; flex: 1 1 200px; max-width: 320px; }
.island h3 { font-size: 14px; margin: 0 0 2px; } .island .k { color: var(--muted); font-size: 12px; }
.island-best { cursor: pointer; }
.chips { display: flex; flex-wrap: wrap; gap: 3px; margin-top: 6px; }
.chip { width: 14px; height: 14px; border-radius: 3px; border: 1px solid #344054; cursor: pointer; }
.chip.migrant { border: 2px dashed #e4572e; } .chip.best { outline: 2px solid var(--best); }
"""

JS = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("run-data").textContent);
  var detail = document.getElementById("detail");
  var selected = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function renderDiff(text) {
    var pre = el("pre", "diff");
    pre.id = "diff";
    text.split("\n").forEach(function (line) {
      var cls = "";
      if (line.indexOf("+++") === 0 || line.indexOf("---") === 0) { cls = "file"; }
      else if (line.charAt(0) === "+") { cls = "add"; }
      else if (line.charAt(0) === "-") { cls = "del"; }
      else if (line.indexOf("@@") === 0) { cls = "hunk"; }
      pre.appendChild(el("span", cls, line + "\n"));
    });
    return pre;
  }

  function show(id) {
    var node = data.nodes[id];
    if (!node) { return; }
    if (selected) { selected.classList.remove("selected"); }
    selected = document.querySelector('circle.node[data-id="' + id + '"]');
    if (selected) { selected.classList.add("selected"); }
    detail.innerHTML = "";
    detail.setAttribute("data-shown", id);
    var head = el("h3", "", id + (id === data.best_id ? "  \u2605 best" : ""));
    detail.appendChild(head);
    var facts = [
      ["status", node.status + (node.reason ? " (" + node.reason + ")" : "")],
      ["score", node.score.toFixed(4) + "  (" + node.passed + "/" + node.evaluated + " tasks passed)"],
      ["parent", node.parent || "\u2013"], ["generation", String(node.generation)],
      ["change", (node.improvement_type ? node.improvement_type + ": " : "") + (node.description || "")],
      ["aimed at", node.target || "\u2013"], ["cost", "$" + node.cost_usd.toFixed(4)]
    ];
    var dl = el("div", "facts");
    facts.forEach(function (f) {
      var line = el("div");
      line.appendChild(el("b", "", f[0] + ": "));
      line.appendChild(document.createTextNode(f[1]));
      dl.appendChild(line);
    });
    detail.appendChild(dl);
    var failing = data.failing[id] || [];
    if (failing.length) {
      var box = el("div", "failing");
      box.id = "failing";
      box.appendChild(el("h4", "", "failing tasks (" + failing.length + ")"));
      failing.forEach(function (row) {
        var item = el("details", "task-log");
        item.setAttribute("data-task", row[0]);
        item.appendChild(el("summary", "", row[0] + " \u2013 " + row[1]));
        item.appendChild(el("pre", "log", data.logs[row[2]] || "(no output)"));
        box.appendChild(item);
      });
      detail.appendChild(box);
    }
    var diff = data.diffs[id];
    if (diff) {
      detail.appendChild(el("h4", "", "diff against " + (node.parent || "nothing")));
      detail.appendChild(renderDiff(diff));
    } else {
      detail.appendChild(el("p", "empty", node.parent ? "no diff recorded (the child changed nothing)" : "the initial variant has no parent"));
    }
  }

  document.getElementById("tree").addEventListener("click", function (ev) {
    var target = ev.target;
    if (target && target.getAttribute && target.getAttribute("data-id")) {
      show(target.getAttribute("data-id"));
    }
  });
  Array.prototype.forEach.call(document.querySelectorAll("td.vid"), function (td) {
    td.addEventListener("click", function () { show(td.getAttribute("data-id")); });
  });
  Array.prototype.forEach.call(document.querySelectorAll("#population [data-id]"), function (cell) {
    cell.addEventListener("click", function () { show(cell.getAttribute("data-id")); });
  });
  window.darwinReport = { show: show };
})();
"""
