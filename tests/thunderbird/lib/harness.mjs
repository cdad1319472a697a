// The pieces of the Thunderbird end-to-end test, each a real process on 127.0.0.1: the
// test's own HTTP server (commands for the driver add-on, reports from the product add-on),
// the SMTP sink, the leakwatch server, and Thunderbird on a throw-away profile.

import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, "../../..");

const log = (...args) => console.log(`[e2e ${new Date().toISOString().slice(11, 23)}]`, ...args);
export { log };

/** Resolves when `predicate()` is truthy (polled), rejects after `ms` naming `what`. */
export async function until(predicate, ms, what, every = 100) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/** Reads lines of a child's stream, calling `onLine` for each and keeping them. */
function lines(stream, sink, onLine) {
  let buffer = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk) => {
    buffer += chunk;
    let i;
    while ((i = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      sink.push(line);
      onLine?.(line);
    }
  });
}

/** Starts a child and waits for a line matching `ready`; returns {child, match, output}. */
function startUntilLine(command, args, { ready, env, cwd, timeoutMs = 20_000, name }) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, cwd, stdio: ["ignore", "pipe", "pipe"] });
  const output = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${name} did not start within ${timeoutMs} ms:\n${output.slice(-20).join("\n")}`));
    }, timeoutMs);
    const check = (line) => {
      const match = line.match(ready);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match, output });
      }
    };
    lines(child.stdout, output, check);
    lines(child.stderr, output, check);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before it was ready:\n${output.slice(-20).join("\n")}`));
    });
  });
}

export function stop(child) {
  if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
}

// ---------------------------------------------------------------- the test's HTTP server

/**
 * Serves the driver add-on (long-polled commands, results) and collects the product
 * add-on's reports (`POST /report`).
 */
export async function startTestServer() {
  const queue = [];
  const waiting = [];
  const pending = new Map();
  const events = [];
  let nextId = 1;
  let hello = null;
  const body = (req) =>
    new Promise((resolve) => {
      let data = "";
      req.on("data", (c) => (data += c));
      req.on("end", () => resolve(data ? JSON.parse(data) : null));
    });
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, "http://127.0.0.1");
    if (req.method === "GET" && url.pathname === "/next") {
      if (queue.length) {
        res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(queue.shift()));
        return;
      }
      const timer = setTimeout(() => {
        const i = waiting.indexOf(res);
        if (i >= 0) waiting.splice(i, 1);
        res.writeHead(204).end();
      }, 15_000);
      res.on("close", () => clearTimeout(timer));
      waiting.push(res);
      return;
    }
    if (req.method === "POST") {
      const data = await body(req);
      res.writeHead(204, { "Access-Control-Allow-Origin": "*" }).end();
      if (url.pathname === "/hello") hello = data;
      else if (url.pathname === "/report") {
        events.push({ at: Date.now(), ...data });
        log("report", JSON.stringify(data).slice(0, 300));
      } else if (url.pathname.startsWith("/done/")) {
        const id = Number(url.pathname.slice(6));
        pending.get(id)?.(data);
        pending.delete(id);
      }
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    base,
    events,
    get hello() {
      return hello;
    },
    /** Sends one command to the driver and resolves with its value (rejects on its error). */
    command(op, args = {}, timeoutMs = 30_000) {
      const id = nextId++;
      const command = { id, op, ...args };
      const result = new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`driver command ${op} timed out`)), timeoutMs);
        pending.set(id, (reply) => {
          clearTimeout(timer);
          if (reply.ok) resolve(reply.value);
          else reject(new Error(`driver command ${op} failed: ${reply.error}`));
        });
      });
      const res = waiting.shift();
      if (res) res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(command));
      else queue.push(command);
      return result;
    },
    /** The first report (after index `from`) matching `predicate`. */
    waitForEvent(predicate, ms, what, from = 0) {
      return until(() => events.slice(from).find(predicate), ms, what);
    },
    close() {
      for (const res of waiting) res.destroy();
      server.closeAllConnections?.();
      server.close();
    },
  };
}

// ---------------------------------------------------------------- SMTP

export async function startSmtpSink(dir) {
  const python = process.env.LEAKWATCH_TEST_PYTHON || path.join(root, "target/test-python/bin/python");
  if (!fs.existsSync(python)) {
    throw new Error(`no Python with aiosmtpd at ${python} (cargo xtask test creates it; or set LEAKWATCH_TEST_PYTHON)`);
  }
  const { child, match } = await startUntilLine(python, [path.join(root, "tests/support/smtp_sink.py"), dir], {
    ready: /^listening 127\.0\.0\.1:(\d+)/,
    name: "the SMTP sink",
  });
  return {
    child,
    port: Number(match[1]),
    python,
    /** The `n`-th message received (1-based): {eml, envelope}. */
    async message(n, ms = 20_000) {
      const stem = path.join(dir, String(n).padStart(4, "0"));
      await until(() => fs.existsSync(`${stem}.json`), ms, `message ${n} at the SMTP sink`);
      return { eml: fs.readFileSync(`${stem}.eml`), envelope: JSON.parse(fs.readFileSync(`${stem}.json`, "utf8")) };
    },
    count() {
      return fs.readdirSync(dir).filter((f) => f.endsWith(".json")).length;
    },
  };
}

/** The text/html and text/plain parts of a received message (Python's email package). */
export function mimeParts(python, eml) {
  const out = spawnSync(
    python,
    [
      "-c",
      `
import email, email.policy, json, sys
m = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)
html = m.get_body(("html",))
text = m.get_body(("plain",))
print(json.dumps({
  "content_type": m.get_content_type(),
  "subject": str(m["subject"]),
  "to": str(m["to"] or ""),
  "html": html.get_content() if html is not None else None,
  "text": text.get_content() if text is not None else None,
}))
`,
    ],
    { input: eml, encoding: "utf8" },
  );
  if (out.status !== 0) throw new Error(`cannot parse the message: ${out.stderr}`);
  return JSON.parse(out.stdout);
}

// ---------------------------------------------------------------- leakwatch

export function leakwatchBin() {
  const bin = process.env.LEAKWATCH_BIN || path.join(root, "target/debug/leakwatch");
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: cargo build -p leakwatch-cli`);
  return bin;
}

function cli(args, { input, env } = {}) {
  const out = spawnSync(leakwatchBin(), args, { input, encoding: "utf8", env: { ...process.env, ...env } });
  if (out.status !== 0) throw new Error(`leakwatch ${args.join(" ")}: ${out.stderr.trim()}`);
  return out.stdout.trim();
}

/**
 * A fresh leakwatch server (SQLite in `dir`) with one tenant and one user with a password.
 * `trustedProxies`: addresses whose X-Forwarded-For names the client (the settings file).
 */
export async function startLeakwatch(dir, { tenant, domain, email, password }, { trustedProxies = [] } = {}) {
  const data = ["--data-dir", dir];
  cli(["tenant", "create", "--name", tenant, "--domain", domain, ...data]);
  cli(["user", "add", "--tenant", tenant, "--email", email, "--admin", ...data]);
  cli(["user", "password", "--tenant", tenant, "--email", email, ...data], { input: `${password}\n` });
  const env = { RUST_LOG: "warn" };
  const config = path.join(dir, "leakwatch.toml");
  fs.writeFileSync(config, `trusted_proxies = ${JSON.stringify(trustedProxies)}\n`);
  const { child, match, output } = await startUntilLine(
    leakwatchBin(),
    ["serve", "--listen", "127.0.0.1:0", "--config", config, ...data],
    { ready: /serving on (http:\/\/127\.0\.0\.1:\d+)/, env, name: "leakwatch serve" },
  );
  return { child, url: match[1], output };
}

// ---------------------------------------------------------------- Thunderbird

const THUNDERBIRD = "/usr/lib/thunderbird/thunderbird";

export function thunderbirdVersion() {
  const out = spawnSync(THUNDERBIRD, ["--version"], { encoding: "utf8", env: { ...process.env, MOZ_HEADLESS: "1" } });
  return out.stdout.trim();
}

const pref = (name, value) => `user_pref(${JSON.stringify(name)}, ${JSON.stringify(value)});`;

/**
 * A fresh profile: Local Folders with a Sent folder, one identity sending through the SMTP
 * sink, the add-ons sideloaded (`extensions/<id>.xpi` or a file holding the unpacked path)
 * and enabled, and every outside connection routed to a dead local proxy.
 */
export function makeProfile(dir, { smtpPort, identity, addons, extraPrefs = {} }) {
  fs.mkdirSync(path.join(dir, "extensions"), { recursive: true });
  fs.mkdirSync(path.join(dir, "Mail/Local Folders"), { recursive: true });
  fs.writeFileSync(path.join(dir, "Mail/Local Folders/Sent"), "");
  for (const { id, xpi, unpacked } of addons) {
    if (xpi) fs.copyFileSync(xpi, path.join(dir, "extensions", `${id}.xpi`));
    else fs.writeFileSync(path.join(dir, "extensions", id), unpacked);
  }
  const prefs = {
    "mail.accountmanager.accounts": "account1",
    "mail.accountmanager.defaultaccount": "account1",
    "mail.accountmanager.localfoldersserver": "server1",
    "mail.account.account1.server": "server1",
    "mail.account.account1.identities": "id1",
    "mail.server.server1.type": "none",
    "mail.server.server1.hostname": "Local Folders",
    "mail.server.server1.userName": "nobody",
    "mail.server.server1.name": "Local Folders",
    "mail.server.server1.directory-rel": "[ProfD]Mail/Local Folders",
    "mail.identity.id1.useremail": identity.email,
    "mail.identity.id1.fullName": identity.name,
    "mail.identity.id1.smtpServer": "smtp1",
    "mail.identity.id1.valid": true,
    "mail.identity.id1.compose_html": true,
    "mail.identity.id1.fcc": true,
    "mail.identity.id1.fcc_folder": "mailbox://nobody@Local%20Folders/Sent",
    "mail.smtpservers": "smtp1",
    "mail.smtp.defaultserver": "smtp1",
    "mail.smtpserver.smtp1.type": "smtp",
    "mail.smtpserver.smtp1.hostname": "127.0.0.1",
    "mail.smtpserver.smtp1.port": smtpPort,
    "mail.smtpserver.smtp1.authMethod": 1,
    "mail.smtpserver.smtp1.try_ssl": 0,
    "extensions.autoDisableScopes": 0,
    "extensions.enabledScopes": 15,
    "devtools.console.stdout.chrome": true,
    "mail.shell.checkDefaultClient": false,
    "mailnews.start_page.enabled": false,
    "mail.provider.enabled": false,
    "app.update.enabled": false,
    "app.update.auto": false,
    "extensions.update.enabled": false,
    "extensions.getAddons.cache.enabled": false,
    "extensions.blocklist.enabled": false,
    "datareporting.policy.dataSubmissionEnabled": false,
    "datareporting.healthreport.uploadEnabled": false,
    "toolkit.telemetry.enabled": false,
    "browser.safebrowsing.malware.enabled": false,
    "browser.safebrowsing.phishing.enabled": false,
    "network.captive-portal-service.enabled": false,
    "network.connectivity-service.enabled": false,
    "mailnews.auto_config.fetchFromISP.enabled": false,
    // Anything that still tries the internet goes to a closed port on loopback instead
    // (127.0.0.1 itself is never proxied).
    "network.proxy.type": 1,
    "network.proxy.http": "127.0.0.1",
    "network.proxy.http_port": 9,
    "network.proxy.ssl": "127.0.0.1",
    "network.proxy.ssl_port": 9,
    "network.proxy.share_proxy_settings": true,
    ...extraPrefs,
  };
  fs.writeFileSync(
    path.join(dir, "user.js"),
    `${Object.entries(prefs).map(([k, v]) => pref(k, v)).join("\n")}\n`,
  );
}

/** Starts headless Thunderbird on `profile`, with HOME and XDG folders inside `home`. */
export function startThunderbird(profile, home) {
  for (const sub of ["config", "cache", "data", "runtime"]) fs.mkdirSync(path.join(home, sub), { recursive: true, mode: 0o700 });
  const output = [];
  const child = spawn(THUNDERBIRD, ["--profile", profile, "--no-remote", "--headless"], {
    env: {
      ...process.env,
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, "config"),
      XDG_CACHE_HOME: path.join(home, "cache"),
      XDG_DATA_HOME: path.join(home, "data"),
      XDG_RUNTIME_DIR: path.join(home, "runtime"),
      MOZ_HEADLESS: "1",
      MOZ_CRASHREPORTER_DISABLE: "1",
      MOZ_DISABLE_AUTO_SAFE_MODE: "1",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  lines(child.stdout, output);
  lines(child.stderr, output);
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return { child, output, exited };
}
