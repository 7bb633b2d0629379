//! The cross-author test: train the router on one author's labelled cases,
//! triage the other author's, and the reverse. Our own batches
//! (`corpus/triage/examples.tsv`) against the cases another author labelled
//! by ROUTING.md (`shared/triage/train.jsonl`, copied to
//! `corpus/triage/policy_cases.jsonl`). Printed by `tests/triage.rs` and by
//! `lawbrain eval triage`.
//!
//! Which variant ships is chosen by cross-validation inside one author's
//! cases (5 folds), never by the cross-author figure, so that figure stays
//! held out. The hand-written rules were written on our own cases, so a
//! router that reads their scores is trained and tested on ours with the
//! scores recorded before any tuning on each batch
//! (`tests/data/triage_lobo_rules_*.tsv`); their review reasons have no
//! such record, so review figures on ours are not held out for variants
//! that add them. The report says which figure is which.

use super::router::{self, Config, LabelledCase, Router, Score};
use super::{Directory, Options, Reading, ReviewReason, Service, TRAIN_YEAR};

/// A way of routing that the harness measures.
#[derive(Debug, Clone, Copy)]
pub struct Variant {
    pub name: &'static str,
    /// Reads the hand-written rules' scores.
    pub reads_rules: bool,
    pub config: Config,
    pub options: Options,
}

/// The variants measured, the shipped one first.
pub fn variants() -> Vec<Variant> {
    let base = Config::default();
    let mut ngrams_only = base;
    ngrams_only.blocks.rules = false;
    let union = Options::default();
    let learned_reasons_only = Options {
        rule_reasons: false,
        ..Options::default()
    };
    vec![
        Variant {
            name: "router(n-grams + rule scores) + hard rules + rule review reasons [shipped]",
            reads_rules: true,
            config: base,
            options: union,
        },
        Variant {
            name: "the shipped variant without the out-of-scope detector",
            reads_rules: true,
            config: base,
            options: Options {
                scope_detector: false,
                ..Options::default()
            },
        },
        Variant {
            name: "router(n-grams + rule scores) + hard rules",
            reads_rules: true,
            config: base,
            options: learned_reasons_only,
        },
        Variant {
            name: "router(n-grams) + hard rules (no hand-written rule code)",
            reads_rules: false,
            config: ngrams_only,
            options: learned_reasons_only,
        },
        Variant {
            name: "router(n-grams + rule scores) + rule review reasons, no hard rules",
            reads_rules: true,
            config: base,
            options: Options {
                hard_rules: false,
                ..Options::default()
            },
        },
    ]
}

/// Labelled cases read once (the router's inputs and the rules' facts).
pub struct Set {
    pub name: String,
    pub cases: Vec<LabelledCase>,
    pub readings: Vec<Reading>,
}

impl Set {
    pub fn new(name: &str, cases: Vec<LabelledCase>) -> Set {
        let mut readings: Vec<Reading> = cases
            .iter()
            .map(|c| super::read_as(&c.question, &[], TRAIN_YEAR, false))
            .collect();
        // One batch through the vector store, not one question at a time.
        let questions: Vec<&str> = cases.iter().map(|c| c.question.as_str()).collect();
        super::router::embed_inputs(&questions, readings.iter_mut().map(|r| &mut r.inputs));
        Set {
            name: name.to_string(),
            cases,
            readings,
        }
    }

    /// Replace the rules' scores of the cases found in `recorded` (question
    /// -> scores) by the recorded ones; returns how many were replaced.
    pub fn use_recorded_rule_scores(
        &mut self,
        recorded: &std::collections::HashMap<String, [f32; 10]>,
    ) -> usize {
        let inputs = self.readings.iter_mut().map(|r| &mut r.inputs);
        super::router::use_recorded(&self.cases, inputs, recorded)
    }

    fn subset(&self, keep: impl Fn(usize) -> bool) -> (Vec<LabelledCase>, Vec<Reading>) {
        let idx: Vec<usize> = (0..self.cases.len()).filter(|i| keep(*i)).collect();
        (
            idx.iter().map(|i| self.cases[*i].clone()).collect(),
            idx.iter().map(|i| self.readings[*i].clone()).collect(),
        )
    }
}

fn route(
    r: &Router,
    v: &Variant,
    c: &LabelledCase,
    reading: &Reading,
    dir: &Directory,
) -> (Service, Vec<ReviewReason>) {
    let t = super::triage_reading(r, &v.options, &c.question, reading.clone(), &[], dir);
    (t.primary_service, t.review_reasons)
}

fn train(cases: &[LabelledCase], readings: &[Reading], v: &Variant) -> Router {
    let inputs: Vec<router::Inputs> = readings.iter().map(|r| r.inputs.clone()).collect();
    Router::train(cases, &inputs, v.config)
}

/// Train on `train`, score on `test`.
pub fn cross(train_set: &Set, test: &Set, v: &Variant) -> Score {
    let dir = Directory::builtin();
    let r = train(&train_set.cases, &train_set.readings, v);
    let preds: Vec<(Service, Vec<ReviewReason>)> = test
        .cases
        .iter()
        .zip(&test.readings)
        .map(|(c, rd)| route(&r, v, c, rd, &dir))
        .collect();
    Score::of(&test.cases, &preds)
}

/// k-fold cross-validation inside one set (fold = index mod k).
pub fn cross_validate(set: &Set, v: &Variant, k: usize) -> Score {
    let dir = Directory::builtin();
    let mut preds = vec![(Service::Consultation, Vec::new()); set.cases.len()];
    for fold in 0..k {
        let (tc, tr) = set.subset(|i| i % k != fold);
        let r = train(&tc, &tr, v);
        for i in (0..set.cases.len()).filter(|i| i % k == fold) {
            preds[i] = route(&r, v, &set.cases[i], &set.readings[i], &dir);
        }
    }
    Score::of(&set.cases, &preds)
}

/// Today's pipeline before the router (rules + naive-Bayes voter trained on
/// our cases) on `test`.
pub fn legacy(test: &Set) -> Score {
    let dir = Directory::builtin();
    let preds: Vec<(Service, Vec<ReviewReason>)> = test
        .cases
        .iter()
        .map(|c| {
            let t = super::legacy_triage_in_year(&c.question, &[], &dir, TRAIN_YEAR);
            (
                t.primary_service,
                t.review_reasons
                    .into_iter()
                    .filter(|r| router::REASONS.contains(r))
                    .collect(),
            )
        })
        .collect();
    Score::of(&test.cases, &preds)
}

/// The whole report: the legacy baseline, then each variant both ways
/// (and, with `cv`, 5-fold cross-validation inside each author's cases).
pub fn report(ours: &Set, theirs: &Set, cv: bool) -> String {
    let mut out = String::new();
    let line = |out: &mut String, s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(
        &mut out,
        format!(
            "cross-author triage: ours = {} ({} cases), theirs = {} ({} cases); the router {} the sentence embedding",
            ours.name,
            ours.cases.len(),
            theirs.name,
            theirs.cases.len(),
            if ours.readings.iter().any(|r| r.inputs.embedding.is_some()) {
                "reads"
            } else {
                "does NOT read (encoder not set up: run `lawbrain setup`)"
            }
        ),
    );
    line(
        &mut out,
        format!(
            "legacy pipeline (rules + voter, both tuned on ours) ours->theirs: {}",
            legacy(theirs).line()
        ),
    );
    for v in variants() {
        line(&mut out, format!("== {}", v.name));
        let ot = cross(ours, theirs, &v);
        line(
            &mut out,
            format!("  ours->theirs (held out): {}", ot.line()),
        );
        line(
            &mut out,
            format!("    most frequent errors: {}", ot.confusion_line(8)),
        );
        let note = match (v.reads_rules, v.options.rule_reasons) {
            (_, true) => "primary held out (ours read with the rule scores recorded before tuning on each batch); review figures NOT held out: the hand-written review reasons were tuned on ours",
            (true, false) => "held out (ours read with the rule scores recorded before tuning on each batch)",
            _ => "held out",
        };
        let to = cross(theirs, ours, &v);
        line(&mut out, format!("  theirs->ours ({note}): {}", to.line()));
        line(
            &mut out,
            format!("    most frequent errors: {}", to.confusion_line(8)),
        );
        if cv {
            line(
                &mut out,
                format!(
                    "  5-fold inside ours: {}",
                    cross_validate(ours, &v, 5).line()
                ),
            );
            line(
                &mut out,
                format!(
                    "  5-fold inside theirs: {}",
                    cross_validate(theirs, &v, 5).line()
                ),
            );
        }
    }
    out
}

/// [`report`] with our built-in cases against `theirs` (a JSONL file; the
/// built-in copy of the other author's cases when `None`).
pub fn report_files(theirs: Option<&std::path::Path>, cv: bool) -> crate::Result<String> {
    let mut ours = Set::new("corpus/triage/examples.tsv", router::our_cases()?);
    ours.use_recorded_rule_scores(&router::recorded_rule_scores());
    let theirs = match theirs {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| crate::Error::InvalidInput(format!("{}: {e}", p.display())))?;
            let cases = router::parse_jsonl(&text, &p.display().to_string())?;
            if cases.is_empty() {
                return Err(crate::Error::InvalidInput(format!(
                    "{}: no labelled cases",
                    p.display()
                )));
            }
            Set::new(&p.display().to_string(), cases)
        }
        None => Set::new("corpus/triage/policy_cases.jsonl", router::policy_cases()?),
    };
    Ok(report(&ours, &theirs, cv))
}
