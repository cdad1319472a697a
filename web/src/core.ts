// The WebAssembly core, the same module the add-ins check with, loaded on first use (only
// the policy page needs it): the disclosure preview and the policy simulator run the
// tenant's proposed policy exactly as the add-ins will.

type Core = typeof import("../../dist/wasm/web/leakwatch_wasm.js");

let loading: Promise<Core> | null = null;

export function loadCore(): Promise<Core> {
  loading ??= (async () => {
    // A path the bundler leaves alone: the module is copied next to app.js at build time.
    const url = new URL("wasm/leakwatch_wasm.js", document.baseURI).href;
    const core = (await import(/* @vite-ignore */ url)) as Core;
    await core.default({ module_or_path: new URL("wasm/leakwatch_wasm_bg.wasm", document.baseURI) });
    return core;
  })();
  return loading;
}
