//! lawbrain: a legal data brain for public legal services.
//!
//! The pipeline reads top to bottom, and data flows one way:
//!
//! * [`assets`]: fetch and verify the pinned corpus and model packages.
//! * [`corpus`]: clean statute articles from `laws.db` and local regulation files.
//! * [`search`]: the tantivy index over the corpus and everyday-language queries.
//! * [`cite`]: extract citations from text and check them against the corpus.
//! * [`llm`]: the local candle model (and the backend trait other engines implement).
//! * [`answer`]: grounded answer drafting: prompt, citation verification, fallback.
//! * [`triage`]: route a case to a public legal service, legal-aid hints, review flags.
//! * [`store`]: SQLite storage for conversations, answers, reviews, users.
//! * [`server`]: the axum web hall, hotline console, review queue and APIs.
//! * [`eval`]: the quality harness and LawBench runner.
//! * [`bench`]: benchmarks that print numbers.
//!
//! Shared plumbing: [`config`] (paths), [`error`] (the one error enum), [`progress`].

pub mod answer;
pub mod assets;
pub mod bench;
pub mod cite;
pub mod config;
pub mod corpus;
pub mod embed;
pub mod error;
pub mod eval;
pub mod llm;
pub mod progress;
pub mod search;
pub mod server;
pub mod store;
pub mod triage;

pub use error::{Error, Result};
