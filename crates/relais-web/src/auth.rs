//! Who is asking: the session cookie (pages) or a bearer token (API), and the member's role in
//! the workspace named by the path. A non-member gets 404, exactly like a missing workspace.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use relais_domain::{Code, Lang, Permission};
use relais_store::sessions::Session;
use relais_store::users::User;
use relais_store::workspaces::Membership;

use crate::i18n::{lang_of_request, Tr};
use crate::{AppError, AppState};

pub const SESSION_COOKIE: &str = "relais_session";

/// Reads one cookie from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value with the attributes every relais cookie carries.
pub fn set_cookie(name: &str, value: &str, max_age_secs: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"
    ))
    .expect("cookie values are URL-safe")
}

/// A signed-in user on a page (second factor done). Pages without one redirect to /login.
pub struct Viewer {
    pub user: User,
    pub session: Session,
    pub t: Tr,
}

impl Viewer {
    pub fn lang(&self) -> Lang {
        self.t.0
    }
}

/// The session of the request, even one that still awaits its second factor.
pub struct AnySession(pub Option<(Session, User)>);

impl FromRequestParts<AppState> for AnySession {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Ok(AnySession(None));
        };
        let Some(session) = state.store.session_by_token(&token).await? else {
            return Ok(AnySession(None));
        };
        let user = state.store.user_by_id(session.user_id).await?;
        Ok(AnySession(Some((session, user))))
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let AnySession(s) = AnySession::from_request_parts(parts, state).await?;
        match s {
            Some((session, user)) if !session.second_factor_pending => {
                let t = Tr(user.lang.unwrap_or_else(|| lang_of_request(&parts.headers)));
                Ok(Viewer { user, session, t })
            }
            _ => Err(AppError::unauthenticated()),
        }
    }
}

/// The language of an anonymous visitor.
pub struct VisitorLang(pub Tr);

impl<S: Send + Sync> FromRequestParts<S> for VisitorLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(VisitorLang(Tr(lang_of_request(&parts.headers))))
    }
}

/// A signed-in viewer inside the workspace named `{ws}` in the path, with their role.
pub struct Member {
    pub viewer: Viewer,
    pub m: Membership,
}

impl Member {
    pub fn require(&self, p: Permission) -> Result<(), AppError> {
        require(&self.m, p)
    }
    pub fn id(&self) -> i64 {
        self.m.workspace.id
    }
}

/// Checks a permission, and that an archived workspace is only read.
pub fn require(m: &Membership, p: Permission) -> Result<(), AppError> {
    if !m.role.allows(p) {
        return Err(AppError::forbidden());
    }
    if m.workspace.archived_at.is_some()
        && p != Permission::ViewWorkspace
        && p != Permission::ViewAudit
        && p != Permission::ManageWorkspace
    {
        return Err(AppError::new(
            axum::http::StatusCode::CONFLICT,
            Code::Archived,
        ));
    }
    Ok(())
}

async fn membership_from_path(
    parts: &mut Parts,
    state: &AppState,
    user_id: i64,
) -> Result<Membership, AppError> {
    let Path(params): Path<std::collections::HashMap<String, String>> =
        Path::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::not_found())?;
    let ws: i64 = params
        .get("ws")
        .and_then(|v| v.parse().ok())
        .ok_or_else(AppError::not_found)?;
    Ok(state.store.membership(user_id, ws).await?)
}

impl FromRequestParts<AppState> for Member {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let viewer = Viewer::from_request_parts(parts, state).await?;
        let m = membership_from_path(parts, state, viewer.user.id).await?;
        Ok(Member { viewer, m })
    }
}

/// An API caller authenticated by `Authorization: Bearer <token>`.
pub struct ApiUser {
    pub user: User,
    pub t: Tr,
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(AppError::unauthenticated)?;
        let user_id = state
            .store
            .user_for_api_token(token)
            .await?
            .ok_or_else(AppError::unauthenticated)?;
        let user = state.store.user_by_id(user_id).await?;
        let t = Tr(user.lang.unwrap_or_else(|| lang_of_request(&parts.headers)));
        Ok(ApiUser { user, t })
    }
}

/// An API caller inside the workspace `{ws}` of the path.
pub struct ApiMember {
    pub user: User,
    pub m: Membership,
}

impl ApiMember {
    pub fn require(&self, p: Permission) -> Result<(), AppError> {
        require(&self.m, p)
    }
}

impl FromRequestParts<AppState> for ApiMember {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ApiUser { user, .. } = ApiUser::from_request_parts(parts, state).await?;
        let m = membership_from_path(parts, state, user.id).await?;
        Ok(ApiMember { user, m })
    }
}

impl axum::extract::OptionalFromRequestParts<AppState> for Viewer {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        match <Viewer as FromRequestParts<AppState>>::from_request_parts(parts, state).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.code == Code::Unauthenticated => Ok(None),
            Err(e) => Err(e),
        }
    }
}
