/* Business: the KPI tiles, each model version's figures and cost, SLA compliance and breaches, one KPI's trend
   and the stored reports, through the gateway's forwarded `/api/business-metrics/...` routes with the session.
   The period select drives every part; the trend has its own KPI and model. Each part says why when its call
   fails, and the page says so once when the service does not answer at all. Every value goes on the page as
   text, never as HTML. */
(() => {
  "use strict";
  const API = "/api/business-metrics";
  const REFRESH_MS = 60000;
  const OBJECTIVES = { latency_p99_ms: "p99 latency", availability: "availability", error_rate: "error rate" };
  const $ = (id) => document.getElementById(id);
  let currency = "";

  function el(tag, { cls, text, data, title } = {}, ...children) {
    const element = document.createElement(tag);
    if (cls) element.className = cls;
    if (text !== undefined && text !== null) element.textContent = String(text);
    if (title) element.title = title;
    for (const [key, value] of Object.entries(data || {})) element.dataset[key] = String(value);
    element.append(...children);
    return element;
  }

  const finite = (value) => typeof value === "number" && Number.isFinite(value);

  /** A KPI value as a person reads it: counts grouped, rates as percentages, times in ms, money with currency. */
  function format(value, kind) {
    if (!finite(value)) return "no data";
    if (kind === "count") return Math.round(value).toLocaleString("en");
    if (kind === "percent") return `${(value * 100).toFixed(2)}%`;
    if (kind === "ms") return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ms`;
    if (kind === "money") return `${value < 1 ? value.toFixed(4) : value.toFixed(2)}${currency ? ` ${currency}` : ""}`;
    return Math.abs(value) >= 100 ? value.toFixed(1) : value.toPrecision(4);
  }

  function when(iso) {
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? "-" : date.toISOString().replace("T", " ").slice(0, 16);
  }

  function show(id, error) {
    const element = $(id);
    if (!element) return;
    element.textContent = error ? error.message || String(error) : "";
    element.hidden = !error;
  }

  function cell(value, kind, cls = "num") {
    return el("td", { cls, text: format(value, kind), data: finite(value) ? { value } : {} });
  }

  function fill(table, rows, empty, columns) {
    const body = $(table).tBodies[0];
    if (!rows.length) {
      body.replaceChildren(el("tr", {}, Object.assign(el("td", { cls: "muted", text: empty }), { colSpan: columns })));
    } else {
      body.replaceChildren(...rows);
    }
  }

  const period = () => $("business-period").value;
  const query = (extra = {}) => new URLSearchParams({ period: period(), ...extra });

  // --- tiles and the per version table -------------------------------------------------------------------------
  async function loadSummary() {
    let summary;
    let costs;
    try {
      [summary, costs] = await Promise.all([
        window.mlsec.api("GET", `${API}/metrics/summary?${query()}`),
        window.mlsec.api("GET", `${API}/costs?${query()}`),
      ]);
    } catch (error) {
      const down = error.status === 503 || error.status === 502 || error.status === 504;
      show("business-error", new Error(down
        ? `The business metrics service does not answer: ${error.message}`
        : `The figures could not be read: ${error.message}`));
      show("versions-error", error);
      for (const tile of document.querySelectorAll(".kpi-tile .kpi-value")) tile.textContent = "-";
      return;
    }
    show("business-error", null);
    show("versions-error", null);
    currency = summary.prices?.currency || costs.currency || "";
    const prices = summary.prices || {};
    $("cost-prices").textContent = `${prices.cpu_per_hour} ${currency} per CPU hour and ${prices.memory_per_gib_hour} ${currency} per GiB-hour`;
    const totals = summary.totals || {};
    for (const tile of document.querySelectorAll(".kpi-tile")) {
      const value = totals[tile.dataset.kpi];
      const target = tile.querySelector(".kpi-value");
      target.textContent = format(value, tile.dataset.kind);
      if (finite(value)) target.dataset.value = String(value); else delete target.dataset.value;
    }
    $("business-empty").hidden = finite(totals.predictions) && totals.predictions > 0;
    const costOf = new Map((costs.models || []).map((c) => [`${c.model_name}\u0000${c.model_version}`, c]));
    const rows = (summary.models || []).map((m) => {
      const cost = costOf.get(`${m.model_name}\u0000${m.model_version}`) || {};
      return el(
        "tr", { data: { model: m.model_name, version: m.model_version } },
        el("td", { text: m.model_name }), el("td", { text: m.model_version }),
        cell(m.predictions, "count", "num predictions"), cell(m.threats_detected, "count", "num threats"),
        cell(m.latency_p99_ms, "ms", "num p99"), cell(m.detection_rate, "percent", "num detection"),
        cell(m.false_positive_rate, "percent", "num fpr"), cell(cost.cpu_seconds, "number", "num cpu"),
        cell(cost.cost ?? m.cost, "money", "num cost"),
        cell(cost.cost_per_1k_predictions ?? m.cost_per_1k_predictions, "money", "num per-1k"),
      );
    });
    fill("version-table", rows, "No model version served production traffic in this period.", 10);
    models([...new Set((summary.models || []).map((m) => m.model_name))].sort());
  }

  function models(names) {
    const select = $("trend-model");
    const chosen = select.value;
    select.replaceChildren(el("option", { text: "every model" }), ...names.map((n) => el("option", { text: n })));
    select.options[0].value = "";
    select.value = names.includes(chosen) ? chosen : "";
  }

  // --- SLAs -------------------------------------------------------------------------------------------------------
  function objectives(list) {
    return el("td", { cls: "small" }, ...list.map((o) => el(
      "span", { cls: `objective ${o.met === false ? "error" : o.met ? "status-healthy" : "muted"}`, data: { objective: o.objective, met: String(o.met) } },
      `${OBJECTIVES[o.objective] || o.objective} ${format(o.value, o.objective === "latency_p99_ms" ? "ms" : "percent")} (limit ${format(o.threshold, o.objective === "latency_p99_ms" ? "ms" : "percent")}) `,
    )));
  }

  async function loadSlas() {
    try {
      const slas = (await window.mlsec.api("GET", `${API}/slas`)).slas || [];
      const names = [...new Set(slas.map((s) => s.model_name))].sort();
      const answers = await Promise.all(names.map((n) => window.mlsec.api("GET", `${API}/slas/${encodeURIComponent(n)}/compliance`)));
      const rows = answers.flatMap((answer) => (answer.versions || []).filter((v) => v.sla_id !== null).map((v) => {
        const verdict = v.compliant === false ? "breached" : v.compliant ? "compliant" : "not measured";
        return el(
          "tr", { data: { model: v.model_name, version: v.model_version, compliant: String(v.compliant) } },
          el("td", { text: v.model_name }), el("td", { text: v.model_version }),
          el("td", { cls: v.compliant === false ? "error" : v.compliant ? "status-healthy" : "muted", text: verdict }),
          objectives(v.objectives || []), el("td", { cls: "num breaches", text: String(v.breaches ?? 0) }),
        );
      }));
      fill("sla-table", rows, "No SLA is set. An operator sets one with PUT /api/business-metrics/slas/{model}.", 5);
      const breaches = (await window.mlsec.api("GET", `${API}/slas/breaches?limit=10`)).breaches || [];
      fill("breach-table", breaches.map((b) => el(
        "tr", { data: { model: b.model_name, objective: b.objective } },
        el("td", { text: when(b.detected_at) }), el("td", { text: b.model_name }), el("td", { text: b.model_version }),
        el("td", { text: OBJECTIVES[b.objective] || b.objective }), cell(b.value, b.objective === "latency_p99_ms" ? "ms" : "percent"),
        cell(b.threshold, b.objective === "latency_p99_ms" ? "ms" : "percent"),
      )), "No SLA breach recorded.", 6);
      show("sla-error", null);
    } catch (error) {
      show("sla-error", error);
    }
  }

  // --- the trend --------------------------------------------------------------------------------------------------
  /** The least-squares line through the points: it passes through their mean with the answer's slope. */
  function fitted(xs, ys, slopePerHour) {
    const pairs = xs.map((x, i) => [x, ys[i]]).filter(([, y]) => finite(y));
    const mx = pairs.reduce((s, [x]) => s + x, 0) / pairs.length;
    const my = pairs.reduce((s, [, y]) => s + y, 0) / pairs.length;
    return xs.map((x) => my + (slopePerHour * (x - mx)) / 3600);
  }

  async function loadTrend() {
    const kpi = $("trend-kpi").value;
    const model = $("trend-model").value;
    const chart = $("trend-chart");
    try {
      const answer = await window.mlsec.api("GET", `${API}/analytics/trends?${query(model ? { kpi, model_name: model } : { kpi })}`);
      show("trend-error", null);
      const xs = answer.series.map((p) => Date.parse(p.start) / 1000);
      const ys = answer.series.map((p) => (finite(p.value) ? p.value : null));
      const trend = answer.trend;
      const series = [{ label: kpi, values: ys }];
      if (trend && xs.length) series.push({ label: "trend", values: fitted(xs, ys, trend.slope_per_hour) });
      chart.dataset.chart = JSON.stringify({ x: xs, series, yLabel: answer.unit });
      window.mlsec.drawCharts(chart.parentElement);
      const summary = $("trend-summary");
      if (!trend) {
        summary.textContent = `Too few buckets with a value (${ys.filter(finite).length}) for a trend.`;
        delete summary.dataset.slope;
        return;
      }
      summary.dataset.slope = String(trend.slope_per_hour);
      summary.dataset.direction = trend.direction;
      const p = finite(trend.p_value) ? `, p = ${trend.p_value.toPrecision(2)}` : "";
      const changes = (answer.change_points || []).map((c) => `${when(c.at)}: ${c.mean_before.toPrecision(3)} → ${c.mean_after.toPrecision(3)}`);
      summary.textContent = `${trend.direction}: ${trend.slope_per_hour.toPrecision(4)} ${answer.unit} per hour ` +
        `(${Math.round(trend.confidence * 100)}% interval ${trend.ci_low.toPrecision(4)} to ${trend.ci_high.toPrecision(4)}${p}) ` +
        `over ${trend.points} buckets of a ${answer.resolution}` + (changes.length ? `; level changes at ${changes.join(", ")}` : "");
    } catch (error) {
      show("trend-error", error);
    }
  }

  // --- reports ----------------------------------------------------------------------------------------------------
  function size(bytes) {
    if (!finite(bytes)) return "-";
    return bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MiB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${bytes} B`;
  }

  function reportRow(report) {
    const link = el("a", { cls: "report-download", text: "Download" });
    link.href = `${API}/reports/${encodeURIComponent(report.id)}/download`;
    link.download = `business-report-${report.id}.${report.format}`;
    return el(
      "tr", { data: { reportId: report.id, format: report.format } },
      el("td", { text: when(report.created_at) }), el("td", { text: report.title || "-" }),
      el("td", { cls: "small", text: `${when(report.period_start)} to ${when(report.period_end)}` }),
      el("td", { text: String(report.format).toUpperCase() }), el("td", { text: report.trigger || "-" }),
      el("td", { cls: "num", text: size(report.size_bytes) }), el("td", {}, link),
    );
  }

  async function loadReports() {
    try {
      const limit = $("business-page").dataset.reportsShown || "20";
      const answer = await window.mlsec.api("GET", `${API}/reports?limit=${limit}`);
      const reports = answer.reports || answer.items || [];
      fill("report-table", reports.map(reportRow), "No report yet.", 7);
      show("report-error", null);
    } catch (error) {
      show("report-error", error);
    }
  }

  async function generate(event) {
    event.preventDefault();
    const form = event.target;
    const button = $("report-submit");
    button.disabled = true;
    show("report-error", null);
    $("report-status").textContent = "Generating…";
    const body = { period: period(), format: form.elements.format.value };
    const title = form.elements.title.value.trim();
    if (title) body.title = title;
    try {
      const report = await window.mlsec.api("POST", `${API}/reports/generate`, body);
      $("report-status").textContent = `Report ${report.id} generated (${size(report.size_bytes)}).`;
      await loadReports();
    } catch (error) {
      $("report-status").textContent = "";
      show("report-error", error);
    } finally {
      button.disabled = false;
    }
  }

  function loadAll() {
    return Promise.all([loadSummary().then(loadTrend), loadSlas(), loadReports()]);
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (!$("business-page")) return;
    $("business-period").addEventListener("change", loadAll);
    $("trend-kpi").addEventListener("change", loadTrend);
    $("trend-model").addEventListener("change", loadTrend);
    $("report-form")?.addEventListener("submit", generate);
    window.mlsec.on("business", () => loadSlas());
    loadAll().finally(() => { $("business-page").dataset.loaded = "true"; });
    setInterval(loadAll, REFRESH_MS);
  });
})();
