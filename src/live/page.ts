// The live view's one page: plain HTML with inline CSS, SVG and script (no framework, no external
// URL: the server's Content-Security-Policy forbids loading anything). It opens /events and draws
// what arrives: the ring of members (node id, name, records held, the leader marked), the Free
// peers beside it, the phase and the operation in progress, every registered peer, and the
// messages the manager sends and receives as they flow, each also shown as a dot travelling
// between the manager (the ring's centre) and the peer. Data is only ever set as text, never as
// markup. The script avoids backquotes: this file holds it in a template literal.
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ringdht — manager live view</title>
<style>
  :root { --fg: #1d2433; --muted: #667085; --line: #d0d5dd; --bg: #f7f8fa; --card: #fff;
          --leader: #b7791f; --member: #2b6cb0; --free: #2f855a; --bad: #c53030; --init: #c05621; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); }
  header { display: flex; gap: 16px; align-items: baseline; padding: 10px 18px; background: #1d2433; color: #fff; }
  header h1 { font-size: 17px; margin: 0; font-weight: 600; }
  header .sub { color: #c8cdd6; }
  #conn { margin-left: auto; font-size: 13px; }
  #conn::before { content: "●"; margin-right: 5px; color: #e53e3e; }
  body[data-connected="true"] #conn::before { color: #48bb78; }
  main { display: grid; grid-template-columns: minmax(380px, 460px) minmax(150px, 200px) minmax(360px, 1fr); gap: 14px; padding: 14px 18px; }
  section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; min-width: 0; }
  h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 0 0 8px; font-weight: 600; }
  #phase { font-size: 16px; font-weight: 600; }
  #phase .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; background: #e2e8f0; margin-right: 6px; }
  #phase[data-phase="ready"] .badge { background: #c6f6d5; color: #22543d; }
  #phase[data-phase="building"] .badge, #phase[data-phase="leaving"] .badge, #phase[data-phase="joining"] .badge,
  #phase[data-phase="tearing-down"] .badge { background: #feebc8; color: #7b341e; }
  #operation { color: var(--init); font-weight: 600; min-height: 1.4em; }
  #total { color: var(--muted); }
  svg#ring { width: 100%; height: auto; display: block; }
  svg text { font-family: inherit; }
  .node circle.body { fill: #ebf4ff; stroke: var(--member); stroke-width: 2; }
  .node[data-leader="true"] circle.body { fill: #fefcbf; stroke: var(--leader); stroke-width: 4; }
  .node[data-initiator="true"] circle.body { stroke: var(--init); stroke-dasharray: 5 3; }
  .node .id { font-weight: 700; font-size: 14px; text-anchor: middle; dominant-baseline: central; }
  .node .name { font-size: 13px; font-weight: 600; }
  .node .count { font-size: 12px; fill: var(--muted); }
  .node .crown { font-size: 11px; fill: var(--leader); font-weight: 700; }
  .edge { stroke: #a0aec0; stroke-width: 1.5; fill: none; }
  .centre rect { fill: #1d2433; }
  .centre text { fill: #fff; font-size: 12px; text-anchor: middle; dominant-baseline: central; }
  .dot { r: 5; }
  .dot.in { fill: var(--free); }
  .dot.out { fill: var(--member); }
  .dot.bad { fill: var(--bad); }
  .flash { animation: flash .6s ease-out; }
  @keyframes flash { from { background: #fefcbf; } to { background: transparent; } }
  ul#free { list-style: none; padding: 0; margin: 0; display: flex; flex-direction: column; gap: 6px; }
  ul#free li { border: 1px solid var(--free); color: var(--free); border-radius: 14px; padding: 2px 10px; font-weight: 600; }
  ul#free li[data-initiator="true"] { border-color: var(--init); color: var(--init); border-style: dashed; }
  ul#free li.empty { border: none; color: var(--muted); padding-left: 0; font-weight: 400; }
  ul#free li .addr { display: block; font-weight: 400; font-size: 11px; color: var(--muted); }
  .empty { color: var(--muted); font-style: italic; }
  table { border-collapse: collapse; width: 100%; font-size: 13px; }
  th, td { text-align: left; padding: 3px 8px 3px 0; border-bottom: 1px solid #edf0f3; white-space: nowrap; }
  th { color: var(--muted); font-weight: 600; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  tr[data-state="Leader"] td.state { color: var(--leader); font-weight: 700; }
  tr[data-state="InDHT"] td.state { color: var(--member); }
  tr[data-state="Free"] td.state { color: var(--free); }
  #messages-section { grid-column: 1 / -1; }
  #msgstat { color: var(--muted); font-size: 12px; margin-left: 8px; text-transform: none; letter-spacing: 0; font-weight: 400; }
  ol#messages { list-style: none; margin: 0; padding: 0; max-height: 300px; overflow-y: auto; font: 12px/1.5 ui-monospace, "DejaVu Sans Mono", monospace; }
  ol#messages li { display: grid; grid-template-columns: 70px 18px 130px 1fr; gap: 6px; border-bottom: 1px solid #f1f3f5; }
  ol#messages li .t { color: var(--muted); text-align: right; }
  ol#messages li.in .dir { color: var(--free); }
  ol#messages li.out .dir { color: var(--member); }
  ol#messages li.bad .text { color: var(--bad); }
  ol#messages li.note { color: var(--muted); font-style: italic; display: block; }
  ol#messages li .text { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  @media (max-width: 1000px) { main { grid-template-columns: 1fr; } }
</style>
</head>
<body data-connected="false">
<header>
  <h1>ringdht — manager live view</h1>
  <span class="sub" id="manager">manager: connecting…</span>
  <span id="conn">connecting</span>
</header>
<main>
  <section id="ring-section">
    <h2>The ring</h2>
    <div id="phase" data-phase="none"><span class="badge">no DHT</span></div>
    <div id="operation"></div>
    <svg id="ring" viewBox="0 0 460 480" role="img" aria-label="the DHT ring"></svg>
    <div id="total"></div>
  </section>
  <section id="free-section">
    <h2>Free peers</h2>
    <ul id="free"></ul>
  </section>
  <section id="peers-section">
    <h2>Registered peers <span id="peercount"></span></h2>
    <table id="peers">
      <thead><tr><th>name</th><th>state</th><th>node</th><th>address</th><th>m-port</th><th>p-port</th><th class="num">records</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section id="messages-section">
    <h2>Messages to and from the manager <span id="msgstat"></span></h2>
    <ol id="messages"></ol>
  </section>
</main>
<script>
"use strict";
(function () {
  var SVG = "http://www.w3.org/2000/svg";
  var MAX_ROWS = 200, MAX_DOTS = 30, CX = 230, CY = 245, R = 145;
  var state = null, positions = {}, dots = 0;
  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function sv(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  function render(s) {
    state = s;
    $("manager").textContent = s.manager ? "manager at " + s.manager.ip + ":" + s.manager.port : "manager";
    var d = s.dht, phase = $("phase");
    phase.replaceChildren();
    phase.setAttribute("data-phase", d ? d.phase : "none");
    if (d) {
      phase.append(el("span", { "class": "badge" }, d.phase));
      phase.append(document.createTextNode("DHT #" + d.id + " · year " + d.year + " · " + plural(d.members.length, "member") + " · leader " + d.leader));
    } else phase.append(el("span", { "class": "badge" }, "no DHT"));
    $("operation").textContent = d && d.operation ? d.operation : "";
    var counts = d && d.counts ? d.counts : null;
    if (counts) {
      var sum = counts.reduce(function (a, b) { return a + b; }, 0);
      $("total").textContent = plural(sum, "record") + " on " + plural(counts.length, "node");
    } else $("total").textContent = d ? "records per node: not reported yet" : "";
    drawRing(d);
    var free = $("free");
    free.replaceChildren();
    s.peers.forEach(function (p) {
      if (p.state !== "Free") return;
      var li = el("li", { "data-name": p.name, "data-initiator": String(!!(d && d.initiator === p.name)) }, p.name);
      li.append(el("span", { "class": "addr" }, p.ip + ":" + p.pport + (d && d.initiator === p.name ? " · " + d.phase : "")));
      free.append(li);
    });
    if (!free.children.length) free.append(el("li", { "class": "empty" }, "none"));
    var tbody = document.querySelector("#peers tbody");
    tbody.replaceChildren();
    s.peers.forEach(function (p) {
      var i = d ? d.members.indexOf(p.name) : -1;
      var tr = el("tr", { "data-name": p.name, "data-state": p.state });
      tr.append(el("td", {}, p.name), el("td", { "class": "state" }, p.state), el("td", { "class": "num" }, i >= 0 ? String(i) : ""),
        el("td", {}, p.ip), el("td", { "class": "num" }, String(p.mport)), el("td", { "class": "num" }, String(p.pport)),
        el("td", { "class": "num" }, i >= 0 && counts ? String(counts[i]) : ""));
      tbody.append(tr);
    });
    $("peercount").textContent = "(" + (s.peers.length + s.peersOmitted) + (s.peersOmitted ? ", " + s.peersOmitted + " not listed" : "") + ")";
  }

  function drawRing(d) {
    var svg = $("ring");
    svg.replaceChildren();
    positions = {};
    var n = d ? d.members.length : 0;
    if (n > 0) {
      var nodeR = Math.max(6, Math.min(22, 300 / n)), labels = n <= 24;
      var pts = d.members.map(function (name, i) {
        var a = -Math.PI / 2 + 2 * Math.PI * i / n;
        return { name: name, x: CX + R * Math.cos(a), y: CY + R * Math.sin(a), a: a };
      });
      var defs = sv("defs", {});
      var marker = sv("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
      marker.append(sv("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#a0aec0" }));
      defs.append(marker);
      svg.append(defs);
      if (n === 1) svg.append(sv("circle", { "class": "edge", cx: CX, cy: CY, r: R }));
      else pts.forEach(function (p, i) {
        var q = pts[(i + 1) % n], dx = q.x - p.x, dy = q.y - p.y, len = Math.sqrt(dx * dx + dy * dy) || 1;
        var k = (nodeR + 3) / len;
        svg.append(sv("line", { "class": "edge", x1: p.x + dx * k, y1: p.y + dy * k, x2: q.x - dx * k, y2: q.y - dy * k, "marker-end": n <= 64 ? "url(#arrow)" : "" }));
      });
      pts.forEach(function (p, i) {
        positions[p.name] = p;
        var g = sv("g", { "class": "node", "data-name": p.name, "data-id": i, "data-leader": String(p.name === d.leader),
          "data-initiator": String(p.name === d.initiator), "data-count": d.counts ? d.counts[i] : "" });
        var title = sv("title", {}, "node " + i + " " + p.name + (d.counts ? ": " + d.counts[i] + " records" : "") + (p.name === d.leader ? " (leader)" : ""));
        g.append(title, sv("circle", { "class": "body", cx: p.x, cy: p.y, r: nodeR }));
        if (labels) {
          g.append(sv("text", { "class": "id", x: p.x, y: p.y }, String(i)));
          var out = nodeR + 8, lx = CX + (R + out) * Math.cos(p.a), ly = CY + (R + out) * Math.sin(p.a);
          var anchor = Math.abs(Math.cos(p.a)) < 0.3 ? "middle" : Math.cos(p.a) > 0 ? "start" : "end";
          var base = Math.sin(p.a) < -0.3 ? ly - 20 : Math.sin(p.a) > 0.3 ? ly + 10 : ly - 4;
          g.append(sv("text", { "class": "name", x: lx, y: base, "text-anchor": anchor }, p.name));
          g.append(sv("text", { "class": "count", x: lx, y: base + 15, "text-anchor": anchor }, d.counts ? plural(d.counts[i], "record") : "…"));
          if (p.name === d.leader) g.append(sv("text", { "class": "crown", x: lx, y: base - 15, "text-anchor": anchor }, "★ leader"));
        }
        svg.append(g);
      });
    } else {
      svg.append(sv("circle", { cx: CX, cy: CY, r: R, fill: "none", stroke: "#e2e8f0", "stroke-dasharray": "6 6" }));
      svg.append(sv("text", { x: CX, y: CY + 50, "text-anchor": "middle", fill: "#667085" }, "no DHT: every peer is Free"));
    }
    var centre = sv("g", { "class": "centre" });
    centre.append(sv("rect", { x: CX - 34, y: CY - 13, width: 68, height: 26, rx: 5 }), sv("text", { x: CX, y: CY }, "manager"));
    svg.append(centre);
  }

  function flashPeer(name) {
    var row = document.querySelector('#peers tr[data-name="' + CSS.escape(name) + '"]');
    var chip = document.querySelector('#free li[data-name="' + CSS.escape(name) + '"]');
    [row, chip].forEach(function (e) {
      if (!e) return;
      e.classList.remove("flash");
      void e.offsetWidth;
      e.classList.add("flash");
    });
  }

  function animate(m) {
    var p = m.peer && positions[m.peer];
    if (!p || dots >= MAX_DOTS || document.hidden) return;
    var centre = { x: CX, y: CY }, from = m.dir === "out" ? centre : p, to = m.dir === "out" ? p : centre;
    var bad = m.code === "FAILURE" || m.note === "ignored";
    var dot = sv("circle", { "class": "dot " + m.dir + (bad ? " bad" : ""), cx: 0, cy: 0, r: 5 });
    $("ring").append(dot);
    dots += 1;
    var a = dot.animate([{ transform: "translate(" + from.x + "px," + from.y + "px)" }, { transform: "translate(" + to.x + "px," + to.y + "px)" }],
      { duration: 700, easing: "ease-in-out" });
    a.onfinish = function () { dot.remove(); dots -= 1; };
  }

  function seconds(ms) { return "+" + (ms / 1000).toFixed(3) + "s"; }

  function addMessages(batch) {
    var list = $("messages");
    var frag = document.createDocumentFragment();
    batch.messages.forEach(function (m) {
      var bad = m.code === "FAILURE" || m.note === "ignored";
      var li = el("li", { "class": m.dir + (bad ? " bad" : ""), "data-t": m.t });
      var who = (m.peer || "stranger") + (m.attempt ? " (try " + m.attempt + ")" : "");
      li.append(el("span", { "class": "t" }, seconds(m.at)), el("span", { "class": "dir", title: m.dir === "in" ? "received" : "sent" }, m.dir === "in" ? "←" : "→"),
        el("span", { "class": "who", title: m.addr }, who), el("span", { "class": "text", title: m.text }, m.text + (m.note ? " (" + m.note + ")" : "")));
      frag.prepend(li);
      if (!batch.replay) { animate(m); if (m.peer) flashPeer(m.peer); }
    });
    if (batch.dropped) frag.prepend(el("li", { "class": "note" }, batch.dropped + " more not shown (too many at once)"));
    list.prepend(frag);
    while (list.children.length > MAX_ROWS) list.lastChild.remove();
    if (batch.sent !== undefined) $("msgstat").textContent = "(" + batch.received + " received, " + batch.sent + " sent)";
  }

  function connect() {
    var es = new EventSource("/events");
    es.onopen = function () { document.body.setAttribute("data-connected", "true"); $("conn").textContent = "live"; };
    es.onerror = function () { document.body.setAttribute("data-connected", "false"); $("conn").textContent = "reconnecting…"; };
    es.addEventListener("snapshot", function (e) { render(JSON.parse(e.data)); });
    es.addEventListener("messages", function (e) { addMessages(JSON.parse(e.data)); });
  }
  connect();
})();
</script>
</body>
</html>
`;
