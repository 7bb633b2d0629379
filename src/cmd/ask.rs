//! `lawbrain ask` and `lawbrain bench llm`.

use crate::cli::{AskArgs, DataArgs, ModelArgs};

pub fn run(a: AskArgs) -> anyhow::Result<()> {
    let _ = a;
    anyhow::bail!("ask: not built yet")
}

pub fn bench(data: DataArgs, model: ModelArgs, gen_tokens: usize, runs: usize) -> anyhow::Result<()> {
    let _ = (data, model, gen_tokens, runs);
    anyhow::bail!("bench llm: not built yet")
}
