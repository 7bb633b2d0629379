//! `lawbrain search` and `lawbrain bench search`.

use crate::cli::{DataArgs, SearchArgs};
use std::path::PathBuf;

pub fn search(a: SearchArgs) -> anyhow::Result<()> {
    let _ = a;
    anyhow::bail!("search: not built yet")
}

pub fn bench(data: DataArgs, cases: Option<PathBuf>, rounds: usize) -> anyhow::Result<()> {
    let _ = (data, cases, rounds);
    anyhow::bail!("bench search: not built yet")
}
