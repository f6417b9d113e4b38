import { describe, expect, it } from "vitest";
import { RemoteError, remoteApi } from "./remote.js";

const api = (method, path, body, invoke) => remoteApi(invoke)(method, path, body);

describe("calls through invokeRemote", () => {
  it("sends the JSON API's path, method and body", async () => {
    const sent = [];
    const invoke = async (request) => { sent.push(request); return { status: 201, body: { ok: true } }; };
    expect(await api("POST", "/issues/ABC-1/flags", { flagName: "f" }, invoke)).toEqual({ ok: true });
    expect(sent[0]).toMatchObject({ path: "/jira/api/issues/ABC-1/flags", method: "POST", body: { flagName: "f" } });
    expect(sent[0].headers["Content-Type"]).toBe("application/json");
  });

  it("reads a body that arrives as text", async () => {
    const invoke = async () => ({ status: 200, body: '{"flags":[]}' });
    expect(await api("GET", "/flags", undefined, invoke)).toEqual({ flags: [] });
  });

  it("turns the service's error into a RemoteError with its code and status", async () => {
    const invoke = async () => ({ status: 409, body: { error: { code: "links_would_be_removed", message: "Confirm." } } });
    const err = await api("PUT", "/configuration", {}, invoke).catch((e) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect([err.message, err.code, err.status]).toEqual(["Confirm.", "links_would_be_removed", 409]);
  });

  it("says the app could not be reached when Forge cannot call it", async () => {
    const invoke = async () => { throw new Error("timeout"); };
    const err = await api("GET", "/configuration", undefined, invoke).catch((e) => e);
    expect(err.code).toBe("unreachable");
  });

  it("answers 204 with nothing", async () => {
    expect(await api("DELETE", "/configuration", undefined, async () => ({ status: 204, body: "" }))).toBeNull();
  });
});
