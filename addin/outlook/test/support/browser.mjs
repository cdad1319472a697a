// Headless Chromium from the system (never a downloaded browser) and a small static server
// for a build folder, for the browser tests.

import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css", ".png": "image/png", ".wasm": "application/wasm", ".json": "application/json", ".xml": "application/xml" };

/** Serves `dir` on 127.0.0.1; `{url, close()}`. */
export async function serveStatic(dir) {
  const server = http.createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url, "http://x").pathname);
    const file = path.join(dir, path.normalize(pathname).replace(/^(\.\.[/\\])+/, ""));
    if (!file.startsWith(dir) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream", "Cache-Control": "no-store" });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((resolve) => server.close(resolve)) };
}

async function chromiumInstalled() {
  for (let attempt = 0; ; attempt++) {
    if (fs.existsSync(CHROMIUM)) return;
    if (attempt >= 10) throw new Error(`${CHROMIUM} is missing`);
    await new Promise((resolve) => setTimeout(resolve, 30_000));
  }
}

/** A browser for several contexts at once (each its own cookies: one per signed-in user). */
export async function launchBrowser() {
  await chromiumInstalled();
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}

/** A fresh persistent context in a new user-data-dir; retries while Chromium is being reinstalled. */
export async function launchChromium() {
  await chromiumInstalled();
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "leakwatch-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: ARGS });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
