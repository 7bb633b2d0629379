//! Grounded answers: retrieve articles, build the prompt, draft with a
//! [`crate::llm::Backend`], verify every citation, fall back to an extractive
//! answer when the model fails, and attach the triage.

use serde::{Deserialize, Serialize};

pub mod extractive;
pub mod gate;
pub mod hold;
pub mod prompt;
pub mod steps;
pub mod stream_filter;
pub mod verify;

pub use prompt::{PromptBudget, SYSTEM_PROMPT};

use crate::cite::CiteStatus;
use crate::search::Hit;
use crate::triage::Triage;

/// A citation in a drafted answer, after checking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerCitation {
    pub law: String,
    pub article: u32,
    #[serde(default)]
    pub suffix: u32,
    pub status: CiteStatus,
    /// Whether the article was among the retrieved articles given to the model.
    pub in_context: bool,
}

/// Timings of one answer. Part of the `ask --json` shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    pub retrieval_ms: f64,
    pub prompt_tokens: usize,
    pub ttft_ms: f64,
    pub gen_tokens: usize,
    pub tokens_per_s: f64,
    pub total_ms: f64,
    /// Tokens the local engine guessed ahead (prompt lookup) and checked;
    /// of those, the ones the model kept.
    #[serde(default)]
    pub draft_tokens: usize,
    #[serde(default)]
    pub draft_accepted: usize,
}

/// A complete consultation answer. The JSON shape of `lawbrain ask --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub question: String,
    /// The answer shown to the person (invalid citations removed).
    pub answer: String,
    pub citations: Vec<AnswerCitation>,
    /// Citations removed from the shown answer (not found / not in force).
    pub removed_citations: Vec<AnswerCitation>,
    pub retrieved: Vec<Hit>,
    /// True when the extractive fallback was used instead of the model.
    pub fallback: bool,
    /// Why the fallback was used, if it was.
    #[serde(default)]
    pub fallback_reason: Option<String>,
    pub triage: Triage,
    pub timings: Timings,
    /// The parts of the answer built from verified sources (next steps,
    /// article notes) and whether the answer abstained.
    #[serde(default)]
    pub guide: Guide,
}

/// What the answer is built from besides the model's words.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Guide {
    /// True when the retrieved articles did not address the question and no
    /// draft was made from them (the answer says so and gives the route).
    #[serde(default)]
    pub abstained: bool,
    /// The 结论 of the answer (the model's, or the abstention's).
    #[serde(default)]
    pub conclusion: String,
    /// The next steps (建议), built from triage and the referral directory.
    #[serde(default)]
    pub steps: Vec<steps::Step>,
    /// The relevance gate's verdict on each retrieved article.
    #[serde(default)]
    pub gate: gate::GateReport,
    /// True when the drafted 结论 denied the asker something and was held
    /// back for staff ([`hold`]); the answer then quotes the articles.
    #[serde(default)]
    pub held: bool,
    /// The held 结论, for the review queue only: never sent to the asker.
    #[serde(skip)]
    pub held_conclusion: Option<String>,
}

use crate::llm::{Backend, ChatMessage, GenParams, StopReason};
use crate::search::{SearchOptions, Searcher};
use crate::triage::{Directory, ReviewReason};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Events of one consultation, in the order they happen.
#[derive(Debug, Clone)]
pub enum ConsultEvent<'a> {
    /// Triage is ready (before generation starts).
    Triage(&'a Triage),
    /// Retrieved articles are ready.
    Hits(&'a [Hit]),
    /// A piece of the drafted answer.
    Delta(&'a str),
}

/// Everything one consultation needs, opened once and shared.
pub struct Brain {
    pub searcher: Arc<Searcher>,
    pub directory: Arc<Directory>,
    /// `None`: extractive answers only.
    pub backend: Option<Arc<dyn Backend>>,
    /// Sampling and limits. A `deadline` here is absolute; prefer
    /// [`ConsultOptions::timeout`] for a per-question limit.
    pub params: GenParams,
}

/// Per-call knobs of [`Brain::consult_with`].
#[derive(Debug, Clone)]
pub struct ConsultOptions {
    /// Articles retrieved.
    pub k: usize,
    /// Generation stops this long after the call starts (then fallback).
    pub timeout: Option<Duration>,
    pub budget: PromptBudget,
    /// Draft from these articles instead of retrieving (all pass the gate):
    /// the oracle-context measurement gives the gold articles here.
    pub articles: Option<Vec<Hit>>,
    /// Hold back a drafted 结论 that denies the asker something ([`hold`]).
    /// On by default; studies turn it off to see the draft.
    pub hold_denials: bool,
    /// How the 结论 is asked for.
    pub style: prompt::DraftStyle,
}

impl Default for ConsultOptions {
    fn default() -> Self {
        ConsultOptions {
            k: 8,
            timeout: Some(Duration::from_secs(120)),
            budget: PromptBudget::default(),
            articles: None,
            hold_denials: true,
            style: prompt::DraftStyle::Verdict,
        }
    }
}

/// The 结论 shown when no retrieved article addresses the question.
pub const ABSTAIN_CONCLUSION: &str = "系统没有找到能直接回答您这个问题的法律条文。为避免给出错误的解答，这里不作法律结论；您的问题已转请工作人员复核，也可以按下面的途径办理或咨询。";

/// The 结论 part of an answer text (up to 依据/建议 or a blank line).
pub fn conclusion_of(text: &str) -> String {
    let start = text.find("结论：").map_or(0, |i| i + "结论：".len());
    let rest = &text[start..];
    let end = ["\n\n", "依据：", "建议："]
        .iter()
        .filter_map(|m| rest.find(m))
        .min()
        .unwrap_or(rest.len());
    rest[..end].trim().to_string()
}

/// Share of the question's CJK character pairs found in the top articles
/// (0..=1): a scale-free signal of how well retrieval matched.
pub fn retrieval_overlap(question: &str, hits: &[Hit]) -> f64 {
    let chars: Vec<char> = question
        .chars()
        .filter(|c| *c as u32 >= 0x4E00 && (*c as u32) <= 0x9FFF)
        .collect();
    if chars.len() < 2 {
        return if hits.is_empty() { 0.0 } else { 1.0 };
    }
    let text: String = hits
        .iter()
        .take(3)
        .map(|h| format!("{}{}", h.law, h.text))
        .collect();
    let pairs: Vec<String> = chars.windows(2).map(|w| w.iter().collect()).collect();
    let found = pairs.iter().filter(|p| text.contains(p.as_str())).count();
    found as f64 / pairs.len() as f64
}

/// Below this overlap retrieval counts as weak (`low_confidence`).
pub const LOW_OVERLAP: f64 = 0.12;

/// Whether a drafted text can be shown: it says something and grounds it.
fn usable(text: &str, valid_citations: usize) -> bool {
    let t = text.trim();
    t.chars().count() >= 10 && (t.contains("依据") || valid_citations > 0)
}

/// The articles the drafter is given: those that passed the gate, each with
/// its key sentence marked.
pub fn prompt_articles(hits: &[Hit], report: &gate::GateReport) -> Vec<Hit> {
    report
        .passed()
        .into_iter()
        .filter_map(|i| {
            let mut h = hits.get(i)?.clone();
            let key = report
                .articles
                .get(i)
                .map_or("", |a| a.key_sentence.as_str());
            h.text = prompt::highlight(&h.text, key);
            Some(h)
        })
        .collect()
}

/// Citations of articles quoted (not drafted from): the first `n` of `hits`.
fn quoted_citations(hits: &[Hit], n: usize) -> Vec<AnswerCitation> {
    hits.iter()
        .take(n)
        .map(|h| AnswerCitation {
            law: h.law.clone(),
            article: h.article,
            suffix: h.suffix,
            status: CiteStatus::Valid,
            in_context: true,
        })
        .collect()
}

fn add_reason(triage: &mut Triage, r: ReviewReason) {
    if !triage.review_reasons.contains(&r) {
        triage.review_reasons.push(r);
    }
    triage.needs_review = true;
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl Brain {
    /// Answer `question` (with earlier turns in `history`). `on_event` returning
    /// `false` cancels generation.
    pub fn consult(
        &self,
        question: &str,
        history: &[ChatMessage],
        on_event: &mut dyn FnMut(ConsultEvent<'_>) -> bool,
    ) -> crate::Result<Answer> {
        self.consult_with(question, history, &ConsultOptions::default(), on_event)
    }

    /// [`Brain::consult`] with explicit options.
    ///
    /// Retrieve, triage, gate (do the articles address the question?), then
    /// either abstain (no draft; the route and referral, flagged
    /// `low_confidence`) or draft the 结论 and 依据 from the articles that
    /// passed, holding every citation back in the stream until it is checked;
    /// the 建议 block is built from triage and the referral directory and
    /// sent last. The deltas sent add up to the shown answer, except when the
    /// draft was unusable and the extractive answer replaced it.
    pub fn consult_with(
        &self,
        question: &str,
        history: &[ChatMessage],
        opts: &ConsultOptions,
        on_event: &mut dyn FnMut(ConsultEvent<'_>) -> bool,
    ) -> crate::Result<Answer> {
        let t0 = Instant::now();
        let question = question.trim();
        if question.is_empty() {
            return Err(crate::Error::InvalidInput("the question is empty".into()));
        }
        let gone = || crate::Error::Cancelled("the client went away".into());
        let hits = match &opts.articles {
            Some(a) => a.clone(),
            None => self.searcher.search(
                question,
                &SearchOptions {
                    k: opts.k,
                    ..SearchOptions::default()
                },
            )?,
        };
        let mut timings = Timings {
            retrieval_ms: ms(t0.elapsed()),
            ..Timings::default()
        };
        let mut triage = crate::triage::triage(question, &hits, &self.directory);
        let mut report = gate::assess(question, &hits, Some(&triage));
        if opts.articles.is_some() {
            for a in &mut report.articles {
                a.pass = true;
            }
            report.abstain = hits.is_empty();
        }
        if report.abstain {
            add_reason(&mut triage, ReviewReason::LowConfidence);
        }
        if !on_event(ConsultEvent::Triage(&triage)) || !on_event(ConsultEvent::Hits(&hits)) {
            return Err(gone());
        }
        let next = steps::next_steps(&triage);
        let steps_text = steps::render(&next);
        let passed = prompt_articles(&hits, &report);

        let corpus = self.searcher.corpus();
        let mut fallback_reason: Option<String> = None;
        // (shown text, citations, removed)
        let mut drafted: Option<verify::Verified> = None;
        // The drafted 结论, when it was held back (it denied something).
        let mut held: Option<String> = None;
        let mut streamed = false;
        match &self.backend {
            _ if report.abstain => {}
            None => fallback_reason = Some("no model loaded (extractive answer only)".into()),
            Some(backend) => {
                let count = |t: &str| {
                    backend
                        .count_tokens(t)
                        .unwrap_or_else(|| prompt::estimate_tokens(t))
                };
                let (messages, _used) = prompt::build_messages_styled(
                    question,
                    history,
                    &passed,
                    &opts.budget,
                    opts.style,
                    &count,
                );
                let mut params = self.params.clone();
                params.max_tokens = params.max_tokens.min(opts.budget.answer_tokens);
                if let Some(t) = opts.timeout {
                    let d = t0 + t;
                    params.deadline = Some(params.deadline.map_or(d, |p| p.min(d)));
                }
                let mut hold = stream_filter::CitationHold::new(corpus, &passed);
                let mut verdict = hold::ConclusionGate::new(opts.hold_denials);
                let mut cancelled = false;
                let gen = backend.generate(&messages, &params, &mut |piece| {
                    let out = verdict.push(&hold.push(piece));
                    if verdict.verdict() == hold::Verdict::Held {
                        // Nothing of a held draft is shown; stop drafting.
                        return false;
                    }
                    if !out.is_empty() {
                        streamed = true;
                        if !on_event(ConsultEvent::Delta(&out)) {
                            cancelled = true;
                            return false;
                        }
                    }
                    // The draft reached 建议: the rest is built, not generated.
                    !hold.done()
                });
                if cancelled {
                    return Err(gone());
                }
                match gen {
                    Err(e) => {
                        tracing::warn!(error = %e, "generation failed; using the extractive answer");
                        fallback_reason = Some(format!("model error: {e}"));
                    }
                    Ok(g) => {
                        let stopped_here = hold.done();
                        let rest = verdict.push(&hold.finish());
                        let rest = rest + &verdict.finish();
                        if verdict.verdict() == hold::Verdict::Held {
                            held = Some(verdict.conclusion());
                        } else if g.stop == StopReason::Cancelled && !stopped_here {
                            return Err(gone());
                        }
                        timings.prompt_tokens = g.stats.prompt_tokens;
                        timings.ttft_ms = g.stats.ttft_ms;
                        timings.gen_tokens = g.stats.gen_tokens;
                        timings.tokens_per_s = g.stats.tokens_per_s;
                        timings.draft_tokens = g.stats.draft_tokens;
                        timings.draft_accepted = g.stats.draft_accepted;
                        if held.is_some() {
                            tracing::info!("the drafted conclusion denies the asker something; held for review");
                        } else if !rest.is_empty() {
                            streamed = true;
                            if !on_event(ConsultEvent::Delta(&rest)) {
                                return Err(gone());
                            }
                        }
                        let mut v = hold.verified();
                        // One system rule repeated (small models do, at the
                        // end of a draft) was cut before it was shown; more
                        // than one is an attempt to extract the rules, and
                        // the draft is dropped.
                        let (kept, slipped) = prompt::strip_echoed_rules(&v.text);
                        let echoed = hold.rules_cut() + slipped;
                        if echoed == 1 {
                            tracing::info!("cut one repeated system rule from the draft");
                            v.text = kept;
                        }
                        if held.is_some() {
                            // Built below from the articles, not from the draft.
                        } else if echoed > 1 {
                            fallback_reason = Some("the draft repeated the system rules".into());
                        } else if !usable(&v.text, v.citations.len()) {
                            fallback_reason = Some(if g.stop == StopReason::Deadline {
                                "generation timed out".into()
                            } else {
                                "the draft had no usable grounded answer".into()
                            });
                        } else {
                            let mut tail = String::new();
                            if !v.removed.is_empty() {
                                tail.push_str(&format!(
                                    "\n\n（注：已删除{}处无法在现行有效法律中核实的条文引用。）",
                                    v.removed.len()
                                ));
                            }
                            if !stopped_here
                                && matches!(
                                    g.stop,
                                    StopReason::Deadline
                                        | StopReason::Length
                                        | StopReason::Repetition
                                )
                            {
                                tail.push_str(
                                    "\n\n（回答未完整生成，仅供参考，请以工作人员的解答为准。）",
                                );
                            }
                            tail.push_str("\n\n");
                            tail.push_str(&steps_text);
                            if !on_event(ConsultEvent::Delta(&tail)) {
                                return Err(gone());
                            }
                            v.text.push_str(&tail);
                            drafted = Some(v);
                        }
                    }
                }
            }
        }
        let abstained = report.abstain;
        let (answer, citations, removed) = match drafted {
            Some(v) => (v.text, v.citations, v.removed),
            None if held.is_some() => {
                let text = hold::held_answer(&passed, &steps_text, gate::PROMPT_ARTICLES);
                if !on_event(ConsultEvent::Delta(&text)) {
                    return Err(gone());
                }
                (
                    text,
                    quoted_citations(&passed, gate::PROMPT_ARTICLES),
                    Vec::new(),
                )
            }
            None if abstained => {
                let text = format!("结论：{ABSTAIN_CONCLUSION}\n\n{steps_text}");
                if !on_event(ConsultEvent::Delta(&text)) {
                    return Err(gone());
                }
                (text, Vec::new(), Vec::new())
            }
            None => {
                let shown: Vec<Hit> = if passed.is_empty() {
                    hits.clone()
                } else {
                    passed.clone()
                };
                let why = if self.backend.is_some() {
                    extractive::Why::DraftFailed
                } else {
                    extractive::Why::NoModel
                };
                let text = extractive::answer(&shown, &steps_text, 3, why);
                if !streamed && !on_event(ConsultEvent::Delta(&text)) {
                    return Err(gone());
                }
                (text, quoted_citations(&shown, 3), Vec::new())
            }
        };
        if !removed.is_empty() {
            add_reason(&mut triage, ReviewReason::CitationRemoved);
        }
        if held.is_some() {
            add_reason(&mut triage, ReviewReason::DenialHeld);
        }
        let fallback = fallback_reason.is_some();
        if fallback && self.backend.is_some() {
            add_reason(&mut triage, ReviewReason::FallbackUsed);
        }
        timings.total_ms = ms(t0.elapsed());
        let guide = Guide {
            abstained,
            conclusion: conclusion_of(&answer),
            steps: next,
            gate: report,
            held: held.is_some(),
            held_conclusion: held,
        };
        Ok(Answer {
            question: question.to_string(),
            answer,
            citations,
            removed_citations: removed,
            retrieved: hits,
            fallback,
            fallback_reason,
            triage,
            timings,
            guide,
        })
    }
}
