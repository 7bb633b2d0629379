//! Products of a few activation rows with weight rows stored in ggml's
//! Q4_K and Q6_K blocks, with AVX-512 VNNI: the LLM's decode steps and the
//! checks of the tokens it guessed ahead.
//!
//! A single row is bound by memory: the weights stream past once. Each
//! weight block here is unpacked once, in its own order, and dotted with
//! every activation row while it sits in registers (candle's per-row
//! kernels unpack every block again for each activation row); the
//! activation bytes are put in the weights' order once per product instead
//! ([`Act::new`]). Each activation row's sum is formed the same way however
//! many rows come together, so checking guessed tokens yields exactly the
//! numbers single steps would.

/// A 256-value Q4_K block, as ggml lays it out (`#[repr(C)]`, 144 bytes):
/// `d` and `dmin` as f16 bits, twelve packed 6-bit scales and mins, then
/// byte `c*32+j` holds value `c*64+j` (low nibble) and `c*64+32+j` (high).
#[repr(C)]
pub struct BlockQ4K {
    pub d: u16,
    pub dmin: u16,
    pub scales: [u8; 12],
    pub qs: [u8; 128],
}

/// A 256-value Q6_K block, as ggml lays it out (`#[repr(C)]`, 210 bytes):
/// value `n*128 + j*32 + l` has its low 4 bits in `ql[n*64 + (j&1)*32 + l]`
/// (nibble `j>>1`) and its high 2 bits in `qh[n*32 + l]` (bits `2j..2j+2`);
/// stored as 0..63 for value − 32; one signed scale per 16 values.
#[repr(C)]
pub struct BlockQ6K {
    pub ql: [u8; 128],
    pub qh: [u8; 64],
    pub scales: [i8; 16],
    pub d: u16,
}

/// One block of 256 activations quantized to 8 bits (ggml's Q8_K: `x ≈ d·q`),
/// prepared for both weight types.
#[derive(Clone)]
#[repr(C, align(64))]
pub struct Act {
    /// The quants in Q4_K's nibble order (see [`q4_order`]).
    q4: [i8; 256],
    /// The quants in their own order (Q6_K's).
    q: [i8; 256],
    /// Lanes 8..16: the sum of each 32 quants (Q4_K's sub-blocks, for the
    /// mins); lanes 0..8 zero.
    pair: [f32; 16],
    /// 32 × the sum of each 16 quants (Q6_K's −32 offset).
    six: [f32; 16],
    d: f32,
}

/// Where each value of a Q4_K block lands when its quants are read as two
/// 64-byte vectors split into low and high nibbles: vector `v` (0: low
/// nibbles of bytes 0..64, 1: high nibbles of them, 2 and 3 the same for
/// bytes 64..128) holds at byte `t` the value `q4_order(64 v + t)`.
pub fn q4_order(i: usize) -> usize {
    let (v, t) = (i / 64, i % 64);
    let c = 2 * (v / 2) + t / 32;
    c * 64 + (v % 2) * 32 + t % 32
}

impl Act {
    /// Quantize 256 activations (Q8_K as candle 0.11 does it: the value of
    /// largest magnitude maps to ∓127, the rest scale with it and round half
    /// away from zero) and prepare them.
    pub fn quantize(x: &[f32; 256]) -> Self {
        let (d, qs, bsums) = q8k(x);
        Act::new(d, &qs, &bsums)
    }

    /// From a Q8_K block: its scale, quants and per-16 sums.
    pub fn new(d: f32, qs: &[i8; 256], bsums: &[i16; 16]) -> Self {
        Act {
            q4: std::array::from_fn(|i| qs[q4_order(i)]),
            q: *qs,
            pair: std::array::from_fn(|l| {
                if l < 8 {
                    0.0
                } else {
                    let s = l - 8;
                    f32::from(bsums[2 * s]) + f32::from(bsums[2 * s + 1])
                }
            }),
            six: std::array::from_fn(|s| 32.0 * f32::from(bsums[s])),
            d,
        }
    }
}

/// 256 activations as a Q8_K block: scale, quants and per-16 sums, as
/// candle 0.11's `BlockQ8K::from_float` computes them (vectorised; it rounds
/// with a libm call per value).
pub fn q8k(x: &[f32; 256]) -> (f32, [i8; 256], [i16; 16]) {
    let (d, qs) = dispatch_q8(x);
    let bsums =
        std::array::from_fn(|s| qs[16 * s..16 * s + 16].iter().map(|v| i16::from(*v)).sum());
    (d, qs, bsums)
}

fn dispatch_q8(x: &[f32; 256]) -> (f32, [i8; 256]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the features were just detected.
            return unsafe { q8_avx2(x) };
        }
    }
    q8_body(x)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn q8_avx2(x: &[f32; 256]) -> (f32, [i8; 256]) {
    q8_body(x)
}

#[inline(always)]
fn q8_body(x: &[f32; 256]) -> (f32, [i8; 256]) {
    // The largest magnitude, then the first value that has it (its sign
    // sets the scale's), in two vectorisable passes.
    let amax = x.iter().fold(0f32, |m, v| m.max(v.abs()));
    let mut qs = [0i8; 256];
    if amax == 0.0 {
        return (0.0, qs);
    }
    let max = x.iter().copied().find(|v| v.abs() == amax).unwrap_or(amax);
    let iscale = -127.0 / max;
    for (q, v) in qs.iter_mut().zip(x) {
        // Round half away from zero without a libm call: `t - trunc(t)` is
        // exact, so the comparison with 0.5 is too (adding 0.5 first would
        // round 0.49999997 up).
        let t = iscale * v;
        let whole = t.trunc();
        let r = whole + f32::from(u8::from((t - whole).abs() >= 0.5)).copysign(t);
        *q = r.clamp(-128.0, 127.0) as i8;
    }
    (1.0 / iscale, qs)
}

/// ggml's unpacking of a Q4_K block's twelve scale bytes into eight 6-bit
/// scales followed by eight 6-bit mins.
#[inline(always)]
pub fn q4k_scales_mins(s: &[u8; 12]) -> [u8; 16] {
    const K1: u32 = 0x3f3f_3f3f;
    const K2: u32 = 0x0f0f_0f0f;
    const K3: u32 = 0x0303_0303;
    let w = |i: usize| u32::from_le_bytes([s[4 * i], s[4 * i + 1], s[4 * i + 2], s[4 * i + 3]]);
    let (u0, u1, u2) = (w(0), w(1), w(2));
    let words = [
        u0 & K1,
        (u2 & K2) | (((u0 >> 6) & K3) << 4),
        u1 & K1,
        ((u2 >> 4) & K2) | (((u1 >> 6) & K3) << 4),
    ];
    let mut out = [0u8; 16];
    for (i, v) in words.into_iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&v.to_le_bytes());
    }
    out
}

/// Whether this CPU has what [`q4k_rows`] and [`q6k_rows`] need.
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vnni")
            && std::arch::is_x86_feature_detected!("f16c")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Most activation rows one pass over a weight row carries (their
/// accumulators stay in registers).
pub const PASS_ROWS: usize = 8;
const _: () = assert!(PASS_ROWS == 8, "the dispatch in rows_fn! lists 1..=8");

macro_rules! rows_fn {
    ($name:ident, $block:ty, $kernel:ident) => {
        /// `out[a]` = activation row `a` (blocks `acts[a*kb..(a+1)*kb]`,
        /// `kb = w.len()`) dotted with the weight row `w`, for
        /// `out.len()` ≤ [`PASS_ROWS`] rows. Returns false (and leaves
        /// `out` alone) when the CPU lacks the instructions
        /// ([`available`]) or the lengths disagree.
        pub fn $name(w: &[$block], acts: &[Act], out: &mut [f32]) -> bool {
            let n = out.len();
            if !available() || n == 0 || n > PASS_ROWS || acts.len() != n * w.len() {
                return false;
            }
            #[cfg(target_arch = "x86_64")]
            {
                use x86::$kernel as k;
                // SAFETY: the features were detected above and the lengths
                // checked.
                unsafe {
                    match n {
                        1 => k::<1>(w, acts, out),
                        2 => k::<2>(w, acts, out),
                        3 => k::<3>(w, acts, out),
                        4 => k::<4>(w, acts, out),
                        5 => k::<5>(w, acts, out),
                        6 => k::<6>(w, acts, out),
                        7 => k::<7>(w, acts, out),
                        _ => k::<8>(w, acts, out),
                    }
                }
                true
            }
            #[cfg(not(target_arch = "x86_64"))]
            false
        }
    };
}

rows_fn!(q4k_rows, BlockQ4K, q4k);
rows_fn!(q6k_rows, BlockQ6K, q6k);

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Act, BlockQ4K, BlockQ6K};
    use std::arch::x86_64::*;

    #[inline(always)]
    fn f16(bits: u16) -> f32 {
        // SAFETY: only reached from functions compiled with F16C.
        unsafe { _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(i32::from(bits)))) }
    }

    #[inline(always)]
    fn load(p: *const i8) -> __m512i {
        // SAFETY: callers pass the start of 64 readable bytes.
        unsafe { _mm512_loadu_si512(p.cast()) }
    }

    /// One weight block against one activation row, added to `acc`: the
    /// four 64-value vectors of unsigned quants `q` dotted with the row's
    /// bytes `x` (in the same order), each lane scaled by `sc`, less
    /// `offs` × the row's offset sums (`off`: Q4_K's mins, Q6_K's −32), all
    /// times the row's scale `d`.
    ///
    /// # Safety
    /// Callers are compiled with `avx512f,avx512bw,avx512vnni`.
    #[inline(always)]
    unsafe fn add_block(
        q: &[__m512i; 4],
        sc: &[__m512; 4],
        offs: __m512,
        x: &[i8; 256],
        off: &[f32; 16],
        d: f32,
        acc: &mut __m512,
    ) {
        // SAFETY: the caller's target features; 256 bytes and 16 floats.
        unsafe {
            let mut part = _mm512_setzero_ps();
            for (v, (q, sc)) in q.iter().zip(sc).enumerate() {
                let bytes = load(x.as_ptr().wrapping_add(64 * v));
                let dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), *q, bytes);
                part = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), *sc, part);
            }
            part = _mm512_fnmadd_ps(offs, _mm512_loadu_ps(off.as_ptr()), part);
            *acc = _mm512_fmadd_ps(part, _mm512_set1_ps(d), *acc);
        }
    }

    /// See [`super::q4k_rows`]; `N` = `out.len()`, lengths checked by it.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni,f16c")]
    pub(super) unsafe fn q4k<const N: usize>(w: &[BlockQ4K], acts: &[Act], out: &mut [f32]) {
        let kb = w.len();
        let m4 = _mm512_set1_epi8(0x0F);
        // Scales of vector v, lane by lane: sub-blocks (0,2), (1,3), (4,6), (5,7).
        let idx = [
            _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2),
            _mm512_setr_epi32(1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 3, 3),
            _mm512_setr_epi32(4, 4, 4, 4, 4, 4, 4, 4, 6, 6, 6, 6, 6, 6, 6, 6),
            _mm512_setr_epi32(5, 5, 5, 5, 5, 5, 5, 5, 7, 7, 7, 7, 7, 7, 7, 7),
        ];
        let mut acc = [_mm512_setzero_ps(); N];
        for (b, blk) in w.iter().enumerate() {
            let qs = blk.qs.as_ptr().cast::<i8>();
            let (v0, v1) = (load(qs), load(qs.wrapping_add(64)));
            let q = [
                _mm512_and_si512(v0, m4),
                _mm512_and_si512(_mm512_srli_epi16::<4>(v0), m4),
                _mm512_and_si512(v1, m4),
                _mm512_and_si512(_mm512_srli_epi16::<4>(v1), m4),
            ];
            let sm = super::q4k_scales_mins(&blk.scales);
            // Lanes 0..8: d × scale; lanes 8..16: dmin × min.
            // SAFETY: 16 bytes.
            let raw = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(unsafe {
                _mm_loadu_si128(sm.as_ptr().cast())
            }));
            let dd = _mm512_mask_blend_ps(
                0xFF00,
                _mm512_set1_ps(f16(blk.d)),
                _mm512_set1_ps(f16(blk.dmin)),
            );
            let all = _mm512_mul_ps(raw, dd);
            let sc = [
                _mm512_permutexvar_ps(idx[0], all),
                _mm512_permutexvar_ps(idx[1], all),
                _mm512_permutexvar_ps(idx[2], all),
                _mm512_permutexvar_ps(idx[3], all),
            ];
            for (i, acc) in acc.iter_mut().enumerate() {
                let a = &acts[i * kb + b];
                // SAFETY: this function's target features.
                unsafe { add_block(&q, &sc, all, &a.q4, &a.pair, a.d, acc) };
            }
        }
        for (o, a) in out.iter_mut().zip(acc) {
            *o = _mm512_reduce_add_ps(a);
        }
    }

    /// See [`super::q6k_rows`]; `N` = `out.len()`, lengths checked by it.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni,f16c")]
    pub(super) unsafe fn q6k<const N: usize>(w: &[BlockQ6K], acts: &[Act], out: &mut [f32]) {
        let kb = w.len();
        let (m4, m2) = (_mm512_set1_epi8(0x0F), _mm512_set1_epi8(0x03));
        // The high two bits of value rows j = 0, 1 (low nibbles) and 2, 3
        // (high nibbles) sit 2j bits up in the qh byte.
        let sh_lo = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2);
        let sh_hi = _mm512_setr_epi32(4, 4, 4, 4, 4, 4, 4, 4, 6, 6, 6, 6, 6, 6, 6, 6);
        // Lane L of vector c covers values 64c + 4L..: sub-block 4c + L/4.
        let idx = [0, 4, 8, 12].map(|c| {
            _mm512_setr_epi32(
                c,
                c,
                c,
                c,
                c + 1,
                c + 1,
                c + 1,
                c + 1,
                c + 2,
                c + 2,
                c + 2,
                c + 2,
                c + 3,
                c + 3,
                c + 3,
                c + 3,
            )
        });
        let mut acc = [_mm512_setzero_ps(); N];
        for (b, blk) in w.iter().enumerate() {
            let ql = blk.ql.as_ptr().cast::<i8>();
            let qh = load(blk.qh.as_ptr().cast());
            // Half n: qh bytes 32n..32n+32, twice; values 128n.. in order.
            let halves = [
                (load(ql), _mm512_shuffle_i64x2::<0b01_00_01_00>(qh, qh)),
                (
                    load(ql.wrapping_add(64)),
                    _mm512_shuffle_i64x2::<0b11_10_11_10>(qh, qh),
                ),
            ];
            let mut q = [_mm512_setzero_si512(); 4];
            for (n, (l, h)) in halves.into_iter().enumerate() {
                q[2 * n] = _mm512_or_si512(
                    _mm512_and_si512(l, m4),
                    _mm512_slli_epi32::<4>(_mm512_and_si512(_mm512_srlv_epi32(h, sh_lo), m2)),
                );
                q[2 * n + 1] = _mm512_or_si512(
                    _mm512_and_si512(_mm512_srli_epi32::<4>(l), m4),
                    _mm512_slli_epi32::<4>(_mm512_and_si512(_mm512_srlv_epi32(h, sh_hi), m2)),
                );
            }
            // SAFETY: 16 scale bytes.
            let s8 = unsafe { _mm_loadu_si128(blk.scales.as_ptr().cast()) };
            let all = _mm512_mul_ps(
                _mm512_set1_ps(f16(blk.d)),
                _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(s8)),
            );
            let sc = idx.map(|i| _mm512_permutexvar_ps(i, all));
            for (i, acc) in acc.iter_mut().enumerate() {
                let a = &acts[i * kb + b];
                // SAFETY: this function's target features.
                unsafe { add_block(&q, &sc, all, &a.q, &a.six, a.d, acc) };
            }
        }
        for (o, a) in out.iter_mut().zip(acc) {
            *o = _mm512_reduce_add_ps(a);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q4_order_is_a_permutation_matching_the_nibble_layout() {
        let mut seen = [false; 256];
        for i in 0..256 {
            seen[q4_order(i)] = true;
        }
        assert!(seen.iter().all(|s| *s));
        // Vector 0 = low nibbles of bytes 0..64: values 0..32 then 64..96.
        assert_eq!((q4_order(0), q4_order(31), q4_order(32)), (0, 31, 64));
        // Vector 1 = high nibbles of bytes 0..64: values 32..64 then 96..128.
        assert_eq!((q4_order(64), q4_order(96)), (32, 96));
        // Vector 3 = high nibbles of bytes 64..128: 160..192 then 224..256.
        assert_eq!((q4_order(192), q4_order(255)), (160, 255));
    }

    /// Plain decoding of both block types against the kernels, on blocks of
    /// every value pattern a generator gives.
    #[test]
    fn kernels_match_plain_decoding() {
        if !available() {
            eprintln!("no AVX-512 VNNI here: nothing to compare");
            return;
        }
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut byte = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as u8
        };
        let kb = 3;
        let f16_bits = |v: f32| {
            // Exact for the small values used: 2^-7 steps.
            let e = v.log2().floor() as i32;
            let m = ((v / 2f32.powi(e) - 1.0) * 1024.0).round() as u16;
            (((e + 15) as u16) << 10) | m
        };
        let q4: Vec<BlockQ4K> = (0..kb)
            .map(|b| BlockQ4K {
                d: f16_bits(0.0625 * (b + 1) as f32),
                dmin: f16_bits(0.03125 * (b + 2) as f32),
                scales: std::array::from_fn(|_| byte()),
                qs: std::array::from_fn(|_| byte()),
            })
            .collect();
        let q6: Vec<BlockQ6K> = (0..kb)
            .map(|b| BlockQ6K {
                ql: std::array::from_fn(|_| byte()),
                qh: std::array::from_fn(|_| byte()),
                scales: std::array::from_fn(|_| byte() as i8),
                d: f16_bits(0.125 * (b + 1) as f32),
            })
            .collect();
        let rows = 5;
        let raw: Vec<([i8; 256], f32)> = (0..rows * kb)
            .map(|i| (std::array::from_fn(|_| byte() as i8), 0.01 * (i + 1) as f32))
            .collect();
        let acts: Vec<Act> = raw
            .iter()
            .map(|(q, d)| {
                let bs: [i16; 16] = std::array::from_fn(|s| {
                    q[16 * s..16 * s + 16].iter().map(|v| i16::from(*v)).sum()
                });
                Act::new(*d, q, &bs)
            })
            .collect();
        let half = |bits: u16| {
            let e = i32::from(bits >> 10) - 15;
            (1.0 + f32::from(bits & 1023) / 1024.0) * 2f32.powi(e)
        };
        // Plain values of each block.
        let v4 = |blk: &BlockQ4K| -> Vec<f32> {
            let s = &blk.scales;
            let sm = |j: usize| {
                if j < 4 {
                    (s[j] & 63, s[j + 4] & 63)
                } else {
                    (
                        (s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4),
                        (s[j + 4] >> 4) | ((s[j] >> 6) << 4),
                    )
                }
            };
            (0..256)
                .map(|i| {
                    let (c, r) = (i / 64, i % 64);
                    let byte = blk.qs[c * 32 + r % 32];
                    let q = if r < 32 { byte & 15 } else { byte >> 4 };
                    let (sc, mn) = sm(i / 32);
                    half(blk.d) * f32::from(sc) * f32::from(q) - half(blk.dmin) * f32::from(mn)
                })
                .collect()
        };
        let v6 = |blk: &BlockQ6K| -> Vec<f32> {
            (0..256)
                .map(|i| {
                    let (n, j, l) = (i / 128, (i % 128) / 32, i % 32);
                    let lo = (blk.ql[n * 64 + (j & 1) * 32 + l] >> (4 * (j >> 1))) & 15;
                    let hi = (blk.qh[n * 32 + l] >> (2 * j)) & 3;
                    let q = i32::from(lo | (hi << 4)) - 32;
                    half(blk.d) * f32::from(blk.scales[i / 16]) * q as f32
                })
                .collect()
        };
        let want = |vals: &dyn Fn(usize) -> Vec<f32>, a: usize| -> f32 {
            (0..kb)
                .map(|b| {
                    let (q, d) = &raw[a * kb + b];
                    vals(b)
                        .iter()
                        .zip(q)
                        .map(|(w, x)| w * d * f32::from(*x))
                        .sum::<f32>()
                })
                .sum()
        };
        // Each kernel, for 1..=rows rows at once: every row near the plain
        // value, and the same bits as that row alone.
        type Kernel<'a> = &'a dyn Fn(&[Act], &mut [f32]) -> bool;
        type Plain<'a> = &'a dyn Fn(usize) -> Vec<f32>;
        let kernels: [(&str, Kernel, Plain); 2] = [
            ("q4", &|a, o| q4k_rows(&q4, a, o), &|b| v4(&q4[b])),
            ("q6", &|a, o| q6k_rows(&q6, a, o), &|b| v6(&q6[b])),
        ];
        for (name, kernel, plain) in kernels {
            for n in 1..=rows {
                let mut got = vec![0f32; n];
                assert!(kernel(&acts[..n * kb], &mut got));
                for (a, g) in got.iter().enumerate() {
                    let w = want(plain, a);
                    assert!(
                        (g - w).abs() <= 1e-3 * w.abs().max(1.0),
                        "{name} rows {n} row {a}: {g} vs {w}"
                    );
                }
                let mut one = [0f32];
                for a in 0..n {
                    assert!(kernel(&acts[a * kb..(a + 1) * kb], &mut one));
                    assert_eq!(one[0], got[a], "{name}: a row alone gives the same bits");
                }
            }
        }
        // Quantizing floats is candle's Q8_K rule, bit for bit.
        let xs: [f32; 256] =
            std::array::from_fn(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0 + (i % 3) as f32 * 0.01);
        let amax = xs.iter().fold(0f32, |m, v| m.max(v.abs()));
        let max = xs.iter().copied().find(|v| v.abs() == amax).unwrap_or(0.0);
        let iscale = -127f32 / max;
        let qs: [i8; 256] =
            std::array::from_fn(|j| (iscale * xs[j]).round().clamp(-128.0, 127.0) as i8);
        let bs: [i16; 16] =
            std::array::from_fn(|s| qs[16 * s..16 * s + 16].iter().map(|v| i16::from(*v)).sum());
        let (got, want) = (Act::quantize(&xs), Act::new(1.0 / iscale, &qs, &bs));
        assert_eq!(
            (got.q, got.d, got.pair, got.six),
            (want.q, want.d, want.pair, want.six)
        );
        assert_eq!(Act::quantize(&[0.0; 256]).q, [0; 256]);
        // Mismatched lengths are refused.
        let mut two = [0f32; 2];
        assert!(!q4k_rows(&q4, &acts[..kb], &mut two));
        assert!(!q6k_rows(&q6, &acts[..kb], &mut [0f32; PASS_ROWS + 1]));
    }
}
