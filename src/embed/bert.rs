//! The BERT encoder of multilingual-e5-small (post-LayerNorm, GELU), run with
//! candle on the CPU.
//!
//! The layer weights are dequantized from Q4_0 to f32 once at load (21 M
//! parameters, 85 MB) so every product is one f32 GEMM; the word embeddings
//! (250 k rows, 96 M weights) stay in their compact Q4_0 blocks and only the
//! rows a batch uses are dequantized. Q, K and V are fused into one matrix.
//! Sequences of a batch are padded to the longest; padding is masked out of
//! attention and out of the mean pool.

use candle_core::{DType, Device, Tensor};

use super::file::{dequant_block, E5File, Q4_0_BYTES, QK};
use crate::error::{Error, Result};

pub use super::file::Config;

struct Layer {
    /// `[H, 3H]`: Q, K and V weights, transposed and side by side.
    qkv_w: Tensor,
    qkv_b: Tensor,
    o_w: Tensor,
    o_b: Tensor,
    aln_w: Tensor,
    aln_b: Tensor,
    i_w: Tensor,
    i_b: Tensor,
    f_w: Tensor,
    f_b: Tensor,
    oln_w: Tensor,
    oln_b: Tensor,
}

/// The loaded encoder weights.
pub struct Bert {
    pub config: Config,
    word: Vec<u8>,
    pos: Vec<f32>,
    token_type: Vec<f32>,
    ln_w: Tensor,
    ln_b: Tensor,
    layers: Vec<Layer>,
    device: Device,
}

/// `[out, in]` row-major weights as an `[in, out]` tensor.
fn transposed(w: Vec<f32>, out: usize, inp: usize, dev: &Device) -> Result<Tensor> {
    Ok(Tensor::from_vec(w, (out, inp), dev)?.t()?.contiguous()?)
}

impl Bert {
    /// Dequantize the layers of a parsed file.
    pub fn load(file: &E5File) -> Result<Bert> {
        let c = file.config;
        let dev = Device::Cpu;
        let h = c.hidden;
        let vec1 = |name: &str, n: usize| -> Result<Tensor> {
            Ok(Tensor::from_vec(file.f32(name, n)?, n, &dev)?)
        };
        let mut layers = Vec::with_capacity(c.layers);
        for l in 0..c.layers {
            let name = |s: &str| format!("l{l}.{s}");
            let mut qkv = Vec::with_capacity(3 * h * h);
            let mut qkv_b = Vec::with_capacity(3 * h);
            for part in ["q", "k", "v"] {
                qkv.extend(file.f32(&name(&format!("{part}.w")), h * h)?);
                qkv_b.extend(file.f32(&name(&format!("{part}.b")), h)?);
            }
            layers.push(Layer {
                qkv_w: transposed(qkv, 3 * h, h, &dev)?,
                qkv_b: Tensor::from_vec(qkv_b, 3 * h, &dev)?,
                o_w: transposed(file.f32(&name("ao.w"), h * h)?, h, h, &dev)?,
                o_b: vec1(&name("ao.b"), h)?,
                aln_w: vec1(&name("aln.w"), h)?,
                aln_b: vec1(&name("aln.b"), h)?,
                i_w: transposed(file.f32(&name("fi.w"), c.ff * h)?, c.ff, h, &dev)?,
                i_b: vec1(&name("fi.b"), c.ff)?,
                f_w: transposed(file.f32(&name("fo.w"), h * c.ff)?, h, c.ff, &dev)?,
                f_b: vec1(&name("fo.b"), h)?,
                oln_w: vec1(&name("oln.w"), h)?,
                oln_b: vec1(&name("oln.b"), h)?,
            });
        }
        Ok(Bert {
            config: c,
            word: file.q4_0("emb.word", c.vocab * h)?,
            pos: file.f32("emb.pos", c.max_positions * h)?,
            token_type: file.f32("emb.type", c.type_vocab * h)?,
            ln_w: vec1("emb.ln.w", h)?,
            ln_b: vec1("emb.ln.b", h)?,
            layers,
            device: dev,
        })
    }

    /// Word + position + token-type embedding of one token, into `out`.
    fn embed_token(&self, id: u32, pos: usize, out: &mut [f32]) -> Result<()> {
        let h = self.config.hidden;
        let id = id as usize;
        if id >= self.config.vocab || pos >= self.config.max_positions {
            return Err(Error::Model(format!(
                "token {id} at position {pos} is outside the encoder"
            )));
        }
        let row_bytes = h / QK * Q4_0_BYTES;
        let row = &self.word[id * row_bytes..(id + 1) * row_bytes];
        for (blk, o) in row.chunks_exact(Q4_0_BYTES).zip(out.chunks_exact_mut(QK)) {
            dequant_block(blk, o);
        }
        let p = &self.pos[pos * h..(pos + 1) * h];
        for ((o, p), t) in out.iter_mut().zip(p).zip(&self.token_type[..h]) {
            *o += p + t;
        }
        Ok(())
    }

    /// Mean-pooled, L2-normalised embeddings of token sequences (each with
    /// its `<s>` and `</s>`). All sequences run as one padded batch.
    pub fn forward(&self, seqs: &[Vec<u32>]) -> Result<Vec<Vec<f32>>> {
        let c = &self.config;
        let (h, nh) = (c.hidden, c.heads);
        let hd = h / nh;
        let b = seqs.len();
        let l = seqs.iter().map(Vec::len).max().unwrap_or(0);
        if b == 0 || l == 0 {
            return Ok(vec![vec![0.0; h]; b]);
        }
        let mut x = vec![0f32; b * l * h];
        let mut mask = vec![0f32; b * l];
        for (s, ids) in seqs.iter().enumerate() {
            for (t, &id) in ids.iter().enumerate() {
                let at = (s * l + t) * h;
                self.embed_token(id, t, &mut x[at..at + h])?;
            }
            for m in &mut mask[s * l + ids.len()..(s + 1) * l] {
                *m = -1e30;
            }
        }
        let dev = &self.device;
        let eps = c.eps as f32;
        let mut x = Tensor::from_vec(x, (b * l, h), dev)?;
        x = candle_nn::ops::layer_norm(&x, &self.ln_w, &self.ln_b, eps)?;
        let softmax = super::ops::MaskedSoftmax {
            scale: 1.0 / (hd as f32).sqrt(),
            mask,
            heads: nh,
        };
        for ly in &self.layers {
            let qkv = x.matmul(&ly.qkv_w)?.broadcast_add(&ly.qkv_b)?;
            let qkv = qkv.reshape((b, l, 3, nh, hd))?.permute((2, 0, 3, 1, 4))?;
            let q = qkv.get(0)?.contiguous()?;
            let k = qkv.get(1)?.contiguous()?;
            let v = qkv.get(2)?.contiguous()?;
            let probs = q.matmul(&k.t()?)?.apply_op1_no_bwd(&softmax)?;
            let ctx = probs
                .matmul(&v)?
                .permute((0, 2, 1, 3))?
                .contiguous()?
                .reshape((b * l, h))?;
            let ao = ctx.matmul(&ly.o_w)?.broadcast_add(&ly.o_b)?;
            x = candle_nn::ops::layer_norm(&(x + ao)?, &ly.aln_w, &ly.aln_b, eps)?;
            let mid = super::ops::gelu(&x.matmul(&ly.i_w)?.broadcast_add(&ly.i_b)?)?;
            let fo = mid.matmul(&ly.f_w)?.broadcast_add(&ly.f_b)?;
            x = candle_nn::ops::layer_norm(&(x + fo)?, &ly.oln_w, &ly.oln_b, eps)?;
        }
        let x = x.to_dtype(DType::F32)?.reshape((b, l, h))?;
        let rows: Vec<Vec<Vec<f32>>> = x.to_vec3()?;
        let mut out = Vec::with_capacity(b);
        for (s, ids) in seqs.iter().enumerate() {
            let mut v = vec![0f32; h];
            for row in &rows[s][..ids.len()] {
                for (a, r) in v.iter_mut().zip(row) {
                    *a += r;
                }
            }
            normalise(&mut v);
            out.push(v);
        }
        Ok(out)
    }
}

/// Scale a vector to unit length (a zero vector stays zero).
pub fn normalise(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 1e-12 {
        for x in v {
            *x /= n;
        }
    }
}
