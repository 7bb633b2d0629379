//! The numeric inner loops of lawbrain's dense retrieval, in a crate of their
//! own so they are optimised in every build.
//!
//! lawbrain itself builds at `opt-level = 1` in the dev profile (so `cargo
//! test` compiles fast), and at that level the compiler does not vectorise
//! loops: a dot product over 24 k article vectors, or GELU over an encoder's
//! 1536-wide feed-forward layer, then runs one float at a time. This crate
//! is built at `opt-level = 3` in every profile (see the workspace
//! `Cargo.toml`), and each kernel is compiled twice: once for the baseline
//! CPU and once for AVX2 + FMA, chosen at run time.
//!
//! [`quant`] holds the LLM's quantized products (AVX-512 VNNI intrinsics).
//! Everything else here is safe, allocation-free slice arithmetic; the loops are
//! written with independent lanes so they vectorise without reassociating
//! floating-point sums.

#![forbid(unsafe_op_in_unsafe_fn)]

pub mod quant;

/// Lanes of the independent accumulators.
const LANES: usize = 16;

/// Run `$body` through the AVX2 + FMA build of the function when the CPU
/// has it, else the baseline build.
macro_rules! dispatch {
    ($fast:ident, $base:ident ( $($arg:expr),* )) => {{
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                // SAFETY: the target features `$fast` is compiled for were
                // just detected on this CPU.
                return unsafe { $fast($($arg),*) };
            }
        }
        $base($($arg),*)
    }};
}

/// Dot product of two vectors (over the shorter length).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    dispatch!(dot_avx2, dot_body(a, b))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_avx2(a: &[f32], b: &[f32]) -> f32 {
    dot_body(a, b)
}

#[inline(always)]
fn dot_body(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for j in 0..LANES {
            acc[j] += x[j] * y[j];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// `out[i] = dot(q, rows[i * dim .. (i + 1) * dim])` for every full row.
pub fn dots(q: &[f32], rows: &[f32], dim: usize, out: &mut [f32]) {
    dispatch!(dots_avx2, dots_body(q, rows, dim, out))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dots_avx2(q: &[f32], rows: &[f32], dim: usize, out: &mut [f32]) {
    dots_body(q, rows, dim, out)
}

#[inline(always)]
fn dots_body(q: &[f32], rows: &[f32], dim: usize, out: &mut [f32]) {
    if dim == 0 {
        return;
    }
    for (o, row) in out.iter_mut().zip(rows.chunks_exact(dim)) {
        *o = dot_body(q, row);
    }
}

/// erf(x) by Abramowitz & Stegun 7.1.28, |error| ≤ 3e-7 (no branches, no
/// libm call: it vectorises).
#[inline(always)]
pub fn erf(x: f32) -> f32 {
    let a = x.abs();
    let p = 1.0
        + a * (0.070_523_08
            + a * (0.042_282_01
                + a * (0.009_270_527
                    + a * (0.000_152_014_3 + a * (0.000_276_567_2 + a * 0.000_043_063_8)))));
    let p2 = p * p;
    let p4 = p2 * p2;
    let p8 = p4 * p4;
    let p16 = p8 * p8;
    (1.0 - 1.0 / p16).copysign(x)
}

/// e^x for x in roughly [-87, 88] (clamped), relative error ~2e-7: range
/// reduction to 2^n * 2^f, |f| ≤ 1/2, and a degree-6 polynomial.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let t = x * std::f32::consts::LOG2_E;
    // Round to nearest by the 1.5 * 2^23 trick (no libm call, vectorises).
    const MAGIC: f32 = 12_582_912.0;
    let n = (t + MAGIC) - MAGIC;
    let f = t - n;
    let p = 1.0
        + f * (std::f32::consts::LN_2
            + f * (0.240_226_5
                + f * (0.055_504_11
                    + f * (0.009_618_129 + f * (0.001_333_355 + f * 0.000_154_035_3)))));
    let bits = ((n as i32 + 127) as u32) << 23;
    p * f32::from_bits(bits)
}

/// GELU in its exact (erf) form, in place.
pub fn gelu(v: &mut [f32]) {
    dispatch!(gelu_avx2, gelu_body(v))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn gelu_avx2(v: &mut [f32]) {
    gelu_body(v)
}

#[inline(always)]
fn gelu_body(v: &mut [f32]) {
    for x in v.iter_mut() {
        *x = 0.5 * *x * (1.0 + erf(*x * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// Softmax of `scale * row + mask` over each row of `n` values, in place.
/// Row `r` uses the mask row of item `r / rows_per_item` (`mask` holds one
/// row of `n` additive values per item: 0 to keep, a large negative value
/// to mask padding out).
pub fn masked_softmax(v: &mut [f32], n: usize, scale: f32, mask: &[f32], rows_per_item: usize) {
    dispatch!(
        masked_softmax_avx2,
        masked_softmax_body(v, n, scale, mask, rows_per_item)
    )
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn masked_softmax_avx2(
    v: &mut [f32],
    n: usize,
    scale: f32,
    mask: &[f32],
    rows_per_item: usize,
) {
    masked_softmax_body(v, n, scale, mask, rows_per_item)
}

#[inline(always)]
fn masked_softmax_body(v: &mut [f32], n: usize, scale: f32, mask: &[f32], rows_per_item: usize) {
    if n == 0 || rows_per_item == 0 {
        return;
    }
    for (r, row) in v.chunks_exact_mut(n).enumerate() {
        let item = r / rows_per_item;
        let Some(mask) = mask.get(item * n..(item + 1) * n) else {
            return;
        };
        let mut max = f32::NEG_INFINITY;
        for (x, m) in row.iter_mut().zip(mask) {
            *x = *x * scale + m;
            max = max.max(*x);
        }
        let mut sum = 0.0;
        for x in row.iter_mut() {
            *x = exp(*x - max);
            sum += *x;
        }
        let inv = 1.0 / sum;
        for x in row.iter_mut() {
            *x *= inv;
        }
    }
}
