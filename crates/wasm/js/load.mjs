// Loads the built package three ways, for tests and benchmarks: the native command line,
// the wasm-bindgen web package, and the classic-Outlook fallback script (in a fresh
// JavaScript realm, with or without WebAssembly).

import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import { spawnSync } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, "../../..");
export const dist = path.join(root, "dist/wasm");

export async function loadWeb() {
  const glue = await import(pathToFileURL(path.join(dist, "web/leakwatch_wasm.js")).href);
  glue.initSync({ module: fs.readFileSync(path.join(dist, "web/leakwatch_wasm_bg.wasm")) });
  return glue;
}

/** Runs the fallback script in a new realm; `withoutWebAssembly` removes WebAssembly first. */
export function loadFallback({ withoutWebAssembly, withDetached = false }) {
  const context = vm.createContext({ console });
  if (withoutWebAssembly) vm.runInContext("delete globalThis.WebAssembly;", context);
  // Chromium (and Node 22) have ArrayBuffer.prototype.detached, Node 20 has not; the glue
  // takes another path where it exists.
  if (withDetached && !("detached" in ArrayBuffer.prototype)) {
    vm.runInContext(
      "Object.defineProperty(ArrayBuffer.prototype, 'detached', { configurable: true, get() { try { new Uint8Array(this); return false; } catch { return true; } } });",
      context,
    );
  }
  // The classic Outlook runtime has neither; the polyfill must carry the glue.
  vm.runInContext("delete globalThis.TextEncoder; delete globalThis.TextDecoder;", context);
  vm.runInContext(fs.readFileSync(path.join(dist, "leakwatch-fallback.js"), "utf8"), context, {
    filename: "leakwatch-fallback.js",
  });
  return vm.runInContext("leakwatchInit()", context);
}

/** `leakwatch check` of the native build. */
export function nativeCheck(draft, lang) {
  const bin = process.env.LEAKWATCH_BIN || path.join(root, "target/debug/leakwatch");
  const out = spawnSync(bin, ["check", "--lang", lang], { input: JSON.stringify(draft), encoding: "utf8" });
  if (out.status !== 0) throw new Error(`leakwatch check failed: ${out.stderr}`);
  return JSON.parse(out.stdout);
}

/** Plain data, comparable across realms. */
export const plain = (value) => JSON.parse(JSON.stringify(value));

const scenarios = path.join(root, "crates/core/tests/scenarios");
export const readJson = (file) => JSON.parse(fs.readFileSync(path.join(scenarios, file), "utf8"));

/** The sender profiles of the scenario table, by name (as crates/core/tests/scenarios.rs). */
export const PROFILES = ["accountant", "steuerberater", "hr-hospital", "consultancy"];
export const readProfiles = () => Object.fromEntries(PROFILES.map((name) => [name, readJson(`profile-${name}.json`)]));

/** The scenario's draft on top of its profile, as crates/core/tests/scenarios.rs does. */
export function fullDraft(scenario, profiles) {
  let draft;
  if (scenario.profile === "none") {
    draft = { ...profiles.accountant, history: [], contacts: [] };
  } else if (Object.hasOwn(profiles, scenario.profile)) {
    draft = { ...profiles[scenario.profile] };
  } else {
    throw new Error(`unknown profile ${scenario.profile}`);
  }
  Object.assign(draft, scenario.draft);
  if (scenario.policy) draft.policy = { ...draft.policy, ...scenario.policy };
  return draft;
}

/** A deterministic Sent folder of `count` messages and a 50-recipient draft. */
export function syntheticMailbox(count) {
  let seed = 7n;
  const next = (bound) => {
    seed = (seed * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    return Number(seed >> 33n) % bound;
  };
  const suffixes = ["nl", "com", "be", "de", "co.uk", "eu"];
  const org = (i) => `organisatie${i}-${["bouw", "zorg", "logistiek", "advies", "ict"][i % 5]}.${suffixes[i % suffixes.length]}`;
  const person = (o, n) => `Medewerker ${n} <voornaam${n}.achternaam${o}@${org(o)}>`;
  const history = [];
  for (let i = 0; i < count; i++) {
    const to = [];
    for (let k = 0, n = 1 + next(3); k < n; k++) {
      const o = next(4) === 0 ? next(400) : next(40);
      to.push(person(o, next(6)));
    }
    const cc = [];
    for (let k = 0, n = next(2); k < n; k++) cc.push(`collega${next(30)}@boekhoudpartners.nl`);
    history.push({ to, cc, subject: `Dossier ${i}`, sent_at: "2026-11-01T10:00:00Z" });
  }
  const to = [];
  for (let i = 0; i < 30; i++) to.push(person(i, i % 6));
  for (let i = 0; i < 5; i++) to.push(`nieuw${i}@${org(i)}`);
  for (let i = 0; i < 5; i++) to.push(`x${i}@${org(i).replace("organisatie", "organisatei")}`);
  for (let i = 0; i < 5; i++) to.push(`info@nieuwbedrijf${i}.nl`);
  for (let i = 0; i < 5; i++) to.push(`prive.persoon${i}@gmail.com`);
  const message = {
    from: "anna@boekhoudpartners.nl",
    to,
    subject: "Jaarrekening organisatie7-advies en planning",
    body: "Beste allen,\n\nBijgaand de stukken. IBAN NL91 ABNA 0417 1643 00.\n".repeat(20),
    attachments: [{ name: "Jaarrekening_Organisatie12-Zorg_2025.pdf", size: 1 }],
  };
  const policy = { internal_domains: ["boekhoudpartners.nl"] };
  return { policy, history, message };
}
