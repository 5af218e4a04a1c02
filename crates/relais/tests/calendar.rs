//! The calendar's week, day and list views in the workspace's zone (Europe/Paris) across DST
//! changes, the filters kept in the URL, and the keyboard "Move…" form with the same checks as
//! drag and drop.

mod common;
use common::*;
use serde_json::json;

/// Composes a scheduled post; returns its (only) target id.
async fn schedule(
    app: &TestApp,
    c: &reqwest::Client,
    ws: i64,
    ch: i64,
    text: &str,
    date: &str,
    time: &str,
) -> i64 {
    let chs = ch.to_string();
    let r = app
        .submit(
            c,
            &format!("/w/{ws}/compose"),
            &format!("/w/{ws}/compose"),
            &[
                ("body", text),
                ("channel", &chs),
                ("action", "schedule"),
                ("date", date),
                ("time", time),
            ],
        )
        .await;
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    target_of(app, ws, text).await.id
}

async fn target_of(app: &TestApp, ws: i64, text: &str) -> relais_store::posts::Target {
    app.state
        .store
        .list_targets(ws, &Default::default())
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.body == text)
        .expect("target")
}

fn utc(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap()
        .timestamp_millis()
}

/// Moves a target to an exact instant, bypassing the composer (which refuses ambiguous times).
async fn force_at(app: &TestApp, id: i64, at: i64) {
    let t = app.state.store.target(id).await.unwrap();
    let mut tx = app.state.store.begin().await.unwrap();
    relais_publisher::reschedule(&app.state.store, &mut tx, id, t.version, at)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// GETs a page with the HTML escapes of `&` and `'` undone, for readable assertions.
async fn view(app: &TestApp, c: &reqwest::Client, path: &str) -> (u16, String) {
    let (s, page) = app.get(c, path).await;
    (s, page.replace("&#38;", "&").replace("&#39;", "'"))
}

/// The HTML of the table cell that starts at `marker`.
fn cell<'a>(page: &'a str, marker: &str) -> &'a str {
    let i = page.find(marker).unwrap_or_else(|| panic!("no {marker}"));
    let end = page[i..].find("</td>").unwrap() + i;
    &page[i..end]
}

#[tokio::test]
async fn week_day_and_list_views_across_dst_in_paris() {
    // The process zone must not matter: only the workspace's zone does.
    std::env::set_var("TZ", "Pacific/Kiritimati");
    let app = spawn_app().await;
    let owner = app.owner("fr").await;
    let ws = app.create_workspace(&owner, "Marque").await;
    let ch = app.channel(ws, "bluesky", "Bluesky", json!({})).await;
    // Autumn change: Sunday 26 October 2031, 03:00 CEST → 02:00 CET (25 hours).
    let a = schedule(
        &app,
        &owner,
        ws,
        ch,
        "Avant le changement",
        "2031-10-26",
        "01:30",
    )
    .await;
    let b = schedule(&app, &owner, ws, ch, "Heure d'été", "2031-10-26", "09:00").await;
    let c = schedule(&app, &owner, ws, ch, "Heure d'hiver", "2031-10-26", "09:00").await;
    schedule(&app, &owner, ws, ch, "Samedi soir", "2031-10-25", "23:30").await;
    // 02:30 happens twice that day: 00:30 UTC (summer) and 01:30 UTC (winter).
    force_at(&app, b, utc("2031-10-26T00:30:00Z")).await;
    force_at(&app, c, utc("2031-10-26T01:30:00Z")).await;

    let (s, day) = view(
        &app,
        &owner,
        &format!("/w/{ws}/calendar?view=day&date=2031-10-26"),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(day.matches("<th scope=\"row\"").count(), 25, "25 hours");
    assert!(
        day.contains("<strong>25&nbsp;h</strong>"),
        "the note says so"
    );
    let summer = day.find("<small>UTC+02:00</small>").expect("first 02:00");
    let winter = day.find("<small>UTC+01:00</small>").expect("second 02:00");
    assert!(summer < winter);
    assert!(cell(&day[summer..], "<td").contains("Heure d'été"));
    assert!(cell(&day[winter..], "<td").contains("Heure d'hiver"));
    assert!(cell(&day, "data-date=\"2031-10-26\" data-hour=\"1\"").contains("Avant le changement"));
    assert!(
        day.contains("02:30 (UTC+02:00)") && day.contains("02:30 (UTC+01:00)"),
        "a repeated time shows its offset"
    );
    assert!(
        !day.contains("Samedi soir"),
        "23:30 on Saturday in Paris is 21:30 UTC: not on Sunday"
    );

    // Spring change: Sunday 30 March 2031 has 23 hours and no 02:00.
    let (_, spring) = view(
        &app,
        &owner,
        &format!("/w/{ws}/calendar?view=day&date=2031-03-30"),
    )
    .await;
    assert_eq!(spring.matches("<th scope=\"row\"").count(), 23);
    assert!(!spring.contains(">02:00<") && spring.contains(">03:00<"));
    assert!(spring.contains("<strong>23&nbsp;h</strong>"));

    // The week of 20–26 October: Sunday is marked 25 h, the chips sit on their local hour.
    let (s, week) = view(
        &app,
        &owner,
        &format!("/w/{ws}/calendar?view=week&date=2031-10-22"),
    )
    .await;
    assert_eq!(s, 200);
    assert!(week.contains("Semaine du lun. 20 octobre 2031"));
    assert!(week.contains("25\u{a0}h</span>"), "the Sunday is 25 h long");
    assert!(cell(&week, "data-date=\"2031-10-25\" data-hour=\"23\"").contains("Samedi soir"));
    let two = cell(&week, "data-date=\"2031-10-26\" data-hour=\"2\"");
    assert!(two.contains("Heure d'été") && two.contains("Heure d'hiver"));
    assert!(!week.contains("class=\"gap\""), "no missing hour in autumn");
    let (_, march) = view(
        &app,
        &owner,
        &format!("/w/{ws}/calendar?view=week&date=2031-03-30"),
    )
    .await;
    assert_eq!(
        march.matches("class=\"gap\"").count(),
        1,
        "02:00 on 30 March"
    );
    assert!(march.contains("23\u{a0}h</span>"));
    assert!(!march.contains("data-date=\"2031-03-30\" data-hour=\"2\""));

    // The list of October: days in order, each publication with its status in words.
    let (s, list) = view(
        &app,
        &owner,
        &format!("/w/{ws}/calendar?view=list&date=2031-10-01"),
    )
    .await;
    assert_eq!(s, 200);
    let sat = list.find("sam. 25 octobre 2031").expect("Saturday heading");
    let sun = list.find("dim. 26 octobre 2031").expect("Sunday heading");
    assert!(sat < sun && list[sat..sun].contains("Samedi soir"));
    let order: Vec<usize> = ["Avant le changement", "Heure d'été", "Heure d'hiver"]
        .iter()
        .map(|t| list[sun..].find(t).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "in time order");
    assert!(list.contains(">Programmé</span>"));
    // Navigation: previous / next / today keep the view.
    assert!(list.contains("view=list&date=2031-09-01"));
    assert!(list.contains("view=list&date=2031-11-01"));
    let _ = a;
}

#[tokio::test]
async fn filters_by_channel_status_author_and_tag_stay_in_the_url() {
    let app = spawn_app().await;
    let owner = app.owner("en").await;
    let ws = app.create_workspace(&owner, "Brand").await;
    let masto = app.channel(ws, "mastodon", "Masto", json!({})).await;
    let bsky = app.channel(ws, "bluesky", "Sky", json!({})).await;
    let editor = app.join(&owner, ws, "ed@example.com", "editor").await;
    let ed_id = app
        .state
        .store
        .user_by_email("ed@example.com")
        .await
        .unwrap()
        .unwrap()
        .id;
    schedule(
        &app,
        &owner,
        ws,
        masto,
        "Owner on Masto",
        "2031-06-10",
        "10:00",
    )
    .await;
    schedule(
        &app,
        &editor,
        ws,
        bsky,
        "Editor on Sky",
        "2031-06-11",
        "11:00",
    )
    .await;
    let draft = app
        .submit(
            &owner,
            &format!("/w/{ws}/compose"),
            &format!("/w/{ws}/compose"),
            &[
                ("body", "Owner draft"),
                ("channel", &bsky.to_string()),
                ("action", "draft"),
            ],
        )
        .await;
    assert_eq!(draft.status(), 303);

    // Tags from the list view: normalised; a bad one is refused beside the field.
    let list = format!("/w/{ws}/calendar?view=list&date=2031-06-01");
    let t = target_of(&app, ws, "Editor on Sky").await;
    let tags_url = format!("/w/{ws}/posts/{}/tags", t.post_id);
    let tid = t.id.to_string();
    let r = app
        .submit(
            &editor,
            &list,
            &tags_url,
            &[
                ("tags", "Launch, #Summer  Sale"),
                ("target", &tid),
                ("back", &list),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], list.as_str());
    let post = app.state.store.post(ws, t.post_id).await.unwrap();
    assert_eq!(post.tags, vec!["launch", "summer sale"]);
    let r = app
        .submit(
            &editor,
            &list,
            &tags_url,
            &[("tags", "50% off"), ("target", &tid), ("back", &list)],
        )
        .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains(&format!("id=\"tg-{tid}-err\"")) && page.contains("without quotes"));
    assert!(page.contains("value=\"50% off\""), "what was typed is kept");
    // Someone else's post: an editor may tag any post; a contributor only their own.
    let contributor = app.join(&owner, ws, "co@example.com", "contributor").await;
    let mine = target_of(&app, ws, "Owner on Masto").await;
    let r = app
        .submit(
            &contributor,
            &list,
            &format!("/w/{ws}/posts/{}/tags", mine.post_id),
            &[("tags", "x")],
        )
        .await;
    assert_eq!(r.status(), 403);

    let (_, all) = view(&app, &owner, &list).await;
    assert!(all.contains("Owner on Masto") && all.contains("Editor on Sky"));
    assert!(all.contains("<span class=\"tag\">summer sale</span>"));
    let shows = |page: &str| {
        ["Owner on Masto", "Editor on Sky", "Owner draft"]
            .iter()
            .map(|t| page.contains(t))
            .collect::<Vec<_>>()
    };
    let month = format!("/w/{ws}/calendar?view=month&date=2031-06-01");
    let (_, by_channel) = view(&app, &owner, &format!("{month}&channel={masto}")).await;
    assert_eq!(shows(&by_channel), [true, false, false]);
    let (_, by_author) = view(&app, &owner, &format!("{list}&author={ed_id}")).await;
    assert_eq!(shows(&by_author), [false, true, false]);
    let (_, by_tag) = view(&app, &owner, &format!("{list}&tag=Summer%20Sale")).await;
    assert_eq!(
        shows(&by_tag),
        [false, true, false],
        "tags match however typed"
    );
    let (_, by_state) = view(
        &app,
        &owner,
        &format!("/w/{ws}/calendar?view=list&status=draft"),
    )
    .await;
    assert_eq!(shows(&by_state), [false, false, true]);
    let (_, none) = view(&app, &owner, &format!("{list}&tag=launch&channel={masto}")).await;
    assert_eq!(shows(&none), [false, false, false], "filters combine");

    // The filters stay in every link of the page: views, previous, next, today.
    let (_, page) = view(&app, &owner, &format!("{month}&channel={bsky}&tag=launch")).await;
    let kept = format!("&channel={bsky}&tag=launch");
    for href in [
        "view=week&date=2031-06-01",
        "view=day&date=2031-06-01",
        "view=list&date=2031-06-01",
        "view=month&date=2031-05-01",
        "view=month&date=2031-07-01",
    ] {
        assert!(
            page.contains(&format!("{href}{kept}")),
            "{href} keeps the filters"
        );
    }
    assert!(page.contains(&format!("<option value=\"{bsky}\" selected>")));
    assert!(page.contains("<option value=\"launch\" selected>"));
    let (s, bad) = view(
        &app,
        &owner,
        &format!("/w/{ws}/calendar?view=day&date=2031-13-45"),
    )
    .await;
    assert_eq!(s, 422);
    assert!(bad.contains("YYYY-MM-DD"));
}

#[tokio::test]
async fn keyboard_move_form_with_the_same_checks_as_drag_and_drop() {
    let app = spawn_app().await;
    let owner = app.owner("en").await;
    let ws = app.create_workspace(&owner, "Brand").await;
    let ch = app.channel(ws, "bluesky", "Bluesky", json!({})).await;
    let id = schedule(&app, &owner, ws, ch, "Movable", "2031-03-27", "02:30").await;
    let week = format!("/w/{ws}/calendar?view=week&date=2031-03-27");
    let (_, page) = view(&app, &owner, &week).await;
    // A focusable control per post, with labelled date and time fields.
    assert!(page.contains("<summary>Move…<span class=\"sr\"> Movable</span></summary>"));
    assert!(page.contains(&format!("<label for=\"mv-date-{id}\">Date</label>")));
    assert!(page.contains(&format!("<label for=\"mv-time-{id}\">Time</label>")));
    assert!(page.contains(&format!(
        "id=\"mv-time-{id}\" type=\"time\" name=\"time\" required value=\"02:30\""
    )));

    let url = format!("/w/{ws}/targets/{id}/move");
    let version = |v: i64| v.to_string();
    let t0 = app.state.store.target(id).await.unwrap();
    let go = |date: &'static str, time: &'static str, v: i64| {
        let (app, owner, week, url) = (&app, owner.clone(), week.clone(), url.clone());
        async move {
            let v = version(v);
            app.submit(
                &owner,
                &week,
                &url,
                &[
                    ("date", date),
                    ("time", time),
                    ("version", &v),
                    ("back", &week),
                ],
            )
            .await
        }
    };
    // 02:30 on 30 March 2031 does not exist in Paris: refused beside the time field.
    let r = go("2031-03-30", "02:30", t0.version).await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(
        body.contains(&format!("id=\"mv-time-{id}-err\""))
            && body.contains("does not exist that day")
    );
    assert!(
        body.contains("<details class=\"move\" open>"),
        "the form stays open"
    );
    // 02:30 on 26 October 2031 happens twice: refused too.
    let r = go("2031-10-26", "02:30", t0.version).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("happens twice"));
    // The past is refused; a malformed time names the format.
    let r = go("2020-01-01", "10:00", t0.version).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("in the past"));
    let r = go("2031-03-28", "25:99", t0.version).await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("HH:MM"));
    assert_eq!(
        app.state.store.target(id).await.unwrap().version,
        t0.version,
        "nothing moved"
    );

    // A valid move: back to the page, new time, new version (the old publish job is void).
    let r = go("2031-03-28", "18:45", t0.version).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], week.as_str());
    let t1 = app.state.store.target(id).await.unwrap();
    assert_eq!(
        (t1.scheduled_at, t1.version),
        (Some(utc("2031-03-28T17:45:00Z")), t0.version + 1)
    );
    // The page shown before the move is stale now.
    let r = go("2031-03-29", "10:00", t0.version).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("changed meanwhile"));

    // Drag and drop to a day + hour slot (week and day views) keeps the minutes.
    let (_, page) = view(&app, &owner, &week).await;
    let csrf = csrf_of(&page);
    let drop = |date: &str, hour: &str, v: i64| {
        let form = [
            ("date".to_string(), date.to_string()),
            ("hour".to_string(), hour.to_string()),
            ("version".to_string(), v.to_string()),
        ];
        owner
            .post(app.at(&url))
            .header("x-csrf-token", csrf.clone())
            .form(&form)
            .send()
    };
    let r = drop("2031-03-30", "2", t1.version).await.unwrap();
    assert_eq!(r.status(), 422, "the hour skipped in spring");
    let r = drop("2031-03-29", "9", t1.version).await.unwrap();
    assert_eq!(r.status(), 204);
    let t2 = app.state.store.target(id).await.unwrap();
    assert_eq!(t2.scheduled_at, Some(utc("2031-03-29T08:45:00Z")));

    // A contributor may not move; a frozen workspace moves nothing.
    let contributor = app.join(&owner, ws, "co@example.com", "contributor").await;
    let (_, cpage) = app.get(&contributor, &week).await;
    assert!(!cpage.contains("Move…</summary>") && !cpage.contains("draggable"));
    let v = t2.version.to_string();
    let r = app
        .submit(
            &contributor,
            &week,
            &url,
            &[("date", "2031-04-02"), ("time", "10:00"), ("version", &v)],
        )
        .await;
    assert_eq!(r.status(), 403);
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}"),
            &format!("/w/{ws}/freeze"),
            &[("reason", "crise")],
        )
        .await;
    assert!(r.status().is_redirection() || r.status().is_success());
    let r = go("2031-04-02", "10:00", t2.version).await;
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("Publishing is frozen"));
    let (_, audit) = view(&app, &owner, &format!("/w/{ws}/audit?action=post.move")).await;
    assert!(audit.contains("2031-03-28 18:45") && audit.contains("2031-03-29 09:45"));
}
