/* Models: the registry parts refresh with `?fresh=1` (the training service reads MLflow now) when a promotion or
   a finished training job says the registry changed; load and unload a model in the model API or the model cache
   through the gateway's JSON API, then refresh the loaded models. */
(() => {
  "use strict";
  const FRESH_PARTS = { registered: "#registered", "champion-challenger": "#champion-challenger > div[hx-get]" };
  let pending = null;

  function say(text, failed = false) {
    const output = document.getElementById("cache-result");
    if (!output) return;
    output.textContent = text;
    output.classList.toggle("error", failed);
  }

  /** Re-read the registry parts, asking for a fresh registry (coalesced: many events, one request each). */
  function refreshRegistry() {
    if (pending) return;
    pending = setTimeout(() => {
      pending = null;
      for (const [part, selector] of Object.entries(FRESH_PARTS)) {
        const target = document.querySelector(selector);
        if (!target || !window.htmx) continue;
        Promise.resolve(window.htmx.ajax("GET", `/ui/models/partials/${part}?fresh=1`, { target, swap: "innerHTML" }))
          .catch(() => { /* the next timed refresh tries again */ });
      }
    }, 1000);
  }

  function refreshCache() {
    const element = document.getElementById("cache-state");
    if (element && window.htmx) window.htmx.trigger(element, "refresh");
  }

  async function load(service, model, version) {
    if (service === "model-api") {
      return window.mlsec.api("POST", "/api/model-api/models/load", version ? { model_name: model, version } : { model_name: model });
    }
    return window.mlsec.api("POST", `/api/model-cache/models/${encodeURIComponent(model)}/load`, version ? { version } : undefined);
  }

  async function unload(service, model, version) {
    if (service === "model-api") {
      return window.mlsec.api("POST", "/api/model-api/models/unload", { model_name: model, version });
    }
    return window.mlsec.api("POST", `/api/model-cache/models/${encodeURIComponent(model)}/unload`, { version });
  }

  document.addEventListener("DOMContentLoaded", () => {
    window.mlsec.on("promotions", refreshRegistry);
    window.mlsec.on("training", (event) => { if (event.type === "job.result") refreshRegistry(); });

    document.getElementById("load-form")?.addEventListener("submit", async (event) => {
      event.preventDefault();
      const form = event.currentTarget;
      const button = form.querySelector("button.load-model");
      const model = document.getElementById("load-model-name").value.trim();
      const version = document.getElementById("load-model-version").value.trim();
      const service = document.getElementById("load-model-service").value;
      if (!model) { say("Name a model to load.", true); return; }
      button.disabled = true;
      say(`Loading ${model}${version ? ` (${version})` : ""} into the ${service}…`);
      try {
        const answer = await load(service, model, version);
        const loaded = answer?.model?.version || answer?.version || answer?.models?.[0]?.version;
        say(`Loaded ${model}${loaded ? ` v${loaded}` : ""} into the ${service}.`);
      } catch (error) {
        say(`Loading ${model} failed: ${error.message}`, true);
      } finally {
        button.disabled = false;
        refreshCache();
      }
    });

    document.getElementById("cache")?.addEventListener("click", async (event) => {
      const button = event.target.closest("button.unload-model");
      if (!button) return;
      const { service, model, version } = button.dataset;
      button.disabled = true;
      say(`Unloading ${model} v${version} from the ${service}…`);
      try {
        const answer = await unload(service, model, version);
        const versions = answer?.unloaded_versions || [];
        say(versions.length ? `Unloaded ${model} v${versions.join(", v")} from the ${service}.` : `${model} was not loaded.`);
      } catch (error) {
        say(`Unloading ${model} failed: ${error.message}`, true);
        button.disabled = false;
      } finally {
        refreshCache();
      }
    });
  });
})();
