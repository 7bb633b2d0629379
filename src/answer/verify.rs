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

/// The one retrieved article that a bare `第N条` listed after another law's
/// citation really belongs to. Small models write "《民法典》第667条、第30条"
/// when 第30条 was the labour-contract article they were given: an article
/// that inherits its law from the list, is not among the retrieved articles
/// under that law, and is retrieved under exactly one other law, is that
/// other law's.
pub(super) fn misattributed<'a>(c: &Citation, retrieved: &'a [Hit]) -> Option<&'a Hit> {
    let inherited = c.raw.starts_with('第');
    let in_context = |h: &&Hit| h.article == c.article && h.suffix == c.suffix;
    if !inherited
        || retrieved
            .iter()
            .filter(in_context)
            .any(|h| same_law(&h.law, &c.law))
    {
        return None;
    }
    let mut others = retrieved.iter().filter(in_context);
    match (others.next(), others.next()) {
        (Some(h), None) => Some(h),
        _ => None,
    }
}

/// Apply checked `found` citations (from [`crate::cite::check`] on `text`).
pub fn apply(text: &str, found: &[Citation], retrieved: &[Hit]) -> Verified {
    let mut citations: Vec<AnswerCitation> = Vec::new();
    let mut removed: Vec<AnswerCitation> = Vec::new();
    // Byte spans of `text` to replace, and with what.
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let span_ok = |c: &Citation| {
        c.start <= c.end
            && c.end <= text.len()
            && text.is_char_boundary(c.start)
            && text.is_char_boundary(c.end)
    };
    let key = |x: &AnswerCitation| (x.law.clone(), x.article, x.suffix);
    for c in found {
        if let Some(h) = misattributed(c, retrieved).filter(|_| span_ok(c)) {
            tracing::info!(written = %c.law, article = c.article, law = %h.law, "citation re-attributed to the retrieved law");
            edits.push((
                c.start,
                c.end,
                format!("《{}》{}", h.law, &text[c.start..c.end]),
            ));
            let ac = AnswerCitation {
                law: h.law.clone(),
                article: h.article,
                suffix: h.suffix,
                status: CiteStatus::Valid,
                in_context: true,
            };
            if !citations.iter().any(|x| key(x) == key(&ac)) {
                citations.push(ac);
            }
            continue;
        }
        let ac = AnswerCitation {
            law: c.law.clone(),
            article: c.article,
            suffix: c.suffix,
            status: c.status,
            in_context: retrieved.iter().any(|h| {
                same_law(&h.law, &c.law) && h.article == c.article && h.suffix == c.suffix
            }),
        };
        if c.status == CiteStatus::Valid {
            if !citations.iter().any(|x| key(x) == key(&ac)) {
                citations.push(ac);
            }
        } else {
            if span_ok(c) {
                edits.push((c.start, c.end, "〔无法核实的引用已删除〕".to_string()));
            }
            if !removed.iter().any(|x| key(x) == key(&ac)) {
                removed.push(ac);
            }
        }
    }
    edits.sort_unstable_by_key(|e| (e.0, e.1));
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for (s, e, with) in edits {
        if s < pos {
            continue;
        }
        out.push_str(&text[pos..s]);
        out.push_str(&with);
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
            dense: None,
            rerank: None,
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

    fn hit(law: &str, n: u32) -> Hit {
        Hit {
            law: law.into(),
            article: n,
            suffix: 0,
            article_label: String::new(),
            text: String::new(),
            score: 1.0,
            level: "law".into(),
            status: "valid".into(),
            dense: None,
            rerank: None,
        }
    }

    #[test]
    fn listed_article_of_another_retrieved_law_is_reattributed() {
        let text = "依据：《民法典》第667条、第30条。";
        let civil = "中华人民共和国民法典";
        let labour = "中华人民共和国劳动合同法";
        let found = vec![
            cit(text, "《民法典》第667条", civil, 667, CiteStatus::Valid),
            cit(text, "第30条", civil, 30, CiteStatus::Valid),
        ];
        let hits = vec![hit(civil, 667), hit(labour, 30)];
        let v = apply(text, &found, &hits);
        assert_eq!(
            v.text,
            "依据：《民法典》第667条、《中华人民共和国劳动合同法》第30条。"
        );
        assert_eq!(v.citations.len(), 2);
        assert_eq!(v.citations[1].law, labour);
        assert!(v.citations.iter().all(|c| c.in_context));
        // Retrieved under the written law too, or under two other laws, or
        // written with its own law name: left as written.
        for hits in [
            vec![hit(civil, 667), hit(civil, 30), hit(labour, 30)],
            vec![
                hit(civil, 667),
                hit(labour, 30),
                hit("中华人民共和国劳动法", 30),
            ],
        ] {
            let v = apply(text, &found, &hits);
            assert_eq!(v.text, text);
            assert_eq!(v.citations[1].law, civil);
        }
        let named = "依据：《民法典》第30条。";
        let found = vec![cit(named, "《民法典》第30条", civil, 30, CiteStatus::Valid)];
        let v = apply(named, &found, &[hit(labour, 30)]);
        assert_eq!(v.text, named);
        assert!(!v.citations[0].in_context);
    }
}
