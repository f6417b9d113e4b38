// The issue pages: the glance, the full page, and the two dialogs. Connect flags (search, choose
// several), disconnect with a confirmation, open the details; parts are re-rendered in place.
"use strict";

document.addEventListener("DOMContentLoaded", async () => {
  const root = document.getElementById("issue");
  if (!root) return;
  const { api, apReady, el, refreshPart, resize, show } = window.fmejira;
  const mode = root.dataset.mode;
  const error = root.querySelector(".error");
  const announce = (text) => show(root.querySelector(".js-announce"), text);
  const fail = (err) => show(error, err.message);
  const flagsPart = root.querySelector('[data-part="flags"]');
  const detailsPart = root.querySelector('[data-part="details"]');

  // Jira opens the dialogs at their descriptor URL; the glance passes the issue as custom data.
  async function issueFromDialog() {
    const AP = await apReady;
    if (!AP?.dialog?.getCustomData) return null;
    return new Promise((resolve) => {
      AP.dialog.getCustomData((data) => resolve(data?.issueKey || null));
      setTimeout(() => resolve(null), 2000);
    });
  }

  const issueKey = root.dataset.issueKey || (await issueFromDialog());
  if (!issueKey) {
    show(error, "Open this from the Feature flags panel of a Jira issue.");
    return;
  }
  const flagsUrl = `/issues/${encodeURIComponent(issueKey)}/flags`;

  // -- the issue's flags, and staying fresh while the app re-reads stale ones from FME ---------

  let polls = 0;
  async function refreshFlags() {
    if (!flagsPart) return;
    try {
      await refreshPart(flagsPart, issueKey);
      pollWhileRefreshing();
    } catch (err) {
      fail(err);
    }
  }

  function pollWhileRefreshing() {
    if (flagsPart?.querySelector('[data-refreshing="true"]') && polls < 4) {
      setTimeout(refreshFlags, 2000 * 2 ** polls++);
    }
  }
  pollWhileRefreshing();

  if (mode === "details" && !root.dataset.issueKey) {
    refreshPart(detailsPart, issueKey).catch(fail);
  }

  // -- details: Jira's dialog inside Jira, the page's own dialog elsewhere --------------------

  async function openDetails() {
    if (window.AP?.dialog?.create) {
      window.AP.dialog.create({ key: "fme-flag-details-dialog", customData: { issueKey } });
      return;
    }
    const dialog = root.querySelector("#details-dialog");
    try {
      await refreshPart(dialog.querySelector('[data-part="details"]'), issueKey);
      dialog.showModal();
    } catch (err) {
      fail(err);
    }
  }

  // -- disconnect, after a confirmation in the flag's own row ----------------------------------

  function confirmBox(button) {
    return button.closest(".flag").querySelector(".flag-confirm");
  }

  function askToDisconnect(button) {
    const box = confirmBox(button);
    box.hidden = false;
    box.querySelector(".js-cancel-disconnect").focus();
    resize();
  }

  function cancelDisconnect(box) {
    box.hidden = true;
    box.closest(".flag").querySelector(".js-disconnect").focus();
    resize();
  }

  async function disconnect(button) {
    const { workspace, name } = button.closest(".flag").dataset;
    button.disabled = true;
    try {
      await api("DELETE", `${flagsUrl}/${encodeURIComponent(workspace)}/${encodeURIComponent(name)}`);
      announce(`Disconnected ${name} from ${issueKey}.`);
      await refreshFlags();
    } catch (err) {
      button.disabled = false;
      fail(err);
    }
  }

  // -- connect: search the configured projects, choose one or more -----------------------------

  const picker = root.querySelector("#connect");
  const opener = root.querySelector(".js-open-connect");
  let connected = new Set();
  const chosen = new Set(); // kept across searches: choose in one, search again, choose more

  async function openPicker() {
    const AP = window.AP;
    if (AP?.dialog?.create) {
      AP.dialog.create({ key: "fme-connect-flag-dialog", customData: { issueKey } });
      AP.events?.once?.("dialog.close", refreshFlags);
      return;
    }
    picker.hidden = false;
    opener.setAttribute("aria-expanded", "true");
    picker.querySelector("#flag-search").focus();
    await search();
  }

  function closePicker() {
    picker.hidden = true;
    opener?.setAttribute("aria-expanded", "false");
    opener?.focus();
    resize();
  }

  let latest = 0;
  async function search() {
    const query = picker.querySelector("#flag-search").value.trim();
    const ticket = ++latest;
    try {
      const [found, current] = await Promise.all([api("GET", `/flags?q=${encodeURIComponent(query)}`), api("GET", flagsUrl)]);
      if (ticket !== latest) return; // a newer search is on its way
      connected = new Set(current.flags.map((flag) => `${flag.workspaceId}/${flag.name}`));
      picker.querySelector(".results").replaceChildren(...found.flags.map(option));
      const status = found.flags.length
        ? `${found.flags.length} ${found.flags.length === 1 ? "flag" : "flags"} found.`
        : "No flags match. Flags appear here once the app has read their FME project.";
      show(picker.querySelector(".js-results-status"), status);
      updateConnectButton();
      resize();
    } catch (err) {
      fail(err);
    }
  }

  function option(flag) {
    const id = `${flag.workspaceId}/${flag.name}`;
    const already = connected.has(id);
    const box = el("input", { type: "checkbox", id: `pick-${id}`, value: id, checked: already || chosen.has(id), disabled: already });
    const state = already ? "already connected" : [flag.status.label, flag.status.rollout].filter((text, i, all) => text && all.indexOf(text) === i).join(" · ");
    const about = el("span", { className: "subtle", id: `about-${id}`, textContent: `${flag.workspaceName || flag.workspaceId} · ${state}` });
    box.setAttribute("aria-describedby", about.id);
    return el("li", {}, box, el("label", { htmlFor: box.id, textContent: flag.name }), about);
  }

  function choose(box) {
    if (box.checked) chosen.add(box.value);
    else chosen.delete(box.value);
    updateConnectButton();
  }

  function updateConnectButton() {
    for (const id of connected) chosen.delete(id);
    const count = chosen.size;
    const button = picker.querySelector(".js-connect");
    button.disabled = count === 0;
    button.textContent = count > 1 ? `Connect ${count} flags` : "Connect selected";
  }

  async function connectChosen(button) {
    const ids = [...chosen];
    chosen.clear();
    button.disabled = true;
    const failures = [];
    for (const id of ids) {
      const [workspaceId, flagName] = [id.slice(0, id.indexOf("/")), id.slice(id.indexOf("/") + 1)];
      try {
        await api("POST", flagsUrl, { workspaceId, flagName });
      } catch (err) {
        failures.push(`${flagName}: ${err.message}`);
      }
    }
    const done = ids.length - failures.length;
    show(error, failures.join(" "));
    if (mode === "dialog" && !failures.length && window.AP?.dialog?.close) {
      window.AP.dialog.close({ connected: done });
      return;
    }
    if (done) announce(`Connected ${done} ${done === 1 ? "flag" : "flags"} to ${issueKey}.`);
    if (mode === "glance" && !failures.length) closePicker();
    else await search();
    await refreshFlags();
    if (mode === "dialog") show(root.querySelector(".js-issue-line"), `Connected ${done} ${done === 1 ? "flag" : "flags"} to ${issueKey}.`);
  }

  if (picker && !picker.hidden) search();

  let pending;
  root.addEventListener("input", (event) => {
    if (event.target.id !== "flag-search") return;
    clearTimeout(pending);
    pending = setTimeout(search, 200);
  });
  root.addEventListener("change", (event) => {
    if (event.target.closest(".results")) choose(event.target);
  });

  root.addEventListener("click", (event) => {
    const target = event.target.closest("button");
    if (!target) return;
    if (target.matches(".js-details")) openDetails();
    else if (target.matches(".js-disconnect")) askToDisconnect(target);
    else if (target.matches(".js-cancel-disconnect")) cancelDisconnect(target.closest(".flag-confirm"));
    else if (target.matches(".js-confirm-disconnect")) disconnect(target);
    else if (target.matches(".js-open-connect")) (picker.hidden ? openPicker() : closePicker());
    else if (target.matches(".js-cancel-connect")) closePicker();
    else if (target.matches(".js-connect")) connectChosen(target);
    else if (target.matches(".js-close-dialog")) target.closest("dialog").close();
  });

  root.addEventListener("keydown", (event) => {
    const box = event.target.closest(".flag-confirm");
    if (event.key === "Escape" && box) cancelDisconnect(box);
  });

  if (mode === "dialog") {
    // Jira's dialog chrome has its own Submit button: it connects, and closes on success.
    const AP = await apReady;
    AP?.dialog?.disableCloseOnSubmit?.();
    AP?.events?.on?.("dialog.submit", () => connectChosen(picker.querySelector(".js-connect")));
  }
});
