// A real HTTP server on 127.0.0.1 that misbehaves on purpose, one way per path prefix, for
// the tests of every send path: whatever the server does, the mail must go in bounded time.

import http from "node:http";
import net from "node:net";

/** The ways a server can fail a client, each the first segment of the request path. */
export const MISBEHAVIOURS = {
  /** Accepts the connection and never answers. */
  silent: () => {},
  /** Answers a valid registration, but only after `SLOW_MS`. */
  slow: (req, res) => setTimeout(() => registered(res), SLOW_MS),
  /** Sends the headers and half a body, then stalls with the connection open. */
  stalled: (req, res) => {
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": "400" });
    res.write('{"id": "m1", "track": true, "info_url": "http://127.0.0.1/i/m1"');
  },
  /** Promises a body and closes the connection before it is complete. */
  truncated: (req, res) => {
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": "400" });
    res.end('{"id": "m1"');
    req.socket.destroy();
  },
  /** A client error with the server's JSON error. */
  refused: (req, res) => json(res, 400, { error: { code: "bad_request", message: "to[0]: not an address" } }),
  /** The token has expired. */
  expired: (req, res) => json(res, 401, { error: { code: "unauthorized", message: "the token has expired" } }),
  /** A server fault, with an HTML page as proxies give. */
  failing: (req, res) => {
    res.writeHead(502, { "Content-Type": "text/html" });
    res.end("<html><body>Bad gateway</body></html>");
  },
  /** 200 with a body that is not JSON. */
  garbled: (req, res) => {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end("{not json");
  },
  /** 200 with JSON that is not a registration. */
  incomplete: (req, res) => json(res, 200, { ok: true }),
};

export const SLOW_MS = 8_000;

function json(res, status, body) {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

function registered(res) {
  json(res, 200, { id: "m1", track: false, track_reason: "", info_url: "http://127.0.0.1/i/m1" });
}

/** Starts the server; `baseUrl(kind)` is a server base URL that misbehaves that way. */
export async function startMisbehavingServer() {
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    const kind = req.url.split("/")[1];
    (MISBEHAVIOURS[kind] ?? ((_, r) => json(r, 404, { error: { code: "not_found", message: "no such behaviour" } })))(req, res);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  // A port nothing listens on: connection refused.
  const closed = net.createServer();
  await new Promise((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const closedPort = closed.address().port;
  await new Promise((resolve) => closed.close(resolve));
  return {
    baseUrl: (kind) => (kind === "down" ? `http://127.0.0.1:${closedPort}` : `http://127.0.0.1:${port}/${kind}`),
    close() {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}
