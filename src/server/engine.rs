//! `lawbrain serve --engine-only`: raw generation behind the OpenAI chat
//! API, with no retrieval, checks or storage, so one lawbrain node can be
//! another's generator (`--llm-url http://node:port/v1`). The consulting
//! node keeps the prompt and verifies every citation; this node only turns
//! messages into text with its local model.
//!
//! `POST /v1/chat/completions` (streaming and not), `GET /v1/models`,
//! `GET /healthz`. Generations go through the same bounded queue as the
//! full service: when it is full the answer is 503 with `Retry-After`,
//! which the remote backend retries. A client that disconnects cancels its
//! generation.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;

use super::openai::InMessage;
use super::queue::Queue;
use crate::llm::{Backend, ChatMessage, GenParams, StopReason};

/// What the engine node needs.
pub struct EngineState {
    pub backend: Arc<dyn Backend>,
    pub queue: Arc<Queue>,
    /// Sampling defaults; a request's own values replace them.
    pub defaults: GenParams,
    /// Longest generation allowed (a request asking more is capped).
    pub max_tokens: usize,
    /// Each generation stops this long after it starts.
    pub timeout: Duration,
    pub retry_after_secs: u64,
}

#[derive(Debug, Deserialize)]
pub struct EngineRequest {
    #[serde(default)]
    pub model: Option<String>,
    pub messages: Vec<InMessage>,
    #[serde(default)]
    pub stream: bool,
    #[serde(default)]
    pub max_tokens: Option<usize>,
    #[serde(default)]
    pub max_completion_tokens: Option<usize>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub repeat_penalty: Option<f32>,
}

fn oa_error(status: StatusCode, message: impl Into<String>) -> Response {
    let kind = if status.is_client_error() {
        "invalid_request_error"
    } else {
        "server_error"
    };
    (
        status,
        Json(json!({"error": {"message": message.into(), "type": kind, "code": status.as_u16()}})),
    )
        .into_response()
}

fn finish_reason(stop: StopReason) -> &'static str {
    match stop {
        StopReason::Eos | StopReason::Cancelled => "stop",
        StopReason::Length | StopReason::Deadline | StopReason::Repetition => "length",
    }
}

/// The request's messages and parameters, or why they are unusable (400).
fn parse(st: &EngineState, req: &EngineRequest) -> Result<(Vec<ChatMessage>, GenParams), String> {
    if req.messages.is_empty() {
        return Err("messages must not be empty".to_string());
    }
    let mut messages = Vec::with_capacity(req.messages.len());
    for m in &req.messages {
        let role = match m.role.as_str() {
            "system" | "developer" => "system",
            "user" => "user",
            "assistant" => "assistant",
            other => {
                let r: String = other.chars().take(32).collect();
                return Err(format!("unsupported role {r:?} (system, user, assistant)"));
            }
        };
        messages.push(ChatMessage::new(role, m.content.text()));
    }
    if let Some(t) = req.temperature.filter(|t| !(0.0..=2.0).contains(t)) {
        return Err(format!("temperature {t} is outside 0..=2"));
    }
    if let Some(p) = req.top_p.filter(|p| !(*p > 0.0 && *p <= 1.0)) {
        return Err(format!("top_p {p} is outside (0, 1]"));
    }
    let mut p = st.defaults.clone();
    if let Some(n) = req.max_completion_tokens.or(req.max_tokens) {
        p.max_tokens = n;
    }
    p.max_tokens = p.max_tokens.clamp(1, st.max_tokens);
    if let Some(t) = req.temperature {
        p.temperature = t;
    }
    if req.top_p.is_some() {
        p.top_p = req.top_p;
    }
    if let Some(s) = req.seed {
        p.seed = s;
    }
    if let Some(r) = req.repeat_penalty.filter(|r| *r > 0.0 && *r <= 2.0) {
        p.repeat_penalty = r;
    }
    p.deadline = Some(Instant::now() + st.timeout);
    Ok((messages, p))
}

/// `POST /v1/chat/completions`.
pub async fn chat(
    State(st): State<Arc<EngineState>>,
    req: Result<Json<EngineRequest>, JsonRejection>,
) -> Response {
    let req = match req {
        Ok(Json(r)) => r,
        Err(e) => return oa_error(StatusCode::BAD_REQUEST, e.body_text()),
    };
    let (messages, params) = match parse(&st, &req) {
        Ok(x) => x,
        Err(why) => return oa_error(StatusCode::BAD_REQUEST, why),
    };
    let ticket = match st.queue.enqueue() {
        Ok(t) => t,
        Err(full) => {
            let mut r = oa_error(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("engine busy ({} waiting)", full.waiting),
            );
            if let Ok(v) = HeaderValue::from_str(&st.retry_after_secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return r;
        }
    };
    let model = req.model.clone().unwrap_or_else(|| st.backend.name());
    let id = format!("chatcmpl-{}", {
        let mut b = [0u8; 12];
        rand::fill(&mut b[..]);
        hex::encode(b)
    });
    let created = chrono::Utc::now().timestamp();
    let (tx, rx) = mpsc::channel::<String>(256);
    let backend = st.backend.clone();
    // Generation: waits for a generator, then runs on a blocking thread;
    // each piece goes to `tx`, and a closed `tx` (client gone) cancels.
    let job = tokio::spawn(async move {
        let slot = ticket.admit().await?;
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            backend.generate(&messages, &params, &mut |piece| {
                tx.blocking_send(piece.to_string()).is_ok()
            })
        })
        .await
        .ok()
    });
    if !req.stream {
        let mut rx = rx;
        while rx.recv().await.is_some() {}
        return match job.await {
            Ok(Some(Ok(g))) => Json(json!({
                "id": id,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [{
                    "index": 0,
                    "message": {"role": "assistant", "content": g.text},
                    "finish_reason": finish_reason(g.stop),
                }],
                "usage": {
                    "prompt_tokens": g.stats.prompt_tokens,
                    "completion_tokens": g.stats.gen_tokens,
                    "total_tokens": g.stats.prompt_tokens + g.stats.gen_tokens,
                },
            }))
            .into_response(),
            // A prompt the model cannot take (longer than its context) is
            // the caller's to fix.
            Ok(Some(Err(e @ crate::Error::InvalidInput(_)))) => {
                oa_error(StatusCode::BAD_REQUEST, format!("{e}"))
            }
            Ok(Some(Err(e))) => {
                tracing::warn!(error = %e, "engine generation failed");
                oa_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("generation failed: {e}"),
                )
            }
            _ => oa_error(StatusCode::INTERNAL_SERVER_ERROR, "generation task failed"),
        };
    }
    let chunk =
        move |delta: serde_json::Value, finish: Option<&str>, usage: Option<serde_json::Value>| {
            let mut v = json!({
                "id": id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            });
            if let Some(u) = usage {
                v["usage"] = u;
            }
            Event::default().data(v.to_string())
        };
    let (out, events) = mpsc::channel::<Event>(64);
    tokio::spawn(async move {
        let mut rx = rx;
        if out
            .send(chunk(
                json!({"role": "assistant", "content": ""}),
                None,
                None,
            ))
            .await
            .is_err()
        {
            return; // dropping `rx` cancels the generation
        }
        while let Some(piece) = rx.recv().await {
            if out
                .send(chunk(json!({ "content": piece }), None, None))
                .await
                .is_err()
            {
                return;
            }
        }
        let last = match job.await {
            Ok(Some(Ok(g))) => chunk(
                json!({}),
                Some(finish_reason(g.stop)),
                Some(json!({
                    "prompt_tokens": g.stats.prompt_tokens,
                    "completion_tokens": g.stats.gen_tokens,
                    "total_tokens": g.stats.prompt_tokens + g.stats.gen_tokens,
                })),
            ),
            Ok(Some(Err(e))) => {
                tracing::warn!(error = %e, "engine generation failed");
                Event::default().data(
                    json!({"error": {"message": format!("generation failed: {e}"), "type": "server_error", "code": 500}})
                        .to_string(),
                )
            }
            _ => Event::default().data(
                json!({"error": {"message": "generation task failed", "type": "server_error", "code": 500}})
                    .to_string(),
            ),
        };
        if out.send(last).await.is_ok() {
            let _ = out.send(Event::default().data("[DONE]")).await;
        }
    });
    Sse::new(ReceiverStream::new(events).map(Ok::<_, Infallible>))
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// `GET /v1/models`.
pub async fn models(State(st): State<Arc<EngineState>>) -> Json<serde_json::Value> {
    super::openai::model_list(&st.backend.name())
}

/// `GET /healthz`.
pub async fn healthz(State(st): State<Arc<EngineState>>) -> Json<serde_json::Value> {
    Json(json!({
        "status": "ok",
        "engine": st.backend.name(),
        "running": st.queue.running(),
        "waiting": st.queue.depth(),
    }))
}

/// The engine node's router.
pub fn engine_app(state: Arc<EngineState>) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/models", get(models))
        .route("/healthz", get(healthz))
        .layer(DefaultBodyLimit::max(4 << 20))
        .with_state(state)
}
