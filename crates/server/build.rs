//! The Outlook add-in (`dist/outlook`, src/addin/files.rs) and the dashboard (`dist/web`,
//! src/dashboard) are embedded in the server: rebuild when they change, and say so when
//! they have not been built.

use std::path::Path;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let outlook = root.join("dist/outlook");
    let web = root.join("dist/web");
    // A directory is scanned as a whole; a path that does not exist would rerun this (and
    // rebuild the server) on every build, so watch the nearest folder that exists.
    for built in [&outlook, &web] {
        let watched = [built.clone(), root.join("dist")]
            .into_iter()
            .find(|p| p.is_dir());
        match watched {
            Some(dir) => println!("cargo:rerun-if-changed={}", dir.display()),
            None => println!("cargo:rerun-if-changed=build.rs"),
        }
    }
    if !web.join("index.html").is_file() {
        println!(
            "cargo:warning=dist/web is not built: this server will not serve the dashboard              (/ answers 503 saying so). Build it with `node web/build.mjs` (after `cargo xtask              wasm`; `cargo xtask run` does both), then build the server again."
        );
    }
    if !outlook.join("taskpane.html").is_file() {
        println!(
            "cargo:warning=dist/outlook is not built: this server will not serve the Outlook add-in \
             (/addin/outlook/ answers 503 saying so). Build it with `node addin/outlook/build.mjs` \
             (after `cargo xtask wasm`; `cargo xtask run` does both), then build the server again."
        );
    }
}
