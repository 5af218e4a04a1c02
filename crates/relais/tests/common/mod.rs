//! `spawn_app()`: the real application on 127.0.0.1:0 with a fresh database (SQLite file, or a
//! new PostgreSQL database when RELAIS_TEST_PG is set), plus an HTTP client that keeps cookies.
#![allow(dead_code)]

use std::path::PathBuf;

use relais::app::{Application, Roles};
use relais::config::Settings;
use relais_store::testing::{fresh_url, TempDir};
use relais_web::AppState;

pub struct TestApp {
    pub url: String,
    /// The database URL, for running the `relais` binary against the same data.
    pub db_url: String,
    pub state: AppState,
    pub setup_link: Option<String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: TempDir,
    _db_dir: Option<TempDir>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    init_test_log();
    let dir = TempDir::new();
    let (db_url, db_dir) = fresh_url().await.expect("test database");
    let db_url_copy = db_url.clone();
    let mut s =
        Settings::from_toml("listen = \"127.0.0.1:0\"\n[worker]\npoll_ms = 20\n", "test").unwrap();
    s.data_dir = PathBuf::from(&dir.0);
    s.database_url = db_url;
    s.public_url = "http://127.0.0.1:0".into();
    tweak(&mut s);
    let app = Application::build(
        &s,
        Roles {
            web: true,
            worker: true,
        },
    )
    .await
    .expect("app builds");
    let url = format!("http://{}", app.addr.unwrap());
    let setup_link = app.setup_link().await.unwrap();
    let state = app.state.clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    TestApp {
        url,
        db_url: db_url_copy,
        state,
        setup_link,
        stop: Some(tx),
        _dir: dir,
        _db_dir: db_dir,
    }
}

/// A browser-like client: keeps cookies, does not follow redirects (tests assert them).
pub fn client(lang: &str) -> reqwest::Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert(reqwest::header::ACCEPT_LANGUAGE, lang.parse().unwrap());
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(h)
        .build()
        .unwrap()
}

/// The CSRF token of a page's forms.
pub fn csrf_of(html: &str) -> String {
    let re = regex::Regex::new(r#"name="_csrf" value="([^"]+)""#).unwrap();
    re.captures(html)
        .map(|c| c[1].to_string())
        .expect("page has a CSRF field")
}

impl TestApp {
    pub fn at(&self, path: &str) -> String {
        format!("{}{}", self.url, path)
    }

    /// GETs `path` and returns (status, body).
    pub async fn get(&self, c: &reqwest::Client, path: &str) -> (u16, String) {
        let r = c.get(self.at(path)).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// Loads `form_page`, then POSTs `fields` (+ its CSRF token) to `action`.
    pub async fn submit(
        &self,
        c: &reqwest::Client,
        form_page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let (_, html) = self.get(c, form_page).await;
        let token = csrf_of(&html);
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("_csrf", &token));
        c.post(self.at(action)).form(&form).send().await.unwrap()
    }

    /// Runs setup and returns a signed-in client of the owner.
    pub async fn owner(&self, lang: &str) -> reqwest::Client {
        let c = client(lang);
        let link = self.setup_link.clone().expect("fresh app has a setup link");
        let path = link
            .split_once("/setup/")
            .map(|(_, t)| format!("/setup/{t}"))
            .unwrap();
        let r = self
            .submit(
                &c,
                &path,
                &path,
                &[
                    ("name", "Owner Olga"),
                    ("email", "owner@example.com"),
                    ("password", "correct horse battery"),
                    ("password_confirm", "correct horse battery"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303, "setup redirects");
        c
    }

    /// The emails relais queued, opened with the master key: (to, subject, body).
    pub async fn mails(&self) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        // A job may move from one state to the next between two reads: count it once.
        for state in ["queued", "running", "done", "dead"] {
            for j in self.state.store.list_jobs(state, 1000).await.unwrap() {
                if j.kind != "mail.send" || !seen.insert(j.id) {
                    continue;
                }
                let g = |k: &str| j.payload[k].as_str().unwrap().to_string();
                let body = self
                    .state
                    .keyring
                    .open(&g("key_id"), "job.mail", &g("sealed"))
                    .unwrap();
                out.push((g("to"), g("subject"), String::from_utf8(body).unwrap()));
            }
        }
        out
    }

    /// The first link to `prefix` in the emails sent to `to`.
    pub async fn link_in_mail(&self, to: &str, prefix: &str) -> String {
        for (dest, _, body) in self.mails().await.into_iter().rev() {
            if dest == to {
                if let Some(i) = body.find(prefix) {
                    let rest = &body[i..];
                    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                    return rest[..end].to_string();
                }
            }
        }
        panic!("no mail to {to} with {prefix}");
    }

    /// Invites `email` into `ws` with `role` by email link; the invitee creates an account and
    /// comes back signed in.
    pub async fn join(
        &self,
        owner: &reqwest::Client,
        ws: i64,
        email: &str,
        role: &str,
    ) -> reqwest::Client {
        let r = self
            .submit(
                owner,
                &format!("/w/{ws}/members"),
                &format!("/w/{ws}/members/invite"),
                &[("email", email), ("role", role)],
            )
            .await;
        assert_eq!(r.status(), 303, "invite redirects");
        let link = self.link_in_mail(email, "http").await;
        let path = format!("/invite/{}", link.split_once("/invite/").unwrap().1);
        let c = client("en");
        let r = self
            .submit(
                &c,
                &path,
                &path,
                &[
                    ("email", email),
                    ("name", "Member"),
                    ("password", "member password 1"),
                    ("password_confirm", "member password 1"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303, "{:?}", r.text().await);
        c
    }

    /// A personal API token created through the tokens page.
    pub async fn api_token(&self, c: &reqwest::Client) -> String {
        let r = self
            .submit(c, "/tokens", "/tokens", &[("name", "test")])
            .await;
        let page = r.text().await.unwrap();
        regex::Regex::new(r#"id="new-token">(rls_[^<]+)<"#)
            .unwrap()
            .captures(&page)
            .unwrap()[1]
            .to_string()
    }

    /// A channel stored directly (no credentials), for tests that do not publish.
    pub async fn channel(
        &self,
        ws: i64,
        network: &str,
        name: &str,
        limits: serde_json::Value,
    ) -> i64 {
        let mut tx = self.state.store.begin().await.unwrap();
        let nc = relais_store::channels::NewChannel {
            workspace_id: ws,
            network,
            name,
            config: &serde_json::json!({}),
            secret_id: None,
            limits: &limits,
            created_by: 1,
        };
        let c = self.state.store.create_channel(&mut tx, nc).await.unwrap();
        tx.commit().await.unwrap();
        c.id
    }

    pub async fn create_workspace(&self, c: &reqwest::Client, name: &str) -> i64 {
        let r = self
            .submit(
                c,
                "/",
                "/workspaces",
                &[
                    ("name", name),
                    ("time_zone", "Europe/Paris"),
                    ("lang", "fr"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
        let loc = r.headers()["location"].to_str().unwrap().to_string();
        loc.trim_start_matches("/w/").parse().unwrap()
    }
}

/// Logs of the app under test when RELAIS_TEST_LOG is set (e.g. `relais_listener=debug`).
pub fn init_test_log() {
    if let Ok(f) = std::env::var("RELAIS_TEST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(f))
            .with_test_writer()
            .try_init();
    }
}
