// clio-mock dashboard: the journal's live refresh, and buttons and forms that write through the
// control API (fetch, JSON, same origin). No framework, no build step; the pages work without it
// except for the writes.
"use strict";

(function () {
  const flash = document.getElementById("flash");
  let flashTimer = null;

  function say(text, isError) {
    if (!flash) return;
    flash.textContent = text;
    flash.className = isError ? "error" : "";
    flash.hidden = false;
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => { flash.hidden = true; }, isError ? 8000 : 2500);
  }

  // One write to the control API; on success the page is rendered again from the server.
  async function send(method, url, body, done) {
    let response;
    try {
      response = await fetch(url, {
        method: method,
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: method === "DELETE" && body === undefined ? undefined : JSON.stringify(body || {}),
      });
    } catch (err) {
      say("The mock did not answer: " + err, true);
      return;
    }
    if (!response.ok) {
      let message = "HTTP " + response.status;
      try {
        const data = await response.json();
        if (data && data.error && data.error.message) message += ": " + data.error.message;
      } catch (_) { /* not JSON */ }
      say(message, true);
      return;
    }
    sessionStorage.setItem("clio-mock-flash", done || "Done");
    window.location.reload();
  }

  // Form fields as JSON: empty fields are left out, number inputs become numbers.
  function formJson(form) {
    const out = {};
    for (const el of form.elements) {
      if (!el.name || el.disabled) continue;
      if (el.type === "checkbox") { out[el.name] = el.checked; continue; }
      const value = el.value.trim();
      if (value === "") continue;
      out[el.name] = el.type === "number" ? Number(value) : value;
    }
    return out;
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-api]");
    if (!button) return;
    event.preventDefault();
    if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
    const body = button.dataset.body ? JSON.parse(button.dataset.body) : undefined;
    send(button.dataset.method || "POST", button.dataset.api, body, button.dataset.done);
  });

  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-api]");
    if (!form) return;
    event.preventDefault();
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    send(form.dataset.method || "POST", form.dataset.api, formJson(form), form.dataset.done);
  });

  const pending = sessionStorage.getItem("clio-mock-flash");
  if (pending) {
    sessionStorage.removeItem("clio-mock-flash");
    say(pending, false);
  }

  // The journal: ask for the entries after the newest shown, every two seconds while "live" is on.
  const journal = document.getElementById("journal");
  const list = document.getElementById("journal-entries");
  const live = document.getElementById("live");
  if (journal && list && journal.dataset.rows) {
    const MAX_SHOWN = 200;
    async function refresh() {
      if (live && !live.checked) return;
      const newest = list.querySelector("details.entry");
      const since = newest ? newest.dataset.id : "0";
      const sep = journal.dataset.rows.includes("?") ? "&" : "?";
      try {
        const response = await fetch(journal.dataset.rows + sep + "since=" + encodeURIComponent(since), { credentials: "same-origin" });
        if (!response.ok) return;
        const html = (await response.text()).trim();
        if (!html) return;
        list.insertAdjacentHTML("afterbegin", html); // rendered and escaped by the server's templates
        const empty = document.getElementById("journal-empty");
        if (empty) empty.remove();
        const shown = list.querySelectorAll("details.entry");
        for (let i = MAX_SHOWN; i < shown.length; i++) shown[i].remove();
      } catch (_) { /* the mock restarted or is busy: try again next time */ }
    }
    setInterval(refresh, 2000);
  }
})();
