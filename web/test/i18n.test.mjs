// Every text in both languages, and no raw code on screen: each rule the core has, each audit
// action the server records and each checklist item the server answers has words in both.

import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");

async function load(entry) {
  const out = await esbuild.build({ entryPoints: [path.join(here, "..", entry)], bundle: true, format: "esm", platform: "neutral", write: false, logLevel: "silent" });
  return import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString("base64")}`);
}

const { TEXTS } = await load("src/i18n.ts");
const placeholders = (text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
const read = (file) => fs.readFileSync(path.join(root, file), "utf8");

test("Dutch and English have the same keys and placeholders, and Dutch is Dutch", () => {
  assert.deepEqual(Object.keys(TEXTS.nl).sort(), Object.keys(TEXTS.en).sort());
  // Names that are the same in both languages.
  const same = new Set(["product", "status", "incidentTitle", "target_incident", "class_apple_privacy", "testResultWebhook"]);
  for (const [key, en] of Object.entries(TEXTS.en)) {
    assert.deepEqual(placeholders(TEXTS.nl[key]), placeholders(en), `placeholders of ${key}`);
    if (!same.has(key)) assert.notEqual(TEXTS.nl[key], en, `${key} is not translated`);
  }
});

test("Dutch addresses the reader as u, never je or jij", () => {
  for (const [key, text] of Object.entries(TEXTS.nl)) {
    assert.doesNotMatch(text, /\b(je|jij|jou|jouw|jullie)\b/i, key);
  }
});

test("every rule of the core has a name", () => {
  const rules = fs.readdirSync(path.join(root, "crates/core/src/rules"))
    .map((file) => read(`crates/core/src/rules/${file}`).match(/^\s*id: "([a-z-]+)",/m)?.[1])
    .filter(Boolean);
  assert.ok(rules.length >= 9, `rules found: ${rules}`);
  const policyPage = read("web/src/pages/policy.ts");
  for (const rule of rules) {
    assert.ok(TEXTS.en[`rule_${rule.replace(/-/g, "_")}`], `rule_${rule}`);
    assert.ok(policyPage.includes(`"${rule}"`), `${rule} is in the policy page's list`);
  }
});

test("every audit action and checklist item of the server has words", () => {
  const actions = [...read("crates/server/src/kit/audit.rs").matchAll(/Action::\w+ => "([a-z_]+)"/g)].map((m) => m[1]);
  assert.ok(actions.length >= 10);
  for (const action of actions) assert.ok(TEXTS.en[`audit_${action}`], `audit_${action}`);
  const items = [...read("crates/server/src/checklist/mod.rs").matchAll(/\(\s*"([a-z_]+)",/g)].map((m) => m[1]);
  assert.deepEqual(items.sort(), ["controller_contact", "dpo", "https", "mail_relay", "organization"]);
  for (const item of items) assert.ok(TEXTS.en[`check_${item}`], `check_${item}`);
  const problems = read("crates/server/src/alerts/test_send.rs").match(/pub enum Problem \{([^}]*)\}/)[1]
    .split("\n").map((line) => line.trim()).filter((line) => /^[A-Z]\w*,$/.test(line))
    .map((name) => name.slice(0, -1).replace(/[A-Z]/g, (c, i) => (i ? "_" : "") + c.toLowerCase()));
  assert.equal(problems.length, 5, `${problems}`);
  for (const problem of problems) assert.ok(TEXTS.en[`problem_${problem}`], `problem_${problem}`);
});
