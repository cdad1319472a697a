//! The Thunderbird add-on's test steps: build and `web-ext lint` the add-on, its unit tests
//! (Node, with the real WebAssembly core and server), and the end-to-end test that drives a
//! real headless Thunderbird (`tests/thunderbird`).
//!
//! Expects what `test()` installs and builds before it: the setup phase (Debian's
//! `thunderbird` and `chromium`, the npm packages of both folders, the test Python),
//! `dist/wasm/web` (`cargo xtask wasm`) and `target/debug/leakwatch`.

use std::process::Command;

use anyhow::{Context, Result};

use crate::setup::{ensure_test_python, THUNDERBIRD_ADDON as ADDON, THUNDERBIRD_E2E as E2E};
use crate::{step, workspace_root};

pub fn thunderbird_e2e() -> Result<()> {
    let python = ensure_test_python()?;
    let leakwatch = workspace_root().join("target/debug/leakwatch");
    anyhow::ensure!(
        leakwatch.exists(),
        "{} is missing: build the command line first",
        leakwatch.display()
    );
    step(
        "Thunderbird add-on: build dist/thunderbird and the .xpi, web-ext lint",
        Command::new("node")
            .args(["build.mjs", "--lint"])
            .current_dir(ADDON),
    )?;
    step(
        "Thunderbird add-on and addin/common: unit tests (Node, real wasm core and server) and every add-on page in headless Chromium, Dutch and English, desktop and 390 px (screenshots in target/artifacts/thunderbird)",
        Command::new("node")
            .args(["--test", "test/", "../common/test/"])
            .env("LEAKWATCH_BIN", &leakwatch)
            .current_dir(ADDON),
    )?;
    step(
        "Thunderbird end to end (real headless Thunderbird, server, SMTP, Chromium)",
        Command::new("node")
            .args(["--test", "--test-concurrency=1", "e2e.test.mjs"])
            .env("LEAKWATCH_BIN", &leakwatch)
            .env("LEAKWATCH_TEST_PYTHON", &python)
            .current_dir(E2E),
    )
    .context("the Thunderbird end-to-end test failed (LEAKWATCH_E2E_KEEP=1 keeps its folder)")
}
