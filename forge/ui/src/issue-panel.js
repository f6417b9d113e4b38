// The issue panel (jira:issueContext): the issue's flags with their state in each project's
// primary environment, connect (search the configured projects' flags) and disconnect. The
// same JSON API as the Connect glance; the invocation token binds every call to this issue.
import { el, localTime, show, whileDisabled } from "./dom.js";

const POLLS = 4;

// ``openUrl`` opens a flag in FME (Forge's router.open: a Custom UI frame cannot navigate).
export function mountIssuePanel(root, { issueKey, api, openUrl = null, wait = (ms) => new Promise((r) => setTimeout(r, ms)) }) {
  const flagsUrl = `/issues/${encodeURIComponent(issueKey)}/flags`;
  const error = el("p", { className: "error", hidden: true, role: "alert" });
  const list = el("ul", { className: "flags" });
  const empty = el("p", { className: "muted", hidden: true, textContent: "No feature flags are connected to this issue." });
  const search = el("input", { type: "search", placeholder: "Search flags", ariaLabel: "Search flags" });
  const results = el("ul", { className: "results" });
  const form = el("form", { className: "connect", hidden: true }, search, el("button", { type: "submit", textContent: "Search" }));
  root.replaceChildren(error, list, empty, form, results);
  const fail = (err) => show(error, err.message);

  function flagItem(flag) {
    const name = flag.url
      ? el("a", { href: flag.url, target: "_blank", rel: "noopener", textContent: flag.name })
      : el("strong", { textContent: flag.name });
    if (flag.url && openUrl) {
      name.addEventListener("click", (event) => {
        event.preventDefault();
        openUrl(flag.url);
      });
    }
    const status = el("span", { className: `lozenge lozenge-${flag.status.state}`, textContent: flag.status.label });
    const where = [flag.workspaceName, flag.environment].filter(Boolean).join(" · ");
    const changed = flag.lastChangedAt ? el("span", { className: "muted" }, "Changed ", localTime(flag.lastChangedAt)) : null;
    const disconnect = el("button", { type: "button", className: "subtle", textContent: "Disconnect" });
    disconnect.setAttribute("aria-label", `Disconnect ${flag.name}`);
    disconnect.addEventListener("click", () => act(disconnect, async () => {
      await api("DELETE", `${flagsUrl}/${encodeURIComponent(flag.workspaceId)}/${encodeURIComponent(flag.name)}`);
      await load();
    }));
    const item = el(
      "li",
      { className: "flag" },
      el("div", {}, name, " ", status),
      where ? el("div", { className: "muted", textContent: where }) : null,
      flag.status.rollout ? el("div", { textContent: flag.status.rollout }) : null,
      changed,
      disconnect,
    );
    item.dataset.key = `${flag.workspaceId}/${flag.name}`;
    return item;
  }

  const act = (button, action) => whileDisabled(button, action, error);

  async function load(polls = 0) {
    const data = await api("GET", flagsUrl);
    list.replaceChildren(...data.flags.map(flagItem));
    empty.hidden = data.flags.length > 0 || !data.configured;
    form.hidden = !data.configured;
    if (!data.configured) show(error, "FME is not connected to this Jira site yet: a Jira administrator can connect it on the app's configuration page.");
    if (data.refreshing && polls < POLLS) {
      await wait(2000 * 2 ** polls);
      return load(polls + 1);
    }
    return data;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    act(button, async () => {
      const data = await api("GET", `/flags?q=${encodeURIComponent(search.value.trim())}`);
      const connected = new Set([...list.querySelectorAll(".flag")].map((item) => item.dataset.key));
      results.replaceChildren(
        ...data.flags.map((flag) => {
          const connect = el("button", { type: "button", textContent: "Connect" });
          connect.setAttribute("aria-label", `Connect ${flag.name}`);
          connect.addEventListener("click", () => act(connect, async () => {
            await api("POST", flagsUrl, { workspaceId: flag.workspaceId, flagName: flag.name });
            results.replaceChildren();
            await load();
          }));
          return el("li", {}, el("span", { textContent: `${flag.name} (${flag.workspaceName ?? flag.workspaceId})` }), " ", connected.has(`${flag.workspaceId}/${flag.name}`) ? null : connect);
        }),
      );
      if (!data.flags.length) results.replaceChildren(el("li", { className: "muted", textContent: "No flag matches." }));
    });
  });

  return load().catch(fail);
}
