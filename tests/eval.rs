//! Eval harness: resumable runs, retrieval-only case files, report escaping,
//! comparison, report listing, and the end-to-end `--no-llm` run on the dev set.

mod common;

use std::cell::Cell;

use lawbrain::eval::results::{EvalRun, RunMeta};
use lawbrain::eval::run::{CaseOutput, Pipeline, RetrievalPipeline};
use lawbrain::eval::{aggregate, cases, compare, list_reports, report, run_cases, write_report};
use lawbrain::progress::NoProgress;
use lawbrain::search::Hit;
use lawbrain::triage::{Directory, ReviewReason, Service, Triage};

fn hit(law: &str, article: u32) -> Hit {
    Hit {
        law: law.to_string(),
        article,
        suffix: 0,
        article_label: format!("第{article}条"),
        text: "条文".to_string(),
        score: 1.0,
        level: "法律".to_string(),
        status: "现行有效".to_string(),
        dense: None,
        rerank: None,
    }
}

fn triage(service: Service, review: bool) -> Triage {
    Triage {
        primary_service: service,
        services: vec![service],
        why: vec![],
        needs_review: review,
        review_reasons: if review {
            vec![ReviewReason::Complex]
        } else {
            vec![]
        },
        legal_aid: Default::default(),
        referral: Default::default(),
    }
}

/// Returns 民法典 article `n` first where the question is "qN"; counts calls;
/// fails on the questions listed in `fail`.
struct Fake {
    calls: Cell<usize>,
    fail: Vec<&'static str>,
}

impl Pipeline for Fake {
    fn name(&self) -> String {
        "fake".into()
    }
    fn llm(&self) -> bool {
        false
    }
    fn run(&self, question: &str) -> lawbrain::Result<CaseOutput> {
        self.calls.set(self.calls.get() + 1);
        if self.fail.contains(&question) {
            return Err(lawbrain::Error::InvalidInput("boom".into()));
        }
        let n: u32 = question.trim_start_matches('q').parse().unwrap_or(0);
        Ok(CaseOutput {
            hits: vec![
                hit("中华人民共和国民法典", n),
                hit("中华人民共和国民法典", 9999),
            ],
            triage: Some(triage(Service::Litigation, false)),
            answer: None,
            retrieval_ms: 1.0,
            total_ms: 2.0,
        })
    }
}

const CASES: &str = r#"{"id":"a","question":"q1","articles":[{"law":"民法典","article":1}],"primary_service":"litigation","services":["litigation"],"needs_review":false}
{"id":"b","question":"q2","articles":[{"law":"中华人民共和国民法典","article":9999}],"primary_service":"mediation","services":["mediation","litigation"],"needs_review":true,"review_reasons":["complex"]}
{"id":"c","question":"q3","articles":[{"law":"民法典","article":5}]}
"#;

#[test]
fn resume_skips_finished_cases_and_retries_failed_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ck = dir.path().join("ck.jsonl");
    let cases = cases::parse_cases(CASES).expect("cases");

    // First run: case c fails (as if interrupted there).
    let p = Fake {
        calls: Cell::new(0),
        fail: vec!["q3"],
    };
    let r1 = run_cases(&cases, &p, Some(&ck), false, &mut NoProgress).expect("run");
    assert_eq!(p.calls.get(), 3);
    assert!(r1[2].error.is_some());

    // Resume: only the failed case runs again.
    let p = Fake {
        calls: Cell::new(0),
        fail: vec![],
    };
    let r2 = run_cases(&cases, &p, Some(&ck), false, &mut NoProgress).expect("resume");
    assert_eq!(p.calls.get(), 1, "finished cases must not run again");
    assert_eq!(
        r2.iter().map(|r| r.id()).collect::<Vec<_>>(),
        vec!["a", "b", "c"]
    );
    assert!(r2.iter().all(|r| r.error.is_none()));
    assert_eq!(r2[0], r1[0], "resumed results are the recorded ones");

    // A torn last line (killed mid-write) is ignored.
    let mut text = std::fs::read_to_string(&ck).expect("read");
    text.push_str("{\"case\":{\"id\":\"x\"");
    std::fs::write(&ck, text).expect("write");
    let p = Fake {
        calls: Cell::new(0),
        fail: vec![],
    };
    run_cases(&cases, &p, Some(&ck), false, &mut NoProgress).expect("resume after torn line");
    assert_eq!(p.calls.get(), 0);

    // --fresh runs everything again; other cases do not reuse the checkpoint.
    let p = Fake {
        calls: Cell::new(0),
        fail: vec![],
    };
    run_cases(&cases, &p, Some(&ck), true, &mut NoProgress).expect("fresh");
    assert_eq!(p.calls.get(), 3);
    let p = Fake {
        calls: Cell::new(0),
        fail: vec![],
    };
    run_cases(&cases[..2], &p, Some(&ck), false, &mut NoProgress).expect("other cases");
    assert_eq!(p.calls.get(), 2);
}

#[test]
fn metrics_from_a_run_match_hand_computed_values() {
    let cases = cases::parse_cases(CASES).expect("cases");
    let p = Fake {
        calls: Cell::new(0),
        fail: vec![],
    };
    let results = run_cases(&cases, &p, None, false, &mut NoProgress).expect("run");
    let run = aggregate(RunMeta::default(), results, false);
    // a: gold at rank 1; b: gold 9999 at rank 2; c: gold 5 not retrieved (hits 3, 9999).
    assert!((run.retrieval.hit_at_1 - 1.0 / 3.0).abs() < 1e-12);
    assert!((run.retrieval.hit_at_5 - 2.0 / 3.0).abs() < 1e-12);
    assert!((run.retrieval.mrr - (1.0 + 0.5) / 3.0).abs() < 1e-12);
    // Triage labelled on a (litigation, right) and b (mediation, predicted litigation).
    assert_eq!(run.meta.measured.triage, 2);
    assert_eq!(run.triage.accuracy, 0.5);
    // litigation: P 1/2 R 1 F 2/3; mediation: F 0 -> macro 1/3.
    assert!((run.triage.macro_f1 - 1.0 / 3.0).abs() < 1e-12);
    // services recall: a 1/1, b 1/2 -> 0.75
    assert!((run.triage.services_recall - 0.75).abs() < 1e-12);
    assert_eq!(run.triage.confusion["mediation"]["litigation"], 1);
    // review: b needs review, never flagged.
    assert_eq!(run.review.recall, 0.0);
    assert_eq!(run.review.per_reason["complex"], 0.0);
    assert!(run.answer.is_none());
}

#[test]
fn retrieval_only_cases_file_works() {
    let text = "{\"id\":\"r1\",\"question\":\"q7\",\"articles\":[{\"law\":\"民法典\",\"article\":7}]}\n\
                {\"id\":\"r2\",\"question\":\"q8\",\"articles\":[{\"law\":\"民法典\",\"article\":80}]}\n";
    let cases = cases::parse_cases(text).expect("retrieval-only cases parse");
    let p = Fake {
        calls: Cell::new(0),
        fail: vec![],
    };
    let results = run_cases(&cases, &p, None, false, &mut NoProgress).expect("run");
    let run = aggregate(RunMeta::default(), results, false);
    assert_eq!(run.meta.measured.retrieval, 2);
    assert_eq!(run.meta.measured.triage, 0);
    assert_eq!(run.retrieval.hit_at_1, 0.5);
    let html = report::render_html(&run);
    assert!(html.contains("r1") && html.contains("r2"));
}

fn hostile_run() -> EvalRun {
    let text = r#"{"id":"x<b>","question":"<script>alert('pwned')</script>借钱不还怎么办","articles":[{"law":"民法典","article":1}],"key_points":["<img src=x onerror=alert(1)>"]}"#;
    let cases = cases::parse_cases(text).expect("cases");
    let p = Fake {
        calls: Cell::new(0),
        fail: vec![],
    };
    let results = run_cases(&cases, &p, None, false, &mut NoProgress).expect("run");
    aggregate(RunMeta::default(), results, false)
}

#[test]
fn report_escapes_hostile_text_and_lists() {
    let run = hostile_run();
    let html = report::render_html(&run);
    assert!(!html.contains("<script>alert"), "question must be escaped");
    assert!(html.contains("&lt;script&gt;"));
    assert!(!html.contains("x<b>"));
    assert!(html.contains("<svg"), "charts are inline SVG");

    let dir = tempfile::tempdir().expect("tempdir");
    write_report(&dir.path().join("run1"), &run).expect("write");
    std::fs::create_dir_all(dir.path().join("junk")).expect("mkdir");
    std::fs::write(dir.path().join("junk").join("metrics.json"), "not json").expect("write");
    let listed = list_reports(dir.path());
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "run1");
    assert_eq!(listed[0].cases, 1);
    let back = compare::load_run(&dir.path().join("run1").join("metrics.json")).expect("reload");
    assert_eq!(back.results.len(), 1);
}

#[test]
fn compare_reports_better_and_worse_cases() {
    let cases = cases::parse_cases(CASES).expect("cases");
    let good = Fake {
        calls: Cell::new(0),
        fail: vec![],
    };
    let bad = Fake {
        calls: Cell::new(0),
        fail: vec!["q1"],
    };
    let old = aggregate(
        RunMeta::default(),
        run_cases(&cases, &bad, None, false, &mut NoProgress).expect("run"),
        false,
    );
    let new = aggregate(
        RunMeta::default(),
        run_cases(&cases, &good, None, false, &mut NoProgress).expect("run"),
        false,
    );
    let c = compare::compare(&old, &new);
    assert_eq!(c.better.len(), 1);
    assert_eq!(c.better[0].id, "a");
    assert!(c.worse.is_empty());
    assert_eq!(c.unchanged, 2);
    let mrr = c
        .metrics
        .iter()
        .find(|m| m.name == "retrieval.mrr")
        .expect("mrr listed");
    assert!(mrr.delta().expect("delta") > 0.0);
    let back = compare::compare(&new, &old);
    assert_eq!(back.worse.len(), 1);
    assert!(compare::render_text(&c).contains("better: 1 cases"));
}

#[test]
fn dev_set_no_llm_end_to_end() {
    if !common::need_shared("the shared dev set") {
        return;
    }
    let searcher = common::searcher();
    let cases = cases::load_cases(&common::dev_cases()).expect("dev cases");
    let directory = Directory::builtin();
    let p = RetrievalPipeline {
        searcher: &searcher,
        directory: &directory,
        k: 10,
    };
    let results = run_cases(&cases, &p, None, false, &mut NoProgress).expect("run");
    let run = aggregate(RunMeta::default(), results, false);
    assert_eq!(run.meta.cases, cases.len());
    assert_eq!(run.meta.measured.errors, 0);
    let v = serde_json::to_value(&run).expect("json");
    for (section, keys) in [
        (
            "retrieval",
            &["hit_at_1", "hit_at_5", "hit_at_10", "recall_at_10", "mrr"][..],
        ),
        ("triage", &["accuracy", "macro_f1", "services_recall"][..]),
        ("review", &["precision", "recall"][..]),
    ] {
        for k in keys {
            let x = v[section][k].as_f64().unwrap_or(-1.0);
            assert!((0.0..=1.0).contains(&x), "{section}.{k} = {x}");
        }
    }
    for (reason, x) in &run.review.per_reason {
        assert!((0.0..=1.0).contains(x), "{reason}");
    }
    // A working retriever finds some gold articles in the top 10.
    assert!(run.retrieval.hit_at_10 > 0.0);
    eprintln!(
        "dev --no-llm: hit@1 {:.3} hit@5 {:.3} hit@10 {:.3} recall@10 {:.3} mrr {:.3} | triage acc {:.3} macro-F1 {:.3} | review P {:.3} R {:.3}",
        run.retrieval.hit_at_1,
        run.retrieval.hit_at_5,
        run.retrieval.hit_at_10,
        run.retrieval.recall_at_10,
        run.retrieval.mrr,
        run.triage.accuracy,
        run.triage.macro_f1,
        run.review.precision,
        run.review.recall
    );
}
