// Runs the shipped event handler (dist/outlook/launchevent.js, as built) in a fresh
// JavaScript realm under the Office.js host double, shaped like one of Outlook's runtimes:
// "javascript-only" (classic Outlook on Windows: no localStorage, no TextEncoder, and here
// also no WebAssembly or AbortController, the worst case) or "browser" (localStorage).

import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { OfficeMockObject } from "office-addin-mock";
import { OfficeApp } from "office-addin-manifest";

const here = path.dirname(fileURLToPath(import.meta.url));
export const outlookDir = path.resolve(here, "../..");
export const root = path.resolve(outlookDir, "../..");
export const dist = path.join(root, "dist/outlook");
export const handlerFile = path.join(dist, "launchevent.js");
const hostDouble = fs.readFileSync(path.join(here, "office-host-double.js"), "utf8");
// The tests read the builds, never make them (files run in parallel): `npm test` builds first.
for (const file of [handlerFile, path.join(root, "target/outlook-test/harness.html")]) {
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run node build.mjs && node build.mjs --test (npm test does)`);
}
const handlerCode = () => fs.readFileSync(handlerFile, "utf8");

class MemoryStorage {
  constructor() {
    this.map = new Map();
  }
  getItem(key) {
    return this.map.has(key) ? this.map.get(key) : null;
  }
  setItem(key, value) {
    this.map.set(key, String(value));
  }
  removeItem(key) {
    this.map.delete(key);
  }
}

let compiled = null;

export function loadHandler({ runtime = "browser", draft, roaming = {}, displayLanguage = "en-US", mailboxVersion = "1.15", withoutWebAssembly = runtime === "javascript-only" } = {}) {
  const sandbox = { console, setTimeout, clearTimeout, fetch };
  if (runtime === "browser") {
    sandbox.localStorage = new MemoryStorage();
    sandbox.AbortController = AbortController;
    sandbox.URL = URL;
  } else {
    sandbox.URL = URL;
  }
  const context = vm.createContext(sandbox);
  if (withoutWebAssembly) vm.runInContext("delete globalThis.WebAssembly;", context);
  vm.runInContext(hostDouble, context);
  const host = context.createOfficeHost({ draft, roaming, displayLanguage, mailboxVersion });
  // The object tree through office-addin-mock, as its documentation has it for Outlook.
  context.Office = new OfficeMockObject(host.Office, OfficeApp.Outlook);
  compiled ??= new vm.Script(handlerCode(), { filename: "launchevent.js" });
  compiled.runInContext(context);
  // Results cross from the handler's realm: compare them as plain data.
  const fire = host.fire;
  host.fire = (name, fields) => fire(name, fields).then((value) => JSON.parse(JSON.stringify(value)));
  host.context = context;
  host.engine = () => vm.runInContext("leakwatch.engine", context);
  host.localStorage = sandbox.localStorage;
  return host;
}

/** `leakwatch check` of the native build. */
export function nativeCheck(draft, lang) {
  const bin = process.env.LEAKWATCH_BIN || path.join(root, "target/debug/leakwatch");
  const out = spawnSync(bin, ["check", "--lang", lang], { input: JSON.stringify(draft), encoding: "utf8" });
  if (out.status !== 0) throw new Error(`leakwatch check failed: ${out.stderr}`);
  return JSON.parse(out.stdout);
}

const scenarioDir = path.join(root, "crates/core/tests/scenarios");
export const readScenarioJson = (file) => JSON.parse(fs.readFileSync(path.join(scenarioDir, file), "utf8"));
