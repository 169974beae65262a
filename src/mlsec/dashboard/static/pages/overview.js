/* Overview: the live prediction figures, from the per-second `predictions.summary` events of the serving
   services (one per model version, traffic class and service each second while they answer). */
(() => {
  "use strict";
  const WINDOW_MS = 2500; // summaries this recent make up "now"
  const recent = new Map(); // model/version/class/service -> {at, summary}
  let counted = 0;

  function show(id, text) {
    const element = document.getElementById(id);
    if (element) element.textContent = text;
  }

  function refresh() {
    const now = Date.now();
    let rps = 0, requests = 0, p50 = 0, p99 = 0;
    for (const [key, { at, summary }] of recent) {
      if (now - at > WINDOW_MS) { recent.delete(key); continue; }
      rps += summary.predictions_per_second || 0;
      requests += summary.requests || 0;
      p50 += (summary.latency_ms?.p50 || 0) * (summary.requests || 0);
      p99 = Math.max(p99, summary.latency_ms?.p99 || 0);
    }
    show("live-rps", rps.toFixed(1));
    show("live-p50", requests ? (p50 / requests).toFixed(1) : "-");
    show("live-p99", requests ? p99.toFixed(1) : "-");
  }

  document.addEventListener("DOMContentLoaded", () => {
    window.mlsec.on("predictions", (event) => {
      const summary = event.payload || {};
      counted += summary.predictions || 0;
      show("live-predictions", counted.toLocaleString("en"));
      const key = [summary.model_name, summary.model_version, summary.traffic_class, summary.service].join("/");
      recent.set(key, { at: Date.now(), summary });
      refresh();
    });
    setInterval(refresh, 1000);
  });
})();
