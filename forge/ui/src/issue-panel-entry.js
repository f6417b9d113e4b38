import { invokeRemote, router, view } from "@forge/bridge";
import { mountIssuePanel } from "./issue-panel.js";
import { remoteApi } from "./remote.js";

view.getContext().then((context) => {
  mountIssuePanel(document.getElementById("app"), {
    issueKey: context.extension.issue.key,
    api: remoteApi(invokeRemote),
    openUrl: (url) => router.open(url),
  });
});
