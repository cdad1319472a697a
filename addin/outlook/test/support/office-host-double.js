// An Office.js host double for the event handler and the task pane: a compose item with the
// asynchronous methods Outlook has (callbacks with {status, value, error}), roaming settings,
// session data and Office.actions.associate. One plain script for Node (vm) and Chromium.
//
// Why our own: office-addin-mock gives an object tree from data but has no Outlook methods
// (no getAsync callbacks, no appendOnSendAsync, no sessionData, no actions.associate), so
// the behaviour comes from here; the Node tests wrap this tree in an OfficeMockObject.
//
// appendOnSendAsync follows the documentation: data over 5,000 characters fails with
// DataExceedsMaximumSize, HTML into a plain-text body fails with InvalidFormatError, null
// clears what an earlier call appended, and only the content of the last call is kept.
(function (global) {
  function ok(callback, value) {
    setTimeout(function () { callback({ status: "succeeded", value: value }); }, 0);
  }
  function fail(callback, name, message) {
    setTimeout(function () { callback({ status: "failed", error: { name: name, code: 9000, message: message } }); }, 0);
  }
  function lastCallback(args) {
    return args[args.length - 1];
  }

  function createOfficeHost(options) {
    options = options || {};
    var draft = options.draft || {};
    var roaming = options.roaming || {};
    var handlers = {};
    var session = {};
    var appended = { data: null, coercionType: null, calls: [] };
    var notifications = [];
    var mailboxVersion = options.mailboxVersion || "1.15";
    var bodyType = draft.bodyType || "html";
    // Read at call time, so a test can change the draft between events.
    function recipients(field) {
      return {
        getAsync: function () {
          ok(lastCallback(arguments), (draft[field] || []).map(function (r) {
            return typeof r === "string" ? { emailAddress: r, displayName: r } : { emailAddress: r.address, displayName: r.name || r.address };
          }));
        },
      };
    }
    var item = {
      itemType: "message",
      from: { getAsync: function () { ok(lastCallback(arguments), { emailAddress: draft.from || "", displayName: draft.fromName || "" }); } },
      to: recipients("to"),
      cc: recipients("cc"),
      bcc: recipients("bcc"),
      subject: { getAsync: function () { ok(lastCallback(arguments), draft.subject || ""); } },
      body: {
        // An HTML body is held as HTML (draft.html, or the text in paragraphs). A text read of
        // an HTML body with a table, list or link answers "", as Outlook on the web may.
        getAsync: function (coercion) {
          var cb = lastCallback(arguments);
          var html = draft.html || "<html><body>" + String(draft.body || "").split("\n").map(function (l) { return "<p>" + l.replace(/&/g, "&amp;").replace(/</g, "&lt;") + "</p>"; }).join("") + "</body></html>";
          if (coercion === "html") return ok(cb, bodyType === "html" ? html : String(draft.body || ""));
          if (bodyType === "html" && /<(table|ul|ol|a)\b/i.test(html)) return ok(cb, "");
          ok(cb, bodyType === "html" ? String(draft.body || draft.html.replace(/<[^>]*>/g, "")) : String(draft.body || ""));
        },
        getTypeAsync: function () { ok(lastCallback(arguments), bodyType); },
        appendOnSendAsync: function (data, opts) {
          var cb = lastCallback(arguments);
          var coercion = (opts && opts.coercionType) || "text";
          appended.calls.push({ data: data, coercionType: coercion });
          if (data !== null && String(data).length > 5000) return fail(cb, "DataExceedsMaximumSize", "The data exceeds 5,000 characters.");
          if (data !== null && coercion === "html" && bodyType === "text") return fail(cb, "InvalidFormatError", "HTML into a plain-text body.");
          if (options.inSend) return ok(cb); // ignored while OnMessageSend runs, as documented
          appended.data = data;
          appended.coercionType = data === null ? null : coercion;
          ok(cb);
        },
      },
      getAttachmentsAsync: function () {
        ok(lastCallback(arguments), (draft.attachments || []).map(function (a, i) { return { id: "att" + i, name: a.name, size: a.size, isInline: false, attachmentType: "file" }; }));
      },
      sessionData: {
        getAsync: function (key) {
          var cb = lastCallback(arguments);
          if (Object.prototype.hasOwnProperty.call(session, key)) ok(cb, session[key]);
          else fail(cb, "KeyNotFound", "no such key");
        },
        setAsync: function (key, value) { session[key] = value; ok(lastCallback(arguments)); },
      },
      notificationMessages: {
        replaceAsync: function (key, details) { notifications.push({ key: key, details: details }); ok(lastCallback(arguments)); },
      },
      addHandlerAsync: function () { ok(lastCallback(arguments)); },
    };
    var Office = {
      context: {
        displayLanguage: options.displayLanguage || "en-US",
        requirements: {
          isSetSupported: function (name, version) {
            if (name === "NestedAppAuth") return Boolean(options.nestedAppAuth);
            if (name !== "Mailbox") return false;
            return Number(String(version).split(".")[1]) <= Number(mailboxVersion.split(".")[1]);
          },
        },
        roamingSettings: {
          get: function (key) { return roaming[key]; },
          set: function (key, value) { roaming[key] = JSON.parse(JSON.stringify(value)); },
          remove: function (key) { delete roaming[key]; },
          saveAsync: function (cb) { if (cb) ok(cb); },
        },
        mailbox: { item: item },
      },
      actions: { associate: function (name, fn) { handlers[name] = fn; } },
      EventType: { RecipientsChanged: "olkRecipientsChanged", AttachmentsChanged: "olkAttachmentsChanged" },
      AsyncResultStatus: { Succeeded: "succeeded", Failed: "failed" },
      onReady: function (cb) { var p = Promise.resolve({ host: "Outlook" }); if (cb) p.then(cb); return p; },
    };
    return {
      Office: Office,
      handlers: handlers,
      appended: appended,
      session: session,
      roaming: roaming,
      notifications: notifications,
      setRecipients: function (field, list) { draft[field] = list; },
      setAttachments: function (list) { draft.attachments = list; },
      setInSend: function (value) { options.inSend = value; },
      /** Runs a handler like Outlook does and resolves with what it passed to event.completed. */
      fire: function (name, eventFields) {
        return new Promise(function (resolve, reject) {
          var fn = handlers[name];
          if (!fn) return reject(new Error("no handler " + name));
          var event = { type: name, completed: function (opts) { resolve(opts === undefined ? {} : opts); } };
          for (var key in eventFields || {}) event[key] = eventFields[key];
          fn(event);
        });
      },
    };
  }
  global.createOfficeHost = createOfficeHost;
})(typeof globalThis !== "undefined" ? globalThis : this);
