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
            BenchWhat::Embed { data, articles } => search::bench_embed(data, articles),
            BenchWhat::Triage { data, cases, limit } => triage::bench(data, cases, limit),
            BenchWhat::Llm {
                data,
                model,
                gen_tokens,
                runs,
            } => ask::bench(data, model, gen_tokens, runs),
            BenchWhat::Serve {
                urls,
                concurrency,
                requests,
            } => serve::bench(urls, concurrency, requests),
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

/// Attach dense retrieval to `searcher` unless `--lexical`: load the encoder
/// and this build's dense index, embedding the articles first when needed
/// (a progress bar shows it; the vectors are kept in the cache, so this is
/// slow once per machine). Without the encoder files, say how to get them
/// and go on lexically.
pub fn attach_dense(searcher: &lawbrain::search::Searcher, data: &DataArgs) -> anyhow::Result<()> {
    attach_dense_if(searcher, data, true)
}

/// [`attach_dense`]; with `build` false, only when the build already has a
/// dense index on disk (commands that must answer at once).
pub fn attach_dense_if(
    searcher: &lawbrain::search::Searcher,
    data: &DataArgs,
    build: bool,
) -> anyhow::Result<()> {
    if data.lexical {
        return Ok(());
    }
    let p = paths(data);
    let encoder = match lawbrain::embed::Encoder::from_cache(&p.cache) {
        Ok(e) => std::sync::Arc::new(e),
        Err(e) => {
            tracing::warn!("dense retrieval off, searching lexically: {e}");
            return Ok(());
        }
    };
    lawbrain::triage::use_encoder(encoder.clone(), Some(&p.cache));
    if !build && !searcher.has_dense_on_disk(&encoder) {
        tracing::info!("no dense index yet (run `lawbrain index`); searching lexically");
        return Ok(());
    }
    let mut bar = Bar::new();
    searcher.attach_dense(encoder, &p.cache, &mut bar)?;
    Ok(())
}
