/* The sign-in form: POST /auth/session, then on to the page asked for. The session travels in an HttpOnly cookie:
   this script never sees it, and nothing is written to localStorage. */
(() => {
  "use strict";
  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("sign-in-form");
    const error = document.getElementById("sign-in-error");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      const apiKey = form.elements.api_key.value.trim();
      const body = apiKey
        ? { api_key: apiKey }
        : { username: form.elements.username.value.trim(), password: form.elements.password.value };
      if (!apiKey && (!body.username || !body.password)) {
        error.textContent = "Give a username and password, or an API key.";
        error.hidden = false;
        return;
      }
      let response;
      try {
        response = await fetch("/auth/session", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify(body),
        });
      } catch {
        error.textContent = "The gateway did not answer; try again.";
        error.hidden = false;
        return;
      }
      if (response.ok) {
        window.location.assign(form.dataset.next || "/ui/overview");
        return;
      }
      error.textContent = response.status === 429
        ? "Too many attempts from this address; wait a minute."
        : "Those credentials were not accepted.";
      error.hidden = false;
      form.elements.password.value = "";
    });
  });
})();
