// The admin page (jira:adminPage, the app's configuration): paste an FME Admin API key, choose
// projects with one primary environment each, save; see the connection's status and the
// webhook URL to paste into FME; delete. The service checks that the caller is a Jira admin.
import { el, localTime, show, whileDisabled } from "./dom.js";

const LABELS = { authorized: "Authorized", interrupted: "Interrupted", not_authorized: "Not authorized", unconfigured: "Not configured" };

export function mountAdminPage(root, { api }) {
  const status = el("span", { className: "lozenge" });
  const checked = el("span", { className: "muted" });
  const lastError = el("p", { className: "error", hidden: true });
  const key = el("input", { type: "password", autocomplete: "off", id: "api-key" });
  const checkKey = el("button", { type: "button", textContent: "Check key" });
  const projects = el("ul", { className: "projects" });
  const save = el("button", { type: "button", textContent: "Save", hidden: true });
  const confirmRemoval = el("button", { type: "button", className: "danger", textContent: "Save and remove links", hidden: true });
  const webhook = el("input", { type: "text", readOnly: true, id: "webhook-url" });
  const webhookRow = el("p", { hidden: true }, el("label", { htmlFor: "webhook-url", textContent: "FME webhook URL " }), webhook);
  const remove = el("button", { type: "button", className: "danger", textContent: "Delete configuration", hidden: true });
  const message = el("p", { className: "message", hidden: true, role: "status" });
  const error = el("p", { className: "error", hidden: true, role: "alert" });
  root.replaceChildren(
    el("p", {}, "Status: ", status, " ", checked),
    lastError,
    el("p", {}, el("label", { htmlFor: "api-key", textContent: "FME Admin API key " }), key, " ", checkKey),
    projects,
    el("p", {}, save, " ", confirmRemoval),
    webhookRow,
    el("p", {}, remove),
    message,
    error,
  );
  let current = null;
  const done = (text) => { show(error, ""); show(message, text); };

  function render(config) {
    current = config;
    status.textContent = LABELS[config.status] || config.status;
    status.className = `lozenge lozenge-${config.status}`;
    checked.replaceChildren(...(config.checkedAt ? ["Last checked ", localTime(config.checkedAt)] : []));
    show(lastError, config.lastError);
    const configured = config.status !== "unconfigured";
    webhook.value = config.webhookUrl || "";
    webhookRow.hidden = !configured;
    remove.hidden = !configured;
    confirmRemoval.hidden = true;
  }

  function showProjects(choices) {
    const chosen = new Map((current?.projects || []).map((p) => [p.workspaceId, p.primaryEnvironment.id]));
    projects.replaceChildren(
      ...choices.map((project) => {
        const box = el("input", { type: "checkbox", id: `project-${project.workspaceId}`, value: project.workspaceId, checked: chosen.has(project.workspaceId) });
        const select = el("select");
        select.setAttribute("aria-label", `Primary environment of ${project.workspaceName}`);
        const preferred = chosen.get(project.workspaceId) || project.environments.find((env) => env.production)?.id;
        for (const env of project.environments) {
          const option = el("option", { value: env.id, textContent: env.production ? `${env.name} (production)` : env.name });
          option.selected = env.id === preferred;
          select.append(option);
        }
        return el("li", {}, box, el("label", { htmlFor: box.id, textContent: ` ${project.workspaceName} ` }), select);
      }),
    );
    save.hidden = choices.length === 0;
  }

  const act = (button, action) => whileDisabled(button, action, error, message);

  async function saveSelection(confirm) {
    const body = {
      confirm,
      projects: [...projects.querySelectorAll("li")]
        .filter((li) => li.querySelector("input").checked)
        .map((li) => ({ workspaceId: li.querySelector("input").value, primaryEnvironmentId: li.querySelector("select").value })),
    };
    if (key.value.trim()) body.apiKey = key.value.trim();
    try {
      render(await api("PUT", "/configuration", body));
    } catch (err) {
      if (err.code !== "links_would_be_removed") throw err;
      confirmRemoval.hidden = false;
      throw err;
    }
    key.value = "";
    done("Saved. Jira shows the flags of these projects.");
  }

  checkKey.addEventListener("click", () => act(checkKey, async () => {
    const apiKey = key.value.trim();
    const data = await api("POST", "/configuration/discover", apiKey ? { apiKey } : {});
    showProjects(data.projects);
    done("The key works. Choose the projects and their primary environments.");
  }));
  save.addEventListener("click", () => act(save, () => saveSelection(false)));
  confirmRemoval.addEventListener("click", () => act(confirmRemoval, () => saveSelection(true)));
  remove.addEventListener("click", () => act(remove, async () => {
    if (remove.dataset.armed !== "true") {
      remove.dataset.armed = "true";
      remove.textContent = "Delete: every link of this site is removed";
      return;
    }
    await api("DELETE", "/configuration");
    delete remove.dataset.armed;
    remove.textContent = "Delete configuration";
    projects.replaceChildren();
    save.hidden = true;
    render({ status: "unconfigured", projects: [] });
    done("Configuration deleted.");
  }));

  return (async () => {
    try {
      render(await api("GET", "/configuration"));
      if (current.status !== "unconfigured") showProjects((await api("POST", "/configuration/discover", {})).projects);
    } catch (err) {
      show(error, err.message);
    }
  })();
}
