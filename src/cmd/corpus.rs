//! `lawbrain index`, `article`, `cite-check`.

use crate::cli::{ArticleArgs, CiteCheckArgs, IndexArgs};

pub fn index(a: IndexArgs) -> anyhow::Result<()> {
    let _ = a;
    anyhow::bail!("index: not built yet")
}

pub fn article(a: ArticleArgs) -> anyhow::Result<()> {
    let _ = a;
    anyhow::bail!("article: not built yet")
}

pub fn cite_check(a: CiteCheckArgs) -> anyhow::Result<()> {
    let _ = a;
    anyhow::bail!("cite-check: not built yet")
}
