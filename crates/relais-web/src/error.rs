//! One error type for every HTTP surface. Handlers return `AppError` (status + stable code +
//! optional field); the `render_errors` middleware turns it into a JSON body
//! `{code, message, field}` under `/api/` or a page in the visitor's language elsewhere.

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use relais_domain::{Code, FieldError};
use relais_store::StoreError;

use crate::i18n::{lang_of_request, Tr};

#[derive(Debug, Clone)]
pub struct AppError {
    pub status: StatusCode,
    pub code: Code,
    pub field: Option<&'static str>,
    /// A precise reason appended to the message (e.g. which charter rule is invalid).
    pub detail: Option<String>,
}

impl AppError {
    pub fn new(status: StatusCode, code: Code) -> Self {
        AppError {
            status,
            code,
            field: None,
            detail: None,
        }
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, Code::NotFound)
    }
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, Code::Forbidden)
    }
    pub fn unauthenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, Code::Unauthenticated)
    }
    pub fn bad_request(field: &'static str, code: Code) -> Self {
        AppError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code,
            field: Some(field),
            detail: None,
        }
    }
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, Code::Internal)
    }
}

impl AppError {
    /// The message in the user's language, with the detail when there is one.
    pub fn message(&self, t: Tr) -> String {
        let m = t.code(self.code, self.field);
        match &self.detail {
            Some(d) => format!("{m} ({d})"),
            None => m,
        }
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        let status = match e.code {
            Code::DuplicateEmail
            | Code::AlreadyMember
            | Code::LastOwner
            | Code::Conflict
            | Code::EditedElsewhere
            | Code::MediaInUse
            | Code::Frozen => StatusCode::CONFLICT,
            Code::InvitationExpired
            | Code::InvitationUsed
            | Code::TokenExpired
            | Code::LinkUsed => StatusCode::GONE,
            Code::WrongPassword | Code::TotpInvalid => StatusCode::UNAUTHORIZED,
            Code::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Code::Forbidden => StatusCode::FORBIDDEN,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        AppError {
            status,
            code: e.code,
            field: Some(e.field),
            detail: None,
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e.code() {
            Code::NotFound => AppError::not_found(),
            Code::Conflict => AppError::new(StatusCode::CONFLICT, Code::Conflict),
            Code::Unavailable => {
                tracing::error!(error = %e, "database unavailable");
                AppError::new(StatusCode::SERVICE_UNAVAILABLE, Code::Unavailable)
            }
            _ => {
                tracing::error!(error = %e, "internal error");
                AppError::internal()
            }
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        tracing::error!(error = %e, "template error");
        AppError::internal()
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut res = self.status.into_response();
        res.extensions_mut().insert(self);
        res
    }
}

#[derive(serde::Serialize)]
pub struct ErrorBody<'a> {
    pub code: &'a str,
    pub message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'a str>,
}

pub async fn render_errors(req: Request, next: Next) -> Response {
    let lang = lang_of_request(req.headers());
    let path = req.uri().path().to_string();
    let query = req
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let is_htmx = req.headers().contains_key("hx-request");
    let mut res = next.run(req).await;
    let Some(err) = res.extensions_mut().remove::<AppError>() else {
        return res;
    };
    let t = Tr(lang);
    let message = err.message(t);
    let message = message.as_str();
    if path.starts_with("/api/") {
        let body = ErrorBody {
            code: err.code.as_str(),
            message,
            field: err.field,
        };
        return (err.status, axum::Json(body)).into_response();
    }
    if err.code == Code::Unauthenticated {
        let next = url::form_urlencoded::byte_serialize(format!("{path}{query}").as_bytes())
            .collect::<String>();
        let to = format!("/login?next={next}");
        if is_htmx {
            return ([("hx-redirect", to)], StatusCode::OK).into_response();
        }
        return Redirect::to(&to).into_response();
    }
    let page = crate::view::ErrorPage {
        t,
        status: err.status.as_u16(),
        message,
    };
    let html = askama::Template::render(&page).unwrap_or_else(|_| message.to_string());
    let mut res = (err.status, Html(html)).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    res
}
