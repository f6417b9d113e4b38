import { beforeEach, describe, expect, it } from "vitest";
import { fakeApi, settle } from "./fake-api.js";
import { mountIssuePanel } from "./issue-panel.js";
import { RemoteError } from "./remote.js";

const FLAG = {
  workspaceId: "ws-checkout",
  workspaceName: "Checkout",
  name: "new-checkout",
  environment: "Production",
  status: { state: "on", label: "On", rollout: "50% on, 50% off", defaultTreatment: "on" },
  lastChangedAt: "2026-11-30T10:00:00+00:00",
  readAt: "2026-12-01T10:00:00+00:00",
  url: "https://app.split.io/org/o/ws/ws-checkout/splits/new-checkout",
};
const FLAGS_URL = "/issues/ABC-1/flags";

let root;
beforeEach(() => {
  root = document.createElement("main");
  document.body.replaceChildren(root);
});

const button = (label) => root.querySelector(`button[aria-label="${label}"]`);

describe("the issue panel", () => {
  it("shows each flag's state, rollout, project and link", async () => {
    const { api } = fakeApi({ [`GET ${FLAGS_URL}`]: { configured: true, refreshing: false, flags: [FLAG] } });
    await mountIssuePanel(root, { issueKey: "ABC-1", api });
    const item = root.querySelector(".flag");
    expect(item.querySelector("a").href).toBe(FLAG.url);
    expect(item.querySelector("a").textContent).toBe("new-checkout");
    expect(item.querySelector(".lozenge-on").textContent).toBe("On");
    expect(item.textContent).toContain("50% on, 50% off");
    expect(item.textContent).toContain("Checkout · Production");
    expect(item.querySelector("time").dateTime).toBe(FLAG.lastChangedAt);
  });

  it("opens a flag in FME through Forge's router", async () => {
    const { api } = fakeApi({ [`GET ${FLAGS_URL}`]: { configured: true, refreshing: false, flags: [FLAG] } });
    const opened = [];
    await mountIssuePanel(root, { issueKey: "ABC-1", api, openUrl: (url) => opened.push(url) });
    root.querySelector(".flag a").click();
    expect(opened).toEqual([FLAG.url]);
  });

  it("puts the service's text in as text, never as markup", async () => {
    const evil = { ...FLAG, name: "<img src=x onerror=alert(1)>" };
    const { api } = fakeApi({ [`GET ${FLAGS_URL}`]: { configured: true, refreshing: false, flags: [evil] } });
    await mountIssuePanel(root, { issueKey: "ABC-1", api });
    expect(root.querySelector("img")).toBeNull();
    expect(root.querySelector(".flag a").textContent).toBe(evil.name);
  });

  it("searches, connects a flag and shows it", async () => {
    let connected = false;
    const { api, calls } = fakeApi({
      [`GET ${FLAGS_URL}`]: () => ({ configured: true, refreshing: false, flags: connected ? [FLAG] : [] }),
      "GET /flags?q=new": { flags: [FLAG] },
      [`POST ${FLAGS_URL}`]: () => { connected = true; return FLAG; },
    });
    await mountIssuePanel(root, { issueKey: "ABC-1", api });
    expect(root.querySelector(".muted").textContent).toContain("No feature flags");
    root.querySelector("input[type=search]").value = " new ";
    root.querySelector("form").dispatchEvent(new Event("submit"));
    await settle();
    button("Connect new-checkout").click();
    await settle();
    await settle();
    expect(calls.find((c) => c.method === "POST")).toEqual({ method: "POST", path: FLAGS_URL, body: { workspaceId: "ws-checkout", flagName: "new-checkout" } });
    expect(root.querySelectorAll(".flag")).toHaveLength(1);
  });

  it("disconnects a flag by its project and name", async () => {
    let flags = [FLAG];
    const { api, calls } = fakeApi({
      [`GET ${FLAGS_URL}`]: () => ({ configured: true, refreshing: false, flags }),
      [`DELETE ${FLAGS_URL}/ws-checkout/new-checkout`]: () => { flags = []; return null; },
    });
    await mountIssuePanel(root, { issueKey: "ABC-1", api });
    button("Disconnect new-checkout").click();
    await settle();
    await settle();
    expect(calls.map((c) => c.method)).toEqual(["GET", "DELETE", "GET"]);
    expect(root.querySelectorAll(".flag")).toHaveLength(0);
  });

  it("says so when FME is not connected, and offers no search", async () => {
    const { api } = fakeApi({ [`GET ${FLAGS_URL}`]: { configured: false, refreshing: false, flags: [] } });
    await mountIssuePanel(root, { issueKey: "ABC-1", api });
    expect(root.querySelector(".error").textContent).toContain("not connected");
    expect(root.querySelector("form").hidden).toBe(true);
  });

  it("asks again while the service re-reads stale flags, a bounded number of times", async () => {
    const { api, calls } = fakeApi({ [`GET ${FLAGS_URL}`]: { configured: true, refreshing: true, flags: [FLAG] } });
    const waits = [];
    await mountIssuePanel(root, { issueKey: "ABC-1", api, wait: async (ms) => { waits.push(ms); } });
    expect(waits).toEqual([2000, 4000, 8000, 16000]);
    expect(calls).toHaveLength(5);
  });

  it("shows the service's error message", async () => {
    const { api } = fakeApi({ [`GET ${FLAGS_URL}`]: new RemoteError("This page's token was issued for another issue.", { status: 403 }) });
    await mountIssuePanel(root, { issueKey: "ABC-1", api });
    const error = root.querySelector(".error");
    expect(error.hidden).toBe(false);
    expect(error.textContent).toBe("This page's token was issued for another issue.");
  });
});
