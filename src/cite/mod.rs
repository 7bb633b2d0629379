//! Citation checking: find every 《X》第N条 / X法第N条 (第M款) in a text and
//! check it against the corpus.
//!
//! Owns: [`parse_citations`] (finding references, no corpus needed; reusable
//! by search for explicit-citation queries) and [`check`] (resolving the law
//! names and checking each article against the version in force).

mod parse;

pub use parse::{parse_citations, LawRef, RawCitation};

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

use crate::corpus::{Corpus, Lookup};

/// Find and check every citation in `text`.
///
/// Citations whose law is written in 《》 are always reported (an unknown law
/// is `NotFound`). Without 《》 a citation is reported when the text before
/// the number ends with a known law name or alias, or with a name that looks
/// like a law (…法, …条例) even if unknown. `第N条` joined to an earlier
/// citation (、和及) or written `该法第N条` refers to the last law named.
/// Bare `第N条` with no law are skipped.
pub fn check(text: &str, corpus: &Corpus) -> Vec<Citation> {
    let mut out = Vec::new();
    // (resolved full name or the name as written, whether it resolved)
    let mut last_law: Option<(String, bool)> = None;
    for raw in parse_citations(text) {
        let mut start = raw.start;
        let law: Option<(String, bool)> = match &raw.law {
            LawRef::Named(name) => Some(match corpus.resolve_any_law(name) {
                Some(full) => (full.to_string(), true),
                None => (name.clone(), false),
            }),
            LawRef::Context(run) => match corpus.resolve_law_suffix(run) {
                Some((full, len)) => {
                    start = raw.start + (run.len() - len);
                    Some((full.to_string(), true))
                }
                None => unknown_law_name(run).map(|name| {
                    start = raw.start + (run.len() - name.len());
                    (name, false)
                }),
            },
            LawRef::Previous => last_law.clone(),
            LawRef::None => None,
        };
        let Some((law, resolved)) = law else { continue };
        last_law = Some((law.clone(), resolved));
        let (status, text_found) = if !resolved {
            (CiteStatus::NotFound, None)
        } else {
            match corpus.lookup(&law, raw.article, raw.suffix) {
                Lookup::Current(a) => (CiteStatus::Valid, Some(a.text.clone())),
                Lookup::NotInForce(a) => (CiteStatus::NotInForce, Some(a.text.clone())),
                Lookup::NoSuchArticle | Lookup::UnknownLaw => (CiteStatus::NotFound, None),
            }
        };
        out.push(Citation {
            law,
            article: raw.article,
            suffix: raw.suffix,
            paragraph: raw.paragraph,
            status,
            text: text_found,
            raw: text[start..raw.end].to_string(),
            start,
            end: raw.end,
        });
    }
    out
}

/// For a run of text before an article number that names no known law: the
/// name of the (unknown) law it seems to cite, if it ends like a law name
/// (…法, …法典, …条例). Leading verbs such as 根据/依照 are cut off.
fn unknown_law_name(run: &str) -> Option<String> {
    const ENDINGS: [&str; 4] = ["法典", "法", "条例", "规定"];
    if !ENDINGS.iter().any(|e| run.ends_with(e)) || run.ends_with("本法") || run.ends_with("该法")
    {
        return None;
    }
    const LEADS: [&str; 14] = [
        "根据", "依据", "依照", "按照", "违反", "适用", "参照", "对照", "援引", "引用", "及", "和",
        "与", "的",
    ];
    let mut name = run;
    for lead in LEADS {
        if let Some(pos) = name.rfind(lead) {
            name = &name[pos + lead.len()..];
        }
    }
    let name = name.trim_start_matches('、');
    (name.chars().count() >= 3).then(|| name.to_string())
}
