// Builds the Outlook add-in into dist/outlook/: what the server serves under /addin/outlook/.
//
//   launchevent.js    the event handler: the core's fallback loader (WebAssembly where the
//                     runtime has it, wasm2js where not) and the handlers, one ES2016 script
//   launchevent.html  the page the browser runtimes load it from (with Office.js)
//   taskpane.html/.js/.css, wasm/  the task pane and the core's web package it checks with
//   icon-*.png, color.png, outline.png
//   manifest-templates/  the two manifest templates the server renders (manifest/render.mjs)
//   example/          both manifests rendered for http://127.0.0.1:8080 (sideloading), and
//                     the two icons the unified manifest's app package carries beside it
//
// `--test` builds target/outlook-test/ instead: the same files plus the test-only harness
// page. Nothing test-only is ever written to dist/outlook (test/package.test.mjs checks).

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import * as acorn from "acorn";
import { ICONS, drawIcon } from "./icons.mjs";
import { render } from "./manifest/render.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, "../..");
export const distDir = path.join(root, "dist/outlook");
export const testDir = path.join(root, "target/outlook-test");
const wasmDir = path.join(root, "dist/wasm");
export const EXAMPLE = { baseUrl: "http://127.0.0.1:8080", sendMode: "softBlock" };
/** Office.js from Microsoft's CDN, as every add-in page must load it. */
export const OFFICE_JS = "https://appsforoffice.microsoft.com/lib/1/hosted/office.js";

/** The handler bundle alone (ES2016, IIFE, no imports). */
async function handlerBundle() {
  const result = await esbuild.build({
    entryPoints: [path.join(here, "src/launchevent.mjs")],
    bundle: true,
    format: "iife",
    target: "es2016",
    minify: true,
    write: false,
    legalComments: "none",
    logLevel: "warning",
  });
  return result.outputFiles[0].text;
}

async function taskpaneBundle(entry = "taskpane/taskpane.mjs") {
  const result = await esbuild.build({
    entryPoints: [path.join(here, entry)],
    // MSAL is loaded only when Microsoft sign-in is offered.
    external: ["./naa.js"],
    bundle: true,
    format: "esm",
    target: "es2020",
    minify: true,
    write: false,
    legalComments: "none",
    logLevel: "warning",
  });
  return result.outputFiles[0].text;
}

function write(dir, name, content) {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

function launchEventPage() {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>leakwatch</title>
<script src="${OFFICE_JS}"></script>
<script src="launchevent.js"></script>
</head>
<body></body>
</html>
`;
}

export async function build({ test = false } = {}) {
  const out = test ? testDir : distDir;
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });

  const fallback = fs.readFileSync(path.join(wasmDir, "leakwatch-fallback.js"), "utf8");
  const handler = `${fallback}\n${await handlerBundle()}`;
  // The classic-Windows runtime takes ES2016 and nothing newer: refuse to ship otherwise.
  acorn.parse(handler, { ecmaVersion: 2016, sourceType: "script" });
  write(out, "launchevent.js", handler);
  write(out, "launchevent.html", launchEventPage());

  write(out, "taskpane.js", await taskpaneBundle());
  write(out, "naa.js", await taskpaneBundle("taskpane/naa.mjs"));
  for (const file of ["taskpane.html", "taskpane.css"]) fs.copyFileSync(path.join(here, "taskpane", file), path.join(out, file));
  for (const file of fs.readdirSync(path.join(wasmDir, "web"))) {
    if (file.endsWith(".js") || file.endsWith(".wasm")) write(out, `wasm/${file}`, fs.readFileSync(path.join(wasmDir, "web", file)));
  }

  for (const [name, [size, options]] of Object.entries(ICONS)) write(out, name, drawIcon(size, options));

  for (const name of ["manifest.xml.tmpl", "manifest.json.tmpl"]) {
    const template = fs.readFileSync(path.join(here, "manifest", name), "utf8");
    write(out, `manifest-templates/${name}`, template);
    write(out, `example/${name.replace(/\.tmpl$/, "")}`, render(template, EXAMPLE));
  }
  // The unified manifest's app package is the manifest with these two icons beside it.
  for (const name of ["color.png", "outline.png"]) fs.copyFileSync(path.join(out, name), path.join(out, "example", name));
  if (test) {
    // Test-only: a page that loads the shipped handler under an Office.js host double.
    for (const file of ["harness.html", "office-host-double.js"]) fs.copyFileSync(path.join(here, "test/support", file), path.join(out, file));
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = await build({ test: process.argv.includes("--test") });
  console.log(`leakwatch Outlook add-in built into ${path.relative(root, out)}/`);
}
