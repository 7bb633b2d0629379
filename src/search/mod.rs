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
    /// Cosine of the question with the article under the dense encoder,
    /// when dense retrieval was on (a relevance signal for later stages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dense: Option<f32>,
    /// The learned reranker's probability that this article governs the
    /// question, when the reranker ordered the results (hybrid retrieval).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerank: Option<f32>,
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
    /// The dense index of this build, once it is ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dense: Option<DenseManifest>,
}

pub mod adapter;
mod build;
mod citation;
pub mod dense;
mod expand;
pub mod fusion;
pub mod overlap;
mod query;
pub mod rerank;
mod schema;
pub mod topics;

pub use dense::{DenseIndex, DenseManifest};
pub use fusion::Fusion;

pub use build::{live_dir, local_fingerprint, read_manifest, rebuild, sources as index_sources};
pub use citation::parse_number;
pub use expand::{Rule as ExpansionRule, EXPANSIONS};
pub use query::Tuning;
pub use schema::{tokenize, SCHEMA_VERSION};

use crate::embed::Encoder;
use crate::error::Error;
use std::sync::{Arc, RwLock};

/// Dense retrieval, once attached: the article vectors and the encoder that
/// embeds questions into the same space.
pub struct Dense {
    pub index: DenseIndex,
    pub encoder: Arc<Encoder>,
    pub manifest: DenseManifest,
}

/// Which retrieval is live (for `/healthz`, `/metrics`, `search --json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// BM25 with expansions only.
    Lexical,
    /// Lexical while the dense index is being built in the background.
    LexicalBuildingDense,
    /// Lexical and dense, fused.
    Hybrid,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Lexical => "lexical",
            Mode::LexicalBuildingDense => "lexical (dense index building)",
            Mode::Hybrid => "hybrid",
        }
    }
}

/// The two candidate lists of one question, before fusion (doc ids index
/// `corpus.articles` then `corpus.other_versions`).
#[derive(Debug, Clone, Default)]
pub struct Candidates {
    /// The question as searched.
    pub question: String,
    /// Exact answers to explicit citations, always first.
    pub cited: Vec<Hit>,
    pub lexical: Vec<(usize, f32)>,
    pub dense: Vec<(usize, f32)>,
    /// The question's embedding, when dense retrieval ran.
    pub query_vec: Option<Vec<f32>>,
}

/// Whether the learned reranker orders hybrid results (`LAWBRAIN_NO_RERANK=1`
/// turns it off, for comparison).
pub fn rerank_enabled() -> bool {
    std::env::var_os("LAWBRAIN_NO_RERANK").is_none_or(|v| v != "1")
}

/// The reranker hybrid results go through, unless turned off.
fn active_reranker() -> Option<&'static rerank::Reranker> {
    rerank::Reranker::builtin().filter(|_| rerank_enabled())
}

/// An open index plus the corpus it was built from.
pub struct Searcher {
    corpus: Corpus,
    manifest: IndexManifest,
    #[allow(dead_code)]
    index: tantivy::Index,
    reader: tantivy::IndexReader,
    fields: schema::Fields,
    data: query::QueryData,
    live: std::path::PathBuf,
    dense: RwLock<Option<Arc<Dense>>>,
    building: std::sync::atomic::AtomicBool,
    fusion: Fusion,
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
            live,
            dense: RwLock::new(None),
            building: std::sync::atomic::AtomicBool::new(false),
            fusion: Fusion::default(),
        })
    }

    /// Attach dense retrieval: load this build's dense index, or embed the
    /// articles the vector store in `cache` lacks (slow the first time on a
    /// machine; reports progress) and write it. Search stays lexical until
    /// this returns.
    pub fn attach_dense(
        &self,
        encoder: Arc<Encoder>,
        cache: &Path,
        progress: &mut dyn crate::progress::Progress,
    ) -> crate::Result<DenseManifest> {
        use std::sync::atomic::Ordering;
        self.building.store(true, Ordering::SeqCst);
        let result = self.load_or_build_dense(encoder, cache, progress);
        self.building.store(false, Ordering::SeqCst);
        result
    }

    fn load_or_build_dense(
        &self,
        encoder: Arc<Encoder>,
        cache: &Path,
        progress: &mut dyn crate::progress::Progress,
    ) -> crate::Result<DenseManifest> {
        let loaded = DenseIndex::load(&self.live, &self.corpus, &encoder.fingerprint)?;
        let (index, manifest) = match (loaded, &self.manifest.dense) {
            (Some(index), Some(m)) if m.encoder == encoder.fingerprint => (index, m.clone()),
            _ => {
                let (index, m) =
                    dense::ensure(&self.live, &self.corpus, &encoder, cache, progress)?;
                build::record_dense(&self.live, &m)?;
                (index, m)
            }
        };
        let d = Dense {
            index,
            encoder,
            manifest: manifest.clone(),
        };
        *self.dense.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(d));
        Ok(manifest)
    }

    /// Whether this build already has a dense index on disk for `encoder`
    /// (attaching is then fast).
    pub fn has_dense_on_disk(&self, encoder: &Encoder) -> bool {
        self.manifest
            .dense
            .as_ref()
            .is_some_and(|m| m.encoder == encoder.fingerprint)
            && self.live.join(dense::DENSE_FILE).is_file()
    }

    /// The attached dense retrieval, if any.
    pub fn dense(&self) -> Option<Arc<Dense>> {
        self.dense.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// What decides this searcher's rankings, for telling runs apart (eval
    /// checkpoints): the mode, the index build, the fusion settings and the
    /// reranker in use.
    pub fn describe(&self) -> String {
        let rr = match active_reranker() {
            Some(m) => m.fingerprint(),
            None => "none".into(),
        };
        format!(
            "{:?} index {} fusion {:?} reranker {rr}",
            self.mode(),
            self.manifest.built_at,
            self.fusion
        )
    }

    /// Which retrieval is live.
    pub fn mode(&self) -> Mode {
        if self.dense().is_some() {
            Mode::Hybrid
        } else if self.building.load(std::sync::atomic::Ordering::SeqCst) {
            Mode::LexicalBuildingDense
        } else {
            Mode::Lexical
        }
    }

    /// Replace the fusion parameters (for tuning experiments).
    pub fn set_fusion(&mut self, f: Fusion) {
        self.fusion = f;
    }

    /// The fusion parameters in use.
    pub fn fusion(&self) -> &Fusion {
        &self.fusion
    }

    /// Search with an everyday-language question or an explicit citation.
    /// Explicit citations are answered exactly and come first; the rest is
    /// the lexical ranking fused with the dense one when dense is attached.
    pub fn search(&self, query: &str, opts: &SearchOptions) -> crate::Result<Vec<Hit>> {
        let c = self.candidates(query, opts, self.fusion.pool.max(opts.k))?;
        Ok(self.fused_hits(&c, opts.k, &self.fusion))
    }

    /// The candidate lists of a question: exact citation hits, the lexical
    /// ranking and (when attached) the dense ranking, `pool` deep each.
    pub fn candidates(
        &self,
        query: &str,
        opts: &SearchOptions,
        pool: usize,
    ) -> crate::Result<Candidates> {
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
        let mut cited: Vec<Hit> = query::citation_hits(&self.corpus, &self.data, &query, opts)
            .into_iter()
            .filter(|h| {
                self.corpus
                    .articles
                    .iter()
                    .chain(self.corpus.other_versions.iter())
                    .find(|a| a.law == h.law && a.article == h.article && h.suffix == a.suffix)
                    .is_some_and(|a| query::passes(a, opts, law.as_deref()))
            })
            .collect();
        cited.truncate(k);
        let mut out = Candidates {
            question: query.clone(),
            cited,
            ..Candidates::default()
        };
        if out.cited.len() >= k {
            return Ok(out);
        }
        // The lexical search (a few ms) runs while the question is embedded.
        let dense = self.dense();
        let lexical = || -> crate::Result<Vec<(usize, f32)>> {
            let analysed = query::analyse(&self.data, &query);
            if analysed.terms.is_empty() {
                return Ok(Vec::new());
            }
            let named = query::named_laws(&self.data, &query);
            let boosts = query::law_boosts(&self.data, &named, &analysed.rules);
            let q = query::build_query(&self.fields, &self.data, &analysed, opts, law.as_deref());
            let searcher = self.reader.searcher();
            query::rank(&searcher, &self.data, &q, &boosts, pool)
        };
        let embed = || dense.as_ref().map(|d| d.encoder.embed_query(&query));
        let (lexical, qv) = rayon::join(lexical, embed);
        out.lexical = lexical?;
        if let (Some(d), Some(qv)) = (&dense, qv) {
            let qv = qv?;
            let arts = &self.corpus.articles;
            out.dense = d.index.top(&qv, pool, |i| {
                arts.get(i)
                    .is_some_and(|a| query::passes(a, opts, law.as_deref()))
            });
            out.query_vec = Some(qv);
        }
        Ok(out)
    }

    /// Fuse candidate lists into `k` hits (citations first).
    pub fn fused_hits(&self, c: &Candidates, k: usize, f: &Fusion) -> Vec<Hit> {
        let mut hits = c.cited.clone();
        let dense = self.dense();
        let cosine = |doc: usize| -> Option<f32> {
            let (d, q) = (dense.as_ref()?, c.query_vec.as_ref()?);
            (doc < d.index.len()).then(|| d.index.score(q, doc))
        };
        let mut reranked = false;
        let fused = if c.dense.is_empty() {
            c.lexical.clone()
        } else {
            let fused = fusion::fuse(&c.lexical, &c.dense, f);
            // The reranker was trained on hybrid lists: lexical-only lists
            // keep their order.
            match active_reranker() {
                Some(m) => {
                    reranked = true;
                    m.rerank(
                        &self.corpus,
                        &rerank::Lists {
                            question: &c.question,
                            fused: &fused,
                            lexical: &c.lexical,
                            dense: &c.dense,
                            query_vec: c.query_vec.as_deref(),
                        },
                    )
                }
                None => fused,
            }
        };
        for (doc, score) in fused {
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
            let mut h = query::hit(a, score);
            h.dense = cosine(doc);
            // The reranker's scores are 1 + its probability; the tail past
            // its depth keeps the fused scores (below 1) and no probability.
            h.rerank = (reranked && score >= 1.0).then(|| rerank::probability(score));
            hits.push(h);
        }
        hits
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
