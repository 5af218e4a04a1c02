//! Accounts end to end over HTTP: setup, sign-in, throttling, CSRF, reset, TOTP, languages.

use crate::common;
use common::*;

#[tokio::test]
async fn first_start_setup_creates_the_owner_once() {
    let app = spawn_app().await;
    let link = app.setup_link.clone().unwrap();
    let path = format!("/setup/{}", link.split_once("/setup/").unwrap().1);
    let c = client("en");
    // A wrong field is named with the fix, and nothing is created.
    let r = app
        .submit(
            &c,
            &path,
            &path,
            &[
                ("name", "O"),
                ("email", "owner@example.com"),
                ("password", "short"),
                ("password_confirm", "short"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("Password is too short: use at least 10 characters."),
        "{body}"
    );
    assert_eq!(app.state.store.count_users().await.unwrap(), 0);
    let c = app.owner("en").await;
    let (status, home) = app.get(&c, "/").await;
    assert_eq!(status, 200);
    assert!(home.contains("Your workspaces") && home.contains("Owner Olga"));
    // The link is single use.
    let (status, body) = app.get(&client("fr"), &path).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("relais est déjà configuré") || body.contains("Ce lien n’est pas valide"),
        "{body}"
    );
    assert!(app.setup_link.is_some());
}

#[tokio::test]
async fn sign_in_wrong_password_throttling_and_logout() {
    let app = spawn_app().await;
    drop(app.owner("en").await);
    let c = client("fr");
    let (s, page) = app.get(&c, "/login").await;
    assert_eq!(s, 200);
    assert!(page.contains("Connexion") && page.contains("lang=\"fr\""));
    let r = app
        .submit(
            &c,
            "/login",
            "/login",
            &[
                ("email", "owner@example.com"),
                ("password", "wrong password!"),
            ],
        )
        .await;
    assert_eq!(r.status(), 401);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("E-mail ou mot de passe incorrect"));
    for _ in 0..4 {
        app.submit(
            &c,
            "/login",
            "/login",
            &[
                ("email", "owner@example.com"),
                ("password", "nope nope nope"),
            ],
        )
        .await;
    }
    let r = app
        .submit(
            &c,
            "/login",
            "/login",
            &[
                ("email", "owner@example.com"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    assert_eq!(
        r.status(),
        429,
        "locked after 5 failures even with the right password"
    );
    assert!(r.text().await.unwrap().contains("Trop d’essais"));
    // Another account is not locked by it.
    let r = app
        .submit(
            &c,
            "/login",
            "/login",
            &[("email", "other@example.com"), ("password", "x")],
        )
        .await;
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn session_cookie_flags_security_headers_and_csrf() {
    let app = spawn_app().await;
    let c = client("en");
    let link = app.setup_link.clone().unwrap();
    let path = format!("/setup/{}", link.split_once("/setup/").unwrap().1);
    let r = app
        .submit(
            &c,
            &path,
            &path,
            &[
                ("name", "O"),
                ("email", "o@example.com"),
                ("password", "correct horse battery"),
                ("password_confirm", "correct horse battery"),
            ],
        )
        .await;
    let cookies: Vec<_> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("relais_session="))
        .expect("session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax"),
        "{session}"
    );
    let r = c.get(app.at("/")).send().await.unwrap();
    let h = r.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'")
            && !csp.contains("unsafe-inline")
            && csp.contains("frame-ancestors 'none'")
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    // A state change without the token, or from another origin, is refused.
    let r = c
        .post(app.at("/workspaces"))
        .form(&[("name", "X"), ("time_zone", "UTC"), ("lang", "en")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let (_, html) = app.get(&c, "/").await;
    let token = csrf_of(&html);
    let r = c
        .post(app.at("/workspaces"))
        .header("origin", "https://evil.example")
        .form(&[
            ("name", "X"),
            ("time_zone", "UTC"),
            ("lang", "en"),
            ("_csrf", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = c
        .post(app.at("/workspaces"))
        .form(&[
            ("name", "X"),
            ("time_zone", "UTC"),
            ("lang", "en"),
            ("_csrf", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    // Sign out ends the session.
    let r = c
        .post(app.at("/logout"))
        .form(&[("_csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = c.get(app.at("/")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/login?next="));
}

#[tokio::test]
async fn password_reset_by_email_link() {
    let app = spawn_app().await;
    drop(app.owner("en").await);
    let c = client("en");
    let r = app
        .submit(&c, "/forgot", "/forgot", &[("email", "owner@example.com")])
        .await;
    let body = r.text().await.unwrap();
    assert!(body.contains("a reset link is on its way"));
    assert!(
        body.contains("the administrator finds the link in the relais log"),
        "no SMTP: the UI says so"
    );
    // Unknown addresses get the same answer and no mail.
    app.submit(&c, "/forgot", "/forgot", &[("email", "nobody@example.com")])
        .await;
    assert_eq!(app.mails().await.len(), 1);
    let link = app.link_in_mail("owner@example.com", "http").await;
    let path = link
        .split_once("/reset/")
        .map(|(_, t)| format!("/reset/{t}"))
        .unwrap();
    let r = app
        .submit(
            &c,
            &path,
            &path,
            &[
                ("password", "new password 123"),
                ("password_confirm", "new password 12"),
            ],
        )
        .await;
    assert!(r.text().await.unwrap().contains("does not match"));
    let r = app
        .submit(
            &c,
            &path,
            &path,
            &[
                ("password", "new password 123"),
                ("password_confirm", "new password 123"),
            ],
        )
        .await;
    assert!(r.text().await.unwrap().contains("Your password is changed"));
    let r = app
        .submit(
            &c,
            "/login",
            "/login",
            &[
                ("email", "owner@example.com"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    assert_eq!(r.status(), 401);
    let r = app
        .submit(
            &c,
            "/login",
            "/login",
            &[
                ("email", "owner@example.com"),
                ("password", "new password 123"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, again) = app.get(&client("en"), &path).await;
    assert!(
        again.contains("This link is not valid"),
        "used links are refused"
    );
}

#[tokio::test]
async fn totp_second_factor() {
    let app = spawn_app().await;
    let c = app.owner("en").await;
    let r = app.submit(&c, "/profile", "/profile/totp/start", &[]).await;
    let page = r.text().await.unwrap();
    let key = regex::Regex::new(r#"name="key" value="([A-Z2-7]+)""#)
        .unwrap()
        .captures(&page)
        .unwrap()[1]
        .to_string();
    let totp = totp_rs::TOTP::new(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        totp_rs::Secret::Encoded(key.clone()).to_bytes().unwrap(),
        None,
        "x".into(),
    )
    .unwrap();
    let token = csrf_of(&page);
    let r = c
        .post(app.at("/profile/totp/enable"))
        .form(&[("key", key.as_str()), ("code", "000000"), ("_csrf", &token)])
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("This code is wrong"));
    let code = totp.generate_current().unwrap();
    let r = c
        .post(app.at("/profile/totp/enable"))
        .form(&[
            ("key", key.as_str()),
            ("code", code.as_str()),
            ("_csrf", &token),
        ])
        .send()
        .await
        .unwrap();
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("a code from your authenticator app is asked"));
    // A new sign-in stops at the second step; pages stay closed until the code is given.
    let c2 = client("en");
    let r = app
        .submit(
            &c2,
            "/login",
            "/login",
            &[
                ("email", "owner@example.com"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/login/totp"));
    assert_eq!(c2.get(app.at("/")).send().await.unwrap().status(), 303);
    let r = app
        .submit(&c2, "/login/totp", "/login/totp", &[("code", "123456")])
        .await;
    assert_eq!(r.status(), 401);
    let code = totp.generate_current().unwrap();
    let r = app
        .submit(
            &c2,
            "/login/totp",
            "/login/totp",
            &[("code", &code), ("next", "/profile")],
        )
        .await;
    assert_eq!(r.headers()["location"], "/profile");
    assert_eq!(c2.get(app.at("/")).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn health_metrics_assets() {
    let app = spawn_app().await;
    let c = client("en");
    let r = c.get(app.at("/health")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["database"], "ok");
    assert!(v["queue_lag_seconds"].is_number());
    let m = c
        .get(app.at("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        m.contains("relais_database_up 1")
            && m.contains("relais_jobs{state=\"queued\"}")
            && m.contains("relais_targets{state=\"late\"}")
    );
    for a in ["app.css", "app.js", "htmx.min.js", "favicon.svg"] {
        assert_eq!(
            c.get(app.at(&format!("/assets/{a}")))
                .send()
                .await
                .unwrap()
                .status(),
            200,
            "{a}"
        );
    }
    assert_eq!(c.get(app.at("/nope")).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn forms_keep_what_was_typed_after_an_error() {
    let app = spawn_app().await;
    let link = app.setup_link.clone().unwrap();
    let path = format!("/setup/{}", link.split_once("/setup/").unwrap().1);
    let c = client("en");
    let (_, blank) = app.get(&c, &path).await;
    assert!(
        blank.contains(r#"id="name" name="name" type="text" value="""#),
        "empty at first"
    );
    let r = app
        .submit(
            &c,
            &path,
            &path,
            &[
                ("name", "Zoé"),
                ("email", "bad"),
                ("password", "correct horse battery"),
                ("password_confirm", "correct horse battery"),
            ],
        )
        .await;
    let page = r.text().await.unwrap();
    assert!(
        page.contains(r#"value="Zoé""#) && page.contains(r#"value="bad""#),
        "{page}"
    );
    assert!(page.contains(r#"aria-invalid="true" aria-describedby="email-err""#));
    assert!(!page.contains('⟦'), "every string translated");
}
