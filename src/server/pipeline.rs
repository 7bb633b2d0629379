//! What the service needs from the answer pipeline, as a trait: search,
//! triage, article lookup and consultation. [`Brain`] implements it; tests of
//! limits and queueing may use a stand-in.

use serde::{Deserialize, Serialize};

use crate::answer::{Answer, Brain, ConsultEvent};
use crate::corpus::Lookup;
use crate::llm::ChatMessage;
use crate::search::{Hit, SearchOptions};
use crate::triage::Triage;
use crate::{Error, Result};

/// One article as `/api/articles/{law}/{number}` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArticleView {
    pub law: String,
    pub article: u32,
    pub suffix: u32,
    pub article_label: String,
    pub text: String,
    pub level: String,
    pub status: String,
    /// False when only a version not in force has this article.
    pub in_force: bool,
}

/// The answer pipeline as the server uses it. Every method is blocking.
pub trait Consult: Send + Sync + 'static {
    fn search(&self, query: &str, opts: &SearchOptions) -> Result<Vec<Hit>>;
    fn triage(&self, question: &str, hits: &[Hit]) -> Triage;
    fn article(&self, law: &str, article: u32, suffix: u32) -> Result<ArticleView>;
    /// See [`Brain::consult`]: `on_event` returning `false` cancels.
    fn consult(
        &self,
        question: &str,
        history: &[ChatMessage],
        on_event: &mut dyn FnMut(ConsultEvent<'_>) -> bool,
    ) -> Result<Answer>;
    /// Model name for `/v1/models` and logs (`extractive` without a model).
    fn model_name(&self) -> String;
}

impl Consult for Brain {
    fn search(&self, query: &str, opts: &SearchOptions) -> Result<Vec<Hit>> {
        self.searcher.search(query, opts)
    }

    fn triage(&self, question: &str, hits: &[Hit]) -> Triage {
        crate::triage::triage(question, hits, &self.directory)
    }

    fn article(&self, law: &str, article: u32, suffix: u32) -> Result<ArticleView> {
        let (a, in_force) = match self.searcher.corpus().lookup(law, article, suffix) {
            Lookup::Current(a) => (a, true),
            Lookup::NotInForce(a) => (a, false),
            Lookup::NoSuchArticle => {
                return Err(Error::NotFound(format!("{law} 没有第{article}条")))
            }
            Lookup::UnknownLaw => return Err(Error::NotFound(format!("法律 {law}"))),
        };
        Ok(ArticleView {
            law: a.law.clone(),
            article: a.article,
            suffix: a.suffix,
            article_label: a.article_label.clone(),
            text: a.text.clone(),
            level: a.level.as_str().to_string(),
            status: a.status.as_str().to_string(),
            in_force,
        })
    }

    fn consult(
        &self,
        question: &str,
        history: &[ChatMessage],
        on_event: &mut dyn FnMut(ConsultEvent<'_>) -> bool,
    ) -> Result<Answer> {
        Brain::consult(self, question, history, on_event)
    }

    fn model_name(&self) -> String {
        self.backend
            .as_ref()
            .map(|b| b.name())
            .unwrap_or_else(|| "lawbrain-extractive".to_string())
    }
}

/// Parse an article number as people write it in a URL: `1079`,
/// `第一千零七十九条`, `一千零七十九`, `133之一`, `133-1`. Returns (number, suffix).
pub fn parse_article_number(s: &str) -> Option<(u32, u32)> {
    let s = s.trim();
    let s = s.strip_prefix('第').unwrap_or(s);
    let s = s.strip_suffix('条').unwrap_or(s);
    let (main, suffix) = if let Some((m, x)) = s.split_once('之') {
        (m, Some(x))
    } else if let Some((m, x)) = s.split_once('-') {
        (m, Some(x))
    } else {
        (s, None)
    };
    let main = parse_number(main)?;
    let suffix = match suffix {
        Some(x) => parse_number(x)?,
        None => 0,
    };
    (main > 0).then_some((main, suffix))
}

/// Arabic digits or Chinese numerals up to 9999.
fn parse_number(s: &str) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    if s.chars().all(|c| c.is_ascii_digit()) {
        return s.parse().ok().filter(|n| *n < 100_000);
    }
    let digit = |c: char| {
        "零一二三四五六七八九"
            .chars()
            .position(|d| d == c)
            .map(|p| p as u32)
    };
    let mut total = 0u32;
    let mut current: Option<u32> = None;
    for c in s.chars() {
        if c == '两' {
            current = Some(2);
            continue;
        }
        if let Some(d) = digit(c) {
            current = Some(d);
            continue;
        }
        let unit = match c {
            '十' => 10,
            '百' => 100,
            '千' => 1000,
            _ => return None,
        };
        total += current.unwrap_or(1) * unit;
        current = None;
    }
    Some(total + current.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn article_numbers_in_all_forms() {
        assert_eq!(parse_article_number("1079"), Some((1079, 0)));
        assert_eq!(parse_article_number("第一千零七十九条"), Some((1079, 0)));
        assert_eq!(parse_article_number("十"), Some((10, 0)));
        assert_eq!(parse_article_number("第二十五条"), Some((25, 0)));
        assert_eq!(parse_article_number("一百三十三之一"), Some((133, 1)));
        assert_eq!(parse_article_number("133-1"), Some((133, 1)));
        assert_eq!(parse_article_number("三百"), Some((300, 0)));
        assert_eq!(parse_article_number("0"), None);
        assert_eq!(parse_article_number("abc"), None);
        assert_eq!(parse_article_number(""), None);
    }
}
