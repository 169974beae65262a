/* Registry: the control tower's models by stage, monitored models and snapshot. An operator adds a version to
   monitoring, removes one, or refreshes the snapshot now, through the gateway's forwarded control-tower routes
   (the session cookie and its CSRF token); the parts it changed are then asked again. The parts also refresh on
   a timer, and a couple of seconds after a `promotions` event or a finished training job (`training` topic,
   `job.result`): the control tower refreshes the model such an event names, and the page follows it. */
(() => {
  "use strict";
  const PARTS = ["summary-part", "stages-part", "monitored-part", "cache-part"];
  const AFTER_EVENT_MS = 2000;
  let pending = null;

  function refreshPart(id) {
    const element = document.getElementById(id);
    if (element && window.htmx) window.htmx.trigger(element, "refresh");
  }

  function refreshAll() {
    PARTS.forEach(refreshPart);
  }

  /** After an event: once, a little later (many events, one refresh of each part). */
  function refreshSoon() {
    if (pending) return;
    pending = setTimeout(() => { pending = null; refreshAll(); }, AFTER_EVENT_MS);
  }

  function say(id, text, isError = false) {
    const element = document.getElementById(id);
    if (!element) return;
    element.textContent = text;
    element.classList.toggle("error", isError);
  }

  function monitorPath(model, version) {
    return `/api/control-tower/models/${encodeURIComponent(model)}/${encodeURIComponent(version)}/monitor`;
  }

  async function addMonitoring(form) {
    const model = document.getElementById("monitor-model-name").value.trim();
    const version = document.getElementById("monitor-model-version").value.trim();
    const modelType = document.getElementById("monitor-model-type").value;
    if (!model || !version) { say("monitored-result", "Name a model and a version.", true); return; }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    say("monitored-result", `Adding ${model} ${version} to monitoring…`);
    try {
      const answer = await window.mlsec.api("POST", monitorPath(model, version), { model_type: modelType });
      say("monitored-result", answer?.message || `${model} ${version} is monitored.`);
      refreshAll();
    } catch (error) {
      say("monitored-result", `Not added: ${error.message}`, true);
    } finally {
      button.disabled = false;
    }
  }

  async function removeMonitoring(button) {
    const { model, version } = button.dataset;
    button.disabled = true;
    say("monitored-result", `Removing ${model} v${version} from monitoring…`);
    try {
      const answer = await window.mlsec.api("DELETE", monitorPath(model, version));
      say("monitored-result", answer?.message || `${model} v${version} is no longer monitored.`);
      refreshAll();
    } catch (error) {
      button.disabled = false;
      say("monitored-result", `Not removed: ${error.message}`, true);
    }
  }

  async function refreshSnapshot(button) {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    say("refresh-result", "Reading MLflow…");
    try {
      const answer = await window.mlsec.api("POST", "/api/control-tower/cache/refresh");
      const took = answer?.cache_stats?.last_refresh_seconds;
      say("refresh-result", `Read ${answer?.models_synced ?? "?"} versions from MLflow`
        + `${typeof took === "number" ? ` in ${took.toFixed(2)} s` : ""}.`);
      refreshAll();
    } catch (error) {
      say("refresh-result", `Not refreshed: ${error.message}`, true);
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    window.mlsec.on("promotions", refreshSoon);
    window.mlsec.on("training", (event) => { if (event.type === "job.result") refreshSoon(); });
    document.getElementById("monitor-form")?.addEventListener("submit", (event) => {
      event.preventDefault();
      addMonitoring(event.currentTarget);
    });
    document.getElementById("monitored-part")?.addEventListener("click", (event) => {
      const button = event.target.closest?.("button.remove-monitoring");
      if (button) removeMonitoring(button);
    });
    const refresh = document.getElementById("registry-refresh");
    refresh?.addEventListener("click", () => refreshSnapshot(refresh));
  });
})();
