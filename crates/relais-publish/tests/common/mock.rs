//! A local HTTP server for contract tests: records every request (method, path, query, headers,
//! body parsed as JSON, form or multipart) and answers with what the test's handler returns.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Part {
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: Bytes,
}

#[derive(Debug, Clone)]
pub enum Body {
    Empty,
    Json(Value),
    Form(BTreeMap<String, String>),
    Multipart(BTreeMap<String, Part>),
    Raw(Bytes),
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: BTreeMap<String, String>,
    pub headers: HeaderMap,
    pub body: Body,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A parameter from the form, a multipart text part, or the query string.
    pub fn param(&self, name: &str) -> Option<String> {
        let body = match &self.body {
            Body::Form(f) => f.get(name).cloned(),
            Body::Multipart(m) => m
                .get(name)
                .filter(|p| p.filename.is_none())
                .map(|p| String::from_utf8_lossy(&p.data).into_owned()),
            _ => None,
        };
        body.or_else(|| self.query.get(name).cloned())
    }

    pub fn json(&self) -> &Value {
        match &self.body {
            Body::Json(v) => v,
            b => panic!("not a JSON body: {b:?}"),
        }
    }

    pub fn form(&self) -> &BTreeMap<String, String> {
        match &self.body {
            Body::Form(f) => f,
            b => panic!("not a form body: {b:?}"),
        }
    }

    pub fn file(&self, name: &str) -> &Part {
        match &self.body {
            Body::Multipart(m) => m.get(name).expect("file part"),
            b => panic!("not multipart: {b:?}"),
        }
    }

    pub fn raw(&self) -> &Bytes {
        match &self.body {
            Body::Raw(b) => b,
            b => panic!("not a raw body: {b:?}"),
        }
    }

    /// `METHOD /path` for readable assertions.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// What the mock answers.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }
    pub fn ok(body: Value) -> Reply {
        Self::json(200, body)
    }
    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: None,
        }
    }
    pub fn header(mut self, k: &str, v: impl Into<String>) -> Reply {
        self.headers.push((k.to_owned(), v.into()));
        self
    }
}

type Handler = Arc<dyn Fn(&Recorded) -> Reply + Send + Sync>;

#[derive(Clone)]
struct St {
    log: Arc<Mutex<Vec<Recorded>>>,
    handler: Handler,
}

pub struct Mock {
    pub base: String,
    log: Arc<Mutex<Vec<Recorded>>>,
}

impl Mock {
    pub async fn start(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Mock {
        let log: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let st = St {
            log: log.clone(),
            handler: Arc::new(handler),
        };
        let app = Router::new().fallback(serve).with_state(st);
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        Mock {
            base: format!("http://{addr}"),
            log,
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }

    pub fn lines(&self) -> Vec<String> {
        self.requests().iter().map(Recorded::line).collect()
    }

    pub fn clear(&self) {
        self.log.lock().unwrap().clear();
    }
}

fn parse_query(q: Option<&str>) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(q.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

async fn serve(
    State(st): State<St>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let parsed = if body.is_empty() {
        Body::Empty
    } else if ct.starts_with("application/json") {
        Body::Json(serde_json::from_slice(&body).expect("JSON body"))
    } else if ct.starts_with("application/x-www-form-urlencoded") {
        Body::Form(parse_query(Some(std::str::from_utf8(&body).unwrap())))
    } else if ct.starts_with("multipart/") {
        let req = axum::http::Request::builder()
            .header("content-type", ct)
            .body(axum::body::Body::from(body))
            .unwrap();
        let mut mp = <Multipart as axum::extract::FromRequest<()>>::from_request(req, &())
            .await
            .unwrap();
        let mut parts = BTreeMap::new();
        while let Some(f) = mp.next_field().await.unwrap() {
            let name = f.name().unwrap().to_owned();
            let filename = f.file_name().map(str::to_owned);
            let content_type = f.content_type().map(str::to_owned);
            let data = f.bytes().await.unwrap();
            parts.insert(
                name,
                Part {
                    filename,
                    content_type,
                    data,
                },
            );
        }
        Body::Multipart(parts)
    } else {
        Body::Raw(body)
    };
    let rec = Recorded {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: parse_query(uri.query()),
        headers,
        body: parsed,
    };
    let reply = (st.handler)(&rec);
    st.log.lock().unwrap().push(rec);
    let mut resp = match reply.body {
        Some(v) => axum::Json(v).into_response(),
        None => ().into_response(),
    };
    *resp.status_mut() = StatusCode::from_u16(reply.status).unwrap();
    for (k, v) in reply.headers {
        resp.headers_mut().insert(
            axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    resp
}

/// A token sink that records what it is given (and can be told to fail).
#[derive(Default)]
pub struct MemorySink {
    pub saved: Mutex<Vec<relais_publish::oauth::OAuthTokens>>,
    pub fail: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl relais_publish::oauth::TokenSink for MemorySink {
    async fn save(&self, t: &relais_publish::oauth::OAuthTokens) -> Result<(), String> {
        if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
            return Err("database unavailable".into());
        }
        self.saved.lock().unwrap().push(t.clone());
        Ok(())
    }
}
