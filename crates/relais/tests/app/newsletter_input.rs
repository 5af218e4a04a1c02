//! Newsletter bounces and bad input, against a local SMTP server that refuses the recipients
//! whose address starts with `bounce` (550 at RCPT): no peer needed.

use crate::common;
use crate::nl;

use common::*;
use nl::flows::*;
use nl::LocalSmtp;

#[tokio::test]
async fn bounces_and_bad_input() {
    let app = app().await;
    let smtp = LocalSmtp::start().await;
    let owner = app.owner("en").await;
    let ws = app.create_workspace(&owner, "Brand").await;

    // Unreachable server: a clear error beside the server field, nothing stored.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port().to_string()
    };
    let r = settings(&app, &owner, ws, "127.0.0.1", &closed, "").await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("id=\"smtp_host-err\"")
            && page.contains("SMTP server: the mail server could not be reached"),
        "{page}"
    );
    assert!(app
        .state
        .store
        .newsletter_settings(ws)
        .await
        .unwrap()
        .is_none());
    let r = settings(&app, &owner, ws, "not a host", "25", "").await;
    assert_eq!(r.status(), 422);
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}/newsletter"),
            &format!("/w/{ws}/newsletter/settings"),
            &[
                ("smtp_host", "127.0.0.1"),
                ("smtp_port", &smtp.port.to_string()),
                ("smtp_security", "none"),
                ("from_address", "nobody"),
            ],
        )
        .await;
    assert!(r.text().await.unwrap().contains("id=\"from_address-err\""));

    // A private address is refused unless allow-listed.
    let strict = spawn_app().await;
    let o2 = strict.owner("fr").await;
    let ws2 = strict.create_workspace(&o2, "Strict").await;
    let r = settings(&strict, &o2, ws2, "127.0.0.1", &smtp.port.to_string(), "").await;
    assert_eq!(r.status(), 422);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Serveur SMTP désigne une adresse privée ou locale"));

    assert_eq!(
        settings(&app, &owner, ws, "127.0.0.1", &smtp.port.to_string(), "")
            .await
            .status(),
        303
    );
    let (lid, public) = list(&app, &owner, ws, "Local").await;

    // Public form: a bad address is named; no CSRF token is refused; the honeypot does nothing.
    let (status, page) = subscribe(&app, &public, "not-an-address").await;
    assert_eq!(status, 422);
    assert!(
        page.contains("id=\"email-err\"") && page.contains("Email is not a valid address"),
        "{page}"
    );
    let r = client("en")
        .post(app.at(&format!("/nl/{public}")))
        .form(&[("email", "x@example.org")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let c = client("en");
    let r = app
        .submit(
            &c,
            &format!("/nl/{public}"),
            &format!("/nl/{public}"),
            &[("email", "bot@example.org"), ("website", "http://spam")],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(app
        .state
        .store
        .subscribers(ws, lid, None, 10)
        .await
        .unwrap()
        .is_empty());

    // Wrong tokens: 404, whatever their shape.
    for p in [
        "/nl/confirm/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "/nl/u/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "/nl/confirm/x",
        "/nl/nope",
    ] {
        assert_eq!(app.get(&client("en"), p).await.0, 404, "{p}");
    }
    let r = reqwest::Client::new()
        .post(app.at("/nl/u/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // An expired confirmation link says so (410) and offers to subscribe again.
    assert_eq!(subscribe(&app, &public, "late@example.org").await.0, 200);
    let m = smtp.wait("late@example.org", 1).await.remove(0);
    relais_store::sqlx::query(
        "UPDATE newsletter_subscribers SET confirm_expires_at = 1 WHERE email = 'late@example.org'",
    )
    .execute(app.state.store.pool())
    .await
    .unwrap();
    let (status, page) = app.get(&client("en"), &m.link("/nl/confirm/")).await;
    assert_eq!(status, 410);
    assert!(
        page.contains("This link has expired") && page.contains(&format!("/nl/{public}")),
        "{page}"
    );

    // The same address asks again and again: refused after three within the hour.
    for _ in 0..2 {
        assert_eq!(subscribe(&app, &public, "late@example.org").await.0, 200);
    }
    assert_eq!(subscribe(&app, &public, "late@example.org").await.0, 429);

    // CSV: all or nothing, each bad line named.
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}/newsletter/lists/{lid}"),
            &format!("/w/{ws}/newsletter/lists/{lid}/import"),
            &[
                (
                    "data",
                    "email\nok@example.org\nbroken-address\nbounce-1@example.org",
                ),
                ("consented", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Line 3") && page.contains("broken-address"),
        "{page}"
    );
    assert_eq!(
        app.state
            .store
            .subscribers(ws, lid, None, 10)
            .await
            .unwrap()
            .len(),
        1,
        "only late@"
    );

    // Bounces: a 5xx at RCPT marks the delivery bounced and, at the limit (1), the subscriber.
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}/newsletter/lists/{lid}"),
            &format!("/w/{ws}/newsletter/lists/{lid}/import"),
            &[
                ("data", "ok@example.org\nbounce-1@example.org"),
                ("consented", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let id = send(
        &app,
        &owner,
        ws,
        &[
            ("list_id", &lid.to_string()),
            ("subject", "Hello"),
            ("format", "html"),
            ("body", "<p onclick=\"x()\">Hi <b>all</b></p>"),
        ],
    )
    .await;
    wait_sent(&app, id).await;
    let ok = smtp.wait("ok@example.org", 1).await.remove(0);
    assert!(ok.html().contains("<p>Hi <b>all</b></p>") && !ok.html().contains("onclick"));
    assert!(ok.text().contains("Hi all"), "{}", ok.text());
    let (_, page) = app
        .get(&owner, &format!("/w/{ws}/newsletter/bounces"))
        .await;
    assert!(
        page.contains("bounce-1@example.org") && page.contains("550"),
        "{page}"
    );
    let subs = app
        .state
        .store
        .subscribers(
            ws,
            lid,
            Some(relais_store::newsletter::SubState::Bounced),
            10,
        )
        .await
        .unwrap();
    assert_eq!(subs.len(), 1);

    // Sending needs a body or a publication, named.
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}/newsletter/issues/new"),
            &format!("/w/{ws}/newsletter/issues"),
            &[
                ("list_id", &lid.to_string()),
                ("subject", "Empty"),
                ("format", "markdown"),
                ("body", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("id=\"nl_body-err\""));

    // The checks of any publication apply: a card number blocks the issue, named on the body.
    let lid_s = lid.to_string();
    let fields = [
        ("list_id", lid_s.as_str()),
        ("subject", "Offer"),
        ("format", "markdown"),
        ("body", "Pay with card 4111 1111 1111 1111 today."),
    ];
    let (new, post) = (
        format!("/w/{ws}/newsletter/issues/new"),
        format!("/w/{ws}/newsletter/issues"),
    );
    let r = app.submit(&owner, &new, &post, &fields).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("id=\"nl_body-err\""));
    // A crisis freeze holds newsletters too.
    let tok = app.api_token(&owner).await;
    let freeze = |p: &str| app.at(&format!("/api/v1/workspaces/{ws}/{p}"));
    let api = reqwest::Client::new();
    let r = api
        .post(freeze("freeze"))
        .bearer_auth(&tok)
        .json(&serde_json::json!({"reason": "Bad buzz"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text().await);
    let fields = [
        ("list_id", lid_s.as_str()),
        ("subject", "Calm"),
        ("format", "markdown"),
        ("body", "All is well."),
    ];
    let r = app.submit(&owner, &new, &post, &fields).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("Publishing is frozen"));
    let r = api
        .post(freeze("unfreeze"))
        .bearer_auth(&tok)
        .json(&serde_json::json!({"resolution": "drafts"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text().await);

    // When the workspace reviews what goes out, only an approved post can be sent.
    let mut tx = app.state.store.begin().await.unwrap();
    app.state
        .store
        .set_approval_mode(&mut tx, ws, "internal")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let r = app.submit(&owner, &new, &post, &fields).await;
    assert!(matches!(r.status().as_u16(), 403 | 422), "{}", r.status());
    assert!(r.text().await.unwrap().contains("choose an approved post"));
    let mut tx = app.state.store.begin().await.unwrap();
    app.state
        .store
        .set_approval_mode(&mut tx, ws, "none")
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // Every page is translated, and the workspace's navigation leads to the newsletter.
    for path in [
        format!("/w/{ws}/newsletter"),
        format!("/w/{ws}/newsletter/lists/{lid}"),
        format!("/w/{ws}/newsletter/issues/new"),
        format!("/w/{ws}/newsletter/issues/{id}"),
        format!("/w/{ws}/newsletter/bounces"),
        format!("/nl/{public}"),
    ] {
        let (status, page) = app.get(&owner, &path).await;
        assert_eq!(status, 200, "{path}");
        assert!(!page.contains('⟦'), "{path}: every string translated");
    }
    let (_, page) = app.get(&owner, &format!("/w/{ws}")).await;
    assert!(page.contains(&format!("/w/{ws}/newsletter\"")));
    let (_, page) = strict.get(&o2, &format!("/w/{ws2}/newsletter")).await;
    assert!(
        page.contains("Serveur d’envoi") && !page.contains('⟦'),
        "{page}"
    );

    // Export: the list as CSV.
    let (status, csv) = app
        .get(
            &owner,
            &format!("/w/{ws}/newsletter/lists/{lid}/export.csv"),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        csv.starts_with("email,name,state") && csv.contains("bounce-1@example.org,,bounced"),
        "{csv}"
    );
}
