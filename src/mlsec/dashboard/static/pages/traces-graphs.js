/* Traces, the graphs: the service map as an SVG graph drawn here (a box per service, an arrow per edge labelled
   with its calls, error rate and mean duration; callers left of the services they call) and the RED figures per
   service (a table, and uPlot bar charts of p50/p95/p99, requests per second and error rate), beside the traces
   and error traces per minute. Both over the chosen window, asked again every 30 seconds. No library but the
   vendored uPlot; every name is put in the SVG as text. */
(() => {
  "use strict";
  const API = "/api/tracing";
  const SVG = "http://www.w3.org/2000/svg";
  const NODE_W = 170;
  const NODE_H = 46;
  const COLUMN = 400;
  const ROW = 96;
  const MARGIN = 24;
  const REFRESH_MS = 30000;
  const PALETTE = ["#93c5fd", "#2563eb", "#1e3a8a"];

  const $ = (id) => document.getElementById(id);

  function show(id, error) {
    const element = $(id);
    if (!element) return;
    element.textContent = error ? error.message || String(error) : "";
    element.hidden = !error;
  }

  function svg(tag, attributes = {}, text) {
    const element = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
    if (text !== undefined) element.textContent = String(text);
    return element;
  }

  function fixed(value, digits) {
    return typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : "-";
  }

  // --- the service map -----------------------------------------------------------------------------------------
  /** Columns by call depth: a service sits one column right of the furthest service calling it (cycles capped). */
  function layout(nodes, edges) {
    const names = [...new Set([...nodes.map((n) => n.service), ...edges.flatMap((e) => [e.source, e.target])])].sort();
    const column = new Map(names.map((name) => [name, 0]));
    for (let pass = 0; pass < names.length; pass += 1) {
      let moved = false;
      for (const edge of edges) {
        if (edge.source === edge.target) continue;
        const wanted = Math.min(names.length - 1, column.get(edge.source) + 1);
        if (wanted > column.get(edge.target)) { column.set(edge.target, wanted); moved = true; }
      }
      if (!moved) break;
    }
    const rows = new Map();
    const at = new Map();
    for (const name of names) {
      const c = column.get(name);
      const r = rows.get(c) || 0;
      rows.set(c, r + 1);
      at.set(name, { x: MARGIN + c * COLUMN, y: MARGIN + r * ROW });
    }
    const width = MARGIN * 2 + NODE_W + Math.max(0, ...column.values()) * COLUMN;
    const height = MARGIN * 2 + NODE_H + (Math.max(1, ...rows.values()) - 1) * ROW;
    return { names, at, width, height };
  }

  function edgePath(from, to) {
    const x1 = from.x + NODE_W;
    const y1 = from.y + NODE_H / 2;
    const x2 = to.x;
    const y2 = to.y + NODE_H / 2;
    if (x2 > x1) {
      const bend = (x2 - x1) / 2;
      return { d: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`, mx: (x1 + x2) / 2, my: (y1 + y2) / 2 };
    }
    // Back to a column at or left of the caller's: around below both boxes.
    const low = Math.max(from.y, to.y) + NODE_H + ROW / 3;
    return { d: `M${x1},${y1} C${x1 + 60},${low} ${x2 - 60},${low} ${x2},${y2}`, mx: (x1 + x2) / 2, my: low - 10 };
  }

  function drawMap(answer) {
    const target = $("service-map");
    const nodes = answer.nodes || [];
    const edges = answer.edges || [];
    target.dataset.edges = String(edges.length);
    if (!nodes.length && !edges.length) {
      const empty = document.createElement("p");
      empty.className = "muted";
      empty.textContent = "No span in this window.";
      target.replaceChildren(empty);
      return;
    }
    const { at, width, height } = layout(nodes, edges);
    const graph = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, class: "map-graph" });
    graph.style.maxWidth = `${width}px`;
    const defs = svg("defs");
    for (const [id, colour] of [["arrow", "#64748b"], ["arrow-error", "#b91c1c"]]) {
      const marker = svg("marker", { id: `map-${id}`, viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, orient: "auto-start-reverse" });
      marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z", fill: colour }));
      defs.append(marker);
    }
    graph.append(defs);
    for (const edge of edges) {
      if (!at.has(edge.source) || !at.has(edge.target) || edge.source === edge.target) continue;
      const failing = edge.errors > 0;
      const { d, mx, my } = edgePath(at.get(edge.source), at.get(edge.target));
      const group = svg("g", { class: `map-edge${failing ? " map-edge-error" : ""}`, "data-source": edge.source, "data-target": edge.target, "data-calls": edge.calls });
      group.append(svg("title", {}, `${edge.source} → ${edge.target}: ${edge.calls} calls, ${edge.errors} errors, mean ${fixed(edge.avg_ms, 1)} ms, max ${fixed(edge.max_ms, 1)} ms`));
      group.append(svg("path", { d, class: "map-line", "marker-end": `url(#map-${failing ? "arrow-error" : "arrow"})` }));
      const label = `${edge.calls.toLocaleString("en")} calls · ${fixed(100 * edge.error_rate, 1)}% err · ${fixed(edge.avg_ms, 1)} ms`;
      group.append(svg("text", { x: mx, y: my - 6, class: "map-label", "text-anchor": "middle" }, label));
      graph.append(group);
    }
    const counts = new Map(nodes.map((node) => [node.service, node]));
    for (const [name, point] of at) {
      const node = counts.get(name) || { calls_in: 0, calls_out: 0 };
      const group = svg("g", { class: "map-node", "data-service": name, transform: `translate(${point.x},${point.y})` });
      group.append(svg("title", {}, `${name}: ${node.calls_in} calls in, ${node.calls_out} calls out`));
      group.append(svg("rect", { width: NODE_W, height: NODE_H, rx: 8, class: "map-box" }));
      group.append(svg("text", { x: NODE_W / 2, y: 19, "text-anchor": "middle", class: "map-name" }, name));
      group.append(svg("text", { x: NODE_W / 2, y: 36, "text-anchor": "middle", class: "map-counts" },
        `in ${node.calls_in.toLocaleString("en")} · out ${node.calls_out.toLocaleString("en")}`));
      graph.append(group);
    }
    target.replaceChildren(graph);
  }

  // --- RED per service -----------------------------------------------------------------------------------------
  function cell(text, cls = "num") {
    const td = document.createElement("td");
    td.className = cls;
    td.textContent = text;
    return td;
  }

  function fillTable(rows) {
    const body = $("red-table").tBodies[0];
    if (!rows.length) {
      const empty = cell("No request in this window.", "muted");
      empty.colSpan = 8;
      const tr = document.createElement("tr");
      tr.append(empty);
      body.replaceChildren(tr);
      return;
    }
    body.replaceChildren(...rows.map((row) => {
      const tr = document.createElement("tr");
      tr.dataset.service = row.service;
      const name = document.createElement("th");
      name.scope = "row";
      name.textContent = row.service;
      tr.append(name, cell(row.count.toLocaleString("en")), cell(fixed(row.rate_per_s, 2)), cell(row.errors.toLocaleString("en")),
        cell(`${fixed(100 * row.error_rate, 1)}%`, `num${row.errors ? " error" : ""}`),
        cell(`${fixed(row.p50_ms, 1)} ms`), cell(`${fixed(row.p95_ms, 1)} ms`), cell(`${fixed(row.p99_ms, 1)} ms`));
      return tr;
    }));
  }

  /** One uPlot bar chart with a bar group per service: the later series narrower, drawn over the earlier. */
  function bars(id, names, series, unit) {
    const element = $(id);
    element.replaceChildren();
    element.dataset.points = String(names.length);
    if (!names.length) {
      const empty = document.createElement("p");
      empty.className = "muted";
      empty.textContent = element.dataset.empty || "No data yet.";
      element.append(empty);
      return;
    }
    const x = names.map((_, i) => i);
    const width = Math.max(280, element.clientWidth || 600);
    // eslint-disable-next-line no-undef
    new uPlot({
      width,
      height: 220,
      scales: { x: { time: false, range: [-0.5, names.length - 0.5] }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [{ values: (u, splits) => splits.map((i) => (Number.isInteger(i) ? names[i] || "" : "")), splits: () => x, gap: 4 },
        { label: unit, size: 60 }],
      series: [{ label: "service", value: (u, i) => (i === null ? "" : names[i] || "") }, ...series.map((s, i) => ({
        label: s.label, fill: PALETTE[(i + PALETTE.length - series.length) % PALETTE.length], stroke: PALETTE[(i + PALETTE.length - series.length) % PALETTE.length],
        // eslint-disable-next-line no-undef
        paths: uPlot.paths.bars({ size: [0.7 - (0.4 * i) / Math.max(1, series.length), 80] }), points: { show: false },
      }))],
    }, [x, ...series.map((s) => s.values)], element);
  }

  function drawRed(performance, traces) {
    const rows = [...(performance.services || [])].sort((a, b) => a.service.localeCompare(b.service));
    fillTable(rows);
    const names = rows.map((row) => row.service);
    bars("red-latency", names, [
      { label: "p99", values: rows.map((row) => row.p99_ms) },
      { label: "p95", values: rows.map((row) => row.p95_ms) },
      { label: "p50", values: rows.map((row) => row.p50_ms) },
    ], "ms");
    bars("red-rate", names, [{ label: "per second", values: rows.map((row) => row.rate_per_s) }], "requests/s");
    bars("red-errors", names, [{ label: "error rate", values: rows.map((row) => 100 * row.error_rate) }], "%");
    const minutes = traces.per_minute || [];
    const x = minutes.map((m) => Math.floor(new Date(m.minute).getTime() / 1000));
    $("red-per-minute").dataset.chart = JSON.stringify({ x, yLabel: "traces", series: [
      { label: "traces", values: minutes.map((m) => m.traces) }, { label: "with an error", values: minutes.map((m) => m.errors) }] });
    $("red-p95").dataset.chart = JSON.stringify({ x, yLabel: "ms", series: [{ label: "p95", values: minutes.map((m) => m.p95_ms) }] });
    window.mlsec.drawCharts($("red-per-minute").parentElement);
    window.mlsec.drawCharts($("red-p95").parentElement);
  }

  async function refresh() {
    const minutes = Number($("graph-window").value) || 60;
    const api = (path) => window.mlsec.api("GET", `${API}${path}?window_minutes=${minutes}`);
    const [map, performance, traces] = await Promise.allSettled([api("/service-map"), api("/metrics/performance"), api("/metrics/traces")]);
    if (map.status === "fulfilled") { drawMap(map.value); show("map-error", null); } else show("map-error", map.reason);
    if (performance.status === "fulfilled" && traces.status === "fulfilled") {
      drawRed(performance.value, traces.value);
      show("red-error", null);
    } else show("red-error", performance.reason || traces.reason);
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (!$("service-map")) return;
    $("graph-window").addEventListener("change", refresh);
    refresh();
    setInterval(refresh, REFRESH_MS);
  });
})();
