//! `lawbrain search` and `lawbrain bench search`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;

use crate::cli::{DataArgs, SearchArgs};
use lawbrain::search::{self, SearchOptions, Searcher};

use super::{paths, Bar};

/// Open the index, building it first when it is missing or stale.
fn open(data: &DataArgs) -> anyhow::Result<Searcher> {
    let p = paths(data);
    let mut bar = Bar::new();
    search::ensure_index(&p, None, &mut bar)?;
    let s = Searcher::open(&p.index)?;
    super::attach_dense(&s, data)?;
    Ok(s)
}

pub fn search(a: SearchArgs) -> anyhow::Result<()> {
    let s = open(&a.data)?;
    let opts = SearchOptions {
        k: a.k,
        law: a.law.clone(),
        level: a.level.clone(),
        region: a.region.clone(),
        in_force_only: true,
    };
    let hits = s.search(&a.query, &opts)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&hits)?);
        return Ok(());
    }
    if hits.is_empty() {
        println!("no matching articles");
    }
    for (i, h) in hits.iter().enumerate() {
        println!(
            "{:>2}. 《{}》{}  [{} · {} · {:.2}]",
            i + 1,
            h.law,
            h.article_label,
            h.level,
            h.status,
            h.score
        );
        println!("    {}", h.text);
    }
    Ok(())
}

pub fn bench(data: DataArgs, cases: Option<PathBuf>, rounds: usize) -> anyhow::Result<()> {
    let p = paths(&data);
    let mut bar = Bar::new();
    // Index build time: a fresh build from the corpus, timed.
    let manifest = match search::read_manifest(&p.index) {
        Ok(m) if m.schema_version == search::SCHEMA_VERSION => {
            let s = Searcher::open(&p.index)?;
            let t = Instant::now();
            let sources = m.sources.clone();
            search::build_index_with_progress(s.corpus(), &p.index, sources, &mut bar)?;
            let build = t.elapsed();
            println!(
                "index build: {:.2} s ({} articles of {} laws; corpus already loaded)",
                build.as_secs_f64(),
                m.articles,
                m.laws
            );
            m
        }
        _ => {
            let t = Instant::now();
            let m = search::ensure_index(&p, None, &mut bar)?;
            println!(
                "index build: {:.2} s including corpus load ({} articles of {} laws)",
                t.elapsed().as_secs_f64(),
                m.articles,
                m.laws
            );
            m
        }
    };
    let _ = manifest;
    let rss_before = lawbrain::bench::peak_rss_mib();
    let t = Instant::now();
    let s = Searcher::open(&p.index)?;
    println!("index open: {:.0} ms", t.elapsed().as_secs_f64() * 1000.0);
    let t = Instant::now();
    super::attach_dense_if(&s, &data, true)?;
    println!(
        "dense attach: {:.0} ms; retrieval mode: {}",
        t.elapsed().as_secs_f64() * 1000.0,
        s.mode().as_str()
    );

    let questions: Vec<String> = match &cases {
        Some(path) => questions_of(path)?,
        None => DEFAULT_QUERIES.iter().map(|q| q.to_string()).collect(),
    };
    anyhow::ensure!(!questions.is_empty(), "no questions to run");
    let opts = SearchOptions::default();
    // Warm-up round (page cache, jieba dictionary).
    for q in &questions {
        s.search(q, &opts)?;
    }
    let mut ms = Vec::with_capacity(questions.len() * rounds.max(1));
    for _ in 0..rounds.max(1) {
        for q in &questions {
            // Time the question's embedding too, not the encoder's cache.
            if let Some(d) = s.dense() {
                d.encoder.forget_recent();
            }
            let t = Instant::now();
            s.search(q, &opts)?;
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    println!(
        "query latency over {} queries ({} questions x {} rounds): p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms",
        ms.len(),
        questions.len(),
        rounds.max(1),
        lawbrain::bench::percentile(&ms, 50.0),
        lawbrain::bench::percentile(&ms, 95.0),
        lawbrain::bench::percentile(&ms, 99.0)
    );
    match (rss_before, lawbrain::bench::peak_rss_mib()) {
        (Some(b), Some(m)) => {
            println!("peak RSS: {m:.0} MiB (before opening the index: {b:.0} MiB)")
        }
        _ => println!("peak RSS: unknown"),
    }
    Ok(())
}

/// The questions of a cases file (JSONL with `question`), naming the line
/// of a bad one.
pub fn questions_of(path: &std::path::Path) -> anyhow::Result<Vec<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let questions: Vec<String> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let v: serde_json::Value = lawbrain::eval::cases::from_json_line(l)
                .with_context(|| format!("{} line {}", path.display(), i + 1))?;
            Ok(v.get("question")
                .and_then(|q| q.as_str())
                .map(str::to_string)
                .unwrap_or_default())
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(questions.into_iter().filter(|q| !q.is_empty()).collect())
}

/// Queries used when no cases file is given.
const DEFAULT_QUERIES: &[&str] = &[
    "老板拖欠工资三个月不发怎么办",
    "朋友借钱不还也没有借条",
    "被车撞了对方不赔钱",
    "离婚后孩子抚养费不给",
    "老公家暴我该怎么办",
    "网购买到假货商家不给退货",
    "我请不起律师能申请法律援助吗",
    "民法典第1079条",
    "劳动合同法82条",
    "父亲去世没有遗嘱房子怎么分",
];

/// `lawbrain bench embed`: what the dense index costs to build and to query.
pub fn bench_embed(data: DataArgs, articles: usize) -> anyhow::Result<()> {
    use lawbrain::embed::{Encoder, Kind};
    let p = paths(&data);
    let t = Instant::now();
    let enc = Encoder::from_cache(&p.cache)?;
    println!("encoder load: {:.0} ms", t.elapsed().as_secs_f64() * 1000.0);
    let mut bar = Bar::new();
    search::ensure_index(&p, None, &mut bar)?;
    let s = Searcher::open(&p.index)?;
    let corpus = s.corpus();
    // An even sample across the corpus (laws differ in article length).
    let step = (corpus.articles.len() / articles.max(1)).max(1);
    let texts: Vec<String> = corpus
        .articles
        .iter()
        .step_by(step)
        .take(articles)
        .map(search::dense::passage_text)
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let tokens: usize = refs
        .iter()
        .map(|t| enc.tokens(t, Kind::Passage).map(|v| v.len()).unwrap_or(0))
        .sum();
    let t = Instant::now();
    enc.embed(&refs, Kind::Passage, &mut bar)?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "passages: {} articles, {} tokens in {:.1} s: {:.1} articles/s, {:.0} tokens/s; \
         the whole corpus ({} articles) would take ~{:.0} min",
        refs.len(),
        tokens,
        secs,
        refs.len() as f64 / secs,
        tokens as f64 / secs,
        corpus.articles.len(),
        corpus.articles.len() as f64 / (refs.len() as f64 / secs) / 60.0
    );
    let queries = [
        "老板拖欠工资怎么办",
        "离婚后孩子抚养费一个月给多少",
        "邻居家的狗咬伤了我的孩子，医药费谁出",
        "网购的东西有质量问题商家不给退",
        "我想申请法律援助需要什么条件",
    ];
    let mut ms = Vec::new();
    for _ in 0..6 {
        for q in queries {
            // Time the embedding, not the recent-questions cache.
            enc.forget_recent();
            let t = Instant::now();
            enc.embed_query(q)?;
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    ms.sort_by(f64::total_cmp);
    println!(
        "query embedding: p50 {:.1} ms, p99 {:.1} ms ({} queries)",
        ms[ms.len() / 2],
        ms[ms.len() * 99 / 100],
        ms.len()
    );
    Ok(())
}
