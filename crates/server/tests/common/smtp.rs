//! A real SMTP server on loopback for tests: `tests/support/smtp_sink.py` (aiosmtpd) run
//! with `$LEAKWATCH_TEST_PYTHON` (set by `cargo xtask test`), or the virtual environment
//! that `cargo xtask test` creates under `target/test-python`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct SmtpSink {
    pub port: u16,
    pub dir: PathBuf,
    child: Child,
}

/// One received message.
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    /// The message as received (headers and body).
    pub raw: String,
}

impl Received {
    /// The body with quoted-printable soft breaks and `=XX` escapes undone, and base64
    /// parts decoded, so assertions can look for text.
    pub fn text(&self) -> String {
        use base64::Engine;
        let mut out = String::new();
        let (headers, body) = self
            .raw
            .split_once("\r\n\r\n")
            .or_else(|| self.raw.split_once("\n\n"))
            .unwrap_or(("", &self.raw));
        if headers
            .to_ascii_lowercase()
            .contains("content-transfer-encoding: base64")
        {
            let joined: String = body.split_whitespace().collect();
            if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(joined) {
                out.push_str(&String::from_utf8_lossy(&bytes));
                return out;
            }
        }
        let unfolded = body.replace("=\r\n", "").replace("=\n", "");
        let bytes = unfolded.as_bytes();
        let mut decoded = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'=' && i + 2 < bytes.len() {
                if let Ok(b) = u8::from_str_radix(&unfolded[i + 1..i + 3], 16) {
                    decoded.push(b);
                    i += 3;
                    continue;
                }
            }
            decoded.push(bytes[i]);
            i += 1;
        }
        out.push_str(&String::from_utf8_lossy(&decoded));
        out
    }

    pub fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.raw
            .lines()
            .take_while(|l| !l.is_empty())
            .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].trim().to_string())
    }
}

fn python() -> PathBuf {
    if let Ok(p) = std::env::var("LEAKWATCH_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = workspace_root().join("target/test-python/bin/python");
    assert!(
        venv.exists(),
        "no Python with aiosmtpd: run `cargo xtask test` once (it creates target/test-python) or set LEAKWATCH_TEST_PYTHON"
    );
    venv
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/server is two levels down")
        .to_path_buf()
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        use std::io::BufRead;
        let dir = std::env::temp_dir().join(format!(
            "leakwatch_smtp_{}",
            leakwatch_server::db::random_id().replace(['-', '_'], "")
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut child = Command::new(python())
            .arg(workspace_root().join("tests/support/smtp_sink.py"))
            .arg(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the SMTP sink starts");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the SMTP sink says where it listens");
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected SMTP sink output: {line:?}"));
        SmtpSink { port, dir, child }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The messages received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        names.retain(|p| p.extension().is_some_and(|e| e == "json"));
        names.sort();
        names
            .iter()
            .map(|meta| {
                let v: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(meta).unwrap()).unwrap();
                Received {
                    mail_from: v["mail_from"].as_str().unwrap_or_default().to_string(),
                    rcpt_tos: v["rcpt_tos"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|r| r.as_str().map(String::from))
                                .collect()
                        })
                        .unwrap_or_default(),
                    raw: String::from_utf8_lossy(
                        &std::fs::read(meta.with_extension("eml")).unwrap(),
                    )
                    .to_string(),
                }
            })
            .collect()
    }

    /// Waits until at least `n` messages arrived.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.received();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
