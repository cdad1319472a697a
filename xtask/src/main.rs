//! Build and test orchestration: `cargo xtask run` and `cargo xtask test`, the two commands
//! of the README. Each installs what it needs when it is missing, so both work on a fresh
//! machine; every step prints its name and duration so a slow or failing one is obvious.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    std::env::set_current_dir(&root).context("cannot enter the workspace root")?;
    match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("run") => run(&args[1..]),
        Some("lint") => lint(),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n  run    build everything and run leakwatch\n  test   run the whole test suite (what CI runs)\n  lint   cargo fmt --check and clippy -D warnings"
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

fn has_command(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success())
}

fn ensure_rust_components() -> Result<()> {
    for (component, probe) in [("rustfmt", "fmt"), ("clippy", "clippy")] {
        if !cargo()
            .args([probe, "--version"])
            .output()
            .is_ok_and(|o| o.status.success())
        {
            step(
                &format!("install {component}"),
                Command::new("rustup").args(["component", "add", component]),
            )?;
        }
    }
    Ok(())
}

fn lint() -> Result<()> {
    ensure_rust_components()?;
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

fn ensure_wasm_target() -> Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("rustup is needed to add the wasm32 target")?;
    if !String::from_utf8_lossy(&installed.stdout).contains("wasm32-unknown-unknown") {
        step(
            "add the wasm32 target",
            Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]),
        )?;
    }
    Ok(())
}

fn test(_args: &[String]) -> Result<()> {
    let started = Instant::now();
    lint()?;
    ensure_wasm_target()?;
    // The core must stay pure: no I/O, no clock, so it builds for the browser's wasm32.
    step(
        "core builds for wasm32",
        cargo().args([
            "build",
            "-p",
            "leakwatch-core",
            "--target",
            "wasm32-unknown-unknown",
        ]),
    )?;
    step(
        "core builds for wasm32 without default features",
        cargo().args([
            "build",
            "-p",
            "leakwatch-core",
            "--target",
            "wasm32-unknown-unknown",
            "--no-default-features",
        ]),
    )?;
    if has_command("cargo-nextest", "--version")
        || cargo()
            .args(["nextest", "--version"])
            .output()
            .is_ok_and(|o| o.status.success())
    {
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
    step(
        "benchmarks compile and run once",
        cargo().args(["bench", "--workspace", "--no-run"]),
    )?;
    println!(
        "all test steps passed in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn run(args: &[String]) -> Result<()> {
    step(
        "build (release)",
        cargo().args(["build", "--release", "--workspace"]),
    )?;
    let binary = Path::new("target/release/leakwatch");
    println!("leakwatch is built: {}", binary.display());
    println!("  check a draft:    {} check draft.json", binary.display());
    println!(
        "  add a disclosure: {} disclose --format html --info-url URL body.html",
        binary.display()
    );
    if args.is_empty() {
        return Ok(());
    }
    step("leakwatch", Command::new(binary).args(args))
}
