// Node benchmark of the WebAssembly package and the wasm2js fallback: build a Checker from
// 2,000 history messages, then check a 50-recipient draft. Prints the median per call.
// Run: `cargo xtask wasm && node crates/wasm/js/bench.mjs` (target: wasm check under 2 ms).

import { loadFallback, loadWeb, syntheticMailbox } from "./load.mjs";

function median(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function measure(fn, { warmup, runs }) {
  for (let i = 0; i < warmup; i++) fn();
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return median(samples);
}

const { policy, history, message } = syntheticMailbox(2000);
const engines = [
  ["wasm", await loadWeb()],
  ["wasm2js fallback", loadFallback({ withoutWebAssembly: true })],
];
const results = {};
for (const [name, api] of engines) {
  const build = measure(() => new api.Checker({ policy, history }).free(), { warmup: 2, runs: 15 });
  const checker = new api.Checker({ policy, history });
  const check = measure(() => checker.check(message, "en"), { warmup: 20, runs: 200 });
  checker.free();
  results[name] = { build_ms: build, check_ms: check };
  console.log(`${name.padEnd(17)} build (2,000 messages): ${build.toFixed(2)} ms   check (50 recipients): ${check.toFixed(3)} ms (median)`);
}
if (process.argv.includes("--json")) console.log(JSON.stringify(results));
