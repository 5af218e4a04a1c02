//! The composer: per-network counters, validation of the schedule in the workspace's zone,
//! drafts and scheduled targets with their publish jobs.

use crate::common;
use common::*;
use serde_json::json;

#[tokio::test]
async fn compose_count_validate_and_schedule() {
    let app = spawn_app().await;
    let owner = app.owner("fr").await;
    let ws = app.create_workspace(&owner, "Citroën").await;
    let compose = format!("/w/{ws}/compose");
    let (s, page) = app.get(&owner, &compose).await;
    assert_eq!(s, 200);
    assert!(page.contains("Aucun canal n’est encore connecté"));
    let masto = app
        .channel(
            ws,
            "mastodon",
            "Mastodon FR",
            json!({"max_characters": 1000}),
        )
        .await;
    let bsky = app.channel(ws, "bluesky", "Bluesky", json!({})).await;
    let (ms, bs) = (masto.to_string(), bsky.to_string());

    // Live counters: graphemes for Bluesky, the instance's own limit for Mastodon.
    let (_, html) = app.get(&owner, &compose).await;
    let token = csrf_of(&html);
    let r = owner
        .post(app.at(&format!("/w/{ws}/compose/counters")))
        .header("x-csrf-token", &token)
        .form(&[
            (
                "body",
                "Bonjour 👨‍👩‍👧‍👦 https://example.com/un/lien/tres/long/qui/compte/pour/vingt-trois",
            ),
            ("channel", ms.as_str()),
            ("channel", bs.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let frag = r.text().await.unwrap();
    assert!(
        frag.contains("<strong>33 / 1000</strong>"),
        "Mastodon counts a URL as 23: {frag}"
    );
    assert!(frag.contains("graphemes"), "{frag}");

    let long = "é".repeat(301);
    let submit = |fields: Vec<(&'static str, String)>| {
        let owner = owner.clone();
        let app_url = app.at(&compose);
        let token = token.clone();
        async move {
            let mut f = fields;
            f.push(("_csrf", token));
            owner.post(app_url).form(&f).send().await.unwrap()
        }
    };
    let r = submit(vec![("body", "Salut".into()), ("action", "draft".into())]).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Canaux est obligatoire"));
    let r = submit(vec![
        ("body", "x".into()),
        ("channel", bs.clone()),
        (
            Box::leak(format!("variant_{bsky}").into_boxed_str()),
            long.clone(),
        ),
        ("action", "draft".into()),
    ])
    .await;
    assert_eq!(r.status(), 422, "301 graphemes on Bluesky");
    // 02:30 on 29 March 2026 does not exist in Paris.
    let r = submit(vec![
        ("body", "x".into()),
        ("channel", ms.clone()),
        ("action", "schedule".into()),
        ("date", "2027-03-28".into()),
        ("time", "02:30".into()),
    ])
    .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("n’existe pas ce jour-là"));
    let r = submit(vec![
        ("body", "x".into()),
        ("channel", ms.clone()),
        ("action", "schedule".into()),
        ("date", "2020-01-01".into()),
        ("time", "10:00".into()),
    ])
    .await;
    assert!(r.text().await.unwrap().contains("est dans le passé"));

    let r = submit(vec![
        ("body", "Nouvelle C5 Aircross".into()),
        ("channel", ms.clone()),
        ("channel", bs.clone()),
        ("action", "schedule".into()),
        ("date", "2030-06-01".into()),
        ("time", "09:30".into()),
    ])
    .await;
    assert_eq!(r.status(), 303);
    let targets = app
        .state
        .store
        .list_targets(ws, &Default::default())
        .await
        .unwrap();
    assert_eq!(targets.len(), 2);
    // 09:30 in Paris in June (UTC+2) = 07:30 UTC.
    let expected = chrono::DateTime::parse_from_rfc3339("2030-06-01T07:30:00Z")
        .unwrap()
        .timestamp_millis();
    assert!(targets
        .iter()
        .all(|t| t.state.as_str() == "scheduled" && t.scheduled_at == Some(expected)));
    let jobs = app.state.store.list_jobs("queued", 100).await.unwrap();
    assert_eq!(
        jobs.iter()
            .filter(|j| j.kind == "publish.target" && j.run_at == expected)
            .count(),
        2
    );
    let (_, list) = app.get(&owner, &format!("/w/{ws}/posts")).await;
    assert!(
        list.contains("Programmé")
            && list.contains("Nouvelle C5 Aircross")
            && list.contains("sam. 1 juin 2030, 09\u{a0}h\u{a0}30"),
        "{list}"
    );
}

#[tokio::test]
async fn secret_icalendar_feed_of_planned_posts() {
    let app = spawn_app().await;
    let owner = app.owner("en").await;
    let ws = app.create_workspace(&owner, "Citroën").await;
    let ch = app
        .channel(ws, "webhook", "Hook", json!({}))
        .await
        .to_string();
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}/compose"),
            &format!("/w/{ws}/compose"),
            &[
                ("body", "Salon de Genève, stand 4"),
                ("channel", &ch),
                ("action", "schedule"),
                ("date", "2031-03-02"),
                ("time", "09:00"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}/posts"),
            &format!("/w/{ws}/ical"),
            &[],
        )
        .await;
    let page = r.text().await.unwrap();
    let url = regex::Regex::new(r"(http://[^ <]+\.ics)")
        .unwrap()
        .captures(&page)
        .unwrap()[1]
        .to_string();
    let anon = reqwest::Client::new();
    let r = anon.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/calendar"));
    let ics = r.text().await.unwrap();
    assert!(
        ics.contains("SUMMARY:[Hook] Salon de Genève\\, stand 4"),
        "{ics}"
    );
    assert!(
        ics.contains("DTSTART:20310302T080000Z"),
        "09:00 Paris = 08:00 UTC in winter: {ics}"
    );
    // A new address retires the old one.
    app.submit(
        &owner,
        &format!("/w/{ws}/posts"),
        &format!("/w/{ws}/ical"),
        &[],
    )
    .await;
    assert_eq!(anon.get(&url).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn bulk_import_all_or_nothing_and_export() {
    let app = spawn_app().await;
    let owner = app.owner("en").await;
    let ws = app.create_workspace(&owner, "Brand").await;
    app.channel(ws, "bluesky", "Bluesky", json!({})).await;
    app.channel(ws, "mastodon", "Mastodon FR", json!({})).await;
    let page = format!("/w/{ws}/import");
    let long = "x".repeat(400);
    let bad = format!(
        "date,time,channels,text\n2031-06-01,09:30,Bluesky|Mastodon FR,Bonjour\n2031-03-30,02:30,Bluesky,Heure d'été\n2031-06-02,10:00,Twitter,Nope\n2031-06-03,10:00,Bluesky,{long}\n"
    );
    let r = app.submit(&owner, &page, &page, &[("data", &bad)]).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(body.contains("Nothing was imported"));
    for l in ["Line 3", "Line 4", "Line 5"] {
        assert!(body.contains(l), "{l} reported: {body}");
    }
    assert!(!body.contains("Line 2 "), "the good line has no error");
    assert!(
        app.state
            .store
            .list_targets(ws, &Default::default())
            .await
            .unwrap()
            .is_empty(),
        "nothing half-imported"
    );
    for broken in [
        "date,time,channels,text\n2031-06-01,09:30",
        "date,time,colour,text\n2031-06-01,09:30,red,x",
        "[{\"date\": 1}",
    ] {
        let r = app.submit(&owner, &page, &page, &[("data", broken)]).await;
        assert_eq!(r.status(), 422, "{broken}");
    }

    let good = "date,time,channels,text\n2031-06-01,09:30,Bluesky|Mastodon FR,Bonjour\n,,Bluesky,Un brouillon\n";
    let r = app.submit(&owner, &page, &page, &[("data", good)]).await;
    assert_eq!(r.status(), 303);
    let json_rows = r#"[{"date": "2031-07-01", "time": "12:00", "channels": ["Mastodon FR"], "text": "Depuis JSON"}]"#;
    assert_eq!(
        app.submit(&owner, &page, &page, &[("data", json_rows)])
            .await
            .status(),
        303
    );
    let t = app
        .state
        .store
        .list_targets(ws, &Default::default())
        .await
        .unwrap();
    assert_eq!(t.len(), 4);
    let csv = owner
        .get(app.at(&format!("/w/{ws}/export.csv")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with("date,time,channels,text,state,url\n"));
    assert!(
        csv.contains("2031-06-01,09:30,Bluesky,Bonjour,scheduled,")
            && csv.contains(",,Bluesky,Un brouillon,draft,"),
        "{csv}"
    );
}

#[tokio::test]
async fn compose_and_import_through_the_api() {
    let app = spawn_app().await;
    let owner = app.owner("en").await;
    let ws = app.create_workspace(&owner, "Brand").await;
    let bsky = app.channel(ws, "bluesky", "Bluesky", json!({})).await;
    let tok = app.api_token(&owner).await;
    let api = reqwest::Client::new();
    let url = |p: &str| app.at(&format!("/api/v1/workspaces/{ws}{p}"));
    let chans: serde_json::Value = api
        .get(url("/channels"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(chans["channels"][0]["name"], "Bluesky");
    let r = api
        .post(url("/posts"))
        .bearer_auth(&tok)
        .json(&json!({"text": "x".repeat(301), "channels": [bsky], "action": "draft"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["code"],
        "too_long"
    );
    let r = api.post(url("/posts")).bearer_auth(&tok).json(&json!({"text": "Hello", "channels": [bsky], "action": "schedule", "date": "2031-06-01", "time": "09:30"})).send().await.unwrap();
    assert_eq!(r.status(), 201);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["targets"][0]["state"], "scheduled");
    let r = api
        .post(url("/posts/import"))
        .bearer_auth(&tok)
        .body("date,time,channels,text\n2031-06-01,09:30,Nope,x\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        (v["code"].as_str(), v["errors"][0]["line"].as_i64()),
        (Some("import_invalid"), Some(2))
    );
    let r = api
        .post(url("/posts/import"))
        .bearer_auth(&tok)
        .body(",,Bluesky,Draft from CSV\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "a header line is required");
    let r = api
        .post(url("/posts/import"))
        .bearer_auth(&tok)
        .body("date,time,channels,text\n,,Bluesky,Draft from CSV\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["imported"], 1);
    let list: serde_json::Value = api
        .get(url("/posts"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["targets"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn month_calendar_in_the_workspace_zone() {
    let app = spawn_app().await;
    let owner = app.owner("fr").await;
    let ws = app.create_workspace(&owner, "Brand").await;
    let ch = app
        .channel(ws, "bluesky", "Bluesky", json!({}))
        .await
        .to_string();
    // 00:30 in Paris on 1 June is still 31 May in UTC: the chip must sit on 1 June.
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}/compose"),
            &format!("/w/{ws}/compose"),
            &[
                ("body", "Minuit passé"),
                ("channel", &ch),
                ("action", "schedule"),
                ("date", "2031-06-01"),
                ("time", "00:30"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (s, page) = app
        .get(&owner, &format!("/w/{ws}/calendar?month=2031-06"))
        .await;
    assert_eq!(s, 200);
    assert!(page.contains("juin 2031"));
    let day1 = page.find("data-date=\"2031-06-01\"").expect("1 June cell");
    let chip = page.find(">Minuit passé<").expect("chip");
    assert!(page[day1..chip].contains(">00:30<"), "with its local time");
    let day2 = page[day1..].find("data-date=\"2031-06-02\"").unwrap() + day1;
    assert!(chip > day1 && chip < day2, "the post sits on 1 June");
    assert!(
        page.contains("class=\"st\">Programmé<"),
        "status in words, not colour alone"
    );
    let (_, may) = app
        .get(&owner, &format!("/w/{ws}/calendar?month=2031-05"))
        .await;
    assert!(
        may.contains("mai 2031") && may.contains("Minuit passé"),
        "1 June shows in May's trailing week too"
    );
}

#[tokio::test]
async fn drag_a_post_to_another_day() {
    let app = spawn_app().await;
    let owner = app.owner("en").await;
    let ws = app.create_workspace(&owner, "Brand").await;
    let ch = app
        .channel(ws, "bluesky", "Bluesky", json!({}))
        .await
        .to_string();
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}/compose"),
            &format!("/w/{ws}/compose"),
            &[
                ("body", "Moving"),
                ("channel", &ch),
                ("action", "schedule"),
                ("date", "2031-03-27"),
                ("time", "02:30"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let t = app
        .state
        .store
        .list_targets(ws, &Default::default())
        .await
        .unwrap()[0]
        .clone();
    let (_, cal) = app
        .get(&owner, &format!("/w/{ws}/calendar?month=2031-03"))
        .await;
    assert!(
        cal.contains(&format!("data-move=\"/w/{ws}/targets/{}/move\"", t.id)),
        "scheduled chips are draggable"
    );
    let csrf = csrf_of(&cal);
    let mv = |date: &str, version: i64| {
        let owner = owner.clone();
        let url = app.at(&format!("/w/{ws}/targets/{}/move", t.id));
        let csrf = csrf.clone();
        let form = [
            ("date".to_string(), date.to_string()),
            ("version".to_string(), version.to_string()),
        ];
        async move {
            owner
                .post(url)
                .header("x-csrf-token", csrf)
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };
    // 02:30 on 30 March 2031 does not exist in Paris.
    let r = mv("2031-03-30", t.version).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("does not exist that day"));
    let r = mv("2031-03-28", t.version).await;
    assert_eq!(r.status(), 204);
    let moved = app.state.store.target(t.id).await.unwrap();
    let expected = chrono::DateTime::parse_from_rfc3339("2031-03-28T01:30:00Z")
        .unwrap()
        .timestamp_millis();
    assert_eq!(
        (moved.scheduled_at, moved.version),
        (Some(expected), t.version + 1)
    );
    let r = mv("2031-03-29", t.version).await;
    assert_eq!(r.status(), 409, "a stale version is refused");
}

#[tokio::test]
async fn add_to_queue_takes_each_channels_next_free_slot() {
    let app = spawn_app().await;
    let owner = app.owner("en").await;
    let ws = app.create_workspace(&owner, "Brand").await;
    let a = app.channel(ws, "bluesky", "Bluesky", json!({})).await;
    let page = format!("/w/{ws}/channels");
    let r = app
        .submit(
            &owner,
            &page,
            &format!("/w/{ws}/channels/{a}/slots"),
            &[("slots", "Mon-Frx 09:30")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("unknown day"));
    let r = app
        .submit(
            &owner,
            &page,
            &format!("/w/{ws}/channels/{a}/slots"),
            &[("slots", "lun-dim 09:30 18:00")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let queue = |text: &'static str| {
        let app = &app;
        let owner = owner.clone();
        let id = a.to_string();
        async move {
            app.submit(
                &owner,
                &format!("/w/{ws}/compose"),
                &format!("/w/{ws}/compose"),
                &[("body", text), ("channel", &id), ("action", "queue")],
            )
            .await
        }
    };
    assert_eq!(queue("first").await.status(), 303);
    assert_eq!(queue("second").await.status(), 303);
    let mut times: Vec<i64> = app
        .state
        .store
        .list_targets(ws, &Default::default())
        .await
        .unwrap()
        .iter()
        .filter_map(|t| t.scheduled_at)
        .collect();
    times.sort();
    assert_eq!(times.len(), 2);
    assert!(
        times[0] > relais_store::now() && times[1] > times[0],
        "two different future slots"
    );
    let gap = times[1] - times[0];
    let h = 3_600_000;
    // 18:00 → 09:30 is 15 h 30 (± 1 h on a DST night); 09:30 → 18:00 is 8 h 30.
    assert!(
        [
            8 * h + h / 2,
            14 * h + h / 2,
            15 * h + h / 2,
            16 * h + h / 2
        ]
        .contains(&gap),
        "consecutive slots 09:30/18:00: {gap}"
    );
    // A channel without slots: the error names it.
    let b = app
        .channel(ws, "mastodon", "Masto", json!({}))
        .await
        .to_string();
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}/compose"),
            &format!("/w/{ws}/compose"),
            &[("body", "x"), ("channel", &b), ("action", "queue")],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("no free queue slot"));
}
