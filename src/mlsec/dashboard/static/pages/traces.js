/* Traces: the search form and its results, the slowest prediction traces, and one trace as a waterfall (bars
   placed by each span's offset and duration, indented by depth, errors marked; a span's attributes on a click),
   through the gateway's forwarded `/api/tracing/...` routes with the session. `/ui/traces?trace=<id>` opens that
   trace at once (the address alerts and predictions link to), and opening one puts its id in the address.
   Every value from a span is put on the page as text, never as HTML. */
(() => {
  "use strict";
  const API = "/api/tracing";
  const TRACE_ID = /^[0-9a-f]{32}$/;
  const RANGE_MINUTES = { "15m": 15, "1h": 60, "6h": 360, "24h": 1440, "7d": 10080 };
  const MAX_LIMIT = 1000;
  const SLOWEST = 10;
  const PREDICTION_SERVICES = ["model-cache", "model-api"];
  const REFRESH_MS = 30000;
  const TICKS = 4;

  const $ = (id) => document.getElementById(id);

  /** An element with a class, text and data- attributes; children appended (strings as text). */
  function el(tag, { cls, text, data, title } = {}, ...children) {
    const element = document.createElement(tag);
    if (cls) element.className = cls;
    if (text !== undefined && text !== null) element.textContent = String(text);
    if (title) element.title = title;
    for (const [key, value] of Object.entries(data || {})) element.dataset[key] = String(value);
    element.append(...children);
    return element;
  }

  function ms(value) {
    if (typeof value !== "number" || !Number.isFinite(value)) return "-";
    if (value >= 1000) return `${(value / 1000).toFixed(2)} s`;
    return `${value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)} ms`;
  }

  function when(iso) {
    const date = new Date(iso);
    return Number.isNaN(date.getTime()) ? "-" : date.toISOString().replace("T", " ").slice(0, 19);
  }

  function show(id, error) {
    const element = $(id);
    if (!element) return;
    element.textContent = error ? error.message || String(error) : "";
    element.hidden = !error;
  }

  // --- searching ---------------------------------------------------------------------------------------------
  function isoFromLocal(value, name) {
    if (!value) return null;
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) throw new Error(`${name} is not a date and time.`);
    return date.toISOString();
  }

  /** The form as the tracing service's query; an Error saying what to correct when a field is not valid. */
  function searchQuery(form) {
    const field = (name) => (form.elements[name]?.value || "").trim();
    const query = new URLSearchParams();
    for (const name of ["service", "operation", "status", "sort"]) if (field(name)) query.set(name, field(name));
    for (const tag of field("tags").split(/\s+/).filter(Boolean)) {
      if (!/^[^=]+=./.test(tag)) throw new Error(`A tag is key=value: "${tag}" is not.`);
      query.append("tag", tag);
    }
    const min = field("min_duration_ms");
    const max = field("max_duration_ms");
    if (min) query.set("min_duration_ms", min);
    if (max) query.set("max_duration_ms", max);
    if (min && max && Number(min) > Number(max)) throw new Error("The least duration is above the most.");
    const range = field("range");
    if (range === "custom") {
      const start = isoFromLocal(field("start"), "From");
      const end = isoFromLocal(field("end"), "To");
      if (start) query.set("start", start);
      if (end) query.set("end", end);
      if (start && end && start > end) throw new Error("From is after To.");
    } else if (RANGE_MINUTES[range]) {
      query.set("start", new Date(Date.now() - RANGE_MINUTES[range] * 60000).toISOString());
    }
    const limit = Number(field("limit") || 20);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new Error(`The limit is 1 to ${MAX_LIMIT}.`);
    query.set("limit", String(limit));
    return query;
  }

  function traceRow(trace) {
    const open = el("button", { cls: "link-button trace-link", text: trace.trace_id.slice(0, 12), title: trace.trace_id });
    open.type = "button";
    open.dataset.traceId = trace.trace_id;
    const root = trace.root_service ? `${trace.root_service}: ${trace.root_operation || "-"}` : "(root not received)";
    const errors = el("td", { cls: `num${trace.error_count ? " error" : ""}`, text: trace.error_count.toLocaleString("en") });
    return el(
      "tr", { data: { traceId: trace.trace_id, errors: trace.error_count } },
      el("td", {}, open),
      el("td", { text: when(trace.start_time) }),
      el("td", { cls: "trace-root", text: root }),
      el("td", { cls: "num trace-duration", text: ms(trace.duration_ms), data: { ms: trace.duration_ms } }),
      el("td", { cls: "num", text: trace.span_count.toLocaleString("en") }),
      errors,
      el("td", { cls: "trace-services small", text: (trace.services || []).join(", ") }),
    );
  }

  function fillTraces(table, traces, empty) {
    const body = table.tBodies[0];
    if (!traces.length) {
      body.replaceChildren(el("tr", {}, Object.assign(el("td", { cls: "muted", text: empty }), { colSpan: 7 })));
      return;
    }
    body.replaceChildren(...traces.map(traceRow));
  }

  async function search() {
    const form = $("trace-search");
    show("search-error", null);
    let query;
    try { query = searchQuery(form); } catch (error) { show("search-error", error); return; }
    const button = $("search-submit");
    button.disabled = true;
    try {
      const answer = await window.mlsec.api("GET", `${API}/search/traces?${query}`);
      fillTraces($("trace-results"), answer.traces || [], "No trace matches.");
      const shown = (answer.traces || []).length;
      $("search-count").textContent = `${shown.toLocaleString("en")} trace${shown === 1 ? "" : "s"}`
        + (shown >= answer.limit ? ` (the limit, ${answer.limit.toLocaleString("en")}: narrow the search for others)` : "");
    } catch (error) {
      show("search-error", error);
    } finally {
      button.disabled = false;
    }
  }

  async function fillServices() {
    const select = $("search-service");
    try {
      const answer = await window.mlsec.api("GET", `${API}/services`);
      const chosen = select.value;
      const names = (answer.services || []).map((service) => service.name).sort();
      select.replaceChildren(...["", ...names].map((name) => Object.assign(el("option", { text: name || "any" }), { value: name })));
      select.value = names.includes(chosen) ? chosen : "";
    } catch (error) { show("search-error", error); }
  }

  async function fillOperations() {
    const list = $("search-operations");
    const service = $("search-service").value;
    if (!service) { list.replaceChildren(); return; }
    try {
      const answer = await window.mlsec.api("GET", `${API}/services/${encodeURIComponent(service)}/operations`);
      list.replaceChildren(...(answer.operations || []).map((operation) => el("option", { text: operation.name })));
      for (const option of list.options) option.value = option.textContent;
    } catch { list.replaceChildren(); } // a service gone since the list was made: no suggestions, nothing else
  }

  /** The slowest traces holding a prediction over the last hour: by its span's name, else by the serving services. */
  async function slowest() {
    const since = new Date(Date.now() - 3600000).toISOString();
    const ask = (filter) => window.mlsec.api(
      "GET", `${API}/search/traces?${new URLSearchParams({ ...filter, sort: "duration", limit: String(SLOWEST), start: since })}`,
    );
    try {
      let traces = (await ask({ operation: "mlsec.predict" })).traces || [];
      if (!traces.length) {
        const answers = await Promise.all(PREDICTION_SERVICES.map((service) => ask({ service })));
        const unique = new Map(answers.flatMap((answer) => answer.traces || []).map((t) => [t.trace_id, t]));
        traces = [...unique.values()].sort((a, b) => b.duration_ms - a.duration_ms).slice(0, SLOWEST);
      }
      fillTraces($("slowest-results"), traces, "No prediction in the last hour.");
      show("slowest-error", null);
    } catch (error) { show("slowest-error", error); }
  }

  // --- one trace as a waterfall ------------------------------------------------------------------------------
  let shownSpans = new Map();

  function ticks(total) {
    const axis = $("waterfall-ticks");
    axis.replaceChildren(...Array.from({ length: TICKS + 1 }, (_, i) => {
      const tick = el("span", { cls: "tick", text: ms((total * i) / TICKS) });
      tick.style.left = `${(100 * i) / TICKS}%`;
      return tick;
    }));
  }

  function spanRow(span, total) {
    const failed = span.status === "error";
    const label = el("button", { cls: "span-label", title: `${span.service}: ${span.operation}` },
      el("span", { cls: "span-service", text: span.service }), " ", el("span", { cls: "span-operation", text: span.operation }));
    label.type = "button";
    label.style.paddingLeft = `${0.25 + Math.min(span.depth, 20) * 0.9}rem`;
    const bar = el("span", { cls: "span-bar" });
    const width = total > 0 ? Math.min(100, Math.max(0.3, (100 * span.duration_ms) / total)) : 100; // a sliver at least
    const left = total > 0 ? Math.min(100 - width, Math.max(0, (100 * span.offset_ms) / total)) : 0;
    bar.style.left = `${left}%`;
    bar.style.width = `${width}%`;
    const time = el("span", { cls: "span-time", text: ms(span.duration_ms) });
    if (left + width <= 85) time.style.left = `calc(${left + width}% + .3rem)`; // after the bar
    else if (left >= 15) time.style.right = `calc(${100 - left}% + .3rem)`; // before it
    else { time.style.left = `calc(${left}% + .3rem)`; time.classList.add("inside"); } // on it
    return el(
      "li",
      {
        cls: `span-row${failed ? " span-error" : ""}`,
        data: { spanId: span.span_id, service: span.service, operation: span.operation, depth: span.depth, status: span.status },
        title: failed ? `error${span.status_message ? `: ${span.status_message}` : ""}` : undefined,
      },
      label,
      el("span", { cls: "span-track" }, bar, time),
    );
  }

  function pairs(table, values) {
    const entries = Object.entries(values || {}).sort(([a], [b]) => a.localeCompare(b));
    table.tBodies[0].replaceChildren(...(entries.length ? entries.map(([key, value]) => el("tr", {},
      el("th", { text: key }), el("td", { text: typeof value === "string" ? value : JSON.stringify(value) })))
      : [el("tr", {}, el("td", { cls: "muted", text: "none" }))]));
  }

  function showSpan(spanId) {
    const span = shownSpans.get(spanId);
    if (!span) return;
    for (const row of document.querySelectorAll("#waterfall .span-row")) row.classList.toggle("selected", row.dataset.spanId === spanId);
    $("span-title").textContent = `${span.service}: ${span.operation}`;
    const fields = [["Kind", span.kind], ["Status", span.status + (span.status_message ? `: ${span.status_message}` : "")],
      ["Started", `${when(span.start_time)} (+${ms(span.offset_ms)})`], ["Duration", ms(span.duration_ms)],
      ["Span", span.span_id], ["Parent", span.parent_span_id || "none (the root)"]];
    $("span-fields").replaceChildren(...fields.flatMap(([name, value]) => [el("dt", { text: name }), el("dd", { text: value })]));
    pairs($("span-attributes"), span.attributes);
    pairs($("span-resource"), span.resource);
    const events = span.events || [];
    $("span-events").replaceChildren(...(events.length ? events.map((event) => el("li", {
      text: `${event.name || "event"}${event.time ? ` at ${when(event.time)}` : ""}${event.attributes ? ` ${JSON.stringify(event.attributes)}` : ""}`,
    })) : [el("li", { cls: "muted", text: "none" })]));
    $("span-detail").hidden = false;
  }

  function drawWaterfall(answer) {
    const trace = answer.trace;
    const total = trace.duration_ms;
    shownSpans = new Map(answer.spans.map((span) => [span.span_id, span]));
    $("waterfall-id").textContent = trace.trace_id;
    $("waterfall-summary").textContent = `${when(trace.start_time)} · ${ms(total)} · ${trace.span_count} span${trace.span_count === 1 ? "" : "s"}`
      + ` · ${trace.error_count} error${trace.error_count === 1 ? "" : "s"} · ${(trace.services || []).join(", ")}`;
    $("trace-export").href = `${API}/traces/${trace.trace_id}/export`;
    $("trace-export").setAttribute("download", `trace-${trace.trace_id}.json`);
    ticks(total);
    $("waterfall").replaceChildren(...answer.spans.map((span) => spanRow(span, total)));
    $("waterfall").dataset.traceId = trace.trace_id;
    $("span-detail").hidden = true;
  }

  async function openTrace(traceId, { scroll = true } = {}) {
    if (!TRACE_ID.test(traceId)) return;
    const card = $("waterfall-card");
    card.hidden = false;
    show("waterfall-error", null);
    const url = new URL(window.location.href);
    url.searchParams.set("trace", traceId);
    window.history.replaceState(null, "", url);
    try {
      drawWaterfall(await window.mlsec.api("GET", `${API}/traces/${traceId}`));
    } catch (error) {
      $("waterfall").replaceChildren();
      $("waterfall-id").textContent = traceId;
      $("waterfall-summary").textContent = "";
      show("waterfall-error", error.status === 404
        ? new Error("There is no such trace: its spans have not arrived yet, or retention removed it.") : error);
    }
    if (scroll) card.scrollIntoView({ block: "start" });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = $("trace-search");
    if (!form) return;
    form.addEventListener("submit", (event) => { event.preventDefault(); search(); });
    $("search-range").addEventListener("change", (event) => {
      for (const field of document.querySelectorAll(".custom-range")) field.hidden = event.target.value !== "custom";
    });
    $("search-service").addEventListener("change", fillOperations);
    document.getElementById("traces-page").addEventListener("click", (event) => {
      const link = event.target.closest(".trace-link");
      if (link) { event.preventDefault(); openTrace(link.dataset.traceId); return; } // a link here opens in place
      const row = event.target.closest("#waterfall .span-row");
      if (row) showSpan(row.dataset.spanId);
    });
    const linked = ($("traces-page").dataset.traceId || "").toLowerCase();
    if (TRACE_ID.test(linked)) openTrace(linked);
    fillServices();
    search();
    slowest();
    setInterval(slowest, REFRESH_MS);
  });
})();
