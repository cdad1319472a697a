// The manifest templates: rendering and its input checks, the unified manifest against
// Microsoft's schema (offline, office-addin-manifest), and the XML manifest's structure, ids
// and URLs against the files the build put in dist/outlook.

import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseStringPromise } from "xml2js";
import { validateManifest } from "office-addin-manifest";
import { render } from "../manifest/render.mjs";
import { ICONS } from "../icons.mjs";
import { dist, outlookDir } from "./support/load.mjs";

const template = (name) => fs.readFileSync(path.join(outlookDir, "manifest", name), "utf8");
const HANDLERS = ["onNewMessageComposeHandler", "onMessageRecipientsChangedHandler", "onMessageAttachmentsChangedHandler", "onMessageSendHandler"];
const BASE = "https://leakwatch.example.nl";

test("render checks its inputs", () => {
  const xml = template("manifest.xml.tmpl");
  for (const baseUrl of ["http://leakwatch.example.nl", "ftp://x.nl", "not a url", "https://u:p@x.nl", "https://x.nl/?a=1", "https://x.nl/?", "https://x.nl/#"]) {
    assert.throws(() => render(xml, { baseUrl, sendMode: "softBlock" }), /baseUrl/, baseUrl);
  }
  for (const sendMode of ["block", "PromptUser", "", undefined]) {
    assert.throws(() => render(xml, { baseUrl: BASE, sendMode }), /sendMode/, String(sendMode));
  }
  assert.doesNotThrow(() => render(xml, { baseUrl: "http://127.0.0.1:8080", sendMode: "promptUser" }));
  assert.doesNotThrow(() => render(xml, { baseUrl: "http://localhost:3000/", sendMode: "softBlock" }));
  const hostile = render("{{base_url}}", { baseUrl: 'https://x.nl/"><x', sendMode: "softBlock" });
  assert.equal(hostile, "https://x.nl/%22%3E%3Cx", "markup in a URL arrives percent-encoded");
  assert.throws(() => render("{{other}}", { baseUrl: BASE, sendMode: "softBlock" }), /unknown placeholder/);
});

test("a path prefix is kept and the trailing slash dropped", () => {
  const out = render(template("manifest.xml.tmpl"), { baseUrl: "https://proxy.example.nl/leakwatch/", sendMode: "softBlock" });
  assert.ok(out.includes("https://proxy.example.nl/leakwatch/addin/outlook/launchevent.js"));
  assert.ok(!out.includes("leakwatch//addin"));
});

test("the templates use only the documented placeholders", () => {
  for (const name of ["manifest.xml.tmpl", "manifest.json.tmpl"]) {
    const used = new Set(template(name).match(/\{\{\w+\}\}/g));
    for (const placeholder of used) assert.ok(["{{base_url}}", "{{base_host}}", "{{send_mode}}", "{{send_mode_xml}}"].includes(placeholder), placeholder);
  }
});

for (const sendMode of ["promptUser", "softBlock"]) {
  test(`the unified manifest validates against the schema offline (${sendMode})`, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "leakwatch-manifest-"));
    const file = path.join(dir, "manifest.json");
    fs.writeFileSync(file, render(template("manifest.json.tmpl"), { baseUrl: BASE, sendMode }));
    const result = await validateManifest(file);
    assert.equal(result.isValid, true, JSON.stringify(result.report?.errors, null, 1));
    const manifest = JSON.parse(fs.readFileSync(file, "utf8"));
    const events = manifest.extensions[0].autoRunEvents[0].events;
    assert.equal(events.find((e) => e.type === "messageSending").options.sendMode, sendMode);
    fs.rmSync(dir, { recursive: true });
  });
}

test("the schema check can fail: a wrong send mode is refused", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "leakwatch-manifest-"));
  const file = path.join(dir, "manifest.json");
  fs.writeFileSync(file, template("manifest.json.tmpl").split("{{base_url}}").join(BASE).split("{{base_host}}").join("leakwatch.example.nl").split("{{send_mode}}").join("sometimes"));
  const refused = await validateManifest(file).then((result) => !result.isValid, () => true);
  assert.equal(refused, true);
  fs.rmSync(dir, { recursive: true });
});

/** Every URL of a rendered manifest under base/addin/outlook/, as a dist/outlook file. */
function servedFiles(text, base) {
  const prefix = `${base}/addin/outlook/`;
  const urls = text.match(/https?:\/\/[^"<\s]+/g).filter((u) => u.startsWith(prefix));
  return [...new Set(urls.map((u) => u.slice(prefix.length)))];
}

test("the XML manifest: well-formed, Mailbox 1.12, the four launch events, AppendOnSend, the classic-Windows override", async () => {
  const xml = render(template("manifest.xml.tmpl"), { baseUrl: BASE, sendMode: "softBlock" });
  const doc = await parseStringPromise(xml);
  const app = doc.OfficeApp;
  assert.equal(app.$["xsi:type"], "MailApp");
  const json = JSON.parse(render(template("manifest.json.tmpl"), { baseUrl: BASE, sendMode: "softBlock" }));
  assert.equal(app.Id[0], json.id, "one add-in id in both manifests");
  const inner = app.VersionOverrides[0].VersionOverrides[0];
  assert.equal(inner.$["xsi:type"], "VersionOverridesV1_1");
  assert.equal(inner.Requirements[0]["bt:Sets"][0].$.DefaultMinVersion, "1.12");
  assert.deepEqual(inner.ExtendedPermissions[0].ExtendedPermission, ["AppendOnSend"]);
  const hostEl = inner.Hosts[0].Host[0];
  const runtime = hostEl.Runtimes[0].Runtime[0];
  assert.equal(runtime.$.resid, "WebViewRuntime.Url");
  assert.deepEqual(runtime.Override[0].$, { type: "javascript", resid: "JSRuntime.Url" });
  const points = hostEl.DesktopFormFactor[0].ExtensionPoint;
  const launch = points.find((p) => p.$["xsi:type"] === "LaunchEvent");
  const events = launch.LaunchEvents[0].LaunchEvent.map((e) => e.$);
  assert.deepEqual(events.map((e) => e.Type), ["OnNewMessageCompose", "OnMessageRecipientsChanged", "OnMessageAttachmentsChanged", "OnMessageSend"]);
  assert.deepEqual(events.map((e) => e.FunctionName), HANDLERS);
  assert.equal(events[3].SendMode, "SoftBlock");
  // Resource ids: every resid used is defined, and the task pane button is the Smart Alert's commandId.
  const resources = inner.Resources[0];
  const defined = new Set([
    ...resources["bt:Images"][0]["bt:Image"], ...resources["bt:Urls"][0]["bt:Url"],
    ...resources["bt:ShortStrings"][0]["bt:String"], ...resources["bt:LongStrings"][0]["bt:String"],
  ].map((r) => r.$.id));
  for (const resid of xml.match(/resid="[^"]+"/g).map((r) => r.slice(7, -1))) assert.ok(defined.has(resid), resid);
  const control = points.find((p) => p.$["xsi:type"] === "MessageComposeCommandSurface").OfficeTab[0].Group[0].Control[0];
  assert.equal(control.$.id, "leakwatchOpenPane");
  const jsonControl = json.extensions[0].ribbons[0].tabs[0].groups[0].controls[0];
  assert.equal(jsonControl.id, control.$.id, "the same commandId in both manifests");
  assert.deepEqual(json.extensions[0].runtimes[0].actions.map((a) => a.id), HANDLERS, "the same handler names in both manifests");
});

test("every URL in both rendered manifests is a file the build produced", () => {
  for (const name of ["manifest.xml.tmpl", "manifest.json.tmpl"]) {
    const files = servedFiles(render(template(name), { baseUrl: BASE, sendMode: "promptUser" }), BASE);
    assert.ok(files.includes("launchevent.js") && files.includes("taskpane.html"), name);
    for (const file of files) assert.ok(fs.existsSync(path.join(dist, file)), `${name}: ${file} is in dist/outlook`);
  }
  const json = JSON.parse(render(template("manifest.json.tmpl"), { baseUrl: BASE, sendMode: "promptUser" }));
  for (const icon of Object.values(json.icons)) {
    assert.ok(fs.existsSync(path.join(dist, icon)), icon);
    assert.ok(fs.existsSync(path.join(dist, "example", icon)), `example/${icon}, for the app package`);
  }
});

test("the icons are PNGs of the sizes their names say", () => {
  for (const [name, [size]] of Object.entries(ICONS)) {
    const png = fs.readFileSync(path.join(dist, name));
    assert.equal(png.subarray(1, 4).toString(), "PNG", name);
    assert.equal(png.readUInt32BE(16), size, name);
    assert.equal(png.readUInt32BE(20), size, name);
  }
});

test("the example manifests in dist are the templates rendered for http://127.0.0.1:8080", () => {
  for (const name of ["manifest.xml", "manifest.json"]) {
    const expected = render(template(`${name}.tmpl`), { baseUrl: "http://127.0.0.1:8080", sendMode: "softBlock" });
    assert.equal(fs.readFileSync(path.join(dist, "example", name), "utf8"), expected);
    assert.equal(fs.readFileSync(path.join(dist, "manifest-templates", `${name}.tmpl`), "utf8"), template(`${name}.tmpl`));
  }
});
