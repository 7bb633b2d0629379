//! Server-rendered pages for citizens (the 网上法律服务大厅 and article
//! pages), the shared layout, and the small hand-written JS/CSS served from
//! the binary. Every piece of user text and model output goes through
//! [`esc`]; the hall's script builds the DOM with `textContent` only.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use super::AppState;
use crate::store::{Role, User};

/// The files under `/static/`, built into the binary: name, type, content.
const STATIC: &[(&str, &str, &str)] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("static/app.js"),
    ),
    (
        "sse.js",
        "text/javascript; charset=utf-8",
        include_str!("static/sse.js"),
    ),
    (
        "agent.js",
        "text/javascript; charset=utf-8",
        include_str!("static/agent.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("static/app.css"),
    ),
];

/// Escape text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    html_escape::encode_quoted_attribute(s).into_owned()
}

/// URL path segment encoding (for links to articles).
pub fn url_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The page frame: header with navigation, the body, the footer notice.
pub fn layout(title: &str, user: Option<&User>, csrf: Option<&str>, body: &str) -> Html<String> {
    let nav = match user {
        Some(u) => {
            let mut links = vec![r#"<a href="/agent">热线坐席台</a>"#.to_string()];
            if u.role == Role::Staff {
                links.push(r#"<a href="/review">审核队列</a>"#.into());
                links.push(r#"<a href="/eval">质量评估</a>"#.into());
            }
            let logout = csrf
                .map(|c| {
                    format!(
                        r#"<form method="post" action="/logout" class="inline"><input type="hidden" name="csrf" value="{}"><button type="submit" class="link">退出</button></form>"#,
                        esc(c)
                    )
                })
                .unwrap_or_default();
            format!(
                r#"<nav>{}<span class="who">{}（{}）</span>{logout}</nav>"#,
                links.join(""),
                esc(&u.name),
                u.role.name_zh()
            )
        }
        None => {
            r#"<nav><a href="/">咨询大厅</a><a href="/login">工作人员登录</a></nav>"#.to_string()
        }
    };
    Html(format!(
        r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · 鄂州市公共法律服务</title>
<link rel="stylesheet" href="/static/app.css"></head>
<body><header class="top"><a class="brand" href="/">鄂州市公共法律服务 · 法律数据大脑</a>{nav}</header>
<main>{body}</main>
<footer>答复由系统根据现行法律法规自动生成，仅供参考，不构成法律意见。公共法律服务热线 12348 · 紧急情况请拨打 110</footer>
</body></html>"#,
        title = esc(title),
    ))
}

/// `GET /`: 网上法律服务大厅.
pub async fn hall() -> Html<String> {
    let body = r#"<section class="notice" role="note"><strong>温馨提示：</strong>本大厅的答复由人工智能根据法律法规自动生成，<strong>仅供参考，不构成法律意见</strong>。涉及重大权益请咨询律师、拨打 12348 公共法律服务热线或前往公共法律服务中心；遇到人身危险请立即拨打 110。请勿填写身份证号、银行卡号等个人信息。</section>
<h1>网上法律服务大厅</h1>
<div id="chat" class="chat" aria-live="polite"></div>
<form id="ask-form" class="ask">
<label for="question" class="sr">您的问题</label>
<textarea id="question" name="question" maxlength="2000" rows="3" required placeholder="请用日常语言描述您遇到的问题，例如：公司拖欠工资三个月不发，我该怎么办？"></textarea>
<button type="submit" id="ask-btn">咨询</button>
</form>
<p id="status" class="status" role="status"></p>
<dialog id="article-dialog"><h2 id="article-title"></h2><p id="article-meta" class="muted"></p><div id="article-text" class="article-text"></div><form method="dialog"><button id="article-close">关闭</button></form></dialog>
<script src="/static/sse.js" defer></script>
<script src="/static/app.js" defer></script>"#;
    layout("网上法律服务大厅", None, None, body)
}

/// `GET /article/{law}/{number}`: one article as a page (links from staff pages).
pub async fn article(
    State(state): State<Arc<AppState>>,
    Path((law, number)): Path<(String, String)>,
) -> Response {
    match super::api::lookup_article(&state, &law, &number).await {
        Ok(a) => {
            let status = if a.in_force {
                esc(&a.status)
            } else {
                format!("{}（非现行版本，不能作为现行依据）", esc(&a.status))
            };
            layout(
                &format!("{}{}", a.law, a.article_label),
                None,
                None,
                &format!(
                    r#"<article class="card"><h1>《{}》{}</h1><p class="muted">{} · {}</p><div class="article-text">{}</div></article>"#,
                    esc(&a.law),
                    esc(&a.article_label),
                    esc(&a.level),
                    status,
                    esc(&a.text).replace('\n', "<br>")
                ),
            )
            .into_response()
        }
        Err(e) => (
            e.status,
            layout(
                "未找到",
                None,
                None,
                &format!("<p class=\"error\">{}</p>", esc(&e.message)),
            ),
        )
            .into_response(),
    }
}

/// `GET /static/{name}`.
pub async fn static_file(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    match STATIC.iter().find(|(n, _, _)| *n == name) {
        Some((_, kind, body)) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, *kind),
                (header::CACHE_CONTROL, "public, max-age=300"),
            ],
            *body,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            esc(r#"<script>alert("x")</script>'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#x27;"
        );
        assert_eq!(url_segment("民法典"), "%E6%B0%91%E6%B3%95%E5%85%B8");
        assert_eq!(url_segment("a b/c"), "a%20b%2Fc");
    }
}
