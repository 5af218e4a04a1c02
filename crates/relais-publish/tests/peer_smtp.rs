//! Newsletter against the SMTP sink (aiosmtpd). Env: SMTP_HOST, SMTP_PORT, SMTP_SINK_DIR
//! (start-smtp.sh).

mod common;

use std::time::Duration;

use common::{peer_env, unique};
use relais_publish::newsletter::{Newsletter, NewsletterMessage, SmtpConfig, SmtpSecurity};
use relais_publish::Secret;

#[tokio::test]
async fn peer_smtp_newsletter_delivered_with_unsubscribe_headers() {
    let Some(env) = peer_env(
        &["SMTP_HOST", "SMTP_PORT", "SMTP_SINK_DIR"],
        "start-smtp.sh",
    ) else {
        return;
    };
    let n = Newsletter::new(&SmtpConfig {
        host: env[0].clone(),
        port: env[1].parse().unwrap(),
        security: SmtpSecurity::Plain,
        username: Some("relais".into()),
        password: Some(Secret::new("pw")),
        timeout: Duration::from_secs(10),
    })
    .unwrap();
    let marker = unique();
    let to = format!("reader{marker}@example.org");
    let unsub = format!("https://relais.example/u/{marker}");
    let id = n
        .send(&NewsletterMessage {
            from: "Relais <news@relais.example>".into(),
            to: to.clone(),
            subject: format!("Issue {marker}"),
            html: "<h1>News</h1><p>Bonjour é</p>".into(),
            text: "News\n\nBonjour é".into(),
            unsubscribe_url: unsub.clone(),
            list_id: Some("<news.relais.example>".into()),
        })
        .await
        .unwrap();
    assert!(!id.is_empty());

    // The sink writes one .eml per message.
    let dir = std::path::Path::new(&env[2]).join("eml");
    let mut found = None;
    for _ in 0..20 {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let s = std::fs::read_to_string(e.path()).unwrap_or_default();
            if s.contains(&marker) && s.contains(&to) {
                found = Some(s);
            }
        }
        if found.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let eml = found.expect("the sink received the message");
    assert!(
        eml.contains(&format!("List-Unsubscribe: <{unsub}>")),
        "{eml}"
    );
    assert!(eml.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
    assert!(eml.contains("multipart/alternative"));
    assert!(eml.contains("text/html") && eml.contains("text/plain"));
}
