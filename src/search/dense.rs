//! The dense index: one multilingual-e5-small vector per article of the
//! corpus, searched by brute-force cosine (24 k × 384 floats, a vectorised scan
//! over the worker threads: ~2 ms).
//!
//! Vectors are expensive (a 12-layer encoder over ~2 M tokens on two cores),
//! so they are computed once per machine and kept in a content-addressed
//! vector store in the asset cache (`dense/<encoder pin>/vectors.bin`, one
//! record per distinct passage text, keyed by its sha256). A new checkout, a
//! rebuilt index or a new local regulation only embeds passages the store
//! has not seen. The store is appended batch by batch, so an interrupted
//! build resumes where it stopped, and guarded by a file lock so two
//! processes never embed the same passages at once.
//!
//! The index of one build (`dense.bin` in the build directory, written to a
//! temporary file and renamed into place) holds the vectors in corpus order
//! with a fingerprint of the passages, so a corpus it was not built from is
//! never searched with it.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::corpus::{Article, Corpus};
use crate::embed::{Encoder, Kind, DIM};
use crate::error::{Error, IoContext, Result};
use crate::progress::Progress;

/// File name of the dense index inside a build directory.
pub const DENSE_FILE: &str = "dense.bin";
const MAGIC: &[u8; 8] = b"LBDENSE1";
const KEY: usize = 16;
const RECORD: usize = KEY + DIM * 4;
/// Passages embedded between two appends to the vector store.
const CHUNK: usize = 256;

/// What the manifest records about the dense index of a build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DenseManifest {
    /// sha256 pin of the encoder weights.
    pub encoder: String,
    pub articles: usize,
    /// Passages embedded for this build (the rest came from the vector store).
    pub embedded: usize,
    pub build_ms: u64,
    /// Embedding speed of this build, passages per second (0 when all cached).
    pub articles_per_s: f64,
    pub built_at: String,
}

/// The text an article is embedded as: law, headings, label, text.
pub fn passage_text(a: &Article) -> String {
    let mut s = String::with_capacity(a.text.len() + 64);
    s.push_str(&a.law);
    for h in &a.path {
        s.push(' ');
        s.push_str(h);
    }
    s.push(' ');
    s.push_str(&a.article_label);
    s.push(' ');
    s.push_str(&a.text);
    s
}

fn passage_key(text: &str) -> [u8; KEY] {
    let h = Sha256::digest(text.as_bytes());
    let mut k = [0u8; KEY];
    k.copy_from_slice(&h[..KEY]);
    k
}

/// Key of `text` embedded as `kind` in the vector store: passages by their
/// text (as the store has always been keyed), questions by the text the
/// model sees (`query: ` and the text), so the two never collide.
fn store_key(text: &str, kind: Kind) -> [u8; KEY] {
    match kind {
        Kind::Passage => passage_key(text),
        Kind::Query => passage_key(&format!("{}{text}", kind.prefix())),
    }
}

/// Fingerprint of the passages of a corpus (order included).
fn corpus_fingerprint(keys: &[[u8; KEY]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for k in keys {
        h.update(k);
    }
    h.finalize().into()
}

/// Vectors of a corpus's articles, in `corpus.articles` order.
pub struct DenseIndex {
    n: usize,
    data: Vec<f32>,
    /// Encoder pin the vectors were made with.
    pub encoder: String,
}

impl DenseIndex {
    /// Number of vectors.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The vector of article `i`.
    pub fn vector(&self, i: usize) -> &[f32] {
        &self.data[i * DIM..(i + 1) * DIM]
    }

    /// Cosine of the query with article `i`.
    pub fn score(&self, q: &[f32], i: usize) -> f32 {
        crate::embed::dot(q, self.vector(i))
    }

    /// The `k` articles nearest to `q` among those `keep` accepts, best first.
    pub fn top(&self, q: &[f32], k: usize, keep: impl Fn(usize) -> bool) -> Vec<(usize, f32)> {
        use rayon::prelude::*;
        // All cosines first, in blocks over the worker threads (36 MB of
        // vectors: the scan is bound by memory bandwidth), then the filter.
        const BLOCK: usize = 2048;
        let mut cos = vec![0f32; self.n];
        cos.par_chunks_mut(BLOCK).enumerate().for_each(|(b, out)| {
            let start = b * BLOCK * DIM;
            if let Some(rows) = self.data.get(start..start + out.len() * DIM) {
                lawbrain_kernels::dots(q, rows, DIM, out);
            }
        });
        best_k(
            cos.into_iter()
                .enumerate()
                .filter(|&(i, _)| keep(i))
                .collect(),
            k,
        )
    }

    /// Load `dense.bin` of a build if it matches `corpus` and `encoder`;
    /// `Ok(None)` when it is absent or was made for something else.
    pub fn load(dir: &Path, corpus: &Corpus, encoder: &str) -> Result<Option<DenseIndex>> {
        let path = dir.join(DENSE_FILE);
        let mut f = match File::open(&path) {
            Ok(f) => f,
            Err(_) => return Ok(None),
        };
        let mut head = [0u8; 8 + 4 + 8 + 64 + 32];
        if f.read_exact(&mut head).is_err() || &head[..8] != MAGIC {
            tracing::warn!(path = %path.display(), "dense index unreadable; it will be rebuilt");
            return Ok(None);
        }
        let dim = u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as usize;
        let mut n8 = [0u8; 8];
        n8.copy_from_slice(&head[12..20]);
        let n = u64::from_le_bytes(n8) as usize;
        let enc = String::from_utf8_lossy(&head[20..84]).to_string();
        let keys: Vec<[u8; KEY]> = corpus
            .articles
            .iter()
            .map(|a| passage_key(&passage_text(a)))
            .collect();
        if dim != DIM || n != corpus.articles.len() || enc != encoder {
            return Ok(None);
        }
        if head[84..116] != corpus_fingerprint(&keys) {
            return Ok(None);
        }
        let mut bytes = Vec::with_capacity(n * DIM * 4);
        f.read_to_end(&mut bytes)
            .ctx(|| format!("reading {}", path.display()))?;
        if bytes.len() != n * DIM * 4 {
            tracing::warn!(path = %path.display(), "dense index truncated; it will be rebuilt");
            return Ok(None);
        }
        let data = bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        Ok(Some(DenseIndex {
            n,
            data,
            encoder: encoder.to_string(),
        }))
    }

    fn save(&self, dir: &Path, keys: &[[u8; KEY]]) -> Result<()> {
        let path = dir.join(DENSE_FILE);
        let tmp = dir.join(format!(".{DENSE_FILE}.{}", std::process::id()));
        let mut buf = Vec::with_capacity(116 + self.data.len() * 4);
        buf.extend_from_slice(MAGIC);
        buf.extend_from_slice(&(DIM as u32).to_le_bytes());
        buf.extend_from_slice(&(self.n as u64).to_le_bytes());
        let mut enc = [b' '; 64];
        for (d, s) in enc.iter_mut().zip(self.encoder.bytes()) {
            *d = s;
        }
        buf.extend_from_slice(&enc);
        buf.extend_from_slice(&corpus_fingerprint(keys));
        for x in &self.data {
            buf.extend_from_slice(&x.to_le_bytes());
        }
        std::fs::write(&tmp, &buf).ctx(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).ctx(|| format!("moving {} into place", path.display()))
    }
}

/// The content-addressed vector store in the asset cache.
pub fn store_dir(cache: &Path, encoder: &str) -> PathBuf {
    cache.join("dense").join(&encoder[..encoder.len().min(16)])
}

fn read_store(path: &Path) -> Result<HashMap<[u8; KEY], Vec<f32>>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::io(format!("reading {}", path.display()), e)),
    };
    let mut map = HashMap::with_capacity(bytes.len() / RECORD);
    // A torn last record (a crash mid-append) is ignored.
    for rec in bytes.chunks_exact(RECORD) {
        let mut k = [0u8; KEY];
        k.copy_from_slice(&rec[..KEY]);
        let v: Vec<f32> = rec[KEY..]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if v.iter().all(|x| x.is_finite()) {
            map.insert(k, v);
        }
    }
    Ok(map)
}

/// Embeddings of `texts` as `kind`, in order, from the content-addressed
/// vector store in the cache (`dense/<encoder>/vectors.bin`); what it lacks
/// is embedded in chunks (with progress) and appended. Processes share the
/// store under a file lock: one embeds, the others wait and reuse. Returns
/// the vectors and how many texts were embedded.
pub fn embed_stored(
    texts: &[String],
    kind: Kind,
    encoder: &Encoder,
    cache: &Path,
    progress: &mut dyn Progress,
) -> Result<(Vec<Vec<f32>>, usize)> {
    let keys: Vec<[u8; KEY]> = texts.iter().map(|t| store_key(t, kind)).collect();
    embed_keyed(texts, &keys, kind, encoder, cache, progress)
}

/// [`embed_stored`] with the texts' store keys already made.
fn embed_keyed(
    texts: &[String],
    keys: &[[u8; KEY]],
    kind: Kind,
    encoder: &Encoder,
    cache: &Path,
    progress: &mut dyn Progress,
) -> Result<(Vec<Vec<f32>>, usize)> {
    let sdir = store_dir(cache, &encoder.fingerprint);
    std::fs::create_dir_all(&sdir).ctx(|| format!("creating {}", sdir.display()))?;
    let spath = sdir.join("vectors.bin");
    let lock_path = sdir.join("lock");
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .ctx(|| format!("opening {}", lock_path.display()))?;
    // Another process embedding the same texts: wait for it, then reuse.
    lock.lock()
        .ctx(|| format!("locking {}", lock_path.display()))?;
    let mut store = read_store(&spath)?;
    let mut missing: Vec<usize> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, k) in keys.iter().enumerate() {
        if !store.contains_key(k) && seen.insert(*k) {
            missing.push(i);
        }
    }
    let embedded = missing.len();
    if embedded > 0 {
        let what = match kind {
            Kind::Passage => "articles",
            Kind::Query => "questions",
        };
        tracing::info!(
            texts = embedded,
            cached = keys.len() - embedded,
            "embedding {what} into the vector store"
        );
        let mut out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&spath)
            .ctx(|| format!("opening {}", spath.display()))?;
        progress.start(&format!("embedding {what}"), embedded as u64);
        let mut inner = crate::progress::NoProgress;
        for chunk in missing.chunks(CHUNK) {
            let batch: Vec<&str> = chunk.iter().map(|&i| texts[i].as_str()).collect();
            let vecs = encoder.embed(&batch, kind, &mut inner)?;
            let mut buf = Vec::with_capacity(chunk.len() * RECORD);
            for (&i, v) in chunk.iter().zip(&vecs) {
                buf.extend_from_slice(&keys[i]);
                for x in v {
                    buf.extend_from_slice(&x.to_le_bytes());
                }
            }
            out.write_all(&buf)
                .ctx(|| format!("appending to {}", spath.display()))?;
            for (&i, v) in chunk.iter().zip(vecs) {
                store.insert(keys[i], v);
            }
            progress.advance(chunk.len() as u64);
        }
        out.sync_all()
            .ctx(|| format!("syncing {}", spath.display()))?;
        progress.finish(&format!("embedded {embedded} {what}"));
    }
    drop(lock);
    let vectors = keys
        .iter()
        .map(|k| {
            store
                .get(k)
                .cloned()
                .ok_or_else(|| Error::Model("vector store lost a text".into()))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((vectors, embedded))
}

/// The `k` best of `(item, score)` pairs, best first (ties: lower item).
pub fn best_k(mut scored: Vec<(usize, f32)>, k: usize) -> Vec<(usize, f32)> {
    let k = k.min(scored.len());
    if k == 0 {
        return Vec::new();
    }
    scored.select_nth_unstable_by(k - 1, |a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored.truncate(k);
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored
}

/// Make sure the live build under `dir` has a dense index for `corpus`:
/// load it when present, else embed what the vector store lacks and write it.
pub fn ensure(
    dir: &Path,
    corpus: &Corpus,
    encoder: &Encoder,
    cache: &Path,
    progress: &mut dyn Progress,
) -> Result<(DenseIndex, DenseManifest)> {
    let t0 = std::time::Instant::now();
    let texts: Vec<String> = corpus.articles.iter().map(passage_text).collect();
    let keys: Vec<[u8; KEY]> = texts.iter().map(|t| passage_key(t)).collect();
    let (vectors, embedded) = embed_keyed(&texts, &keys, Kind::Passage, encoder, cache, progress)?;
    let mut data = Vec::with_capacity(keys.len() * DIM);
    for v in &vectors {
        data.extend_from_slice(v);
    }
    let index = DenseIndex {
        n: keys.len(),
        data,
        encoder: encoder.fingerprint.clone(),
    };
    index.save(dir, &keys)?;
    let ms = t0.elapsed().as_millis() as u64;
    let manifest = DenseManifest {
        encoder: encoder.fingerprint.clone(),
        articles: keys.len(),
        embedded,
        build_ms: ms,
        articles_per_s: if embedded > 0 {
            embedded as f64 / (ms.max(1) as f64 / 1000.0)
        } else {
            0.0
        },
        built_at: chrono::Local::now().to_rfc3339(),
    };
    Ok((index, manifest))
}
