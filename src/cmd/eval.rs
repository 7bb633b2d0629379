//! `lawbrain eval`, `eval compare`, `eval lawbench`.

use crate::cli::EvalArgs;

pub fn run(a: EvalArgs) -> anyhow::Result<()> {
    let _ = a;
    anyhow::bail!("eval: not built yet")
}
