//! Statute search: the tantivy index over the [`crate::corpus::Corpus`] and
//! everyday-language queries against it.
//!
//! Owns: the schema, the Chinese tokenizer, building the index into a fresh
//! directory and swapping it in, the index manifest, query expansion from
//! colloquial to legal terms, filters and boosts, and exact answers to
//! explicit citations ("民法典第1079条").

use serde::{Deserialize, Serialize};

/// One search result. This is the JSON shape of `lawbrain search --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// Full law name.
    pub law: String,
    /// Arabic article number.
    pub article: u32,
    /// `之一` suffix number (0 for none).
    #[serde(default)]
    pub suffix: u32,
    /// `第一千零七十九条`.
    pub article_label: String,
    pub text: String,
    pub score: f32,
    /// `法律`, `行政法规`, ...
    pub level: String,
    /// `现行有效`, ...
    pub status: String,
}

/// Filters and size of one search.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchOptions {
    /// Number of hits to return.
    pub k: usize,
    /// Only articles of this law (full name or alias).
    pub law: Option<String>,
    /// Only this level (`法律`, `行政法规`, `司法解释`, `地方性法规`).
    pub level: Option<String>,
    /// Only this region (local regulations).
    pub region: Option<String>,
    /// Only articles in force (default true).
    pub in_force_only: bool,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            k: 10,
            law: None,
            level: None,
            region: None,
            in_force_only: true,
        }
    }
}

use crate::corpus::Corpus;
use std::path::Path;

/// What `lawbrain index` writes beside the index (`manifest.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexManifest {
    pub schema_version: u32,
    pub as_of: String,
    pub built_at: String,
    pub build_ms: u64,
    pub laws: usize,
    pub articles: usize,
    /// sha256 pins of the corpus sources the index was built from.
    pub sources: Vec<String>,
}

/// An open index plus the corpus it was built from.
pub struct Searcher {
    corpus: Corpus,
}

impl Searcher {
    /// Open the live index under `index_dir`; a missing or stale index is an
    /// error that names the command to fix it.
    pub fn open(index_dir: &Path) -> crate::Result<Searcher> {
        let _ = index_dir;
        todo!("search helper")
    }

    /// Search with an everyday-language question or an explicit citation.
    pub fn search(&self, query: &str, opts: &SearchOptions) -> crate::Result<Vec<Hit>> {
        let _ = (query, opts);
        todo!("search helper")
    }

    /// The corpus the index was built from.
    pub fn corpus(&self) -> &Corpus {
        &self.corpus
    }
}

/// Build the index for `corpus` into a fresh directory under `index_dir` and
/// swap it in atomically.
pub fn build_index(corpus: &Corpus, index_dir: &Path, sources: Vec<String>) -> crate::Result<IndexManifest> {
    let _ = (corpus, index_dir, sources);
    todo!("search helper")
}

/// Make sure a current index exists under `paths.index`: build it (national
/// corpus from the cache plus `paths.local`) when it is missing or stale.
/// `as_of` defaults to today. Reports progress.
pub fn ensure_index(
    paths: &crate::config::Paths,
    as_of: Option<&str>,
    progress: &mut dyn crate::progress::Progress,
) -> crate::Result<IndexManifest> {
    let _ = (paths, as_of, progress);
    todo!("search helper")
}
