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

    /// `Subject:`, unfolded, RFC 2047 encoded words decoded.
    pub fn subject(&self) -> String {
        let (headers, _) = mime::split(&self.raw);
        decode_words(mime::header(&headers, "subject").unwrap_or(""))
    }

    /// Every leaf part of the MIME tree, transfer-decoded: (content type, text).
    pub fn parts(&self) -> Vec<(String, String)> {
        let (headers, body) = mime::split(&self.raw);
        let mut parts = Vec::new();
        mime::collect(&headers, &body, &mut parts);
        parts
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

/// Just enough MIME to read what leakwatch sends: header unfolding, multipart trees,
/// quoted-printable and base64 bodies.
mod mime {
    use base64::Engine;

    /// Header fields (unfolded, names in lower case) and the body.
    pub fn split(raw: &str) -> (Vec<(String, String)>, String) {
        let raw = raw.replace("\r\n", "\n");
        let (head, body) = raw.split_once("\n\n").unwrap_or((raw.as_str(), ""));
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.lines() {
            if line.starts_with([' ', '\t']) {
                if let Some((_, value)) = headers.last_mut() {
                    value.push(' ');
                    value.push_str(line.trim());
                }
            } else if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
            }
        }
        (headers, body.to_string())
    }

    pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn collect(headers: &[(String, String)], body: &str, out: &mut Vec<(String, String)>) {
        let content_type = header(headers, "content-type").unwrap_or("text/plain");
        let lower = content_type.to_ascii_lowercase();
        if lower.starts_with("multipart/") {
            let Some(boundary) = parameter(content_type, "boundary") else {
                return;
            };
            for chunk in body.split(&format!("--{boundary}")).skip(1) {
                if chunk.starts_with("--") {
                    break;
                }
                let chunk = chunk.strip_prefix('\n').unwrap_or(chunk);
                let (part_headers, part_body) = split(chunk);
                collect(&part_headers, &part_body, out);
            }
            return;
        }
        let encoding = header(headers, "content-transfer-encoding")
            .unwrap_or("7bit")
            .to_ascii_lowercase();
        let bytes = match encoding.as_str() {
            "base64" => base64::engine::general_purpose::STANDARD
                .decode(body.split_whitespace().collect::<String>())
                .unwrap_or_default(),
            "quoted-printable" => quoted_printable(body),
            _ => body.as_bytes().to_vec(),
        };
        out.push((lower, String::from_utf8_lossy(&bytes).into_owned()));
    }

    fn parameter(value: &str, name: &str) -> Option<String> {
        value.split(';').skip(1).find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().trim_matches('"').to_string())
        })
    }

    pub fn quoted_printable(body: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for line in body.split('\n') {
            let (line, soft) = match line.strip_suffix('=') {
                Some(l) => (l, true),
                None => (line, false),
            };
            let bytes = line.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                let escaped = (bytes[i] == b'=')
                    .then(|| bytes.get(i + 1..i + 3))
                    .flatten()
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match escaped {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(bytes[i]);
                        i += 1;
                    }
                }
            }
            if !soft {
                out.push(b'\n');
            }
        }
        out.pop(); // the newline after the last line, which had none
        out
    }
}

/// RFC 2047 encoded words (`=?utf-8?b?...?=`, `=?utf-8?q?...?=`) in a header value;
/// whitespace between two words is dropped.
fn decode_words(value: &str) -> String {
    use base64::Engine;
    let mut out = String::new();
    let mut rest = value;
    let mut last_was_word = false;
    while let Some(start) = rest.find("=?") {
        let after = &rest[start + 2..];
        let word = (|| {
            let q1 = after.find('?')?;
            let q2 = q1 + 1 + after[q1 + 1..].find('?')?;
            let end = q2 + 1 + after[q2 + 1..].find("?=")?;
            let text = &after[q2 + 1..end];
            let bytes = match after[q1 + 1..q2].to_ascii_lowercase().as_str() {
                "b" => base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .ok()?,
                "q" => mime::quoted_printable(&text.replace('_', " ")),
                _ => return None,
            };
            Some((
                String::from_utf8_lossy(&bytes).into_owned(),
                start + 2 + end + 2,
            ))
        })();
        let between = &rest[..start];
        match word {
            Some((text, consumed)) => {
                if !(last_was_word && between.trim().is_empty()) {
                    out.push_str(between);
                }
                out.push_str(&text);
                rest = &rest[consumed..];
                last_was_word = true;
            }
            None => {
                out.push_str(between);
                out.push_str("=?");
                rest = after;
                last_was_word = false;
            }
        }
    }
    out.push_str(rest);
    out
}
