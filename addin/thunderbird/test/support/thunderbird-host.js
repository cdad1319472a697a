// A host double for the WebExtension API the add-on's pages use (`browser`, alias
// `messenger`), for rendering the pages in headless Chromium (test/pages.test.mjs): an
// in-memory storage.local with onChanged, the UI language, the manifest, and
// runtime.sendMessage answered from canned answers per message type (what the background
// page would answer), with every message recorded. Test-only: it lives in this folder and
// never in the package (build.mjs copies only the add-on's own folders).
//
// One plain script: Chromium runs it before the page's modules (addInitScript); Node's test
// runner also runs every file under test/ and finds nothing to do.
(function (global) {
  function clone(value) {
    return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
  }

  function createThunderbirdHost(options) {
    options = options || {};
    var data = clone(options.storage) || {};
    var answers = clone(options.answers) || {};
    var listeners = [];
    var sent = [];
    var opened = [];

    var local = {
      get: function (keys) {
        var out = {};
        var list = keys === null || keys === undefined ? Object.keys(data) : [].concat(typeof keys === "object" && !Array.isArray(keys) ? Object.keys(keys) : keys);
        list.forEach(function (key) {
          if (key in data) out[key] = clone(data[key]);
          else if (keys && typeof keys === "object" && !Array.isArray(keys)) out[key] = clone(keys[key]);
        });
        return Promise.resolve(out);
      },
      set: function (values) {
        var changes = {};
        Object.keys(values).forEach(function (key) {
          changes[key] = { oldValue: clone(data[key]), newValue: clone(values[key]) };
          data[key] = clone(values[key]);
        });
        listeners.forEach(function (fn) { fn(changes, "local"); });
        return Promise.resolve();
      },
      remove: function (keys) {
        var changes = {};
        [].concat(keys).forEach(function (key) {
          changes[key] = { oldValue: clone(data[key]) };
          delete data[key];
        });
        listeners.forEach(function (fn) { fn(changes, "local"); });
        return Promise.resolve();
      },
    };

    var browser = {
      storage: { local: local, onChanged: { addListener: function (fn) { listeners.push(fn); } } },
      i18n: { getUILanguage: function () { return options.uiLanguage || "en-US"; } },
      runtime: {
        getManifest: function () { return clone(options.manifest) || { host_permissions: [] }; },
        getURL: function (path) { return new URL("../" + path, location.href).href; },
        openOptionsPage: function () { opened.push("options"); return Promise.resolve(); },
        sendMessage: function (message) {
          sent.push(clone(message));
          if (message.type === "setLang" && answers.status) answers.status.settings.lang = message.lang;
          var answer = answers[message.type];
          return new Promise(function (resolve) { setTimeout(function () { resolve(clone(answer)); }, 0); });
        },
      },
      tabs: { create: function (what) { opened.push(what.url); return Promise.resolve({ id: 1 }); } },
      permissions: { request: function () { return Promise.resolve(true); } },
    };
    return { browser: browser, sent: sent, opened: opened, storage: data };
  }

  global.createThunderbirdHost = createThunderbirdHost;
})(typeof window !== "undefined" ? window : globalThis);
