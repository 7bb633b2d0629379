//! Which GGUF file to load: a profile from the pinned manifest, an explicit
//! path, or a Hugging Face `repo:file` from the hf-hub cache (offline first).
//! Also the one-time re-encoding of Q5_0/Q5_1 tensors to Q8_0, cached next to
//! the original, because candle has no fast x86 kernel for Q5_x.

use std::fs::File;
use std::path::{Path, PathBuf};

use candle_core::quantized::{gguf_file, GgmlDType, QTensor};
use candle_core::Device;

use crate::error::{Error, IoContext, Result};

/// Where a model comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// A profile of `models/manifest.toml` (`default`, `small`).
    Profile(String),
    /// A GGUF file on disk.
    Path(PathBuf),
    /// `repo:file.gguf` in the hf-hub cache (`owner/name:file`).
    Hf(String),
}

/// Resolve a source to a GGUF path. `cache` is lawbrain's asset cache;
/// `hf_cache` overrides the hf-hub cache directory (default: `HF_HUB_CACHE`,
/// `HF_HOME/hub`, `~/.cache/huggingface/hub`).
pub fn resolve(source: &ModelSource, cache: &Path, hf_cache: Option<&Path>) -> Result<PathBuf> {
    match source {
        ModelSource::Profile(p) => crate::assets::model_asset(p)?.require(cache),
        ModelSource::Path(p) => {
            if p.is_file() {
                Ok(p.clone())
            } else {
                Err(Error::NotFound(format!("model file {}", p.display())))
            }
        }
        ModelSource::Hf(spec) => hf_file(spec, hf_cache),
    }
}

/// Split `owner/name:file` (also accepts `owner/name/file`).
pub fn parse_hf_spec(spec: &str) -> Result<(String, String, String)> {
    let bad = || Error::InvalidInput(format!("--hf expects owner/name:file.gguf, got `{spec}`"));
    let (repo, file) = match spec.split_once(':') {
        Some((r, f)) => (r, f),
        None => {
            let mut it = spec.splitn(3, '/');
            match (it.next(), it.next(), it.next()) {
                (Some(o), Some(n), Some(f)) => {
                    return Ok((o.to_string(), n.to_string(), f.to_string()))
                }
                _ => return Err(bad()),
            }
        }
    };
    let (owner, name) = repo.split_once('/').ok_or_else(bad)?;
    if owner.is_empty() || name.is_empty() || file.is_empty() || name.contains('/') {
        return Err(bad());
    }
    Ok((owner.to_string(), name.to_string(), file.to_string()))
}

fn hf_offline() -> bool {
    std::env::var("HF_HUB_OFFLINE")
        .map(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
        .unwrap_or(false)
}

/// Find (or, when not offline, fetch) `spec` through hf-hub.
pub fn hf_file(spec: &str, hf_cache: Option<&Path>) -> Result<PathBuf> {
    let (owner, name, file) = parse_hf_spec(spec)?;
    let cache_dir = hf_cache
        .map(Path::to_path_buf)
        .unwrap_or_else(hf_hub::resolve_cache_dir);
    let offline = hf_offline();
    // hf-hub is async; run it on its own small runtime in its own thread so
    // this works from inside another runtime too.
    let spec_s = spec.to_string();
    let handle = std::thread::spawn(move || -> Result<PathBuf> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::io("starting the hf-hub runtime", e))?;
        rt.block_on(async {
            let client = hf_hub::HFClient::builder()
                .cache_dir(cache_dir.clone())
                .build()
                .map_err(|e| Error::Model(format!("hf-hub: {e}")))?;
            let repo = client.model(owner.clone(), name.clone());
            match repo
                .download_file()
                .filename(file.clone())
                .local_files_only(true)
                .send()
                .await
            {
                Ok(p) => return Ok(p),
                Err(e) if offline => {
                    return Err(Error::MissingAsset {
                        what: format!(
                            "{spec_s} in the Hugging Face cache ({e}; HF_HUB_OFFLINE is set)"
                        ),
                        path: cache_dir.clone(),
                        fix: "huggingface-cli download (or unset HF_HUB_OFFLINE)".into(),
                    })
                }
                Err(_) => {}
            }
            repo.download_file()
                .filename(file.clone())
                .send()
                .await
                .map_err(|e| Error::Fetch(format!("hf-hub {spec_s}: {e}")))
        })
    });
    handle
        .join()
        .map_err(|_| Error::Model("hf-hub resolver thread panicked".into()))?
}

/// If `path` has Q5_0/Q5_1 tensors, return a Q8_0 re-encoding of it (made once
/// and kept as `<stem>.q8_0.gguf` next to it); otherwise `path` itself.
pub fn fast_variant(path: &Path) -> Result<PathBuf> {
    let mut f = File::open(path).ctx(|| format!("opening {}", path.display()))?;
    let ct = gguf_file::Content::read(&mut f)?;
    let slow = ct
        .tensor_infos
        .values()
        .any(|t| matches!(t.ggml_dtype, GgmlDType::Q5_0 | GgmlDType::Q5_1));
    if !slow {
        return Ok(path.to_path_buf());
    }
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("model");
    let out = path.with_file_name(format!("{stem}.q8_0.gguf"));
    if out.is_file() {
        let src_m = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        let out_m = std::fs::metadata(&out).and_then(|m| m.modified()).ok();
        if matches!((src_m, out_m), (Some(s), Some(o)) if o >= s) {
            return Ok(out);
        }
    }
    tracing::info!(src = %path.display(), dst = %out.display(), "re-encoding Q5 tensors to Q8_0 (once)");
    let mut names: Vec<&String> = ct.tensor_infos.keys().collect();
    names.sort_by_key(|n| ct.tensor_infos[*n].offset);
    let mut tensors: Vec<(String, QTensor)> = Vec::with_capacity(names.len());
    for name in names {
        let t = ct.tensor(&mut f, name, &Device::Cpu)?;
        let t = match t.dtype() {
            GgmlDType::Q5_0 | GgmlDType::Q5_1 => {
                QTensor::quantize(&t.dequantize(&Device::Cpu)?, GgmlDType::Q8_0)?
            }
            _ => t,
        };
        tensors.push((name.clone(), t));
    }
    let mut meta: Vec<(&str, &gguf_file::Value)> =
        ct.metadata.iter().map(|(k, v)| (k.as_str(), v)).collect();
    meta.sort_by_key(|(k, _)| *k);
    let tref: Vec<(&str, &QTensor)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let tmp = out.with_extension("gguf.tmp");
    {
        let mut w = std::io::BufWriter::new(
            File::create(&tmp).ctx(|| format!("creating {}", tmp.display()))?,
        );
        gguf_file::write(&mut w, &meta, &tref)?;
        std::io::Write::flush(&mut w).ctx(|| format!("writing {}", tmp.display()))?;
    }
    std::fs::rename(&tmp, &out).ctx(|| format!("renaming to {}", out.display()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hf_specs() {
        assert_eq!(
            parse_hf_spec("Qwen/Qwen2.5-0.5B-Instruct-GGUF:q8.gguf").expect("spec"),
            (
                "Qwen".into(),
                "Qwen2.5-0.5B-Instruct-GGUF".into(),
                "q8.gguf".into()
            )
        );
        assert_eq!(parse_hf_spec("a/b/c.gguf").expect("spec").2, "c.gguf");
        assert!(parse_hf_spec("nofile").is_err());
        assert!(parse_hf_spec("a:b").is_err());
    }

    #[test]
    fn missing_profile_file_names_setup() {
        let dir = tempfile::tempdir().expect("tmp");
        let err = resolve(&ModelSource::Profile("default".into()), dir.path(), None)
            .expect_err("missing");
        assert!(err.to_string().contains("lawbrain setup"), "{err}");
    }
}
