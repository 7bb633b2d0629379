//! `lawbrain eval compare OLD.json NEW.json`: metric deltas and, case by
//! case, what got better and what got worse.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use super::results::{CaseResult, EvalRun};
use crate::error::IoContext;
use crate::{Error, Result};

/// One metric in both runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricDelta {
    /// `retrieval.mrr`, `review.per_reason.minor`, ...
    pub name: String,
    pub old: Option<f64>,
    pub new: Option<f64>,
}

impl MetricDelta {
    pub fn delta(&self) -> Option<f64> {
        Some(self.new? - self.old?)
    }
}

/// A case whose score changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseChange {
    pub id: String,
    pub question: String,
    pub old_score: f64,
    pub new_score: f64,
    /// What differs (gold rank, service, review flag, key points, errors).
    pub what: Vec<String>,
}

/// The comparison of two runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub metrics: Vec<MetricDelta>,
    /// Most improved first.
    pub better: Vec<CaseChange>,
    /// Most worsened first.
    pub worse: Vec<CaseChange>,
    pub unchanged: usize,
    pub only_old: Vec<String>,
    pub only_new: Vec<String>,
}

/// Load a `metrics.json`.
pub fn load_run(path: &Path) -> Result<EvalRun> {
    let text = std::fs::read_to_string(path).ctx(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        Error::InvalidInput(format!(
            "{} is not an eval metrics.json: {e}",
            path.display()
        ))
    })
}

fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, f64>) {
    match v {
        Value::Number(n) => {
            if let Some(f) = n.as_f64() {
                out.insert(prefix.to_string(), f);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                flatten(&format!("{prefix}.{k}"), v, out);
            }
        }
        _ => {}
    }
}

fn metric_values(run: &EvalRun) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    let v = serde_json::to_value(run).unwrap_or(Value::Null);
    for section in ["retrieval", "triage", "review", "answer", "latency"] {
        if let Some(s) = v.get(section) {
            let mut s = s.clone();
            if let Some(o) = s.as_object_mut() {
                o.remove("confusion");
            }
            flatten(section, &s, &mut out);
        }
    }
    out
}

fn describe(old: &CaseResult, new: &CaseResult) -> Vec<String> {
    let mut what = Vec::new();
    let rank = |r: &CaseResult| {
        r.first_gold_rank
            .map(|x| x.to_string())
            .unwrap_or_else(|| "-".into())
    };
    if !new.case.articles.is_empty() && old.first_gold_rank != new.first_gold_rank {
        what.push(format!("gold article rank {} -> {}", rank(old), rank(new)));
    }
    let svc = |r: &CaseResult| {
        r.predicted
            .as_ref()
            .map(|p| p.primary_service.id())
            .unwrap_or("-")
    };
    if svc(old) != svc(new) {
        let gold = new.case.primary_service.map(|s| s.id()).unwrap_or("?");
        what.push(format!(
            "service {} -> {} (gold {gold})",
            svc(old),
            svc(new)
        ));
    }
    let flag = |r: &CaseResult| r.predicted.as_ref().map(|p| p.needs_review);
    if flag(old) != flag(new) {
        what.push(format!(
            "needs_review {:?} -> {:?} (gold {:?})",
            flag(old),
            flag(new),
            new.case.needs_review
        ));
    }
    if old.key_point_coverage() != new.key_point_coverage() {
        what.push(format!(
            "key points {:.2} -> {:.2}",
            old.key_point_coverage().unwrap_or(0.0),
            new.key_point_coverage().unwrap_or(0.0)
        ));
    }
    if old.error.is_some() != new.error.is_some() {
        what.push(if new.error.is_some() {
            "now fails".into()
        } else {
            "no longer fails".into()
        });
    }
    what
}

/// Compare two runs case by case (matched by id).
pub fn compare(old: &EvalRun, new: &EvalRun) -> Comparison {
    let (om, nm) = (metric_values(old), metric_values(new));
    let mut names: Vec<&String> = om.keys().chain(nm.keys()).collect();
    names.sort();
    names.dedup();
    let metrics = names
        .into_iter()
        .map(|n| MetricDelta {
            name: n.clone(),
            old: om.get(n).copied(),
            new: nm.get(n).copied(),
        })
        .collect();
    let old_by: BTreeMap<&str, &CaseResult> = old.results.iter().map(|r| (r.id(), r)).collect();
    let new_ids: std::collections::HashSet<&str> = new.results.iter().map(|r| r.id()).collect();
    let (mut better, mut worse, mut unchanged, mut only_new) =
        (Vec::new(), Vec::new(), 0, Vec::new());
    for n in &new.results {
        let Some(o) = old_by.get(n.id()) else {
            only_new.push(n.id().to_string());
            continue;
        };
        let (os, ns) = (o.score(), n.score());
        let change = CaseChange {
            id: n.id().to_string(),
            question: n.case.question.clone(),
            old_score: os,
            new_score: ns,
            what: describe(o, n),
        };
        if ns > os + 1e-9 {
            better.push(change);
        } else if ns < os - 1e-9 {
            worse.push(change);
        } else {
            unchanged += 1;
        }
    }
    better.sort_by(|a, b| (b.new_score - b.old_score).total_cmp(&(a.new_score - a.old_score)));
    worse.sort_by(|a, b| (a.new_score - a.old_score).total_cmp(&(b.new_score - b.old_score)));
    let only_old = old
        .results
        .iter()
        .filter(|r| !new_ids.contains(r.id()))
        .map(|r| r.id().to_string())
        .collect();
    Comparison {
        metrics,
        better,
        worse,
        unchanged,
        only_old,
        only_new,
    }
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.3}")).unwrap_or_else(|| "-".into())
}

/// Plain-text rendering for the terminal.
pub fn render_text(c: &Comparison) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<40} {:>10} {:>10} {:>10}",
        "metric", "old", "new", "delta"
    );
    for m in &c.metrics {
        let d = m
            .delta()
            .map(|d| format!("{d:+.3}"))
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(
            s,
            "{:<40} {:>10} {:>10} {:>10}",
            m.name,
            fmt_opt(m.old),
            fmt_opt(m.new),
            d
        );
    }
    for (title, list) in [("better", &c.better), ("worse", &c.worse)] {
        let _ = writeln!(s, "\n{title}: {} cases", list.len());
        for ch in list {
            let q: String = ch.question.chars().take(40).collect();
            let _ = writeln!(
                s,
                "  {} {:.2} -> {:.2}  {}  [{}]",
                ch.id,
                ch.old_score,
                ch.new_score,
                q,
                ch.what.join("; ")
            );
        }
    }
    let _ = writeln!(s, "\nunchanged: {}", c.unchanged);
    if !c.only_old.is_empty() {
        let _ = writeln!(s, "only in old: {}", c.only_old.join(", "));
    }
    if !c.only_new.is_empty() {
        let _ = writeln!(s, "only in new: {}", c.only_new.join(", "));
    }
    s
}
