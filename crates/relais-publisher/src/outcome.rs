//! What to do after a publication attempt, by error class (DESIGN §2). Pure, so the policy is
//! tested without a network.

use relais_publish::{PublishError, Published};

use crate::PublisherConfig;

#[derive(Debug, PartialEq)]
pub(crate) enum Next {
    Published(Published),
    /// The request was not (or harmlessly) received: try again at `at` with a new version.
    Retry {
        at: i64,
        code: &'static str,
        message: String,
        /// Set when the network rate-limited the channel: no call before this instant.
        channel_until: Option<i64>,
        /// The cached session or token should be rebuilt before the retry.
        refresh: bool,
    },
    /// The request may have been received: read the channel back before doing anything else.
    Unconfirmed {
        code: &'static str,
        message: String,
    },
    Failed {
        code: &'static str,
        message: String,
        /// The channel must be reconnected by a human.
        disconnect: bool,
    },
}

/// `attempts`: attempts so far including this one; `last_code`: the previous attempt's error.
pub(crate) fn decide(
    res: Result<Published, PublishError>,
    attempts: i64,
    last_code: Option<&str>,
    now: i64,
    cfg: &PublisherConfig,
) -> Next {
    let err = match res {
        Ok(p) => return Next::Published(p),
        Err(e) => e,
    };
    let code = err.code();
    let message = err.to_string();
    let out_of_attempts = attempts >= cfg.max_attempts;
    let give_up = |message: String| Next::Failed {
        code,
        message: format!("gave up after {attempts} attempts: {message}"),
        disconnect: false,
    };
    match err {
        PublishError::BadRequest(_) => Next::Failed {
            code,
            message,
            disconnect: false,
        },
        PublishError::Disconnect(_) => Next::Failed {
            code,
            message,
            disconnect: true,
        },
        PublishError::UnknownOutcome(_) => Next::Unconfirmed { code, message },
        // A token refresh is retried once; refused twice in a row means reconnecting.
        PublishError::RefreshToken(_) if last_code == Some("refresh_token") => Next::Failed {
            code: "disconnect",
            message,
            disconnect: true,
        },
        _ if out_of_attempts => give_up(message),
        PublishError::RefreshToken(_) => Next::Retry {
            at: now,
            code,
            message,
            channel_until: None,
            refresh: true,
        },
        PublishError::RateLimited { retry_after, .. } => {
            let wait = retry_after.map_or(cfg.default_rate_limit_ms, |d| d.as_millis() as i64);
            let until = now + wait.max(1_000);
            Next::Retry {
                at: until,
                code,
                message,
                channel_until: Some(until),
                refresh: false,
            }
        }
        PublishError::Transient(_) => Next::Retry {
            at: now + cfg.backoff_ms(attempts),
            code,
            message,
            channel_until: None,
            refresh: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use relais_publish::RateScope;

    use super::*;

    fn d(e: PublishError, attempts: i64, last: Option<&str>) -> Next {
        decide(
            Err(e),
            attempts,
            last,
            1_000_000,
            &PublisherConfig::default(),
        )
    }

    #[test]
    fn classes_map_to_actions() {
        let t = |m: &str| PublishError::Transient(m.into());
        assert!(matches!(
            d(t("x"), 1, None),
            Next::Retry { at: 1_030_000, .. }
        ));
        assert!(matches!(
            d(t("x"), 2, None),
            Next::Retry { at: 1_060_000, .. }
        ));
        assert!(matches!(
            d(t("x"), 5, None),
            Next::Failed {
                code: "transient",
                disconnect: false,
                ..
            }
        ));
        let rl = PublishError::RateLimited {
            retry_after: Some(Duration::from_secs(7)),
            scope: RateScope::Channel,
            message: "slow down".into(),
        };
        assert!(matches!(
            d(rl, 1, None),
            Next::Retry {
                at: 1_007_000,
                channel_until: Some(1_007_000),
                ..
            }
        ));
        assert!(matches!(
            d(PublishError::UnknownOutcome("t".into()), 5, None),
            Next::Unconfirmed { .. }
        ));
        assert!(matches!(
            d(PublishError::BadRequest("422: too long".into()), 1, None),
            Next::Failed { code: "bad_request", disconnect: false, ref message } if message.contains("too long")
        ));
        assert!(matches!(
            d(PublishError::Disconnect("401".into()), 1, None),
            Next::Failed {
                disconnect: true,
                ..
            }
        ));
        let rt = || PublishError::RefreshToken("expired".into());
        assert!(matches!(
            d(rt(), 1, None),
            Next::Retry { refresh: true, .. }
        ));
        assert!(matches!(
            d(rt(), 2, Some("refresh_token")),
            Next::Failed {
                disconnect: true,
                ..
            }
        ));
    }
}
