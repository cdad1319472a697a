// The manifests as the real leakwatch server renders them for its public URL: the unified
// manifest it serves (on its own and inside the app package) validates against Microsoft's
// schema offline (office-addin-manifest), with the send mode of the tenant's policy, and is
// the one render.mjs makes from the same template and inputs.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { validateManifest } from "office-addin-manifest";
import { startLeakwatch } from "../../common/test-support/leakwatch-server.mjs";
import { render } from "../manifest/render.mjs";
import { outlookDir } from "./support/load.mjs";

const PUBLIC_URL = "https://leakwatch.example.nl/lw";
const USER = { tenant: "boekhoudpartners", email: "anna.deboer@boekhoudpartners.nl", password: "correct horse battery", domain: "boekhoudpartners.nl" };

let leakwatch;

before(async () => {
  leakwatch = await startLeakwatch({ ...USER, config: `public_url = "${PUBLIC_URL}"\n` });
});
after(async () => {
  await leakwatch?.stop();
});

async function validate(text) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "leakwatch-served-manifest-"));
  const file = path.join(dir, "manifest.json");
  fs.writeFileSync(file, text);
  try {
    return await validateManifest(file);
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
}

for (const [query, sendMode] of [["", "softBlock"], [`?tenant=${USER.tenant}`, "promptUser"]]) {
  test(`the served manifest.json${query} validates offline and says ${sendMode}`, async () => {
    const response = await fetch(`${leakwatch.baseUrl}/addin/outlook/manifest.json${query}`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/json");
    const text = await response.text();
    const result = await validate(text);
    assert.equal(result.isValid, true, JSON.stringify(result.report?.errors, null, 1));
    const manifest = JSON.parse(text);
    assert.equal(manifest.extensions[0].autoRunEvents[0].events.find((e) => e.type === "messageSending").options.sendMode, sendMode);
    assert.equal(manifest.extensions[0].runtimes[0].code.script, `${PUBLIC_URL}/addin/outlook/launchevent.js`);
    const template = fs.readFileSync(path.join(outlookDir, "manifest/manifest.json.tmpl"), "utf8");
    assert.equal(text, render(template, { baseUrl: PUBLIC_URL, sendMode }));
  });
}

test("the app package holds the same manifest and the two icons it names, and validates", async () => {
  const response = await fetch(`${leakwatch.baseUrl}/addin/outlook/leakwatch-outlook.zip`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "application/zip");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "leakwatch-app-package-"));
  const zip = path.join(dir, "leakwatch-outlook.zip");
  fs.writeFileSync(zip, Buffer.from(await response.arrayBuffer()));
  // Python's zipfile reads it as any unzip would (no npm zip reader needed).
  const listed = spawnSync("python3", ["-c", "import sys, zipfile, json; z = zipfile.ZipFile(sys.argv[1]); z.extractall(sys.argv[2]); print(json.dumps(sorted(z.namelist())))", zip, path.join(dir, "x")], { encoding: "utf8" });
  assert.equal(listed.status, 0, listed.stderr);
  assert.deepEqual(JSON.parse(listed.stdout), ["color.png", "manifest.json", "outline.png"]);
  const text = fs.readFileSync(path.join(dir, "x/manifest.json"), "utf8");
  const result = await validate(text);
  assert.equal(result.isValid, true, JSON.stringify(result.report?.errors, null, 1));
  const manifest = JSON.parse(text);
  for (const icon of [manifest.icons.color, manifest.icons.outline]) {
    assert.ok(fs.statSync(path.join(dir, "x", icon)).size > 0, icon);
  }
  fs.rmSync(dir, { recursive: true });
});

test("an unknown tenant is a clear 404, not a manifest", async () => {
  const response = await fetch(`${leakwatch.baseUrl}/addin/outlook/manifest.xml?tenant=nobody`, { headers: { "Accept-Language": "en" } });
  assert.equal(response.status, 404);
  const body = await response.json();
  assert.equal(body.error.code, "not_found");
  assert.match(body.error.message, /no organisation \(tenant\) named "nobody"/);
});
