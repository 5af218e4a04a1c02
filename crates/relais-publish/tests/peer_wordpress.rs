//! WordPress against a real site. Env: WP_URL, WP_USER, WP_APP_PASSWORD (start-wordpress.sh).

mod common;

use common::{loopback_net, peer_env, png_media, unique};
use relais_publish::wordpress::{WordPress, WordPressCredentials};
use relais_publish::{Connector, PublishRequest, Secret, Variant};
use serde_json::Value;

fn connector(env: &[String], password: &str) -> WordPress {
    WordPress::new(
        loopback_net(),
        WordPressCredentials {
            site: env[0].clone(),
            user: env[1].clone(),
            app_password: Secret::new(password),
        },
    )
}

#[tokio::test]
async fn peer_wordpress_article_with_featured_image() {
    let Some(env) = peer_env(
        &["WP_URL", "WP_USER", "WP_APP_PASSWORD"],
        "start-wordpress.sh",
    ) else {
        return;
    };
    let wp = connector(&env, &env[2]);
    let marker = unique();
    let req = PublishRequest {
        idempotency_key: format!("wp-{marker}"),
        variant: Variant {
            title: Some(format!("Relais test {marker}")),
            html: Some("<p>Hello <strong>world</strong></p>".into()),
            tags: vec!["relais".into(), format!("t{marker}")],
            categories: vec!["News".into()],
            media: vec![png_media("a red pixel")],
            ..Default::default()
        },
        reply_to: None,
    };
    assert!(wp.validate(&req.variant).is_empty());
    assert_eq!(wp.reconcile(&req).await.unwrap(), None);
    let p = wp.publish(&req).await.unwrap();
    assert_eq!(
        wp.reconcile(&req).await.unwrap().unwrap().remote_id,
        p.remote_id
    );
    // Terms are reused, not duplicated.
    assert_eq!(
        wp.term_id("tags", "relais").await.unwrap(),
        wp.term_id("tags", "relais").await.unwrap()
    );

    let net = loopback_net();
    let get = |path: String| {
        let net = net.clone();
        let env = env.to_vec();
        async move {
            let rb = net
                .get(&format!("{}/wp-json/wp/v2{path}", env[0]))
                .basic_auth(&env[1], Some(&env[2]));
            serde_json::from_slice::<Value>(&net.fetch(rb).await.unwrap()).unwrap()
        }
    };
    let post = get(format!("/posts/{}?context=edit", p.remote_id)).await;
    assert_eq!(post["status"], "publish");
    assert_eq!(post["title"]["raw"], format!("Relais test {marker}"));
    assert!(post["content"]["raw"]
        .as_str()
        .unwrap()
        .contains("<strong>world</strong>"));
    assert_eq!(post["tags"].as_array().unwrap().len(), 2);
    assert_eq!(post["categories"].as_array().unwrap().len(), 1);
    let media_id = post["featured_media"].as_u64().unwrap();
    assert!(media_id > 0, "featured image set");
    let media = get(format!("/media/{media_id}")).await;
    assert_eq!(media["alt_text"], "a red pixel");
    assert_eq!(media["mime_type"], "image/png");
}

#[tokio::test]
async fn peer_wordpress_bad_password_is_disconnect() {
    let Some(env) = peer_env(
        &["WP_URL", "WP_USER", "WP_APP_PASSWORD"],
        "start-wordpress.sh",
    ) else {
        return;
    };
    let wp = connector(&env, "wrong wrong wrong");
    let req = PublishRequest {
        idempotency_key: unique(),
        variant: Variant {
            title: Some("x".into()),
            text: "x".into(),
            ..Default::default()
        },
        reply_to: None,
    };
    assert_eq!(wp.publish(&req).await.unwrap_err().code(), "disconnect");
}
