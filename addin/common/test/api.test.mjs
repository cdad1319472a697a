// ApiClient against the real leakwatch server (target/debug/leakwatch on SQLite in a
// temporary folder), and its failure modes against sockets that refuse or never answer and
// a server that misbehaves in every other way (./misbehaving.mjs).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { ApiClient, ApiError, hostPermissionFor, normaliseBaseUrl, registrationFor } from "../api.mjs";
import { startMisbehavingServer, SLOW_MS } from "../test-support/misbehaving.mjs";
import { startLeakwatch } from "../test-support/leakwatch-server.mjs";

const USER = { tenant: "acme", email: "anna@acme.nl", password: "a long enough password" };
let leakwatch;
let baseUrl;

before(async () => {
  leakwatch = await startLeakwatch(USER);
  baseUrl = leakwatch.baseUrl;
});

after(() => leakwatch?.stop());

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
    (err) => err.unreachable && err.code === "timeout" && /no complete answer within 300 ms/.test(err.message),
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

test("every way a server can misbehave is an ApiError within the timeout, never a hang or a bad registration", async () => {
  const bad = await startMisbehavingServer();
  const timeoutMs = 500;
  const expected = {
    down: { code: "unreachable", unreachable: true },
    silent: { code: "timeout", unreachable: true },
    slow: { code: "timeout", unreachable: true },
    stalled: { code: "timeout", unreachable: true },
    truncated: { code: "unreachable", unreachable: true },
    failing: { code: "http_502", unreachable: true },
    garbled: { code: "malformed_response", unreachable: true },
    incomplete: { code: "malformed_response", unreachable: true },
    refused: { code: "bad_request", unreachable: false },
    expired: { code: "unauthorized", unreachable: false, unauthorized: true },
  };
  try {
    for (const [kind, want] of Object.entries(expected)) {
      const client = new ApiClient({ baseUrl: bad.baseUrl(kind), token: "t", timeoutMs: 60_000 });
      const started = Date.now();
      await assert.rejects(client.register({}, { timeoutMs }), (err) => {
        assert.ok(err instanceof ApiError, kind);
        assert.equal(err.code, want.code, `${kind}: ${err.message}`);
        assert.equal(err.unreachable, want.unreachable, kind);
        assert.equal(err.unauthorized, Boolean(want.unauthorized), kind);
        return true;
      });
      const ms = Date.now() - started;
      assert.ok(ms < timeoutMs + 1_000, `${kind} took ${ms} ms`);
      assert.ok(SLOW_MS > timeoutMs + 1_000, "the slow server is slower than the bound");
    }
  } finally {
    bad.close();
  }
});
