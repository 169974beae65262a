/* Training: jobs' progress live from the `training` topic (each `job.*` event updates its row in place), a
   dataset upload with its progress (XMLHttpRequest, for `upload.onprogress`), starting a training, a
   retraining, cancelling a job. */
(() => {
  "use strict";
  const FINISHED = new Set(["succeeded", "failed", "cancelled"]);
  let refreshPending = false;

  function refreshPart(id) {
    const element = document.getElementById(id);
    if (element && window.htmx) window.htmx.trigger(element, "refresh");
  }

  /** A job this page does not list yet: reload the jobs part once (several events may ask at once). */
  function refreshJobsSoon() {
    if (refreshPending) return;
    refreshPending = true;
    setTimeout(() => { refreshPending = false; refreshPart("jobs-part"); }, 300);
  }

  function showRun(jobId) {
    if (!window.htmx || !document.getElementById("run-plots")) return;
    window.htmx.ajax("GET", `/ui/training/partials/plots?job=${encodeURIComponent(jobId)}`,
      { target: "#run-plots", swap: "innerHTML" }).catch(() => {});
  }

  function findRow(jobId) {
    for (const row of document.querySelectorAll("#jobs tr[data-job-id]")) {
      if (row.dataset.jobId === jobId) return row;
    }
    return null;
  }

  function onJobEvent(event) {
    const payload = event.payload || {};
    const jobId = payload.job_id;
    if (typeof jobId !== "string" || !event.type?.startsWith("job.")) return;
    const row = findRow(jobId);
    if (!row) { refreshJobsSoon(); return; }
    const bar = row.querySelector("progress.job-progress");
    if (bar && typeof payload.progress === "number") {
      bar.value = Math.max(Number(bar.value) || 0, Math.min(1, payload.progress / 100));
    }
    const step = row.querySelector(".job-step");
    if (step && typeof payload.step === "string") step.textContent = payload.step;
    const status = row.querySelector(".job-status");
    if (status && typeof payload.status === "string" && row.dataset.status !== payload.status) {
      status.textContent = payload.status;
      status.className = `job-status status-${payload.status}`;
      row.dataset.status = payload.status;
    }
    const version = row.querySelector(".job-version");
    if (version && payload.model_version) {
      version.textContent = payload.alias ? `${payload.model_version} ${payload.alias}` : payload.model_version;
    }
    if (FINISHED.has(payload.status)) {
      row.querySelector(".cancel-job")?.remove();
      if (payload.status === "succeeded" && bar) bar.value = 1;
      if (payload.status === "succeeded" || payload.status === "failed") showRun(jobId);
      setTimeout(() => refreshPart("jobs-part"), 1500); // finish time, duration and the row's buttons
    }
  }

  function say(element, text, isError = false) {
    if (!element) return;
    element.textContent = text;
    element.classList.toggle("error", isError);
  }

  function addDatasetOption(dataset) {
    for (const id of ["train-dataset", "train-evaluation"]) {
      const select = document.getElementById(id);
      if (!select || [...select.options].some((option) => option.value === dataset.name)) continue;
      select.add(new Option(`${dataset.name} (v${dataset.version}, ${dataset.rows} rows)`, dataset.name));
    }
  }

  function upload(event) {
    event.preventDefault();
    const file = document.getElementById("dataset-file").files[0];
    const button = document.getElementById("dataset-upload");
    const progress = document.getElementById("dataset-upload-progress");
    const result = document.getElementById("dataset-upload-result");
    if (!file) { say(result, "Choose a file first.", true); return; }
    const form = new FormData();
    form.append("file", file, file.name);
    const name = document.getElementById("dataset-name").value.trim();
    if (name) form.append("name", name);
    form.append("task", document.getElementById("dataset-task").value);
    const textColumn = document.getElementById("dataset-text-column").value.trim();
    if (textColumn) form.append("text_column", textColumn);
    form.append("label_column", document.getElementById("dataset-label-column").value.trim() || "label");

    const request = new XMLHttpRequest();
    request.open("POST", "/api/training/data/upload-data");
    request.setRequestHeader("X-CSRF-Token", window.mlsec.csrf);
    request.setRequestHeader("Accept", "application/json");
    request.upload.onprogress = (progressEvent) => {
      if (progressEvent.lengthComputable) progress.value = progressEvent.loaded / progressEvent.total;
    };
    request.onload = () => {
      button.disabled = false;
      let body = null;
      try { body = JSON.parse(request.responseText); } catch { body = null; }
      if (request.status >= 200 && request.status < 300 && body?.dataset) {
        progress.value = 1;
        const d = body.dataset;
        say(result, body.created
          ? `Stored ${d.name} version ${d.version}: ${d.rows.toLocaleString("en")} rows.`
          : `${d.name} version ${d.version} already holds this content.`);
        addDatasetOption(d);
        refreshPart("datasets-part");
      } else {
        progress.value = 0;
        const problems = Array.isArray(body?.details?.problems) ? body.details.problems : [];
        const rows = problems.filter((problem) => problem && problem.row != null).slice(0, 3)
          .map((problem) => `row ${problem.row}${problem.column ? ` (${problem.column})` : ""}: ${problem.reason}`);
        const detail = rows.length ? ` (${rows.join("; ")})` : "";
        say(result, `Upload refused: ${body?.message || `${request.status} ${request.statusText}`}${detail}`, true);
      }
    };
    request.onerror = () => { button.disabled = false; progress.value = 0; say(result, "The upload failed: network error.", true); };
    button.disabled = true;
    progress.value = 0;
    say(result, `Uploading ${file.name}…`);
    request.send(form);
  }

  async function startJob(kind) {
    const result = document.getElementById("train-result");
    const model = document.getElementById("train-model").value.trim();
    if (!model) { say(result, "Name the model to train.", true); return; }
    const buttons = [document.getElementById("train-submit"), document.getElementById("retrain-submit")];
    buttons.forEach((button) => { if (button) button.disabled = true; });
    try {
      let job;
      if (kind === "retrain") {
        job = await window.mlsec.api("POST", "/api/training/training/retrain", { model_name: model, reason: "dashboard" });
      } else {
        const body = { model_name: model };
        const dataset = document.getElementById("train-dataset").value;
        const evaluation = document.getElementById("train-evaluation").value;
        if (dataset) body.dataset = dataset;
        if (evaluation) body.evaluation_dataset = evaluation;
        job = await window.mlsec.api("POST", "/api/training/training/train", body);
      }
      say(result, `Job ${job.id} queued (${job.kind} of ${job.model_name}).`);
      if (!findRow(job.id)) refreshJobsSoon();
    } catch (error) {
      say(result, `Not started: ${error.message}`, true);
    } finally {
      buttons.forEach((button) => { if (button) button.disabled = false; });
    }
  }

  async function cancel(button) {
    button.disabled = true;
    try {
      await window.mlsec.api("POST", `/api/training/training/jobs/${encodeURIComponent(button.dataset.jobId)}/cancel`);
      refreshPart("jobs-part");
    } catch (error) {
      button.disabled = false;
      say(document.getElementById("train-result"), `Not cancelled: ${error.message}`, true);
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    window.mlsec.on("training", onJobEvent);
    document.getElementById("upload-form")?.addEventListener("submit", upload);
    document.getElementById("train-form")?.addEventListener("submit", (event) => { event.preventDefault(); startJob("train"); });
    document.getElementById("retrain-submit")?.addEventListener("click", () => startJob("retrain"));
    document.getElementById("jobs-part")?.addEventListener("click", (event) => {
      const button = event.target.closest?.("button.cancel-job");
      if (button) cancel(button);
    });
  });
})();
