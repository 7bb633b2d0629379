//! Where lawbrain keeps things: the asset cache, the index, local regulations.
//!
//! Defaults follow the design card: downloaded assets live in the XDG cache
//! (`$XDG_CACHE_HOME/lawbrain`, override with `LAWBRAIN_CACHE`), built indexes
//! in `index/` and user-supplied regulations in `corpus/local/` under the
//! working directory (override with `LAWBRAIN_INDEX`, `LAWBRAIN_LOCAL`).

use std::path::PathBuf;

/// Resolved paths for one run.
#[derive(Debug, Clone)]
pub struct Paths {
    /// Downloaded and derived assets (laws.db, GGUF files). Outside the repo.
    pub cache: PathBuf,
    /// The built search index directory (`index/current` inside it is live).
    pub index: PathBuf,
    /// Folder of local/administrative regulation files to import.
    pub local: PathBuf,
    /// Runtime data: the service database, eval reports.
    pub data: PathBuf,
}

impl Paths {
    /// Paths from the environment, falling back to the defaults.
    pub fn from_env() -> Self {
        let cache = std::env::var_os("LAWBRAIN_CACHE")
            .map(PathBuf::from)
            .or_else(|| dirs::cache_dir().map(|d| d.join("lawbrain")))
            .unwrap_or_else(|| PathBuf::from(".cache/lawbrain"));
        let index = std::env::var_os("LAWBRAIN_INDEX")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("index"));
        let local = std::env::var_os("LAWBRAIN_LOCAL")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("corpus/local"));
        let data = std::env::var_os("LAWBRAIN_DATA")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("data"));
        Paths {
            cache,
            index,
            local,
            data,
        }
    }

    /// The unpacked national law database.
    pub fn laws_db(&self) -> PathBuf {
        self.cache.join("corpus").join("laws.db")
    }

    /// Directory holding model files.
    pub fn models(&self) -> PathBuf {
        self.cache.join("models")
    }
}
