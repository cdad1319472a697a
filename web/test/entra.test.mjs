// "Sign in with Microsoft" on the dashboard, served by the real server: the sign-in page
// offers it when the deployment names its Entra app, and the access token that Microsoft's
// library returns becomes a browser session. Entra ID itself cannot be reached here, so
// MSAL's part (entra.js, a separate file the page loads on the click) is answered by a
// test double that hands back a token signed with the tests' RSA key, as Entra would sign
// one, for a tenant whose Entra settings point at a key set served on 127.0.0.1.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ApiClient } from "../../addin/common/api.mjs";
import { startLeakwatch } from "../../addin/common/test-support/leakwatch-server.mjs";
import { launchBrowser } from "../../addin/outlook/test/support/browser.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const CLIENT_ID = "3f2b1c9e-0000-4000-8000-00000000abcd";
const TID = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const ADMIN = { tenant: "boekhoudpartners", email: "beheer@boekhoudpartners.nl", password: "admin horse battery" };
const key = crypto.createPrivateKey(fs.readFileSync(path.join(root, "crates/server/tests/fixtures/test-rsa-1.pem")));
const jwk = { ...crypto.createPublicKey(key).export({ format: "jwk" }), kid: "test-1", use: "sig", alg: "RS256" };

const b64 = (value) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
function entraToken(claims) {
  const unsigned = `${b64({ alg: "RS256", typ: "JWT", kid: "test-1" })}.${b64(claims)}`;
  return `${unsigned}.${crypto.sign("RSA-SHA256", Buffer.from(unsigned), key).toString("base64url")}`;
}

let browser;
let keys;
let server;
before(async () => {
  keys = http.createServer((req, res) => res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ keys: [jwk] })));
  await new Promise((resolve) => keys.listen(0, "127.0.0.1", resolve));
  // The key set is on 127.0.0.1: the operator allows private targets for this test.
  server = await startLeakwatch({ ...ADMIN, domain: "boekhoudpartners.nl", config: `[outlook]\nentra_client_id = "${CLIENT_ID}"\n[outbound]\nallow_private = true\n` });
  const api = new ApiClient({ baseUrl: server.baseUrl });
  await api.login(ADMIN.tenant, ADMIN.email, ADMIN.password);
  await api.request("PUT", "/api/v1/tenant/oidc", {
    body: { issuer: `https://login.microsoftonline.com/${TID}/v2.0`, audience: `api://leakwatch/${CLIENT_ID}`, jwks_uri: `http://127.0.0.1:${keys.address().port}/keys`, tenant_id: TID },
  });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  await new Promise((resolve) => keys?.close(resolve));
});

async function openSignIn({ token }) {
  const context = await browser.newContext({ locale: "en-GB" });
  const page = await context.newPage();
  await page.route(`${server.baseUrl}/entra.js`, (route) => route.fulfill({
    contentType: "text/javascript",
    body: `export async function signInWithMicrosoft(app) { window.__askedFor = app; ${token ? `return ${JSON.stringify(token)};` : `throw new Error("user_cancelled");`} }`,
  }));
  await page.goto(`${server.baseUrl}/`);
  return { page };
}

const now = () => Math.floor(Date.now() / 1000);
const claims = (oid, email) => ({ iss: `https://login.microsoftonline.com/${TID}/v2.0`, aud: `api://leakwatch/${CLIENT_ID}`, tid: TID, oid, sub: "pairwise", preferred_username: email, scp: "access_as_user", ver: "2.0", iat: now() - 10, nbf: now() - 10, exp: now() + 3600 });

test("a directory user signs in with Microsoft and gets a session for her role", async () => {
  const { page } = await openSignIn({ token: entraToken(claims("7d2c1b0a-aaaa-4bbb-8ccc-0123456789ab", "Lisa@boekhoudpartners.nl")) });
  await page.locator("#entra-button").click();
  await page.locator("#who", { hasText: "Signed in as lisa@boekhoudpartners.nl · Sender" }).waitFor();
  const asked = await page.evaluate(() => window.__askedFor);
  assert.equal(asked.client_id, CLIENT_ID);
  assert.match(asked.scope, new RegExp(`^api://127\\.0\\.0\\.1:\\d+/${CLIENT_ID}/access_as_user$`));
  assert.equal(asked.authority, "https://login.microsoftonline.com/common");
  // The session works like a password one: the sender's messages page.
  await page.locator("h1", { hasText: "My messages" }).waitFor();
  await page.context().close();
});

test("a token of no tenant set up for Entra, or a cancelled sign-in, says so in words", async () => {
  const other = entraToken({ ...claims("7d2c1b0a-aaaa-4bbb-8ccc-0123456789ab", "x@example.com"), iss: "https://login.microsoftonline.com/00000000-0000-4000-8000-000000000000/v2.0", tid: "00000000-0000-4000-8000-000000000000" });
  const { page: refused } = await openSignIn({ token: other });
  await refused.locator("#entra-button").click();
  await refused.locator("#signin-status .error", { hasText: "Your organisation has not set up sign-in with Microsoft" }).waitFor();
  await refused.context().close();
  const { page: cancelled } = await openSignIn({ token: null });
  await cancelled.locator("#entra-button").click();
  await cancelled.locator("#signin-status .error", { hasText: "Signing in with Microsoft did not finish" }).waitFor();
  await cancelled.context().close();
});

test("the shipped entra.js and redirect page load under the page's policy", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const refused = [];
  page.on("console", (message) => { if (message.type() === "error") refused.push(message.text()); });
  await page.goto(`${server.baseUrl}/`);
  const kind = await page.evaluate(async () => typeof (await import("/entra.js")).signInWithMicrosoft);
  assert.equal(kind, "function");
  // Opened without a sign-in answer, MSAL's bridge has nothing to hand on: it says so in the
  // console and does nothing else.
  await page.goto(`${server.baseUrl}/entra-redirect.html`);
  assert.deepEqual(refused.filter((text) => /Content Security Policy|Refused/.test(text)), []);
  await context.close();
});
