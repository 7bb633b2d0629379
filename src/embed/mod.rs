//! Dense sentence embeddings: multilingual-e5-small (MIT), 4-bit, on the CPU.
//!
//! Owns: reading the packed `E5S1` weight file ([`file`]), the BERT forward
//! pass ([`bert`]), the XLM-R tokenizer (`tokenizer.json`, through the
//! `tokenizers` crate), the `query: ` / `passage: ` prefixes, length caps and
//! length-sorted batching. Both files are pinned assets (`models/manifest.toml`,
//! ids [`MODEL_ASSET`] and [`TOKENIZER_ASSET`]) fetched by `lawbrain setup`.
//!
//! Embeddings are mean-pooled over all tokens (`<s>` and `</s>` included, as
//! the model card's reference code does) and L2-normalised, so a dot product
//! is the cosine similarity.

pub mod bert;
pub mod file;
pub mod ops;

use std::path::{Path, PathBuf};

use tokenizers::Tokenizer;

use crate::error::{Error, Result};
use crate::progress::Progress;

/// Asset id of the packed encoder weights.
pub const MODEL_ASSET: &str = "multilingual-e5-small-q4";
/// Asset id of the encoder's tokenizer.
pub const TOKENIZER_ASSET: &str = "multilingual-e5-small-tokenizer";
/// Embedding width.
pub const DIM: usize = 384;
/// Tokens (with `<s>`, `</s>`) a query is cut to.
pub const QUERY_MAX_TOKENS: usize = 128;
/// Tokens (with `<s>`, `</s>`) a passage is cut to: the head of an article
/// carries its subject, and attention cost grows with the square.
pub const PASSAGE_MAX_TOKENS: usize = 192;
/// Token budget of one batch (padded tokens), for passages.
const BATCH_TOKENS: usize = 2048;

/// Which side of the retrieval pair a text is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Query,
    Passage,
}

impl Kind {
    /// The prefix e5 expects before a text of this kind.
    pub fn prefix(self) -> &'static str {
        match self {
            Kind::Query => "query: ",
            Kind::Passage => "passage: ",
        }
    }
    fn cap(self) -> usize {
        match self {
            Kind::Query => QUERY_MAX_TOKENS,
            Kind::Passage => PASSAGE_MAX_TOKENS,
        }
    }
}

/// The loaded encoder.
pub struct Encoder {
    bert: bert::Bert,
    tokenizer: Tokenizer,
    eos: u32,
    /// sha256 pin of the weights: names the vector space, for caches.
    pub fingerprint: String,
    /// The last few questions embedded (search and triage embed the same
    /// question one after the other).
    recent: std::sync::Mutex<std::collections::VecDeque<(String, Vec<f32>)>>,
}

/// Questions kept in [`Encoder`]'s recent cache.
const RECENT: usize = 32;

/// Where the two encoder files live in the cache, or an error naming
/// `lawbrain setup`.
pub fn asset_paths(cache: &Path) -> Result<(PathBuf, PathBuf)> {
    let m = crate::assets::asset(MODEL_ASSET)?;
    let t = crate::assets::asset(TOKENIZER_ASSET)?;
    Ok((m.require(cache)?, t.require(cache)?))
}

impl Encoder {
    /// Load the pinned encoder from the asset cache.
    pub fn from_cache(cache: &Path) -> Result<Encoder> {
        let (model, tok) = asset_paths(cache)?;
        let pin = crate::assets::asset(MODEL_ASSET)?.sha256;
        Encoder::load(&model, &tok, &pin)
    }

    /// Load from explicit files; `fingerprint` names the weights.
    pub fn load(model: &Path, tokenizer: &Path, fingerprint: &str) -> Result<Encoder> {
        let t0 = std::time::Instant::now();
        let data = std::fs::read(model).map_err(|e| Error::MissingAsset {
            what: format!("dense encoder ({e})"),
            path: model.to_path_buf(),
            fix: "lawbrain setup".into(),
        })?;
        let file = file::E5File::parse(data)?;
        if file.config.hidden != DIM {
            return Err(Error::Model(format!(
                "dense encoder has width {}, expected {DIM}",
                file.config.hidden
            )));
        }
        let bert = bert::Bert::load(&file)?;
        drop(file);
        let mut tokenizer = Tokenizer::from_file(tokenizer).map_err(|e| {
            Error::Model(format!(
                "dense encoder tokenizer {} unreadable ({e}): run `lawbrain setup`",
                tokenizer.display()
            ))
        })?;
        tokenizer
            .with_truncation(None)
            .map_err(|e| Error::Model(format!("tokenizer: {e}")))?;
        tokenizer.with_padding(None);
        let eos = tokenizer
            .token_to_id("</s>")
            .ok_or_else(|| Error::Model("tokenizer has no </s>".into()))?;
        tracing::debug!(ms = t0.elapsed().as_millis() as u64, "dense encoder loaded");
        Ok(Encoder {
            bert,
            tokenizer,
            eos,
            fingerprint: fingerprint.to_string(),
            recent: std::sync::Mutex::new(std::collections::VecDeque::new()),
        })
    }

    /// Token ids of `text` as the model sees it: prefix, `<s>`, `</s>`, cut
    /// to the cap for its kind (the cut keeps the head and the closing `</s>`).
    pub fn tokens(&self, text: &str, kind: Kind) -> Result<Vec<u32>> {
        let full = format!("{}{}", kind.prefix(), text);
        let enc = self
            .tokenizer
            .encode(full.as_str(), true)
            .map_err(|e| Error::Model(format!("tokenizing: {e}")))?;
        let mut ids = enc.get_ids().to_vec();
        let cap = kind.cap().min(self.bert.config.max_positions);
        if ids.len() > cap {
            ids.truncate(cap - 1);
            ids.push(self.eos);
        }
        Ok(ids)
    }

    /// Embedding of one question (recent questions come from a small cache).
    pub fn embed_query(&self, text: &str) -> Result<Vec<f32>> {
        {
            let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((_, v)) = recent.iter().find(|(t, _)| t == text) {
                return Ok(v.clone());
            }
        }
        let ids = self.tokens(text, Kind::Query)?;
        let v = self.bert.forward(&[ids])?.pop().unwrap_or_default();
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if recent.len() >= RECENT {
            recent.pop_front();
        }
        recent.push_back((text.to_string(), v.clone()));
        Ok(v)
    }

    /// Empty the recent-questions cache (benchmarks time real embeddings).
    pub fn forget_recent(&self) {
        self.recent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Embeddings of many texts, in input order. Texts are sorted by length
    /// and run in batches of about [`BATCH_TOKENS`] padded tokens.
    pub fn embed(
        &self,
        texts: &[&str],
        kind: Kind,
        progress: &mut dyn Progress,
    ) -> Result<Vec<Vec<f32>>> {
        let seqs: Vec<Vec<u32>> = texts
            .iter()
            .map(|t| self.tokens(t, kind))
            .collect::<Result<_>>()?;
        let mut order: Vec<usize> = (0..seqs.len()).collect();
        order.sort_by_key(|&i| seqs[i].len());
        let mut out = vec![Vec::new(); seqs.len()];
        let mut at = 0;
        while at < order.len() {
            // Sorted ascending: the last member of a batch is its longest.
            let mut end = at + 1;
            while end < order.len() && seqs[order[end]].len() * (end - at + 1) <= BATCH_TOKENS {
                end += 1;
            }
            let batch: Vec<Vec<u32>> = order[at..end].iter().map(|&i| seqs[i].clone()).collect();
            let vecs = self.bert.forward(&batch)?;
            for (&i, v) in order[at..end].iter().zip(vecs) {
                out[i] = v;
            }
            progress.advance((end - at) as u64);
            at = end;
        }
        Ok(out)
    }
}

/// Dot product of two equal-length vectors (cosine for normalised ones).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    lawbrain_kernels::dot(a, b)
}
