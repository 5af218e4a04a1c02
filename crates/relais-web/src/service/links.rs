//! Link checks for the composer: each URL of the text is requested through the SSRF guard with
//! a short timeout, redirects followed one hop at a time so the user sees the chain.

use std::time::Duration;

use relais_guard::links::{LinkRef, ProbeOutcome, ProbeResult};
use relais_net::{Method, Net, NetConfig};

const MAX_HOPS: usize = 5;

/// A client like the server's, but returning redirects instead of following them.
fn probe_client(net: &Net) -> Option<Net> {
    Net::new(NetConfig {
        timeout: Duration::from_secs(8),
        max_redirects: 0,
        ssrf: net.policy().clone(),
        ..Default::default()
    })
    .ok()
}

async fn status_of(net: &Net, url: &str) -> Result<(u16, Option<String>), ProbeOutcome> {
    for method in [Method::HEAD, Method::GET] {
        match net.send(net.request(method.clone(), url)).await {
            // Some servers refuse HEAD: try GET before judging the link.
            Ok(r) if method == Method::HEAD && matches!(r.status().as_u16(), 405 | 501) => continue,
            Ok(r) => {
                let loc = r
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                return Ok((r.status().as_u16(), loc));
            }
            Err(e) if e.code() == "timeout" => return Err(ProbeOutcome::Timeout),
            Err(e) => {
                return Err(ProbeOutcome::Unreachable {
                    reason: e.code().to_string(),
                })
            }
        }
    }
    Err(ProbeOutcome::Unreachable {
        reason: "no answer".into(),
    })
}

pub async fn probe(net: &Net, link: LinkRef) -> ProbeResult {
    let Some(client) = probe_client(net) else {
        return ProbeResult {
            link,
            outcome: ProbeOutcome::Unreachable {
                reason: "config".into(),
            },
        };
    };
    let mut url = link.url.clone();
    let mut chain = Vec::new();
    let outcome = loop {
        match status_of(&client, &url).await {
            Err(o) => break o,
            Ok((status, Some(loc))) if (300..400).contains(&status) && chain.len() < MAX_HOPS => {
                let next = url::Url::parse(&url)
                    .and_then(|b| b.join(&loc))
                    .map(|u| u.to_string())
                    .unwrap_or(loc);
                chain.push(std::mem::replace(&mut url, next));
            }
            Ok((status, _)) if chain.is_empty() => {
                break if status < 400 {
                    ProbeOutcome::Ok { status }
                } else {
                    ProbeOutcome::HttpError { status }
                };
            }
            Ok((status, _)) => {
                break ProbeOutcome::Redirected {
                    chain,
                    final_url: url,
                    final_status: status,
                }
            }
        }
    };
    ProbeResult { link, outcome }
}

/// Probes every link of `text` concurrently (at most 20).
pub async fn check_links(net: &Net, text: &str) -> Vec<ProbeResult> {
    let links = relais_guard::links::extract(text);
    futures::future::join_all(links.into_iter().take(20).map(|l| probe(net, l))).await
}
