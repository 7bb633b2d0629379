//! `lawbrain serve`, `user`, `purge`, `bench serve`.

use crate::cli::{PurgeArgs, ServeArgs, UserArgs};

pub fn serve(a: ServeArgs) -> anyhow::Result<()> {
    let _ = a;
    anyhow::bail!("serve: not built yet")
}

pub fn user(a: UserArgs) -> anyhow::Result<()> {
    let _ = a;
    anyhow::bail!("user: not built yet")
}

pub fn purge(a: PurgeArgs) -> anyhow::Result<()> {
    let _ = a;
    anyhow::bail!("purge: not built yet")
}

pub fn bench(url: String, concurrency: usize, requests: usize) -> anyhow::Result<()> {
    let _ = (url, concurrency, requests);
    anyhow::bail!("bench serve: not built yet")
}
