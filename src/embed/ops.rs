//! Element-wise kernels of the encoder as candle custom ops: exact-form GELU
//! and the scaled, masked softmax of attention.
//!
//! candle's own `gelu_erf` and softmax call scalar `erf`/`exp` from libm per
//! element; on the encoder's 1536-wide feed-forward layer that was ~20% of
//! the time. The arithmetic lives in the `lawbrain-kernels` crate (built
//! optimised and vectorised in every profile): branch-free polynomial
//! approximations, erf by Abramowitz & Stegun 7.1.28 (|error| ≤ 3e-7) and
//! exp by range reduction with a degree-6 polynomial (relative error ~2e-7).

use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};

pub use lawbrain_kernels::{erf, exp};

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
        let mut out = v[a..b].to_vec();
        lawbrain_kernels::gelu(&mut out);
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
        let rows_per_item = (self.heads * n).max(1);
        if ((b - a) / n).div_ceil(rows_per_item) > self.mask.len() / n {
            candle_core::bail!("softmax: mask does not fit")
        }
        let mut out = v[a..b].to_vec();
        lawbrain_kernels::masked_softmax(&mut out, n, self.scale, &self.mask, rows_per_item);
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
    fn vectorised_dot_products_match_plain_sums() {
        // Lengths around the kernel's 16 lanes, including remainders.
        for n in [0, 1, 15, 16, 17, 384, 390] {
            let a: Vec<f32> = (0..n).map(|i| ((i * 7 % 11) as f32 - 5.0) / 3.0).collect();
            let b: Vec<f32> = (0..n).map(|i| ((i * 5 % 13) as f32 - 6.0) / 4.0).collect();
            let plain: f64 = a.iter().zip(&b).map(|(x, y)| f64::from(x * y)).sum();
            let fast = crate::embed::dot(&a, &b);
            assert!(
                (f64::from(fast) - plain).abs() < 1e-4,
                "n={n}: {fast} vs {plain}"
            );
        }
        // Many rows at once give the same as one at a time.
        let dim = 20;
        let rows: Vec<f32> = (0..dim * 5).map(|i| (i % 9) as f32 - 4.0).collect();
        let q: Vec<f32> = (0..dim).map(|i| (i % 4) as f32).collect();
        let mut out = vec![0f32; 5];
        lawbrain_kernels::dots(&q, &rows, dim, &mut out);
        for (i, o) in out.iter().enumerate() {
            assert_eq!(*o, crate::embed::dot(&q, &rows[i * dim..(i + 1) * dim]));
        }
    }

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
