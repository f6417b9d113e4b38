// A stand-in for Atlassian's all.js in browser tests: records what a page asks of Jira.
// The test sets window.__fake = {customData, token} before the page loads.
"use strict";

window.AP = {
  calls: [],
  dialog: {
    create(options) {
      AP.calls.push(["dialog.create", options]);
      return {};
    },
    getCustomData(callback) {
      callback(window.__fake.customData);
    },
    close(data) {
      AP.calls.push(["dialog.close", data]);
    },
    disableCloseOnSubmit() {},
  },
  events: {
    on(name) {
      AP.calls.push(["events.on", name]);
    },
    once(name) {
      AP.calls.push(["events.once", name]);
    },
  },
  context: {
    getToken(callback) {
      AP.calls.push(["context.getToken"]);
      callback(window.__fake.token);
    },
  },
  resize() {},
};
