/* The dashboard's shared script: the API helper (session cookie + CSRF token), the live channel (/ws), charts,
   sign-out. Page scripts (static/pages/<page>.js) use window.mlsec. No build step, no framework. */
(() => {
  "use strict";
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const handlers = new Map(); // topic -> [fn(event)]

  /** Call the gateway's JSON API as the signed-in user; throws an Error with the envelope's message on failure. */
  async function api(method, path, payload, { raw = false } = {}) {
    const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (method !== "GET" && method !== "HEAD") init.headers["X-CSRF-Token"] = csrf;
    if (payload instanceof FormData) init.body = payload;
    else if (payload !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(payload);
    }
    const response = await fetch(path, init);
    if (raw) return response;
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = { message: text }; }
    if (response.status === 401) { window.location.assign(`/ui/sign-in?next=${encodeURIComponent(location.pathname)}`); }
    if (!response.ok) {
      const error = new Error((data && (data.message || data.detail)) || `${response.status} ${response.statusText}`);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  /** Run `fn(event)` for every live event on `topic` ("*" for all). */
  function on(topic, fn) {
    if (!handlers.has(topic)) handlers.set(topic, []);
    handlers.get(topic).push(fn);
  }

  function dispatch(event) {
    for (const fn of [...(handlers.get(event.topic) || []), ...(handlers.get("*") || [])]) {
      try { fn(event); } catch (error) { console.warn("live handler failed", error); }
    }
    // htmx parts refresh on these (hx-trigger="mlsec:<topic> from:body").
    document.body.dispatchEvent(new CustomEvent(`mlsec:${event.topic}`, { detail: event }));
    document.body.dispatchEvent(new CustomEvent("mlsec:event", { detail: event }));
  }

  function setStatus(text) {
    const status = document.getElementById("live-status");
    if (status) { status.textContent = text; status.dataset.state = text; }
  }

  function connect(topics, attempt = 0) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws`);
    socket.addEventListener("open", () => {
      attempt = 0;
      setStatus("live");
      socket.send(JSON.stringify({ type: "subscribe", topics }));
    });
    socket.addEventListener("message", (message) => {
      let data;
      try { data = JSON.parse(message.data); } catch { return; }
      if (data.type === "event" && data.event) dispatch(data.event);
    });
    socket.addEventListener("close", (closed) => {
      setStatus("offline");
      if (closed.code === 1008) return; // not signed in any more: the next request goes to the sign-in page
      const delay = Math.min(30000, 500 * 2 ** attempt);
      setTimeout(() => connect(topics, attempt + 1), delay);
    });
    socket.addEventListener("error", () => setStatus("offline"));
  }

  function singleX(xs, isTime) {
    const distinct = new Set(xs);
    if (distinct.size !== 1) return undefined;
    const only = xs[0];
    const pad = isTime ? 3600 : 1;
    return () => [only - pad, only + pad];
  }

  /** Draw every `[data-chart]` below `root` with uPlot: {"x": [epoch s...], "series": [{"label", "values"}]}. */
  function drawCharts(root = document) {
    for (const element of root.querySelectorAll("[data-chart]")) {
      let spec;
      try { spec = JSON.parse(element.dataset.chart); } catch { continue; }
      element.replaceChildren();
      const series = spec.series || [];
      const points = series.reduce((n, s) => n + s.values.filter((v) => v !== null && Number.isFinite(v)).length, 0);
      element.dataset.points = String(points);
      if (!points) {
        const empty = document.createElement("p");
        empty.className = "muted";
        empty.textContent = element.dataset.empty || "No data yet.";
        element.append(empty);
        continue;
      }
      const palette = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563"];
      const width = Math.max(280, element.clientWidth || 600);
      // eslint-disable-next-line no-undef
      new uPlot({
        width,
        height: Number(element.dataset.height || 240),
        // One distinct x (a single run): pad the axis by an hour each side instead of uPlot's years-wide default.
        scales: { x: { time: spec.time !== false, range: singleX(spec.x, spec.time !== false) } },
        series: [{ label: spec.xLabel || "time" }, ...series.map((s, i) => ({
          label: s.label, stroke: palette[i % palette.length], width: 2, points: { show: true, size: 5 },
        }))],
        axes: [{}, { label: spec.yLabel || "" }],
      }, [spec.x, ...series.map((s) => s.values)], element);
    }
  }

  document.addEventListener("htmx:configRequest", (event) => { event.detail.headers["X-CSRF-Token"] = csrf; });
  document.addEventListener("htmx:afterSwap", (event) => drawCharts(event.detail.target));

  document.addEventListener("DOMContentLoaded", () => {
    document.getElementById("sign-out")?.addEventListener("click", async () => {
      try { await api("DELETE", "/auth/session"); } finally { window.location.assign("/ui/sign-in"); }
    });
    const topics = (document.body.dataset.topics || "").split(",").filter(Boolean);
    if (topics.length) connect(topics); else setStatus("");
    drawCharts();
  });

  window.mlsec = { api, on, csrf, drawCharts };
})();
