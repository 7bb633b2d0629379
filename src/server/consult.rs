//! One consultation as the service runs it, for the web hall, the agent
//! console and the OpenAI endpoint alike:
//!
//! 1. [`prepare`]: check the question, retrieve articles and triage at once
//!    (cheap; answered even when generation is saturated), and take a place
//!    in the generation queue, or fail with 503 + `Retry-After`.
//! 2. [`generate`]: wait for a generator (reporting the queue position), run
//!    the blocking pipeline on a blocking thread, forward the answer text as
//!    it is drafted, and store the finished answer. When the receiver goes
//!    away (client disconnected) generation is cancelled and nothing is stored.
//!
//! A new conversation is stored together with its first answer, so a request
//! refused or failed on the way leaves no empty conversation. When storage
//! fails (disk full, read-only) the consultation fails with 503: an answer
//! that is not stored would never reach the review queue.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use tokio::sync::mpsc;

use super::error::AppError;
use super::queue::Ticket;
use super::AppState;
use crate::answer::{Answer, ConsultEvent};
use crate::llm::ChatMessage;
use crate::search::{Hit, SearchOptions};
use crate::triage::Triage;

/// Events of one consultation, in order: `Queue`* `Delta`* then `Done` or `Error`.
#[derive(Debug)]
pub enum Ev {
    /// Still waiting; position 1 = next.
    Queue(usize),
    Delta(String),
    Done(Box<Finished>),
    /// The consultation failed; nothing was stored.
    Error(AppError),
}

/// A finished, stored consultation.
#[derive(Debug)]
pub struct Finished {
    pub answer: Answer,
    pub answer_id: i64,
    /// Proof of having asked: `/api/feedback` and `/api/handoff` need it
    /// with the `answer_id` (ids are sequential, tokens are not).
    pub answer_token: String,
    pub queue_ms: f64,
    /// The text sent as `Delta`s. The model's draft may differ from the
    /// verified `answer.answer` (invalid citations removed, or the
    /// extractive fallback used instead).
    pub streamed: String,
}

/// A consultation ready to generate.
pub struct Prepared {
    pub question: String,
    pub history: Vec<ChatMessage>,
    pub conversation_id: String,
    /// `Some(channel)` when the conversation is new: it is stored with the answer.
    pub new_channel: Option<String>,
    pub triage: Triage,
    pub hits: Vec<Hit>,
    pub ticket: Ticket,
    pub position: usize,
}

/// Articles shown beside an answer.
pub const HITS_SHOWN: usize = 5;

/// Characters that show nothing: zero-width spaces and joiners, direction
/// marks, the byte-order mark, soft hyphens and other format characters.
fn invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF9}'..='\u{FFFB}' | '\u{E0000}'..='\u{E007F}')
}

/// Check a question: invisible characters are dropped, what is left must
/// not be empty (or only spaces) nor over the size limit.
pub fn check_question(state: &AppState, question: &str) -> Result<String, AppError> {
    let visible: String = question.chars().filter(|c| !invisible(*c)).collect();
    let q = visible.trim();
    if q.is_empty() {
        return Err(AppError::bad_request("问题不能为空"));
    }
    let n = q.chars().count();
    if n > state.config.max_question_chars {
        return Err(AppError::too_large(format!(
            "问题太长（{n} 字），请精简到 {} 字以内",
            state.config.max_question_chars
        )));
    }
    Ok(q.to_string())
}

/// Retrieve and triage (on a blocking thread).
pub async fn search_and_triage(
    state: &Arc<AppState>,
    question: &str,
) -> Result<(Vec<Hit>, Triage), AppError> {
    let st = state.clone();
    let q = question.to_string();
    tokio::task::spawn_blocking(move || -> crate::Result<(Vec<Hit>, Triage)> {
        let opts = SearchOptions {
            k: HITS_SHOWN,
            ..SearchOptions::default()
        };
        let hits = st.pipeline.search(&q, &opts)?;
        let triage = st.pipeline.triage(&q, &hits);
        Ok((hits, triage))
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "search task failed");
        AppError::internal()
    })?
    .map_err(AppError::from)
}

/// Step 1: validate, retrieve, triage, join the queue.
pub async fn prepare(
    state: &Arc<AppState>,
    question: &str,
    conversation_id: Option<&str>,
    history: Option<Vec<ChatMessage>>,
    channel: &str,
) -> Result<Prepared, AppError> {
    let question = check_question(state, question)?;
    // Refuse at once when storage cannot take the answer, before spending a
    // generation on it.
    let st = state.clone();
    let writable = tokio::task::spawn_blocking(move || st.store.writable())
        .await
        .map_err(|_| AppError::internal())?;
    if let Err(why) = writable {
        tracing::error!(error = %why, "storage probe failed; refusing consultation");
        return Err(AppError::storage_unavailable());
    }
    let (conversation_id, new_channel, history) = match conversation_id {
        Some(id) => {
            if !state.store.conversation_exists(id)? {
                return Err(AppError::not_found("对话不存在或已过期，请重新提问"));
            }
            let h = match history {
                Some(h) => h,
                None => state.store.history(id)?,
            };
            (id.to_string(), None, h)
        }
        None => (
            crate::store::new_conversation_id(),
            Some(channel.to_string()),
            history.unwrap_or_default(),
        ),
    };
    let (hits, triage) = search_and_triage(state, &question).await?;
    let ticket = match state.queue.enqueue() {
        Ok(t) => t,
        Err(full) => {
            state.metrics.queue_full();
            let wait = state.config.retry_after_secs;
            return Err(AppError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "当前咨询人数较多（{} 人排队），请 {wait} 秒后再试；下方的法条和办理指引仍可参考",
                    full.waiting
                ),
            )
            .retry_after(wait)
            .with("triage", serde_json::to_value(&triage).unwrap_or_default())
            .with("hits", serde_json::to_value(&hits).unwrap_or_default()));
        }
    };
    let position = ticket.position();
    Ok(Prepared {
        question,
        history,
        conversation_id,
        new_channel,
        triage,
        hits,
        ticket,
        position,
    })
}

/// Step 2: wait, generate, store. Sends events to `tx`; stops when `tx` closes.
pub async fn generate(state: Arc<AppState>, p: Prepared, tx: mpsc::Sender<Ev>) {
    let queued = Instant::now();
    let ticket = p.ticket;
    let mut last_pos = 0;
    let admit = ticket_admit(ticket, &tx, &mut last_pos);
    let Some(slot) = admit.await else {
        return; // client left while waiting, or the queue shut down
    };
    let queue_ms = queued.elapsed().as_secs_f64() * 1000.0;
    let cancelled = Arc::new(AtomicBool::new(false));
    let st = state.clone();
    let tx2 = tx.clone();
    let flag = cancelled.clone();
    let question = p.question.clone();
    let history = p.history.clone();
    let result = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        let mut streamed = String::new();
        let r = st
            .pipeline
            .consult(&question, &history, &mut |ev| match ev {
                ConsultEvent::Delta(text) => {
                    if tx2.blocking_send(Ev::Delta(text.to_string())).is_err() {
                        flag.store(true, Ordering::SeqCst);
                        return false;
                    }
                    streamed.push_str(text);
                    true
                }
                _ => !tx2.is_closed(),
            });
        r.map(|a| (a, streamed))
    })
    .await;
    let (answer, mut streamed) = match result {
        Ok(Ok(a)) => a,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "consultation failed");
            let _ = tx
                .send(Ev::Error(AppError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "生成回答失败，请稍后再试或转人工",
                )))
                .await;
            return;
        }
        Err(e) => {
            tracing::error!(error = %e, "consultation task panicked");
            let _ = tx.send(Ev::Error(AppError::internal())).await;
            return;
        }
    };
    if cancelled.load(Ordering::SeqCst) || tx.is_closed() {
        tracing::info!("client left; answer not stored");
        return;
    }
    if streamed.is_empty() && !answer.answer.is_empty() {
        // Extractive answers are not generated piece by piece: send them whole.
        if tx.send(Ev::Delta(answer.answer.clone())).await.is_err() {
            return;
        }
        streamed = answer.answer.clone();
    }
    state.metrics.generation(&answer.timings);
    let st = state.clone();
    let conv = p.conversation_id.clone();
    let channel = p.new_channel.clone();
    let to_store = answer.clone();
    let stored = tokio::task::spawn_blocking(move || {
        st.store
            .save_turn(&conv, channel.as_deref(), &to_store, &[])
    })
    .await;
    let saved = match stored {
        Ok(Ok(saved)) => saved,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "storing answer failed");
            state.metrics.storage_failed();
            let _ = tx.send(Ev::Error(AppError::from(e))).await;
            return;
        }
        Err(e) => {
            tracing::error!(error = %e, "storing task failed");
            let _ = tx.send(Ev::Error(AppError::internal())).await;
            return;
        }
    };
    let _ = tx
        .send(Ev::Done(Box::new(Finished {
            answer,
            answer_id: saved.id,
            answer_token: saved.token,
            queue_ms,
            streamed,
        })))
        .await;
}

/// Wait for a generator, reporting position changes every half second.
async fn ticket_admit(
    ticket: Ticket,
    tx: &mpsc::Sender<Ev>,
    last: &mut usize,
) -> Option<super::queue::Slot> {
    let pos_probe = ticket.position_probe();
    let admit = ticket.admit();
    tokio::pin!(admit);
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            biased;
            slot = &mut admit => return slot,
            _ = tick.tick() => {
                if tx.is_closed() {
                    return None;
                }
                let pos = pos_probe();
                if pos != *last && pos > 0 {
                    *last = pos;
                    if tx.send(Ev::Queue(pos)).await.is_err() {
                        return None;
                    }
                }
            }
        }
    }
}

/// Run a whole consultation and collect the result (JSON API, agent console).
pub async fn run_to_end(state: Arc<AppState>, p: Prepared) -> Result<Finished, AppError> {
    let (tx, mut rx) = mpsc::channel(256);
    tokio::spawn(generate(state, p, tx));
    while let Some(ev) = rx.recv().await {
        match ev {
            Ev::Done(f) => return Ok(*f),
            Ev::Error(e) => return Err(e),
            Ev::Queue(_) | Ev::Delta(_) => {}
        }
    }
    Err(AppError::internal())
}
