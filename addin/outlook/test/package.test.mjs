// What ships in dist/outlook: one ES2016 event handler without modules, nothing test-only,
// and what the event runtime downloads, gzipped.

import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import * as acorn from "acorn";
import { distDir, testDir } from "../build.mjs";


const walk = (dir) => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));

test("the shipped handler is one ES2016 script: no import, no async/await, nothing newer", () => {
  const code = fs.readFileSync(path.join(distDir, "launchevent.js"), "utf8");
  assert.doesNotThrow(() => acorn.parse(code, { ecmaVersion: 2016, sourceType: "script" }));
  assert.throws(() => acorn.parse("async function f() { await 1; }", { ecmaVersion: 2016 }), "the parser really refuses ES2017");
  assert.ok(!/\bimport\s*\(|\bimport\.meta\b/.test(code));
  assert.ok(code.includes("Office.actions.associate") || code.includes(".actions.associate("), "registered with Office.actions.associate");
});

test("nothing test-only ships in dist/outlook", () => {
  const shipped = walk(distDir).map((f) => path.relative(distDir, f));
  for (const name of ["harness.html", "office-host-double.js"]) {
    assert.ok(!shipped.includes(name), name);
    assert.ok(fs.existsSync(path.join(testDir, name)), `${name} is in the test build`);
  }
  for (const file of walk(distDir).filter((f) => /\.(js|html|json|xml|tmpl)$/.test(f))) {
    const text = fs.readFileSync(file, "utf8");
    for (const marker of ["createOfficeHost", "office-host-double", "HOST_OPTIONS", "test build only"]) {
      assert.ok(!text.includes(marker), `${path.relative(distDir, file)} carries the test hook ${marker}`);
    }
  }
});

test("the test build is the product plus the harness, never written to dist", () => {
  assert.ok(testDir.includes(`${path.sep}target${path.sep}`));
  assert.equal(fs.readFileSync(path.join(testDir, "launchevent.js"), "utf8"), fs.readFileSync(path.join(distDir, "launchevent.js"), "utf8"), "the harness runs the shipped handler, unchanged");
});

test("what the event runtime downloads, gzipped", () => {
  const size = (file) => gzipSync(fs.readFileSync(path.join(distDir, file)), { level: 9 }).length;
  const js = size("launchevent.js");
  const page = size("launchevent.html");
  const taskpane = size("taskpane.js") + size("taskpane.html") + size("taskpane.css") + size("wasm/leakwatch_wasm.js") + size("wasm/leakwatch_wasm_bg.wasm");
  console.log(`event runtime: launchevent.js ${(js / 1024).toFixed(1)} KB + launchevent.html ${page} B gzipped (Office.js from Microsoft's CDN not counted)`);
  console.log(`task pane: ${(taskpane / 1024).toFixed(1)} KB gzipped (with the .wasm)`);
  // The fallback script (issue 4's budget: 800 KB gzipped) and the handlers on top of it.
  assert.ok(js <= 800 * 1024 + 16 * 1024, `${js} bytes`);
});

test("the shipped fallback compares memory buffers (crates/wasm/js/build.mjs patches both caches)", () => {
  const shipped = fs.readFileSync(path.join(distDir, "launchevent.js"), "utf8");
  assert.ok(!shipped.includes("cachedDataViewMemory0.buffer.detached"), "no detached-only refresh");
  assert.ok(shipped.includes("cachedDataViewMemory0 === null || cachedDataViewMemory0.buffer !== wasm.memory.buffer"));
  assert.ok(shipped.includes("cachedUint8ArrayMemory0 === null || cachedUint8ArrayMemory0.buffer !== wasm.memory.buffer"));
});
