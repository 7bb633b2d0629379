//! Checking the model's citations: invalid ones (not found, not in force)
//! are cut from the shown text and reported; valid ones are marked whether
//! they were among the retrieved articles.

use crate::cite::{Citation, CiteStatus};
use crate::search::Hit;

use super::AnswerCitation;

/// The shown text and the sorted-out citations.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    pub text: String,
    pub citations: Vec<AnswerCitation>,
    pub removed: Vec<AnswerCitation>,
}

fn same_law(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.trim_start_matches("中华人民共和国").to_string();
    a == b || norm(a) == norm(b)
}

/// Apply checked `found` citations (from [`crate::cite::check`] on `text`).
pub fn apply(text: &str, found: &[Citation], retrieved: &[Hit]) -> Verified {
    let mut citations: Vec<AnswerCitation> = Vec::new();
    let mut removed: Vec<AnswerCitation> = Vec::new();
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    for c in found {
        let ac = AnswerCitation {
            law: c.law.clone(),
            article: c.article,
            suffix: c.suffix,
            status: c.status,
            in_context: retrieved.iter().any(|h| {
                same_law(&h.law, &c.law) && h.article == c.article && h.suffix == c.suffix
            }),
        };
        let key = |x: &AnswerCitation| (x.law.clone(), x.article, x.suffix);
        if c.status == CiteStatus::Valid {
            if !citations.iter().any(|x| key(x) == key(&ac)) {
                citations.push(ac);
            }
        } else {
            if c.start <= c.end
                && c.end <= text.len()
                && text.is_char_boundary(c.start)
                && text.is_char_boundary(c.end)
            {
                cuts.push((c.start, c.end));
            }
            if !removed.iter().any(|x| key(x) == key(&ac)) {
                removed.push(ac);
            }
        }
    }
    cuts.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for (s, e) in cuts {
        if s < pos {
            continue;
        }
        out.push_str(&text[pos..s]);
        out.push_str("〔无法核实的引用已删除〕");
        pos = e;
    }
    out.push_str(&text[pos..]);
    if !removed.is_empty() {
        out.push_str(&format!(
            "\n\n（注：已删除{}处无法在现行有效法律中核实的条文引用。）",
            removed.len()
        ));
    }
    Verified {
        text: out,
        citations,
        removed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cit(text: &str, raw: &str, law: &str, n: u32, status: CiteStatus) -> Citation {
        let start = text.find(raw).expect("raw in text");
        Citation {
            law: law.into(),
            article: n,
            suffix: 0,
            paragraph: None,
            status,
            text: None,
            raw: raw.into(),
            start,
            end: start + raw.len(),
        }
    }

    #[test]
    fn removes_invalid_and_marks_context() {
        let text = "依据：《民法典》第679条；《劳动法》第999条。";
        let found = vec![
            cit(
                text,
                "《民法典》第679条",
                "中华人民共和国民法典",
                679,
                CiteStatus::Valid,
            ),
            cit(
                text,
                "《劳动法》第999条",
                "中华人民共和国劳动法",
                999,
                CiteStatus::NotFound,
            ),
        ];
        let hits = vec![Hit {
            law: "中华人民共和国民法典".into(),
            article: 679,
            suffix: 0,
            article_label: "第六百七十九条".into(),
            text: String::new(),
            score: 1.0,
            level: "law".into(),
            status: "valid".into(),
        }];
        let v = apply(text, &found, &hits);
        assert!(!v.text.contains("第999条"));
        assert!(v.text.contains("《民法典》第679条"));
        assert_eq!(v.citations.len(), 1);
        assert!(v.citations[0].in_context);
        assert_eq!(v.removed.len(), 1);
        assert_eq!(v.removed[0].article, 999);
        let v = apply(text, &found[..1], &[]);
        assert!(!v.citations[0].in_context);
        assert_eq!(v.text, text);
    }
}
