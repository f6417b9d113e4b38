// The configuration page: check a key, choose projects and primary environments, save, test,
// copy or regenerate the webhook URL, delete. Every action goes through /jira/api/configuration.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const { api, confirm, el, localTimes, resize, show } = window.fmejira;
  const root = document.getElementById("configure");
  const $ = (selector) => root.querySelector(selector);
  const keyInput = $("#api-key");
  const projectList = $(".projects");
  const labels = { authorized: "Authorized", interrupted: "Interrupted", not_authorized: "Not authorized", unconfigured: "Not configured" };
  let current = null;

  const fail = (err) => { show($(".js-message"), ""); show($(".js-error"), err.message); };
  const done = (text) => { show($(".js-error"), ""); show($(".js-message"), text); };

  function render(config) {
    current = config;
    const status = $(".js-status");
    status.textContent = labels[config.status] || config.status;
    status.className = `lozenge js-status lozenge-${config.status}`;
    const checked = $(".js-checked");
    checked.replaceChildren();
    if (config.checkedAt) {
      checked.append("Last checked ", el("time", { dateTime: config.checkedAt }));
      localTimes(checked);
    }
    show($(".js-last-error"), config.lastError);
    const configured = config.status !== "unconfigured";
    for (const selector of [".js-connected", ".js-webhook-card", ".js-delete-card", ".js-rotate-help"]) $(selector).hidden = !configured;
    $(".js-unconfigured").hidden = configured;
    $(".js-key-help").hidden = configured;
    $("#webhook-url").value = config.webhookUrl || "";
    resize();
  }

  function projectRow(project, chosen) {
    const box = el("input", { type: "checkbox", id: `project-${project.workspaceId}`, value: project.workspaceId, checked: chosen.has(project.workspaceId) });
    const select = el("select");
    select.setAttribute("aria-label", `Primary environment of ${project.workspaceName}`);
    const preferred = chosen.get(project.workspaceId) || project.environments.find((env) => env.production)?.id;
    for (const env of project.environments) {
      const option = new Option(env.production ? `${env.name} (production)` : env.name, env.id);
      option.selected = env.id === preferred;
      select.append(option);
    }
    return el("li", {}, box, el("label", { htmlFor: box.id, textContent: project.workspaceName }), select);
  }

  function showProjects(projects) {
    const chosen = new Map((current?.projects || []).map((p) => [p.workspaceId, p.primaryEnvironment.id]));
    projectList.replaceChildren(...projects.map((project) => projectRow(project, chosen)));
    $(".js-projects-card").hidden = false;
    resize();
  }

  async function discovered() {
    const key = keyInput.value.trim();
    const data = await api("POST", "/configuration/discover", key ? { apiKey: key } : {});
    return data.projects;
  }

  async function load() {
    try {
      render(await api("GET", "/configuration"));
      if (current.status !== "unconfigured") showProjects(await discovered());
    } catch (err) {
      fail(err);
    }
  }

  async function save(confirmed) {
    const projects = [...projectList.querySelectorAll("li")]
      .filter((li) => li.querySelector("input").checked)
      .map((li) => ({ workspaceId: li.querySelector("input").value, primaryEnvironmentId: li.querySelector("select").value }));
    const body = { projects, confirm: confirmed };
    if (keyInput.value.trim()) body.apiKey = keyInput.value.trim();
    try {
      render(await api("PUT", "/configuration", body));
      keyInput.value = "";
      done("Saved. Jira shows the flags of these projects.");
    } catch (err) {
      if (err.code !== "links_would_be_removed") return fail(err);
      const ok = await confirm({ title: "Remove links?", message: err.message, action: "Save and remove links", danger: true });
      if (ok) return save(true);
      done("Nothing was changed.");
    }
  }

  const actions = {
    async discover() {
      showProjects(await discovered());
      done("The key works. Choose the projects and their primary environments.");
    },
    save: () => save(false),
    async test() {
      render(await api("POST", "/configuration/test"));
      done("Connection checked.");
    },
    async copy() {
      const input = $("#webhook-url");
      input.select();
      try {
        await navigator.clipboard.writeText(input.value);
        done("Webhook URL copied.");
      } catch {
        done("The URL is selected: press Ctrl+C (⌘C) to copy it.");
      }
    },
    async regenerate() {
      const ok = await confirm({ title: "Regenerate the webhook URL?", message: "The current URL stops working at once. Paste the new one into FME's webhook afterwards.", action: "Regenerate" });
      if (!ok) return;
      render(await api("POST", "/configuration/webhook-secret"));
      done("New webhook URL created. Update it in FME.");
    },
    async delete() {
      const ok = await confirm({ title: "Delete the configuration?", message: "Every link between flags and issues of this Jira site is removed, and the app's flags disappear from Jira. FME keeps the flags.", action: "Delete", danger: true });
      if (!ok) return;
      await api("DELETE", "/configuration");
      projectList.replaceChildren();
      $(".js-projects-card").hidden = true;
      render({ status: "unconfigured", projects: [] });
      done("Configuration deleted.");
    },
  };

  root.addEventListener("click", async (event) => {
    const button = event.target.closest("button");
    const name = button && [...button.classList].find((c) => c.startsWith("js-"))?.slice(3);
    if (!actions[name]) return;
    button.disabled = true;
    try {
      await actions[name]();
    } catch (err) {
      fail(err);
    } finally {
      button.disabled = false;
    }
  });

  load();
});
