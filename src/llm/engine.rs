//! The local candle engine: one loaded GGUF model behind a mutex (the model
//! and its KV cache are not shareable), implementing [`Backend`].

use std::collections::VecDeque;
use std::fs::File;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use candle_core::quantized::gguf_file;
use candle_core::{Device, Tensor};

use super::lookup;
use super::qwen2::{Memory, Qwen2};
use super::sampling::{loop_tail, Sampler};
use super::template::chatml;
use super::tokens::{Tokens, Utf8Stream};
use super::{Backend, ChatMessage, GenParams, GenStats, Generation, StopReason};
use crate::error::{Error, IoContext, Result};

/// Prompt tokens fed to the model per forward call.
const PROMPT_CHUNK: usize = 128;
/// A verbatim repeat must cover this many tokens to count as a loop.
const LOOP_SPAN: usize = 24;

/// Options for loading the engine.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// CPU threads (default: all cores).
    pub threads: Option<usize>,
    /// Load the file's tensors as they are, without the Q5 -> Q8_0 re-encode.
    pub keep_quantization: bool,
    /// Prompt speed vs resident memory.
    pub memory: Memory,
}

struct State {
    model: Qwen2,
    /// Token ids whose keys/values are in the model's cache.
    cached: Vec<u32>,
}

/// A Qwen2 GGUF model on the CPU.
pub struct CandleEngine {
    name: String,
    tokens: Arc<Tokens>,
    state: Mutex<State>,
    /// Milliseconds it took to load.
    pub load_ms: f64,
}

impl CandleEngine {
    /// Load a GGUF file (Q5 tensors are re-encoded to Q8_0 once, see
    /// [`super::files::fast_variant`]).
    pub fn load(path: &Path, opts: &EngineOptions) -> Result<Self> {
        let t0 = Instant::now();
        let path = if opts.keep_quantization {
            path.to_path_buf()
        } else {
            super::files::fast_variant(path)?
        };
        let mut f = File::open(&path).ctx(|| format!("opening model {}", path.display()))?;
        let ct = gguf_file::Content::read(&mut f)
            .map_err(|e| Error::Model(format!("reading GGUF {}: {e}", path.display())))?;
        let tokens = Arc::new(Tokens::from_gguf(&ct)?);
        if let Some(n) = opts.threads.filter(|n| *n > 0) {
            // The quantized kernels run on candle's own pool, sized from
            // CANDLE_NUM_THREADS on first use (the binary sets it); the
            // element-wise and f32 matmul ops on rayon's global pool, which
            // can be sized once per process, before first use.
            if let Err(e) = rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build_global()
            {
                tracing::warn!(threads = n, error = %e, "thread count not applied (pool already running)");
            }
        }
        let model = Qwen2::from_gguf(&ct, &mut f, &Device::Cpu, opts.memory)?;
        let stem = path
            .file_name()
            .and_then(|s| s.to_str())
            .unwrap_or("model")
            .trim_end_matches(".gguf")
            .to_string();
        let load_ms = ms_since(t0);
        tracing::info!(model = %path.display(), load_ms, "model loaded");
        Ok(CandleEngine {
            name: format!("candle:{stem}"),
            tokens,
            state: Mutex::new(State {
                model,
                cached: Vec::new(),
            }),
            load_ms,
        })
    }

    /// Resolve `source` (see [`super::files::resolve`]) and load it.
    pub fn from_source(
        source: &super::ModelSource,
        cache: &Path,
        opts: &EngineOptions,
    ) -> Result<Self> {
        let path = super::files::resolve(source, cache, None)?;
        Self::load(&path, opts)
    }

    /// Forget the KV cache (the next prompt is computed from scratch).
    pub fn reset_cache(&self) -> Result<()> {
        let mut st = self
            .state
            .lock()
            .map_err(|_| Error::Model("engine state poisoned by an earlier panic".into()))?;
        st.model.truncate_cache(0)?;
        st.cached.clear();
        Ok(())
    }

    /// See [`Qwen2::probe_matvec`]: bytes of weights per decode step and
    /// seconds to stream them once through the mat-vec kernels.
    pub fn probe_matvec(&self, reps: usize) -> Result<(usize, f64)> {
        let st = self
            .state
            .lock()
            .map_err(|_| Error::Model("engine state poisoned by an earlier panic".into()))?;
        Ok(st.model.probe_matvec(reps)?)
    }

    /// The tokenizer and stop ids.
    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    /// Tokens in `text`.
    pub fn count_tokens(&self, text: &str) -> Result<usize> {
        Ok(self.tokens.encode(text)?.len())
    }

    /// Generate from an already rendered prompt.
    pub fn generate_prompt(
        &self,
        prompt: &str,
        params: &GenParams,
        on_text: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Generation> {
        let ids = self.tokens.encode(prompt)?;
        self.run(&ids, params, on_text)
    }

    fn run(
        &self,
        ids: &[u32],
        params: &GenParams,
        on_text: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Generation> {
        let t0 = Instant::now();
        let mut st = self
            .state
            .lock()
            .map_err(|_| Error::Model("engine state poisoned by an earlier panic".into()))?;
        if ids.is_empty() {
            return Err(Error::InvalidInput("empty prompt".into()));
        }
        let max_pos = st.model.max_positions();
        if ids.len() >= max_pos {
            return Err(Error::InvalidInput(format!(
                "prompt of {} tokens does not fit the context of {max_pos}",
                ids.len()
            )));
        }
        let max_tokens = params.max_tokens.min(max_pos - ids.len());
        let mut stats = GenStats {
            prompt_tokens: ids.len(),
            ..GenStats::default()
        };
        let past = |d: Option<Instant>| d.is_some_and(|d| Instant::now() >= d);
        if past(params.deadline) || max_tokens == 0 {
            return Ok(Generation {
                text: String::new(),
                stop: if max_tokens == 0 {
                    StopReason::Length
                } else {
                    StopReason::Deadline
                },
                stats,
            });
        }
        let result = self.decode(&mut st, ids, max_tokens, params, on_text, &mut stats, t0);
        if result.is_err() {
            // The cache may hold half a step: forget it.
            let _ = st.model.truncate_cache(0);
            st.cached.clear();
        }
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn decode(
        &self,
        st: &mut State,
        ids: &[u32],
        max_tokens: usize,
        params: &GenParams,
        on_text: &mut dyn FnMut(&str) -> bool,
        stats: &mut GenStats,
        t0: Instant,
    ) -> Result<Generation> {
        let past = |d: Option<Instant>| d.is_some_and(|d| Instant::now() >= d);
        // Reuse the cached prefix; always recompute at least the last token.
        let common = st
            .cached
            .iter()
            .zip(ids)
            .take_while(|(a, b)| a == b)
            .count()
            .min(ids.len() - 1);
        st.model.truncate_cache(common)?;
        st.cached.truncate(common);
        stats.cached_prompt_tokens = common;
        let mut logits = None;
        for chunk in ids[common..].chunks(PROMPT_CHUNK) {
            logits = Some(st.model.forward(chunk)?);
            st.cached.extend_from_slice(chunk);
            if past(params.deadline) {
                break;
            }
        }
        let prompt_s = t0.elapsed().as_secs_f64();
        let fed = ids.len() - common;
        stats.prompt_tokens_per_s = if prompt_s > 0.0 {
            fed as f64 / prompt_s
        } else {
            0.0
        };
        let mut logits = logits.ok_or_else(|| Error::Model("no logits".into()))?;
        if st.cached.len() < ids.len() {
            stats.total_ms = ms_since(t0);
            return Ok(Generation {
                text: String::new(),
                stop: StopReason::Deadline,
                stats: stats.clone(),
            });
        }
        let mut sampler = Sampler::new(params);
        let mut generated: Vec<u32> = Vec::new();
        let mut utf8 = Utf8Stream::default();
        let mut text = String::new();
        // Prompt-lookup guesses already fed to the model, and the logits
        // after each: a guess is kept while the model picks it.
        let mut guessed: VecDeque<(u32, Tensor)> = VecDeque::new();
        let gen_start = Instant::now();
        let stop = loop {
            let next = sampler.next(&logits, &generated)?;
            if generated.is_empty() {
                stats.ttft_ms = ms_since(t0);
            }
            if self.tokens.is_eog(next) {
                break StopReason::Eos;
            }
            generated.push(next);
            let piece = utf8.push(self.tokens.token_bytes(next));
            if !piece.is_empty() {
                text.push_str(&piece);
                if !on_text(&piece) {
                    break StopReason::Cancelled;
                }
            }
            if loop_tail(&generated, LOOP_SPAN).is_some() {
                break StopReason::Repetition;
            }
            if generated.len() >= max_tokens {
                break StopReason::Length;
            }
            if past(params.deadline) {
                break StopReason::Deadline;
            }
            match guessed.pop_front() {
                Some((g, after)) if g == next => {
                    stats.draft_accepted += 1;
                    logits = after;
                    continue;
                }
                Some(_) => {
                    // A wrong guess: it and the guesses after it leave the cache.
                    let keep = st.cached.len() - guessed.len() - 1;
                    st.model.truncate_cache(keep)?;
                    st.cached.truncate(keep);
                    guessed.clear();
                }
                None => {}
            }
            let room = max_tokens - generated.len();
            // `next` is fed below, with any guesses (after an error `run`
            // forgets the cache and this list together).
            st.cached.push(next);
            let draft = if params.draft_tokens > 0 && super::guessing_available() {
                let most = params.draft_tokens.min(super::MAX_DRAFT_TOKENS);
                lookup::draft(&st.cached, most.min(room))
            } else {
                Vec::new()
            };
            let pass = Instant::now();
            if draft.is_empty() {
                logits = st.model.forward(&[next])?;
                stats.passes.push((1, ms_since(pass)));
                continue;
            }
            let mut feed = Vec::with_capacity(draft.len() + 1);
            feed.push(next);
            feed.extend_from_slice(&draft);
            let rows = st.model.forward_all(&feed)?;
            stats.passes.push((feed.len(), ms_since(pass)));
            st.cached.extend_from_slice(&draft);
            stats.draft_tokens += draft.len();
            logits = rows.get(0)?;
            for (i, g) in draft.into_iter().enumerate() {
                guessed.push_back((g, rows.get(i + 1)?));
            }
        };
        let rest = utf8.finish();
        if !rest.is_empty() && stop != StopReason::Cancelled {
            text.push_str(&rest);
            on_text(&rest);
        }
        let gen_s = gen_start.elapsed().as_secs_f64();
        stats.gen_tokens = generated.len();
        // The first token came from the prompt pass; later ones from single steps.
        stats.tokens_per_s = if gen_s > 0.0 && generated.len() > 1 {
            (generated.len() - 1) as f64 / gen_s
        } else {
            0.0
        };
        stats.total_ms = ms_since(t0);
        Ok(Generation {
            text,
            stop,
            stats: stats.clone(),
        })
    }
}

impl Backend for CandleEngine {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn generate(
        &self,
        messages: &[ChatMessage],
        params: &GenParams,
        on_text: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Generation> {
        self.generate_prompt(&chatml(messages), params, on_text)
    }

    fn count_tokens(&self, text: &str) -> Option<usize> {
        self.tokens.encode(text).ok().map(|v| v.len())
    }
}

/// Milliseconds since `t`.
fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}
