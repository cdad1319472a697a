// The size budget of issue 4, measured on the files the add-ins load.

import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { dist } from "../load.mjs";
import { BUDGET } from "../build.mjs";

const gzipped = (file) => gzipSync(fs.readFileSync(path.join(dist, file)), { level: 9 }).length;

test("the optimised module is at most 250 KB gzipped", () => {
  const size = gzipped("web/leakwatch_wasm_bg.wasm");
  console.log(`wasm: ${(size / 1024).toFixed(1)} KB gzipped`);
  assert.ok(size <= BUDGET.wasmGzip, `${size} bytes`);
  assert.equal(BUDGET.wasmGzip, 250 * 1024);
});

test("the fallback script is at most 800 KB gzipped", () => {
  const size = gzipped("leakwatch-fallback.js");
  console.log(`fallback: ${(size / 1024).toFixed(1)} KB gzipped`);
  assert.ok(size <= BUDGET.fallbackGzip, `${size} bytes`);
  assert.equal(BUDGET.fallbackGzip, 800 * 1024);
});

test("the module has one table, as wasm2js requires", () => {
  const bytes = fs.readFileSync(path.join(dist, "web/leakwatch_wasm_bg.wasm"));
  // The JS API does not list a module's own tables, so read the table section.
  const module = new WebAssembly.Module(bytes);
  assert.ok(WebAssembly.Module.exports(module).some((e) => e.name === "memory"));
  let tables = 0;
  // Walk the sections: id 4 is the table section; its first LEB128 is the count.
  let offset = 8;
  const leb = () => {
    let result = 0, shift = 0, byte;
    do {
      byte = bytes[offset++];
      result |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    return result >>> 0;
  };
  while (offset < bytes.length) {
    const id = bytes[offset++];
    const size = leb();
    const end = offset + size;
    if (id === 4) tables = leb();
    offset = end;
  }
  assert.equal(tables, 1, "one function table");
});
