//! The record of one eval run (`metrics.json`): per-case results and the
//! aggregate metrics computed from them. The metric keys are fixed so runs
//! can be compared and scripted.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::cases::Case;
use super::metrics as m;
use crate::cite::CiteStatus;
use crate::triage::{ReviewReason, Service};

/// An article the pipeline retrieved for a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetrievedArticle {
    pub law: String,
    pub article: u32,
    #[serde(default)]
    pub suffix: u32,
    pub label: String,
    pub score: f32,
    /// One of the case's gold articles.
    pub gold: bool,
}

/// What triage predicted for a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictedTriage {
    pub primary_service: Service,
    pub services: Vec<Service>,
    pub needs_review: bool,
    pub review_reasons: Vec<ReviewReason>,
}

/// A citation of a drafted answer, as checked (the answer module's type).
pub use crate::answer::AnswerCitation as CitedArticle;

/// The drafted answer of a case (LLM runs only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerResult {
    pub text: String,
    pub citations: Vec<CitedArticle>,
    pub removed_citations: Vec<CitedArticle>,
    pub fallback: bool,
    #[serde(default)]
    pub fallback_reason: Option<String>,
    /// The answer shows prompt or chat-template internals.
    pub leak: bool,
    /// Per gold key point: covered by the answer.
    pub key_points_covered: Vec<bool>,
}

/// Timings of one case, in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CaseTimings {
    pub retrieval_ms: f64,
    pub ttft_ms: f64,
    pub total_ms: f64,
    pub gen_tokens: usize,
    pub tokens_per_s: f64,
}

/// The outcome of one case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    pub case: Case,
    pub retrieved: Vec<RetrievedArticle>,
    /// 1-based rank of the first gold article among the retrieved ones.
    pub first_gold_rank: Option<usize>,
    pub predicted: Option<PredictedTriage>,
    pub answer: Option<AnswerResult>,
    pub timings: CaseTimings,
    /// Why the pipeline failed on this case (the case then scores 0).
    #[serde(default)]
    pub error: Option<String>,
}

impl CaseResult {
    pub fn id(&self) -> &str {
        &self.case.id
    }

    fn gold_keys(&self) -> Vec<String> {
        self.case
            .articles
            .iter()
            .map(|a| super::cases::article_match_key(&a.law, a.article, a.suffix))
            .collect()
    }

    fn ranked_keys(&self) -> Vec<String> {
        self.retrieved
            .iter()
            .map(|a| super::cases::article_match_key(&a.law, a.article, a.suffix))
            .collect()
    }

    /// Retrieval scores of this case, when it has gold articles:
    /// (hit@1, hit@5, hit@10, recall@10, reciprocal rank).
    pub fn retrieval_scores(&self) -> Option<[f64; 5]> {
        if self.case.articles.is_empty() {
            return None;
        }
        let (g, r) = (self.gold_keys(), self.ranked_keys());
        Some([
            m::hit_at_k(&g, &r, 1),
            m::hit_at_k(&g, &r, 5),
            m::hit_at_k(&g, &r, 10),
            m::recall_at_k(&g, &r, 10),
            m::reciprocal_rank(&g, &r),
        ])
    }

    /// Key-point coverage of the answer, when there is an answer and key points.
    pub fn key_point_coverage(&self) -> Option<f64> {
        let a = self.answer.as_ref()?;
        if a.key_points_covered.is_empty() {
            return None;
        }
        Some(
            a.key_points_covered.iter().filter(|c| **c).count() as f64
                / a.key_points_covered.len() as f64,
        )
    }

    /// One quality number in 0..=1 for ordering cases (worst first) and for
    /// case-by-case comparison: the mean of the parts this case has labels
    /// for (reciprocal rank of the gold articles, primary service right,
    /// review flag right, key-point coverage). A failed case scores 0.
    pub fn score(&self) -> f64 {
        if self.error.is_some() {
            return 0.0;
        }
        let mut parts = Vec::new();
        if let Some(r) = self.retrieval_scores() {
            parts.push(r[4]);
        }
        if let (Some(g), Some(p)) = (self.case.primary_service, &self.predicted) {
            parts.push(if g == p.primary_service { 1.0 } else { 0.0 });
        }
        if let (Some(g), Some(p)) = (self.case.needs_review, &self.predicted) {
            parts.push(if g == p.needs_review { 1.0 } else { 0.0 });
        }
        if let Some(k) = self.key_point_coverage() {
            parts.push(k);
        }
        if parts.is_empty() {
            return 1.0;
        }
        m::mean(&parts)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RetrievalMetrics {
    pub hit_at_1: f64,
    pub hit_at_5: f64,
    pub hit_at_10: f64,
    pub recall_at_10: f64,
    pub mrr: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TriageMetrics {
    pub accuracy: f64,
    pub macro_f1: f64,
    pub services_recall: f64,
    /// gold service -> predicted service -> count.
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReviewMetrics {
    pub precision: f64,
    pub recall: f64,
    /// reason -> share of the cases with that gold reason that got it.
    pub per_reason: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AnswerMetrics {
    /// Share of drafted citations (kept and removed) that exist in force.
    pub citation_validity: f64,
    /// Share of kept citations that cite an article given to the model.
    pub grounding: f64,
    /// Share of drafted citations removed from the shown answer.
    pub removed_citation_rate: f64,
    /// Mean per-case share of key points covered (see the report for how).
    pub key_point_coverage: f64,
    pub fallback_rate: f64,
    pub leak_rate: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LatencyMetrics {
    pub retrieval_ms_p50: f64,
    pub retrieval_ms_p95: f64,
    pub ttft_ms_p50: f64,
    pub total_ms_p50: f64,
    /// Median generation speed over answered cases (0 without the LLM).
    pub tokens_per_s: f64,
}

/// How many cases each metric group was measured on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    pub retrieval: usize,
    pub triage: usize,
    pub review: usize,
    pub answer: usize,
    pub errors: usize,
}

/// About the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    pub cases_file: String,
    pub cases: usize,
    pub llm: bool,
    pub pipeline: String,
    pub started_at: String,
    pub finished_at: String,
    pub lawbrain_version: String,
    pub measured: Measured,
}

/// Accuracy of the primary service per gold service.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceScore {
    pub n: usize,
    pub accuracy: f64,
}

/// Everything `metrics.json` holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvalRun {
    pub meta: RunMeta,
    pub retrieval: RetrievalMetrics,
    pub triage: TriageMetrics,
    pub review: ReviewMetrics,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<AnswerMetrics>,
    pub latency: LatencyMetrics,
    pub per_service: BTreeMap<String, ServiceScore>,
    /// Per-case results, in case-file order.
    pub results: Vec<CaseResult>,
}

/// Compute every metric from per-case results. `llm` adds the answer metrics.
pub fn aggregate(meta: RunMeta, results: Vec<CaseResult>, llm: bool) -> EvalRun {
    let ok: Vec<&CaseResult> = results.iter().filter(|r| r.error.is_none()).collect();
    let mut measured = Measured {
        errors: results.len() - ok.len(),
        ..Measured::default()
    };

    // Failed cases count as misses wherever they have labels.
    let rs: Vec<[f64; 5]> = results
        .iter()
        .filter_map(|r| {
            r.retrieval_scores()
                .map(|s| if r.error.is_some() { [0.0; 5] } else { s })
        })
        .collect();
    measured.retrieval = rs.len();
    let col = |i: usize| m::mean(&rs.iter().map(|s| s[i]).collect::<Vec<_>>());
    let retrieval = RetrievalMetrics {
        hit_at_1: col(0),
        hit_at_5: col(1),
        hit_at_10: col(2),
        recall_at_10: col(3),
        mrr: col(4),
    };

    let mut primary: Vec<(String, String)> = Vec::new();
    let mut services: Vec<(Vec<Service>, Vec<Service>)> = Vec::new();
    let mut flag: Vec<(bool, bool)> = Vec::new();
    let mut reasons: Vec<(Vec<String>, Vec<String>)> = Vec::new();
    for r in &results {
        let pred = r.predicted.as_ref();
        if let Some(g) = r.case.primary_service {
            let p = pred.map(|p| p.primary_service.id()).unwrap_or("none");
            primary.push((g.id().to_string(), p.to_string()));
            services.push((
                r.case.services.clone(),
                pred.map(|p| p.services.clone()).unwrap_or_default(),
            ));
        }
        if let Some(g) = r.case.needs_review {
            flag.push((g, pred.is_some_and(|p| p.needs_review)));
            let ids = |v: &[ReviewReason]| v.iter().map(|x| x.id().to_string()).collect::<Vec<_>>();
            reasons.push((
                ids(&r.case.review_reasons),
                pred.map(|p| ids(&p.review_reasons)).unwrap_or_default(),
            ));
        }
    }
    measured.triage = primary.len();
    measured.review = flag.len();
    let triage = TriageMetrics {
        accuracy: m::accuracy(&primary),
        macro_f1: m::macro_f1(&primary),
        services_recall: m::set_recall(&services),
        confusion: m::confusion(&primary),
    };
    let per_service = m::per_label(&primary)
        .into_iter()
        .filter(|(_, s)| s.support > 0)
        .map(|(l, s)| {
            (
                l,
                ServiceScore {
                    n: s.support,
                    accuracy: s.recall,
                },
            )
        })
        .collect();
    let (precision, recall) = m::precision_recall(&flag);
    let review = ReviewMetrics {
        precision,
        recall,
        per_reason: m::per_label_recall(&reasons),
    };

    let answer = llm.then(|| {
        let answered: Vec<&AnswerResult> =
            results.iter().filter_map(|r| r.answer.as_ref()).collect();
        measured.answer = answered.len();
        let drafted: usize = answered
            .iter()
            .map(|a| a.citations.len() + a.removed_citations.len())
            .sum();
        let valid: usize = answered
            .iter()
            .flat_map(|a| a.citations.iter().chain(&a.removed_citations))
            .filter(|c| c.status == CiteStatus::Valid)
            .count();
        let kept: usize = answered.iter().map(|a| a.citations.len()).sum();
        let grounded: usize = answered
            .iter()
            .flat_map(|a| &a.citations)
            .filter(|c| c.in_context)
            .count();
        let removed: usize = answered.iter().map(|a| a.removed_citations.len()).sum();
        let kp: Vec<f64> = results
            .iter()
            .filter_map(|r| r.key_point_coverage())
            .collect();
        let n = results.len() as f64;
        AnswerMetrics {
            citation_validity: m::ratio(valid as f64, drafted as f64),
            grounding: m::ratio(grounded as f64, kept as f64),
            removed_citation_rate: m::ratio(removed as f64, drafted as f64),
            key_point_coverage: m::mean(&kp),
            // A case without an answer (failed) counts as a fallback.
            fallback_rate: m::ratio(
                results
                    .iter()
                    .filter(|r| r.answer.as_ref().is_none_or(|a| a.fallback))
                    .count() as f64,
                n,
            ),
            leak_rate: m::ratio(answered.iter().filter(|a| a.leak).count() as f64, n),
        }
    });

    let retr: Vec<f64> = ok.iter().map(|r| r.timings.retrieval_ms).collect();
    let answered: Vec<&&CaseResult> = ok.iter().filter(|r| r.answer.is_some()).collect();
    let latency = LatencyMetrics {
        retrieval_ms_p50: m::percentile(&retr, 50.0),
        retrieval_ms_p95: m::percentile(&retr, 95.0),
        ttft_ms_p50: m::percentile(
            &answered
                .iter()
                .map(|r| r.timings.ttft_ms)
                .collect::<Vec<_>>(),
            50.0,
        ),
        total_ms_p50: m::percentile(
            &ok.iter().map(|r| r.timings.total_ms).collect::<Vec<_>>(),
            50.0,
        ),
        tokens_per_s: m::percentile(
            &answered
                .iter()
                .filter(|r| r.timings.gen_tokens > 0)
                .map(|r| r.timings.tokens_per_s)
                .collect::<Vec<_>>(),
            50.0,
        ),
    };

    EvalRun {
        meta: RunMeta {
            cases: results.len(),
            llm,
            measured,
            ..meta
        },
        retrieval,
        triage,
        review,
        answer,
        latency,
        per_service,
        results,
    }
}
