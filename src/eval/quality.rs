//! Answer quality against lawyers' reference answers (STARD's `answer`
//! field): does the conclusion agree with the lawyer, does it rest on the
//! governing law, and was an abstention right. See `eval/README.md` for the
//! design and its limits.
//!
//! Per answer:
//!
//! * **stance** of the conclusion and of the reference's opening (yes / no /
//!   unclear), from modal cues (可以, 有权, 应当 vs 不能, 无权, 不需要 ...)
//!   counted in the first sentences; `contradicts` when both are clear and
//!   differ;
//! * **overlap**: ROUGE-L F over content words (jieba, stop words removed) of
//!   the conclusion against the reference's first 200 characters;
//! * **similarity** (with an encoder, [`measure_with`]): the cosine of the
//!   conclusion and the reference's first 200 characters under the dense
//!   encoder (multilingual-e5-small, `query: ` on both sides, as for two
//!   questions), which credits the same meaning in other words;
//! * **basis**: whether the answer cites a gold article, or at least a gold
//!   article's law; an answer citing only laws none of the gold articles
//!   belongs to rests on an irrelevant article;
//! * **abstention**: right when none of the gold articles was among the
//!   retrieved ones (nothing governing was found), wrong otherwise.
//!
//! `misleading` = not abstained and (contradicts the reference or rests on an
//! irrelevant law): the share the issue asks to halve.

use serde::{Deserialize, Serialize};

use super::keypoints::content_tokens;
use super::rouge::rouge_l_tokens;
use crate::answer::Answer;

/// One lawyer-answered question (a line of STARD's `train.jsonl`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reference {
    pub id: String,
    pub question: String,
    pub articles: Vec<GoldArticle>,
    /// The lawyer's answer (empty where the file has none).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub answer: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoldArticle {
    pub law: String,
    pub article: u32,
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    use serde::Deserialize;
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// Read a STARD-shaped JSONL file (a missing answer reads as empty).
pub fn load_references(path: &std::path::Path) -> crate::Result<Vec<Reference>> {
    use crate::error::IoContext;
    let text = std::fs::read_to_string(path).ctx(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        // A few lines carry no lawyer's answer (a bare NaN, read as null).
        let r: Reference = super::cases::from_json_line(line).map_err(|e| {
            crate::Error::InvalidInput(format!("{}:{}: {e}", path.display(), i + 1))
        })?;
        out.push(r);
    }
    Ok(out)
}

/// The held-out fold: ids whose number is a multiple of 5 (`stard-15`).
/// The gate's thresholds were set on the other folds only.
pub fn held_out(id: &str) -> bool {
    id.rsplit('-')
        .next()
        .and_then(|n| n.parse::<u64>().ok())
        .is_some_and(|n| n % 5 == 0)
}

pub use crate::answer::hold::{stance, Stance};

/// The 结论 part of an answer (up to 依据/建议 or the first blank line).
pub fn conclusion(answer: &str) -> String {
    crate::answer::conclusion_of(answer)
}

fn norm_law(s: &str) -> &str {
    s.trim_start_matches("中华人民共和国")
}

/// The measurement of one answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quality {
    pub id: String,
    pub abstained: bool,
    /// The drafted conclusion denied something and was held for staff
    /// (`answer::hold`): like an abstention, it draws no conclusion.
    #[serde(default)]
    pub held: bool,
    /// A gold article was among the retrieved articles.
    pub gold_retrieved: bool,
    pub cites_gold_article: bool,
    pub cites_gold_law: bool,
    /// Cites something, but no article of any gold law.
    pub irrelevant_basis: bool,
    pub answer_stance: Stance,
    pub reference_stance: Stance,
    pub contradicts: bool,
    pub agrees: bool,
    /// ROUGE-L F of the conclusion's content words against the reference.
    pub overlap: f64,
    /// Cosine of the conclusion and the reference under the dense encoder
    /// (`None` without an encoder or for an abstention).
    #[serde(default)]
    pub similarity: Option<f64>,
    pub misleading: bool,
    pub total_ms: f64,
    pub ttft_ms: f64,
}

/// [`measure`], plus the dense similarity of the conclusion and the
/// reference when `encoder` is given.
pub fn measure_with(
    r: &Reference,
    a: &Answer,
    encoder: Option<&crate::embed::Encoder>,
) -> crate::Result<Quality> {
    let mut q = measure(r, a);
    if let (Some(e), false) = (encoder, a.guide.abstained || a.guide.held) {
        q.similarity = similarity(e, &conclusion(&a.answer), &r.answer)?;
    }
    Ok(q)
}

/// Cosine of a conclusion and the first 200 characters of a reference
/// answer under the dense encoder (`None` when either is empty).
pub fn similarity(
    encoder: &crate::embed::Encoder,
    conclusion: &str,
    reference: &str,
) -> crate::Result<Option<f64>> {
    let head: String = reference.chars().take(200).collect();
    if conclusion.trim().is_empty() || head.trim().is_empty() {
        return Ok(None);
    }
    let (x, y) = (
        encoder.embed_query(conclusion)?,
        encoder.embed_query(&head)?,
    );
    Ok(Some(crate::embed::dot(&x, &y) as f64))
}

/// Measure `a` against `r` (without the dense similarity).
pub fn measure(r: &Reference, a: &Answer) -> Quality {
    let is_gold = |law: &str, art: u32| {
        r.articles
            .iter()
            .any(|g| norm_law(&g.law) == norm_law(law) && g.article == art)
    };
    let gold_law = |law: &str| r.articles.iter().any(|g| norm_law(&g.law) == norm_law(law));
    let gold_retrieved = a.retrieved.iter().any(|h| is_gold(&h.law, h.article));
    let cites_gold_article = a.citations.iter().any(|c| is_gold(&c.law, c.article));
    let cites_gold_law = a.citations.iter().any(|c| gold_law(&c.law));
    // An abstention or a held conclusion concludes nothing.
    let concludes = !(a.guide.abstained || a.guide.held);
    let irrelevant_basis = concludes && !a.citations.is_empty() && !cites_gold_law;
    let concl = conclusion(&a.answer);
    let answer_stance = stance(&concl, 2);
    let reference_stance = stance(&r.answer, 2);
    let clear = |s: Stance| s != Stance::Unclear;
    let contradicts = concludes
        && clear(answer_stance)
        && clear(reference_stance)
        && answer_stance != reference_stance;
    let agrees = concludes && clear(answer_stance) && answer_stance == reference_stance;
    let reference_head: String = r.answer.chars().take(200).collect();
    let overlap = if !concludes {
        0.0
    } else {
        rouge_l_tokens(&content_tokens(&concl), &content_tokens(&reference_head)).f
    };
    Quality {
        id: r.id.clone(),
        abstained: a.guide.abstained,
        held: a.guide.held,
        gold_retrieved,
        cites_gold_article,
        cites_gold_law,
        irrelevant_basis,
        answer_stance,
        reference_stance,
        contradicts,
        agrees,
        overlap,
        similarity: None,
        misleading: concludes && (contradicts || irrelevant_basis),
        total_ms: a.timings.total_ms,
        ttft_ms: a.timings.ttft_ms,
    }
}

/// Totals over a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QualitySummary {
    pub n: usize,
    pub abstained: usize,
    /// Abstentions where no gold article had been retrieved.
    pub abstained_right: usize,
    /// Conclusions held for staff because they denied something.
    #[serde(default)]
    pub held: usize,
    pub answered: usize,
    pub cites_gold_article: usize,
    pub cites_gold_law: usize,
    pub irrelevant_basis: usize,
    pub contradicts: usize,
    pub agrees: usize,
    pub misleading: usize,
    /// Mean overlap over answered cases.
    pub mean_overlap: f64,
    /// Mean dense similarity over the answered cases that have one.
    #[serde(default)]
    pub mean_similarity: Option<f64>,
    pub ttft_p50_ms: f64,
    pub total_p50_ms: f64,
}

fn p50(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub fn summarise(qs: &[Quality]) -> QualitySummary {
    let count = |f: &dyn Fn(&Quality) -> bool| qs.iter().filter(|q| f(q)).count();
    let answered: Vec<&Quality> = qs.iter().filter(|q| !q.abstained && !q.held).collect();
    QualitySummary {
        n: qs.len(),
        abstained: count(&|q| q.abstained),
        abstained_right: count(&|q| q.abstained && !q.gold_retrieved),
        held: count(&|q| q.held),
        answered: answered.len(),
        cites_gold_article: count(&|q| q.cites_gold_article),
        cites_gold_law: count(&|q| q.cites_gold_law),
        irrelevant_basis: count(&|q| q.irrelevant_basis),
        contradicts: count(&|q| q.contradicts),
        agrees: count(&|q| q.agrees),
        misleading: count(&|q| q.misleading),
        mean_overlap: if answered.is_empty() {
            0.0
        } else {
            answered.iter().map(|q| q.overlap).sum::<f64>() / answered.len() as f64
        },
        mean_similarity: {
            let v: Vec<f64> = answered.iter().filter_map(|q| q.similarity).collect();
            (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
        },
        ttft_p50_ms: p50(qs.iter().map(|q| q.ttft_ms).filter(|t| *t > 0.0).collect()),
        total_p50_ms: p50(qs.iter().map(|q| q.total_ms).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conclusion_is_cut_at_the_next_part() {
        let a = "结论：可以起诉。\n依据：《民法典》第六百七十五条。\n\n建议：……";
        assert_eq!(conclusion(a), "可以起诉。");
        assert_eq!(conclusion("只有一段"), "只有一段");
    }

    #[test]
    fn held_out_fold_is_every_fifth_id() {
        assert!(held_out("stard-15"));
        assert!(!held_out("stard-16"));
        assert!(!held_out("x"));
    }
}
