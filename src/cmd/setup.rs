//! `lawbrain setup`: fetch and verify the pinned assets.

use crate::cli::SetupArgs;
use crate::cmd::{paths, Bar};
use lawbrain::assets;

pub fn run(a: SetupArgs) -> anyhow::Result<()> {
    let p = paths(&a.data);
    let mut wanted = vec![
        assets::asset("laws-db")?,
        assets::asset(lawbrain::embed::MODEL_ASSET)?,
        assets::asset(lawbrain::embed::TOKENIZER_ASSET)?,
    ];
    if !a.no_model {
        wanted.push(assets::model_asset("default")?);
    }
    if a.small {
        wanted.push(assets::model_asset("small")?);
    }
    let mut bar = Bar::new();
    for asset in &wanted {
        let path = assets::ensure(asset, &p.cache, a.offline, &mut bar)?;
        println!("{:40} {}", asset.id, path.display());
    }
    Ok(())
}
