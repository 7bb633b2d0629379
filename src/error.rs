//! The one error type of the lawbrain library.
//!
//! Every library module returns [`Result<T>`]; the binary turns these into
//! `anyhow` errors at the edge. Variants carry a message a user can act on:
//! a missing asset says which command fetches it.

use std::path::PathBuf;

/// Library result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong inside lawbrain.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory that `lawbrain setup` / `lawbrain index` produces is missing.
    #[error("{what} not found at {path}: run `{fix}` first")]
    MissingAsset {
        what: String,
        path: PathBuf,
        fix: String,
    },
    /// The search index was built by another schema or from another corpus.
    #[error("the search index at {path} is stale ({reason}): run `lawbrain index` to rebuild it")]
    StaleIndex { path: PathBuf, reason: String },
    /// A downloaded file did not have the pinned checksum.
    #[error("checksum mismatch for {file}: expected {expected}, got {actual}")]
    Checksum {
        file: String,
        expected: String,
        actual: String,
    },
    /// Fetching assets failed (pip missing, no network, ...).
    #[error("fetch failed: {0}")]
    Fetch(String),
    /// Input from a user or a client was not acceptable.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A law or article that does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The corpus database or a regulation file could not be read.
    #[error("corpus: {0}")]
    Corpus(String),
    /// Model loading or generation failed.
    #[error("model: {0}")]
    Model(String),
    /// A remote generation engine could not be reached or failed.
    #[error("remote engine: {0}")]
    Remote(String),
    /// Generation was cancelled or ran past its deadline.
    #[error("generation stopped: {0}")]
    Cancelled(String),
    /// The storage database failed.
    #[error("storage: {0}")]
    Store(String),
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgres: {0}")]
    Postgres(#[from] postgres::Error),
    /// The storage server cannot be reached (connection lost, thread gone).
    #[error("storage unavailable: {0}")]
    StorageDown(String),
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("toml: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// Wrap an I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// Extension to attach context to I/O results.
pub trait IoContext<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for std::result::Result<T, std::io::Error> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::io(context(), e))
    }
}
