//! Build and test orchestration: `cargo xtask run` and `cargo xtask test`, the two commands
//! of the README. Each installs what it needs when it is missing, so both work on a fresh
//! machine; every step prints its name and duration so a slow or failing one is obvious.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
mod setup;
mod thunderbird;

use setup::WASM_JS;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    std::env::set_current_dir(&root).context("cannot enter the workspace root")?;
    match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("run") => run(&args[1..]),
        Some("setup") => setup::ensure(setup::FOR_TEST),
        Some("lint") => lint(),
        Some("wasm") => wasm(),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n  run    build everything and run leakwatch\n  setup  install everything the build and the tests need (test and run do it first)\n  test   run the whole test suite (what CI runs)\n  lint   cargo fmt --check and clippy -D warnings\n  wasm   build the WebAssembly package and the classic-Outlook fallback into dist/wasm"
            );
            bail!("unknown or missing command")
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Runs one named step, failing the whole task when it fails.
fn step(name: &str, command: &mut Command) -> Result<()> {
    println!("==> {name}");
    let started = Instant::now();
    let status = command
        .status()
        .with_context(|| format!("{name}: cannot start {:?}", command.get_program()))?;
    println!("<== {name}: {:.1}s", started.elapsed().as_secs_f64());
    if !status.success() {
        bail!("{name} failed ({status})");
    }
    Ok(())
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn lint() -> Result<()> {
    setup::ensure(setup::FOR_LINT)?;
    step(
        "cargo fmt --check",
        cargo().args(["fmt", "--all", "--", "--check"]),
    )?;
    step(
        "cargo clippy -D warnings",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    )
}

fn wasm() -> Result<()> {
    setup::ensure(setup::FOR_RUN)?;
    // One function table only: wasm2js (the classic Outlook fallback) cannot translate the
    // externref table wasm-bindgen adds for reference types. Set here, for this profile only,
    // so the other wasm32 builds keep their cache. See docs/adr/0003-wasm-module.md.
    step(
        "build the wasm module (release, size-tuned)",
        cargo()
            .env(
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
                "-C target-feature=-reference-types",
            )
            .args([
                "build",
                "-p",
                "leakwatch-wasm",
                "--target",
                "wasm32-unknown-unknown",
                "--profile",
                "wasm-release",
            ]),
    )?;
    let module = "target/wasm32-unknown-unknown/wasm-release/leakwatch_wasm.wasm";
    let _ = std::fs::remove_dir_all("dist/wasm");
    for (target, out) in [
        ("web", "dist/wasm/web"),
        ("no-modules", "dist/wasm/.no-modules"),
    ] {
        step(
            &format!("wasm-bindgen --target {target}"),
            Command::new("wasm-bindgen").args(["--target", target, "--out-dir", out, module]),
        )?;
    }
    step(
        "optimise, build the fallback, check the size budget",
        Command::new("node").arg("build.mjs").current_dir(WASM_JS),
    )?;
    println!(
        "wasm package: dist/wasm/web; classic-Outlook fallback: dist/wasm/leakwatch-fallback.js"
    );
    Ok(())
}

/// The Outlook add-in into dist/outlook (after `wasm`): the server embeds it, so this runs
/// before the server is built.
fn outlook_addin() -> Result<()> {
    step(
        "build the Outlook add-in (dist/outlook, embedded in the server)",
        Command::new("node")
            .arg("build.mjs")
            .current_dir(setup::OUTLOOK_ADDIN),
    )
}

/// The dashboard into dist/web (after `wasm`: it carries the core for the policy page); the
/// server embeds it, so this too runs before the server is built.
fn dashboard() -> Result<()> {
    step(
        "build the dashboard (dist/web, embedded in the server)",
        Command::new("node")
            .arg("build.mjs")
            .current_dir(setup::DASHBOARD),
    )
}

fn test(_args: &[String]) -> Result<()> {
    let started = Instant::now();
    // Everything any step needs, before the first step: a fresh machine passes.
    setup::ensure(setup::FOR_TEST)?;
    // The WebAssembly package and its fallback, with the size budget checked; then the
    // Outlook add-in and the dashboard, which the server embeds, before anything compiles the
    // server.
    wasm()?;
    outlook_addin()?;
    dashboard()?;
    lint()?;
    // The core must stay pure (no I/O, no clock): it builds for wasm32 with every feature.
    step(
        "core builds for wasm32 with HTML rewriting",
        cargo().args([
            "build",
            "-p",
            "leakwatch-core",
            "--target",
            "wasm32-unknown-unknown",
            "--all-features",
        ]),
    )?;
    step(
        "build the command line",
        cargo().args(["build", "-p", "leakwatch-cli"]),
    )?;
    let nextest = cargo()
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if nextest {
        step(
            "unit and integration tests (nextest)",
            cargo().args(["nextest", "run", "--workspace", "--no-fail-fast"]),
        )?;
    } else {
        step(
            "unit and integration tests",
            cargo().args([
                "test",
                "--workspace",
                "--no-fail-fast",
                "--lib",
                "--bins",
                "--tests",
            ]),
        )?;
    }
    step("doc tests", cargo().args(["test", "--workspace", "--doc"]))?;
    // Each benchmark once, in test mode, so a broken benchmark is caught.
    step(
        "benchmarks run once",
        cargo().args(["test", "--release", "-p", "leakwatch-core", "--benches"]),
    )?;
    // The alert-latency benchmark, in its quick mode and the debug build the tests already
    // made (a release build of the server would add minutes).
    step(
        "alert latency benchmark runs once",
        cargo().args(["test", "-p", "leakwatch-server", "--bench", "alert_latency"]),
    )?;
    step(
        "wasm shell tests in Node (wasm-bindgen-test)",
        cargo().args([
            "test",
            "-p",
            "leakwatch-wasm",
            "--target",
            "wasm32-unknown-unknown",
        ]),
    )?;
    let webdriver = workspace_root().join("crates/wasm/webdriver.json");
    step(
        "wasm shell tests in headless Chromium (wasm-bindgen-test)",
        cargo()
            .env("WASM_BINDGEN_USE_BROWSER", "1")
            .env("CHROMEDRIVER", "/usr/bin/chromedriver")
            .env("WASM_BINDGEN_TEST_WEBDRIVER_JSON", &webdriver)
            .args([
                "test",
                "-p",
                "leakwatch-wasm",
                "--target",
                "wasm32-unknown-unknown",
            ]),
    )?;
    step(
        "wasm package and fallback in Node: parity with the command line, API",
        Command::new("node")
            .args(["--test", "test/"])
            .env(
                "LEAKWATCH_BIN",
                workspace_root().join("target/debug/leakwatch"),
            )
            .current_dir(WASM_JS),
    )?;
    thunderbird::thunderbird_e2e()?;
    step(
        "Outlook add-in: unit, browser, served-manifest and task-pane (served by leakwatch, SQLite and PostgreSQL) tests",
        Command::new("npm")
            .arg("test")
            .env(
                "LEAKWATCH_BIN",
                workspace_root().join("target/debug/leakwatch"),
            )
            .current_dir(setup::OUTLOOK_ADDIN),
    )?;
    step(
        "dashboard: type check and browser tests (served by leakwatch, SQLite and PostgreSQL; axe-core, screenshots in target/artifacts/web), recipient pages and every page and mail in Dutch and English at desktop and 390 px (screenshots in target/artifacts/screens)",
        Command::new("npm")
            .arg("test")
            .env(
                "LEAKWATCH_BIN",
                workspace_root().join("target/debug/leakwatch"),
            )
            .current_dir(setup::DASHBOARD),
    )?;
    println!(
        "all test steps passed in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn run(args: &[String]) -> Result<()> {
    setup::ensure(setup::FOR_RUN)?;
    wasm()?;
    outlook_addin()?;
    dashboard()?;
    step(
        "build (release)",
        cargo().args(["build", "--release", "--workspace"]),
    )?;
    step(
        "build the Thunderbird add-on (dist/thunderbird and the .xpi)",
        Command::new("node")
            .arg("build.mjs")
            .current_dir("addin/thunderbird"),
    )?;
    let binary = Path::new("target/release/leakwatch");
    let listen = args
        .iter()
        .position(|a| a == "--listen")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    println!("leakwatch is built: {}", binary.display());
    println!("  dashboard:             http://{listen}/  (sign in as a user of a tenant; first tenant and user below)");
    println!(
        "  API and its docs:      http://{listen}/docs  (OpenAPI: http://{listen}/openapi.json)"
    );
    println!("  WebAssembly core:      dist/wasm/web (fallback: dist/wasm/leakwatch-fallback.js)");
    println!("  Thunderbird add-on:    dist/leakwatch-thunderbird-*.xpi (unpacked, manifest.json: dist/thunderbird/; install: README, \"Thunderbird add-on\")");
    println!("  Outlook add-in:        http://{listen}/addin/outlook/manifest.xml and manifest.json (app package: leakwatch-outlook.zip; ?tenant=NAME for its policy's send mode); served from the binary, rendered for --public-url, which Outlook needs to be https:// (README, \"Outlook add-in\")");
    println!(
        "  recipients' page:      http://{listen}/i/<message id> (what the disclosure links to)"
    );
    println!(
        "  check a draft:         {} check draft.json",
        binary.display()
    );
    println!("  first tenant and user: {} tenant create --name NAME --domain DOMAIN; {} user add --tenant NAME --email ADDR --admin", binary.display(), binary.display());
    println!("  data:                  SQLite in ./leakwatch-data (override with --database-url)");
    let mut serve = Command::new(binary);
    serve.arg("serve").args(args);
    step("leakwatch serve (Ctrl-C stops it)", &mut serve)
}

#[cfg(test)]
mod tests {
    use super::workspace_root;

    /// `docs/contracts` is the repository's copy of the contracts outside tools rely on; where
    /// the project's shared folder sits beside the clone (as in CI), the copy must match it.
    #[test]
    fn the_contracts_in_docs_are_the_shared_ones() {
        let root = workspace_root();
        let shared = root.join("../shared/contracts");
        let Ok(entries) = std::fs::read_dir(&shared) else {
            eprintln!(
                "no {} beside the clone: nothing to compare",
                shared.display()
            );
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let ours = std::fs::read_to_string(root.join("docs/contracts").join(&name))
                .unwrap_or_else(|_| panic!("docs/contracts/{name:?} is missing"));
            let theirs = std::fs::read_to_string(entry.path()).unwrap();
            assert_eq!(
                ours, theirs,
                "docs/contracts/{name:?} differs from the shared contract"
            );
        }
    }
}
