//! Running cases through the pipeline: one case at a time in file order
//! (deterministic), with progress, appending each finished case to a JSONL
//! checkpoint so an interrupted run resumes where it stopped.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use sha2::{Digest, Sha256};

use super::cases::{article_match_key, Case};
use super::keypoints;
use super::results::{AnswerResult, CaseResult, CaseTimings, PredictedTriage, RetrievedArticle};
use crate::answer::prompt::secret_sentences;
use crate::answer::{Answer, Brain, ConsultOptions};
use crate::error::IoContext;
use crate::progress::Progress;
use crate::search::{Hit, SearchOptions, Searcher};
use crate::triage::{Directory, Triage};
use crate::{Error, Result};

/// What the pipeline produced for one question.
#[derive(Debug, Clone)]
pub struct CaseOutput {
    pub hits: Vec<Hit>,
    pub triage: Option<Triage>,
    pub answer: Option<Answer>,
    pub retrieval_ms: f64,
    pub total_ms: f64,
}

/// Something that answers a question for the eval.
pub trait Pipeline {
    /// Names the pipeline in the run's metadata and checkpoint fingerprint.
    fn name(&self) -> String;
    /// Whether answers are drafted by a model.
    fn llm(&self) -> bool;
    fn run(&self, question: &str) -> Result<CaseOutput>;
}

/// Search + triage, no model (`--no-llm`).
pub struct RetrievalPipeline<'a> {
    pub searcher: &'a Searcher,
    pub directory: &'a Directory,
    pub k: usize,
}

impl Pipeline for RetrievalPipeline<'_> {
    fn name(&self) -> String {
        format!("search+triage k={} ({})", self.k, self.searcher.describe())
    }
    fn llm(&self) -> bool {
        false
    }
    fn run(&self, question: &str) -> Result<CaseOutput> {
        let t0 = Instant::now();
        let opts = SearchOptions {
            k: self.k,
            ..SearchOptions::default()
        };
        let hits = self.searcher.search(question, &opts)?;
        let retrieval_ms = t0.elapsed().as_secs_f64() * 1000.0;
        let triage = crate::triage::triage(question, &hits, self.directory);
        Ok(CaseOutput {
            hits,
            triage: Some(triage),
            answer: None,
            retrieval_ms,
            total_ms: t0.elapsed().as_secs_f64() * 1000.0,
        })
    }
}

/// The full consultation: search, triage, drafted answer, citation checks.
pub struct BrainPipeline<'a> {
    pub brain: &'a Brain,
    pub backend_name: String,
    pub options: ConsultOptions,
}

impl Pipeline for BrainPipeline<'_> {
    fn name(&self) -> String {
        format!(
            "consult {} k={} ({})",
            self.backend_name,
            self.options.k,
            self.brain.searcher.describe()
        )
    }
    fn llm(&self) -> bool {
        self.brain.backend.is_some()
    }
    fn run(&self, question: &str) -> Result<CaseOutput> {
        let answer = self
            .brain
            .consult_with(question, &[], &self.options, &mut |_| true)?;
        Ok(CaseOutput {
            hits: answer.retrieved.clone(),
            triage: Some(answer.triage.clone()),
            retrieval_ms: answer.timings.retrieval_ms,
            total_ms: answer.timings.total_ms,
            answer: Some(answer),
        })
    }
}

/// Whether an answer shows internals: chat-template tokens, the prompt's
/// tags, or the opening words (12 characters) of a rule of the system
/// prompt. Only openings count: later parts of the rules include advice the
/// model is meant to give (call 12348, ...), which is no leak.
pub fn leaks(text: &str) -> bool {
    const MARKERS: &[&str] = &[
        "<|im_start|>",
        "<|im_end|>",
        "<|endoftext|>",
        "<articles>",
        "</articles>",
        "<question>",
        "</question>",
        "system prompt",
        "系统提示词",
    ];
    const OPENING: usize = 12;
    let lower = text.to_lowercase();
    if MARKERS.iter().any(|m| lower.contains(m)) {
        return true;
    }
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    secret_sentences().iter().any(|sentence| {
        let rule = sentence
            .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.' || c.is_whitespace());
        if rule.starts_with("你是") {
            // The assistant saying who it is reveals nothing.
            return false;
        }
        let opening: String = rule
            .chars()
            .filter(|c| !c.is_whitespace())
            .take(OPENING)
            .collect();
        opening.chars().count() == OPENING && compact.contains(&opening)
    })
}

/// Turn one pipeline output into a case result (pure).
pub fn score_case(case: &Case, out: CaseOutput) -> CaseResult {
    let gold: Vec<String> = case
        .articles
        .iter()
        .map(|a| article_match_key(&a.law, a.article, a.suffix))
        .collect();
    let retrieved: Vec<RetrievedArticle> = out
        .hits
        .iter()
        .map(|h| RetrievedArticle {
            law: h.law.clone(),
            article: h.article,
            suffix: h.suffix,
            label: h.article_label.clone(),
            score: h.score,
            gold: gold.contains(&article_match_key(&h.law, h.article, h.suffix)),
        })
        .collect();
    let first_gold_rank = retrieved.iter().position(|r| r.gold).map(|i| i + 1);
    let predicted = out.triage.map(|t| PredictedTriage {
        primary_service: t.primary_service,
        services: t.services,
        needs_review: t.needs_review,
        review_reasons: t.review_reasons,
    });
    let mut timings = CaseTimings {
        retrieval_ms: out.retrieval_ms,
        total_ms: out.total_ms,
        ..CaseTimings::default()
    };
    let answer = out.answer.map(|a| {
        timings.ttft_ms = a.timings.ttft_ms;
        timings.gen_tokens = a.timings.gen_tokens;
        timings.tokens_per_s = a.timings.tokens_per_s;
        AnswerResult {
            leak: leaks(&a.answer),
            key_points_covered: keypoints::covered(&case.key_points, &a.answer),
            citations: a.citations.clone(),
            removed_citations: a.removed_citations.clone(),
            fallback: a.fallback,
            fallback_reason: a.fallback_reason,
            text: a.answer,
        }
    });
    CaseResult {
        case: case.clone(),
        retrieved,
        first_gold_rank,
        predicted,
        answer,
        timings,
        error: None,
    }
}

/// Fingerprint of a run: the cases and the pipeline. A checkpoint written
/// under another fingerprint is not resumed.
pub fn fingerprint(cases: &[Case], pipeline: &str) -> String {
    let mut h = Sha256::new();
    h.update(pipeline.as_bytes());
    for c in cases {
        h.update(serde_json::to_vec(c).unwrap_or_default());
        h.update(b"\n");
    }
    hex::encode(&h.finalize()[..12])
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Header {
    checkpoint: u32,
    fingerprint: String,
}

/// Finished results in a checkpoint written under `fp` (empty when the file
/// is missing or belongs to another run). A torn last line is ignored.
fn read_checkpoint(path: &Path, fp: &str) -> Result<Option<HashMap<String, CaseResult>>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::io(
                format!("reading checkpoint {}", path.display()),
                e,
            ))
        }
    };
    let mut lines = text.lines();
    let header: Option<Header> = lines.next().and_then(|l| serde_json::from_str(l).ok());
    match header {
        Some(h) if h.fingerprint == fp => {}
        _ => {
            tracing::warn!(path = %path.display(), "checkpoint is from another run; starting over");
            return Ok(None);
        }
    }
    let mut done = HashMap::new();
    for l in lines {
        match serde_json::from_str::<CaseResult>(l) {
            Ok(r) => {
                done.insert(r.case.id.clone(), r);
            }
            Err(e) => tracing::warn!("skipping unreadable checkpoint line: {e}"),
        }
    }
    Ok(Some(done))
}

/// Run `cases` through `pipeline` in order. With a checkpoint path, finished
/// cases are appended to it as they complete, and cases already finished
/// there (same cases, same pipeline) are not run again unless `fresh`.
/// A case the pipeline fails on is recorded with its error (and retried on
/// the next resume).
pub fn run_cases(
    cases: &[Case],
    pipeline: &dyn Pipeline,
    checkpoint: Option<&Path>,
    fresh: bool,
    progress: &mut dyn Progress,
) -> Result<Vec<CaseResult>> {
    let fp = fingerprint(cases, &pipeline.name());
    let mut done = HashMap::new();
    let mut file = None;
    if let Some(path) = checkpoint {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).ctx(|| format!("creating {}", parent.display()))?;
        }
        let previous = if fresh {
            None
        } else {
            read_checkpoint(path, &fp)?
        };
        let resumed = previous.is_some();
        done = previous.unwrap_or_default();
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(resumed)
            .write(true)
            .truncate(!resumed)
            .open(path)
            .ctx(|| format!("opening checkpoint {}", path.display()))?;
        if !resumed {
            let h = serde_json::to_string(&Header {
                checkpoint: 1,
                fingerprint: fp.clone(),
            })?;
            writeln!(f, "{h}").ctx(|| format!("writing {}", path.display()))?;
        }
        file = Some(f);
    }

    progress.start("eval cases", cases.len() as u64);
    let mut results = Vec::with_capacity(cases.len());
    let mut skipped = 0usize;
    for case in cases {
        if let Some(r) = done.remove(&case.id) {
            skipped += 1;
            results.push(r);
            progress.advance(1);
            continue;
        }
        let result = match pipeline.run(&case.question) {
            Ok(out) => score_case(case, out),
            Err(e) => {
                tracing::warn!(id = %case.id, "case failed: {e}");
                let mut r = score_case(
                    case,
                    CaseOutput {
                        hits: vec![],
                        triage: None,
                        answer: None,
                        retrieval_ms: 0.0,
                        total_ms: 0.0,
                    },
                );
                r.error = Some(e.to_string());
                r
            }
        };
        if let (Some(f), None) = (file.as_mut(), &result.error) {
            let line = serde_json::to_string(&result)?;
            writeln!(f, "{line}").ctx(|| "writing checkpoint".to_string())?;
            f.flush().ctx(|| "writing checkpoint".to_string())?;
        }
        results.push(result);
        progress.advance(1);
    }
    progress.finish(&format!(
        "{} cases ({} resumed from checkpoint)",
        results.len(),
        skipped
    ));
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leak_detection() {
        assert!(leaks("好的<|im_start|>system"));
        assert!(leaks(
            "我的规则是：只依据用户消息中<articles>标签内提供的法律条文回答"
        ));
        assert!(leaks("我的规则：用通俗易懂的中文回答，只写两部分。"));
        assert!(!leaks(
            "现有条文不足以回答这个问题，建议拨打12348公共法律服务热线。"
        ));
        assert!(!leaks(
            "结论：可以要求对方还款。依据：《中华人民共和国民法典》第六百七十五条。"
        ));
    }
}
