// Shared by the app's pages: calls back to the app with the page's token, local times,
// confirmation dialogs, and all.js when Jira provides it (the pages work without it).
"use strict";

(() => {
  const tokenMeta = () => document.querySelector('meta[name="fmejira-token"]');

  // all.js loads asynchronously and is absent outside Jira: wait for it a while (longer when
  // framed, as inside Jira, where a slow CDN must not pass for its absence).
  const apReady = new Promise((resolve) => {
    if (window.AP) return resolve(window.AP);
    const done = () => resolve(window.AP || null);
    const script = document.querySelector('script[src$="/all.js"]');
    script?.addEventListener("load", done);
    script?.addEventListener("error", done);
    setTimeout(done, window.self === window.top ? 1000 : 10000);
  });

  // Inside Jira an expired page token is replaced by a context token from all.js.
  async function freshToken() {
    const AP = await apReady;
    if (!AP?.context?.getToken) return null;
    return new Promise((resolve) => AP.context.getToken(resolve));
  }

  async function call(url, options = {}, retried = false) {
    const headers = { ...options.headers, Authorization: `JWT ${tokenMeta()?.content}` };
    const response = await fetch(url, { ...options, headers });
    if (response.status === 401 && !retried) {
      const token = await freshToken();
      if (token) {
        tokenMeta().content = token;
        return call(url, options, true);
      }
    }
    return response;
  }

  function failure(response, error) {
    const expired = "This page has been open too long. Reload the Jira page to continue.";
    const message = error?.message && response.status !== 401 ? error.message : null;
    const err = new Error(message || (response.status === 401 ? expired : `The app answered ${response.status}.`));
    err.code = error?.code;
    err.status = response.status;
    return err;
  }

  async function api(method, path, body) {
    const options = { method, headers: { Accept: "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await call(`/jira/api${path}`, options);
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) throw failure(response, data?.error);
    return data;
  }

  // Renders an issue page's part again on the server (fmejira/pages/fragments.py): a page in
  // Jira must not reload, its URL's JWT has expired by then.
  async function refreshPart(element, issueKey) {
    const url = `/jira/fragments/${element.dataset.part}?issueKey=${encodeURIComponent(issueKey)}`;
    const response = await call(url, { headers: { Accept: "text/html" } });
    if (!response.ok) throw failure(response, null);
    element.innerHTML = await response.text();
    localTimes(element);
    resize();
  }

  function el(tag, properties = {}, ...children) {
    const element = Object.assign(document.createElement(tag), properties);
    element.append(...children.filter((child) => child !== null && child !== undefined));
    return element;
  }

  function show(element, text) {
    if (!element) return;
    element.textContent = text || "";
    element.hidden = !text;
  }

  const UNITS = [["year", 31536e6], ["month", 2592e6], ["day", 864e5], ["hour", 36e5], ["minute", 6e4]];

  function ago(date) {
    const diff = date - Date.now();
    const [unit, size] = UNITS.find(([, ms]) => Math.abs(diff) >= ms) || ["minute", 6e4];
    return new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }).format(Math.round(diff / size), unit);
  }

  // <time datetime data-style>: "relative" (3 days ago), "datetime" (date and time) or "clock"
  // (the time today, else date and time). The server writes UTC; people read local time.
  function localTimes(root = document) {
    root.querySelectorAll("time[datetime]").forEach((element) => {
      const date = new Date(element.dateTime);
      if (Number.isNaN(date.getTime())) return;
      const full = date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
      const today = date.toDateString() === new Date().toDateString();
      const style = element.dataset.style;
      if (style === "clock") {
        element.textContent = today ? date.toLocaleTimeString(undefined, { timeStyle: "short" }) : full;
        element.title = full;
      } else if (style === "datetime") {
        element.textContent = full;
        element.title = ago(date);
      } else {
        element.textContent = ago(date);
        element.title = full;
      }
    });
  }

  // A modal confirmation in the page (ADS style); resolves true when confirmed.
  function confirm({ title, message, action, danger = false }) {
    const cancel = el("button", { type: "submit", value: "cancel", className: "button", textContent: "Cancel", autofocus: true });
    const ok = el("button", { type: "submit", value: "confirm", className: `button ${danger ? "button-danger" : "button-primary"}`, textContent: action });
    const dialog = el(
      "dialog",
      { className: "modal" },
      el("form", { method: "dialog" }, el("h2", { id: "confirm-title", textContent: title }), el("p", { textContent: message }), el("div", { className: "actions actions-end" }, cancel, ok)),
    );
    dialog.setAttribute("aria-labelledby", "confirm-title");
    document.body.append(dialog);
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => {
        dialog.remove();
        resolve(dialog.returnValue === "confirm");
      });
      dialog.showModal();
    });
  }

  function resize() {
    window.AP?.resize?.();
  }

  window.fmejira = { api, apReady, confirm, el, localTimes, refreshPart, resize, show };

  document.addEventListener("DOMContentLoaded", () => localTimes());
})();
