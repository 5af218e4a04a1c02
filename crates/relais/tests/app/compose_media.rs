//! The media library and the composer's media, threads, previews and autosaved drafts.

use crate::common;
use common::*;
use serde_json::json;

const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// A PNG whose content differs by `n` (bytes after the end chunk), so each is a new file.
fn png(n: u8) -> Vec<u8> {
    let mut v = PNG.to_vec();
    v.push(n);
    v
}

async fn upload(
    app: &TestApp,
    c: &reqwest::Client,
    ws: i64,
    name: &str,
    data: Vec<u8>,
    alt: &str,
) -> reqwest::Response {
    let (_, html) = app.get(c, &format!("/w/{ws}/media")).await;
    let token = csrf_of(&html);
    let part = reqwest::multipart::Part::bytes(data)
        .file_name(name.to_string())
        .mime_str("image/png")
        .unwrap();
    let form = reqwest::multipart::Form::new()
        .text("alt", alt.to_string())
        .part("file", part);
    c.post(app.at(&format!("/w/{ws}/media?_csrf={token}")))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn media_ids(app: &TestApp, ws: i64) -> Vec<i64> {
    let mut v: Vec<i64> = app
        .state
        .store
        .list_media(ws)
        .await
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    v.sort();
    v
}

fn spool_is_empty(app: &TestApp) -> bool {
    std::fs::read_dir(app.state.media.spool_dir())
        .unwrap()
        .next()
        .is_none()
}

async fn post_form(
    app: &TestApp,
    c: &reqwest::Client,
    ws: i64,
    path: &str,
    fields: &[(String, String)],
) -> reqwest::Response {
    let (_, html) = app.get(c, &format!("/w/{ws}/compose")).await;
    let token = csrf_of(&html);
    c.post(app.at(path))
        .header("x-csrf-token", token)
        .form(fields)
        .send()
        .await
        .unwrap()
}

fn f(k: &str, v: impl ToString) -> (String, String) {
    (k.to_string(), v.to_string())
}

#[tokio::test]
async fn media_upload_types_size_isolation_alt_and_delete() {
    let app = spawn_with(|s| s.media.max_upload_mb = 1).await;
    let owner = app.owner("en").await;
    let ws = app.create_workspace(&owner, "Citroën").await;
    let other_ws = app.create_workspace(&owner, "Peugeot").await;

    // A good PNG: stored, listed with a warning until it has a description.
    let r = upload(&app, &owner, ws, "../../etc/photo.PNG", png(1), "").await;
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    let ids = media_ids(&app, ws).await;
    assert_eq!(ids.len(), 1);
    let id = ids[0];
    let m = app.state.store.media(ws, id).await.unwrap();
    assert_eq!(
        (m.mime.as_str(), m.width, m.height),
        ("image/png", Some(1), Some(1))
    );
    assert_eq!(m.filename, "photo.png", "base name only, real extension");
    let (s, page) = app.get(&owner, &format!("/w/{ws}/media")).await;
    assert_eq!(s, 200);
    assert!(
        page.contains("photo.png") && page.contains("No description (alt text)"),
        "{page}"
    );
    // The same bytes again: the same media, not a copy.
    upload(&app, &owner, ws, "again.png", png(1), "").await;
    assert_eq!(media_ids(&app, ws).await, [id]);

    // Served with its type and nosniff, to members of its workspace only.
    let r = owner
        .get(app.at(&format!("/w/{ws}/media/{id}/file")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.bytes().await.unwrap().to_vec(), png(1));
    let (s, _) = app
        .get(&owner, &format!("/w/{other_ws}/media/{id}/file"))
        .await;
    assert_eq!(s, 404, "another workspace's media is not found");
    let stranger = app
        .join(&owner, other_ws, "stranger@example.com", "editor")
        .await;
    let (s, _) = app
        .get(&stranger, &format!("/w/{other_ws}/media/{id}/file"))
        .await;
    assert_eq!(s, 404);
    let (s, _) = app
        .get(&stranger, &format!("/w/{ws}/media/{id}/file"))
        .await;
    assert!(s == 404 || s == 403, "a non-member gets nothing: {s}");

    // Wrong type: an HTML page named .png is refused by its first bytes; nothing is kept.
    let r = upload(
        &app,
        &owner,
        ws,
        "evil.png",
        b"<html><script>alert(1)</script>".to_vec(),
        "",
    )
    .await;
    assert_eq!(r.status(), 422);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("this type of file is not accepted") && body.contains("JPEG, PNG"),
        "{body}"
    );
    // Too large (cap 1 MB): refused while streaming; no half-written file remains.
    let mut big = png(2);
    big.resize(1_500_000, 0);
    let r = upload(&app, &owner, ws, "big.png", big, "").await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("too large"));
    assert_eq!(media_ids(&app, ws).await, [id]);
    assert!(spool_is_empty(&app), "no spool file left behind");

    // Alt text: set, then the warning is gone.
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}/media"),
            &format!("/w/{ws}/media/{id}/alt"),
            &[("alt", "Le logo en rouge")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, page) = app.get(&owner, &format!("/w/{ws}/media")).await;
    assert!(!page.contains("No description (alt text)"), "{page}");
    assert_eq!(
        app.state.store.media(ws, id).await.unwrap().alt,
        "Le logo en rouge"
    );

    // Used by a scheduled post: deletion refused; once published-or-draft only: allowed.
    let masto = app.channel(ws, "mastodon", "Mastodon", json!({})).await;
    let r = post_form(
        &app,
        &owner,
        ws,
        &format!("/w/{ws}/compose"),
        &[
            f("body", "Avec image"),
            f("channel", masto),
            f("media", id),
            f("action", "schedule"),
            f("date", "2031-01-10"),
            f("time", "10:00"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}/media"),
            &format!("/w/{ws}/media/{id}/delete"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 409);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("used by a scheduled publication"));
    assert_eq!(media_ids(&app, ws).await, [id]);
    let key = app.state.store.media(ws, id).await.unwrap().storage_key;
    assert!(app.state.media.read(&key).await.is_ok());

    let draft_only = upload(&app, &owner, ws, "two.png", png(3), "Deux").await;
    assert_eq!(draft_only.status(), 303);
    let two = *media_ids(&app, ws).await.last().unwrap();
    let r = post_form(
        &app,
        &owner,
        ws,
        &format!("/w/{ws}/compose"),
        &[
            f("body", "Brouillon"),
            f("channel", masto),
            f("media", two),
            f("action", "draft"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let key = app.state.store.media(ws, two).await.unwrap().storage_key;
    let r = app
        .submit(
            &owner,
            &format!("/w/{ws}/media"),
            &format!("/w/{ws}/media/{two}/delete"),
            &[],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert_eq!(media_ids(&app, ws).await, [id]);
    assert!(
        app.state.media.read(&key).await.is_err(),
        "the file is gone too"
    );
}

#[tokio::test]
async fn composer_media_rules_threads_and_previews() {
    let app = spawn_app().await;
    let owner = app.owner("en").await;
    let ws = app.create_workspace(&owner, "Citroën").await;
    let bsky = app.channel(ws, "bluesky", "Bluesky", json!({})).await;
    let masto = app
        .channel(
            ws,
            "mastodon",
            "Mastodon FR",
            json!({"max_characters": 500}),
        )
        .await;
    let hook = app.channel(ws, "webhook", "Hook", json!({})).await;
    for n in 0..5 {
        let alt = if n == 0 { "" } else { "Une image" };
        assert_eq!(
            upload(&app, &owner, ws, "p.png", png(n), alt)
                .await
                .status(),
            303
        );
    }
    let ids = media_ids(&app, ws).await;
    let compose = format!("/w/{ws}/compose");

    // Five images on Bluesky (4 at most): refused, naming the channel.
    let mut fields = vec![
        f("body", "Cinq images"),
        f("channel", bsky),
        f("action", "draft"),
    ];
    fields.extend(ids.iter().map(|i| f("media", i)));
    let r = post_form(&app, &owner, ws, &compose, &fields).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("too many attachments") && page.contains("Bluesky: 5 / 4"),
        "{page}"
    );
    // A webhook takes no media; per-channel media replace the main ones.
    let r = post_form(
        &app,
        &owner,
        ws,
        &compose,
        &[
            f("body", "x"),
            f("channel", hook),
            f("media", ids[0]),
            f("action", "draft"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("Hook: 1 / 0"));
    // A media of another workspace cannot be attached.
    let other = app.create_workspace(&owner, "Autre").await;
    upload(&app, &owner, other, "o.png", png(9), "").await;
    let foreign = media_ids(&app, other).await[0];
    let r = post_form(
        &app,
        &owner,
        ws,
        &compose,
        &[
            f("body", "x"),
            f("channel", masto),
            f("media", foreign),
            f("action", "draft"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);

    // A thread on a network without replies is refused, naming the field and the channel.
    let r = post_form(
        &app,
        &owner,
        ws,
        &compose,
        &[
            f("body", "x"),
            f("channel", hook),
            (format!("thread_{hook}"), "suite".into()),
            f("action", "draft"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("The thread: this network has no replies"));
    // Each part is counted with the network's rule.
    let r = post_form(
        &app,
        &owner,
        ws,
        &compose,
        &[
            f("body", "x"),
            f("channel", bsky),
            (format!("thread_{bsky}"), "é".repeat(301)),
            f("action", "draft"),
        ],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Bluesky: 2 graphemes: 301 / 300"));

    // Counters and preview cards, live: parts counted, links/tags/mentions marked, the CW,
    // images in the card, a warning for the image without a description.
    let r = post_form(
        &app,
        &owner,
        ws,
        &format!("/w/{ws}/compose/counters"),
        &[
            f("body", "Voir https://example.org/a #C5 @ana@m.social"),
            f("channel", masto),
            f("channel", bsky),
            f("media", ids[0]),
            f("media", ids[1]),
            (format!("thread_{masto}"), "Deuxième partie".into()),
            (format!("comment_{masto}"), "Des questions ?".into()),
            (format!("spoiler_{masto}"), "Annonce".into()),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    let frag = r.text().await.unwrap();
    assert!(
        frag.contains("(part 2)") && frag.contains("(First comment)") && frag.contains("44 / 500"),
        "{frag}"
    );
    assert!(
        frag.contains(r#"<span class="pv-link">https://example.org/a</span>"#),
        "{frag}"
    );
    assert!(
        frag.contains(r#"<span class="pv-tag">#C5</span>"#)
            && frag.contains(r#"<span class="pv-mention">@ana@m.social</span>"#)
    );
    assert!(
        frag.contains("CW: Annonce") && frag.contains("2/2"),
        "{frag}"
    );
    assert!(frag.contains(&format!("/w/{ws}/media/{}/file", ids[1])));
    assert!(frag.contains("Image without a description"), "{frag}");

    // Scheduled with a thread and a first comment: parts and media stored per target.
    let r = post_form(
        &app,
        &owner,
        ws,
        &compose,
        &[
            f("body", "Partie une"),
            f("channel", masto),
            f("channel", bsky),
            f("media", ids[1]),
            (format!("media_{bsky}"), ids[2].to_string()),
            (format!("media_{bsky}"), ids[3].to_string()),
            (format!("thread_{masto}"), "Partie deux".into()),
            (format!("thread_{masto}"), "".into()),
            (format!("thread_{masto}"), "Partie trois".into()),
            (format!("comment_{masto}"), "Commentaire".into()),
            f("action", "schedule"),
            f("date", "2031-02-01"),
            f("time", "09:00"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    let targets = app
        .state
        .store
        .list_targets(ws, &Default::default())
        .await
        .unwrap();
    let tm = targets.iter().find(|t| t.channel_id == masto).unwrap();
    let tb = targets.iter().find(|t| t.channel_id == bsky).unwrap();
    let parts: Vec<(String, String)> = app
        .state
        .store
        .parts(tm.id)
        .await
        .unwrap()
        .into_iter()
        .map(|p| (p.kind, p.body))
        .collect();
    assert_eq!(
        parts,
        [
            ("thread".to_string(), "Partie deux".to_string()),
            ("thread".into(), "Partie trois".into()),
            ("comment".into(), "Commentaire".into()),
        ]
    );
    let m_of = |t: i64| {
        let store = app.state.store.clone();
        async move {
            store
                .target_media(t)
                .await
                .unwrap()
                .into_iter()
                .map(|(_, m)| m.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(m_of(tm.id).await, [ids[1]]);
    assert_eq!(m_of(tb.id).await, [ids[2], ids[3]]);
}

#[tokio::test]
async fn autosave_keeps_drafts_and_refuses_a_stale_tab() {
    let app = spawn_app().await;
    let owner = app.owner("fr").await;
    let ws = app.create_workspace(&owner, "Citroën").await;
    let masto = app.channel(ws, "mastodon", "Mastodon", json!({})).await;
    let save = format!("/w/{ws}/compose/autosave");
    let ver = regex::Regex::new(r#"id="post_id" name="post_id" value="(\d+)"[^>]*>\s*<input type="hidden" id="version" name="version" value="(\d+)""#).unwrap();

    // Nothing typed: nothing saved.
    let r = post_form(&app, &owner, ws, &save, &[f("body", "  ")]).await;
    assert_eq!(r.status(), 204);
    // First save creates the draft and hands back its id and version.
    let r = post_form(
        &app,
        &owner,
        ws,
        &save,
        &[
            f("body", "Premier jet"),
            f("channel", masto),
            f("tab", "tabA"),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    let frag = r.text().await.unwrap();
    assert!(frag.contains("Brouillon enregistré à"), "{frag}");
    let c = ver.captures(&frag).expect("hidden fields");
    let (post, v0): (i64, i64) = (c[1].parse().unwrap(), c[2].parse().unwrap());
    // Over the limit is still saved (a draft), and the version moves on.
    let long = "x".repeat(600);
    let again = |body: String| {
        let fields = vec![
            f("body", body),
            f("channel", masto),
            f("post_id", post),
            f("version", v0),
            f("tab", "tabA"),
        ];
        let (app, owner, save) = (&app, &owner, &save);
        async move { post_form(app, owner, ws, save, &fields).await }
    };
    assert_eq!(again("x".into()).await.status(), 200);
    // The same page's next save crossing the previous answer (stale version, same tab): kept.
    let r = again(long.clone()).await;
    assert_eq!(r.status(), 200);
    let frag = r.text().await.unwrap();
    let v1: i64 = ver.captures(&frag).unwrap()[2].parse().unwrap();
    assert!(v1 > v0 + 1, "{v0} → {v1}");
    // A second tab still at v0: refused, with who saved meanwhile; nothing overwritten.
    let r = post_form(
        &app,
        &owner,
        ws,
        &save,
        &[
            f("body", "Onglet périmé"),
            f("channel", masto),
            f("post_id", post),
            f("version", v0),
            f("tab", "tabB"),
        ],
    )
    .await;
    assert_eq!(r.status(), 409);
    let msg = r.text().await.unwrap();
    assert!(
        msg.contains("a été enregistré entre-temps ailleurs") && msg.contains("Owner Olga"),
        "{msg}"
    );
    assert_eq!(app.state.store.post(ws, post).await.unwrap().body, long);
    // The final save of the stale tab is refused too, beside the text.
    let r = post_form(
        &app,
        &owner,
        ws,
        &format!("/w/{ws}/compose"),
        &[
            f("body", "Onglet périmé"),
            f("channel", masto),
            f("post_id", post),
            f("version", v0),
            f("tab", "tabB"),
            f("action", "draft"),
        ],
    )
    .await;
    let st = r.status();
    let page = r.text().await.unwrap();
    assert_eq!(st, 409, "{page}");
    // Reopening the draft shows the saved text; saving it at the current version works and
    // keeps one target.
    let (s, page) = app
        .get(&owner, &format!("/w/{ws}/compose?post={post}"))
        .await;
    assert_eq!(s, 200);
    assert!(page.contains(&long) && page.contains(&format!(r#"name="version" value="{v1}""#)));
    let r = post_form(
        &app,
        &owner,
        ws,
        &format!("/w/{ws}/compose"),
        &[
            f("body", "Version finale"),
            f("channel", masto),
            f("post_id", post),
            f("version", v1),
            f("action", "draft"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303, "{:?}", r.text().await);
    let targets = app.state.store.targets_of_post(post).await.unwrap();
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].body, "Version finale");
    // My drafts list it on the composer.
    let (_, page) = app.get(&owner, &format!("/w/{ws}/compose")).await;
    assert!(
        page.contains(&format!("/w/{ws}/compose?post={post}")),
        "{page}"
    );
}

#[tokio::test]
async fn networks_that_fetch_by_url_get_a_public_address_only_for_library_files() {
    let app = spawn_app().await;
    let owner = app.owner("fr").await;
    let ws = app.create_workspace(&owner, "Acme").await;
    let data = png(7);
    let r = upload(&app, &owner, ws, "p.png", data.clone(), "un pixel").await;
    assert!(r.status().is_success() || r.status().is_redirection());
    let m = app.state.store.list_media(ws).await.unwrap().remove(0);
    // No session needed (Instagram and Threads fetch it), the right type, nosniff.
    let anon = reqwest::Client::new();
    let r = anon
        .get(app.at(&format!("/public/media/{}", m.storage_key)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.bytes().await.unwrap().to_vec(), data);
    // Any other hash, a malformed one, or another workspace's prefix: 404.
    for bad in [
        format!("{ws}/{}", "0".repeat(64)),
        format!("{ws}/../x"),
        format!("{}/{}", ws + 1, m.sha256),
    ] {
        let r = anon
            .get(app.at(&format!("/public/media/{bad}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{bad}");
    }
}
