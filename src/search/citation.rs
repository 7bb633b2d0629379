//! Explicit citations and law names inside a search query: 民法典第1079条,
//! 民法典 第一千零七十九条, 劳动合同法82条, 《法律援助法》第三十一条,
//! 刑法第一百三十三条之一.
//!
//! Law names are found by scanning the query for every name and alias of the
//! corpus (longest match first); an article number belongs to the nearest law
//! named before it.

use std::sync::OnceLock;

use regex::Regex;

/// A law named in the query: (byte start, byte end, index into `Corpus::laws`).
pub type LawMention = (usize, usize, usize);

/// An article reference found in a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryCitation {
    /// Index of the law in `Corpus::laws`.
    pub law: usize,
    pub article: u32,
    pub suffix: u32,
}

pub use crate::corpus::numerals::parse_number;

fn article_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r"(第)?\s*([0-9]{1,5}|[零〇一二两三四五六七八九十百千]{1,10})\s*条(?:\s*之\s*([一二三四五六七八九十]{1,3}|[0-9]{1,2}))?")
            .unwrap_or_else(|e| panic!("article regex: {e}"))
    })
}

/// Scan `query` for law names: `names` are (name or alias, law index), longest
/// first. Matches do not overlap; the leftmost-longest one wins.
pub fn law_mentions(query: &str, names: &[(String, usize)]) -> Vec<LawMention> {
    let mut out = Vec::new();
    let mut i = 0;
    let bytes = query.len();
    while i < bytes {
        if !query.is_char_boundary(i) {
            i += 1;
            continue;
        }
        let rest = &query[i..];
        if let Some((name, law)) = names.iter().find(|(n, _)| rest.starts_with(n.as_str())) {
            out.push((i, i + name.len(), *law));
            i += name.len();
        } else {
            i += rest.chars().next().map(char::len_utf8).unwrap_or(1);
        }
    }
    out
}

/// Article references in `query`, each tied to the nearest law named before it.
/// A number without `第` counts only right after a law name (劳动合同法82条).
pub fn citations(query: &str, mentions: &[LawMention]) -> Vec<QueryCitation> {
    let mut out: Vec<QueryCitation> = Vec::new();
    for caps in article_re().captures_iter(query) {
        let Some(whole) = caps.get(0) else { continue };
        let Some(num) = caps.get(2).and_then(|m| parse_number(m.as_str())) else {
            continue;
        };
        if num == 0 {
            continue;
        }
        let Some(&(_, end, law)) = mentions.iter().rev().find(|(_, e, _)| *e <= whole.start())
        else {
            continue;
        };
        let has_di = caps.get(1).is_some();
        let between = query[end..whole.start()]
            .trim_matches(|c: char| c.is_whitespace() || c == '》' || c == '>');
        if !has_di && !between.is_empty() {
            continue;
        }
        let suffix = caps
            .get(3)
            .and_then(|m| parse_number(m.as_str()))
            .unwrap_or(0);
        let c = QueryCitation {
            law,
            article: num,
            suffix,
        };
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<(String, usize)> {
        let mut v = vec![
            ("中华人民共和国民法典".to_string(), 0),
            ("民法典".to_string(), 0),
            ("中华人民共和国劳动合同法".to_string(), 1),
            ("劳动合同法".to_string(), 1),
            ("劳动法".to_string(), 2),
            ("法律援助法".to_string(), 3),
            ("刑法".to_string(), 4),
        ];
        v.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
        v
    }

    fn cites(q: &str) -> Vec<(usize, u32, u32)> {
        let m = law_mentions(q, &names());
        citations(q, &m)
            .into_iter()
            .map(|c| (c.law, c.article, c.suffix))
            .collect()
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number("一千零七十九"), Some(1079));
        assert_eq!(parse_number("八十二"), Some(82));
        assert_eq!(parse_number("十"), Some(10));
        assert_eq!(parse_number("三十一"), Some(31));
        assert_eq!(parse_number("两百"), Some(200));
        assert_eq!(parse_number("1260"), Some(1260));
        assert_eq!(parse_number("abc"), None);
    }

    #[test]
    fn every_citation_form() {
        assert_eq!(cites("民法典第1079条"), vec![(0, 1079, 0)]);
        assert_eq!(cites("民法典 第一千零七十九条"), vec![(0, 1079, 0)]);
        assert_eq!(cites("劳动合同法82条"), vec![(1, 82, 0)]);
        assert_eq!(cites("《法律援助法》第三十一条"), vec![(3, 31, 0)]);
        assert_eq!(
            cites("中华人民共和国劳动合同法第八十二条规定的二倍工资"),
            vec![(1, 82, 0)]
        );
        assert_eq!(cites("刑法第一百三十三条之一"), vec![(4, 133, 1)]);
        assert_eq!(
            cites("劳动法第44条和第四十五条"),
            vec![(2, 44, 0), (2, 45, 0)]
        );
    }

    #[test]
    fn no_citation_without_a_law() {
        assert!(cites("第一千零七十九条").is_empty());
        assert!(cites("我借了他82条烟").is_empty());
        assert!(cites("劳动合同法里说的那个条款").is_empty());
    }
}
