// The real SMTP sink (tests/support/smtp_sink.py, aiosmtpd) for the JavaScript tests: start
// it, wait for messages, and read each one's parts with Python's email package (transfer
// encodings and RFC 2047 words decoded). Python: $LEAKWATCH_TEST_PYTHON or the environment
// `cargo xtask test` (or `cargo xtask setup`) creates in target/test-python.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

export function testPython() {
  const python = process.env.LEAKWATCH_TEST_PYTHON || path.join(root, "target/test-python/bin/python");
  if (!fs.existsSync(python)) throw new Error(`no Python with aiosmtpd at ${python} (cargo xtask setup creates it; or set LEAKWATCH_TEST_PYTHON)`);
  return python;
}

/** Starts the sink; resolves with `{port, url, messages(), waitFor(predicate), send(eml), stop()}`. */
export async function startSmtpSink() {
  const python = testPython();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "leakwatch-smtp-sink-"));
  const child = spawn(python, [path.join(root, "tests/support/smtp_sink.py"), dir], { stdio: ["ignore", "pipe", "pipe"] });
  const port = await new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`the SMTP sink did not start: ${seen}`)), 20_000);
    const look = (chunk) => {
      seen += chunk;
      const m = seen.match(/listening 127\.0\.0\.1:(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout.setEncoding("utf8").on("data", look);
    child.stderr.setEncoding("utf8").on("data", look);
    child.on("exit", (code) => reject(new Error(`the SMTP sink exited ${code}: ${seen}`)));
  });
  const parsed = new Map();
  /** Every message received so far, parsed: {n, envelope, subject, to, from, html, text, headers}. */
  const messages = () => {
    const out = [];
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
      const stem = path.join(dir, file.slice(0, -5));
      if (!parsed.has(stem)) {
        const envelope = JSON.parse(fs.readFileSync(`${stem}.json`, "utf8"));
        parsed.set(stem, { n: Number(file.slice(0, 4)), envelope, ...mimeParts(python, fs.readFileSync(`${stem}.eml`)) });
      }
      out.push(parsed.get(stem));
    }
    return out;
  };
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    /** The first message `predicate` accepts, waiting up to `ms` for it. */
    async waitFor(predicate, what, ms = 20_000) {
      const until = Date.now() + ms;
      for (;;) {
        const found = messages().find(predicate);
        if (found) return found;
        if (Date.now() > until) throw new Error(`no ${what} at the SMTP sink; received: ${messages().map((m) => `${m.to}: ${m.subject}`).join("; ") || "nothing"}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    /** Delivers a whole message (bytes or text) to the sink over SMTP (Python's smtplib). */
    send(eml, { from, to }) {
      const out = spawnSync(
        python,
        ["-c", "import smtplib, sys\nwith smtplib.SMTP('127.0.0.1', int(sys.argv[1])) as s: s.sendmail(sys.argv[2], [sys.argv[3]], sys.stdin.buffer.read())", String(port), from, to],
        { input: eml },
      );
      if (out.status !== 0) throw new Error(`smtplib: ${out.stderr}`);
    },
    async stop() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      if (child.exitCode === null && child.signalCode === null) await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The parts of a message as a mail program shows them. */
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
  "subject": str(m["subject"] or ""),
  "to": str(m["to"] or ""),
  "from": str(m["from"] or ""),
  "headers": {k.lower(): str(v) for k, v in m.items()},
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
