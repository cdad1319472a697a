// Loads the leakwatch core (the wasm-bindgen `--target web` package) in a browser or an
// extension page, without a bundler. The package is copied next to the add-in's files, so
// the module and its `.wasm` come from the add-in itself (no network, CSP `'self'` plus
// `'wasm-unsafe-eval'`).

const loading = new Map();

/**
 * Imports `leakwatch_wasm.js` from `baseUrl` (the folder that holds the package) and
 * instantiates its module once per folder. `wasm` may give the module's bytes instead of
 * fetching `leakwatch_wasm_bg.wasm` (Node, where `fetch` does not read files).
 * Resolves to the package's exports: `Checker`, `checkDraft`, `version`.
 */
export function loadCore(baseUrl, { wasm } = {}) {
  const base = new URL(String(baseUrl).replace(/\/?$/, "/"));
  const key = base.href;
  if (!loading.has(key)) {
    const promise = (async () => {
      const glue = await import(new URL("leakwatch_wasm.js", base).href);
      await glue.default({ module_or_path: wasm ?? new URL("leakwatch_wasm_bg.wasm", base) });
      return glue;
    })();
    promise.catch(() => loading.delete(key));
    loading.set(key, promise);
  }
  return loading.get(key);
}
