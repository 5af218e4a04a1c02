//! The read loop shared by websocket sources: pings, a silence deadline, batch flushing, and
//! reconnecting with backoff from the cursor of the last event received.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use relais_net::SsrfPolicy;
use tokio::time::{sleep_until, Instant};
use tokio_tungstenite::tungstenite::Message;
use url::Url;

use crate::backoff::Backoff;
use crate::error::{ErrorCode, SourceError};
use crate::output::Output;
use crate::status::SourceState;
use crate::ws::{connect, ws_error, Ws, WsOptions};

/// A ping goes out at this pace; servers (and proxies) that drop silent connections keep ours.
const PING_EVERY: Duration = Duration::from_secs(20);

/// A websocket source: how to build the URL from the cursor and what a message means.
pub(crate) trait WsSource: Send {
    fn url(&self, cursor: Option<&str>) -> Url;
    fn options(&self) -> &WsOptions;
    /// Nothing received for this long (pings included) = a dead connection.
    fn idle_timeout(&self) -> Duration;
    /// Handle one message: push events, move the cursor. An error ends the connection.
    fn on_message(&mut self, msg: Message, out: &mut Output) -> Result<(), SourceError>;
}

/// Read `ws` until it fails; returns why (after flushing what was received).
pub(crate) async fn pump(
    ws: &mut Ws,
    out: &mut Output,
    idle: Duration,
    backoff: &mut Backoff,
    on_msg: &mut (dyn FnMut(Message, &mut Output) -> Result<(), SourceError> + Send),
) -> SourceError {
    let mut last_rx = Instant::now();
    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    let mut check = tokio::time::interval(idle / 4);
    let why = loop {
        let deadline = out.deadline();
        tokio::select! {
            _ = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                if let Err(e) = out.flush().await {
                    return e;
                }
            }
            _ = ping.tick() => {
                if let Err(e) = ws.send(Message::Ping(Default::default())).await {
                    break ws_error(e);
                }
            }
            _ = check.tick() => {
                if last_rx.elapsed() > idle {
                    break SourceError::new(
                        ErrorCode::Timeout,
                        format!("nothing received for {idle:?}"),
                    );
                }
            }
            msg = ws.next() => {
                last_rx = Instant::now();
                let msg = match msg {
                    None => break SourceError::new(ErrorCode::Closed, "the server closed the connection"),
                    Some(Err(e)) => break ws_error(e),
                    Some(Ok(Message::Close(frame))) => {
                        let why = frame
                            .map(|f| format!(" ({} {})", u16::from(f.code), f.reason))
                            .unwrap_or_default();
                        break SourceError::new(ErrorCode::Closed, format!("the server closed the connection{why}"));
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                    Some(Ok(m)) => m,
                };
                match on_msg(msg, out) {
                    Ok(()) => {
                        backoff.reset();
                        out.healthy();
                    }
                    Err(e) => break e,
                }
                if let Err(e) = out.flush_if_full().await {
                    return e;
                }
            }
        }
    };
    // Events decoded before the break are handed over: the cursor then covers them.
    if let Err(e) = out.flush().await {
        return e;
    }
    let _ = ws.close(None).await;
    why
}

/// Connect, read, reconnect with backoff — until a fatal error (returned).
pub(crate) async fn run_ws<S: WsSource>(
    src: &mut S,
    out: &mut Output,
    policy: &SsrfPolicy,
) -> SourceError {
    let mut backoff = Backoff::default();
    loop {
        out.state(SourceState::Connecting);
        let url = src.url(out.cursor());
        let e = match connect(policy, &url, src.options()).await {
            Ok(mut ws) => {
                out.state(SourceState::Connected);
                let idle = src.idle_timeout();
                let mut handler = |m: Message, o: &mut Output| src.on_message(m, o);
                pump(&mut ws, out, idle, &mut backoff, &mut handler).await
            }
            Err(e) => e,
        };
        if e.is_fatal() {
            return e;
        }
        if e.code == ErrorCode::CursorReset {
            // The server does not know our cursor (a reset relay): resume from its live head.
            out.notice(&e);
            out.set_cursor(None);
        }
        if let Err(stop) = out.backoff(&e, &mut backoff).await {
            return stop;
        }
    }
}
