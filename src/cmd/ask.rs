//! `lawbrain ask` and `lawbrain bench llm`.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use lawbrain::answer::{prompt, Answer, Brain, ConsultEvent, ConsultOptions, PromptBudget};
use lawbrain::llm::{
    Backend, CandleEngine, EngineOptions, GenParams, ModelSource, RemoteBackend, RemoteOptions,
};
use lawbrain::search::{Hit, SearchOptions, Searcher};
use lawbrain::triage::Directory;

use crate::cli::{AskArgs, DataArgs, ModelArgs, Profile};

/// Where the model comes from, per the flags.
pub fn model_source(m: &ModelArgs) -> ModelSource {
    if let Some(p) = &m.model {
        ModelSource::Path(p.clone())
    } else if let Some(h) = &m.hf {
        ModelSource::Hf(h.clone())
    } else {
        ModelSource::Profile(
            match m.profile {
                Profile::Default => "default",
                Profile::Small => "small",
            }
            .to_string(),
        )
    }
}

/// Sampling parameters per the flags (no deadline: see [`consult_options`]).
pub fn gen_params(m: &ModelArgs) -> GenParams {
    GenParams {
        max_tokens: m.max_tokens,
        temperature: m.temperature,
        top_p: m.top_p,
        seed: m.seed,
        draft_tokens: m.draft_tokens,
        ..GenParams::default()
    }
}

/// Per-question options per the flags.
pub fn consult_options(m: &ModelArgs) -> ConsultOptions {
    ConsultOptions {
        timeout: Some(Duration::from_secs(m.deadline_secs)),
        ..ConsultOptions::default()
    }
}

/// Load the engine the flags select.
pub fn load_engine(m: &ModelArgs, cache: &Path) -> anyhow::Result<CandleEngine> {
    if let Some(n) = m.threads.filter(|n| *n > 0) {
        // candle sizes its kernel thread pool from this on first use.
        std::env::set_var("CANDLE_NUM_THREADS", n.to_string());
    }
    let engine = CandleEngine::from_source(
        &model_source(m),
        cache,
        &EngineOptions {
            threads: m.threads,
            memory: if m.low_memory {
                lawbrain::llm::Memory::Low
            } else {
                lawbrain::llm::Memory::Fast
            },
            ..EngineOptions::default()
        },
    )?;
    Ok(engine)
}

/// The remote engines the flags name, if any (`--llm-url`).
pub fn remote_options(m: &ModelArgs) -> anyhow::Result<Option<RemoteOptions>> {
    let urls: Vec<String> = m
        .llm_url
        .iter()
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty())
        .collect();
    if urls.is_empty() {
        return Ok(None);
    }
    let api_key = match &m.llm_key_env {
        Some(var) => match std::env::var(var) {
            Ok(k) if !k.trim().is_empty() => Some(k.trim().to_string()),
            _ => anyhow::bail!("--llm-key-env {var}: the environment variable {var} is not set"),
        },
        None => None,
    };
    Ok(Some(RemoteOptions {
        urls,
        model: m.llm_model.clone(),
        api_key,
        ..RemoteOptions::default()
    }))
}

/// The generation backend the flags select: the `--llm-url` servers, or
/// the local model. Remote servers are probed once (a server down now is
/// retried per request, so this does not fail on it).
pub fn load_backend(m: &ModelArgs, cache: &Path) -> anyhow::Result<Arc<dyn Backend>> {
    if let Some(opts) = remote_options(m)? {
        let remote = RemoteBackend::new(opts)?;
        let up = remote.probe();
        if up == 0 {
            tracing::warn!(
                engine = %remote.name(),
                "no --llm-url server answered now; each question retries them"
            );
        }
        tracing::info!(engine = %remote.name(), up, "generating on remote engines");
        return Ok(Arc::new(remote));
    }
    Ok(Arc::new(load_engine(m, cache)?))
}

fn open_searcher(data: &DataArgs) -> anyhow::Result<(lawbrain::config::Paths, Searcher)> {
    let paths = super::paths(data);
    lawbrain::search::ensure_index(&paths, None, &mut lawbrain::assets::NoProgress)
        .context("preparing the search index")?;
    let s = Searcher::open(&paths.index).context("opening the search index")?;
    super::attach_dense(&s, data)?;
    lawbrain::triage::router::Router::warm_dense();
    Ok((paths, s))
}

pub fn run(a: AskArgs) -> anyhow::Result<()> {
    let (paths, searcher) = open_searcher(&a.data)?;
    let backend: Option<Arc<dyn Backend>> = if a.no_llm {
        None
    } else {
        match load_backend(&a.model, &paths.cache) {
            Ok(e) => Some(e),
            Err(e) => {
                eprintln!(
                    "warning: model not available ({e:#}); answering with article excerpts only"
                );
                None
            }
        }
    };
    let brain = Brain {
        searcher: Arc::new(searcher),
        directory: Arc::new(Directory::builtin()),
        backend,
        params: gen_params(&a.model),
    };
    let stream = a.stream && !a.json;
    let mut out = std::io::stdout();
    let answer: Answer =
        brain.consult_with(&a.question, &[], &consult_options(&a.model), &mut |ev| {
            if stream {
                match ev {
                    ConsultEvent::Triage(t) => {
                        let _ = writeln!(
                            out,
                            "【分流】{}（{}）",
                            t.referral.service_name,
                            t.primary_service.id()
                        );
                    }
                    ConsultEvent::Hits(h) => {
                        let _ = writeln!(out, "【检索到 {} 条】", h.len());
                    }
                    ConsultEvent::Delta(d) => {
                        let _ = write!(out, "{d}");
                        let _ = out.flush();
                    }
                }
            }
            true
        })?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
        return Ok(());
    }
    if stream {
        println!("\n");
        if answer.fallback || !answer.removed_citations.is_empty() {
            println!("—— 显示的答案（已核对引用）——\n{}", answer.answer);
        }
    } else {
        println!("{}\n", answer.answer);
    }
    print_footer(&answer);
    Ok(())
}

fn print_footer(a: &Answer) {
    if let Some(r) = &a.fallback_reason {
        println!("（未使用模型生成：{r}）");
    }
    for c in &a.citations {
        let mark = if c.in_context {
            ""
        } else {
            "（不在检索结果中）"
        };
        println!("引用：《{}》第{}条{mark}", c.law, c.article);
    }
    for c in &a.removed_citations {
        println!(
            "已删除的引用：《{}》第{}条（{:?}）",
            c.law, c.article, c.status
        );
    }
    let t = &a.timings;
    println!(
        "服务：{}；需人工复核：{}{}",
        a.triage.referral.service_name,
        if a.triage.needs_review { "是" } else { "否" },
        if a.triage.review_reasons.is_empty() {
            String::new()
        } else {
            format!(
                "（{}）",
                a.triage
                    .review_reasons
                    .iter()
                    .map(|r| r.id())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    println!(
        "检索 {:.0} ms，提示 {} tokens，首字 {:.0} ms，生成 {} tokens（{:.1} tok/s），共 {:.0} ms",
        t.retrieval_ms, t.prompt_tokens, t.ttft_ms, t.gen_tokens, t.tokens_per_s, t.total_ms
    );
}

/// The fixed benchmark question.
const BENCH_QUESTION: &str =
    "公司连续三个月拖欠我的工资，我想辞职，可以要求公司支付经济补偿吗？应该怎么办？";
/// Articles used when the search index is not available (same prompt every run).
const BENCH_ARTICLES: &[(&str, u32)] = &[
    ("中华人民共和国劳动合同法", 38),
    ("中华人民共和国劳动合同法", 46),
    ("中华人民共和国劳动合同法", 47),
    ("中华人民共和国劳动合同法", 30),
    ("中华人民共和国劳动合同法", 85),
];

fn bench_hits(data: &DataArgs) -> anyhow::Result<Vec<Hit>> {
    if let Ok(s) = Searcher::open(&super::paths(data).index) {
        let hits = s.search(BENCH_QUESTION, &SearchOptions::default())?;
        if !hits.is_empty() {
            return Ok(hits);
        }
    }
    // Straight from laws.db, so the bench runs without an index.
    let db = super::paths(data).laws_db();
    let conn =
        rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .with_context(|| format!("opening {}", db.display()))?;
    let mut hits = Vec::new();
    for (law, n) in BENCH_ARTICLES {
        let (label, text): (String, String) = conn.query_row(
            "SELECT article_no, article_text FROM articles WHERE law_name = ?1 AND article_no_arabic = ?2 AND status = '现行有效' LIMIT 1",
            rusqlite::params![law, n],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        hits.push(Hit {
            law: law.to_string(),
            article: *n,
            suffix: 0,
            article_label: label,
            text,
            score: 0.0,
            level: "law".into(),
            status: "valid".into(),
            dense: None,
            rerank: None,
        });
    }
    Ok(hits)
}

pub fn bench(
    data: DataArgs,
    model: ModelArgs,
    gen_tokens: usize,
    runs: usize,
) -> anyhow::Result<()> {
    let paths = super::paths(&data);
    let hits = bench_hits(&data)?;
    if let Some(opts) = remote_options(&model)? {
        // Fit the articles with the local model's tokenizer when its file is
        // here, so the prompt is the one the local bench sends.
        let tokens = lawbrain::llm::resolve(&model_source(&model), &paths.cache, None)
            .ok()
            .and_then(|p| std::fs::File::open(p).ok())
            .and_then(|mut f| candle_core::quantized::gguf_file::Content::read(&mut f).ok())
            .and_then(|ct| lawbrain::llm::Tokens::from_gguf(&ct).ok());
        return bench_remote(opts, &hits, gen_tokens, runs, tokens.as_ref());
    }
    let rss_before = lawbrain::bench::rss_mib();
    let t0 = Instant::now();
    let engine = load_engine(&model, &paths.cache)?;
    let load_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let count = |t: &str| engine.count_tokens(t).unwrap_or(0);
    let (messages, used) =
        prompt::build_messages(BENCH_QUESTION, &[], &hits, &PromptBudget::default(), &count);
    let rendered = lawbrain::llm::template::chatml(&messages);
    let prompt_file = paths.data.join("bench").join("llm_prompt.txt");
    if let Some(dir) = prompt_file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&prompt_file, &rendered)?;
    let params = GenParams {
        max_tokens: gen_tokens,
        repeat_penalty: 1.0,
        draft_tokens: model.draft_tokens,
        ..GenParams::default()
    };
    println!("model: {}", engine.name());
    println!(
        "threads: {}",
        model
            .threads
            .map_or("all cores".to_string(), |t| t.to_string())
    );
    println!("load: {load_ms:.0} ms");
    println!(
        "guessing ahead: {}",
        if !lawbrain::llm::guessing_available() {
            "off (no AVX-512 VNNI)".to_string()
        } else if model.draft_tokens == 0 {
            "off (--draft-tokens 0)".to_string()
        } else {
            format!("up to {} tokens", model.draft_tokens)
        }
    );
    if let (Some(before), Some(after)) = (rss_before, lawbrain::bench::rss_mib()) {
        println!("RSS before load: {before:.0} MiB, after: {after:.0} MiB");
    }
    println!(
        "prompt: {} articles, written to {}",
        used,
        prompt_file.display()
    );
    let mut ttfts = Vec::new();
    let (mut pps, mut tgs) = (Vec::new(), Vec::new());
    let mut passes: std::collections::BTreeMap<usize, Vec<f64>> = Default::default();
    for run in 0..runs.max(1) {
        engine.reset_cache()?;
        let g = engine.generate_prompt(&rendered, &params, &mut |_| true)?;
        println!(
            "run {}: prompt {} tok, {:.1} tok/s; gen {} tok, {:.1} tok/s; ttft {:.0} ms; total {:.0} ms; guessed {} kept {}; stop {:?}",
            run + 1,
            g.stats.prompt_tokens,
            g.stats.prompt_tokens_per_s,
            g.stats.gen_tokens,
            g.stats.tokens_per_s,
            g.stats.ttft_ms,
            g.stats.total_ms,
            g.stats.draft_tokens,
            g.stats.draft_accepted,
            g.stop
        );
        if run == 0 {
            println!("text: {}", g.text.replace('\n', " "));
        }
        for (rows, ms) in &g.stats.passes {
            passes.entry(*rows).or_default().push(*ms);
        }
        ttfts.push(g.stats.ttft_ms);
        pps.push(g.stats.prompt_tokens_per_s);
        tgs.push(g.stats.tokens_per_s);
    }
    // TTFT when the fixed system prompt is already cached (the service's case).
    engine.reset_cache()?;
    let (warm_msgs, _) = prompt::build_messages(
        "邻居装修噪音很大怎么办？",
        &[],
        &hits[..1],
        &PromptBudget::default(),
        &count,
    );
    engine.generate_prompt(
        &lawbrain::llm::template::chatml(&warm_msgs),
        &GenParams {
            max_tokens: 1,
            ..params.clone()
        },
        &mut |_| true,
    )?;
    let g = engine.generate_prompt(
        &rendered,
        &GenParams {
            max_tokens: 1,
            ..params.clone()
        },
        &mut |_| true,
    )?;
    // The ceiling the weights' memory traffic puts on generation.
    let (bytes, secs) = engine.probe_matvec(10)?;
    use lawbrain::bench::percentile;
    println!("---");
    println!(
        "mat-vec over all weights: {:.0} MB in {:.1} ms = {:.1} GB/s (ceiling {:.1} tok/s)",
        bytes as f64 / 1e6,
        secs * 1000.0,
        bytes as f64 / secs / 1e9,
        1.0 / secs
    );
    println!("prompt tok/s p50: {:.1}", percentile(&pps, 50.0));
    println!("gen tok/s p50: {:.1}", percentile(&tgs, 50.0));
    println!("ttft p50 (cold): {:.0} ms", percentile(&ttfts, 50.0));
    // What a check of guessed tokens costs against a single step: the
    // numbers `--draft-tokens` trades off (README, "Guessing ahead").
    let per_rows: Vec<String> = passes
        .iter()
        .map(|(rows, ms)| format!("{rows}: {:.1} ms (x{})", percentile(ms, 50.0), ms.len()))
        .collect();
    if !per_rows.is_empty() {
        println!("decode pass p50 by rows fed: {}", per_rows.join(", "));
    }
    println!(
        "ttft (system prompt cached, {} of {} prompt tokens reused): {:.0} ms",
        g.stats.cached_prompt_tokens, g.stats.prompt_tokens, g.stats.ttft_ms
    );
    if let Some(rss) = lawbrain::bench::peak_rss_mib() {
        println!("peak RSS: {rss:.0} MiB");
    }
    Ok(())
}

/// `bench llm --llm-url`: the same question and articles through a remote
/// engine, timed as the service sees it (request to first text, text rate).
/// Each cold run starts the system prompt with a different run mark so the
/// server cannot reuse its cached prefix; the last run asks another question
/// after the same system prompt (the service's usual case, as in the local
/// bench).
fn bench_remote(
    opts: RemoteOptions,
    hits: &[Hit],
    gen_tokens: usize,
    runs: usize,
    tokens: Option<&lawbrain::llm::Tokens>,
) -> anyhow::Result<()> {
    let remote = RemoteBackend::new(opts)?;
    let count = |t: &str| match tokens.and_then(|k| k.encode(t).ok()) {
        Some(ids) => ids.len(),
        None => prompt::estimate_tokens(t),
    };
    let up = remote.probe();
    anyhow::ensure!(up > 0, "no --llm-url server answered GET /models");
    let (messages, used) =
        prompt::build_messages(BENCH_QUESTION, &[], hits, &PromptBudget::default(), &count);
    let params = GenParams {
        max_tokens: gen_tokens,
        repeat_penalty: 1.0,
        ..GenParams::default()
    };
    println!("engine: {} ({up} answering)", remote.name());
    println!(
        "prompt: {used} articles (token budget by {})",
        if tokens.is_some() {
            "the local model's tokenizer"
        } else {
            "estimate"
        }
    );
    let marked = |run: usize, msgs: &[lawbrain::llm::ChatMessage]| {
        let mut m = msgs.to_vec();
        if let Some(first) = m.first_mut() {
            first.content = format!("[bench run {run}]\n{}", first.content);
        }
        m
    };
    let (mut ttfts, mut tgs) = (Vec::new(), Vec::new());
    let started = Instant::now();
    let mut last = 0;
    for run in 0..runs.max(1) {
        last = run;
        let g = remote.generate(&marked(run, &messages), &params, &mut |_| true)?;
        println!(
            "run {}: gen {} pieces, {:.1} tok/s; ttft {:.0} ms; total {:.0} ms; stop {:?}",
            run + 1,
            g.stats.gen_tokens,
            g.stats.tokens_per_s,
            g.stats.ttft_ms,
            g.stats.total_ms,
            g.stop
        );
        if run == 0 {
            println!("text: {}", g.text.replace('\n', " "));
        }
        ttfts.push(g.stats.ttft_ms);
        tgs.push(g.stats.tokens_per_s);
    }
    let (warm_msgs, _) = prompt::build_messages(
        "邻居装修噪音很大怎么办？",
        &[],
        &hits[..1.min(hits.len())],
        &PromptBudget::default(),
        &count,
    );
    let warm = remote.generate(
        &marked(last, &warm_msgs),
        &GenParams {
            max_tokens: 1,
            ..params.clone()
        },
        &mut |_| true,
    )?;
    use lawbrain::bench::percentile;
    println!("---");
    println!("gen tok/s p50: {:.1}", percentile(&tgs, 50.0));
    println!("ttft p50 (cold): {:.0} ms", percentile(&ttfts, 50.0));
    println!(
        "ttft (system prompt cached by the server, if it caches): {:.0} ms",
        warm.stats.ttft_ms
    );
    println!("wall: {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
