/* Red team: choose the model (its chart and trend are asked again with it) and run the suite against a served
   version now. A run takes a while: the button stays disabled and the status counts the seconds until the
   stored run comes back; every part then refreshes (the `redteam` topic's `redteam.completed` does it too). */
(() => {
  "use strict";
  const PARTS = ["summary-part", "trend-part", "runs-part"];

  function refreshPart(id) {
    const element = document.getElementById(id);
    if (element && window.htmx) window.htmx.trigger(element, "refresh");
  }

  function say(text, isError = false) {
    const element = document.getElementById("redteam-status");
    if (!element) return;
    element.textContent = text;
    element.classList.toggle("error", isError);
  }

  function model() {
    return document.getElementById("redteam-model")?.value || "";
  }

  async function run(button) {
    const body = { model_name: model() };
    const version = document.getElementById("redteam-version")?.value.trim();
    if (version) body.version = version;
    const variants = Number(document.getElementById("redteam-variants")?.value || 1);
    if (Number.isInteger(variants) && variants >= 1 && variants <= 10) body.variants_per_seed = variants;
    const began = Date.now();
    const target = `${body.model_name}${version ? ` ${version}` : ""}`;
    const tick = () => say(`Running the suite against ${target}… ${Math.round((Date.now() - began) / 1000)} s`);
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    tick();
    const timer = setInterval(tick, 1000);
    try {
      const stored = await window.mlsec.api("POST", "/api/analytics/red-team/run", body);
      const rate = (100 * stored.detection_rate).toFixed(1);
      say(`Run ${stored.id} of ${stored.model_name} version ${stored.model_version}: ${stored.detected} of `
        + `${stored.attempts} attacks detected (${rate}%), in ${Math.round((Date.now() - began) / 1000)} s.`);
      PARTS.forEach(refreshPart);
    } catch (error) {
      say(`The run failed: ${error.message}`, true);
    } finally {
      clearInterval(timer);
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.getElementById("redteam-model")?.addEventListener("change", () => {
      const url = new URL(window.location.href);
      url.searchParams.set("model", model());
      window.history.replaceState(null, "", url);
      refreshPart("summary-part");
      refreshPart("trend-part");
    });
    const button = document.getElementById("redteam-run");
    button?.addEventListener("click", () => run(button));
  });
})();
