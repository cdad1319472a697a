//! A real SMTP server for tests: `tests/support/smtp_sink.py` (aiosmtpd) on 127.0.0.1,
//! run with `$LEAKWATCH_TEST_PYTHON` (set by `cargo xtask test`), else the workspace's
//! `target/test-python/bin/python` (`python3 -m venv target/test-python &&
//! target/test-python/bin/pip install aiosmtpd==1.4.6`). Killed when dropped.
//!
//! ```ignore
//! let sink = SmtpSink::start();
//! let app = spawn_with(backend, |c| c.mail.smarthost = sink.smarthost()).await;
//! let mails = sink.wait_for_messages(1, Duration::from_secs(10));
//! assert_eq!(mails[0].rcpt_tos, ["jan@klant.nl"]);
//! ```

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;

pub struct SmtpSink {
    pub port: u16,
    pub dir: PathBuf,
    child: Child,
}

/// One message as the sink received it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    /// The message exactly as received.
    pub raw: String,
    /// `Subject:`, RFC 2047 words decoded.
    pub subject: String,
    /// The header fields, unfolded, names in lower case.
    pub headers: Vec<(String, String)>,
    /// Every text part, transfer-decoded: (content type, body).
    pub parts: Vec<(String, String)>,
}

impl ReceivedMail {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `text/plain` part (or the first part).
    pub fn text(&self) -> &str {
        self.parts
            .iter()
            .find(|(t, _)| t.starts_with("text/plain"))
            .or(self.parts.first())
            .map(|(_, b)| b.as_str())
            .unwrap_or("")
    }

    /// Every `http(s)://` link in the text parts, in order.
    pub fn links(&self) -> Vec<String> {
        let mut links = Vec::new();
        for (_, body) in &self.parts {
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
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/server is two levels below the workspace")
        .to_path_buf()
}

/// The interpreter with aiosmtpd.
pub fn python() -> PathBuf {
    match std::env::var_os("LEAKWATCH_TEST_PYTHON") {
        Some(python) => PathBuf::from(python),
        None => workspace_root().join("target/test-python/bin/python"),
    }
}

impl SmtpSink {
    /// Starts the sink and waits (up to 20 s) until it listens.
    pub fn start() -> SmtpSink {
        let dir = std::env::temp_dir().join(format!(
            "leakwatch_smtp_{}",
            leakwatch_server::db::random_id().replace(['-', '_'], "")
        ));
        std::fs::create_dir_all(&dir).expect("a directory for the sink");
        let script = workspace_root().join("tests/support/smtp_sink.py");
        let python = python();
        let mut child = Command::new(&python)
            .arg(&script)
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {} {} ({e}); run `cargo xtask test` once, or create the venv: \
                     python3 -m venv target/test-python && target/test-python/bin/pip install aiosmtpd==1.4.6",
                    python.display(),
                    script.display()
                )
            });
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            // Keep draining so the sink never blocks on a full pipe.
            for _ in lines {}
        });
        let line = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "the SMTP sink did not start (is aiosmtpd installed for {}?)",
                    python.display()
                );
            }
        };
        let port = line
            .strip_prefix("listening 127.0.0.1:")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("unexpected line from the SMTP sink: {line}"));
        SmtpSink { port, dir, child }
    }

    /// The `mail.smarthost` setting for this sink.
    pub fn smarthost(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Messages received so far, in order.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        let mut metas: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "json"))
                    .collect()
            })
            .unwrap_or_default();
        metas.sort();
        metas
            .iter()
            .map(|meta| {
                let json: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(meta).unwrap()).unwrap();
                let raw = std::fs::read(meta.with_extension("eml")).unwrap();
                parse(
                    json["mail_from"].as_str().unwrap_or_default(),
                    json["rcpt_tos"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|v| v.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default(),
                    &String::from_utf8_lossy(&raw),
                )
            })
            .collect()
    }

    /// Waits until at least `n` messages arrived; panics after `timeout`.
    pub fn wait_for_messages(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            if Instant::now() > deadline {
                panic!(
                    "the SMTP sink got {} message(s) within {timeout:?}, expected {n}",
                    messages.len()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
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

/// Header fields (unfolded) and body of a message or part.
fn split(raw: &str) -> (Vec<(String, String)>, String) {
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

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Parses a message as the sink stored it.
pub fn parse(mail_from: &str, rcpt_tos: Vec<String>, raw: &str) -> ReceivedMail {
    let (headers, body) = split(raw);
    let subject = decode_words(header(&headers, "subject").unwrap_or(""));
    let mut parts = Vec::new();
    collect_parts(&headers, &body, &mut parts);
    ReceivedMail {
        mail_from: mail_from.to_string(),
        rcpt_tos,
        raw: raw.to_string(),
        subject,
        headers,
        parts,
    }
}

fn collect_parts(headers: &[(String, String)], body: &str, out: &mut Vec<(String, String)>) {
    let content_type = header(headers, "content-type").unwrap_or("text/plain");
    let lower = content_type.to_ascii_lowercase();
    if lower.starts_with("multipart/") {
        let Some(boundary) = parameter(content_type, "boundary") else {
            return;
        };
        let delimiter = format!("--{boundary}");
        for chunk in body.split(&delimiter).skip(1) {
            if chunk.starts_with("--") {
                break;
            }
            let chunk = chunk.strip_prefix('\n').unwrap_or(chunk);
            let (part_headers, part_body) = split(chunk);
            collect_parts(&part_headers, &part_body, out);
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

fn quoted_printable(body: &str) -> Vec<u8> {
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

/// RFC 2047 encoded words (`=?utf-8?b?...?=`, `=?utf-8?q?...?=`) in a header value;
/// whitespace between two words is dropped.
fn decode_words(value: &str) -> String {
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
                "q" => quoted_printable(&text.replace('_', " ")),
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
