// Shared by the app's pages: calls to the Jira-side API with the page's token, and errors.
"use strict";

window.fmejira = {
  token: () => document.querySelector('meta[name="fmejira-token"]')?.content,

  async api(method, path, body) {
    const headers = { Authorization: `JWT ${fmejira.token()}`, Accept: "application/json" };
    const options = { method, headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(`/jira/api${path}`, options);
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      const error = new Error(data?.error?.message || `The app answered ${response.status}.`);
      error.code = data?.error?.code;
      error.status = response.status;
      throw error;
    }
    return data;
  },

  show(element, text) {
    if (!element) return;
    element.textContent = text || "";
    element.hidden = !text;
  },

  // Relative times ("3 days ago") for <time datetime> elements; the server renders dates.
  relativeTimes(root = document) {
    const format = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
    const units = [["year", 31536e6], ["month", 2592e6], ["day", 864e5], ["hour", 36e5], ["minute", 6e4]];
    root.querySelectorAll("time[datetime]").forEach((el) => {
      const diff = new Date(el.dateTime) - Date.now();
      if (Number.isNaN(diff)) return;
      el.title = new Date(el.dateTime).toLocaleString();
      const [unit, ms] = units.find(([, size]) => Math.abs(diff) >= size) || ["minute", 6e4];
      el.textContent = format.format(Math.round(diff / ms), unit);
    });
  },

  resize() {
    if (window.AP && window.AP.resize) window.AP.resize();
  },
};

document.addEventListener("DOMContentLoaded", () => {
  fmejira.relativeTimes();
  fmejira.resize();
});
