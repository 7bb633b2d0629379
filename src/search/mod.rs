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

mod build;
mod citation;
mod expand;
mod query;
mod schema;

pub use build::{live_dir, local_fingerprint, read_manifest, sources as index_sources};
pub use citation::parse_number;
pub use expand::{Rule as ExpansionRule, EXPANSIONS};
pub use query::Tuning;
pub use schema::{tokenize, SCHEMA_VERSION};

use crate::error::Error;

/// An open index plus the corpus it was built from.
pub struct Searcher {
    corpus: Corpus,
    manifest: IndexManifest,
    #[allow(dead_code)]
    index: tantivy::Index,
    reader: tantivy::IndexReader,
    fields: schema::Fields,
    data: query::QueryData,
}

impl Searcher {
    /// Open the live index under `index_dir`; a missing or stale index is an
    /// error that names the command to fix it.
    pub fn open(index_dir: &Path) -> crate::Result<Searcher> {
        let manifest = build::read_manifest(index_dir)?;
        let stale = |reason: String| Error::StaleIndex {
            path: index_dir.to_path_buf(),
            reason,
        };
        if manifest.schema_version != SCHEMA_VERSION {
            return Err(stale(format!(
                "schema version {} but this lawbrain uses {}",
                manifest.schema_version, SCHEMA_VERSION
            )));
        }
        let live = build::live_dir(index_dir).ok_or_else(|| stale("no live build".into()))?;
        let corpus = build::load_corpus(&live.join(build::CORPUS))
            .map_err(|e| stale(format!("corpus: {e}")))?;
        let index = tantivy::Index::open_in_dir(live.join(build::TANTIVY))
            .map_err(|e| stale(format!("index: {e}")))?;
        schema::register(&index);
        let (_, fields) = schema::schema();
        let reader = index
            .reader_builder()
            .reload_policy(tantivy::ReloadPolicy::Manual)
            .try_into()?;
        let docs = reader.searcher().num_docs() as usize;
        let expected = corpus.articles.len() + corpus.other_versions.len();
        if docs != expected {
            return Err(stale(format!(
                "{docs} documents but the corpus has {expected} articles"
            )));
        }
        let data = query::QueryData::new(&corpus);
        Ok(Searcher {
            corpus,
            manifest,
            index,
            reader,
            fields,
            data,
        })
    }

    /// Search with an everyday-language question or an explicit citation.
    pub fn search(&self, query: &str, opts: &SearchOptions) -> crate::Result<Vec<Hit>> {
        let query = query.trim();
        if query.is_empty() {
            return Err(Error::InvalidInput("empty search query".into()));
        }
        // Long pastes: the first 1000 characters carry the question.
        let query: String = query.chars().take(1000).collect();
        let law = match &opts.law {
            Some(l) => Some(
                self.corpus
                    .resolve_law(l)
                    .map(|i| i.name.clone())
                    .ok_or_else(|| Error::NotFound(format!("law {l}")))?,
            ),
            None => None,
        };
        let k = opts.k.max(1);
        let mut hits: Vec<Hit> = query::citation_hits(&self.corpus, &self.data, &query, opts)
            .into_iter()
            .filter(|h| {
                self.corpus
                    .articles
                    .iter()
                    .chain(self.corpus.other_versions.iter())
                    .find(|a| a.law == h.law && a.article == h.article && a.suffix == h.suffix)
                    .is_some_and(|a| query::passes(a, opts, law.as_deref()))
            })
            .collect();
        hits.truncate(k);
        if hits.len() >= k {
            return Ok(hits);
        }
        let analysed = query::analyse(&self.data, &query);
        if analysed.terms.is_empty() {
            return Ok(hits);
        }
        let named = query::named_laws(&self.data, &query);
        let boosts = query::law_boosts(&self.data, &named, &analysed.rules);
        let q = query::build_query(&self.fields, &self.data, &analysed, opts, law.as_deref());
        let searcher = self.reader.searcher();
        let ranked = query::rank(&searcher, &self.data, &q, &boosts, k + hits.len())?;
        for (doc, score) in ranked {
            if hits.len() >= k {
                break;
            }
            let Some(a) = query::doc_article(&self.corpus, doc) else {
                continue;
            };
            if hits
                .iter()
                .any(|h| h.law == a.law && h.article == a.article && h.suffix == a.suffix)
            {
                continue;
            }
            hits.push(query::hit(a, score));
        }
        Ok(hits)
    }

    /// The corpus the index was built from.
    pub fn corpus(&self) -> &Corpus {
        &self.corpus
    }

    /// The manifest of the open index.
    pub fn manifest(&self) -> &IndexManifest {
        &self.manifest
    }

    /// Replace the ranking knobs (for tuning experiments).
    pub fn set_tuning(&mut self, t: Tuning) {
        self.data.tuning = t;
    }

    /// The ranking knobs in use.
    pub fn tuning(&self) -> &Tuning {
        &self.data.tuning
    }
}

/// Build the index for `corpus` into a fresh directory under `index_dir` and
/// swap it in atomically.
pub fn build_index(
    corpus: &Corpus,
    index_dir: &Path,
    sources: Vec<String>,
) -> crate::Result<IndexManifest> {
    build::build(corpus, index_dir, sources, &mut crate::progress::NoProgress)
}

/// [`build_index`] reporting progress.
pub fn build_index_with_progress(
    corpus: &Corpus,
    index_dir: &Path,
    sources: Vec<String>,
    progress: &mut dyn crate::progress::Progress,
) -> crate::Result<IndexManifest> {
    build::build(corpus, index_dir, sources, progress)
}

/// Make sure a current index exists under `paths.index`: build it (national
/// corpus from the cache plus `paths.local`) when it is missing or stale.
/// `as_of` defaults to today. Reports progress.
pub fn ensure_index(
    paths: &crate::config::Paths,
    as_of: Option<&str>,
    progress: &mut dyn crate::progress::Progress,
) -> crate::Result<IndexManifest> {
    build::ensure(paths, as_of, progress)
}
