//! Local text generation: the candle engine over a Qwen2.5 GGUF, and the
//! [`Backend`] trait any other engine (an OpenAI-compatible server) implements.
//!
//! Owns: model files (profiles, hf-hub resolution), the tokenizer from GGUF
//! metadata, the chat template, sampling, stop tokens, streaming of whole
//! UTF-8 text, deadlines and cancellation. Knows nothing about law.

use serde::{Deserialize, Serialize};
use std::time::Instant;

mod engine;
mod few;
pub mod files;
mod gemv;
mod lookup;
mod qwen2;
mod remote;
mod sampling;
pub mod template;
mod tiles;
mod tokens;

pub use engine::{CandleEngine, EngineOptions};
pub use files::{fast_variant, resolve, ModelSource};
pub use qwen2::Memory;
pub use remote::{RemoteBackend, RemoteOptions};
pub use sampling::loop_tail;
pub use tokens::{Tokens, Utf8Stream};

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    pub content: String,
}

impl ChatMessage {
    pub fn new(role: &str, content: impl Into<String>) -> Self {
        ChatMessage {
            role: role.to_string(),
            content: content.into(),
        }
    }
}

/// Whether the local engine guesses ahead on this CPU: checking guesses
/// pays only with the few-row kernels (AVX-512 VNNI). Elsewhere a check of
/// five guesses costs about five single steps (measured with candle's
/// per-row kernels: 21.6 tok/s without guessing, 19.6 with), so
/// [`GenParams::draft_tokens`] is ignored there.
pub fn guessing_available() -> bool {
    few::available()
}

/// Most tokens guessed at once: a check of more rows leaves the few-row
/// kernels, whose numbers match single steps exactly, so larger values are
/// cut to this.
pub const MAX_DRAFT_TOKENS: usize = few::MAX_ROWS - 1;

/// Default [`GenParams::draft_tokens`]. A check of `1 + n` rows costs, on
/// the 2-core reference machine (median ms per forward pass in `bench llm`):
/// 44, 65, 86, 102, 112, 142, 151, 168 for 1..=8 rows. Replaying the 30 first
/// dev answers' tokens through the lookup with those costs, guessing 4
/// spends 154 s on decoding, 3 160 s, 5 169 s, 6 164 s, 8 183 s, none 200 s
/// (the text is the same for every value).
pub const DRAFT_TOKENS: usize = 4;

/// Sampling and limits for one generation.
#[derive(Debug, Clone)]
pub struct GenParams {
    pub max_tokens: usize,
    /// 0 = greedy.
    pub temperature: f64,
    pub top_p: Option<f64>,
    pub seed: u64,
    /// 1.0 = off.
    pub repeat_penalty: f32,
    pub repeat_last_n: usize,
    /// Stop when this instant passes.
    pub deadline: Option<Instant>,
    /// Tokens guessed ahead by prompt lookup and checked in one forward
    /// pass (local engine, where [`guessing_available`]; 0 = off). The text
    /// is the model's own either way; guessing saves weight passes where the
    /// answer quotes the prompt.
    pub draft_tokens: usize,
}

impl Default for GenParams {
    fn default() -> Self {
        GenParams {
            max_tokens: 512,
            temperature: 0.0,
            top_p: None,
            seed: 299792458,
            repeat_penalty: 1.1,
            repeat_last_n: 64,
            deadline: None,
            draft_tokens: DRAFT_TOKENS,
        }
    }
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// An end-of-generation token.
    Eos,
    /// `max_tokens` reached.
    Length,
    /// The deadline passed.
    Deadline,
    /// The consumer asked to stop (client went away).
    Cancelled,
    /// Repetition control stopped a loop.
    Repetition,
}

/// Measurements of one generation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GenStats {
    pub prompt_tokens: usize,
    /// Prompt tokens served from a cached prefix (not recomputed).
    pub cached_prompt_tokens: usize,
    pub gen_tokens: usize,
    pub ttft_ms: f64,
    pub prompt_tokens_per_s: f64,
    pub tokens_per_s: f64,
    pub total_ms: f64,
    /// Tokens guessed by prompt lookup and checked by the model.
    #[serde(default)]
    pub draft_tokens: usize,
    /// Of those, the ones the model kept.
    #[serde(default)]
    pub draft_accepted: usize,
    /// Each decoding forward pass: rows fed (1 + tokens guessed) and
    /// milliseconds (local engine only; `bench llm` reports them).
    #[serde(skip)]
    pub passes: Vec<(usize, f64)>,
}

/// The full result of one generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generation {
    pub text: String,
    pub stop: StopReason,
    pub stats: GenStats,
}

/// A text generation engine.
pub trait Backend: Send + Sync {
    /// Short name for logs and metrics (`candle:qwen2.5-coder-1.5b-q4_k_m`).
    fn name(&self) -> String;

    /// Generate a reply to `messages`. `on_text` receives each new piece of
    /// text (always whole UTF-8 characters); returning `false` cancels.
    fn generate(
        &self,
        messages: &[ChatMessage],
        params: &GenParams,
        on_text: &mut dyn FnMut(&str) -> bool,
    ) -> crate::Result<Generation>;

    /// Tokens in `text` for this backend's tokenizer, when it knows (used to
    /// fit retrieved articles into the prompt budget).
    fn count_tokens(&self, text: &str) -> Option<usize> {
        let _ = text;
        None
    }
}
