//! Staff and agent login: the login form, sessions in HttpOnly
//! SameSite=Strict cookies, and CSRF tokens on every form (the session's
//! token once logged in; a double-submit cookie on the login form itself).
//! Citizens stay anonymous.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::pages::{esc, layout};
use super::AppState;
use crate::store::{Role, User};

pub const SESSION_COOKIE: &str = "lb_session";
pub const LOGIN_CSRF_COOKIE: &str = "lb_login_csrf";

/// The value of cookie `name`.
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

/// Compare secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn set_cookie(name: &str, value: &str, path: &str, max_age: i64) -> String {
    format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict")
}

/// A logged-in staff member or agent. Pages that take it redirect to the
/// login form when there is no live session.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    pub csrf: String,
}

impl FromRequestParts<Arc<AppState>> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let session = match cookie(&parts.headers, SESSION_COOKIE) {
            Some(t) => state.store.session(&t).unwrap_or_else(|e| {
                tracing::error!(error = %e, "reading session");
                None
            }),
            None => None,
        };
        match session {
            Some((user, csrf)) => Ok(CurrentUser { user, csrf }),
            None => {
                let path = parts.uri.path();
                let next = if path.starts_with('/') && !path.starts_with("//") {
                    path
                } else {
                    "/"
                };
                Err(Redirect::to(&format!("/login?next={next}")).into_response())
            }
        }
    }
}

/// A refusal page.
pub fn denied(status: StatusCode, msg: &str, user: Option<&User>) -> Response {
    (
        status,
        layout(
            "无法访问",
            user,
            None,
            &format!("<p class=\"error\">{}</p>", esc(msg)),
        ),
    )
        .into_response()
}

impl CurrentUser {
    /// Staff only (review queue, eval reports).
    #[allow(clippy::result_large_err)] // the refusal page, returned at once
    pub fn require_staff(&self) -> Result<(), Response> {
        if self.user.role == Role::Staff {
            Ok(())
        } else {
            Err(denied(
                StatusCode::FORBIDDEN,
                "此页面仅限审核员访问",
                Some(&self.user),
            ))
        }
    }

    /// Check a form's CSRF token.
    #[allow(clippy::result_large_err)] // the refusal page, returned at once
    pub fn check_csrf(&self, token: &str) -> Result<(), Response> {
        if same_secret(&self.csrf, token) {
            Ok(())
        } else {
            Err(denied(
                StatusCode::FORBIDDEN,
                "表单已失效（CSRF 校验失败），请刷新页面后重试",
                Some(&self.user),
            ))
        }
    }

    /// The hidden CSRF field for forms.
    pub fn csrf_field(&self) -> String {
        format!(
            "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
            esc(&self.csrf)
        )
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct LoginQuery {
    #[serde(default)]
    pub next: Option<String>,
}

fn safe_next(next: Option<&str>) -> Option<String> {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .map(str::to_string)
}

fn login_form(csrf: &str, next: Option<&str>, error: Option<&str>) -> Html<String> {
    let err = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e)))
        .unwrap_or_default();
    let next = next.map(esc).unwrap_or_default();
    layout(
        "工作人员登录",
        None,
        None,
        &format!(
            r#"<section class="card narrow"><h1>工作人员登录</h1>{err}
<form method="post" action="/login" class="stack">
<input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="next" value="{next}">
<label>用户名 <input name="name" autocomplete="username" required maxlength="64"></label>
<label>密码 <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit" id="login-btn">登录</button></form>
<p class="muted">坐席与审核员账号由管理员用 <code>lawbrain user add</code> 创建。群众咨询无需登录，请前往<a href="/">网上法律服务大厅</a>。</p></section>"#,
            csrf = esc(csrf)
        ),
    )
}

fn random_token() -> String {
    let mut b = [0u8; 16];
    rand::fill(&mut b[..]);
    hex::encode(b)
}

/// `GET /login`.
pub async fn login_page(Query(q): Query<LoginQuery>) -> Response {
    let csrf = random_token();
    let next = safe_next(q.next.as_deref());
    (
        [(
            header::SET_COOKIE,
            set_cookie(LOGIN_CSRF_COOKIE, &csrf, "/login", 3600),
        )],
        login_form(&csrf, next.as_deref(), None),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    pub name: String,
    pub password: String,
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub next: Option<String>,
}

/// `POST /login`.
pub async fn login(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let next = safe_next(f.next.as_deref());
    let fresh = random_token();
    let retry = |status: StatusCode, msg: &str| {
        (
            status,
            [(
                header::SET_COOKIE,
                set_cookie(LOGIN_CSRF_COOKIE, &fresh, "/login", 3600),
            )],
            login_form(&fresh, next.as_deref(), Some(msg)),
        )
            .into_response()
    };
    let cookie_token = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if cookie_token.is_empty() || !same_secret(&cookie_token, &f.csrf) {
        return retry(
            StatusCode::FORBIDDEN,
            "表单已失效（CSRF 校验失败），请重新登录",
        );
    }
    let st = state.clone();
    let (name, password) = (f.name.clone(), f.password.clone());
    let verified =
        tokio::task::spawn_blocking(move || st.store.verify_login(&name, &password)).await;
    let user = match verified {
        Ok(Ok(Some(u))) => u,
        Ok(Ok(None)) => return retry(StatusCode::UNAUTHORIZED, "用户名或密码不正确"),
        _ => {
            return retry(
                StatusCode::INTERNAL_SERVER_ERROR,
                "登录服务出错，请稍后再试",
            )
        }
    };
    let (token, _csrf) = match state
        .store
        .create_session(&user, state.config.session_ttl_secs)
    {
        Ok(x) => x,
        Err(e) => {
            tracing::error!(error = %e, "creating session");
            return retry(
                StatusCode::INTERNAL_SERVER_ERROR,
                "登录服务出错，请稍后再试",
            );
        }
    };
    let _ = state.store.audit(&user.name, "login", "session", "");
    let target = next.unwrap_or_else(|| match user.role {
        Role::Agent => "/agent".to_string(),
        Role::Staff => "/review".to_string(),
    });
    let mut resp = Redirect::to(&target).into_response();
    let h = resp.headers_mut();
    for c in [
        set_cookie(SESSION_COOKIE, &token, "/", state.config.session_ttl_secs),
        set_cookie(LOGIN_CSRF_COOKIE, "", "/login", 0),
    ] {
        if let Ok(v) = c.parse() {
            h.append(header::SET_COOKIE, v);
        }
    }
    resp
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// `POST /logout`.
pub async fn logout(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    user: CurrentUser,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Err(r) = user.check_csrf(&f.csrf) {
        return r;
    }
    if let Some(t) = cookie(&headers, SESSION_COOKIE) {
        let _ = state.store.delete_session(&t);
    }
    let _ = state.store.audit(&user.user.name, "logout", "session", "");
    (
        [(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", "/", 0))],
        Redirect::to("/login"),
    )
        .into_response()
}
