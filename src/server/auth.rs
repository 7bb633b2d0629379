//! Staff and agent login: the login form, sessions in HttpOnly
//! SameSite=Strict cookies, and CSRF tokens on every form (the session's
//! token once logged in; a double-submit cookie on the login form itself).
//! Citizens stay anonymous.
//!
//! Failed logins are throttled per account name ([`LoginThrottle`]): after a
//! few failures each further try must wait twice as long as the one before.
//! An unknown name costs the same password hashing as a wrong password, so
//! timing does not tell which names exist.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

fn set_cookie(name: &str, value: &str, path: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}")
}

/// Failures allowed on one account name before tries are spaced out.
pub const FREE_FAILURES: u32 = 3;
/// The longest wait between tries.
pub const MAX_LOGIN_WAIT: Duration = Duration::from_secs(15 * 60);

/// Failed logins per account name: after [`FREE_FAILURES`] failures the next
/// try must wait 1 s, then 2 s, 4 s, ... up to [`MAX_LOGIN_WAIT`] after the
/// last failure (a try sooner is refused without checking the password). A
/// successful login clears the count.
#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginThrottle {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u32, Instant)>> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn key(name: &str) -> String {
        name.trim().to_lowercase()
    }

    /// The wait after `n` failures.
    pub fn wait_after(n: u32) -> Duration {
        if n < FREE_FAILURES {
            return Duration::ZERO;
        }
        let exp = (n - FREE_FAILURES).min(20);
        Duration::from_secs(1u64 << exp).min(MAX_LOGIN_WAIT)
    }

    /// `Err(seconds left)` when `name` must wait before trying again.
    pub fn check(&self, name: &str) -> Result<(), u64> {
        let m = self.lock();
        let Some((n, last)) = m.get(&Self::key(name)) else {
            return Ok(());
        };
        let wait = Self::wait_after(*n);
        let waited = last.elapsed();
        if waited >= wait {
            Ok(())
        } else {
            Err((wait - waited).as_secs_f64().ceil().max(1.0) as u64)
        }
    }

    pub fn failed(&self, name: &str) {
        let mut m = self.lock();
        if m.len() > 10_000 {
            // Forget names whose wait is long over.
            m.retain(|_, (n, last)| last.elapsed() < Self::wait_after(*n) + MAX_LOGIN_WAIT);
        }
        let e = m.entry(Self::key(name)).or_insert((0, Instant::now()));
        e.0 = e.0.saturating_add(1);
        e.1 = Instant::now();
    }

    pub fn succeeded(&self, name: &str) {
        self.lock().remove(&Self::key(name));
    }
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
                let next = if safe_next(Some(next)).is_some() {
                    next
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

/// `next=` is followed only when it is a plain path on this site: it starts
/// with one `/`, and holds only visible ASCII (no tab, line break, space or
/// backslash, which browsers drop or read as `/` and so could make
/// `/\t/evil.example` go off-site; nor anything a `Location` header cannot
/// carry).
pub fn safe_next(next: Option<&str>) -> Option<String> {
    next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && n.len() <= 512
            && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
    })
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
pub async fn login_page(
    State(state): State<Arc<AppState>>,
    Query(q): Query<LoginQuery>,
) -> Response {
    let csrf = random_token();
    let next = safe_next(q.next.as_deref());
    (
        [(
            header::SET_COOKIE,
            set_cookie(
                LOGIN_CSRF_COOKIE,
                &csrf,
                "/login",
                3600,
                state.config.secure_cookies,
            ),
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
    let secure = state.config.secure_cookies;
    let retry = |status: StatusCode, msg: &str| {
        (
            status,
            [(
                header::SET_COOKIE,
                set_cookie(LOGIN_CSRF_COOKIE, &fresh, "/login", 3600, secure),
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
    if let Err(wait) = state.logins.check(&f.name) {
        let mut resp = retry(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("登录失败次数过多，请 {wait} 秒后再试"),
        );
        if let Ok(v) = wait.to_string().parse() {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return resp;
    }
    let st = state.clone();
    let (name, password) = (f.name.clone(), f.password.clone());
    let verified =
        tokio::task::spawn_blocking(move || st.store.verify_login(&name, &password)).await;
    let user = match verified {
        Ok(Ok(Some(u))) => {
            state.logins.succeeded(&f.name);
            u
        }
        Ok(Ok(None)) => {
            state.logins.failed(&f.name);
            let _ = state.store.audit(
                "anonymous",
                "login.failed",
                &format!("user:{}", f.name.chars().take(64).collect::<String>()),
                "",
            );
            return retry(StatusCode::UNAUTHORIZED, "用户名或密码不正确");
        }
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
        set_cookie(
            SESSION_COOKIE,
            &token,
            "/",
            state.config.session_ttl_secs,
            secure,
        ),
        set_cookie(LOGIN_CSRF_COOKIE, "", "/login", 0, secure),
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
        [(
            header::SET_COOKIE,
            set_cookie(SESSION_COOKIE, "", "/", 0, state.config.secure_cookies),
        )],
        Redirect::to("/login"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_be_a_plain_path() {
        for ok in [
            "/review",
            "/agent/calls/3",
            "/review?status=all&reason=criminal",
            "/eval/reports/run-1",
        ] {
            assert_eq!(safe_next(Some(ok)).as_deref(), Some(ok), "{ok}");
        }
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\nSet-Cookie: x=1",
            "/ /evil.example",
            "https://evil.example/",
            "review",
            "/审核",
            "/\u{0}",
        ] {
            assert_eq!(safe_next(Some(bad)), None, "{bad:?}");
        }
    }

    #[test]
    fn waits_grow_after_the_free_failures() {
        let t = LoginThrottle::default();
        for _ in 0..FREE_FAILURES {
            assert_eq!(t.check("Li"), Ok(()));
            t.failed("li");
        }
        let w1 = t.check("li").expect_err("must wait now");
        assert_eq!(w1, 1);
        t.failed("LI ");
        let w2 = t.check("li").expect_err("must wait longer");
        assert_eq!(w2, 2);
        assert_eq!(t.check("zhang"), Ok(()), "other accounts are not affected");
        t.succeeded("li");
        assert_eq!(t.check("li"), Ok(()));
        assert_eq!(LoginThrottle::wait_after(40), MAX_LOGIN_WAIT);
    }
}
