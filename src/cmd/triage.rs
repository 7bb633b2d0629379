//! `lawbrain triage`: route a question to a public legal service.
//!
//! Uses the search index for the retrieved-laws signal when one exists
//! (hybrid, as `serve`, when the build's dense index is on disk); works
//! without it (the question alone).

use crate::cli::TriageArgs;
use lawbrain::config::Paths;
use lawbrain::search::{SearchOptions, Searcher};
use lawbrain::triage::{self, Directory, Triage};

pub fn run(a: TriageArgs) -> anyhow::Result<()> {
    let question = a.question.trim();
    if question.is_empty() {
        anyhow::bail!("the question is empty: lawbrain triage \"<问题>\"");
    }
    let directory = match &a.directory {
        Some(p) => Directory::load(p)?,
        None => Directory::builtin(),
    };
    let hits = retrieve(&a, question);
    embed(&a);
    let t = triage::triage(question, &hits, &directory);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&t)?);
    } else {
        print_text(&t);
    }
    Ok(())
}

/// Route with the router that reads the sentence embedding, as `serve`
/// does, when the encoder is set up (unless `--lexical`).
fn embed(a: &TriageArgs) {
    if a.data.lexical {
        return;
    }
    // Retrieval may have loaded the encoder already.
    if triage::encoder().is_some() {
        triage::router::Router::warm_dense();
        return;
    }
    let cache = super::paths(&a.data).cache;
    match lawbrain::embed::Encoder::from_cache(&cache) {
        Ok(e) => {
            triage::use_encoder(std::sync::Arc::new(e), Some(&cache));
            triage::router::Router::warm_dense();
        }
        Err(e) => tracing::info!("triage without the sentence embedding: {e}"),
    }
}

/// Hits from the index when one exists; none otherwise (triage still works).
fn retrieve(a: &TriageArgs, question: &str) -> Vec<lawbrain::search::Hit> {
    let mut paths = Paths::from_env();
    if let Some(i) = &a.data.index {
        paths.index = i.clone();
    }
    if !paths.index.exists() {
        tracing::info!(
            "no search index at {}; triaging the question alone",
            paths.index.display()
        );
        return Vec::new();
    }
    let opts = SearchOptions {
        k: 5,
        ..SearchOptions::default()
    };
    let searcher = match Searcher::open(&paths.index) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("cannot open the index ({e}); triaging the question alone");
            return Vec::new();
        }
    };
    // Hybrid, as `serve` retrieves, when this build's dense index is on disk
    // (never built here: triage answers at once).
    if let Err(e) = super::attach_dense_if(&searcher, &a.data, false) {
        tracing::warn!("dense retrieval off ({e:#}); searching lexically");
    }
    match searcher.search(question, &opts) {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!("search failed ({e}); triaging the question alone");
            Vec::new()
        }
    }
}

fn print_text(t: &Triage) {
    println!(
        "建议服务：{}（{}）",
        t.primary_service.name_zh(),
        t.primary_service.id()
    );
    let others: Vec<String> = t
        .services
        .iter()
        .skip(1)
        .map(|s| s.name_zh().to_string())
        .collect();
    if !others.is_empty() {
        println!("其他可选：{}", others.join("、"));
    }
    println!("理由：");
    for w in &t.why {
        println!("  - {w}");
    }
    if t.needs_review {
        let ids: Vec<&str> = t.review_reasons.iter().map(|r| r.id()).collect();
        println!("需人工审核：{}", ids.join(", "));
    }
    let la = &t.legal_aid;
    if la.may_qualify {
        let arts: Vec<String> = la
            .basis
            .iter()
            .map(|a| format!("第{}条", a.article))
            .collect();
        println!(
            "法律援助：可能符合条件（法律援助法{}）{}",
            arts.join("、"),
            if la.economic_review_exempt {
                "，可能免予经济困难审查"
            } else {
                ""
            }
        );
    }
    if !la.what_to_bring.is_empty() {
        println!("申请法律援助请携带：");
        for b in &la.what_to_bring {
            println!("  - {b}");
        }
    }
    let r = &t.referral;
    println!("去哪里：");
    for w in &r.where_to_go {
        println!("  - {w}");
    }
    println!("怎么办：");
    for h in &r.how {
        println!("  - {h}");
    }
    if !r.phones.is_empty() {
        println!("电话：{}", r.phones.join("、"));
    }
}

/// `lawbrain bench triage`: how long triage takes per question, with the
/// n-gram router and with the router that reads the sentence embedding
/// (the encoder's recent-questions cache emptied before each question, so
/// the embedding is timed), and how long each router takes to train.
pub fn bench(
    data: crate::cli::DataArgs,
    cases: Option<std::path::PathBuf>,
    limit: usize,
) -> anyhow::Result<()> {
    use lawbrain::bench::percentile;
    use std::time::Instant;
    let questions: Vec<String> = match &cases {
        Some(p) => super::search::questions_of(p)?,
        None => triage::router::our_cases()?
            .into_iter()
            .chain(triage::router::policy_cases()?)
            .map(|c| c.question)
            .collect(),
    };
    let questions: Vec<String> = questions.into_iter().take(limit.max(1)).collect();
    anyhow::ensure!(!questions.is_empty(), "no questions to run");
    let dir = Directory::builtin();
    let time = |label: &str, forget: &dyn Fn()| {
        let mut ms = Vec::new();
        for q in &questions {
            forget();
            let t = Instant::now();
            let _ = triage::triage_in_year(q, &[], &dir, triage::TRAIN_YEAR);
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        ms.sort_by(f64::total_cmp);
        println!(
            "{label}: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} questions)",
            percentile(&ms, 50.0),
            percentile(&ms, 95.0),
            percentile(&ms, 99.0),
            ms.last().copied().unwrap_or(0.0),
            ms.len()
        );
    };
    let t = Instant::now();
    triage::router::Router::builtin();
    println!(
        "n-gram router trained in {:.0} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    time("triage, n-gram router", &|| {});
    if data.lexical {
        return Ok(());
    }
    let cache = super::paths(&data).cache;
    let enc = std::sync::Arc::new(lawbrain::embed::Encoder::from_cache(&cache)?);
    triage::use_encoder(enc.clone(), Some(&cache));
    let t = Instant::now();
    anyhow::ensure!(
        triage::router::Router::warm_dense().is_some(),
        "the router that reads the sentence embedding did not train (see the log)"
    );
    println!(
        "embedding router trained in {:.0} ms (training embeddings from the vector store in {})",
        t.elapsed().as_secs_f64() * 1000.0,
        cache.display()
    );
    time(
        "triage with the sentence embedding (embedding included)",
        &|| enc.forget_recent(),
    );
    Ok(())
}
