//! Grounded answers: retrieve articles, build the prompt, draft with a
//! [`crate::llm::Backend`], verify every citation, fall back to an extractive
//! answer when the model fails, and attach the triage.

use serde::{Deserialize, Serialize};

use crate::cite::CiteStatus;
use crate::search::Hit;
use crate::triage::Triage;

/// A citation in a drafted answer, after checking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerCitation {
    pub law: String,
    pub article: u32,
    #[serde(default)]
    pub suffix: u32,
    pub status: CiteStatus,
    /// Whether the article was among the retrieved articles given to the model.
    pub in_context: bool,
}

/// Timings of one answer. Part of the `ask --json` shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    pub retrieval_ms: f64,
    pub prompt_tokens: usize,
    pub ttft_ms: f64,
    pub gen_tokens: usize,
    pub tokens_per_s: f64,
    pub total_ms: f64,
}

/// A complete consultation answer. The JSON shape of `lawbrain ask --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub question: String,
    /// The answer shown to the person (invalid citations removed).
    pub answer: String,
    pub citations: Vec<AnswerCitation>,
    /// Citations removed from the shown answer (not found / not in force).
    pub removed_citations: Vec<AnswerCitation>,
    pub retrieved: Vec<Hit>,
    /// True when the extractive fallback was used instead of the model.
    pub fallback: bool,
    /// Why the fallback was used, if it was.
    #[serde(default)]
    pub fallback_reason: Option<String>,
    pub triage: Triage,
    pub timings: Timings,
}

use crate::llm::{Backend, ChatMessage, GenParams};
use crate::search::Searcher;
use crate::triage::Directory;
use std::sync::Arc;

/// Events of one consultation, in the order they happen.
#[derive(Debug, Clone)]
pub enum ConsultEvent<'a> {
    /// Triage is ready (before generation starts).
    Triage(&'a Triage),
    /// Retrieved articles are ready.
    Hits(&'a [Hit]),
    /// A piece of the drafted answer.
    Delta(&'a str),
}

/// Everything one consultation needs, opened once and shared.
pub struct Brain {
    pub searcher: Arc<Searcher>,
    pub directory: Arc<Directory>,
    /// `None`: extractive answers only.
    pub backend: Option<Arc<dyn Backend>>,
    pub params: GenParams,
}

impl Brain {
    /// Answer `question` (with earlier turns in `history`). `on_event` returning
    /// `false` cancels generation.
    pub fn consult(
        &self,
        question: &str,
        history: &[ChatMessage],
        on_event: &mut dyn FnMut(ConsultEvent<'_>) -> bool,
    ) -> crate::Result<Answer> {
        let _ = (question, history, on_event);
        todo!("answer helper")
    }
}
