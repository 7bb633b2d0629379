//! Pages behind login: the 热线坐席台 (agents and staff), the 审核队列 with
//! its eval-case export, and the 质量评估 report list (staff only). Plain
//! HTML forms with CSRF tokens; no script needed.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use super::auth::{denied, CurrentUser};
use super::consult;
use super::pages::{esc, layout, url_segment};
use super::AppState;
use crate::store::{
    AnswerRecord, Decision, ReviewItem, REASON_ESCALATED, REASON_HUMAN, REASON_NEGATIVE,
};
use crate::triage::{ReviewReason, Service};

type S = State<Arc<AppState>>;

fn page(user: &CurrentUser, title: &str, body: &str) -> Response {
    layout(title, Some(&user.user), Some(&user.csrf), body).into_response()
}

fn time(ts: i64) -> String {
    let Some(tz) = chrono::FixedOffset::east_opt(8 * 3600) else {
        return String::new();
    };
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// Chinese label of a review reason id.
pub fn reason_label(id: &str) -> String {
    let zh = match id {
        REASON_HUMAN => "群众转人工",
        REASON_NEGATIVE => "群众反馈没帮助",
        REASON_ESCALATED => "坐席升级",
        _ => match ReviewReason::from_id(id) {
            Some(ReviewReason::Criminal) => "刑事",
            Some(ReviewReason::Safety) => "人身安全",
            Some(ReviewReason::Minor) => "未成年人",
            Some(ReviewReason::AidEligibility) => "法律援助资格",
            Some(ReviewReason::Complaint) => "投诉",
            Some(ReviewReason::OutOfScope) => "超出范围",
            Some(ReviewReason::Injection) => "可疑指令",
            Some(ReviewReason::Complex) => "案情复杂",
            Some(ReviewReason::Deadline) => "时效期限",
            Some(ReviewReason::LowConfidence) => "检索置信度低",
            Some(ReviewReason::CitationRemoved) => "引用被删除",
            Some(ReviewReason::FallbackUsed) => "使用了摘录答复",
            Some(ReviewReason::DenialHeld) => "否定性结论待核实",
            None => "其他",
        },
    };
    format!("{zh}（{id}）")
}

/// Citations of a stored answer as links to the article pages.
fn citation_chips(a: &AnswerRecord) -> String {
    let chips: Vec<String> = a
        .citations
        .as_array()
        .map(|cs| {
            cs.iter()
                .filter_map(|c| {
                    let law = c.get("law")?.as_str()?;
                    let n = c.get("article")?.as_u64()?;
                    let suffix = c.get("suffix").and_then(|s| s.as_u64()).unwrap_or(0);
                    let status = c.get("status").and_then(|s| s.as_str()).unwrap_or("");
                    let num = if suffix > 0 {
                        format!("{n}-{suffix}")
                    } else {
                        n.to_string()
                    };
                    let label = if suffix > 0 {
                        format!("第{n}条之{suffix}")
                    } else {
                        format!("第{n}条")
                    };
                    Some(format!(
                        r#"<a class="chip {cls}" href="/article/{}/{}">《{}》{}</a>"#,
                        url_segment(law),
                        url_segment(&num),
                        esc(law),
                        esc(&label),
                        cls = if status == "valid" { "ok" } else { "bad" }
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    if chips.is_empty() {
        "<span class=\"muted\">（无引用）</span>".into()
    } else {
        chips.join(" ")
    }
}

/// Triage card: service, why, legal-aid hints, referral.
fn triage_card(t: &serde_json::Value) -> String {
    let s = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
    let list = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .map(|a| a.iter().filter_map(|x| x.as_str().map(esc)).collect())
            .unwrap_or_default()
    };
    let primary = t
        .get("primary_service")
        .and_then(|p| p.as_str())
        .and_then(Service::from_id)
        .map(|s| s.name_zh())
        .unwrap_or("—");
    let services: Vec<String> = t
        .get("services")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| {
                    x.as_str()
                        .and_then(Service::from_id)
                        .map(|s| s.name_zh().to_string())
                })
                .collect()
        })
        .unwrap_or_default();
    let why = list(&t["why"]);
    let aid = &t["legal_aid"];
    let aid_line = if aid["may_qualify"].as_bool() == Some(true) {
        format!(
            "可能符合法律援助条件{}；需携带：{}",
            if aid["economic_review_exempt"].as_bool() == Some(true) {
                "（免予经济困难审查）"
            } else {
                ""
            },
            list(&aid["what_to_bring"]).join("、")
        )
    } else {
        "未见法律援助提示".into()
    };
    let r = &t["referral"];
    format!(
        r#"<div class="triage"><p><strong>建议服务：</strong>{}（另可：{}）</p><p><strong>理由：</strong>{}</p><p><strong>法律援助：</strong>{}</p><p><strong>去哪里：</strong>{}</p><p><strong>怎么办：</strong>{}</p><p><strong>电话：</strong>{}</p><p class="muted">{}</p></div>"#,
        esc(primary),
        esc(&services.join("、")),
        why.join("；"),
        aid_line,
        list(&r["where_to_go"]).join("；"),
        list(&r["how"]).join("；"),
        list(&r["phones"]).join("、"),
        esc(&s(&r["service_name"])),
    )
}

fn flags_html(flags: &[String]) -> String {
    if flags.is_empty() {
        return "<span class=\"muted\">无</span>".into();
    }
    flags
        .iter()
        .map(|f| format!("<span class=\"flag\">{}</span>", esc(&reason_label(f))))
        .collect::<Vec<_>>()
        .join(" ")
}

fn text_block(s: &str) -> String {
    format!(
        "<div class=\"answer-text\">{}</div>",
        esc(s).replace('\n', "<br>")
    )
}

// ---------------------------------------------------------------- agent

/// `GET /agent`: ask form and call history.
pub async fn agent_page(State(state): S, user: CurrentUser) -> Response {
    agent_render(&state, &user, None, StatusCode::OK)
}

fn agent_render(
    state: &AppState,
    user: &CurrentUser,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let calls = state.store.calls(None, 50).unwrap_or_default();
    let rows: String = calls
        .iter()
        .map(|c| {
            format!(
                r#"<tr><td>{}</td><td>{}</td><td><a href="/agent/calls/{}">{}</a></td><td>{}</td></tr>"#,
                time(c.created_at),
                esc(&c.agent),
                c.id,
                esc(&c.answer.question.chars().take(40).collect::<String>()),
                match c.status.as_str() {
                    "answered" => "已答复",
                    "escalated" => "已升级",
                    _ => "处理中",
                }
            )
        })
        .collect();
    let err = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e)))
        .unwrap_or_default();
    let body = format!(
        r#"<h1>12348 热线坐席台</h1>{err}
<section class="card"><form method="post" action="/agent/ask" class="stack" id="agent-form">{csrf}
<label>来电人的问题（可直接粘贴）<textarea name="question" rows="4" maxlength="{max}" required id="agent-question"></textarea></label>
<button type="submit" id="agent-ask">生成建议答复</button></form>
<p id="agent-status" class="status" role="status"></p>
<div id="agent-draft" class="answer-text draft" aria-live="polite" hidden></div>
<p class="muted">建议答复需坐席核实后再告知来电人；系统会自动隐去身份证号、电话和银行卡号。</p></section>
<section class="card"><h2>通话记录</h2><table><thead><tr><th>时间</th><th>坐席</th><th>问题</th><th>状态</th></tr></thead><tbody>{rows}</tbody></table></section>
<script src="/static/sse.js" defer></script>
<script src="/static/agent.js" defer></script>"#,
        csrf = user.csrf_field(),
        max = state.config.max_question_chars,
    );
    let mut resp = page(user, "热线坐席台", &body);
    *resp.status_mut() = status;
    resp
}

#[derive(Debug, Deserialize)]
pub struct AskForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub question: String,
}

/// `POST /agent/ask`: draft an answer for the caller's question and open a call.
pub async fn agent_ask(State(state): S, user: CurrentUser, Form(f): Form<AskForm>) -> Response {
    if let Err(r) = user.check_csrf(&f.csrf) {
        return r;
    }
    let p = match consult::prepare(&state, &f.question, None, None, "hotline").await {
        Ok(p) => p,
        Err(e) => return agent_render(&state, &user, Some(&e.message), e.status),
    };
    let fin = match consult::run_to_end(state.clone(), p).await {
        Ok(f) => f,
        Err(e) => return agent_render(&state, &user, Some(&e.message), e.status),
    };
    match open_call(&state, &user.user.name, &fin) {
        Ok(id) => Redirect::to(&format!("/agent/calls/{id}")).into_response(),
        Err(msg) => agent_render(&state, &user, Some(msg), StatusCode::INTERNAL_SERVER_ERROR),
    }
}

/// Record a call for the agent's finished consultation; its id.
fn open_call(state: &AppState, agent: &str, fin: &consult::Finished) -> Result<i64, &'static str> {
    state.store.create_call(agent, fin.answer_id).map_err(|e| {
        tracing::error!(error = %e, "creating call");
        "通话记录未能保存，请重试"
    })
}

/// `POST /agent/ask/stream`: as `/agent/ask`, but the suggested answer is
/// streamed as it is drafted (the events of `/api/consult`), then a `call`
/// event gives the new call's page (or an `error` event says why there is none).
pub async fn agent_ask_stream(
    State(state): S,
    user: CurrentUser,
    Form(f): Form<AskForm>,
) -> Response {
    if let Err(r) = user.check_csrf(&f.csrf) {
        return r;
    }
    let p = match consult::prepare(&state, &f.question, None, None, "hotline").await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let store_state = state.clone();
    let agent = user.user.name.clone();
    super::api::sse_then(state, p, move |fin| {
        Some(match open_call(&store_state, &agent, fin) {
            Ok(id) => super::api::event(
                "call",
                &serde_json::json!({ "id": id, "url": format!("/agent/calls/{id}") }),
            ),
            Err(msg) => super::api::event("error", &serde_json::json!({ "error": msg })),
        })
    })
    .into_response()
}

/// `GET /agent/calls/{id}`: the suggested answer, citations, triage, flags; edit and close.
pub async fn call_page(State(state): S, user: CurrentUser, Path(id): Path<i64>) -> Response {
    let call = state
        .store
        .calls(None, 100_000)
        .ok()
        .and_then(|cs| cs.into_iter().find(|c| c.id == id));
    let Some(c) = call else {
        return denied(StatusCode::NOT_FOUND, "没有这个通话", Some(&user.user));
    };
    let a = &c.answer;
    let reply = c.reply.clone().unwrap_or_else(|| a.answer.clone());
    let actions = if c.status == "open" {
        format!(
            r#"<form method="post" action="/agent/calls/{id}" class="stack">{csrf}
<label>答复来电人（可修改）<textarea name="reply" rows="10" id="agent-reply">{reply}</textarea></label>
<div class="row"><button type="submit" name="action" value="answered" id="mark-answered">标记已答复</button>
<button type="submit" name="action" value="escalate" class="warn" id="escalate">升级转审核</button></div></form>"#,
            csrf = user.csrf_field(),
            reply = esc(&reply)
        )
    } else {
        format!(
            "<p><strong>状态：</strong>{}</p><h3>最终答复</h3>{}",
            if c.status == "answered" {
                "已答复"
            } else {
                "已升级"
            },
            text_block(&reply)
        )
    };
    let body = format!(
        r#"<p><a href="/agent">← 返回坐席台</a></p><h1>通话 #{id}</h1>
<section class="card"><h2>来电问题</h2>{q}</section>
<section class="card"><h2>建议答复{fb}</h2>{ans}<p><strong>引用法条：</strong>{chips}</p><p><strong>审核标记：</strong>{flags}</p></section>
<section class="card"><h2>分流与法律援助提示</h2>{triage}</section>
<section class="card">{actions}</section>"#,
        q = text_block(&a.question),
        fb = if a.fallback {
            "（摘录法条，未经模型生成）"
        } else {
            ""
        },
        ans = text_block(&a.answer),
        chips = citation_chips(a),
        flags = flags_html(&a.flags),
        triage = triage_card(&a.triage),
    );
    page(&user, &format!("通话 #{id}"), &body)
}

#[derive(Debug, Deserialize)]
pub struct CloseForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub reply: String,
    #[serde(default)]
    pub action: String,
}

/// `POST /agent/calls/{id}`: mark answered or escalate.
pub async fn call_close(
    State(state): S,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<CloseForm>,
) -> Response {
    if let Err(r) = user.check_csrf(&f.csrf) {
        return r;
    }
    let escalate = match f.action.as_str() {
        "answered" => false,
        "escalate" => true,
        _ => return denied(StatusCode::BAD_REQUEST, "未知操作", Some(&user.user)),
    };
    if f.reply.chars().count() > 20_000 {
        return denied(StatusCode::PAYLOAD_TOO_LARGE, "答复太长", Some(&user.user));
    }
    match state
        .store
        .close_call(id, &user.user.name, &f.reply, escalate)
    {
        Ok(()) => Redirect::to(&format!("/agent/calls/{id}")).into_response(),
        Err(crate::Error::NotFound(m)) => denied(StatusCode::NOT_FOUND, &m, Some(&user.user)),
        Err(crate::Error::InvalidInput(m)) => denied(StatusCode::CONFLICT, &m, Some(&user.user)),
        Err(e) => {
            tracing::error!(error = %e, "closing call");
            denied(
                StatusCode::INTERNAL_SERVER_ERROR,
                "保存失败",
                Some(&user.user),
            )
        }
    }
}

// ---------------------------------------------------------------- review

#[derive(Debug, Deserialize, Default)]
pub struct ReviewQuery {
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

fn review_item_html(it: &ReviewItem, user: &CurrentUser) -> String {
    let reasons: String = it
        .reasons
        .iter()
        .map(|r| format!("<span class=\"flag\">{}</span>", esc(&reason_label(r))))
        .collect::<Vec<_>>()
        .join(" ");
    let note = if it.note.is_empty() {
        String::new()
    } else {
        format!("<p><strong>留言：</strong>{}</p>", esc(&it.note))
    };
    let decision = if it.status == "pending" {
        format!(
            r#"<form method="post" action="/review/{id}" class="stack">{csrf}
<label>答复（可修改后批准）<textarea name="answer" rows="6">{ans}</textarea></label>
<label>意见（驳回时必填）<input name="comment" maxlength="2000"></label>
<div class="row"><button type="submit" name="action" value="approve" id="approve-{id}">批准</button>
<button type="submit" name="action" value="reject" class="warn" id="reject-{id}">驳回</button></div></form>"#,
            id = it.id,
            csrf = user.csrf_field(),
            ans = esc(&it.answer.answer)
        )
    } else {
        format!(
            "<p><strong>{}</strong> · {} {}</p>{}",
            if it.status == "approved" {
                "已批准"
            } else {
                "已驳回"
            },
            esc(it.reviewer.as_deref().unwrap_or("")),
            esc(it.comment.as_deref().unwrap_or("")),
            it.final_answer
                .as_deref()
                .map(text_block)
                .unwrap_or_default()
        )
    };
    format!(
        r#"<article class="card review" id="review-{id}"><p class="muted">#{id} · {t} · {reasons}</p>
<h3>问题</h3>{q}<h3>系统答复</h3>{a}<p><strong>引用：</strong>{chips}</p>{note}
<details><summary>分流</summary>{triage}</details>{decision}</article>"#,
        id = it.id,
        t = time(it.created_at),
        q = text_block(&it.answer.question),
        a = text_block(&it.answer.answer),
        chips = citation_chips(&it.answer),
        triage = triage_card(&it.answer.triage),
    )
}

/// `GET /review?reason=&status=`.
pub async fn review_page(
    State(state): S,
    user: CurrentUser,
    Query(q): Query<ReviewQuery>,
) -> Response {
    if let Err(r) = user.require_staff() {
        return r;
    }
    let status = q
        .status
        .as_deref()
        .filter(|s| matches!(*s, "pending" | "approved" | "rejected" | "all"))
        .unwrap_or("pending");
    let reason = q.reason.as_deref().filter(|r| !r.is_empty());
    let items = match state.store.reviews(status, reason, 200) {
        Ok(i) => i,
        Err(e) => {
            tracing::error!(error = %e, "listing reviews");
            return denied(
                StatusCode::INTERNAL_SERVER_ERROR,
                "读取审核队列失败",
                Some(&user.user),
            );
        }
    };
    let mut reasons: Vec<String> = vec![
        REASON_HUMAN.into(),
        REASON_NEGATIVE.into(),
        REASON_ESCALATED.into(),
    ];
    reasons.extend(ReviewReason::ALL.iter().map(|r| r.id().to_string()));
    let options: String = reasons
        .iter()
        .map(|r| {
            format!(
                "<option value=\"{}\"{}>{}</option>",
                esc(r),
                if Some(r.as_str()) == reason {
                    " selected"
                } else {
                    ""
                },
                esc(&reason_label(r))
            )
        })
        .collect();
    let statuses: String = [
        ("pending", "待审核"),
        ("approved", "已批准"),
        ("rejected", "已驳回"),
        ("all", "全部"),
    ]
    .iter()
    .map(|(v, l)| {
        format!(
            "<option value=\"{v}\"{}>{l}</option>",
            if *v == status { " selected" } else { "" }
        )
    })
    .collect();
    let list: String = if items.is_empty() {
        "<p class=\"muted\">没有符合条件的条目。</p>".into()
    } else {
        items.iter().map(|it| review_item_html(it, &user)).collect()
    };
    let body = format!(
        r#"<h1>审核队列</h1>
<form method="get" action="/review" class="row filter"><label>原因 <select name="reason"><option value="">全部原因</option>{options}</select></label>
<label>状态 <select name="status">{statuses}</select></label><button type="submit">筛选</button>
<a href="/review/export.jsonl" class="button">导出已批准条目（评测 JSONL）</a></form>
{list}"#
    );
    page(&user, "审核队列", &body)
}

#[derive(Debug, Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub answer: String,
    #[serde(default)]
    pub comment: String,
}

/// `POST /review/{id}`: approve (possibly edited) or reject with a comment.
pub async fn review_decide(
    State(state): S,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<DecideForm>,
) -> Response {
    if let Err(r) = user.require_staff() {
        return r;
    }
    if let Err(r) = user.check_csrf(&f.csrf) {
        return r;
    }
    let original = match state.store.review(id) {
        Ok(Some(it)) => it.answer.answer,
        Ok(None) => return denied(StatusCode::NOT_FOUND, "没有这个审核条目", Some(&user.user)),
        Err(e) => {
            tracing::error!(error = %e, "reading review");
            return denied(
                StatusCode::INTERNAL_SERVER_ERROR,
                "读取失败",
                Some(&user.user),
            );
        }
    };
    let decision = match f.action.as_str() {
        "approve" => {
            let edited = f.answer.replace("\r\n", "\n");
            let edited = edited.trim();
            Decision::Approve {
                edited: (!edited.is_empty() && edited != original.trim())
                    .then(|| edited.to_string()),
            }
        }
        "reject" => {
            if f.comment.trim().is_empty() {
                return denied(
                    StatusCode::BAD_REQUEST,
                    "驳回时请填写意见",
                    Some(&user.user),
                );
            }
            Decision::Reject {
                comment: f.comment.trim().to_string(),
            }
        }
        _ => return denied(StatusCode::BAD_REQUEST, "未知操作", Some(&user.user)),
    };
    match state.store.decide_review(id, &user.user.name, &decision) {
        Ok(()) => Redirect::to("/review").into_response(),
        Err(crate::Error::InvalidInput(m)) => denied(StatusCode::CONFLICT, &m, Some(&user.user)),
        Err(e) => {
            tracing::error!(error = %e, "deciding review");
            denied(
                StatusCode::INTERNAL_SERVER_ERROR,
                "保存失败",
                Some(&user.user),
            )
        }
    }
}

/// `GET /review/export.jsonl`: approved items as eval cases.
pub async fn review_export(State(state): S, user: CurrentUser) -> Response {
    if let Err(r) = user.require_staff() {
        return r;
    }
    match state.store.export_eval_cases() {
        Ok(cases) => {
            let body: String = cases.iter().map(|c| format!("{c}\n")).collect();
            let _ = state.store.audit(
                &user.user.name,
                "review.export",
                "reviews",
                &format!("{} cases", cases.len()),
            );
            (
                [
                    (header::CONTENT_TYPE, "application/x-ndjson; charset=utf-8"),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"reviewed-cases.jsonl\"",
                    ),
                ],
                body,
            )
                .into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "exporting");
            denied(
                StatusCode::INTERNAL_SERVER_ERROR,
                "导出失败",
                Some(&user.user),
            )
        }
    }
}

// ---------------------------------------------------------------- eval

/// `GET /eval`.
pub async fn eval_page(State(state): S, user: CurrentUser) -> Response {
    if let Err(r) = user.require_staff() {
        return r;
    }
    let reports = crate::eval::list_reports(&state.config.reports_dir);
    let num = |x: f64| format!("{x:.3}");
    let rows: String = reports
        .iter()
        .map(|r| {
            let link = if r.dir.join("index.html").is_file() {
                format!(
                    "<a href=\"/eval/reports/{}\">{}</a>",
                    url_segment(&r.name),
                    esc(&r.name)
                )
            } else {
                esc(&r.name)
            };
            format!(
                "<tr><td>{link}</td><td class=\"small\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&r.finished_at),
                r.cases,
                if r.llm { "是" } else { "否" },
                num(r.hit_at_5),
                num(r.mrr),
                num(r.triage_accuracy),
                num(r.review_recall),
                r.key_point_coverage.map(num).unwrap_or_else(|| "—".into()),
            )
        })
        .collect();
    let body = if reports.is_empty() {
        format!(
            "<h1>质量评估</h1><p class=\"muted\">{} 下还没有评估报告。运行 <code>lawbrain eval --report {}/&lt;名称&gt;</code> 生成。</p>",
            esc(&state.config.reports_dir.display().to_string()),
            esc(&state.config.reports_dir.display().to_string())
        )
    } else {
        format!("<h1>质量评估</h1><table><thead><tr><th>报告</th><th>完成时间</th><th>用例数</th><th>用模型</th><th>检索 hit@5</th><th>MRR</th><th>分流准确率</th><th>需审核召回率</th><th>要点覆盖率</th></tr></thead><tbody>{rows}</tbody></table>")
    };
    page(&user, "质量评估", &body)
}

/// `GET /eval/reports/{name}`: a report's `index.html`, sandboxed.
pub async fn eval_report(State(state): S, user: CurrentUser, Path(name): Path<String>) -> Response {
    if let Err(r) = user.require_staff() {
        return r;
    }
    if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\']) {
        return denied(StatusCode::BAD_REQUEST, "报告名称不正确", Some(&user.user));
    }
    match std::fs::read_to_string(state.config.reports_dir.join(&name).join("index.html")) {
        Ok(html) => {
            let mut resp =
                ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
            resp.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:",
                ),
            );
            resp
        }
        Err(_) => denied(StatusCode::NOT_FOUND, "没有这个报告", Some(&user.user)),
    }
}
