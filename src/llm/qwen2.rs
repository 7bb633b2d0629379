//! Qwen2 forward pass over GGUF weights (a trimmed copy of candle-transformers'
//! `quantized_qwen2`), changed for a CPU service:
//! - the token embedding stays quantized and rows are dequantized on lookup
//!   (shared with the tied output matrix: no 0.9 GB f32 copy);
//! - the KV cache can be truncated to a prefix, so a prompt that shares its
//!   start (the fixed system prompt) with the previous one is not recomputed;
//! - decode steps (one token) multiply on the compact quantized blocks
//!   ([`super::gemv`]), q/k/v and gate/up fused into one parallel region;
//! - keys and values live in a growing buffer written in place, and grouped
//!   query heads attend to their shared key/value head without copying it.

use std::sync::Arc;

use candle_core::quantized::{gguf_file, GgmlDType, QMatMul, QTensor};
use candle_core::{DType, Device, IndexOp, Module, Result, Tensor, D};
use candle_transformers::quantized_nn::RmsNorm;

/// Positions the RoPE tables cover: far beyond a consultation's prompt and
/// answer (about 1,000 tokens), and a fraction of the memory of the model's
/// full 32K context.
const MAX_POSITIONS: usize = 8192;

/// Model hyper-parameters read from the GGUF metadata.
#[derive(Debug, Clone)]
pub struct Qwen2Config {
    pub n_head: usize,
    pub n_kv_head: usize,
    pub n_embd: usize,
    pub n_layer: usize,
    pub context_length: usize,
    pub rms_eps: f64,
    pub rope_base: f32,
}

impl Qwen2Config {
    pub fn from_gguf(ct: &gguf_file::Content) -> Result<Self> {
        let arch = ct
            .metadata
            .get("general.architecture")
            .and_then(|v| v.to_string().ok())
            .cloned()
            .unwrap_or_else(|| "qwen2".to_string());
        if arch != "qwen2" {
            candle_core::bail!("unsupported model architecture `{arch}` (expected qwen2)");
        }
        let get = |k: &str| match ct.metadata.get(k) {
            Some(v) => Ok(v),
            None => candle_core::bail!("cannot find {k} in GGUF metadata"),
        };
        Ok(Qwen2Config {
            n_head: get("qwen2.attention.head_count")?.to_u32()? as usize,
            n_kv_head: get("qwen2.attention.head_count_kv")?.to_u32()? as usize,
            n_embd: get("qwen2.embedding_length")?.to_u32()? as usize,
            n_layer: get("qwen2.block_count")?.to_u32()? as usize,
            context_length: get("qwen2.context_length")?.to_u32()? as usize,
            rms_eps: get("qwen2.attention.layer_norm_rms_epsilon")?.to_f32()? as f64,
            rope_base: get("qwen2.rope.freq_base")
                .and_then(|m| m.to_f32())
                .unwrap_or(10000.0),
        })
    }
}

/// A linear layer kept quantized, with the tensor shared for fused calls.
#[derive(Debug, Clone)]
struct QLinear {
    t: Arc<QTensor>,
    mm: QMatMul,
    /// Multiply prompts on the compact blocks too (see [`Memory`]).
    compact_prefill: bool,
    /// Added to the product (q/k/v projections have one).
    bias: Option<(Tensor, Vec<f32>)>,
}

impl QLinear {
    fn new(t: QTensor, memory: Memory) -> Result<Self> {
        let t = Arc::new(t);
        Ok(QLinear {
            mm: QMatMul::from_arc(t.clone())?,
            compact_prefill: match t.dtype() {
                GgmlDType::Q4K => super::tiles::available(),
                GgmlDType::Q6K => super::tiles::available() || memory == Memory::Low,
                _ => false,
            },
            t,
            bias: None,
        })
    }
    fn with_bias(mut self, b: QTensor) -> Result<Self> {
        let b = b.dequantize(&Device::Cpu)?;
        let v = b.flatten_all()?.to_vec1::<f32>()?;
        self.bias = Some((b, v));
        Ok(self)
    }
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut out = multi_forward(&[self], x)?;
        out.pop()
            .ok_or_else(|| candle_core::Error::Msg("no output".into()))
    }
}

/// Apply several linear layers to the same input: one token goes through the
/// compact-block mat-vec, longer inputs through candle's matmul.
fn multi_forward(ls: &[&QLinear], x: &Tensor) -> Result<Vec<Tensor>> {
    let (k, dims) = (x.dim(D::Minus1)?, x.dims().to_vec());
    let m = x.elem_count() / k.max(1);
    // Up to FEW_ROWS rows always take the compact path, which computes each
    // row the same way however many come together: checking guessed tokens
    // then yields exactly the logits single steps would.
    if x.dtype() == DType::F32 && (m <= FEW_ROWS || ls.iter().all(|l| l.compact_prefill)) {
        let xs = x.flatten_all()?.to_vec1::<f32>()?;
        let ts: Vec<&QTensor> = ls.iter().map(|l| l.t.as_ref()).collect();
        if let Some(outs) = super::gemv::matmul(&ts, &xs, m) {
            return outs
                .into_iter()
                .zip(ls)
                .map(|(mut o, l)| {
                    if let Some((_, b)) = &l.bias {
                        for row in o.chunks_mut(b.len()) {
                            row.iter_mut().zip(b).for_each(|(y, b)| *y += b);
                        }
                    }
                    let mut d = dims.clone();
                    if let Some(last) = d.last_mut() {
                        *last = o.len() / m;
                    }
                    Tensor::from_vec(o, d, x.device())
                })
                .collect();
        }
    }
    ls.iter()
        .map(|l| match &l.bias {
            Some((b, _)) => l.mm.forward(x)?.broadcast_add(b),
            None => l.mm.forward(x),
        })
        .collect()
}

/// How prompts (several tokens at once) trade memory for speed on CPUs
/// without AVX-512 VNNI. With it, prompts multiply on the compact GGUF
/// blocks through 16-row tiles built on the fly (`tiles.rs`), as fast as
/// candle's stored tiles without storing any weight twice, and this setting
/// changes nothing. One-token decode steps always use the compact blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Memory {
    /// candle repacks every Q4_K and Q6_K matrix into wider tiles on the first
    /// prompt and keeps them beside the compact ones: faster prompts, a few
    /// hundred MiB more resident memory.
    #[default]
    Fast,
    /// Only Q4_K is repacked; Q6_K prompts run on the compact blocks.
    Low,
}

/// One layer's keys and values, `[1, n_kv_head, capacity, head_dim]`, of which
/// the first `len` positions are filled.
#[derive(Debug, Clone)]
struct KvCache {
    k: Tensor,
    v: Tensor,
    len: usize,
}

/// One new token's attention over the cached keys and values: `q` is
/// `[n_head * head_dim]` (heads in order), the result likewise.
///
/// The products are tiny (a handful of query rows against a few hundred
/// cached positions), so they are single-threaded `gemm` calls, one per
/// key/value head, spread over candle's pool: candle's own matmul would hand
/// each to rayon, whose wake-ups cost more than the arithmetic (a sixth of
/// every decode step).
fn decode_attention(
    q: &[f32],
    c: &KvCache,
    len: usize,
    n_head: usize,
    head_dim: usize,
) -> Result<Vec<f32>> {
    let (_, nkv, cap, hd) = c.k.dims4()?;
    let n_rep = n_head / nkv.max(1);
    if hd != head_dim || q.len() != n_head * hd || n_rep * nkv != n_head || len == 0 || len > c.len
    {
        candle_core::bail!("decode attention: inconsistent shapes");
    }
    let (ks, kl) = c.k.storage_and_layout();
    let (vs, vl) = c.v.storage_and_layout();
    let (candle_core::Storage::Cpu(kc), candle_core::Storage::Cpu(vc)) = (&*ks, &*vs) else {
        candle_core::bail!("decode attention runs on the CPU");
    };
    if !kl.is_contiguous() || !vl.is_contiguous() {
        candle_core::bail!("decode attention needs contiguous buffers");
    }
    let kbuf = &kc.as_slice::<f32>()?[kl.start_offset()..];
    let vbuf = &vc.as_slice::<f32>()?[vl.start_offset()..];
    if kbuf.len() < nkv * cap * hd || vbuf.len() < nkv * cap * hd {
        candle_core::bail!("decode attention: buffer too small");
    }
    let scale = 1.0 / (hd as f32).sqrt();
    let mut out = vec![0f32; n_head * hd];
    let out_ptr = out.as_mut_ptr() as usize;
    candle_core::utils::barrier_pool().execute_chunked(nkv, |groups| {
        for g in groups {
            let qg = &q[g * n_rep * hd..(g + 1) * n_rep * hd];
            let kg = &kbuf[g * cap * hd..g * cap * hd + len * hd];
            let vg = &vbuf[g * cap * hd..g * cap * hd + len * hd];
            // scores[r][t] = q_r · k_t * scale
            let mut scores = vec![0f32; n_rep * len];
            // SAFETY: all pointers cover the extents passed (n_rep x hd, len x hd,
            // n_rep x len) with the strides given; nothing else writes them.
            unsafe {
                gemm::gemm(
                    n_rep,
                    len,
                    hd,
                    scores.as_mut_ptr(),
                    1,
                    len as isize,
                    false,
                    qg.as_ptr(),
                    1,
                    hd as isize,
                    kg.as_ptr(),
                    hd as isize,
                    1,
                    0.0,
                    scale,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
            for row in scores.chunks_mut(len) {
                let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let mut sum = 0.0;
                for x in row.iter_mut() {
                    *x = (*x - max).exp();
                    sum += *x;
                }
                row.iter_mut().for_each(|x| *x /= sum);
            }
            // SAFETY: as above; this group writes only its own n_rep rows of `out`.
            unsafe {
                let dst = (out_ptr as *mut f32).add(g * n_rep * hd);
                gemm::gemm(
                    n_rep,
                    hd,
                    len,
                    dst,
                    1,
                    hd as isize,
                    false,
                    scores.as_ptr(),
                    1,
                    len as isize,
                    vg.as_ptr(),
                    1,
                    hd as isize,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
        }
    });
    Ok(out)
}

/// Positions added to the buffers when they are full.
const KV_GROWTH: usize = 512;

impl KvCache {
    /// Append `k`, `v` (`[1, n_kv_head, seq, head_dim]`); all keys and values so far.
    fn append(cache: &mut Option<KvCache>, k: &Tensor, v: &Tensor) -> Result<(Tensor, Tensor)> {
        let seq = k.dim(2)?;
        let len = cache.as_ref().map_or(0, |c| c.len);
        let cap = cache.as_ref().map_or(0, |c| c.k.dim(2).unwrap_or(0));
        if len + seq > cap {
            let (b, h, _, d) = k.dims4()?;
            let new_cap = (len + seq).next_multiple_of(KV_GROWTH);
            let nk = Tensor::zeros((b, h, new_cap, d), k.dtype(), k.device())?;
            let nv = Tensor::zeros((b, h, new_cap, d), v.dtype(), v.device())?;
            if let Some(c) = cache.as_ref().filter(|c| c.len > 0) {
                nk.slice_set(&c.k.narrow(2, 0, c.len)?.contiguous()?, 2, 0)?;
                nv.slice_set(&c.v.narrow(2, 0, c.len)?.contiguous()?, 2, 0)?;
            }
            *cache = Some(KvCache { k: nk, v: nv, len });
        }
        let c = cache
            .as_mut()
            .ok_or_else(|| candle_core::Error::Msg("kv cache missing".into()))?;
        c.k.slice_set(&k.contiguous()?, 2, c.len)?;
        c.v.slice_set(&v.contiguous()?, 2, c.len)?;
        c.len += seq;
        Ok((c.k.narrow(2, 0, c.len)?, c.v.narrow(2, 0, c.len)?))
    }
}

#[derive(Debug, Clone)]
struct Layer {
    wq: QLinear,
    wk: QLinear,
    wv: QLinear,
    wo: QLinear,
    attn_norm: RmsNorm,
    w_gate: QLinear,
    w_down: QLinear,
    w_up: QLinear,
    ffn_norm: RmsNorm,
    kv: Option<KvCache>,
}

impl Layer {
    /// The feed-forward half of the block, residual included.
    fn ffn(&self, x1: &Tensor) -> Result<Tensor> {
        let h = self.ffn_norm.forward(x1)?;
        let gu = multi_forward(&[&self.w_gate, &self.w_up], &h)?;
        let m = (candle_nn::ops::silu(&gu[0])? * &gu[1])?;
        let m = self.w_down.forward(&m)?;
        m + x1
    }
}

/// Up to this many tokens fed at once (decode steps and checks of guessed
/// tokens) are computed row by row as a single step would be: products on
/// the compact blocks, attention straight over the cache; more (prompts) go
/// through the tile kernels and masked tensor attention.
const FEW_ROWS: usize = super::few::MAX_ROWS;

/// The Qwen2 model with its KV cache.
pub struct Qwen2 {
    cfg: Qwen2Config,
    head_dim: usize,
    embd: Arc<QTensor>,
    layers: Vec<Layer>,
    norm: RmsNorm,
    output: QLinear,
    cos: Tensor,
    sin: Tensor,
    neg_inf: Tensor,
    /// Tokens whose keys/values are in the cache.
    cached: usize,
}

impl Qwen2 {
    pub fn from_gguf<R: std::io::Seek + std::io::Read>(
        ct: &gguf_file::Content,
        r: &mut R,
        device: &Device,
        memory: Memory,
    ) -> Result<Self> {
        let cfg = Qwen2Config::from_gguf(ct)?;
        let head_dim = cfg.n_embd / cfg.n_head;
        let embd = Arc::new(ct.tensor(r, "token_embd.weight", device)?);
        let norm = RmsNorm::from_qtensor(ct.tensor(r, "output_norm.weight", device)?, cfg.rms_eps)?;
        let output = match ct.tensor(r, "output.weight", device) {
            Ok(t) => QLinear::new(t, memory)?,
            Err(_) => QLinear {
                mm: QMatMul::from_arc(embd.clone())?,
                t: embd.clone(),
                compact_prefill: false,
                bias: None,
            },
        };
        // RoPE tables, only as long as we may need.
        let ctx = cfg.context_length.min(MAX_POSITIONS);
        let theta: Vec<f32> = (0..head_dim)
            .step_by(2)
            .map(|i| 1f32 / cfg.rope_base.powf(i as f32 / head_dim as f32))
            .collect();
        let theta = Tensor::new(theta.as_slice(), device)?;
        let idx = Tensor::arange(0, ctx as u32, device)?
            .to_dtype(DType::F32)?
            .reshape((ctx, 1))?
            .matmul(&theta.reshape((1, theta.elem_count()))?)?;
        let (cos, sin) = (idx.cos()?, idx.sin()?);
        let mut layers = Vec::with_capacity(cfg.n_layer);
        for i in 0..cfg.n_layer {
            let p = format!("blk.{i}");
            let q = |n: &str| ct.tensor(r, &format!("{p}.{n}"), device);
            let mut q = q;
            layers.push(Layer {
                wq: QLinear::new(q("attn_q.weight")?, memory)?.with_bias(q("attn_q.bias")?)?,
                wk: QLinear::new(q("attn_k.weight")?, memory)?.with_bias(q("attn_k.bias")?)?,
                wv: QLinear::new(q("attn_v.weight")?, memory)?.with_bias(q("attn_v.bias")?)?,
                wo: QLinear::new(q("attn_output.weight")?, memory)?,
                attn_norm: RmsNorm::from_qtensor(q("attn_norm.weight")?, cfg.rms_eps)?,
                w_gate: QLinear::new(q("ffn_gate.weight")?, memory)?,
                w_down: QLinear::new(q("ffn_down.weight")?, memory)?,
                w_up: QLinear::new(q("ffn_up.weight")?, memory)?,
                ffn_norm: RmsNorm::from_qtensor(q("ffn_norm.weight")?, cfg.rms_eps)?,
                kv: None,
            });
        }
        Ok(Qwen2 {
            cfg,
            head_dim,
            embd,
            layers,
            norm,
            output,
            cos,
            sin,
            neg_inf: Tensor::new(f32::NEG_INFINITY, device)?,
            cached: 0,
        })
    }

    /// Stream every weight matrix once through the one-token mat-vec, as a
    /// decode step does (without attention and the small element-wise ops),
    /// `reps` times. Returns the bytes read per pass and the seconds per pass:
    /// their ratio is the memory bandwidth the kernels reach, and its inverse
    /// the ceiling on generation tokens/s.
    pub fn probe_matvec(&self, reps: usize) -> Result<(usize, f64)> {
        let dev = self.neg_inf.device();
        let x = Tensor::ones((1, 1, self.cfg.n_embd), DType::F32, dev)?;
        let ffn = self
            .layers
            .first()
            .map_or(0, |l| l.w_gate.t.shape().dims()[0]);
        let xf = Tensor::ones((1, 1, ffn), DType::F32, dev)?;
        let mut bytes = self.output.t.storage_size_in_bytes();
        for l in &self.layers {
            for w in [&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down] {
                bytes += w.t.storage_size_in_bytes();
            }
        }
        let t0 = std::time::Instant::now();
        for _ in 0..reps.max(1) {
            for l in &self.layers {
                multi_forward(&[&l.wq, &l.wk, &l.wv], &x)?;
                l.wo.forward(&x)?;
                multi_forward(&[&l.w_gate, &l.w_up], &x)?;
                l.w_down.forward(&xf)?;
            }
            self.output.forward(&x)?;
        }
        Ok((bytes, t0.elapsed().as_secs_f64() / reps.max(1) as f64))
    }

    /// Longest sequence the RoPE tables cover.
    pub fn max_positions(&self) -> usize {
        self.cos.dim(0).unwrap_or(0)
    }

    /// Keep only the first `len` positions of the KV cache.
    pub fn truncate_cache(&mut self, len: usize) -> Result<()> {
        if len >= self.cached {
            return Ok(());
        }
        for l in self.layers.iter_mut() {
            if let Some(c) = l.kv.as_mut() {
                c.len = c.len.min(len);
            }
        }
        self.cached = len;
        Ok(())
    }

    /// Feed `tokens` at the end of the cache; logits of the last one.
    pub fn forward(&mut self, tokens: &[u32]) -> Result<Tensor> {
        self.run(tokens, false)?.flatten_to(D::Minus1)
    }

    /// Feed `tokens` at the end of the cache; logits after each of them,
    /// `[tokens.len(), vocab]`.
    pub fn forward_all(&mut self, tokens: &[u32]) -> Result<Tensor> {
        self.run(tokens, true)
    }

    fn run(&mut self, tokens: &[u32], all: bool) -> Result<Tensor> {
        let seq_len = tokens.len();
        if seq_len == 0 {
            candle_core::bail!("forward on an empty token sequence");
        }
        let pos = self.cached;
        if pos + seq_len > self.max_positions() {
            candle_core::bail!(
                "sequence of {} tokens exceeds the context of {}",
                pos + seq_len,
                self.max_positions()
            );
        }
        let device = self.neg_inf.device().clone();
        let ids = Tensor::new(tokens, &device)?;
        let mut x = self.embd.embedding(&ids)?.unsqueeze(0)?;
        // Additive causal mask `[seq, pos + seq]`: 0 where visible, -inf after.
        let mask = if seq_len <= FEW_ROWS {
            None
        } else {
            let m = candle_transformers::utils::build_causal_mask(seq_len, pos, &device)?;
            let zeros = Tensor::zeros(m.shape(), DType::F32, &device)?;
            Some(m.where_cond(&self.neg_inf.broadcast_as(m.shape())?, &zeros)?)
        };
        let cos = self.cos.narrow(0, pos, seq_len)?;
        let sin = self.sin.narrow(0, pos, seq_len)?;
        let (nh, nkv, hd) = (self.cfg.n_head, self.cfg.n_kv_head, self.head_dim);
        for l in self.layers.iter_mut() {
            let residual = x.clone();
            let h = l.attn_norm.forward(&x)?;
            let qkv = multi_forward(&[&l.wq, &l.wk, &l.wv], &h)?;
            let (q, k, v) = (&qkv[0], &qkv[1], &qkv[2]);
            let q = q
                .reshape((1, seq_len, nh, hd))?
                .transpose(1, 2)?
                .contiguous()?;
            let k = k
                .reshape((1, seq_len, nkv, hd))?
                .transpose(1, 2)?
                .contiguous()?;
            let v = v
                .reshape((1, seq_len, nkv, hd))?
                .transpose(1, 2)?
                .contiguous()?;
            let q = candle_nn::rotary_emb::rope(&q, &cos, &sin)?;
            let k = candle_nn::rotary_emb::rope(&k, &cos, &sin)?;
            let (k, v) = KvCache::append(&mut l.kv, &k, &v)?;
            // One token, or the few of a guess being checked: each row
            // attends straight over the cache up to its own position.
            if let (true, Some(c)) = (seq_len <= FEW_ROWS, l.kv.as_ref()) {
                let qv = if seq_len == 1 { q } else { q.transpose(1, 2)? }
                    .flatten_all()?
                    .to_vec1::<f32>()?;
                let mut y = Vec::with_capacity(seq_len * nh * hd);
                for (i, qi) in qv.chunks(nh * hd).enumerate() {
                    y.extend(decode_attention(qi, c, pos + i + 1, nh, hd)?);
                }
                let y = Tensor::from_vec(y, (1, seq_len, nh * hd), &device)?;
                let y = l.wo.forward(&y)?;
                let x1 = (y + residual)?;
                x = l.ffn(&x1)?;
                continue;
            }
            // Grouped-query attention: the n_rep query heads that share a
            // key/value head are stacked as rows against that one head.
            let n_rep = nh / nkv;
            let q = q.reshape((1, nkv, n_rep * seq_len, hd))?;
            let att = (q.matmul(&k.t()?)? / (hd as f64).sqrt())?;
            let att = match &mask {
                None => att,
                Some(m) => {
                    let l_all = att.dim(D::Minus1)?;
                    att.reshape((1, nkv, n_rep, seq_len, l_all))?
                        .broadcast_add(m)?
                        .reshape((1, nkv, n_rep * seq_len, l_all))?
                }
            };
            let att = candle_nn::ops::softmax_last_dim(&att)?;
            let y = att.matmul(&v)?;
            let y =
                y.reshape((1, nh, seq_len, hd))?
                    .transpose(1, 2)?
                    .reshape((1, seq_len, nh * hd))?;
            let y = l.wo.forward(&y)?;
            let x1 = (y + residual)?;
            x = l.ffn(&x1)?;
        }
        self.cached = pos + seq_len;
        let x = if all {
            x
        } else {
            x.i((.., seq_len - 1..seq_len, ..))?
        };
        let x = self.norm.forward(&x)?;
        let logits = self.output.forward(&x)?;
        logits.squeeze(0)?.to_dtype(DType::F32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The single-token attention agrees with plain tensor attention in
    /// which each query head attends to its group's key/value head.
    #[test]
    fn decode_attention_matches_tensor_attention() -> Result<()> {
        let dev = Device::Cpu;
        let (nh, nkv, hd, len) = (6, 2, 8, 5);
        let val = |i: usize| ((i * 37 % 101) as f32 / 50.0) - 1.0;
        let k = Tensor::from_vec(
            (0..nkv * len * hd).map(val).collect(),
            (1, nkv, len, hd),
            &dev,
        )?;
        let v = Tensor::from_vec(
            (0..nkv * len * hd).map(|i| val(i + 7)).collect(),
            (1, nkv, len, hd),
            &dev,
        )?;
        let q: Vec<f32> = (0..nh * hd).map(|i| val(i + 13)).collect();
        let mut cache = None;
        KvCache::append(&mut cache, &k, &v)?;
        let c = cache.ok_or_else(|| candle_core::Error::Msg("no cache".into()))?;
        let got = decode_attention(&q, &c, len, nh, hd)?;
        let n_rep = nh / nkv;
        for h in 0..nh {
            let g = h / n_rep;
            let qh = Tensor::from_vec(q[h * hd..(h + 1) * hd].to_vec(), (1, hd), &dev)?;
            let kg = k.i((0, g))?;
            let att = (qh.matmul(&kg.t()?)? / (hd as f64).sqrt())?;
            let att = candle_nn::ops::softmax_last_dim(&att)?;
            let want = att.matmul(&v.i((0, g))?)?.flatten_all()?.to_vec1::<f32>()?;
            for (a, b) in got[h * hd..(h + 1) * hd].iter().zip(&want) {
                assert!((a - b).abs() < 1e-5, "head {h}: {a} vs {b}");
            }
        }
        Ok(())
    }
}
