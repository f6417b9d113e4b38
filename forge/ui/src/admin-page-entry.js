import { invokeRemote } from "@forge/bridge";
import { mountAdminPage } from "./admin-page.js";
import { remoteApi } from "./remote.js";

mountAdminPage(document.getElementById("app"), { api: remoteApi(invokeRemote) });
