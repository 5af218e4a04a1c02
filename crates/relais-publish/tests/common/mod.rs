//! Shared by the peer tests: env lookup with the CI rule, a client that may reach loopback.
#![allow(dead_code)]

pub mod mock;

use relais_net::{Net, NetConfig, SsrfPolicy};

/// The values of `vars`, or `None` (skip) outside CI when one is missing. With `CI=true` a missing
/// peer fails the test: peer tests must not pass by being skipped.
pub fn peer_env(vars: &[&str], script: &str) -> Option<Vec<String>> {
    let vals: Vec<Option<String>> = vars
        .iter()
        .map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .collect();
    if vals.iter().all(Option::is_some) {
        return Some(vals.into_iter().map(Option::unwrap).collect());
    }
    let missing: Vec<&str> = vars
        .iter()
        .zip(&vals)
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| *k)
        .collect();
    let msg = format!(
        "peer not configured (missing {missing:?}): run /work/shared/peers/{script} start and source $PEERS_HOME/<peer>/env"
    );
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{msg}");
    }
    eprintln!("SKIP: {msg}");
    None
}

/// A client whose SSRF guard allows loopback (peers listen on 127.0.0.1).
pub fn loopback_net() -> Net {
    Net::new(NetConfig {
        ssrf: SsrfPolicy::with_allow_list(["127.0.0.1/32", "::1/128"]).unwrap(),
        timeout: std::time::Duration::from_secs(30),
        ..NetConfig::default()
    })
    .unwrap()
}

/// A unique id for this run (idempotency keys, texts).
pub fn unique() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    format!("{}{:09}", t.as_secs(), t.subsec_nanos())
}

/// A 1×1 PNG.
pub fn tiny_png() -> bytes::Bytes {
    bytes::Bytes::from_static(&[
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f,
        0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8,
        0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00,
        0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ])
}

pub fn png_media(alt: &str) -> relais_publish::Media {
    relais_publish::Media {
        data: tiny_png(),
        mime: "image/png".into(),
        filename: "pixel.png".into(),
        alt: Some(alt.into()),
        url: None,
    }
}
