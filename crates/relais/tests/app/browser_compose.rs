//! The composer in a real browser (Chromium through chromedriver): tick channels and an image,
//! type, add a thread part; the counters and the preview follow the typing (htmx), the draft
//! saves itself and says when. Needs WEBDRIVER_URL (start-chromedriver.sh); with CI=true a
//! missing peer fails the test, otherwise it is skipped. RELAIS_SCREENSHOTS=dir keeps a PNG.

use crate::common;
use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Browser {
    http: reqwest::Client,
    base: String,
}

impl Browser {
    async fn start(webdriver: &str) -> Browser {
        let args: Value = std::env::var("CHROMIUM_FLAGS")
            .ok()
            .and_then(|f| serde_json::from_str(&f).ok())
            .unwrap_or(json!(["--headless", "--no-sandbox", "--disable-gpu"]));
        let mut args: Vec<Value> = args.as_array().unwrap().clone();
        let profile = std::env::temp_dir().join(format!(
            "relais-chrome-compose-{}",
            relais_store::random_token(6)
        ));
        args.push(json!(format!("--user-data-dir={}", profile.display())));
        args.push(json!("--window-size=1280,1400"));
        args.push(json!("--lang=en-US"));
        let bin = std::env::var("CHROMIUM_BIN").unwrap_or("/usr/bin/chromium".into());
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {"binary": bin, "args": args}}}});
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
            .expect("a session")
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
        rb.send().await.unwrap().json::<Value>().await.unwrap()["value"].clone()
    }
    async fn go(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", json!({ "url": url }))
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
    async fn keys(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            json!({ "text": text }),
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
    async fn source(&self) -> String {
        let v = self.cmd(reqwest::Method::GET, "/source", Value::Null).await;
        v.as_str().unwrap_or_default().to_string()
    }
    async fn wait_for(&self, text: &str) -> String {
        let t0 = Instant::now();
        loop {
            let s = self.source().await;
            if s.contains(text) {
                return s;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(15),
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
        let png = base64::engine::general_purpose::STANDARD
            .decode(v.as_str().expect("a screenshot"))
            .unwrap();
        assert!(png.starts_with(b"\x89PNG"));
        if let Ok(dir) = std::env::var("RELAIS_SCREENSHOTS") {
            let _ = std::fs::create_dir_all(&dir);
            std::fs::write(format!("{dir}/{name}.png"), png).unwrap();
        }
    }
    async fn quit(self) {
        let _ = self.http.delete(&self.base).send().await;
    }
}

/// A 96×64 PNG (stripes in the brand's colours), encoded with stored deflate blocks.
fn png(seed: u8) -> Vec<u8> {
    fn crc(data: &[u8]) -> u32 {
        let mut c = 0xffff_ffffu32;
        for b in data {
            c ^= u32::from(*b);
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend(data);
        out.extend(&body);
        out.extend(crc(&body).to_be_bytes());
    }
    let (w, h) = (96u32, 64u32);
    let mut raw = Vec::new();
    for y in 0..h {
        raw.push(0); // filter: none
        for x in 0..w {
            let c = match (x / 32 + y / 32) % 3 {
                0 => [0x37, 0x30, 0xa3 ^ seed],
                1 => [0xf5, 0x9e, 0x0b],
                _ => [0xe5, 0xe7, 0xeb],
            };
            raw.extend(c);
        }
    }
    let mut z = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, b) in blocks.iter().enumerate() {
        z.push(u8::from(i + 1 == blocks.len()));
        z.extend((b.len() as u16).to_le_bytes());
        z.extend((!(b.len() as u16)).to_le_bytes());
        z.extend(*b);
    }
    let (mut a, mut bb) = (1u32, 0u32);
    for x in &raw {
        a = (a + u32::from(*x)) % 65_521;
        bb = (bb + a) % 65_521;
    }
    z.extend(((bb << 16) | a).to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

#[tokio::test]
async fn compose_with_preview_thread_and_autosave_in_a_real_browser() {
    let Some(webdriver) = std::env::var("WEBDRIVER_URL")
        .ok()
        .filter(|v| !v.is_empty())
    else {
        let msg = "browser test needs ../shared/peers/start-chromedriver.sh (WEBDRIVER_URL)";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{msg}");
        eprintln!("skipped: {msg}");
        return;
    };
    let app = spawn_app().await;
    let owner = app.owner("en").await;
    let ws = app.create_workspace(&owner, "Citroën").await;
    let masto = app
        .channel(
            ws,
            "mastodon",
            "Mastodon FR",
            json!({"max_characters": 500}),
        )
        .await;
    let bsky = app.channel(ws, "bluesky", "Bluesky", json!({})).await;
    let (_, html) = app.get(&owner, &format!("/w/{ws}/media")).await;
    let part = reqwest::multipart::Part::bytes(png(0)).file_name("logo.png");
    let form = reqwest::multipart::Form::new()
        .text("alt", "")
        .part("file", part);
    let r = owner
        .post(app.at(&format!("/w/{ws}/media?_csrf={}", csrf_of(&html))))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let media = app.state.store.list_media(ws).await.unwrap()[0].id;

    let b = Browser::start(&webdriver).await;
    b.go(&app.at("/login")).await;
    b.keys("#email", "owner@example.com").await;
    b.keys("#password", "correct horse battery").await;
    b.click("button[type=submit]").await;
    b.wait_for("Citroën").await;
    b.go(&app.at(&format!("/w/{ws}/compose"))).await;
    b.wait_for("Preview").await;
    b.click(&format!("input[name=channel][value='{masto}']"))
        .await;
    b.click(&format!("input[name=channel][value='{bsky}']"))
        .await;
    b.click(&format!("#picker-media input[value='{media}']"))
        .await;
    b.keys(
        "#body",
        "La nouvelle C5 arrive : https://example.org/c5 #Citroen @presse@m.social",
    )
    .await;
    b.click(&format!("details.variant:has(#variant_{masto}) > summary"))
        .await;
    b.click(&format!("button[hx-get$='channel={masto}']")).await;
    b.keys(
        &format!("#parts-{masto} textarea"),
        "Et les prix dans la suite du fil.",
    )
    .await;
    b.keys(&format!("#spoiler_{masto}"), "Annonce").await;
    let page = b.wait_for("CW: Annonce").await;
    assert!(
        page.contains("pv-link") && page.contains("pv-tag") && page.contains("2/2"),
        "preview follows the typing"
    );
    let page = b.wait_for("Draft saved at").await;
    assert!(page.contains("Image without a description"));
    b.cmd(
        reqwest::Method::POST,
        "/execute/sync",
        json!({"script": "document.activeElement.blur(); window.scrollTo(0, 0);", "args": []}),
    )
    .await;
    b.screenshot("compose-preview").await;

    // Upload from the composer's picker (multipart through htmx, CSRF in the header): the new
    // file appears ticked beside the one already ticked.
    let file = std::env::temp_dir().join(format!("relais-{}.png", relais_store::random_token(6)));
    std::fs::write(&file, png(0x40)).unwrap();
    b.keys("#picker-media input[type=file]", file.to_str().unwrap())
        .await;
    let t0 = Instant::now();
    while app.state.store.list_media(ws).await.unwrap().len() < 2 {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "the upload never arrived"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let newest = app.state.store.list_media(ws).await.unwrap()[0].id;
    b.find(&format!("#picker-media input[value='{newest}']:checked"))
        .await;
    b.find(&format!("#picker-media input[value='{media}']:checked"))
        .await;
    let _ = std::fs::remove_file(&file);
    b.go(&app.at(&format!("/w/{ws}/media"))).await;
    b.wait_for("Media library").await;
    b.screenshot("media-library").await;
    // The autosave wrote a draft with both channels, the image and the thread part (the last
    // keystrokes may still be on their way: the autosave waits 2 s after typing stops).
    let t0 = Instant::now();
    loop {
        let drafts = app.state.store.draft_posts(ws, 1, 5).await.unwrap();
        assert!(drafts.len() <= 1, "one draft, updated in place: {drafts:?}");
        if let Some(d) = drafts.first() {
            let targets = app.state.store.targets_of_post(d.id).await.unwrap();
            if let Some(tm) = targets.iter().find(|t| t.channel_id == masto) {
                let parts = app.state.store.parts(tm.id).await.unwrap();
                let files = app.state.store.target_media(tm.id).await.unwrap();
                if targets.len() == 2 && parts.len() == 1 && files.len() == 1 {
                    assert_eq!(tm.options["spoiler"], "Annonce");
                    break;
                }
            }
        }
        assert!(
            t0.elapsed() < Duration::from_secs(15),
            "the draft was not autosaved"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    b.quit().await;
}
