// The recipients' pages as a recipient's phone shows them (issue 18): the transparency page
// at 390 px in both languages, served by the real server, with the language switch on one
// line and nothing scrolling sideways; screenshots in target/artifacts/web/.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ApiClient } from "../../addin/common/api.mjs";
import { startLeakwatch } from "../../addin/common/test-support/leakwatch-server.mjs";
import { launchBrowser } from "../../addin/outlook/test/support/browser.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const artifacts = path.join(root, "target/artifacts/web");
const ADMIN = { tenant: "boekhoudpartners", email: "beheer@boekhoudpartners.nl", password: "admin horse battery" };

let browser;
let server;
let info;
before(async () => {
  fs.mkdirSync(artifacts, { recursive: true });
  server = await startLeakwatch({ ...ADMIN, domain: "boekhoudpartners.nl" });
  const api = new ApiClient({ baseUrl: server.baseUrl });
  await api.login(ADMIN.tenant, ADMIN.email, ADMIN.password);
  // A long organisation name, as real ones are.
  const policy = await api.request("GET", "/api/v1/tenant/policy");
  await api.request("PUT", "/api/v1/tenant/policy", { body: { ...policy, disclosure: { organization: "Boekhoud- en Administratiekantoor Partners B.V.", dpo_contact: "fg@boekhoudpartners.nl" }, tracking: { scope: "all_external" } } });
  const registered = await api.register({ to: ["jan@klant.nl"], cc: [], bcc: [], subject: "Jaarrekening", findings: [], overridden: false, sensitive: [], has_attachments: false });
  info = registered.info_url;
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

for (const lang of ["nl", "en"]) {
  test(`the transparency page at 390 px in ${lang}: the language switch on one line`, async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    await page.goto(`${info}?lang=${lang}`);
    const tops = await page.locator(".langs a").evaluateAll((links) => links.map((a) => a.getBoundingClientRect().top));
    assert.equal(tops.length, 2);
    assert.equal(tops[0], tops[1], "both languages on one line");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 1, `${overflow} px too wide`);
    await page.screenshot({ path: path.join(artifacts, `transparency-${lang}-390.png`), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.screenshot({ path: path.join(artifacts, `transparency-${lang}-desktop.png`), fullPage: true });
    await context.close();
  });
}
