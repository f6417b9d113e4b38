// The configuration page: check a key, choose projects and primary environments, save, test,
// regenerate the webhook URL, delete. Every action goes through /jira/api/configuration.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("configure");
  const $ = (selector) => root.querySelector(selector);
  const keyInput = $("#api-key");
  const projectList = $(".projects");
  const labels = { authorized: "Authorized", interrupted: "Interrupted", not_authorized: "Not authorized", unconfigured: "Not configured" };
  let current = null;

  const fail = (err) => { fmejira.show($(".js-message"), ""); fmejira.show($(".js-error"), err.message); };
  const done = (text) => { fmejira.show($(".js-error"), ""); fmejira.show($(".js-message"), text); };

  function render(config) {
    current = config;
    const status = $(".js-status");
    status.textContent = labels[config.status] || config.status;
    status.className = `lozenge js-status lozenge-${config.status}`;
    $(".js-checked").textContent = config.checkedAt ? `Last checked ${new Date(config.checkedAt).toLocaleString()}` : "";
    fmejira.show($(".js-last-error"), config.lastError);
    const configured = config.status !== "unconfigured";
    $(".js-connected").hidden = !configured;
    $(".js-webhook-card").hidden = !configured;
    $("#webhook-url").value = config.webhookUrl || "";
    fmejira.resize();
  }

  function showProjects(projects) {
    const chosen = new Map((current?.projects || []).map((p) => [p.workspaceId, p.primaryEnvironment.id]));
    projectList.replaceChildren(...projects.map((project) => {
      const li = document.createElement("li");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.id = `project-${project.workspaceId}`;
      box.value = project.workspaceId;
      box.checked = chosen.has(project.workspaceId);
      const label = document.createElement("label");
      label.htmlFor = box.id;
      label.textContent = project.workspaceName;
      const select = document.createElement("select");
      select.setAttribute("aria-label", `Primary environment of ${project.workspaceName}`);
      for (const env of project.environments) {
        const option = new Option(env.production ? `${env.name} (production)` : env.name, env.id);
        option.selected = chosen.get(project.workspaceId) === env.id;
        select.append(option);
      }
      li.append(box, label, select);
      return li;
    }));
    $(".js-projects-card").hidden = false;
    fmejira.resize();
  }

  async function load() {
    try {
      render(await fmejira.api("GET", "/configuration"));
      if (current.status !== "unconfigured") showProjects(await discovered());
    } catch (err) { fail(err); }
  }

  async function discovered() {
    const key = keyInput.value.trim();
    const data = await fmejira.api("POST", "/configuration/discover", key ? { apiKey: key } : {});
    return data.projects;
  }

  $(".js-discover").addEventListener("click", async () => {
    try { showProjects(await discovered()); done("The key works. Choose the projects."); } catch (err) { fail(err); }
  });

  async function save(confirm) {
    const projects = [...projectList.querySelectorAll("li")]
      .filter((li) => li.querySelector("input").checked)
      .map((li) => ({ workspaceId: li.querySelector("input").value, primaryEnvironmentId: li.querySelector("select").value }));
    const body = { projects, confirm };
    if (keyInput.value.trim()) body.apiKey = keyInput.value.trim();
    try {
      render(await fmejira.api("PUT", "/configuration", body));
      keyInput.value = "";
      done("Saved.");
    } catch (err) {
      if (err.code === "links_would_be_removed" && window.confirm(err.message)) return save(true);
      fail(err);
    }
  }
  $(".js-save").addEventListener("click", () => save(false));

  $(".js-test").addEventListener("click", async () => {
    try { render(await fmejira.api("POST", "/configuration/test")); done("Connection checked."); } catch (err) { fail(err); }
  });

  $(".js-regenerate").addEventListener("click", async () => {
    if (!window.confirm("The old webhook URL stops working. Update it in FME afterwards. Regenerate?")) return;
    try { render(await fmejira.api("POST", "/configuration/webhook-secret")); done("New webhook URL created."); } catch (err) { fail(err); }
  });

  $(".js-delete").addEventListener("click", async () => {
    if (!window.confirm("Delete the configuration? Every link of this Jira site and the app's flags in Jira are removed.")) return;
    try {
      await fmejira.api("DELETE", "/configuration");
      projectList.replaceChildren();
      $(".js-projects-card").hidden = true;
      render({ status: "unconfigured", projects: [] });
      done("Configuration deleted.");
    } catch (err) { fail(err); }
  });

  load();
});
