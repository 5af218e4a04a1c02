//! The browser tests' helpers: the peers they need, a small WebDriver client, the SMTP sink.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::TestApp;

pub fn peers() -> Option<(String, String, u16, String)> {
    let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    match (
        get("WEBDRIVER_URL"),
        get("SMTP_HOST"),
        get("SMTP_PORT"),
        get("SMTP_SINK_DIR"),
    ) {
        (Some(w), Some(h), Some(p), Some(d)) => Some((w, h, p.parse().unwrap(), d)),
        _ => {
            let msg = "browser test needs ../shared/peers/start-chromedriver.sh and start-smtp.sh (WEBDRIVER_URL, SMTP_HOST, SMTP_PORT, SMTP_SINK_DIR)";
            assert!(std::env::var("CI").as_deref() != Ok("true"), "{msg}");
            eprintln!("skipped: {msg}");
            None
        }
    }
}

/// The smallest WebDriver client that reads well in a test.
pub struct Browser {
    http: reqwest::Client,
    base: String,
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser {
    pub async fn start(webdriver: &str) -> Browser {
        let args: Value = std::env::var("CHROMIUM_FLAGS")
            .ok()
            .and_then(|f| serde_json::from_str(&f).ok())
            .unwrap_or(json!(["--headless", "--no-sandbox", "--disable-gpu"]));
        let mut args: Vec<Value> = args.as_array().unwrap().clone();
        // One profile per browser: tests of this file run side by side.
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let profile =
            std::env::temp_dir().join(format!("relais-chrome-{}-{n}", std::process::id()));
        args.push(json!(format!("--user-data-dir={}", profile.display())));
        args.push(json!("--window-size=1280,900"));
        args.push(json!("--lang=en-US"));
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {"binary": std::env::var("CHROMIUM_BIN").unwrap_or("/usr/bin/chromium".into()), "args": args}}}});
        let http = reqwest::Client::new();
        let r: Value = http
            .post(format!("{webdriver}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {r}"))
            .to_string();
        Browser {
            http,
            base: format!("{webdriver}/session/{id}"),
        }
    }
    pub async fn cmd(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let mut rb = self.http.request(method, format!("{}{path}", self.base));
        if !body.is_null() {
            rb = rb.json(&body);
        }
        let r = rb.send().await.unwrap();
        r.json::<Value>().await.unwrap()["value"].clone()
    }
    pub async fn go(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", json!({"url": url}))
            .await;
    }
    pub async fn find(&self, css: &str) -> String {
        let t0 = Instant::now();
        loop {
            let v = self
                .cmd(
                    reqwest::Method::POST,
                    "/element",
                    json!({"using": "css selector", "value": css}),
                )
                .await;
            if let Some(id) = v[ELEMENT].as_str() {
                return id.to_string();
            }
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "no element {css}: {v}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    pub async fn fill(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/clear"),
            json!({}),
        )
        .await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            json!({"text": text}),
        )
        .await;
    }
    pub async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/click"),
            json!({}),
        )
        .await;
    }
    pub async fn select(&self, css: &str, value: &str) {
        self.click(&format!("{css} option[value='{value}']")).await;
    }
    pub async fn source(&self) -> String {
        self.cmd(reqwest::Method::GET, "/source", Value::Null)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
    pub async fn url(&self) -> String {
        self.cmd(reqwest::Method::GET, "/url", Value::Null)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
    /// Waits until the page contains `text`.
    pub async fn wait_for(&self, text: &str) -> String {
        let t0 = Instant::now();
        loop {
            let s = self.source().await;
            if s.contains(text) {
                return s;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "page never showed {text:?}: {s}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    pub async fn screenshot(&self, name: &str) {
        use base64::Engine;
        let v = self
            .cmd(reqwest::Method::GET, "/screenshot", Value::Null)
            .await;
        if let (Some(b64), Ok(dir)) = (v.as_str(), std::env::var("RELAIS_SCREENSHOTS")) {
            let _ = std::fs::create_dir_all(&dir);
            let _ = std::fs::write(
                format!("{dir}/{name}.png"),
                base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .unwrap(),
            );
        }
    }
    /// Runs a script in the page (WebDriver bypasses the page's CSP), e.g. to fill a date input
    /// whatever the browser's locale.
    pub async fn exec(&self, script: &str, args: Value) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": script, "args": args}),
        )
        .await
    }
    pub async fn window(&self, width: u32, height: u32) {
        self.cmd(
            reqwest::Method::POST,
            "/window/rect",
            json!({"width": width, "height": height}),
        )
        .await;
    }
    pub async fn login(&self, app: &TestApp, email: &str, password: &str) {
        self.go(&app.at("/login")).await;
        self.fill("#email", email).await;
        self.fill("#password", password).await;
        self.click("button[type=submit]").await;
        self.wait_for("Your workspaces").await;
    }
    pub async fn quit(self) {
        let _ = self.http.delete(&self.base).send().await;
    }
}

/// Decodes a quoted-printable or base64 text part enough to find a link in it.
pub fn mail_text(raw: &str) -> String {
    use base64::Engine;
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .or_else(|| raw.split_once("\n\n"))
        .unwrap_or(("", raw));
    let head = head.to_ascii_lowercase();
    if head.contains("content-transfer-encoding: base64") {
        let clean: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        return String::from_utf8_lossy(
            &base64::engine::general_purpose::STANDARD
                .decode(clean)
                .unwrap_or_default(),
        )
        .into();
    }
    if head.contains("quoted-printable") {
        let joined = body.replace("=\r\n", "").replace("=\n", "");
        let mut out = Vec::new();
        let b = joined.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'=' && i + 2 < b.len() {
                if let Ok(v) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                    out.push(v);
                    i += 3;
                    continue;
                }
            }
            out.push(b[i]);
            i += 1;
        }
        return String::from_utf8_lossy(&out).into();
    }
    body.to_string()
}

pub async fn wait_for_mail(dir: &str, to: &str, after: std::time::SystemTime) -> String {
    let t0 = Instant::now();
    loop {
        if let Ok(entries) = std::fs::read_dir(format!("{dir}/eml")) {
            for e in entries.flatten() {
                let newer = e
                    .metadata()
                    .and_then(|m| m.modified())
                    .map(|m| m >= after)
                    .unwrap_or(false);
                let raw = std::fs::read_to_string(e.path()).unwrap_or_default();
                if newer && raw.to_ascii_lowercase().contains(&format!("to: {to}")) {
                    return mail_text(&raw);
                }
            }
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "no email to {to} in {dir}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
