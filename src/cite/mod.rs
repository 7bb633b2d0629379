//! Citation checking: find every 《X》第N条 / X法第N条 (第M款) in a text and
//! check it against the corpus.

use serde::{Deserialize, Serialize};

/// Result of checking one citation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CiteStatus {
    /// The article exists in the version in force.
    Valid,
    /// No such law or no such article.
    NotFound,
    /// The article exists only in a version not in force.
    NotInForce,
}

/// One citation found in a text. The JSON shape of `lawbrain cite-check --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Citation {
    /// Resolved full law name (or the name as written when it did not resolve).
    pub law: String,
    /// Arabic article number.
    pub article: u32,
    #[serde(default)]
    pub suffix: u32,
    /// 款 number when given (第N条第M款).
    #[serde(default)]
    pub paragraph: Option<u32>,
    pub status: CiteStatus,
    /// The article text when found.
    pub text: Option<String>,
    /// The citation exactly as written in the text.
    pub raw: String,
    /// Byte range of `raw` in the checked text.
    pub start: usize,
    pub end: usize,
}

use crate::corpus::Corpus;

/// Find and check every citation in `text`.
pub fn check(text: &str, corpus: &Corpus) -> Vec<Citation> {
    let _ = (text, corpus);
    todo!("cite helper")
}
