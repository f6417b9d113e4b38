// The glance and the connect dialog: search flags, connect them, disconnect with confirmation.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("issue");
  if (!root) return;
  const issueKey = root.dataset.issueKey;
  const error = root.querySelector(".error");
  const connect = root.querySelector("#connect");
  const search = root.querySelector("#flag-search");
  const results = root.querySelector(".results");
  const connectButton = root.querySelector(".js-connect");
  const opener = root.querySelector(".js-open-connect");
  const connected = new Set([...root.querySelectorAll(".flag")].map((li) => `${li.dataset.workspace}/${li.dataset.name}`));

  const fail = (err) => fmejira.show(error, err.message);
  const reload = () => window.location.reload();

  opener?.addEventListener("click", () => {
    connect.hidden = !connect.hidden;
    opener.setAttribute("aria-expanded", String(!connect.hidden));
    if (!connect.hidden) { search.focus(); find(); }
    fmejira.resize();
  });

  let pending;
  async function find() {
    const query = search.value.trim();
    try {
      const data = await fmejira.api("GET", `/flags?q=${encodeURIComponent(query)}`);
      if (search.value.trim() !== query) return;  // a newer search is on its way
      results.replaceChildren(...data.flags.map(option));
      if (!data.flags.length) {
        const li = document.createElement("li");
        li.className = "subtle";
        li.textContent = "No flags match. Flags appear here once the app has read the project from FME.";
        results.append(li);
      }
      updateButton();
      fmejira.resize();
    } catch (err) { fail(err); }
  }

  function option(flag) {
    const id = `${flag.workspaceId}/${flag.name}`;
    const li = document.createElement("li");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.id = `pick-${id}`;
    box.value = id;
    box.disabled = connected.has(id);
    box.checked = connected.has(id);
    box.addEventListener("change", updateButton);
    const label = document.createElement("label");
    label.htmlFor = box.id;
    label.textContent = `${flag.name} · ${flag.workspaceName || flag.workspaceId}`;
    li.append(box, label);
    return li;
  }

  function selected() {
    return [...results.querySelectorAll("input:checked:not(:disabled)")].map((box) => box.value);
  }

  function updateButton() {
    const count = selected().length;
    connectButton.disabled = count === 0;
    connectButton.textContent = count > 1 ? `Connect ${count} flags` : "Connect selected";
  }

  search?.addEventListener("input", () => { clearTimeout(pending); pending = setTimeout(find, 200); });
  if (connect && !connect.hidden) find();

  connectButton?.addEventListener("click", async () => {
    connectButton.disabled = true;
    try {
      for (const id of selected()) {
        const [workspaceId, ...rest] = id.split("/");
        await fmejira.api("POST", `/issues/${encodeURIComponent(issueKey)}/flags`, { workspaceId, flagName: rest.join("/") });
      }
      reload();
    } catch (err) { fail(err); updateButton(); }
  });

  root.querySelectorAll(".js-disconnect").forEach((button) => {
    button.addEventListener("click", async () => {
      const li = button.closest(".flag");
      if (!window.confirm(`Disconnect ${li.dataset.name} from ${issueKey}?`)) return;
      try {
        await fmejira.api("DELETE", `/issues/${encodeURIComponent(issueKey)}/flags/${encodeURIComponent(li.dataset.workspace)}/${encodeURIComponent(li.dataset.name)}`);
        reload();
      } catch (err) { fail(err); }
    });
  });
});
