/* Try it: one text through `POST /predict`, a file through `POST /predict/batch` in batches, as an application
   would call them (the same answers, the same limits). */
(() => {
  "use strict";
  const BATCH = 100;
  const MAX_LINES = 5000;

  function fill(result) {
    const fields = {
      label: result.label ?? result.prediction,
      score: typeof result.score === "number" ? result.score.toFixed(4)
        : typeof result.confidence === "number" ? result.confidence.toFixed(4) : "-",
      version: result.model_version ?? result.version ?? "-",
      latency_ms: typeof result.latency_ms === "number" ? result.latency_ms.toFixed(2) : "-",
    };
    for (const [name, value] of Object.entries(fields)) {
      const cell = document.querySelector(`#try-result [data-field="${name}"]`);
      if (cell) cell.textContent = String(value ?? "-");
    }
  }

  function fail(element, error) {
    element.textContent = error.message || String(error);
    element.hidden = false;
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("try-form");
    const error = document.getElementById("try-error");
    form?.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      const text = document.getElementById("try-text").value;
      if (!text.trim()) { fail(error, new Error("Write a text to classify.")); return; }
      try {
        fill(await window.mlsec.api("POST", "/predict", { text }));
      } catch (failure) { fail(error, failure); }
    });

    document.getElementById("try-file-submit")?.addEventListener("click", async () => {
      const file = document.getElementById("try-file").files[0];
      const progress = document.getElementById("try-file-progress");
      const output = document.getElementById("try-file-result");
      if (!file) { output.textContent = "Choose a file first."; return; }
      const lines = (await file.text()).split(/\r?\n/).map((line) => line.trim()).filter(Boolean).slice(0, MAX_LINES);
      const labels = new Map();
      progress.value = 0;
      try {
        for (let start = 0; start < lines.length; start += BATCH) {
          const answer = await window.mlsec.api("POST", "/predict/batch", { texts: lines.slice(start, start + BATCH) });
          for (const item of answer.predictions || answer.results || []) {
            const label = String(item.label ?? item.prediction);
            labels.set(label, (labels.get(label) || 0) + 1);
          }
          progress.value = Math.min(1, (start + BATCH) / lines.length);
        }
        progress.value = 1;
        output.textContent = `${lines.length.toLocaleString("en")} texts: `
          + [...labels].map(([label, count]) => `${label} ${count.toLocaleString("en")}`).join(", ");
      } catch (failure) { output.textContent = failure.message; }
    });
  });
})();
