// ApiClient against the real leakwatch server (target/debug/leakwatch on SQLite in a
// temporary folder), and its failure modes against sockets that refuse or never answer.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ApiClient, ApiError, hostPermissionFor, normaliseBaseUrl, registrationFor } from "../api.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const bin = process.env.LEAKWATCH_BIN || path.join(root, "target/debug/leakwatch");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "leakwatch-api-test-"));
const USER = { tenant: "acme", email: "anna@acme.nl", password: "a long enough password" };
let server;
let baseUrl;

function cli(args, input) {
  const out = spawnSync(bin, [...args, "--data-dir", tmp], { input, encoding: "utf8" });
  if (out.status !== 0) throw new Error(`leakwatch ${args.join(" ")}: ${out.stderr}`);
  return out.stdout;
}

before(async () => {
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: cargo build -p leakwatch-cli`);
  cli(["tenant", "create", "--name", USER.tenant, "--domain", "acme.nl"]);
  cli(["user", "add", "--tenant", USER.tenant, "--email", USER.email, "--admin"]);
  cli(["user", "password", "--tenant", USER.tenant, "--email", USER.email], `${USER.password}\n`);
  server = spawn(bin, ["serve", "--listen", "127.0.0.1:0", "--data-dir", tmp], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, RUST_LOG: "warn" },
  });
  baseUrl = await new Promise((resolve, reject) => {
    let seen = "";
    server.stderr.setEncoding("utf8");
    server.stderr.on("data", (chunk) => {
      seen += chunk;
      const m = seen.match(/serving on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) resolve(m[1]);
    });
    server.on("exit", (code) => reject(new Error(`leakwatch serve exited ${code}: ${seen}`)));
  });
});

after(() => {
  server?.kill("SIGTERM");
  fs.rmSync(tmp, { recursive: true, force: true });
});

test("server URLs are normalised; the host permission covers the server", () => {
  assert.equal(normaliseBaseUrl(" https://lw.example.nl/ "), "https://lw.example.nl");
  assert.equal(normaliseBaseUrl("https://proxy.example.nl/leakwatch/?x=1#y"), "https://proxy.example.nl/leakwatch");
  assert.equal(hostPermissionFor("http://127.0.0.1:8080"), "http://127.0.0.1/*");
  for (const bad of ["", "lw.example.nl", "ftp://lw.example.nl", "https://a:b@lw.example.nl"]) {
    assert.throws(() => normaliseBaseUrl(bad), (err) => err instanceof ApiError && err.code === "invalid_server_url", bad);
  }
});

test("sign in, register, look up, report an incident: the real server's answers", async () => {
  const client = new ApiClient({ baseUrl });
  await assert.rejects(client.me(), (err) => err.status === 401 && err.code === "not_signed_in");
  const { token, expires_at } = await client.login(USER.tenant, USER.email, USER.password);
  assert.ok(token.length > 20);
  assert.ok(expires_at > Date.now());
  assert.equal(client.token, token);
  const me = await client.me();
  assert.equal(me.email, USER.email);
  // The policy the add-ins cache: what the admin saved, as the core's Policy.
  const policy = { internal_domains: ["acme.nl"], blocked_domains: ["concurrent.nl"], disclosure: { organization: "Acme B.V." } };
  const put = await fetch(`${baseUrl}/api/v1/tenant/policy`, {
    method: "PUT",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify(policy),
  });
  assert.equal(put.status, 200);
  const fetched = await client.policy();
  assert.deepEqual(fetched.blocked_domains, ["concurrent.nl"]);
  assert.equal(fetched.disclosure.organization, "Acme B.V.");

  const message = {
    to: [{ address: "jan@klant.nl", name: "Jan" }],
    cc: [],
    bcc: [],
    subject: "Jaarrekening",
    attachments: [{ name: "jaarrekening.pdf" }],
  };
  const verdict = { findings: [], sensitive: [{ kind: "bsn", count: 1 }] };
  const payload = registrationFor(message, verdict, { overridden: false, lang: "en" });
  assert.deepEqual(payload, {
    to: message.to, cc: [], bcc: [], subject: "Jaarrekening", findings: [], overridden: false,
    sensitive: [{ kind: "bsn", count: 1 }], has_attachments: true, lang: "en",
  });
  const registered = await client.register(payload);
  assert.equal(registered.track, true, "a BSN to an outside recipient is tracked by default");
  assert.match(registered.pixel_url, /\/p\//);
  assert.ok(registered.info_url.startsWith(baseUrl));
  const untracked = await client.register({ ...payload, sensitive: [], has_attachments: false });
  assert.equal(untracked.track, false);
  assert.equal(untracked.pixel_url, undefined);

  const shown = await client.message(registered.id);
  assert.equal(shown.subject, "Jaarrekening");
  const { id } = await client.reportIncident(registered.id, ["jan@klant.nl"]);
  const incident = await client.incident(id);
  assert.equal(incident.message_id, registered.id);
  assert.equal(incident.evidence.hits_total, 0);

  await assert.rejects(client.message("nope"), (err) => err instanceof ApiError && err.status === 404 && err.code === "not_found" && !err.unreachable);
  await assert.rejects(client.register({ ...payload, to: ["jan"] }), (err) => err.status === 400 && err.code === "bad_request");
});

test("a wrong password is an ApiError the options page can show", async () => {
  const client = new ApiClient({ baseUrl });
  await assert.rejects(client.login(USER.tenant, USER.email, "wrong password"), (err) => {
    assert.equal(err.status, 401);
    assert.equal(err.code, "unauthorized");
    assert.ok(err.unauthorized && !err.unreachable);
    return true;
  });
  assert.equal(client.token, null);
});

test("a closed port and a server that never answers are 'unreachable'", async () => {
  const closed = net.createServer();
  await new Promise((r) => closed.listen(0, "127.0.0.1", r));
  const port = closed.address().port;
  await new Promise((r) => closed.close(r));
  await assert.rejects(new ApiClient({ baseUrl: `http://127.0.0.1:${port}`, token: "t" }).register({}), (err) => {
    assert.equal(err.status, 0);
    assert.equal(err.code, "unreachable");
    assert.ok(err.unreachable);
    return true;
  });

  const silent = net.createServer(() => {}); // accepts, never answers
  await new Promise((r) => silent.listen(0, "127.0.0.1", r));
  const started = Date.now();
  await assert.rejects(
    new ApiClient({ baseUrl: `http://127.0.0.1:${silent.address().port}`, token: "t", timeoutMs: 300 }).register({}),
    (err) => err.unreachable && /no answer within 300 ms/.test(err.message),
  );
  assert.ok(Date.now() - started < 5_000);
  silent.close();
});

test("the alert stream URL carries the token for EventSource", () => {
  const client = new ApiClient({ baseUrl: "https://lw.example.nl", token: "abc.def" });
  assert.equal(client.alertStreamUrl({ after: 7 }), "https://lw.example.nl/api/v1/alerts/stream?access_token=abc.def&after=7");
  assert.equal(client.alertStreamUrl(), "https://lw.example.nl/api/v1/alerts/stream?access_token=abc.def");
  assert.throws(() => new ApiClient({ baseUrl: "https://lw.example.nl" }).alertStreamUrl(), /not signed in/);
});
