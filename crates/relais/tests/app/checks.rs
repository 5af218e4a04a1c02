//! Pre-publication checks through the API, the composer and the CLI, with a stored charter.

use crate::common;
use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn charter_and_checks_api_and_composer_block() {
    let app = spawn_app().await;
    let owner = app.owner("fr").await;
    let ws = app.create_workspace(&owner, "Citroën").await;
    let tok = app.api_token(&owner).await;
    let api = reqwest::Client::new();
    let url = |p: &str| app.at(&format!("/api/v1/workspaces/{ws}{p}"));

    // An invalid rule is refused and named.
    let bad = json!({"forbidden_terms": [{"term": "prix(", "regex": true}]});
    let r = api
        .put(url("/charter"))
        .bearer_auth(&tok)
        .body(bad.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["field"], "charter");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("forbidden_terms[0]"),
        "{e}"
    );
    let r = api
        .put(url("/charter"))
        .bearer_auth(&tok)
        .body(json!({"brand_names": [{"term": "x"}]}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        422,
        "unknown keys are errors, not silently ignored"
    );
    let good =
        json!({"confidential_terms": ["Projet Hirondelle"], "brand_names": [{"name": "Citroën"}]});
    let r = api
        .put(url("/charter"))
        .bearer_auth(&tok)
        .body(good.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204, "{:?}", r.text().await);
    let stored: Value = api
        .get(url("/charter"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stored["confidential_terms"][0], "Projet Hirondelle");

    let r: Value = api
        .post(url("/checks"))
        .bearer_auth(&tok)
        .json(&json!({"text": "Le projet hirondelle arrive : écrivez à jean.dupont@example.com, carte 4111 1111 1111 1111. Une erreure.", "lang": "fr"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["blocking"], true, "{r}");
    let kinds: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.iter().any(|k| k.starts_with("confidential")),
        "{kinds:?}"
    );
    assert!(kinds.iter().any(|k| k.contains("card")), "{kinds:?}");
    assert!(kinds.iter().any(|k| k.starts_with("spelling")), "{kinds:?}");
    let r = api
        .post(url("/checks"))
        .bearer_auth(&tok)
        .json(&json!({"text": "x".repeat(200_000)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "text");
    let r = api
        .post(url("/checks"))
        .bearer_auth(&tok)
        .json(&json!({"text": "hi", "lang": "de"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "invalid_lang");

    // The charter page shows it and names a bad rule.
    let (s, page) = app.get(&owner, &format!("/w/{ws}/charter")).await;
    assert_eq!(s, 200);
    assert!(page.contains("Projet Hirondelle"));
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}/charter"),
            &format!("/w/{ws}/charter"),
            &[("charter", "{\"max_hashtags\": \"trois\"}")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("La charte contient une règle inutilisable"));

    // The composer shows the findings and refuses to schedule a blocking text.
    let ch = app.channel(ws, "mastodon", "M", json!({})).await;
    let chs = ch.to_string();
    let (_, html) = app.get(&owner, &format!("/w/{ws}/compose")).await;
    let csrf = csrf_of(&html);
    let frag = owner
        .post(app.at(&format!("/w/{ws}/compose/counters")))
        .header("x-csrf-token", &csrf)
        .form(&[
            ("body", "Le Projet Hirondelle sort demain"),
            ("channel", chs.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        frag.contains("Bloque la publication") && frag.contains("<mark>Projet Hirondelle</mark>"),
        "{frag}"
    );
    let r = owner
        .post(app.at(&format!("/w/{ws}/compose")))
        .form(&[
            ("body", "Le Projet Hirondelle sort demain"),
            ("channel", chs.as_str()),
            ("action", "now"),
            ("_csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("bloque la publication"));
    let r = owner
        .post(app.at(&format!("/w/{ws}/compose")))
        .form(&[
            ("body", "Le Projet Hirondelle sort demain"),
            ("channel", chs.as_str()),
            ("action", "draft"),
            ("_csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "drafts may hold anything");
    // An owner may override with a justification, which lands in the audit log.
    let r = owner
        .post(app.at(&format!("/w/{ws}/compose")))
        .form(&[
            ("body", "Le Projet Hirondelle sort demain"),
            ("channel", chs.as_str()),
            ("action", "now"),
            ("override_reason", "Annonce validée par la direction"),
            ("_csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, audit) = app
        .get(&owner, &format!("/w/{ws}/audit?action=check.override"))
        .await;
    assert!(
        audit.contains("Annonce validée par la direction") && audit.contains("confidential"),
        "{audit}"
    );
}

#[tokio::test]
async fn relais_check_cli_contract() {
    let dir = relais_store::testing::TempDir::new();
    let f = dir.0.join("post.txt");
    std::fs::write(
        &f,
        "Bonjour à tous, voici notre nouvelle offre ! Ecrivez à contact@example.com.",
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_relais"))
        .args(["check", "--lang", "fr", "--format", "json"])
        .arg(&f)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{out:?}"
    );
    for line in stdout.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        for k in ["kind", "severity", "start", "end", "message", "suggestions"] {
            assert!(v.get(k).is_some(), "{k} in {line}");
        }
    }
    assert!(stdout.contains("\"kind\""), "some finding: {stdout}");
    std::fs::write(&f, [0x66, 0x6f, 0xff, 0x6f]).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_relais"))
        .args(["check", "--format", "json"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("byte"),
        "{out:?}"
    );
}

#[tokio::test]
async fn link_checks_show_broken_links_and_redirects() {
    let site = axum::Router::new()
        .route("/ok", axum::routing::get(|| async { "fine" }))
        .route(
            "/gone",
            axum::routing::get(|| async { (axum::http::StatusCode::NOT_FOUND, "no") }),
        )
        .route(
            "/moved",
            axum::routing::get(|| async {
                (
                    axum::http::StatusCode::MOVED_PERMANENTLY,
                    [("location", "/ok")],
                    "",
                )
            }),
        );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, site).await.unwrap() });
    let app = spawn_with(|s| s.security.fetch_allow = vec!["127.0.0.1/32".into()]).await;
    let owner = app.owner("en").await;
    let ws = app.create_workspace(&owner, "Brand").await;
    let (_, html) = app.get(&owner, &format!("/w/{ws}/compose")).await;
    let csrf = csrf_of(&html);
    let body = format!("Read {base}/ok and {base}/gone and {base}/moved today");
    let frag = owner
        .post(app.at(&format!("/w/{ws}/compose/links")))
        .header("x-csrf-token", &csrf)
        .form(&[("body", body.as_str())])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        frag.contains(&format!("<mark>{base}/gone</mark>")),
        "{frag}"
    );
    assert!(
        frag.contains(&format!("<mark>{base}/moved</mark>")),
        "redirect shown: {frag}"
    );
    assert!(!frag.contains(&format!("<mark>{base}/ok</mark>")), "{frag}");
    let frag = owner
        .post(app.at(&format!("/w/{ws}/compose/links")))
        .header("x-csrf-token", &csrf)
        .form(&[("body", "no links")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(frag.contains("No link in the message"));
}

#[tokio::test]
async fn each_variant_is_checked_in_its_language_and_suggestions_come_on_demand() {
    let app = spawn_app().await;
    let owner = app.owner("fr").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let fr = app
        .channel(ws, "mastodon", "Acme FR", json!({}))
        .await
        .to_string();
    let en = app
        .channel(ws, "bluesky", "Acme EN", json!({}))
        .await
        .to_string();
    let (_, html) = app.get(&owner, &format!("/w/{ws}/compose")).await;
    assert!(html.contains(&format!("name=\"lang_{en}\"")));
    let csrf = csrf_of(&html);
    let variant = format!("variant_{en}");
    let lang = format!("lang_{en}");
    let form = [
        ("body", "Nous lançons notre nouvelle gamme aujourd'hui."),
        ("lang", "fr"),
        ("channel", fr.as_str()),
        ("channel", en.as_str()),
        (variant.as_str(), "We are launching our new range todya."),
        (lang.as_str(), "en"),
    ];
    let frag = owner
        .post(app.at(&format!("/w/{ws}/compose/counters")))
        .header("x-csrf-token", &csrf)
        .form(&form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The English variant is checked in English (the French text has no finding) and the
    // finding names the variant; suggestions wait for the user to ask.
    assert!(
        frag.contains("Acme EN") && frag.contains("<mark>todya</mark>"),
        "{frag}"
    );
    assert!(!frag.contains("<mark>launching</mark>") && !frag.contains("<mark>lançons</mark>"));
    assert!(
        frag.contains("compose/suggest?word=todya&amp;lang=en"),
        "{frag}"
    );
    let (s, sugg) = app
        .get(
            &owner,
            &format!("/w/{ws}/compose/suggest?word=todya&lang=en"),
        )
        .await;
    assert_eq!(s, 200);
    assert!(sugg.contains("today"), "{sugg}");
    // Saved, each target declares its language to the network.
    let mut save: Vec<(&str, &str)> = form.to_vec();
    save.push(("action", "draft"));
    save.push(("_csrf", csrf.as_str()));
    let r = owner
        .post(app.at(&format!("/w/{ws}/compose")))
        .form(&save)
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_redirection() || r.status().is_success(),
        "{}",
        r.status()
    );
    let targets = app
        .state
        .store
        .list_targets(ws, &relais_store::posts::TargetFilter::default())
        .await
        .unwrap();
    let lang_of = |ch: &str| {
        targets
            .iter()
            .find(|t| t.channel_id.to_string() == ch)
            .and_then(|t| t.options["language"].as_str().map(str::to_string))
    };
    assert_eq!(lang_of(&en).as_deref(), Some("en"));
    assert_eq!(lang_of(&fr).as_deref(), Some("fr"));
}
