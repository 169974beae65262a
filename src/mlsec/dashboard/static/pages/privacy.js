/* Privacy: a pasted text classified (its level, the reasons, each finding highlighted) and anonymized with the
   chosen operator, through the gateway's forwarded data-privacy routes (the session cookie and its CSRF token);
   the text is only ever put on the page as text nodes, never as HTML. A subject's detail is asked for when its
   row is chosen; an admin erases the subject (after a confirmation) or runs the retention clean-up as a dry run.
   The parts refresh on their own timers, "Verify" walks the audit chain again now, and the audit log is asked
   again a couple of seconds after a training job or a promotion (both become audit entries). */
(() => {
  "use strict";
  const PRIVACY = "/api/data-privacy";
  const AFTER_EVENT_MS = 2000;
  const AUDITED_TRAINING = new Set(["job.queued", "job.result", "job.error", "job.cancelled"]);
  let pending = null;

  function refreshPart(id) {
    const element = document.getElementById(id);
    if (element && window.htmx) window.htmx.trigger(element, "refresh");
  }

  /** After an event: once, a little later (the data-privacy service writes the entry when the event reaches it). */
  function refreshAuditSoon() {
    if (pending) return;
    pending = setTimeout(() => { pending = null; refreshPart("audit-part"); }, AFTER_EVENT_MS);
  }

  function say(id, text, isError = false) {
    const element = document.getElementById(id);
    if (!element) return;
    element.textContent = text;
    element.classList.toggle("error", isError);
  }

  function plural(count, word) {
    return `${count.toLocaleString("en")} ${word}${count === 1 ? "" : "s"}`;
  }

  /** `text` as nodes, each span of `spans` ({type, start, end} in code points, as the service counts them) in a
      <mark>; overlapping or out-of-range spans are left as plain text. Nothing is parsed as HTML. */
  function marked(text, spans, className, label) {
    const chars = Array.from(text);
    const fragment = document.createDocumentFragment();
    let at = 0;
    const ordered = [...spans].sort((a, b) => a.start - b.start || b.end - a.end);
    for (const span of ordered) {
      if (span.start < at || span.end <= span.start || span.end > chars.length) continue;
      if (span.start > at) fragment.append(chars.slice(at, span.start).join(""));
      const mark = document.createElement("mark");
      mark.className = `${className} type-${String(span.type).toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
      mark.dataset.type = span.type;
      mark.title = label(span);
      const value = document.createElement("span");
      value.className = `${className}-text`;
      value.textContent = chars.slice(span.start, span.end).join("");
      mark.append(value);
      if (className === "finding") {
        const type = document.createElement("span");
        type.className = "finding-type";
        type.textContent = span.type;
        mark.append(type);
      }
      fragment.append(mark);
      at = span.end;
    }
    if (at < chars.length) fragment.append(chars.slice(at).join(""));
    return fragment;
  }

  function scanText() {
    const text = document.getElementById("scan-text")?.value || "";
    if (!text.trim()) throw new Error("Write or paste a text first.");
    return text;
  }

  function showError(error) {
    const element = document.getElementById("scan-error");
    if (!element) return;
    element.textContent = error ? error.message || String(error) : "";
    element.hidden = !error;
  }

  async function busy(button, work) {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    showError(null);
    try {
      await work();
    } catch (error) {
      showError(error);
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  }

  async function classify() {
    const text = scanText();
    const result = await window.mlsec.api("POST", `${PRIVACY}/classify`, { text });
    const level = document.getElementById("scan-level");
    level.textContent = result.level;
    level.className = `badge level level-${result.level}`;
    level.dataset.level = result.level;
    const findings = result.findings || [];
    say("scan-count", findings.length ? plural(findings.length, "finding") : "nothing found");
    const reasons = document.getElementById("scan-reasons");
    reasons.replaceChildren(...(result.reasons || []).map((reason) => {
      const item = document.createElement("li");
      item.textContent = reason;
      return item;
    }));
    document.getElementById("scan-highlighted").replaceChildren(marked(text, findings, "finding",
      (finding) => `${finding.type}: score ${Number(finding.score).toFixed(2)}, found by ${finding.rule}`));
    document.getElementById("scan-classification").hidden = false;
  }

  async function anonymize() {
    const text = scanText();
    const operator = document.getElementById("scan-operator").value;
    const result = await window.mlsec.api("POST", `${PRIVACY}/anonymize`, { text, operator });
    const items = result.items || [];
    say("scan-anonymized-summary", items.length
      ? `${plural(items.length, "finding")} replaced (${operator}).` : "Nothing to replace: no finding.");
    const output = document.getElementById("scan-anonymized-text");
    output.dataset.operator = operator;
    output.replaceChildren(marked(result.text, items, "replacement",
      (item) => `${item.type}, replaced by ${item.operator}`));
    document.getElementById("scan-anonymized").hidden = false;
  }

  function verifyNow(button) {
    if (!window.htmx) return;
    button.disabled = true;
    say("verify-result", "Walking the chain…");
    window.htmx.ajax("GET", "/ui/privacy/partials/verify", { target: "#verify-part", swap: "innerHTML" })
      .then(() => say("verify-result", `Verified at ${new Date().toLocaleTimeString("en-GB")}.`))
      .catch(() => say("verify-result", "Not verified: the gateway did not answer.", true))
      .finally(() => { button.disabled = false; });
  }

  function showSubject(subjectId) {
    const chosen = document.getElementById("subject-id");
    if (!chosen) return;
    chosen.value = subjectId;
    say("subject-result", "");
    refreshPart("subject-part");
  }

  function describeErasure(erasure) {
    const report = erasure.report || {};
    const stores = Object.values(report.stores || {});
    const removed = stores.filter((store) => store.ok)
      .map((store) => `${store.store} ${Number(store.answer?.rows_removed ?? 0).toLocaleString("en")}`);
    const unreachable = stores.filter((store) => !store.ok).map((store) => store.store);
    const retrains = (report.retrain_jobs || []).length;
    return `Erasure ${erasure.status}: rows removed: ${removed.join(", ") || "none"}; `
      + `${plural(retrains, "retraining")} queued; ${plural(report.consents_withdrawn ?? 0, "consent")} withdrawn.`
      + (unreachable.length ? ` Not reached: ${unreachable.join(", ")}; erase again to finish.` : "");
  }

  async function erase(button) {
    const subjectId = button.dataset.subject;
    const question = `Erase ${subjectId}? Their rows are removed from every dataset version and prediction log, `
      + "their consents withdrawn and the models trained on them retrained. This cannot be undone.";
    if (!window.confirm(question)) return;
    button.disabled = true;
    say("subject-result", `Erasing ${subjectId}…`);
    const result = document.getElementById("subject-result");
    try {
      const erasure = await window.mlsec.api("DELETE", `${PRIVACY}/data-subjects/${encodeURIComponent(subjectId)}`);
      say("subject-result", describeErasure(erasure), erasure.status !== "completed");
      if (result) result.dataset.status = erasure.status;
      ["subjects-part", "subject-part", "audit-part", "verify-part", "compliance-part"].forEach(refreshPart);
    } catch (error) {
      button.disabled = false;
      say("subject-result", `Not erased: ${error.message}`, true);
    }
  }

  async function dryRun(button) {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    const output = document.getElementById("cleanup-result");
    output.classList.remove("error");
    output.textContent = "Counting…";
    try {
      const result = await window.mlsec.api("POST", `${PRIVACY}/retention/cleanup`, { dry_run: true });
      const summary = document.createElement("p");
      summary.textContent = `Dry run: ${plural(result.overdue ?? 0, "item")} past their period would be deleted; `
        + "nothing was.";
      const list = document.createElement("ul");
      list.className = "plain";
      for (const category of result.categories || []) {
        const item = document.createElement("li");
        item.dataset.category = category.category;
        item.textContent = `${category.category.replace(/_/g, " ")}: ${Number(category.matched).toLocaleString("en")}`
          + (category.max_age_days ? ` older than ${category.max_age_days} days` : " (kept forever)")
          + (category.complete ? "" : "; not every store answered");
        list.append(item);
      }
      output.dataset.dryRun = String(result.dry_run);
      output.replaceChildren(summary, list);
      refreshPart("retention-part");  // the status beside the policies is the same count, asked again
    } catch (error) {
      output.textContent = `No dry run: ${error.message}`;
      output.classList.add("error");
    } finally {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    window.mlsec.on("promotions", refreshAuditSoon);
    window.mlsec.on("training", (event) => { if (AUDITED_TRAINING.has(event.type)) refreshAuditSoon(); });
    document.getElementById("scan-form")?.addEventListener("submit", (event) => {
      event.preventDefault();
      const button = document.getElementById("scan-classify");
      if (button) busy(button, classify);
    });
    const anonymizeButton = document.getElementById("scan-anonymize");
    anonymizeButton?.addEventListener("click", () => busy(anonymizeButton, anonymize));
    const verifyButton = document.getElementById("audit-verify-button");
    verifyButton?.addEventListener("click", () => verifyNow(verifyButton));
    document.getElementById("subjects-part")?.addEventListener("click", (event) => {
      const button = event.target.closest?.("button.show-subject");
      if (button) showSubject(button.dataset.subject);
    });
    document.getElementById("subject-part")?.addEventListener("click", (event) => {
      const button = event.target.closest?.("button#subject-erase");
      if (button) erase(button);
    });
    const cleanup = document.getElementById("retention-dry-run");
    cleanup?.addEventListener("click", () => dryRun(cleanup));
  });
})();
