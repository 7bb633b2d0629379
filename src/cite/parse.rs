//! Finding citations in text, without a corpus.
//!
//! [`parse_citations`] returns every article reference in a text with the law
//! as written before it:
//!
//! * `《中华人民共和国民法典》第一千零七十九条第二款` -> law `中华人民共和国民法典`
//!   (bracketed: [`LawRef::Named`]),
//! * `劳动合同法第82条`, `劳动合同法82条`, `根据民法典第1079条` -> the run of Chinese
//!   text before the number ([`LawRef::Context`], e.g. `根据民法典`): resolve it
//!   with [`crate::corpus::Corpus::resolve_law_suffix`], which finds the longest
//!   law name or alias the run ends with,
//! * `第1080条` after a cited law, joined by 、 和 及 或者 至 or written `该法第N条`
//!   / `同法第N条` -> [`LawRef::Previous`] (the last law named before it).
//!
//! A bare `第N条` with no law in sight ([`LawRef::None`]) is reported too, so
//! callers can decide; the checker ignores those.

use regex::Regex;
use std::sync::OnceLock;

use crate::corpus::numerals;

/// How the law of a citation was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LawRef {
    /// In 《》: the name inside, as written.
    Named(String),
    /// Without 《》: the run of Chinese text right before the number (the law
    /// name is a suffix of it, e.g. `根据劳动合同法`).
    Context(String),
    /// `第N条` joined to an earlier citation (、和及) or `该法`/`同法`.
    Previous,
    /// No law written.
    None,
}

/// One article reference found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawCitation {
    pub law: LawRef,
    /// Arabic article number.
    pub article: u32,
    /// 之N suffix (0 for none).
    pub suffix: u32,
    /// 款 number (第N条第M款).
    pub paragraph: Option<u32>,
    /// Byte offset where the law name (or 《) starts, else the number.
    pub start: usize,
    /// Byte offset after the article (and 款) reference.
    pub end: usize,
}

const NUM: &str = "[0-9０-９零〇一二两三四五六七八九十百千]+";

fn article_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(&format!(
            r"(第)?({NUM})条(?:之([一二三四五六七八九十]+))?(?:第({NUM})款)?"
        ))
        .expect("valid citation regex")
    })
}

/// Characters that can be part of a law name written without 《》.
fn name_char(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '（' | '）' | '(' | ')' | '、')
}

/// Words between two citations that keep the same law: `第1079条、第1080条`.
fn is_joiner(s: &str) -> bool {
    let t = s.trim();
    matches!(
        t,
        "、" | "，"
            | "和"
            | "及"
            | "以及"
            | "与"
            | "或"
            | "或者"
            | "至"
            | "到"
            | "、第"
            | "和第"
            | "及第"
    ) || t.is_empty()
}

/// Find every article reference in `text` (see the module docs).
pub fn parse_citations(text: &str) -> Vec<RawCitation> {
    let mut out: Vec<RawCitation> = Vec::new();
    let mut last_end: Option<usize> = None;
    for c in article_re().captures_iter(text) {
        let Some(whole) = c.get(0) else { continue };
        let has_di = c.get(1).is_some();
        let num_str = c.get(2).map(|m| m.as_str()).unwrap_or("");
        let Some(article) = numerals::parse_number(num_str) else {
            continue;
        };
        if article == 0 {
            continue;
        }
        let suffix = c
            .get(3)
            .and_then(|m| numerals::parse_number(m.as_str()))
            .unwrap_or(0);
        let paragraph = c.get(4).and_then(|m| numerals::parse_number(m.as_str()));
        let before = &text[..whole.start()];
        let (law, start) = if let Some(stripped) = before.strip_suffix('》') {
            match stripped.rfind('《') {
                Some(open) if stripped[open..].chars().count() <= 61 => (
                    LawRef::Named(stripped[open + '《'.len_utf8()..].to_string()),
                    open,
                ),
                _ => (LawRef::None, whole.start()),
            }
        } else {
            let run_start = before
                .char_indices()
                .rev()
                .take_while(|(_, ch)| name_char(*ch))
                .take(40)
                .last()
                .map(|(i, _)| i)
                .unwrap_or(before.len());
            let run = &before[run_start..];
            let joined =
                last_end.is_some_and(|e| e <= whole.start() && is_joiner(&text[e..whole.start()]));
            // 该法/该条例/同法 (同法 only on its own: 劳动合同法 ends with 同法).
            let anaphor = ["该条例", "该法"]
                .into_iter()
                .find(|w| run.ends_with(w))
                .or((run == "同法").then_some("同法"));
            if let Some(w) = anaphor {
                (LawRef::Previous, run_start + run.len() - w.len())
            } else if joined && has_di {
                (LawRef::Previous, whole.start())
            } else if !run.is_empty() && !run.ends_with('第') {
                (LawRef::Context(run.to_string()), run_start)
            } else {
                (LawRef::None, whole.start())
            }
        };
        // `82条` without 第 is a citation only right after a law name.
        if !has_di && !matches!(law, LawRef::Named(_) | LawRef::Context(_)) {
            continue;
        }
        out.push(RawCitation {
            law,
            article,
            suffix,
            paragraph,
            start,
            end: whole.end(),
        });
        last_end = Some(whole.end());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_bracketed_and_plain_citations() {
        let t = "依照《中华人民共和国民法典》第一千零七十九条第二款，及劳动合同法82条";
        let c = parse_citations(t);
        assert_eq!(c.len(), 2, "{c:?}");
        assert_eq!(c[0].law, LawRef::Named("中华人民共和国民法典".into()));
        assert_eq!((c[0].article, c[0].paragraph), (1079, Some(2)));
        assert_eq!(
            &t[c[0].start..c[0].end],
            "《中华人民共和国民法典》第一千零七十九条第二款"
        );
        assert_eq!(c[1].law, LawRef::Context("及劳动合同法".into()));
        assert_eq!(c[1].article, 82);
    }

    #[test]
    fn joined_and_suffix_citations() {
        let c = parse_citations("刑法第一百三十三条之一、第二百三十四条");
        assert_eq!((c[0].article, c[0].suffix), (133, 1));
        assert_eq!(c[1].law, LawRef::Previous);
        assert_eq!(c[1].article, 234);
        let c = parse_citations("该法第5条");
        assert_eq!(c[0].law, LawRef::Previous);
        let c = parse_citations("劳动合同法第82条");
        assert_eq!(c[0].law, LawRef::Context("劳动合同法".into()));
        // A count without 第 after words that are no law is left to the checker,
        // which finds no law in them; a bare 第N条 has no law.
        assert_eq!(
            parse_citations("共有3条规定")[0].law,
            LawRef::Context("共有".into())
        );
        assert_eq!(parse_citations("。第3条")[0].law, LawRef::None);
    }
}
