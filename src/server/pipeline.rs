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
    /// Which retrieval is live: `lexical`, `lexical (dense index building)`
    /// or `hybrid`.
    fn retrieval_mode(&self) -> &'static str {
        "lexical"
    }
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

    fn retrieval_mode(&self) -> &'static str {
        self.searcher.mode().as_str()
    }

    fn model_name(&self) -> String {
        self.backend
            .as_ref()
            .map(|b| b.name())
            .unwrap_or_else(|| "lawbrain-extractive".to_string())
    }
}
