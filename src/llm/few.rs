//! Products with a few activation rows (1 to [`MAX_ROWS`]) on the GGUF's
//! compact Q4_K and Q6_K blocks: decode steps and the checks of the tokens
//! prompt lookup guessed ([`super::lookup`]). The kernels live in the
//! `lawbrain-kernels` crate ([`lawbrain_kernels::quant`]), optimised in every
//! build; this module prepares the activations and walks the weight rows.
//!
//! Each activation row is computed the same way however many come together,
//! so a check of guessed tokens gives exactly the logits of single steps,
//! and guessing never changes the text.

use lawbrain_kernels::quant;

use super::tiles::{view, Weights};

/// Most activation rows this path takes; more go to the tile kernels.
pub(super) const MAX_ROWS: usize = 16;

/// Whether the CPU runs these kernels (and `LAWBRAIN_NO_FEW` is unset: it
/// sends decode steps through candle's per-row kernels, for side-by-side
/// measurements).
pub(super) fn available() -> bool {
    static OK: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *OK.get_or_init(|| std::env::var_os("LAWBRAIN_NO_FEW").is_none() && quant::available())
}

/// The activation rows of one product, prepared for both weight types.
pub(super) struct Acts {
    acts: Vec<quant::Act>,
    m: usize,
    kb: usize,
}

impl Acts {
    /// The `m` rows of `x` (each `k` long, `k` a multiple of 256),
    /// quantized as ggml's Q8_K does.
    pub(super) fn new(x: &[f32], m: usize, k: usize) -> Self {
        Acts {
            acts: x
                .chunks_exact(256)
                .filter_map(|c| c.try_into().ok().map(quant::Act::quantize))
                .collect(),
            m,
            kb: k / 256,
        }
    }
}

/// Columns `rows` of every output row: `dst[a * n + r]` is activation row
/// `a` dotted with weight row `r`. False when the kernels declined (CPU or
/// shapes; not expected once [`available`] said yes): the caller then
/// computes the columns itself.
///
/// # Safety
/// `w` must hold the weight rows `rows` of `kb` blocks each; `dst` must be
/// live with `acts.m` rows of `n` floats and no other thread may touch
/// columns `rows` meanwhile.
pub(super) unsafe fn rows(
    w: &Weights,
    acts: &Acts,
    rows: std::ops::Range<usize>,
    dst: *mut f32,
    n: usize,
) -> bool {
    let kb = acts.kb;
    // Even passes of at most PASS_ROWS rows (9 rows: 5 + 4, not 8 + 1).
    let passes = acts.m.div_ceil(quant::PASS_ROWS);
    for r in rows {
        let mut a0 = 0;
        for p in 0..passes {
            let mt = (acts.m - a0).div_ceil(passes - p);
            let mut out = [0f32; quant::PASS_ROWS];
            let Some(a) = acts.acts.get(a0 * kb..(a0 + mt) * kb) else {
                return false;
            };
            let row = r * kb..(r + 1) * kb;
            let done = match w {
                Weights::Q4K(b) => b
                    .get(row)
                    .is_some_and(|b| quant::q4k_rows(view(b), a, &mut out[..mt])),
                Weights::Q6K(b) => b
                    .get(row)
                    .is_some_and(|b| quant::q6k_rows(view(b), a, &mut out[..mt])),
            };
            if !done {
                return false;
            }
            for (i, v) in out.iter().enumerate().take(mt) {
                // SAFETY: the caller owns column r of every output row.
                unsafe { *dst.add((a0 + i) * n + r) = *v };
            }
            a0 += mt;
        }
    }
    true
}
