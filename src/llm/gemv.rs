//! Products of activations with weight matrices, computed straight on the
//! GGUF's compact quantized blocks.
//!
//! Why not `QMatMul::forward`: on x86 with AVX-512 VNNI, candle 0.11 repacks
//! every Q4_K matrix into wider tiles (f32 scales: about 6 bits per weight
//! instead of 4.5) and keeps that copy beside the original. Generation is
//! bound by memory bandwidth, so reading a third more bytes per token costs a
//! third of the speed, and the copy adds hundreds of MiB of resident memory.
//! Here each row is dotted with candle's own SIMD kernels (ports of ggml's),
//! `x` is quantized once for all matrices of a fused call (q/k/v, gate/up),
//! and all rows of all matrices share one parallel region on candle's
//! persistent thread pool. Unsupported types return `None` and the caller
//! falls back to candle.

use std::borrow::Cow;

use candle_core::quantized::k_quants::{
    BlockQ4K, BlockQ5K, BlockQ6K, BlockQ8K, BlockQ8_0, GgmlType,
};
use candle_core::quantized::{GgmlDType, QTensor};

use super::{few, tiles};

/// One weight matrix viewed as rows of quantized blocks.
enum Rows<'a> {
    Q4K(&'a [BlockQ4K]),
    Q5K(&'a [BlockQ5K]),
    Q6K(&'a [BlockQ6K]),
    Q8_0(&'a [BlockQ8_0]),
}

/// Reinterpret candle's CPU storage bytes as blocks of `T`.
fn cast<T: GgmlType>(bytes: &[u8]) -> Option<&[T]> {
    let size = std::mem::size_of::<T>();
    if !bytes.len().is_multiple_of(size)
        || !(bytes.as_ptr() as usize).is_multiple_of(std::mem::align_of::<T>())
    {
        return None;
    }
    // SAFETY: candle's CPU storage of a tensor of dtype T *is* a `Vec<T>`
    // (`QTensor::data` borrows it as bytes); the length and alignment were
    // checked above and the blocks are plain old data (integers and f16).
    Some(unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast::<T>(), bytes.len() / size) })
}

fn rows(t: &QTensor) -> Option<(Rows<'_>, usize, usize)> {
    let (n, k) = t.shape().dims2().ok()?;
    let Ok(Cow::Borrowed(bytes)) = t.data() else {
        return None;
    };
    let r = match t.dtype() {
        GgmlDType::Q4K => Rows::Q4K(cast(bytes)?),
        GgmlDType::Q5K => Rows::Q5K(cast(bytes)?),
        GgmlDType::Q6K => Rows::Q6K(cast(bytes)?),
        GgmlDType::Q8_0 => Rows::Q8_0(cast(bytes)?),
        _ => return None,
    };
    let block = t.dtype().block_size();
    if !k.is_multiple_of(block) {
        return None;
    }
    Some((r, n, k))
}

/// The rows of `x` quantized for the two kinds of dot product.
struct Lhs {
    q8k: Vec<BlockQ8K>,
    q8_0: Vec<BlockQ8_0>,
}

/// An `m × n` row-major output buffer shared by the workers.
struct Dst {
    ptr: *mut f32,
    m: usize,
    n: usize,
}

/// Dot products of weight rows `rows` with every row of `x`: for activation
/// row `i`, columns `rows` of output row `i`. The weight rows stay in cache
/// while all activation rows pass over them.
///
/// # Safety
/// No other thread may touch columns `rows` of `dst` meanwhile, and `dst`
/// must be live.
unsafe fn dot_rows(
    w: &Rows,
    k: usize,
    x: &Lhs,
    tiled: Option<&tiles::Acts>,
    few: Option<&few::Acts>,
    rows: std::ops::Range<usize>,
    dst: &Dst,
) -> bool {
    // A few activation rows, all matrices Q4_K/Q6_K: each weight block
    // unpacked once (`x` was not quantized for the other paths).
    if let Some(acts) = few {
        let w = match w {
            Rows::Q4K(b) => tiles::Weights::Q4K(b),
            Rows::Q6K(b) => tiles::Weights::Q6K(b),
            _ => return false,
        };
        // SAFETY: forwarded from the caller.
        return unsafe { few::rows(&w, acts, rows, dst.ptr, dst.n) };
    }
    // Several activation rows and a whole 16-row group: the tile kernels.
    if let (Some(acts), true) = (tiled, rows.len() == tiles::ROWS) {
        let w = match w {
            Rows::Q4K(b) => Some(tiles::Weights::Q4K(b)),
            Rows::Q6K(b) => Some(tiles::Weights::Q6K(b)),
            _ => None,
        };
        if let Some(w) = w {
            // SAFETY: `tiled` is only built when the CPU has the features;
            // the rest is forwarded from the caller.
            unsafe { tiles::rows16(&w, k, acts, rows.start, dst.ptr, dst.n) };
            return true;
        }
    }
    unsafe fn run<T: GgmlType>(
        blocks: &[T],
        k: usize,
        y: &[T::VecDotType],
        rows: std::ops::Range<usize>,
        dst: &Dst,
    ) {
        let kb = k / T::BLCK_SIZE;
        let row = |i: usize| &blocks[i * kb..(i + 1) * kb];
        let (r, len) = (rows.start, rows.len());
        for a in 0..dst.m {
            let ya = &y[a * kb..(a + 1) * kb];
            // SAFETY: the caller owns columns `rows` of every row of `dst`.
            let o = unsafe { std::slice::from_raw_parts_mut(dst.ptr.add(a * dst.n + r), len) };
            let mut i = 0;
            while i + 4 <= len {
                let (d0, d1, d2, d3) = T::vec_dot_4(
                    k,
                    row(r + i),
                    row(r + i + 1),
                    row(r + i + 2),
                    row(r + i + 3),
                    ya,
                );
                o[i..i + 4].copy_from_slice(&[d0, d1, d2, d3]);
                i += 4;
            }
            for (j, v) in o.iter_mut().enumerate().skip(i) {
                *v = T::vec_dot(k, row(r + j), ya);
            }
        }
    }
    // SAFETY: forwarded from the caller.
    unsafe {
        match w {
            Rows::Q4K(b) => run(b, k, &x.q8k, rows, dst),
            Rows::Q5K(b) => run(b, k, &x.q8k, rows, dst),
            Rows::Q6K(b) => run(b, k, &x.q8k, rows, dst),
            Rows::Q8_0(b) => run(b, k, &x.q8_0, rows, dst),
        }
    }
    true
}

/// The `m` rows of `x` (each `k` long) quantized to blocks of `T` by
/// candle's `from_float`.
fn quantize<T: GgmlType + Clone>(x: &[f32], m: usize, k: usize) -> Vec<T> {
    quantize_rows(x, m, k, T::from_float)
}

/// The `m` rows of `x` (each `k` long) turned into blocks of `T` by `fill`
/// (one row's values, that row's blocks), rows shared out over the thread
/// pool when there are several.
fn quantize_rows<T: GgmlType + Clone>(
    x: &[f32],
    m: usize,
    k: usize,
    fill: impl Fn(&[f32], &mut [T]) + Sync,
) -> Vec<T> {
    let kb = k / T::BLCK_SIZE;
    let mut out = vec![T::zeros(); m * kb];
    if m == 1 {
        fill(x, &mut out);
        return out;
    }
    let ptr = out.as_mut_ptr() as usize;
    candle_core::utils::barrier_pool().execute_chunked(m, |rows| {
        for r in rows {
            // SAFETY: each row index is handed to exactly one worker, so the
            // row's `kb` blocks are written by it alone while `out` lives.
            let dst = unsafe { std::slice::from_raw_parts_mut((ptr as *mut T).add(r * kb), kb) };
            fill(&x[r * k..(r + 1) * k], dst);
        }
    });
    out
}

/// Weight rows handed to a worker at a time.
const UNIT: usize = tiles::ROWS;

/// `x · Wᵀ` for each `W` in `ws` (all `[n_i, k]`; `x` is `m` rows of length
/// `k`, row-major); each result is `m × n_i`, row-major. `None` when a matrix
/// is of a type this path does not cover.
pub fn matmul(ws: &[&QTensor], x: &[f32], m: usize) -> Option<Vec<Vec<f32>>> {
    let mats: Vec<(Rows, usize, usize)> = ws.iter().map(|w| rows(w)).collect::<Option<_>>()?;
    if m == 0 || !x.len().is_multiple_of(m) {
        return None;
    }
    let k = x.len() / m;
    if mats.iter().any(|(_, _, mk)| *mk != k) {
        return None;
    }
    let needs_q8k = mats.iter().any(|(r, _, _)| !matches!(r, Rows::Q8_0(_)));
    let needs_q8_0 = mats.iter().any(|(r, _, _)| matches!(r, Rows::Q8_0(_)));
    let mut lhs = Lhs {
        q8k: Vec::new(),
        q8_0: Vec::new(),
    };
    if needs_q8k && !k.is_multiple_of(BlockQ8K::BLCK_SIZE) {
        return None;
    }
    // Up to few::MAX_ROWS rows (decode steps, checks of guessed tokens),
    // every matrix Q4_K/Q6_K: each weight block unpacked once, each row
    // computed as it would be alone, `x` quantized straight into the
    // kernels' layout.
    let compact = mats
        .iter()
        .all(|(r, _, _)| matches!(r, Rows::Q4K(_) | Rows::Q6K(_)));
    let few = (compact && m <= few::MAX_ROWS && few::available()).then(|| few::Acts::new(x, m, k));
    if needs_q8k && few.is_none() {
        lhs.q8k = quantize_rows(x, m, k, tiles::quantize_q8k);
    }
    if needs_q8_0 {
        lhs.q8_0 = quantize(x, m, k);
    }
    // Prompts (more rows): 16-row tiles built on the fly.
    let tiled = (needs_q8k && m > few::MAX_ROWS && tiles::available())
        .then(|| tiles::Acts::new(&lhs.q8k, m));
    let mut outs: Vec<Vec<f32>> = mats.iter().map(|(_, n, _)| vec![0f32; m * n]).collect();
    // Work units: (matrix, first weight row) in steps of UNIT rows, over all matrices.
    let mut units: Vec<(usize, usize)> = Vec::new();
    for (i, (_, n, _)) in mats.iter().enumerate() {
        units.extend((0..*n).step_by(UNIT).map(|r| (i, r)));
    }
    let ptrs: Vec<usize> = outs.iter_mut().map(|o| o.as_mut_ptr() as usize).collect();
    let declined = std::sync::atomic::AtomicBool::new(false);
    candle_core::utils::barrier_pool().execute_chunked(units.len(), |range| {
        for &(i, r) in &units[range] {
            let (w, n, _) = &mats[i];
            let dst = Dst {
                ptr: ptrs[i] as *mut f32,
                m,
                n: *n,
            };
            // SAFETY: each unit owns columns [r, r + UNIT) of output `i`, which no
            // other unit touches, and `outs` outlives the parallel region.
            let done = unsafe {
                dot_rows(
                    w,
                    k,
                    &lhs,
                    tiled.as_ref(),
                    few.as_ref(),
                    r..(r + UNIT).min(*n),
                    &dst,
                )
            };
            if !done {
                declined.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
    });
    // A kernel that declined (not expected): the caller falls back to candle.
    (!declined.load(std::sync::atomic::Ordering::Relaxed)).then_some(outs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    /// Every `got[j]` within `rel` (relative, absolute below 1) of `want[j]`.
    fn assert_close(got: &[f32], want: &[f32], rel: f32, what: &str) {
        assert_eq!(got.len(), want.len(), "{what}");
        for (j, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g - w).abs() <= rel * w.abs().max(1.0),
                "{what} col {j}: {g} vs {w}"
            );
        }
    }

    /// The compact-block path agrees with candle's own matmul.
    #[test]
    fn matches_candle_matmul() {
        let dev = Device::Cpu;
        let (n, k) = (40, 512);
        let w: Vec<f32> = (0..n * k)
            .map(|i| ((i * 7919 % 1000) as f32 / 500.0) - 1.0)
            .collect();
        let x: Vec<f32> = (0..k)
            .map(|i| ((i * 31 % 97) as f32 / 48.0) - 1.0)
            .collect();
        let wt = Tensor::from_vec(w, (n, k), &dev).expect("w");
        let xt = Tensor::from_vec(x.clone(), (1, k), &dev).expect("x");
        for dt in [
            GgmlDType::Q4K,
            GgmlDType::Q5K,
            GgmlDType::Q6K,
            GgmlDType::Q8_0,
        ] {
            let q = std::sync::Arc::new(QTensor::quantize(&wt, dt).expect("quantize"));
            let want: Vec<f32> = candle_core::quantized::QMatMul::from_arc(q.clone())
                .and_then(|mm| candle_core::Module::forward(&mm, &xt))
                .and_then(|t| t.flatten_all())
                .and_then(|t| t.to_vec1())
                .expect("candle matmul");
            let got = matmul(&[&*q, &*q], &x, 1).expect("supported type");
            assert_eq!(got.len(), 2);
            assert_close(&got[1], &want, 1e-3, &format!("{dt:?}"));
            // Three rows at once give each row's own product.
            let x3: Vec<f32> = x.iter().chain(&x).chain(&x).copied().collect();
            let got3 = matmul(&[&*q], &x3, 3).expect("supported type");
            for row in got3[0].chunks(n) {
                assert_close(row, &got[0], 1e-4, &format!("{dt:?}"));
            }
        }
    }

    /// Products with any number of activation rows agree with one-row
    /// products on every row: a few rows (checking guessed tokens) exactly,
    /// since each row is computed as it would be alone; prompt-sized ones
    /// (several 16-row tiles, a row count that is not a multiple of the
    /// kernel's step, a ragged last row group) within rounding.
    #[test]
    fn many_rows_match_one_row_at_a_time() {
        let dev = Device::Cpu;
        let (n, k) = (56, 1024);
        let w: Vec<f32> = (0..n * k)
            .map(|i| ((i * 7919 % 1013) as f32 / 506.0) - 1.0)
            .collect();
        let wt = Tensor::from_vec(w, (n, k), &dev).expect("w");
        for m in [2, 9, few::MAX_ROWS, few::MAX_ROWS + 1, 40] {
            let x: Vec<f32> = (0..m * k)
                .map(|i| ((i * 31 % 97) as f32 / 48.0) - 1.0 + (i / k) as f32 * 0.1)
                .collect();
            for dt in [
                GgmlDType::Q4K,
                GgmlDType::Q6K,
                GgmlDType::Q5K,
                GgmlDType::Q8_0,
            ] {
                let q = QTensor::quantize(&wt, dt).expect("quantize");
                let all = matmul(&[&q], &x, m).expect("supported type");
                for (a, row) in all[0].chunks(n).enumerate() {
                    let one = matmul(&[&q], &x[a * k..(a + 1) * k], 1).expect("supported type");
                    let what = format!("{dt:?} m {m} row {a}");
                    if m <= few::MAX_ROWS {
                        assert_eq!(row, &one[0][..], "{what}: not bit-identical");
                    } else {
                        // Tiles sum in another order than the row kernels.
                        assert_close(row, &one[0], 5e-4, &what);
                    }
                }
            }
        }
    }

    #[test]
    fn unsupported_types_decline() {
        let dev = Device::Cpu;
        let wt = Tensor::ones((8, 64), candle_core::DType::F32, &dev).expect("w");
        let q = QTensor::quantize(&wt, GgmlDType::F32).expect("f32 tensor");
        assert!(matmul(&[&q], &[1.0; 64], 1).is_none());
    }
}
