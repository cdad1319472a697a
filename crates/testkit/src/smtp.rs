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
    /// The message parsed by `mail-parser` (MIME tree, transfer encodings, RFC 2047 words).
    fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(self.raw.as_bytes())
            .expect("the sink received a message")
    }

    /// Every text part, decoded, one after the other: for assertions that look for text.
    pub fn text(&self) -> String {
        self.parts()
            .into_iter()
            .map(|(_, text)| text)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// `Subject:`, unfolded, RFC 2047 encoded words decoded.
    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_string()
    }

    /// Every leaf text part of the MIME tree, transfer-decoded: (content type, text).
    pub fn parts(&self) -> Vec<(String, String)> {
        use mail_parser::{MimeHeaders, PartType};
        let message = self.parsed();
        message
            .parts
            .iter()
            .filter_map(|part| {
                let text = match &part.body {
                    PartType::Text(text) | PartType::Html(text) => text.to_string(),
                    _ => return None,
                };
                let kind = part
                    .content_type()
                    .map(|t| match t.subtype() {
                        Some(sub) => format!("{}/{sub}", t.ctype()),
                        None => t.ctype().to_string(),
                    })
                    .unwrap_or_else(|| "text/plain".to_string());
                Some((kind, text))
            })
            .collect()
    }

    /// The `text/plain` part (or the first part), decoded.
    pub fn plain_text(&self) -> String {
        let parts = self.parts();
        parts
            .iter()
            .find(|(t, _)| t.starts_with("text/plain"))
            .or(parts.first())
            .map(|(_, b)| b.clone())
            .unwrap_or_default()
    }

    /// Every `http(s)://` link of the text parts, in order.
    pub fn links(&self) -> Vec<String> {
        let mut links = Vec::new();
        for (_, body) in self.parts() {
            let mut rest = body.as_str();
            while let Some(start) = rest.find("http") {
                let candidate = &rest[start..];
                if candidate.starts_with("http://") || candidate.starts_with("https://") {
                    let end = candidate
                        .find(|c: char| c.is_whitespace() || matches!(c, '"' | '<' | '>'))
                        .unwrap_or(candidate.len());
                    links.push(candidate[..end].to_string());
                    rest = &candidate[end..];
                } else {
                    rest = &candidate[4..];
                }
            }
        }
        links
    }

    /// A header as received (not decoded).
    pub fn header(&self, name: &str) -> Option<String> {
        self.parsed()
            .header_raw(name)
            .map(|value| value.trim().to_string())
    }
}

/// The tests' Python, with aiosmtpd and schemathesis.
pub fn test_python() -> PathBuf {
    if let Ok(p) = std::env::var("LEAKWATCH_TEST_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = workspace_root().join("target/test-python/bin/python");
    assert!(
        venv.exists(),
        "no test Python (aiosmtpd, schemathesis): run `cargo xtask setup` once (it creates target/test-python) or set LEAKWATCH_TEST_PYTHON"
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
        SmtpSink::start_on(0)
    }

    /// On a given port (0: a free one), e.g. one a server was told about while nothing
    /// listened there.
    pub fn start_on(port: u16) -> SmtpSink {
        use std::io::BufRead;
        let dir = std::env::temp_dir().join(format!(
            "leakwatch_smtp_{}",
            leakwatch_server::kit::ids::random_id().replace(['-', '_'], "")
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut child = Command::new(test_python())
            .arg(workspace_root().join("tests/support/smtp_sink.py"))
            .arg(&dir)
            .args(["--port", &port.to_string()])
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_decoding() {
        let raw = "Subject: =?utf-8?b?QmV2ZXN0aWcgdXcgYmV6d2Fhcg==?= =?utf-8?q?_=C3=A9?=\r\n\
                   Content-Type: multipart/alternative; boundary=\"XX\"\r\n\r\n\
                   --XX\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
                   Open =C3=A9=\r\nen: https://x.test/i/confirm/abc?lang=3Dnl\r\n--XX\r\n\
                   Content-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\nPGI+aGk8L2I+\r\n--XX--\r\n";
        let mail = Received {
            mail_from: "a@b".into(),
            rcpt_tos: vec!["c@d".into()],
            raw: raw.into(),
        };
        assert_eq!(mail.subject(), "Bevestig uw bezwaar é");
        let parts = mail.parts();
        assert_eq!(parts.len(), 2);
        assert!(
            mail.plain_text().starts_with("Open éen: https://"),
            "{}",
            mail.plain_text()
        );
        assert_eq!(mail.links(), vec!["https://x.test/i/confirm/abc?lang=nl"]);
        assert_eq!(parts[1], ("text/html".into(), "<b>hi</b>".into()));
    }
}
