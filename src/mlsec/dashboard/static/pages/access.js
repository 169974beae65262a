/* Access (admins): create and revoke API keys, create users, change their role, disable and enable them, through
   the gateway's /auth routes. A new key is shown once, in the page only: never stored, gone on reload. */
(() => {
  "use strict";

  function say(id, text, failed = false) {
    const element = document.getElementById(id);
    if (!element) return;
    element.textContent = text;
    element.classList.toggle("error", failed);
    element.hidden = !text;
  }

  function refresh(id) {
    const element = document.getElementById(id);
    if (element && window.htmx) window.htmx.trigger(element, "refresh");
  }

  function formValues(form) {
    return Object.fromEntries(new FormData(form).entries());
  }

  async function busy(button, work) {
    if (button) button.disabled = true;
    try { await work(); } finally { if (button) button.disabled = false; }
  }

  function showNewKey(created) {
    const box = document.getElementById("new-key");
    const value = document.getElementById("new-key-value");
    document.getElementById("new-key-name").textContent = `(${created.name}, ${created.role})`;
    value.value = created.api_key;
    box.hidden = false;
    value.focus();
    value.select();
  }

  async function copyKey() {
    const value = document.getElementById("new-key-value");
    value.select();
    try {
      await navigator.clipboard.writeText(value.value);
      say("keys-result", "The key is on the clipboard.");
    } catch {
      say("keys-result", "Copy the selected key with Ctrl+C (or ⌘C).");
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const keyForm = document.getElementById("create-key-form");
    keyForm?.addEventListener("submit", async (event) => {
      event.preventDefault();
      say("create-key-error", "");
      const { name, role } = formValues(keyForm);
      await busy(keyForm.querySelector("button[type=submit]"), async () => {
        try {
          const created = await window.mlsec.api("POST", "/auth/keys", { name: String(name).trim(), role });
          showNewKey(created);
          say("keys-result", `Created the ${created.role} key ${created.name} (${created.key_id}).`);
          keyForm.reset();
          refresh("keys-part");
        } catch (error) { say("create-key-error", `Creating the key failed: ${error.message}`, true); }
      });
    });
    document.getElementById("new-key-copy")?.addEventListener("click", copyKey);
    window.addEventListener("pagehide", () => {
      const value = document.getElementById("new-key-value");
      if (value) value.value = "";
    });

    document.getElementById("keys-part")?.addEventListener("click", async (event) => {
      const button = event.target.closest("button.revoke-key");
      if (!button) return;
      const { keyId, name, own } = button.dataset;
      const warning = own ? "\n\nThis is the key you signed in with: your session ends with it." : "";
      if (!window.confirm(`Revoke the key ${name} (${keyId})? Whoever uses it is refused from now on.${warning}`)) return;
      await busy(button, async () => {
        try {
          await window.mlsec.api("DELETE", `/auth/keys/${encodeURIComponent(keyId)}`);
          say("keys-result", `Revoked the key ${name} (${keyId}).`);
          refresh("keys-part");
        } catch (error) { say("keys-result", `Revoking ${name} failed: ${error.message}`, true); }
      });
    });

    const userForm = document.getElementById("create-user-form");
    userForm?.addEventListener("submit", async (event) => {
      event.preventDefault();
      const { username, password, role } = formValues(userForm);
      await busy(userForm.querySelector("button[type=submit]"), async () => {
        try {
          const user = await window.mlsec.api("POST", "/auth/users", { username: String(username).trim(), password, role });
          say("create-user-result", `Created the ${user.role} user ${user.username}.`);
          userForm.reset();
          refresh("users-part");
        } catch (error) { say("create-user-result", `Creating the user failed: ${error.message}`, true); }
      });
    });

    document.getElementById("users-part")?.addEventListener("click", async (event) => {
      const button = event.target.closest("button.set-role, button.toggle-user");
      if (!button) return;
      const username = button.dataset.username;
      const path = `/auth/users/${encodeURIComponent(username)}`;
      let body;
      let done;
      if (button.classList.contains("set-role")) {
        const role = button.closest("tr").querySelector("select.user-role").value;
        body = { role };
        done = `${username} is now ${role}.`;
      } else {
        const disable = button.dataset.disabled !== "true";
        if (disable && !window.confirm(`Disable ${username}? They are refused from their next request on.`)) return;
        body = { disabled: disable };
        done = `${username} is ${disable ? "disabled" : "enabled"}.`;
      }
      await busy(button, async () => {
        try {
          await window.mlsec.api("PATCH", path, body);
          say("users-result", done);
          refresh("users-part");
        } catch (error) { say("users-result", `Changing ${username} failed: ${error.message}`, true); }
      });
    });
  });
})();
