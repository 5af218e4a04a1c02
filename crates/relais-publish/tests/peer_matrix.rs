//! Matrix against a real Synapse. Env: MATRIX_HOMESERVER, MATRIX_ACCESS_TOKEN, MATRIX_USER_ID,
//! MATRIX_PASSWORD (start-synapse.sh).

mod common;

use common::{loopback_net, peer_env, png_media, unique};
use relais_publish::matrix::{self, Matrix, MatrixCredentials};
use relais_publish::{Connector, PublishRequest, Secret, Variant};
use serde_json::{json, Value};

async fn create_room(hs: &str, token: &str, alias: &str) -> String {
    let net = loopback_net();
    let rb = net
        .post(&format!("{hs}/_matrix/client/v3/createRoom"))
        .bearer_auth(token)
        .json(&json!({ "room_alias_name": alias, "preset": "private_chat" }));
    let v: Value = serde_json::from_slice(&net.fetch(rb).await.unwrap()).unwrap();
    v["room_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn peer_matrix_message_in_room() {
    let Some(env) = peer_env(
        &[
            "MATRIX_HOMESERVER",
            "MATRIX_ACCESS_TOKEN",
            "MATRIX_USER_ID",
            "MATRIX_PASSWORD",
        ],
        "start-synapse.sh",
    ) else {
        return;
    };
    let (hs, token) = (&env[0], &env[1]);
    let alias = format!("relais{}", unique());
    let room_id = create_room(hs, token, &alias).await;
    let server = env[2].split_once(':').unwrap().1;

    // Password login works too (and gives a second token).
    let user = env[2].trim_start_matches('@').split(':').next().unwrap();
    let t2 = matrix::login_password(&loopback_net(), hs, user, &Secret::new(env[3].as_str()))
        .await
        .unwrap();
    assert!(!t2.expose().is_empty());

    let m = Matrix::new(
        loopback_net(),
        MatrixCredentials {
            homeserver: hs.clone(),
            access_token: Secret::new(token.as_str()),
            room: format!("#{alias}:{server}"),
        },
    );
    assert_eq!(m.room_id().await.unwrap(), room_id, "alias resolved");
    let req = PublishRequest {
        idempotency_key: unique(),
        variant: Variant {
            text: "bonjour from relais".into(),
            html: Some("<b>bonjour</b> from relais".into()),
            media: vec![png_media("a pixel")],
            ..Default::default()
        },
        reply_to: None,
    };
    let p = m.publish(&req).await.unwrap();
    // Same txnId: same event, no duplicate.
    assert_eq!(m.publish(&req).await.unwrap().remote_id, p.remote_id);
    assert_eq!(
        m.reconcile(&req).await.unwrap().unwrap().remote_id,
        p.remote_id
    );

    let net = loopback_net();
    let rb = net
        .get(&format!(
            "{hs}/_matrix/client/v3/rooms/{room_id}/messages?dir=b&limit=50"
        ))
        .bearer_auth(token);
    let v: Value = serde_json::from_slice(&net.fetch(rb).await.unwrap()).unwrap();
    let msgs: Vec<&Value> = v["chunk"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "m.room.message")
        .collect();
    let texts: Vec<&Value> = msgs
        .iter()
        .copied()
        .filter(|e| e["content"]["msgtype"] == "m.text")
        .collect();
    assert_eq!(texts.len(), 1, "exactly one text message");
    assert_eq!(texts[0]["event_id"], p.remote_id.as_str());
    assert_eq!(
        texts[0]["content"]["formatted_body"],
        "<b>bonjour</b> from relais"
    );
    let images: Vec<&Value> = msgs
        .iter()
        .copied()
        .filter(|e| e["content"]["msgtype"] == "m.image")
        .collect();
    assert_eq!(images.len(), 1);
    assert!(images[0]["content"]["url"]
        .as_str()
        .unwrap()
        .starts_with("mxc://"));

    let other = PublishRequest {
        idempotency_key: unique(),
        ..req
    };
    assert_eq!(m.reconcile(&other).await.unwrap(), None);
}

#[tokio::test]
async fn peer_matrix_bad_token_is_disconnect() {
    let Some(env) = peer_env(&["MATRIX_HOMESERVER"], "start-synapse.sh") else {
        return;
    };
    let m = Matrix::new(
        loopback_net(),
        MatrixCredentials {
            homeserver: env[0].clone(),
            access_token: Secret::new("nope"),
            room: "!x:localhost".into(),
        },
    );
    let req = PublishRequest {
        idempotency_key: unique(),
        variant: Variant {
            text: "x".into(),
            ..Default::default()
        },
        reply_to: None,
    };
    assert_eq!(m.publish(&req).await.unwrap_err().code(), "disconnect");
}
