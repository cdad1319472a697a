// Builds the Thunderbird add-on: dist/thunderbird/ (the unpacked add-on) and
// dist/leakwatch-thunderbird-VERSION.xpi (the same files zipped, manifest.json at the root).
//
//   node addin/thunderbird/build.mjs [--server https://leakwatch.example.nl]... [--lint]
//   node addin/thunderbird/build.mjs --test-build
//
// `--test-build` builds the end-to-end test's own variant into target/thunderbird-test/ and
// target/leakwatch-thunderbird-test.xpi, never into dist/: the product plus the hooks in
// tests/thunderbird/hooks (a background script that takes commands from the test's driver
// add-on and reports what the add-on did, and a script in each page that reports what it
// shows and presses its buttons). The product package contains none of it; its unit test
// (test/package.test.mjs) fails if a hook gets in.
//
// The WebAssembly core comes from dist/wasm/web (`cargo xtask wasm`), the shared glue from
// addin/common. `--server` adds that server to the manifest's host permissions, for an
// organisation that hands out its own build (otherwise the options page asks for access when
// the user signs in). `--lint` runs `web-ext lint` on the result and fails on errors.

import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const wasm = path.join(root, "dist/wasm/web");

const args = process.argv.slice(2);
const servers = [];
const testBuild = args.includes("--test-build");
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--server") servers.push(args[++i]);
  else if (args[i] !== "--lint" && args[i] !== "--test-build") {
    console.error(`unknown argument ${args[i]}`);
    process.exit(2);
  }
}

const out = path.join(root, testBuild ? "target/thunderbird-test" : "dist/thunderbird");
const hooks = path.join(root, "tests/thunderbird/hooks");

if (!fs.existsSync(path.join(wasm, "leakwatch_wasm_bg.wasm"))) {
  console.error("dist/wasm/web is missing: run `cargo xtask wasm` first");
  process.exit(1);
}

/** The add-on's own files, as they are laid out in the package. */
const OWN = ["background.js", "common.css", "lib", "warning", "options", "view", "action", "icons"];

fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
for (const entry of OWN) {
  fs.cpSync(path.join(here, entry), path.join(out, entry), { recursive: true });
}
fs.mkdirSync(path.join(out, "common"));
for (const file of fs.readdirSync(path.join(root, "addin/common"))) {
  if (file.endsWith(".mjs")) fs.copyFileSync(path.join(root, "addin/common", file), path.join(out, "common", file));
}
fs.mkdirSync(path.join(out, "wasm"));
for (const file of fs.readdirSync(wasm)) {
  if (/\.(js|wasm|d\.ts)$/.test(file)) fs.copyFileSync(path.join(wasm, file), path.join(out, "wasm", file));
}

const manifest = JSON.parse(fs.readFileSync(path.join(here, "manifest.json"), "utf8"));
for (const server of servers) {
  const url = new URL(server);
  const pattern = `${url.protocol}//${url.hostname}/*`;
  if (!manifest.host_permissions.includes(pattern)) manifest.host_permissions.push(pattern);
}
if (testBuild) {
  // The hooks: a second background module and a script in each page (after the page's own).
  fs.cpSync(hooks, path.join(out, "testing"), { recursive: true });
  manifest.background.scripts.push("testing/background-hooks.js");
  manifest.name += " (test build)";
  for (const page of ["warning/warning.html", "options/options.html", "view/view.html"]) {
    const file = path.join(out, page);
    const html = fs.readFileSync(file, "utf8");
    if (!html.includes("</head>")) throw new Error(`${page} has no </head>`);
    fs.writeFileSync(file, html.replace("</head>", '  <script type="module" src="../testing/page-hooks.js"></script>\n</head>'));
  }
}
fs.writeFileSync(path.join(out, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);

// Every module the pages import must be in the package (a missing one fails only at run time).
const missing = [];
const walk = (dir) => {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(file);
    else if (/\.(m?js|html)$/.test(entry.name)) {
      const text = fs.readFileSync(file, "utf8");
      const refs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|src=)["'](\.{1,2}\/[^"']+)["']/g)].map((m) => m[1]);
      for (const ref of refs) {
        if (!fs.existsSync(path.resolve(dir, ref))) missing.push(`${path.relative(out, file)} -> ${ref}`);
      }
    }
  }
};
walk(out);
if (missing.length) {
  console.error(`unresolved imports in the package:\n  ${missing.join("\n  ")}`);
  process.exit(1);
}

// Zip with Python's zipfile: deterministic order and timestamps, manifest.json first.
const xpi = testBuild
  ? path.join(root, "target", "leakwatch-thunderbird-test.xpi")
  : path.join(root, "dist", `leakwatch-thunderbird-${manifest.version}.xpi`);
const zip = spawnSync(
  "python3",
  [
    "-c",
    `
import os, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
files = []
for base, dirs, names in os.walk(src):
    dirs.sort()
    for name in sorted(names):
        files.append(os.path.relpath(os.path.join(base, name), src))
files.sort(key=lambda f: (f != "manifest.json", f))
tmp = dst + ".tmp"
with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
    for f in files:
        info = zipfile.ZipInfo(f.replace(os.sep, "/"), date_time=(2024, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        with open(os.path.join(src, f), "rb") as fh:
            z.writestr(info, fh.read())
os.replace(tmp, dst)
print(len(files))
`,
    out,
    xpi,
  ],
  { encoding: "utf8" },
);
if (zip.status !== 0) {
  console.error(`zipping failed: ${zip.stderr}`);
  process.exit(1);
}
console.log(`built ${path.relative(root, out)}/ and ${path.relative(root, xpi)} (${zip.stdout.trim()} files, ${fs.statSync(xpi).size} bytes)`);

if (args.includes("--lint")) {
  const bin = path.join(here, "node_modules/.bin/web-ext");
  if (!fs.existsSync(bin)) {
    console.error("web-ext is not installed: run `npm ci` in addin/thunderbird");
    process.exit(1);
  }
  const lint = spawnSync(bin, ["lint", "--source-dir", out, "--output", "text", "--no-config-discovery"], {
    stdio: "inherit",
    env: { ...process.env, WEB_EXT_NO_UPDATE_CHECK: "1" },
  });
  process.exit(lint.status ?? 1);
}
