//! Element-wise kernels of the encoder as candle custom ops: exact-form GELU
//! and the scaled, masked softmax of attention.
//!
//! candle's own `gelu_erf` and softmax call scalar `erf`/`exp` from libm per
//! element; on the encoder's 1536-wide feed-forward layer that was ~20% of
//! the time. These use branch-free polynomial approximations the compiler
//! vectorizes: erf by Abramowitz & Stegun 7.1.28 (|error| ≤ 3e-7) and exp by
//! range reduction to 2^n * 2^f, |f| <= 1/2, with a degree-6 polynomial (relative error ~2e-7).

use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};

/// erf(x), |error| ≤ 3e-7.
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

/// e^x for x in roughly [-87, 88] (clamped), relative error ~2e-7.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let t = x * std::f32::consts::LOG2_E;
    // Round to nearest by the 1.5 * 2^23 trick (no libm call, vectorizes).
    const MAGIC: f32 = 12_582_912.0;
    let n = (t + MAGIC) - MAGIC;
    let f = t - n; // [-0.5, 0.5]
                   // 2^f = e^(f ln 2): Taylor to degree 6, |error| ~1e-7 on [-0.5, 0.5].
    let p = 1.0
        + f * (std::f32::consts::LN_2
            + f * (0.240_226_5
                + f * (0.055_504_11
                    + f * (0.009_618_129 + f * (0.001_333_355 + f * 0.000_154_035_3)))));
    let bits = ((n as i32 + 127) as u32) << 23;
    p * f32::from_bits(bits)
}

/// GELU with the exact (erf) form the encoder was trained with.
pub struct Gelu;

impl CustomOp1 for Gelu {
    fn name(&self) -> &'static str {
        "lawbrain-gelu"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let CpuStorage::F32(v) = s else {
            candle_core::bail!("gelu: f32 only")
        };
        let Some((a, b)) = l.contiguous_offsets() else {
            candle_core::bail!("gelu: contiguous input only")
        };
        let out: Vec<f32> = v[a..b]
            .iter()
            .map(|&x| 0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2)))
            .collect();
        Ok((CpuStorage::F32(out), l.shape().clone()))
    }
}

/// Softmax over the last dimension of `scale * x + mask`, where `mask` is
/// one additive row per batch item (`[B, L]`) and `x` is `[B, H, L, L]`.
pub struct MaskedSoftmax {
    pub scale: f32,
    pub mask: Vec<f32>,
    pub heads: usize,
}

impl CustomOp1 for MaskedSoftmax {
    fn name(&self) -> &'static str {
        "lawbrain-masked-softmax"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> Result<(CpuStorage, Shape)> {
        let CpuStorage::F32(v) = s else {
            candle_core::bail!("softmax: f32 only")
        };
        let Some((a, b)) = l.contiguous_offsets() else {
            candle_core::bail!("softmax: contiguous input only")
        };
        let dims = l.shape().dims();
        let n = *dims.last().unwrap_or(&1);
        if n == 0 || !self.mask.len().is_multiple_of(n) {
            candle_core::bail!("softmax: mask does not fit")
        }
        let rows_per_item = self.heads * n;
        let mut out = v[a..b].to_vec();
        for (r, row) in out.chunks_exact_mut(n).enumerate() {
            let item = r / rows_per_item;
            let mask = &self.mask[item * n..(item + 1) * n];
            let mut max = f32::NEG_INFINITY;
            for (x, m) in row.iter_mut().zip(mask) {
                *x = *x * self.scale + m;
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
        Ok((CpuStorage::F32(out), l.shape().clone()))
    }
}

/// Apply [`Gelu`].
pub fn gelu(x: &Tensor) -> candle_core::Result<Tensor> {
    x.apply_op1_no_bwd(&Gelu)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_and_exp_are_close_to_libm() {
        let mut worst_erf = 0f32;
        let mut worst_exp = 0f32;
        for i in -4000..=4000 {
            let x = i as f32 / 500.0;
            worst_erf = worst_erf.max((erf(x) - libm_erf(x)).abs());
            let e = x.exp();
            worst_exp = worst_exp.max(((exp(x) - e) / e).abs());
        }
        assert!(worst_erf < 3e-6, "erf error {worst_erf}");
        assert!(worst_exp < 1e-6, "exp error {worst_exp}");
        assert_eq!(exp(-1000.0), exp(-87.0));
        assert!(exp(1000.0).is_finite());
        assert_eq!(erf(50.0), 1.0);
        assert_eq!(erf(-50.0), -1.0);
    }

    fn libm_erf(x: f32) -> f32 {
        // Reference: erf by its series / continued fraction in f64.
        let x = x as f64;
        let t = 1.0 / (1.0 + 0.5 * x.abs());
        let y = 1.0
            - t * (-x * x - 1.265_512_23
                + t * (1.000_023_68
                    + t * (0.374_091_96
                        + t * (0.096_784_18
                            + t * (-0.186_288_06
                                + t * (0.278_868_07
                                    + t * (-1.135_203_98
                                        + t * (1.488_515_87
                                            + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
                .exp();
        (if x >= 0.0 { y } else { -y }) as f32
    }

    #[test]
    fn masked_softmax_rows_sum_to_one_and_skip_padding() {
        let x = Tensor::from_vec(
            vec![1f32, 2.0, 3.0, 4.0],
            (1, 1, 2, 2),
            &candle_core::Device::Cpu,
        )
        .expect("tensor");
        let op = MaskedSoftmax {
            scale: 1.0,
            mask: vec![0.0, -1e30],
            heads: 1,
        };
        let y: Vec<f32> = x
            .apply_op1_no_bwd(&op)
            .expect("softmax")
            .flatten_all()
            .expect("flat")
            .to_vec1()
            .expect("vec");
        for (got, want) in y.iter().zip([1.0, 0.0, 1.0, 0.0]) {
            assert!((got - want).abs() < 1e-6, "{y:?}");
        }
    }
}
