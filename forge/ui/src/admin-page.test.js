import { beforeEach, describe, expect, it } from "vitest";
import { mountAdminPage } from "./admin-page.js";
import { fakeApi, settle } from "./fake-api.js";
import { RemoteError } from "./remote.js";

const UNCONFIGURED = { status: "unconfigured", checkedAt: null, lastError: null, projects: [], webhookUrl: null };
const CONFIGURED = {
  status: "authorized",
  checkedAt: "2026-12-01T10:00:00+00:00",
  lastError: null,
  projects: [{ workspaceId: "ws-checkout", workspaceName: "Checkout", primaryEnvironment: { id: "env-prod", name: "Production", production: true } }],
  webhookUrl: "https://fme-jira.example.com/webhooks/fme/abc",
};
const CHOICES = {
  projects: [
    { workspaceId: "ws-checkout", workspaceName: "Checkout", environments: [{ id: "env-stg", name: "Staging", production: false }, { id: "env-prod", name: "Production", production: true }] },
    { workspaceId: "ws-search", workspaceName: "Search", environments: [{ id: "env-s", name: "Prod", production: true }] },
  ],
};

let root;
beforeEach(() => {
  root = document.createElement("main");
  document.body.replaceChildren(root);
});
const buttonNamed = (text) => [...root.querySelectorAll("button")].find((b) => b.textContent === text);

describe("the admin page", () => {
  it("checks a pasted key, then saves the chosen projects with their primary environments", async () => {
    const { api, calls } = fakeApi({
      "GET /configuration": UNCONFIGURED,
      "POST /configuration/discover": CHOICES,
      "PUT /configuration": CONFIGURED,
    });
    await mountAdminPage(root, { api });
    expect(root.querySelector(".lozenge").textContent).toBe("Not configured");
    root.querySelector("#api-key").value = "  fme-admin-key  ";
    buttonNamed("Check key").click();
    await settle();
    expect(calls[1]).toEqual({ method: "POST", path: "/configuration/discover", body: { apiKey: "fme-admin-key" } });
    const checkout = root.querySelector("#project-ws-checkout");
    expect(checkout.closest("li").querySelector("select").value).toBe("env-prod"); // production first
    checkout.checked = true;
    buttonNamed("Save").click();
    await settle();
    expect(calls[2]).toEqual({
      method: "PUT",
      path: "/configuration",
      body: { confirm: false, apiKey: "fme-admin-key", projects: [{ workspaceId: "ws-checkout", primaryEnvironmentId: "env-prod" }] },
    });
    expect(root.querySelector(".lozenge").textContent).toBe("Authorized");
    expect(root.querySelector("#webhook-url").value).toBe(CONFIGURED.webhookUrl);
    expect(root.querySelector("#api-key").value).toBe("");
  });

  it("shows a configured site's projects as chosen", async () => {
    const { api } = fakeApi({ "GET /configuration": CONFIGURED, "POST /configuration/discover": CHOICES });
    await mountAdminPage(root, { api });
    expect(root.querySelector("#project-ws-checkout").checked).toBe(true);
    expect(root.querySelector("#project-ws-search").checked).toBe(false);
  });

  it("asks before a save removes links, and saves only when confirmed", async () => {
    const { api, calls } = fakeApi({
      "GET /configuration": CONFIGURED,
      "POST /configuration/discover": CHOICES,
      "PUT /configuration": (body) => (body.confirm ? CONFIGURED : new RemoteError("Saving removes 3 link(s).", { code: "links_would_be_removed", status: 409 })),
    });
    await mountAdminPage(root, { api });
    root.querySelector("#project-ws-checkout").checked = false;
    buttonNamed("Save").click();
    await settle();
    expect(root.querySelector("[role=alert]").textContent).toBe("Saving removes 3 link(s).");
    const confirm = buttonNamed("Save and remove links");
    expect(confirm.hidden).toBe(false);
    confirm.click();
    await settle();
    expect(calls.filter((c) => c.method === "PUT").map((c) => c.body.confirm)).toEqual([false, true]);
  });

  it("deletes only on a second click", async () => {
    const { api, calls } = fakeApi({ "GET /configuration": CONFIGURED, "POST /configuration/discover": CHOICES, "DELETE /configuration": null });
    await mountAdminPage(root, { api });
    buttonNamed("Delete configuration").click();
    await settle();
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);
    buttonNamed("Delete: every link of this site is removed").click();
    await settle();
    expect(calls.some((c) => c.method === "DELETE")).toBe(true);
    expect(root.querySelector(".lozenge").textContent).toBe("Not configured");
  });

  it("tells a person who is not an administrator why", async () => {
    const { api } = fakeApi({ "GET /configuration": new RemoteError("Only Jira administrators can change the FME configuration.", { status: 403 }) });
    await mountAdminPage(root, { api });
    expect(root.querySelector("[role=alert]").textContent).toContain("Only Jira administrators");
  });
});
