//! Request helpers shared by connectors: send through relais-net, classify failures.

use relais_net::header::HeaderMap;
use relais_net::{Net, RequestBuilder, StatusCode};
use serde_json::Value;

use crate::error::classify_status;
use crate::PublishError;

/// Largest API answer read (JSON responses are small; this only bounds a hostile server).
pub(crate) const MAX_JSON: u64 = 4 * 1024 * 1024;

/// How a request behaves if it fails half-way.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Reads, uploads of media not yet attached: a failure is transient.
    Safe,
    /// Creates the post and the network deduplicates (idempotency key, txn id, fixed rkey).
    IdempotentMutation,
    /// Creates the post with no deduplication: maybe-sent failures are unknown outcomes.
    Mutation,
}

/// A read answer: status, headers and the JSON body (`Null` when empty, a string when not JSON).
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
}

/// Send and read the answer whatever its status; transport errors are classified.
pub(crate) async fn send_json(
    net: &Net,
    rb: RequestBuilder,
    kind: Kind,
) -> Result<Reply, PublishError> {
    let resp = net
        .send(rb)
        .await
        .map_err(|e| PublishError::from_net(e, kind != Kind::Safe))?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = net
        .read_limited(resp, MAX_JSON)
        .await
        .map_err(|e| PublishError::from_net(e, kind != Kind::Safe))?;
    let json = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).unwrap_or_else(|_| Value::String(relais_net::snippet(&body)))
    };
    Ok(Reply {
        status,
        headers,
        json,
    })
}

/// Send and require 2xx; the error message is the network's own (`error`, `message`, …).
pub(crate) async fn call(net: &Net, rb: RequestBuilder, kind: Kind) -> Result<Value, PublishError> {
    let r = send_json(net, rb, kind).await?;
    if r.status.is_success() {
        return Ok(r.json);
    }
    Err(fail(&r, kind))
}

/// The most useful message in an error body (`error_description`, `error`, `message`, `errcode`).
pub(crate) fn error_message(status: u16, json: &Value) -> String {
    let pick = |k: &str| json.get(k).and_then(Value::as_str).map(str::to_owned);
    let msg = pick("error_description")
        .or_else(|| pick("message"))
        .or_else(|| pick("error"))
        .or_else(|| pick("description"))
        .or_else(|| json.as_str().map(str::to_owned))
        .unwrap_or_default();
    match pick("errcode").or_else(|| pick("code")) {
        Some(code) => format!("{status} {code}: {msg}"),
        None => format!("{status}: {msg}"),
    }
}

/// `base` without trailing slash + `path`.
pub(crate) fn join(base: &str, path: &str) -> String {
    format!("{}{}", base.trim_end_matches('/'), path)
}

/// Classify a non-2xx reply.
pub(crate) fn fail(r: &Reply, kind: Kind) -> PublishError {
    classify_status(
        r.status,
        &r.headers,
        error_message(r.status.as_u16(), &r.json),
        kind != Kind::Mutation,
    )
}

/// An API base URL from the channel settings: https, or http on a loopback host (local test
/// servers). Names `field` and the fix.
pub(crate) fn check_base(field: &'static str, base: &str) -> Result<(), crate::ConfigError> {
    let ok = url::Url::parse(base).is_ok_and(|u| match u.scheme() {
        "https" => u.host_str().is_some(),
        "http" => matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")),
        _ => false,
    });
    if ok {
        Ok(())
    } else {
        Err(crate::ConfigError::new(
            field,
            format!("`{base}` is not an https URL; leave it empty to use the network's default"),
        ))
    }
}

/// `value` is non-empty, or the error names `field` and says where to find it.
pub(crate) fn required(
    field: &'static str,
    value: &str,
    fix: &str,
) -> Result<(), crate::ConfigError> {
    if value.trim().is_empty() {
        return Err(crate::ConfigError::new(field, fix.to_owned()));
    }
    Ok(())
}
