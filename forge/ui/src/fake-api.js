// A stand-in for the service's JSON API in the UI tests: answers by "METHOD path", records calls.
import { RemoteError } from "./remote.js";

export function fakeApi(routes) {
  const calls = [];
  async function api(method, path, body) {
    calls.push({ method, path, body });
    const answer = routes[`${method} ${path}`];
    if (answer === undefined) throw new RemoteError(`no route ${method} ${path}`, { status: 404 });
    const value = typeof answer === "function" ? answer(body, calls) : answer;
    if (value instanceof RemoteError) throw value;
    return value;
  }
  return { api, calls };
}

export const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
