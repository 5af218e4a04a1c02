//! relais-net: the HTTP client every server-side fetch of relais goes through.
//!
//! - reqwest with rustls (ring provider only), timeouts, `User-Agent: relais/<version>`;
//! - an SSRF guard ([`SsrfPolicy`]) enforced on DNS answers, IP-literal hosts and redirect hops;
//! - bounded body reads ([`read_limited`]);
//! - one error type, [`NetError`], with stable codes.

mod client;
mod error;
mod guard;

pub use client::{read_limited, snippet, Net, NetConfig, USER_AGENT};
pub use error::NetError;
pub use guard::{is_forbidden, SsrfPolicy};
pub use reqwest::{header, Method, RequestBuilder, Response, StatusCode};
