//! Newsletter test support: reading mails (the SMTP sink's .eml files, or a local server's),
//! decoding their MIME parts, and a minimal SMTP server that refuses chosen recipients with
//! 550 (the sink accepts everyone, so bounces need a server that says no).
#![allow(dead_code)]

pub mod flows;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// A received mail: raw text and its decoded parts (content type, body).
#[derive(Debug, Clone)]
pub struct Mail {
    pub raw: String,
    pub parts: Vec<(String, String)>,
}

impl Mail {
    pub fn parse(raw: &str) -> Mail {
        Mail {
            raw: raw.to_string(),
            parts: parts(raw),
        }
    }
    pub fn part(&self, kind: &str) -> &str {
        self.parts
            .iter()
            .find(|(ct, _)| ct.starts_with(kind))
            .map(|(_, b)| b.as_str())
            .unwrap_or_else(|| panic!("no {kind} part in {}", self.raw))
    }
    pub fn text(&self) -> &str {
        self.part("text/plain")
    }
    pub fn html(&self) -> &str {
        self.part("text/html")
    }
    /// A header's value (first occurrence, unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.raw.split("\r\n\r\n").next().unwrap_or("");
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
    /// The first link to `path` (e.g. "/nl/confirm/") in the text part, as a path.
    pub fn link(&self, path: &str) -> String {
        let t = self.text();
        let i = t.find(path).unwrap_or_else(|| panic!("no {path} in {t}"));
        let token: String = t[i + path.len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        format!("{path}{token}")
    }
}

fn decode_qp(s: &str) -> String {
    let s = s.replace("=\r\n", "").replace("=\n", "");
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz");
            if let Ok(v) = u8::from_str_radix(hex, 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn decode_part(part: &str) -> (String, String) {
    let (head, body) = part
        .split_once("\r\n\r\n")
        .or_else(|| part.split_once("\n\n"))
        .unwrap_or((part, ""));
    let get = |name: &str| {
        head.lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_lowercase())
            })
            .unwrap_or_default()
    };
    let ct = get("content-type");
    let body = match get("content-transfer-encoding").as_str() {
        "quoted-printable" => decode_qp(body),
        "base64" => {
            use base64::Engine;
            let clean: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            String::from_utf8_lossy(
                &base64::engine::general_purpose::STANDARD
                    .decode(clean)
                    .unwrap_or_default(),
            )
            .into_owned()
        }
        _ => body.to_string(),
    };
    (ct, body.replace("\r\n", "\n"))
}

/// The decoded leaf parts of a multipart message (or the single body).
pub fn parts(raw: &str) -> Vec<(String, String)> {
    let head = raw.split("\r\n\r\n").next().unwrap_or("");
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    let boundary = unfolded.split("boundary=").nth(1).map(|b| {
        b.trim_start_matches('"')
            .split(['"', ';', '\r', '\n'])
            .next()
            .unwrap_or("")
            .to_string()
    });
    match boundary {
        Some(b) => raw
            .split(&format!("--{b}"))
            .skip(1)
            .filter(|p| !p.starts_with("--"))
            .map(|p| decode_part(p.trim_start_matches("\r\n")))
            .collect(),
        None => vec![decode_part(raw)],
    }
}

/// Mails the SMTP sink received for `to` whose raw text contains `marker`.
pub fn sink_mails(dir: &str, to: &str, marker: &str) -> Vec<Mail> {
    let dir = std::path::Path::new(dir).join("eml");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let raw = std::fs::read_to_string(e.path()).unwrap_or_default();
        let m = Mail::parse(&raw);
        let rcpt = m.header("To").unwrap_or_default();
        if rcpt.contains(to)
            && (raw.contains(marker) || m.parts.iter().any(|(_, b)| b.contains(marker)))
        {
            out.push(m);
        }
    }
    out
}

/// Waits until the sink holds `n` mails for `to` with `marker`.
pub async fn wait_sink(dir: &str, to: &str, marker: &str, n: usize) -> Vec<Mail> {
    for _ in 0..200 {
        let got = sink_mails(dir, to, marker);
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no {n} mail(s) for {to} with {marker} in the sink");
}

/// A minimal SMTP server on 127.0.0.1: accepts every recipient except those starting with
/// `bounce`, which get `550 5.1.1 no such user`. Keeps what it accepted.
#[derive(Clone, Default)]
pub struct LocalSmtp {
    pub port: u16,
    pub accepted: Arc<Mutex<Vec<(String, String)>>>,
}

impl LocalSmtp {
    pub async fn start() -> LocalSmtp {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let me = LocalSmtp {
            port: l.local_addr().unwrap().port(),
            ..Default::default()
        };
        let store = me.accepted.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = l.accept().await {
                let store = store.clone();
                tokio::spawn(async move {
                    let _ = session(sock, store).await;
                });
            }
        });
        me
    }

    /// Mails accepted for `to`.
    pub fn mails(&self, to: &str) -> Vec<Mail> {
        self.accepted
            .lock()
            .unwrap()
            .iter()
            .filter(|(r, _)| r == to)
            .map(|(_, d)| Mail::parse(d))
            .collect()
    }

    pub async fn wait(&self, to: &str, n: usize) -> Vec<Mail> {
        for _ in 0..200 {
            let m = self.mails(to);
            if m.len() >= n {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no {n} mail(s) for {to} on the local SMTP server");
    }
}

async fn session(
    sock: tokio::net::TcpStream,
    store: Arc<Mutex<Vec<(String, String)>>>,
) -> std::io::Result<()> {
    let (r, mut w) = sock.into_split();
    let mut r = BufReader::new(r);
    w.write_all(b"220 local ESMTP\r\n").await?;
    let mut rcpts: Vec<String> = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_string();
        let upper = cmd.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            b"250-local\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("MAIL FROM") {
            rcpts.clear();
            b"250 ok\r\n"
        } else if upper.starts_with("RCPT TO") {
            let addr = cmd
                .split(['<', '>'])
                .nth(1)
                .unwrap_or("")
                .to_ascii_lowercase();
            if addr.starts_with("bounce") {
                b"550 5.1.1 no such user\r\n"
            } else {
                rcpts.push(addr);
                b"250 ok\r\n"
            }
        } else if upper == "DATA" {
            w.write_all(b"354 go\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                data.push_str(
                    line.strip_prefix('.')
                        .filter(|_| line.starts_with(".."))
                        .unwrap_or(&line),
                );
            }
            let mut s = store.lock().unwrap();
            for rc in rcpts.drain(..) {
                s.push((rc, data.clone()));
            }
            b"250 queued\r\n"
        } else if upper == "QUIT" {
            w.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"250 ok\r\n" // RSET, NOOP
        };
        w.write_all(reply).await?;
    }
}
