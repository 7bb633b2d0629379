//! The JSON API: consult (JSON or SSE), search, triage, articles, feedback,
//! hand-off to a person, health and metrics.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;

use super::consult::{self, Ev, Finished, Prepared};
use super::error::{ApiJson, AppError};
use super::AppState;
use crate::corpus::numerals::parse_article as parse_article_number;
use crate::search::SearchOptions;

type S = State<Arc<AppState>>;

#[derive(Debug, Deserialize)]
pub struct ConsultRequest {
    pub question: String,
    #[serde(default)]
    pub conversation_id: Option<String>,
}

fn wants_sse(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/event-stream"))
}

/// The `done` payload (also the JSON answer of a non-streaming consult).
pub fn done_json(conversation_id: &str, f: &Finished) -> serde_json::Value {
    let mut v = serde_json::to_value(&f.answer).unwrap_or_else(|_| json!({}));
    if let Some(o) = v.as_object_mut() {
        o.insert("conversation_id".into(), json!(conversation_id));
        o.insert("answer_id".into(), json!(f.answer_id));
        o.insert("answer_token".into(), json!(f.answer_token));
        o.insert("queue_ms".into(), json!(f.queue_ms));
        let flags: Vec<&str> = f
            .answer
            .triage
            .review_reasons
            .iter()
            .map(|r| r.id())
            .collect();
        o.insert("flags".into(), json!(flags));
    }
    v
}

pub(crate) fn event(name: &str, data: &serde_json::Value) -> Event {
    Event::default().event(name).data(data.to_string())
}

/// `POST /api/consult`.
pub async fn consult(
    State(state): S,
    headers: HeaderMap,
    ApiJson(req): ApiJson<ConsultRequest>,
) -> Response {
    let p = match consult::prepare(
        &state,
        &req.question,
        req.conversation_id.as_deref(),
        None,
        "web",
    )
    .await
    {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let conv = p.conversation_id.clone();
    if wants_sse(&headers) {
        let mut resp = sse(state, p).into_response();
        if let Ok(v) = HeaderValue::from_str(&conv) {
            resp.headers_mut().insert("x-conversation-id", v);
        }
        return resp;
    }
    match consult::run_to_end(state, p).await {
        Ok(f) => Json(done_json(&conv, &f)).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Stream a prepared consultation as SSE: `triage`, `hits`, `queue`*,
/// `delta`*, `citations`, `done` (or `error`).
fn sse(state: Arc<AppState>, p: Prepared) -> impl IntoResponse {
    sse_then(state, p, |_| None)
}

/// [`sse`], then the event `then` makes of the finished consultation, if any.
pub(crate) fn sse_then(
    state: Arc<AppState>,
    p: Prepared,
    then: impl FnOnce(&consult::Finished) -> Option<Event> + Send + 'static,
) -> impl IntoResponse {
    let (out, rx) = mpsc::channel::<Event>(64);
    let first = [
        event(
            "triage",
            &serde_json::to_value(&p.triage).unwrap_or_default(),
        ),
        event("hits", &serde_json::to_value(&p.hits).unwrap_or_default()),
    ];
    let conv = p.conversation_id.clone();
    let mut then = Some(then);
    tokio::spawn(async move {
        for e in first {
            if out.send(e).await.is_err() {
                return;
            }
        }
        let (tx, mut evs) = mpsc::channel(64);
        tokio::spawn(consult::generate(state, p, tx));
        while let Some(ev) = evs.recv().await {
            let sent = match ev {
                Ev::Queue(pos) => out.send(event("queue", &json!({ "position": pos }))).await,
                Ev::Delta(text) => out.send(event("delta", &json!({ "text": text }))).await,
                Ev::Error(e) => {
                    let body = json!({ "error": e.message, "status": e.status.as_u16() });
                    out.send(event("error", &body)).await
                }
                Ev::Done(f) => {
                    let cites = json!({
                        "citations": f.answer.citations,
                        "removed_citations": f.answer.removed_citations,
                    });
                    if out.send(event("citations", &cites)).await.is_err() {
                        return;
                    }
                    if out
                        .send(event("done", &done_json(&conv, &f)))
                        .await
                        .is_err()
                    {
                        return;
                    }
                    match then.take().and_then(|t| t(&f)) {
                        Some(e) => out.send(e).await,
                        None => Ok(()),
                    }
                }
            };
            if sent.is_err() {
                return; // client left: dropping `evs` cancels generation
            }
        }
    });
    Sse::new(ReceiverStream::new(rx).map(Ok::<_, Infallible>)).keep_alive(KeepAlive::default())
}

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub k: Option<usize>,
    #[serde(default)]
    pub law: Option<String>,
    #[serde(default)]
    pub level: Option<String>,
}

/// `GET /api/search?q=&k=&law=&level=`.
pub async fn search(
    State(state): S,
    Query(q): Query<SearchQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    let query = consult::check_question(&state, &q.q)?;
    let opts = SearchOptions {
        k: q.k.unwrap_or(10).clamp(1, 50),
        law: q.law.filter(|s| !s.is_empty()),
        level: q.level.filter(|s| !s.is_empty()),
        ..SearchOptions::default()
    };
    let st = state.clone();
    let qq = query.clone();
    let hits = tokio::task::spawn_blocking(move || st.pipeline.search(&qq, &opts))
        .await
        .map_err(|_| AppError::internal())??;
    Ok(Json(json!({ "query": query, "hits": hits })))
}

/// `GET /api/triage?q=`: triage and the articles it used (no generation).
pub async fn triage(
    State(state): S,
    Query(q): Query<SearchQuery>,
) -> Result<Json<serde_json::Value>, AppError> {
    let query = consult::check_question(&state, &q.q)?;
    let (hits, triage) = consult::search_and_triage(&state, &query).await?;
    Ok(Json(
        json!({ "query": query, "triage": triage, "hits": hits }),
    ))
}

/// `GET /api/articles/{law}/{number}`.
pub async fn article(
    State(state): S,
    Path((law, number)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let view = lookup_article(&state, &law, &number).await?;
    Ok(Json(view).into_response())
}

/// Look an article up from URL parts.
pub async fn lookup_article(
    state: &Arc<AppState>,
    law: &str,
    number: &str,
) -> Result<super::pipeline::ArticleView, AppError> {
    if law.trim().is_empty() || law.chars().count() > 100 {
        return Err(AppError::bad_request("法律名称不正确"));
    }
    let (n, suffix) = parse_article_number(number)
        .ok_or_else(|| AppError::bad_request(format!("条号不正确：{number}")))?;
    let st = state.clone();
    let law = law.to_string();
    Ok(
        tokio::task::spawn_blocking(move || st.pipeline.article(&law, n, suffix))
            .await
            .map_err(|_| AppError::internal())??,
    )
}

#[derive(Debug, Deserialize)]
pub struct FeedbackRequest {
    pub answer_id: i64,
    /// The `answer_token` returned with the answer.
    #[serde(default)]
    pub answer_token: String,
    pub helpful: bool,
    #[serde(default)]
    pub comment: String,
}

/// Only whoever got the answer (and so its token) may act on it. Unknown
/// answers and wrong tokens get the same 404, so ids cannot be probed.
async fn check_answer_token(state: &Arc<AppState>, id: i64, token: &str) -> Result<(), AppError> {
    let st = state.clone();
    let token = token.to_string();
    let ok = tokio::task::spawn_blocking(move || st.store.answer_token_matches(id, &token))
        .await
        .map_err(|_| AppError::internal())??;
    if ok {
        Ok(())
    } else {
        Err(AppError::not_found(
            "没有找到这条答复（答复编号或凭证 answer_token 不正确）",
        ))
    }
}

/// `POST /api/feedback` `{answer_id, answer_token, helpful, comment?}`.
pub async fn feedback(
    State(state): S,
    ApiJson(f): ApiJson<FeedbackRequest>,
) -> Result<Json<serde_json::Value>, AppError> {
    if f.comment.chars().count() > 1000 {
        return Err(AppError::too_large("意见太长，请精简到 1000 字以内"));
    }
    check_answer_token(&state, f.answer_id, &f.answer_token).await?;
    state
        .store
        .add_feedback(f.answer_id, f.helpful, &f.comment)?;
    Ok(Json(json!({ "ok": true, "message": "感谢您的反馈" })))
}

#[derive(Debug, Deserialize)]
pub struct HandoffRequest {
    pub answer_id: i64,
    /// The `answer_token` returned with the answer.
    #[serde(default)]
    pub answer_token: String,
    #[serde(default)]
    pub note: String,
}

/// `POST /api/handoff` `{answer_id, answer_token, note?}`: 转人工.
pub async fn handoff(
    State(state): S,
    ApiJson(h): ApiJson<HandoffRequest>,
) -> Result<Json<serde_json::Value>, AppError> {
    if h.note.chars().count() > 1000 {
        return Err(AppError::too_large("留言太长，请精简到 1000 字以内"));
    }
    check_answer_token(&state, h.answer_id, &h.answer_token).await?;
    let id = state.store.request_human(h.answer_id, &h.note)?;
    Ok(Json(json!({
        "ok": true,
        "review_id": id,
        "message": "已转人工，工作人员将审核您的问题；紧急情况请拨打 12348 公共法律服务热线",
    })))
}

/// `GET /healthz`: 200 `status: ok`, or 503 `status: degraded` when the
/// storage does not take writes (`storage.error` says why).
pub async fn healthz(State(state): S) -> Response {
    let st = state.clone();
    let storage = tokio::task::spawn_blocking(move || st.store.health())
        .await
        .unwrap_or_else(|_| crate::store::StorageHealth {
            ok: false,
            error: Some("storage check failed".into()),
            last_failure_at: None,
            disk_free_mb: None,
            backend: None,
        });
    let code = if storage.ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Json(json!({
        "status": if storage.ok { "ok" } else { "degraded" },
        "storage": storage,
        "connections": state.connections.open(),
        "model": state.pipeline.model_name(),
        "retrieval": state.pipeline.retrieval_mode(),
        "triage_router": crate::triage::router_mode(),
        "queue_depth": state.queue.depth(),
        "generations_running": state.queue.running(),
        "generators": state.queue.generators(),
        "rss_mb": rss_mb(),
    }));
    (code, body).into_response()
}

/// Resident memory of this process in MiB (Linux), for `/healthz` and the load bench.
fn rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some((kb / 1024.0 * 10.0).round() / 10.0)
}

/// `GET /metrics` (Prometheus text format).
pub async fn metrics(State(state): S) -> Response {
    let mut body = state.metrics.render(
        state.queue.depth(),
        state.queue.running(),
        state.queue.generators(),
    );
    let mode = state.pipeline.retrieval_mode();
    body.push_str(
        "# HELP lawbrain_retrieval_mode Retrieval that is live (1 for the current mode).\n\
         # TYPE lawbrain_retrieval_mode gauge\n",
    );
    for m in ["lexical", "lexical (dense index building)", "hybrid"] {
        body.push_str(&format!(
            "lawbrain_retrieval_mode{{mode=\"{m}\"}} {}\n",
            u8::from(m == mode)
        ));
    }
    let triage = crate::triage::router_mode();
    body.push_str(
        "# HELP lawbrain_triage_router Triage router that is live (1 for the current one).\n\
         # TYPE lawbrain_triage_router gauge\n",
    );
    for m in ["ngrams", "embedding"] {
        body.push_str(&format!(
            "lawbrain_triage_router{{router=\"{m}\"}} {}\n",
            u8::from(m == triage)
        ));
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// Anything else.
pub async fn not_found() -> AppError {
    AppError::new(StatusCode::NOT_FOUND, "没有这个页面或接口")
}
