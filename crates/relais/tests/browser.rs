//! One end-to-end run in a real browser (Debian's Chromium through chromedriver) with real
//! email (the SMTP sink): setup → owner → workspace → invitation by email → a second user joins
//! as editor → cannot see another workspace.
//! Needs WEBDRIVER_URL (start-chromedriver.sh) and SMTP_HOST/SMTP_PORT/SMTP_SINK_DIR
//! (start-smtp.sh). With CI=true a missing peer fails the test; otherwise it is skipped.

mod common;
use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn peers() -> Option<(String, String, u16, String)> {
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
struct Browser {
    http: reqwest::Client,
    base: String,
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser {
    async fn start(webdriver: &str) -> Browser {
        let args: Value = std::env::var("CHROMIUM_FLAGS")
            .ok()
            .and_then(|f| serde_json::from_str(&f).ok())
            .unwrap_or(json!(["--headless", "--no-sandbox", "--disable-gpu"]));
        let mut args: Vec<Value> = args.as_array().unwrap().clone();
        let profile = std::env::temp_dir().join(format!("relais-chrome-{}", std::process::id()));
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
    async fn cmd(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let mut rb = self.http.request(method, format!("{}{path}", self.base));
        if !body.is_null() {
            rb = rb.json(&body);
        }
        let r = rb.send().await.unwrap();
        r.json::<Value>().await.unwrap()["value"].clone()
    }
    async fn go(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", json!({"url": url}))
            .await;
    }
    async fn find(&self, css: &str) -> String {
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
    async fn fill(&self, css: &str, text: &str) {
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
    async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/click"),
            json!({}),
        )
        .await;
    }
    async fn select(&self, css: &str, value: &str) {
        self.click(&format!("{css} option[value='{value}']")).await;
    }
    async fn source(&self) -> String {
        self.cmd(reqwest::Method::GET, "/source", Value::Null)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
    async fn url(&self) -> String {
        self.cmd(reqwest::Method::GET, "/url", Value::Null)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
    /// Waits until the page contains `text`.
    async fn wait_for(&self, text: &str) -> String {
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
    async fn screenshot(&self, name: &str) {
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
    async fn quit(self) {
        let _ = self.http.delete(&self.base).send().await;
    }
}

/// Decodes a quoted-printable or base64 text part enough to find a link in it.
fn mail_text(raw: &str) -> String {
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

async fn wait_for_mail(dir: &str, to: &str, after: std::time::SystemTime) -> String {
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

#[tokio::test]
async fn setup_invite_join_and_isolation_in_a_real_browser() {
    let Some((webdriver, smtp_host, smtp_port, sink)) = peers() else {
        return;
    };
    let app = spawn_with(|s| {
        s.smtp = Some(relais_web::mail::SmtpSettings {
            host: smtp_host,
            port: smtp_port,
            username: None,
            password: None,
            security: "none".into(),
            from: "relais <relais@example.com>".into(),
        });
    })
    .await;
    let started = std::time::SystemTime::now() - Duration::from_secs(1);
    let b = Browser::start(&webdriver).await;

    // Setup: the one-time link → owner account.
    b.go(app.setup_link.as_ref().unwrap()).await;
    b.wait_for("Create the owner account").await;
    b.screenshot("1-setup").await;
    b.fill("#name", "Olga Owner").await;
    b.fill("#email", "olga@example.com").await;
    b.fill("#password", "correct horse battery").await;
    b.fill("#password_confirm", "correct horse battery").await;
    b.click("button[type=submit]").await;
    b.wait_for("Your workspaces").await;

    // Two workspaces.
    for name in ["Citroën", "Secret project"] {
        b.go(&app.at("/")).await;
        b.fill("#name", name).await;
        b.fill("#time_zone", "Europe/Paris").await;
        b.click("form.grid button[type=submit]").await;
        b.wait_for("Your role").await;
    }
    let ws: Vec<_> = app.state.store.memberships(1).await.unwrap();
    let brand = ws
        .iter()
        .find(|m| m.workspace.name == "Citroën")
        .unwrap()
        .workspace
        .id;
    let secret = ws
        .iter()
        .find(|m| m.workspace.name == "Secret project")
        .unwrap()
        .workspace
        .id;
    b.screenshot("2-workspace").await;

    // Invite an editor by email.
    b.go(&app.at(&format!("/w/{brand}/members"))).await;
    b.fill("#email", "eddie@example.com").await;
    b.select("#role", "editor").await;
    b.click("section button[type=submit]").await;
    b.wait_for("Invitation sent.").await;
    b.screenshot("3-members").await;
    let mail = wait_for_mail(&sink, "eddie@example.com", started).await;
    let start = mail.find(&app.url).expect("link in the invitation email");
    let link: String = mail[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();

    // Sign out, then the invitee joins through the link.
    b.click("header form button").await;
    b.wait_for("Sign in").await;
    b.go(&link).await;
    b.wait_for("Create your account to accept").await;
    b.fill("#name", "Eddie Editor").await;
    b.fill("#password", "editor password 1").await;
    b.fill("#password_confirm", "editor password 1").await;
    b.click("button[type=submit]").await;
    let page = b.wait_for("Your role").await;
    assert!(page.contains("Editor") && page.contains("Citroën"));
    b.screenshot("4-editor").await;

    // The editor cannot see the other workspace: it does not exist for them.
    b.go(&app.at(&format!("/w/{secret}"))).await;
    let page = b.wait_for("Error 404").await;
    assert!(!page.contains("Secret project"));
    b.go(&app.at("/")).await;
    let page = b.wait_for("Your workspaces").await;
    assert!(page.contains("Citroën") && !page.contains("Secret project"));
    assert!(b.url().await.ends_with('/'));
    b.quit().await;
}
