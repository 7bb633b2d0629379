//! `lawbrain triage`.

use crate::cli::TriageArgs;

pub fn run(a: TriageArgs) -> anyhow::Result<()> {
    let _ = a;
    anyhow::bail!("triage: not built yet")
}
