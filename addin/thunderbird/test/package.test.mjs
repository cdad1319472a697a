// What ships: the product package (dist/leakwatch-thunderbird-VERSION.xpi, as `build.mjs`
// makes it) holds no test hook, no test driver id and no way for another add-on to talk to
// it. The test build (`build.mjs --test-build`) does hold them, which shows the scan finds
// them: add one back to the product and this test fails.

import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { root } from "../testing.mjs";

const here = path.join(root, "addin/thunderbird");
const manifest = JSON.parse(fs.readFileSync(path.join(here, "manifest.json"), "utf8"));
const PRODUCT = path.join(root, "dist", `leakwatch-thunderbird-${manifest.version}.xpi`);
const TEST_BUILD = path.join(root, "target", "leakwatch-thunderbird-test.xpi");

/** Words of the test build that must never be in the product. */
const TEST_ONLY = [
  "testHooks",
  "e2e-driver@",
  "autoAnswer",
  "reportUrl",
  "reportWrong",
  "onMessageExternal",
  "setTestHooks",
  "page-hooks",
  "background-hooks",
  "test build",
  // The pages' host double (test/pages.test.mjs), which is no part of either build.
  "createThunderbirdHost",
  "thunderbird-host",
];

function build(args) {
  const out = spawnSync(process.execPath, [path.join(here, "build.mjs"), ...args], { encoding: "utf8" });
  assert.equal(out.status, 0, `build.mjs ${args.join(" ")}: ${out.stdout}${out.stderr}`);
}

/** Every file of a zip, by name: its text (latin1, so every byte is kept). */
function unzip(file) {
  const out = spawnSync(
    "python3",
    ["-c", "import json, sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(json.dumps({n: z.read(n).decode('latin1') for n in z.namelist()}))", file],
    { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
  );
  assert.equal(out.status, 0, out.stderr);
  return JSON.parse(out.stdout);
}

function hooksIn(files) {
  const found = [];
  for (const [name, text] of Object.entries(files)) {
    if (name.startsWith("testing/")) found.push(name);
    for (const word of TEST_ONLY) if (text.includes(word)) found.push(`${name}: ${word}`);
  }
  return found;
}

test("the product package has no test hook; the test build has them", () => {
  build([]);
  build(["--test-build"]);
  const product = unzip(PRODUCT);
  assert.ok(product["manifest.json"] && product["background.js"] && product["wasm/leakwatch_wasm_bg.wasm"], "the package is complete");
  assert.deepEqual(hooksIn(product), [], "test-only code in the shipped package");
  const shipped = JSON.parse(product["manifest.json"]);
  assert.deepEqual(shipped.background.scripts, ["background.js"]);
  assert.equal(shipped.externally_connectable, undefined);

  const testBuild = unzip(TEST_BUILD);
  const found = hooksIn(testBuild);
  for (const expected of ["testing/background-hooks.js", "testing/page-hooks.js", "warning/warning.html: page-hooks"]) {
    assert.ok(found.includes(expected), `the scan finds ${expected} in the test build: ${found.join(", ")}`);
  }
  assert.ok(!fs.existsSync(path.join(root, "dist", "leakwatch-thunderbird-test.xpi")), "the test build stays out of dist/");
});
