// Calls to the service's Jira-side JSON API (/jira/api/...) through Forge: @forge/bridge's
// invokeRemote (which the entry modules pass in) sends them with a Forge invocation token,
// which the service verifies (fmejira/forge/).

export class RemoteError extends Error {
  constructor(message, { code = null, status = 0 } = {}) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

function parsed(body) {
  if (typeof body !== "string") return body ?? null;
  try {
    return JSON.parse(body);
  } catch {
    return null;
  }
}

export const remoteApi = (invoke) => (method, path, body) => call(invoke, method, path, body);

async function call(invoke, method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await invoke({ path: `/jira/api${path}`, method, headers, body });
  } catch (err) {
    throw new RemoteError("The app could not be reached. Try again in a moment.", { code: "unreachable" });
  }
  const data = response.status === 204 ? null : parsed(response.body);
  if (response.status >= 200 && response.status < 300) return data;
  const error = data?.error;
  throw new RemoteError(error?.message || `The app answered ${response.status}.`, { code: error?.code ?? null, status: response.status });
}
