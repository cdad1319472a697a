// Builds the dashboard into dist/web/, which the server embeds and serves at /:
//   index.html, app.css, app.js   the single page (TypeScript bundled by esbuild)
//   wasm/                          the core's web package (from dist/wasm/web, built first by
//                                  `cargo xtask wasm`), loaded by the policy page only
//   entra.js, entra-redirect.*     "Sign in with Microsoft" (MSAL), loaded only when chosen
// Nothing test-only is built: the browser tests drive this same output through the server.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..");
export const distDir = path.join(root, "dist/web");
const wasmDir = path.join(root, "dist/wasm/web");

export async function build() {
  if (!fs.existsSync(path.join(wasmDir, "leakwatch_wasm_bg.wasm"))) {
    throw new Error(`${wasmDir} is missing: run cargo xtask wasm first`);
  }
  fs.rmSync(distDir, { recursive: true, force: true });
  fs.mkdirSync(path.join(distDir, "wasm"), { recursive: true });
  const common = { outdir: distDir, bundle: true, format: "esm", target: "es2022", minify: true, legalComments: "none", logLevel: "warning" };
  await esbuild.build({
    ...common,
    entryPoints: [path.join(here, "src/main.ts")],
    entryNames: "app",
    // The charts (Chart.js) load with the overview page only.
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
  });
  // Sign-in with Microsoft, under fixed names the page loads by URL.
  await esbuild.build({
    ...common,
    entryPoints: { entra: path.join(here, "src/entra.ts"), "entra-redirect": path.join(here, "src/entra-redirect.ts") },
  });
  for (const file of ["index.html", "app.css", "entra-redirect.html"]) fs.copyFileSync(path.join(here, file), path.join(distDir, file));
  for (const file of ["leakwatch_wasm.js", "leakwatch_wasm_bg.wasm"]) fs.copyFileSync(path.join(wasmDir, file), path.join(distDir, "wasm", file));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await build();
  const size = (name) => fs.statSync(path.join(distDir, name)).size;
  console.log(`leakwatch dashboard built into dist/web/ (app.js ${(size("app.js") / 1024).toFixed(1)} KB)`);
}
