//! Building the index: a fresh `build-<time>` directory under the index
//! directory holds the tantivy files (`tantivy/`), `manifest.json` and the
//! corpus (`corpus.json`); a `current` link is swapped to it atomically and
//! older builds are removed. Also [`ensure_index`]: build when missing or stale.

use std::path::{Path, PathBuf};
use std::time::Instant;

use tantivy::{doc, Index};

use super::schema::{self, SCHEMA_VERSION};
use super::IndexManifest;
use crate::corpus::{Article, ArticleKind, Corpus};
use crate::error::{Error, IoContext, Result};
use crate::progress::Progress;

/// Name of the live link (or pointer file) inside the index directory.
pub const CURRENT: &str = "current";
/// Manifest file inside a build directory.
pub const MANIFEST: &str = "manifest.json";
/// Corpus file inside a build directory.
pub const CORPUS: &str = "corpus.json";
/// Tantivy directory inside a build directory.
pub const TANTIVY: &str = "tantivy";

/// Writer memory budget (split across threads).
const WRITER_HEAP: usize = 256 * 1024 * 1024;

/// The live build directory, if any.
pub fn live_dir(index_dir: &Path) -> Option<PathBuf> {
    let cur = index_dir.join(CURRENT);
    if cur.is_dir() {
        return Some(cur);
    }
    if cur.is_file() {
        let name = std::fs::read_to_string(&cur).ok()?;
        let dir = index_dir.join(name.trim());
        return dir.is_dir().then_some(dir);
    }
    None
}

/// Read the manifest of the live index.
pub fn read_manifest(index_dir: &Path) -> Result<IndexManifest> {
    let missing = || Error::MissingAsset {
        what: "search index".into(),
        path: index_dir.to_path_buf(),
        fix: "lawbrain index".into(),
    };
    let live = live_dir(index_dir).ok_or_else(missing)?;
    let path = live.join(MANIFEST);
    let text = std::fs::read_to_string(&path).map_err(|_| missing())?;
    serde_json::from_str(&text).map_err(|e| Error::StaleIndex {
        path: index_dir.to_path_buf(),
        reason: format!("unreadable manifest: {e}"),
    })
}

/// Text of the heading path, for the `heads` field.
fn heads_text(a: &Article) -> String {
    a.path.join(" ")
}

fn kind_str(k: ArticleKind) -> &'static str {
    match k {
        ArticleKind::Article => "article",
        ArticleKind::AmendmentItem => "amendment_item",
        ArticleKind::FullText => "full_text",
    }
}

/// Law name plus its aliases, for the `law_name` field.
fn law_names(corpus: &Corpus) -> std::collections::HashMap<&str, String> {
    corpus
        .laws
        .iter()
        .map(|l| {
            let mut s = l.name.clone();
            for a in &l.aliases {
                s.push(' ');
                s.push_str(a);
            }
            (l.name.as_str(), s)
        })
        .collect()
}

/// Read the corpus saved beside the index.
pub fn load_corpus(path: &Path) -> Result<Corpus> {
    Corpus::load(path)
}

/// Build the index for `corpus` into a fresh directory under `index_dir` and swap it in.
pub fn build(
    corpus: &Corpus,
    index_dir: &Path,
    sources: Vec<String>,
    progress: &mut dyn Progress,
) -> Result<IndexManifest> {
    let t0 = Instant::now();
    std::fs::create_dir_all(index_dir).ctx(|| format!("creating {}", index_dir.display()))?;
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S%.3f").to_string();
    let name = format!("build-{stamp}-{}", std::process::id());
    let dir = index_dir.join(&name);
    let tdir = dir.join(TANTIVY);
    std::fs::create_dir_all(&tdir).ctx(|| format!("creating {}", tdir.display()))?;

    let result = write_build(corpus, &dir, &tdir, sources, progress, t0);
    let manifest = match result {
        Ok(m) => m,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
    };
    swap_current(index_dir, &name)?;
    remove_old_builds(index_dir, &name);
    Ok(manifest)
}

fn write_build(
    corpus: &Corpus,
    dir: &Path,
    tdir: &Path,
    sources: Vec<String>,
    progress: &mut dyn Progress,
    t0: Instant,
) -> Result<IndexManifest> {
    let (schema, f) = schema::schema();
    let index = Index::create_in_dir(tdir, schema)?;
    schema::register(&index);
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4);
    let mut writer: tantivy::IndexWriter = index.writer_with_num_threads(threads, WRITER_HEAP)?;
    let names = law_names(corpus);
    let all = corpus.articles.iter().chain(corpus.other_versions.iter());
    let total = corpus.articles.len() + corpus.other_versions.len();
    progress.start("indexing articles", total as u64);
    for (i, a) in all.enumerate() {
        let law_name = names
            .get(a.law.as_str())
            .cloned()
            .unwrap_or_else(|| a.law.clone());
        writer.add_document(doc!(
            f.text => a.text.as_str(),
            f.law_name => law_name,
            f.heads => heads_text(a),
            f.law => a.law.as_str(),
            f.level => a.level.as_str(),
            f.region => a.region.clone().unwrap_or_default(),
            f.status => a.status.as_str(),
            f.kind => kind_str(a.kind),
            f.key => a.key(),
            f.label => a.article_label.as_str(),
            f.doc => i as u64,
        ))?;
        if i % 2000 == 1999 {
            progress.advance(2000);
        }
    }
    writer.commit()?;
    writer.wait_merging_threads()?;
    corpus.save(&dir.join(CORPUS))?;
    let manifest = IndexManifest {
        schema_version: SCHEMA_VERSION,
        as_of: corpus.as_of.clone(),
        built_at: chrono::Local::now().to_rfc3339(),
        build_ms: t0.elapsed().as_millis() as u64,
        laws: corpus.laws.len(),
        articles: corpus.articles.len(),
        sources,
        dense: None,
    };
    let mpath = dir.join(MANIFEST);
    std::fs::write(&mpath, serde_json::to_vec_pretty(&manifest)?)
        .ctx(|| format!("writing {}", mpath.display()))?;
    progress.finish(&format!(
        "indexed {} articles of {} laws in {:.1} s",
        manifest.articles,
        manifest.laws,
        manifest.build_ms as f64 / 1000.0
    ));
    Ok(manifest)
}

/// Record a finished dense index in the manifest of the build at `dir`
/// (written to a temporary file and renamed over the old one).
pub fn record_dense(dir: &Path, dense: &super::DenseManifest) -> Result<()> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path).ctx(|| format!("reading {}", path.display()))?;
    let mut m: IndexManifest = serde_json::from_str(&text)?;
    m.dense = Some(dense.clone());
    let tmp = dir.join(format!(".{MANIFEST}.{}", std::process::id()));
    std::fs::write(&tmp, serde_json::to_vec_pretty(&m)?)
        .ctx(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).ctx(|| format!("moving {} into place", path.display()))
}

/// Point `current` at `name` atomically (rename over the old link).
fn swap_current(index_dir: &Path, name: &str) -> Result<()> {
    let tmp = index_dir.join(format!(".current-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let cur = index_dir.join(CURRENT);
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(name, &tmp).ctx(|| format!("linking {}", tmp.display()))?;
        // A real directory named `current` (not ours) cannot be replaced by rename.
        if cur.is_dir() && !cur.is_symlink() {
            return Err(Error::InvalidInput(format!(
                "{} is a directory, not an index link; move it away",
                cur.display()
            )));
        }
    }
    #[cfg(not(unix))]
    {
        std::fs::write(&tmp, name).ctx(|| format!("writing {}", tmp.display()))?;
    }
    std::fs::rename(&tmp, &cur).ctx(|| format!("swapping {}", cur.display()))
}

/// Remove build directories other than `keep` (best effort: an open reader
/// elsewhere keeps its files alive on Unix).
fn remove_old_builds(index_dir: &Path, keep: &str) {
    let Ok(entries) = std::fs::read_dir(index_dir) else {
        return;
    };
    for e in entries.flatten() {
        let n = e.file_name();
        let n = n.to_string_lossy();
        if n.starts_with("build-") && n != keep {
            if let Err(err) = std::fs::remove_dir_all(e.path()) {
                tracing::warn!(dir = %e.path().display(), "could not remove old index build: {err}");
            }
        }
    }
}

/// Fingerprint of a folder of local regulation files (names, sizes, mtimes).
pub fn local_fingerprint(dir: &Path) -> Option<String> {
    use sha2::{Digest, Sha256};
    let mut files: Vec<(String, u64, u64)> = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).ok()?.flatten() {
            let p = e.path();
            let meta = e.metadata().ok()?;
            if meta.is_dir() {
                stack.push(p);
            } else {
                let mtime = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                files.push((p.to_string_lossy().into_owned(), meta.len(), mtime));
            }
        }
    }
    files.sort();
    let mut h = Sha256::new();
    for (p, len, m) in &files {
        h.update(format!("{p}\t{len}\t{m}\n").as_bytes());
    }
    Some(format!(
        "local:{}:{}",
        files.len(),
        &hex::encode(h.finalize())[..16]
    ))
}

/// Source pins of an index built from `paths`: the laws.db sha256 and a
/// fingerprint of the local regulations folder when it exists.
pub fn sources(paths: &crate::config::Paths) -> Result<Vec<String>> {
    let asset = crate::assets::asset("laws-db")?;
    let mut sources = vec![format!("laws.db sha256:{}", asset.sha256)];
    if paths.local.is_dir() {
        if let Some(fp) = local_fingerprint(&paths.local) {
            sources.push(fp);
        }
    }
    Ok(sources)
}

/// See [`super::ensure_index`].
pub fn ensure(
    paths: &crate::config::Paths,
    as_of: Option<&str>,
    progress: &mut dyn Progress,
) -> Result<IndexManifest> {
    let sources = sources(paths)?;
    match read_manifest(&paths.index) {
        Ok(m)
            if m.schema_version == SCHEMA_VERSION
                && sources.iter().all(|s| m.sources.contains(s))
                && as_of.is_none_or(|d| d == m.as_of)
                && live_dir(&paths.index).is_some_and(|d| d.join(CORPUS).is_file()) =>
        {
            return Ok(m);
        }
        Ok(m) => tracing::info!(built = %m.built_at, "search index is stale; rebuilding"),
        Err(_) => tracing::info!(dir = %paths.index.display(), "no search index; building it"),
    }
    rebuild(paths, as_of, progress)
}

/// Build the index from the cached `laws.db` (fetched if missing) and the
/// local regulations folder, whatever state the index is in.
pub fn rebuild(
    paths: &crate::config::Paths,
    as_of: Option<&str>,
    progress: &mut dyn Progress,
) -> Result<IndexManifest> {
    let asset = crate::assets::asset("laws-db")?;
    let sources = sources(paths)?;
    let local = paths.local.is_dir().then(|| paths.local.clone());
    let as_of = match as_of {
        Some(d) => d.to_string(),
        None => chrono::Local::now().format("%Y-%m-%d").to_string(),
    };
    let db = crate::assets::ensure(&asset, &paths.cache, false, progress)?;
    let mut corpus = Corpus::from_laws_db(&db, &as_of)?;
    if let Some(dir) = &local {
        let report = corpus.import_local(dir)?;
        for w in &report.warnings {
            tracing::warn!("local regulations: {w}");
        }
    }
    build(&corpus, &paths.index, sources, progress)
}
