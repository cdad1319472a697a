// The JavaScript API of the package: errors, incremental history, memory growth under
// wasm2js, and the fallback's syntax level.

import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import * as acorn from "acorn";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dist, loadFallback, loadWeb, plain, root, syntheticMailbox } from "../load.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const web = await loadWeb();
const fallbackJs = loadFallback({ withoutWebAssembly: true });

test("the fallback is one ES2016 script without modules", () => {
  const code = fs.readFileSync(path.join(dist, "leakwatch-fallback.js"), "utf8");
  assert.doesNotThrow(() => acorn.parse(code, { ecmaVersion: 2016, sourceType: "script" }));
  assert.throws(() => acorn.parse("a?.b", { ecmaVersion: 2016 }), "the parser really is ES2016");
  assert.ok(!/\bimport\s*\(|\bimport\.meta\b/.test(code), "no module syntax");
});

test("the TypeScript declarations describe the API", () => {
  const dts = fs.readFileSync(path.join(dist, "web/leakwatch_wasm.d.ts"), "utf8");
  for (const name of ["class Checker", "check(message: Message", "addSent(message: SentMessage", "export function checkDraft(draft: Draft", "interface Verdict", "interface Policy", "disclosure(options: DisclosureOptions): RenderedDisclosure", "discloseText(body: string, options: DisclosureOptions): string"]) {
    assert.ok(dts.includes(name), `d.ts declares ${name}`);
  }
});

test("the generated TypeScript declarations type-check an add-in's use and refuse wrong values", () => {
  const tsc = path.join(here, "../node_modules/typescript/bin/tsc");
  const usage = path.join(here, "types/usage.ts");
  const run = spawnSync(process.execPath, [tsc, "--noEmit", "--strict", "--target", "es2020", "--module", "es2020", "--moduleResolution", "bundler", "--lib", "esnext,dom", usage], { encoding: "utf8" });
  assert.equal(run.status, 0, `tsc: ${run.stdout}${run.stderr}`);
});

for (const [name, api] of [["wasm", web], ["wasm2js", fallbackJs]]) {
  test(`${name}: invalid input throws an Error naming the field`, () => {
    const checker = new api.Checker({});
    assert.throws(() => checker.check({ from: "a@b.nl", to: ["jan"] }, "en"), /to\[0\]: 'jan' has no '@'/);
    assert.throws(() => checker.check({ from: "a@b.nl" }, "de"), /unknown language/);
    assert.throws(() => new api.Checker({ history: "nope" }), /invalid checker options/);
    assert.throws(() => api.checkDraft({ to: [] }, "en"), /missing field `from`/);
    checker.free();
  });

  test(`${name}: addSent makes a recipient known without a rebuild`, () => {
    const checker = new api.Checker({ policy: { internal_domains: ["boekhoudpartners.nl"] } });
    const message = { from: "anna@boekhoudpartners.nl", to: ["jan.jansen@klantbedrijf.nI"] };
    assert.equal(checker.check(message, "en").verdict, "send", "nothing known yet");
    for (let i = 0; i < 5; i++) checker.addSent({ to: ["jan.jansen@klantbedrijf.nl"] });
    assert.equal(checker.historySize, 5);
    const verdict = plain(checker.check(message, "en"));
    assert.equal(verdict.verdict, "warn");
    assert.equal(verdict.findings[0].suggestion, "jan.jansen@klantbedrijf.nl");
    checker.free();
  });

  test(`${name}: a large history grows memory and still checks correctly`, () => {
    const { policy, history, message } = syntheticMailbox(2000);
    const checker = new api.Checker({ policy, history });
    const verdict = plain(checker.check(message, "nl"));
    assert.equal(verdict.verdict, "warn");
    assert.ok(verdict.findings.some((f) => f.rule === "lookalike-domain"));
    assert.deepStrictEqual(verdict, plain(web.checkDraft({ ...message, policy, history }, "nl")));
    checker.free();
  });
}

for (const [name, api] of [["wasm", web], ["wasm2js", fallbackJs]]) {
  test(`${name}: the disclosure, with the pixel only inside it`, () => {
    const checker = new api.Checker({ policy: { disclosure: { organization: "Boekhoudpartners" } } });
    const info = "https://leakwatch.example/i/abc";
    const pixel = "https://leakwatch.example/p/0123456789abcdefghijklmnopqrstuv";
    const plainNotice = plain(checker.disclosure({ info_url: info, lang: "nl" }));
    assert.equal(plainNotice.tracked, false);
    assert.ok(plainNotice.text.includes("Boekhoudpartners") && plainNotice.text.includes(info));
    assert.ok(!plainNotice.html.includes("<img"), "no pixel without pixel_url");
    const tracked = plain(checker.disclosure({ info_url: info, pixel_url: pixel, lang: "en" }));
    assert.equal(tracked.tracked, true);
    assert.ok(tracked.html.includes(`src="${pixel}"`) && tracked.html.includes(info), "pixel and notice together");
    assert.ok(tracked.html.length <= 5000, "fits appendOnSendAsync");
    assert.throws(() => checker.disclosure({ info_url: "javascript:alert(1)" }), /info_url/);
    assert.throws(() => checker.disclosure({ info_url: info, pixel_url: "not a url" }), /pixel_url/);
    checker.free();
  });

  test(`${name}: discloseText is idempotent and matches leakwatch disclose`, () => {
    const checker = new api.Checker({});
    const info = "https://leakwatch.example/i/abc";
    const body = "Beste Jan,\n\nBijgaand de stukken.\n\nGroet, Anna\n";
    const once = checker.discloseText(body, { info_url: info, lang: "nl" });
    assert.ok(once.startsWith(body));
    assert.equal(checker.discloseText(once, { info_url: info, lang: "nl" }), once);
    const native = spawnSync(process.env.LEAKWATCH_BIN || path.join(root, "target/debug/leakwatch"),
      ["disclose", "--format", "text", "--info-url", info, "--lang", "nl"], { input: body, encoding: "utf8" });
    assert.equal(native.status, 0, native.stderr);
    assert.equal(once, native.stdout);
    checker.free();
  });
}

test("wasm2js in an engine with ArrayBuffer.prototype.detached (Chromium) survives memory growth", () => {
  // wasm2js grows memory into a new buffer without detaching the old one: the glue must see
  // the growth anyway, or it reads a stale copy ("null pointer passed to rust").
  const api = loadFallback({ withoutWebAssembly: true, withDetached: true });
  assert.equal(api.engine, "wasm2js");
  const history = Array.from({ length: 3000 }, (_, i) => ({
    to: [{ address: `person${i}@client${i % 400}.nl`, name: `Person ${i}` }],
    subject: `Message ${i} about the annual accounts`,
    sent_at: new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString(),
  }));
  const checker = new api.Checker({ policy: { internal_domains: ["acme.nl"] }, history });
  const verdict = checker.check({ from: "anna@acme.nl", to: [{ address: "person1@client1.nl" }], subject: "Vraag" }, "en");
  assert.equal(verdict.verdict, "send");
  checker.free();
});
