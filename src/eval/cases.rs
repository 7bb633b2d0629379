//! Labelled cases: the JSONL shape of `shared/eval/dev.jsonl`.
//!
//! Only `id` and `question` are required; every label is optional, so a
//! retrieval-only file (`id`, `question`, `articles`) loads too, and the
//! metrics that need a missing label skip that case.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::IoContext;
use crate::triage::{ReviewReason, Service};
use crate::{Error, Result};

/// A gold article of a case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GoldArticle {
    pub law: String,
    pub article: u32,
    #[serde(default)]
    pub suffix: u32,
}

/// One labelled case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    pub id: String,
    pub question: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_service: Option<Service>,
    #[serde(default)]
    pub services: Vec<Service>,
    #[serde(default)]
    pub articles: Vec<GoldArticle>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs_review: Option<bool>,
    #[serde(default)]
    pub review_reasons: Vec<ReviewReason>,
    #[serde(default)]
    pub key_points: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// Parse one JSONL line. Some exports (STARD's among them) write a missing
/// value as a bare `NaN`, which is not JSON: it reads as `null`.
pub fn from_json_line<T: serde::de::DeserializeOwned>(line: &str) -> serde_json::Result<T> {
    if line.contains("NaN") {
        serde_json::from_str(&line.replace(": NaN", ": null"))
    } else {
        serde_json::from_str(line)
    }
}

/// Parse cases from JSONL text. Blank lines are skipped; a bad line, an
/// empty id or question, or a repeated id is an error naming the line.
pub fn parse_cases(text: &str) -> Result<Vec<Case>> {
    let mut cases = Vec::new();
    let mut seen = HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let case: Case = from_json_line(line)
            .map_err(|e| Error::InvalidInput(format!("cases line {}: {e}", i + 1)))?;
        if case.id.trim().is_empty() || case.question.trim().is_empty() {
            return Err(Error::InvalidInput(format!(
                "cases line {}: empty id or question",
                i + 1
            )));
        }
        if !seen.insert(case.id.clone()) {
            return Err(Error::InvalidInput(format!(
                "cases line {}: duplicate id {}",
                i + 1,
                case.id
            )));
        }
        cases.push(case);
    }
    Ok(cases)
}

/// Load a JSONL cases file.
pub fn load_cases(path: &Path) -> Result<Vec<Case>> {
    let text = std::fs::read_to_string(path).ctx(|| format!("reading cases {}", path.display()))?;
    let cases = parse_cases(&text)?;
    if cases.is_empty() {
        return Err(Error::InvalidInput(format!(
            "{} holds no cases",
            path.display()
        )));
    }
    Ok(cases)
}

/// A law name reduced for matching: brackets, spaces and the
/// `中华人民共和国` prefix removed.
pub fn norm_law(law: &str) -> String {
    let s: String = law
        .chars()
        .filter(|c| !matches!(c, '《' | '》' | ' ' | '\u{3000}'))
        .collect();
    s.strip_prefix("中华人民共和国").unwrap_or(&s).to_string()
}

/// Matching key of an article: `norm_law#article[-suffix]`.
pub fn article_match_key(law: &str, article: u32, suffix: u32) -> String {
    crate::corpus::article_key(&norm_law(law), article, suffix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retrieval_only_lines_load() {
        let c = parse_cases(
            "{\"id\":\"r1\",\"question\":\"q\",\"articles\":[{\"law\":\"民法典\",\"article\":1079}]}\n\n",
        )
        .expect("parses");
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].primary_service, None);
        assert_eq!(c[0].articles[0].suffix, 0);
    }

    #[test]
    fn bad_input_names_the_line() {
        let e = parse_cases("{\"id\":\"a\",\"question\":\"q\"}\n{\"id\":\"a\",\"question\":\"q\"}")
            .unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        let e = parse_cases("{\"id\":\"a\",\"question\":\"q\",\"primary_service\":\"bogus\"}")
            .unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");
        assert!(parse_cases("{\"id\":\"\",\"question\":\"q\"}").is_err());
    }

    #[test]
    fn a_bare_nan_reads_as_missing() {
        // STARD's export writes a missing lawyer's answer as NaN.
        let c = parse_cases("{\"id\":\"s1\",\"question\":\"q\",\"answer\": NaN}").expect("parses");
        assert_eq!(c[0].id, "s1");
        // Text that merely mentions NaN stays as written.
        let v: serde_json::Value =
            from_json_line("{\"question\":\"NaN: 是什么\",\"answer\": NaN}").expect("parses");
        assert_eq!(v["question"], "NaN: 是什么");
        assert!(v["answer"].is_null());
    }

    #[test]
    fn law_names_normalise() {
        assert_eq!(
            article_match_key("《中华人民共和国民法典》", 1079, 0),
            article_match_key("民法典", 1079, 0)
        );
    }
}
