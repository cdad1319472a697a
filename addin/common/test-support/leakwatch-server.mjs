// The real leakwatch server for the add-ins' unit tests: target/debug/leakwatch (or
// $LEAKWATCH_BIN) on SQLite in a temporary folder, or with `postgres: true` on a fresh
// PostgreSQL database ($LEAKWATCH_TEST_POSTGRES or the machine's, made with psql and dropped
// at stop), with one tenant and one user.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

const POSTGRES_ADMIN = process.env.LEAKWATCH_TEST_POSTGRES || "postgres://postgres@127.0.0.1:5432/postgres";

function psql(sql) {
  const out = spawnSync("psql", [POSTGRES_ADMIN, "-v", "ON_ERROR_STOP=1", "-qc", sql], { encoding: "utf8" });
  if (out.status !== 0) throw new Error(`psql ${sql}: ${out.error?.message || out.stderr}`);
}

/**
 * Starts the server; resolves with `{baseUrl, stop()}`. `config` is the text of a TOML
 * settings file (e.g. `trusted_proxies`, `cors_origins`), passed with `--config`. The first
 * user is an admin; `users` adds more, each `{email, password, role}` (`sender`,
 * `privacy-officer` or `admin`).
 */
export async function startLeakwatch({ tenant, email, password, domain = "acme.nl", config, postgres = false, users = [] }) {
  const bin = process.env.LEAKWATCH_BIN || path.join(root, "target/debug/leakwatch");
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: cargo build -p leakwatch-cli`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "leakwatch-addin-test-"));
  const database = postgres ? `leakwatch_addin_${Date.now()}_${Math.floor(Math.random() * 1e6)}` : null;
  const where = ["--data-dir", tmp];
  if (database) {
    psql(`CREATE DATABASE ${database}`);
    where.push("--database-url", POSTGRES_ADMIN.replace(/\/[^/]*$/, `/${database}`));
  }
  const cli = (args, input) => {
    const out = spawnSync(bin, [...args, ...where], { input, encoding: "utf8" });
    if (out.status !== 0) throw new Error(`leakwatch ${args.join(" ")}: ${out.stderr}`);
    return out.stdout;
  };
  cli(["tenant", "create", "--name", tenant, "--domain", domain]);
  cli(["user", "add", "--tenant", tenant, "--email", email, "--admin"]);
  cli(["user", "password", "--tenant", tenant, "--email", email], `${password}\n`);
  for (const user of users) {
    cli(["user", "add", "--tenant", tenant, "--email", user.email, "--role", user.role]);
    cli(["user", "password", "--tenant", tenant, "--email", user.email], `${user.password}\n`);
  }
  const args = ["serve", "--listen", "127.0.0.1:0", ...where];
  if (config !== undefined) {
    fs.writeFileSync(path.join(tmp, "leakwatch.toml"), config);
    args.push("--config", path.join(tmp, "leakwatch.toml"));
  }
  const server = spawn(bin, args, {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, RUST_LOG: "warn" },
  });
  const baseUrl = await new Promise((resolve, reject) => {
    let seen = "";
    server.stderr.setEncoding("utf8");
    server.stderr.on("data", (chunk) => {
      seen += chunk;
      const m = seen.match(/serving on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) resolve(m[1]);
    });
    server.on("exit", (code) => reject(new Error(`leakwatch serve exited ${code}: ${seen}`)));
  });
  return {
    baseUrl,
    async stop() {
      const exited = new Promise((resolve) => server.once("exit", resolve));
      server.kill("SIGTERM");
      if (server.exitCode === null && server.signalCode === null) await exited;
      fs.rmSync(tmp, { recursive: true, force: true });
      if (database) psql(`DROP DATABASE IF EXISTS ${database}`);
    },
  };
}
