/* Monitoring: choose the model (its drift, performance and settings parts are asked again with it), run a drift
   check now, acknowledge an alert, and (admins) change the model's auto-retrain settings. The parts also
   refresh on their own and on the `drift`, `alerts`, `promotions` and `training` topics. */
(() => {
  "use strict";
  const MODEL_PARTS = ["drift-part", "performance-part", "settings-part"];

  function refreshPart(id) {
    const element = document.getElementById(id);
    if (element && window.htmx) window.htmx.trigger(element, "refresh");
  }

  function say(id, text, isError = false) {
    const element = document.getElementById(id);
    if (!element) return;
    element.textContent = text;
    element.classList.toggle("error", isError);
  }

  function model() {
    return document.getElementById("drift-model")?.value || "";
  }

  function describe(run) {
    const features = run.drifted_features?.length ? `; drifted: ${run.drifted_features.join(", ")}` : "";
    const verdict = run.drift_detected ? "drift" : "no drift";
    return `${run.model_name || model()}: ${verdict}, severity ${run.severity}, ${run.current_rows} live rows`
      + ` against ${run.reference_rows} reference rows${features}.`
      + (run.alerts?.length ? ` Raised ${run.alerts.length} alert(s).` : "");
  }

  async function checkDrift(button) {
    const name = model();
    button.disabled = true;
    say("drift-result", `Checking ${name}…`);
    try {
      const run = await window.mlsec.api("POST", `/api/analytics/drift/check/${encodeURIComponent(name)}`);
      say("drift-result", describe(run));
      refreshPart("drift-part");
      refreshPart("alerts-part");
    } catch (error) {
      say("drift-result", `No check: ${error.message}`, true);
    } finally {
      button.disabled = false;
    }
  }

  async function acknowledge(button) {
    button.disabled = true;
    try {
      await window.mlsec.api("POST", `/api/analytics/drift/alerts/${encodeURIComponent(button.dataset.alertId)}/acknowledge`, {});
      say("alerts-result", `Alert ${button.dataset.alertId} acknowledged.`);
      refreshPart("alerts-part");
    } catch (error) {
      button.disabled = false;
      say("alerts-result", `Not acknowledged: ${error.message}`, true);
    }
  }

  async function saveSettings(form) {
    let current = {};
    try { current = JSON.parse(form.dataset.current || "{}"); } catch { current = {}; }
    const number = (id) => Number(document.getElementById(id).value);
    const autoRetrain = {
      ...current,
      enabled: document.getElementById("retrain-enabled").value === "true",
      min_severity: document.getElementById("retrain-min-severity").value,
      cooldown_minutes: number("retrain-cooldown"),
      daily_limit: Math.round(number("retrain-daily-limit")),
      performance_threshold: number("retrain-threshold"),
    };
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    try {
      await window.mlsec.api("PUT", "/api/analytics/auto-retrain/config",
        { model_name: form.dataset.model, auto_retrain: autoRetrain });
      say("retrain-config-result", "Saved.");
      setTimeout(() => refreshPart("settings-part"), 800);
    } catch (error) {
      say("retrain-config-result", `Not saved: ${error.message}`, true);
    } finally {
      if (button) button.disabled = false;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.getElementById("drift-model")?.addEventListener("change", () => {
      const url = new URL(window.location.href);
      url.searchParams.set("model", model());
      window.history.replaceState(null, "", url);
      say("drift-result", "");
      MODEL_PARTS.forEach(refreshPart);
    });
    const check = document.getElementById("drift-check");
    check?.addEventListener("click", () => checkDrift(check));
    document.getElementById("alerts-part")?.addEventListener("click", (event) => {
      const button = event.target.closest?.("button.ack-alert");
      if (button) acknowledge(button);
    });
    document.addEventListener("submit", (event) => {
      if (event.target.id !== "retrain-config-form") return;
      event.preventDefault();
      saveSettings(event.target);
    });
  });
})();
