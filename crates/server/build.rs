//! The Outlook add-in (`dist/outlook`) is embedded in the server (src/addin/files.rs):
//! rebuild when it changes, and say so when it has not been built.

use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let outlook = root.join("dist/outlook");
    // A directory is scanned as a whole; a path that does not exist would rerun this (and
    // rebuild the server) on every build, so watch the nearest folder that exists.
    let watched = [outlook.clone(), root.join("dist")]
        .into_iter()
        .find(|p| p.is_dir());
    match watched {
        Some(dir) => println!("cargo:rerun-if-changed={}", dir.display()),
        None => println!("cargo:rerun-if-changed=build.rs"),
    }
    if !outlook.join("taskpane.html").is_file() {
        println!(
            "cargo:warning=dist/outlook is not built: this server will not serve the Outlook add-in \
             (/addin/outlook/ answers 503 saying so). Build it with `node addin/outlook/build.mjs` \
             (after `cargo xtask wasm`; `cargo xtask run` does both), then build the server again."
        );
    }
}
