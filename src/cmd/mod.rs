//! Command runners of the binary: each turns parsed flags into library calls
//! and prints the result. No logic that a test or the server would need.

use crate::cli::{BenchWhat, Command, DataArgs};
use lawbrain::config::Paths;

mod ask;
mod corpus;
mod eval;
mod progress;
mod search;
mod serve;
mod setup;
mod triage;

pub use progress::Bar;

/// Dispatch one command.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Setup(a) => setup::run(a),
        Command::Index(a) => corpus::index(a),
        Command::Search(a) => search::search(a),
        Command::Article(a) => corpus::article(a),
        Command::CiteCheck(a) => corpus::cite_check(a),
        Command::Ask(a) => ask::run(a),
        Command::Triage(a) => triage::run(a),
        Command::Serve(a) => serve::serve(a),
        Command::User(a) => serve::user(a),
        Command::Purge(a) => serve::purge(a),
        Command::Eval(a) => eval::run(a),
        Command::Bench(b) => match b.what {
            BenchWhat::Search {
                data,
                cases,
                rounds,
            } => search::bench(data, cases, rounds),
            BenchWhat::Llm {
                data,
                model,
                gen_tokens,
                runs,
            } => ask::bench(data, model, gen_tokens, runs),
            BenchWhat::Serve {
                url,
                concurrency,
                requests,
            } => serve::bench(url, concurrency, requests),
        },
    }
}

/// Paths from the environment, with command-line overrides applied.
pub fn paths(data: &DataArgs) -> Paths {
    let mut p = Paths::from_env();
    if let Some(c) = &data.cache {
        p.cache = c.clone();
    }
    if let Some(i) = &data.index {
        p.index = i.clone();
    }
    p
}
