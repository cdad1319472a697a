//! `cargo xtask setup`: everything the build and the tests need from outside the repository,
//! installed in one phase before the first step that needs any of it.
//!
//! `test` runs the whole list first, `run` the part the build needs. The list is data
//! ([`Need`]) so that a unit test can hold it against the repository: every system binary a
//! test or build file names by absolute path, and every npm package folder, must be in it.
//! A step that needs something new cannot reach CI without it being installed up front.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::{cargo, step, workspace_root};

/// One thing from outside the repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// A rustup component, probed with `cargo <probe> --version`.
    RustComponent {
        component: &'static str,
        probe: &'static str,
    },
    /// The `wasm32-unknown-unknown` target.
    WasmTarget,
    /// `wasm-bindgen-cli` at exactly the version in Cargo.lock.
    WasmBindgenCli,
    /// A Debian package, present when `probe` exists.
    Apt {
        package: &'static str,
        probe: &'static str,
    },
    /// `npm ci` in this folder (relative to the workspace root).
    Npm(&'static str),
    /// The tests' Python environment with aiosmtpd (`target/test-python`).
    TestPython,
    /// The machine's PostgreSQL on 127.0.0.1:5432, started when down.
    Postgres,
}

pub const WASM_JS: &str = "crates/wasm/js";
pub const THUNDERBIRD_ADDON: &str = "addin/thunderbird";
pub const THUNDERBIRD_E2E: &str = "tests/thunderbird";
pub const OUTLOOK_ADDIN: &str = "addin/outlook";
pub const DASHBOARD: &str = "web";

/// What `cargo xtask run` needs: the Rust build, the WebAssembly package and the add-ins'
/// and the dashboard's build tools.
pub const FOR_RUN: &[Need] = &[
    Need::WasmTarget,
    Need::WasmBindgenCli,
    Need::Npm(WASM_JS),
    Need::Npm(OUTLOOK_ADDIN),
    Need::Npm(DASHBOARD),
];

/// What `cargo xtask lint` needs.
pub const FOR_LINT: &[Need] = &[
    Need::RustComponent {
        component: "rustfmt",
        probe: "fmt",
    },
    Need::RustComponent {
        component: "clippy",
        probe: "clippy",
    },
];

/// What `cargo xtask test` needs, for every one of its steps.
pub const FOR_TEST: &[Need] = &[
    Need::RustComponent {
        component: "rustfmt",
        probe: "fmt",
    },
    Need::RustComponent {
        component: "clippy",
        probe: "clippy",
    },
    Need::WasmTarget,
    Need::WasmBindgenCli,
    Need::Npm(WASM_JS),
    Need::Npm(THUNDERBIRD_ADDON),
    Need::Npm(THUNDERBIRD_E2E),
    Need::Npm(OUTLOOK_ADDIN),
    Need::Npm(DASHBOARD),
    // Browser tests: the server's transparency page (nextest), the wasm shell in Chromium,
    // the Thunderbird end-to-end test's recipient.
    Need::Apt {
        package: "chromium",
        probe: "/usr/bin/chromium",
    },
    Need::Apt {
        package: "chromium-driver",
        probe: "/usr/bin/chromedriver",
    },
    Need::Apt {
        package: "thunderbird",
        probe: "/usr/lib/thunderbird/thunderbird",
    },
    Need::TestPython,
    Need::Postgres,
];

/// Installs whatever of `needs` is missing, apt packages in one `apt-get install`.
pub fn ensure(needs: &[Need]) -> Result<()> {
    let missing_apt: Vec<&str> = needs
        .iter()
        .filter_map(|need| match need {
            Need::Apt { package, probe } if !Path::new(probe).exists() => Some(*package),
            _ => None,
        })
        .collect();
    if !missing_apt.is_empty() {
        apt_install(&missing_apt)?;
    }
    for need in needs {
        match *need {
            Need::RustComponent { component, probe } => ensure_rust_component(component, probe)?,
            Need::WasmTarget => ensure_wasm_target()?,
            Need::WasmBindgenCli => ensure_wasm_bindgen_cli()?,
            Need::Apt { package, probe } => {
                anyhow::ensure!(
                    Path::new(probe).exists(),
                    "apt-get installed {package}, but {probe} is still missing"
                );
            }
            Need::Npm(dir) => ensure_npm_packages(dir)?,
            Need::TestPython => {
                let python = ensure_test_python()?;
                // Tests that need a real SMTP server run `tests/support/smtp_sink.py` with it.
                std::env::set_var("LEAKWATCH_TEST_PYTHON", python);
            }
            Need::Postgres => ensure_postgres()?,
        }
    }
    Ok(())
}

fn ensure_rust_component(component: &str, probe: &str) -> Result<()> {
    if cargo()
        .args([probe, "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Ok(());
    }
    step(
        &format!("install {component}"),
        Command::new("rustup").args(["component", "add", component]),
    )
}

fn ensure_wasm_target() -> Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("rustup is needed to add the wasm32 target")?;
    if String::from_utf8_lossy(&installed.stdout).contains("wasm32-unknown-unknown") {
        return Ok(());
    }
    step(
        "add the wasm32 target",
        Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]),
    )
}

/// The wasm-bindgen version pinned in Cargo.lock; the CLI must match it exactly.
fn locked_wasm_bindgen_version() -> Result<String> {
    let lock = std::fs::read_to_string("Cargo.lock").context("cannot read Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            if let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = ")) {
                return Ok(version.trim_matches('"').to_string());
            }
        }
    }
    bail!("wasm-bindgen is not in Cargo.lock")
}

fn ensure_wasm_bindgen_cli() -> Result<()> {
    let version = locked_wasm_bindgen_version()?;
    let installed = Command::new("wasm-bindgen")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    if installed == format!("wasm-bindgen {version}") {
        return Ok(());
    }
    // Without --locked: the registry copy lacks one pinned dependency.
    step(
        &format!("install wasm-bindgen-cli {version}"),
        cargo().args(["install", "wasm-bindgen-cli", "--version", &version]),
    )
}

/// Debian packages; `apt-get update` first when the package lists are empty or stale.
fn apt_install(packages: &[&str]) -> Result<()> {
    let install = || {
        let mut command = Command::new("apt-get");
        command
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "--no-install-recommends"])
            .args(packages);
        command
    };
    let name = format!("apt-get install {}", packages.join(" "));
    if step(&name, &mut install()).is_ok() {
        return Ok(());
    }
    step("apt-get update", Command::new("apt-get").arg("update"))?;
    step(&name, &mut install())
}

/// `npm ci` when node_modules is missing or older than the lock file.
fn ensure_npm_packages(dir: &str) -> Result<()> {
    let dir = Path::new(dir);
    let lock = dir.join("package-lock.json");
    // npm writes node_modules/.package-lock.json on every install.
    let installed = dir.join("node_modules/.package-lock.json");
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let current = match (modified(&installed), modified(&lock)) {
        (Some(installed), Some(lock)) => installed >= lock,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if current {
        return Ok(());
    }
    let command = if lock.exists() { "ci" } else { "install" };
    step(
        &format!("npm {command} in {}", dir.display()),
        Command::new("npm")
            .args([command, "--no-audit", "--no-fund"])
            .current_dir(dir),
    )
}

const TEST_PYTHON_PACKAGES: &[&str] = &[
    "-m",
    "pip",
    "install",
    "--quiet",
    "aiosmtpd==1.4.6",
    "schemathesis==4.32.5",
];

/// aiosmtpd (the tests' SMTP server) and schemathesis (the API's property tests), pinned in a
/// virtual environment under `target/` (PyPI is reachable; the system Python is left alone).
/// Returns the environment's interpreter.
pub fn ensure_test_python() -> Result<PathBuf> {
    let venv = workspace_root().join("target/test-python");
    let python = venv.join("bin/python");
    let ready = || {
        Command::new(&python)
            .args(["-c", "import aiosmtpd, schemathesis"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if ready() {
        return Ok(python);
    }
    if !python.exists() {
        step(
            "create the test Python environment",
            Command::new("python3").arg("-m").arg("venv").arg(&venv),
        )?;
    }
    step(
        "install aiosmtpd and schemathesis (the tests' SMTP server and API property tests)",
        Command::new(&python).args(TEST_PYTHON_PACKAGES),
    )?;
    anyhow::ensure!(
        ready(),
        "aiosmtpd or schemathesis did not install into {}",
        venv.display()
    );
    Ok(python)
}

/// The server tests need the machine's PostgreSQL on 127.0.0.1:5432; start it if it is down.
fn ensure_postgres() -> Result<()> {
    let reachable = || {
        std::net::TcpStream::connect_timeout(
            &"127.0.0.1:5432".parse().expect("valid address"),
            std::time::Duration::from_secs(1),
        )
        .is_ok()
    };
    if reachable() {
        return Ok(());
    }
    let versions = std::fs::read_dir("/etc/postgresql")
        .context("PostgreSQL is not installed (no /etc/postgresql)")?;
    for version in versions.flatten() {
        let version = version.file_name().to_string_lossy().to_string();
        let _ = step(
            &format!("start PostgreSQL {version}"),
            Command::new("pg_ctlcluster").args([
                "--skip-systemctl-redirect",
                &version,
                "main",
                "start",
            ]),
        );
    }
    for _ in 0..20 {
        if reachable() {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    bail!("PostgreSQL does not answer on 127.0.0.1:5432")
}

#[cfg(test)]
mod tests {
    //! The guard: the lists above hold against what the repository's files use.

    use super::*;

    /// Binaries every machine of this kind has; anything else named by absolute path must
    /// come from an apt package in [`FOR_TEST`].
    const BASE_SYSTEM: &[&str] = &["/usr/bin/env"];

    /// Folders of what the test command builds and runs (bench/ is run by hand).
    const SCANNED: &[&str] = &["crates", "tests", "addin", "xtask", "web", "fuzz"];

    fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if path.is_dir() {
                if !matches!(name.as_str(), "node_modules" | "target" | "dist" | ".git") {
                    source_files(&path, out);
                }
            } else if [".rs", ".mjs", ".js", ".py", ".sh", ".toml", ".json"]
                .iter()
                .any(|ext| name.ends_with(ext))
            {
                out.push(path);
            }
        }
    }

    fn scanned_files() -> Vec<PathBuf> {
        let root = workspace_root();
        let mut files = Vec::new();
        for dir in SCANNED {
            source_files(&root.join(dir), &mut files);
        }
        assert!(files.len() > 50, "the scan found the repository's files");
        files
    }

    /// `/usr/bin/NAME` and `/usr/lib/NAME/...` as written in a file.
    fn system_paths(text: &str) -> Vec<String> {
        let mut found = Vec::new();
        for prefix in ["/usr/bin/", "/usr/lib/"] {
            for (at, _) in text.match_indices(prefix) {
                let rest = &text[at + prefix.len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                    .collect();
                if !name.is_empty() {
                    found.push(format!("{prefix}{name}"));
                }
            }
        }
        found
    }

    fn provided(path: &str) -> bool {
        BASE_SYSTEM.contains(&path)
            || FOR_TEST.iter().any(|need| match need {
                // /usr/lib/thunderbird/thunderbird provides /usr/lib/thunderbird.
                Need::Apt { probe, .. } => probe == &path || probe.starts_with(&format!("{path}/")),
                // The machine's PostgreSQL brings its server programs (initdb, pg_ctl).
                Need::Postgres => path == "/usr/lib/postgresql",
                _ => false,
            })
    }

    #[test]
    fn every_system_binary_a_file_names_is_installed_up_front() {
        let mut unprovided = Vec::new();
        for file in scanned_files() {
            if file.ends_with("xtask/src/setup.rs") {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            for path in system_paths(&text) {
                if !provided(&path) {
                    unprovided.push(format!("{} names {path}", file.display()));
                }
            }
        }
        assert!(
            unprovided.is_empty(),
            "add the apt package to setup::FOR_TEST:\n{}",
            unprovided.join("\n")
        );
    }

    #[test]
    fn every_npm_package_folder_is_installed_up_front() {
        let root = workspace_root();
        let mut missing = Vec::new();
        for file in scanned_files() {
            if file.file_name().is_some_and(|n| n == "package.json") {
                let dir = file.parent().unwrap().strip_prefix(&root).unwrap();
                let dir = dir.to_string_lossy().to_string();
                if !FOR_TEST
                    .iter()
                    .any(|need| matches!(need, Need::Npm(listed) if *listed == dir))
                {
                    missing.push(dir);
                }
            }
        }
        assert!(
            missing.is_empty(),
            "add Need::Npm to setup::FOR_TEST for: {missing:?}"
        );
    }

    #[test]
    fn the_guard_sees_a_binary_that_is_not_installed() {
        assert_eq!(
            system_paths(r#"let x = "/usr/bin/nginx"; spawn("/usr/lib/firefox/firefox")"#),
            ["/usr/bin/nginx", "/usr/lib/firefox"]
        );
        assert!(!provided("/usr/bin/nginx"));
        assert!(provided("/usr/bin/chromium"));
        assert!(provided("/usr/lib/thunderbird"));
    }

    #[test]
    fn what_run_and_lint_need_is_part_of_what_test_installs() {
        for need in FOR_RUN.iter().chain(FOR_LINT) {
            assert!(FOR_TEST.contains(need), "{need:?}");
        }
    }
}
