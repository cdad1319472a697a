// AlertFeed's polling against a local HTTP server that speaks `GET /api/v1/alerts?after=`
// (the shape of the server's alerts API): first sync, order, exactly-once, resume, 404.

import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { ApiClient } from "../api.mjs";
import { AlertFeed } from "../alerts.mjs";

async function alertsServer() {
  const alerts = [];
  const requests = [];
  let missing = false;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    requests.push({ path: url.pathname, after: url.searchParams.get("after"), auth: req.headers.authorization });
    if (missing || url.pathname !== "/api/v1/alerts") {
      res.writeHead(404, { "Content-Type": "application/json" }).end('{"error":{"code":"not_found","message":"route not found"}}');
      return;
    }
    const after = Number(url.searchParams.get("after") ?? -1);
    // Out of order on purpose: the feed must sort.
    const out = alerts.filter((a) => a.seq > after).reverse();
    res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ alerts: out }));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    alerts,
    requests,
    url: `http://127.0.0.1:${server.address().port}`,
    set missing(v) {
      missing = v;
    },
    close: () => server.close(),
  };
}

const alert = (seq) => ({ seq, id: `a${seq}`, kind: "client_open", severity: "high", incident_id: "i1", message_id: "m1", title: `t${seq}`, body: "b", created_at: "2026-01-01T00:00:00Z" });

test("the first sync delivers nothing old; later polls deliver each new alert once, in order", async () => {
  const srv = await alertsServer();
  srv.alerts.push(alert(1), alert(2));
  const delivered = [];
  const positions = [];
  const feed = new AlertFeed({
    client: new ApiClient({ baseUrl: srv.url, token: "tok" }),
    lastSeq: null,
    EventSource: null,
    onAlert: (a) => delivered.push(a.seq),
    onSeq: (s) => positions.push(s),
  });
  await feed.poll();
  assert.deepEqual(delivered, []);
  assert.equal(feed.lastSeq, 2);
  srv.alerts.push(alert(3), alert(4));
  await feed.poll();
  await feed.poll();
  assert.deepEqual(delivered, [3, 4]);
  assert.deepEqual(positions, [2, 3, 4]);
  assert.equal(srv.requests.at(-1).after, "4");
  assert.equal(srv.requests.at(-1).auth, "Bearer tok");
  assert.equal(feed.deliver(alert(4)), false, "a duplicate from the stream is dropped");
  assert.equal(feed.deliver(alert(5)), true);
  assert.deepEqual(delivered, [3, 4, 5]);
  srv.close();
});

test("a stored position resumes; a server without the alerts API is left alone", async () => {
  const srv = await alertsServer();
  srv.alerts.push(alert(1), alert(2), alert(3));
  const delivered = [];
  const feed = new AlertFeed({ client: new ApiClient({ baseUrl: srv.url, token: "t" }), lastSeq: 1, EventSource: null, onAlert: (a) => delivered.push(a.seq) });
  await feed.start();
  assert.deepEqual(delivered, [2, 3]);
  feed.stop();

  srv.missing = true;
  const other = new AlertFeed({ client: new ApiClient({ baseUrl: srv.url, token: "t" }), lastSeq: 0, EventSource: null, onAlert: () => assert.fail("nothing to deliver") });
  const before = srv.requests.length;
  await other.poll();
  await other.poll();
  assert.equal(other.unsupported, true);
  assert.equal(srv.requests.length, before + 1, "asked once, then no more");
  srv.close();
});
