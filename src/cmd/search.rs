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
    Ok(Searcher::open(&p.index)?)
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
    let t = Instant::now();
    let s = Searcher::open(&p.index)?;
    println!("index open: {:.0} ms", t.elapsed().as_secs_f64() * 1000.0);

    let questions: Vec<String> = match &cases {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| {
                    let v: serde_json::Value = serde_json::from_str(l)?;
                    Ok(v.get("question")
                        .and_then(|q| q.as_str())
                        .map(str::to_string)
                        .unwrap_or_default())
                })
                .collect::<anyhow::Result<Vec<_>>>()?
                .into_iter()
                .filter(|q| !q.is_empty())
                .collect()
        }
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
    match lawbrain::bench::peak_rss_mib() {
        Some(m) => println!("peak RSS: {m:.0} MiB"),
        None => println!("peak RSS: unknown"),
    }
    Ok(())
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
