//! `POST /v1/chat/completions` and `GET /v1/models`: the OpenAI chat API
//! shape (streaming and not), so hotline software and existing clients can
//! use lawbrain as it is. The last user message is the question; earlier
//! user/assistant messages are the history. Answers carry an extra
//! `lawbrain` field (citations, triage, retrieved articles) that OpenAI
//! clients ignore.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;

use super::consult::{self, Ev};
use super::error::{ApiJson, AppError};
use super::AppState;
use crate::llm::ChatMessage;

#[derive(Debug, Deserialize)]
pub struct ChatRequest {
    #[serde(default)]
    pub model: Option<String>,
    pub messages: Vec<InMessage>,
    #[serde(default)]
    pub stream: bool,
}

#[derive(Debug, Deserialize)]
pub struct InMessage {
    pub role: String,
    #[serde(default)]
    pub content: Content,
}

/// A message's content: a string or a list of `{type: "text", text}` parts.
#[derive(Debug, Deserialize, Default)]
#[serde(untagged)]
pub enum Content {
    Text(String),
    Parts(Vec<Part>),
    #[default]
    Empty,
}

#[derive(Debug, Deserialize)]
pub struct Part {
    #[serde(default)]
    pub text: Option<String>,
}

impl Content {
    /// The text of a string or of its text parts.
    pub fn text(&self) -> String {
        match self {
            Content::Text(s) => s.clone(),
            Content::Parts(p) => p
                .iter()
                .filter_map(|p| p.text.as_deref())
                .collect::<Vec<_>>()
                .join(""),
            Content::Empty => String::new(),
        }
    }
}

fn split(messages: &[InMessage]) -> Result<(String, Vec<ChatMessage>), AppError> {
    let Some((last, earlier)) = messages.split_last() else {
        return Err(AppError::bad_request("messages 不能为空"));
    };
    // system/developer messages are accepted but not used: the service keeps
    // its own instructions. Anything else is an error, not silently dropped.
    if let Some(m) = messages.iter().find(|m| {
        !matches!(
            m.role.as_str(),
            "user" | "assistant" | "system" | "developer"
        )
    }) {
        let role: String = m.role.chars().take(32).collect();
        return Err(AppError::bad_request(format!(
            "不支持的消息角色：{role:?}（可用 user、assistant、system、developer）"
        )));
    }
    if last.role != "user" {
        return Err(AppError::bad_request("最后一条消息须为 user 的提问"));
    }
    let history = earlier
        .iter()
        .filter(|m| m.role == "user" || m.role == "assistant")
        .map(|m| ChatMessage::new(&m.role, m.content.text()))
        .collect();
    Ok((last.content.text(), history))
}

fn completion_id() -> String {
    let mut b = [0u8; 12];
    rand::fill(&mut b[..]);
    format!("chatcmpl-{}", hex::encode(b))
}

/// `POST /v1/chat/completions`.
pub async fn chat_completions(
    State(state): State<Arc<AppState>>,
    ApiJson(req): ApiJson<ChatRequest>,
) -> Response {
    let (question, history) = match split(&req.messages) {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    let model = req
        .model
        .clone()
        .unwrap_or_else(|| state.pipeline.model_name());
    let p = match consult::prepare(&state, &question, None, Some(history), "openai").await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let id = completion_id();
    let created = chrono::Utc::now().timestamp();
    if !req.stream {
        return match consult::run_to_end(state, p).await {
            Ok(f) => {
                let a = &f.answer;
                Json(json!({
                    "id": id,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [{
                        "index": 0,
                        "message": {"role": "assistant", "content": a.answer},
                        "finish_reason": "stop",
                    }],
                    "usage": {
                        "prompt_tokens": a.timings.prompt_tokens,
                        "completion_tokens": a.timings.gen_tokens,
                        "total_tokens": a.timings.prompt_tokens + a.timings.gen_tokens,
                    },
                    "lawbrain": {
                        "answer_id": f.answer_id,
                        "answer_token": f.answer_token,
                        "citations": a.citations,
                        "triage": a.triage,
                        "retrieved": a.retrieved,
                        "fallback": a.fallback,
                    },
                }))
                .into_response()
            }
            Err(e) => e.into_response(),
        };
    }
    let (out, rx) = mpsc::channel::<Event>(64);
    tokio::spawn(async move {
        let chunk = |delta: serde_json::Value, finish: Option<&str>| {
            Event::default().data(
                json!({
                    "id": id,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                })
                .to_string(),
            )
        };
        if out
            .send(chunk(json!({"role": "assistant", "content": ""}), None))
            .await
            .is_err()
        {
            return;
        }
        let (tx, mut evs) = mpsc::channel(64);
        tokio::spawn(consult::generate(state, p, tx));
        while let Some(ev) = evs.recv().await {
            let sent = match ev {
                Ev::Queue(_) => Ok(()),
                Ev::Delta(t) => out.send(chunk(json!({ "content": t }), None)).await,
                Ev::Error(e) => {
                    let _ = out
                        .send(
                            Event::default().data(
                                json!({"error": {
                                    "message": e.message,
                                    "type": "server_error",
                                    "code": e.status.as_u16(),
                                }})
                                .to_string(),
                            ),
                        )
                        .await;
                    return;
                }
                Ev::Done(f) => {
                    if f.streamed != f.answer.answer {
                        // The draft changed in verification: send the checked answer.
                        let note = format!("\n\n【核验后的答复】\n{}", f.answer.answer);
                        if out
                            .send(chunk(json!({ "content": note }), None))
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                    if out.send(chunk(json!({}), Some("stop"))).await.is_err() {
                        return;
                    }
                    out.send(Event::default().data("[DONE]")).await
                }
            };
            if sent.is_err() {
                return;
            }
        }
    });
    Sse::new(ReceiverStream::new(rx).map(Ok::<_, Infallible>))
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// `GET /v1/models`.
pub async fn models(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    model_list(&state.pipeline.model_name())
}

/// The `/v1/models` body naming one model.
pub fn model_list(id: &str) -> Json<serde_json::Value> {
    Json(json!({
        "object": "list",
        "data": [{"id": id, "object": "model", "created": 0, "owned_by": "lawbrain"}],
    }))
}
