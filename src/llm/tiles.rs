//! Prompt products (many activation rows at once) on the GGUF's compact
//! Q4_K and Q6_K blocks, with AVX-512 VNNI.
//!
//! candle 0.11 gets its prompt speed on x86 by repacking every Q4_K/Q6_K
//! matrix once into 16-row tiles (values side by side so one `vpdpbusd`
//! yields 16 outputs) and keeping that copy for good: about 1 GiB beside the
//! 1 GiB of compact weights for the 1.5B model. Here the tile for 16 weight
//! rows is built on the fly, in a small per-thread buffer that stays in L2,
//! and then reused by every activation row of the prompt chunk (128 rows), so
//! building it costs a few percent of the products it serves and no weight
//! is stored twice.
//!
//! Tile layout: for each 256-value super-block, 64 groups of four
//! consecutive values; group `g` holds, for each of the 16 rows, the
//! unsigned quants of values `4g..4g+4` as the four bytes of one 32-bit lane.
//! One `vpdpbusd` against the broadcast activation bytes `4g..4g+4` adds
//! those four products to each row's sum. Q4_K values are 0..15 with a
//! per-32 scale and min; Q6_K values are stored as 0..63 (real value − 32)
//! with a per-16 scale, the −32 applied through the activation block sums.

use candle_core::quantized::k_quants::{BlockQ4K, BlockQ6K, BlockQ8K};
#[cfg(test)]
use half::f16;
use std::cell::RefCell;

/// Weight rows per tile: one 512-bit register of 32-bit lanes.
pub(super) const ROWS: usize = 16;
const QK: usize = 256;

// Mirrors of candle's block layouts (its fields are crate-private), all
// `#[repr(C)]` as candle's are; the asserts below pin size and alignment.
pub(super) use lawbrain_kernels::quant::{BlockQ4K as Q4, BlockQ6K as Q6};
#[repr(C)]
pub(super) struct Q8 {
    pub(super) d: f32,
    pub(super) qs: [i8; QK],
    pub(super) bsums: [i16; QK / 16],
}
const _: () = assert!(
    std::mem::size_of::<Q4>() == std::mem::size_of::<BlockQ4K>()
        && std::mem::align_of::<Q4>() <= std::mem::align_of::<BlockQ4K>()
        && std::mem::size_of::<Q6>() == std::mem::size_of::<BlockQ6K>()
        && std::mem::align_of::<Q6>() <= std::mem::align_of::<BlockQ6K>()
        && std::mem::size_of::<Q8>() == std::mem::size_of::<BlockQ8K>()
        && std::mem::align_of::<Q8>() <= std::mem::align_of::<BlockQ8K>()
);

/// View candle blocks through their mirror.
pub(super) fn view<A, B>(s: &[A]) -> &[B] {
    assert!(
        std::mem::size_of::<A>() == std::mem::size_of::<B>()
            && std::mem::align_of::<B>() <= std::mem::align_of::<A>(),
        "tiles::view between unlike block types"
    );
    // SAFETY: only called with the pairs asserted above: same size, `B`'s
    // alignment no stricter, both `#[repr(C)]` plain old data.
    unsafe { std::slice::from_raw_parts(s.as_ptr().cast::<B>(), s.len()) }
}

/// Activations as candle's Q8_K blocks (`out.len()` blocks of 256 values),
/// quantized by the kernels crate's vectorised quantizer: the same blocks as
/// `BlockQ8K::from_float`, which spends most of its time in `roundf`.
pub(super) fn quantize_q8k(x: &[f32], out: &mut [BlockQ8K]) {
    let out: &mut [Q8] = view_mut(out);
    for (b, c) in out.iter_mut().zip(x.chunks_exact(QK)) {
        if let Ok(c) = <&[f32; QK]>::try_from(c) {
            (b.d, b.qs, b.bsums) = lawbrain_kernels::quant::q8k(c);
        }
    }
}

/// [`view`], writable.
pub(super) fn view_mut<A, B>(s: &mut [A]) -> &mut [B] {
    assert!(
        std::mem::size_of::<A>() == std::mem::size_of::<B>()
            && std::mem::align_of::<B>() <= std::mem::align_of::<A>(),
        "tiles::view_mut between unlike block types"
    );
    // SAFETY: as in `view`; both types are plain old data for which every
    // bit pattern is valid, so writes through either are sound.
    unsafe { std::slice::from_raw_parts_mut(s.as_mut_ptr().cast::<B>(), s.len()) }
}

/// Whether this CPU has the instructions these kernels use (and
/// `LAWBRAIN_NO_TILES` is unset: it sends prompts through candle's own
/// repacked path, for side-by-side measurements).
pub(super) fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        static OK: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *OK.get_or_init(|| {
            std::env::var_os("LAWBRAIN_NO_TILES").is_none()
                && std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("avx512vnni")
        })
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// One super-block of 16 weight rows, unpacked (see the module docs).
#[repr(C, align(64))]
#[derive(Clone, Copy)]
struct Tile {
    q: [u32; QK / 4 * ROWS],
    /// Per sub-block, per row: `d * scale` (Q4_K: 8 sub-blocks, Q6_K: 16).
    scale: [[f32; ROWS]; 16],
    /// Q4_K only: per sub-block, per row: `dmin * min`.
    min: [[f32; ROWS]; 8],
}

impl Tile {
    const ZERO: Tile = Tile {
        q: [0; QK / 4 * ROWS],
        scale: [[0.0; ROWS]; 16],
        min: [[0.0; ROWS]; 8],
    };

    /// Plain-Rust reference for [`kernels::fill_q4`].
    #[cfg(test)]
    fn fill_q4<'b>(&mut self, rows: impl Fn(usize) -> &'b Q4) {
        for r in 0..ROWS {
            let b = rows(r);
            let (d, dmin) = (
                f16::from_bits(b.d).to_f32(),
                f16::from_bits(b.dmin).to_f32(),
            );
            for s in 0..8 {
                let (sc, mn) = scale_min_k4(s, &b.scales);
                self.scale[s][r] = d * f32::from(sc);
                self.min[s][r] = dmin * f32::from(mn);
            }
            // Byte c*32+j holds value c*64+j (low nibble) and c*64+32+j (high).
            for c in 0..4 {
                for w in 0..8 {
                    let o = c * 32 + w * 4;
                    let word = u32::from_le_bytes([b.qs[o], b.qs[o + 1], b.qs[o + 2], b.qs[o + 3]]);
                    self.q[(16 * c + w) * ROWS + r] = word & 0x0F0F_0F0F;
                    self.q[(16 * c + 8 + w) * ROWS + r] = (word >> 4) & 0x0F0F_0F0F;
                }
            }
        }
    }

    /// Plain-Rust reference for [`kernels::fill_q6`].
    #[cfg(test)]
    fn fill_q6<'b>(&mut self, rows: impl Fn(usize) -> &'b Q6) {
        let word = |s: &[u8], o: usize| u32::from_le_bytes([s[o], s[o + 1], s[o + 2], s[o + 3]]);
        for r in 0..ROWS {
            let b = rows(r);
            let d = f16::from_bits(b.d).to_f32();
            for s in 0..16 {
                self.scale[s][r] = d * f32::from(b.scales[s]);
            }
            // Value n*128 + j*32 + l: low 4 bits in ql[n*64 + (j&1)*32 + l]
            // (nibble j>>1), high 2 bits in qh[n*32 + l] (bits 2j..2j+2).
            for n in 0..2 {
                for l4 in 0..8 {
                    let h = word(&b.qh, n * 32 + l4 * 4);
                    for j in 0..4 {
                        let lo = word(&b.ql, n * 64 + (j & 1) * 32 + l4 * 4);
                        let v = ((lo >> (4 * (j >> 1))) & 0x0F0F_0F0F)
                            | (((h >> (2 * j)) & 0x0303_0303) << 4);
                        self.q[(n * 32 + j * 8 + l4) * ROWS + r] = v;
                    }
                }
            }
        }
    }
}

/// ggml's 6-bit scale/min unpacking for Q4_K super-blocks (the plain
/// reference the packed form, `quant::q4k_scales_mins`, is tested against).
#[cfg(test)]
fn scale_min_k4(j: usize, s: &[u8; 12]) -> (u8, u8) {
    if j < 4 {
        (s[j] & 63, s[j + 4] & 63)
    } else {
        (
            (s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4),
            (s[j + 4] >> 4) | ((s[j] >> 6) << 4),
        )
    }
}

/// Activation block sums as floats: per 32 values (Q4_K's sub-blocks) and
/// 32 × per 16 values (Q6_K's −32 offset).
struct Sums {
    pair: [f32; 8],
    six: [f32; 16],
}

fn sums(x: &[Q8]) -> Vec<Sums> {
    x.iter()
        .map(|b| Sums {
            pair: std::array::from_fn(|s| {
                f32::from(b.bsums[2 * s]) + f32::from(b.bsums[2 * s + 1])
            }),
            six: std::array::from_fn(|s| 32.0 * f32::from(b.bsums[s])),
        })
        .collect()
}

thread_local! {
    static TILES: RefCell<Vec<Tile>> = const { RefCell::new(Vec::new()) };
}

/// Which compact type a matrix is.
pub(super) enum Weights<'a> {
    Q4K(&'a [BlockQ4K]),
    Q6K(&'a [BlockQ6K]),
}

/// The `m` activation rows of one product, quantized to Q8_K.
pub(super) struct Acts<'a> {
    x: &'a [Q8],
    sums: Vec<Sums>,
    m: usize,
}

impl<'a> Acts<'a> {
    pub(super) fn new(x: &'a [BlockQ8K], m: usize) -> Self {
        let x: &[Q8] = view(x);
        Acts {
            sums: sums(x),
            x,
            m,
        }
    }
}

/// How many super-blocks ahead the tile builder prefetches each row.
const AHEAD: usize = 6;

/// Activation rows per kernel call (their accumulators stay in registers).
const MT: usize = 8;

/// Columns `r0..r0 + 16` of every output row: `dst[a * n + r0 + i]` is row
/// `a` of the activations dotted with weight row `r0 + i`.
///
/// # Safety
/// [`available`] must be true; `w` must hold at least `r0 + 16` rows of
/// `k / 256` blocks; `dst` must be live with `m` rows of `n` floats and no
/// other thread may touch those 16 columns meanwhile.
pub(super) unsafe fn rows16(
    w: &Weights,
    k: usize,
    acts: &Acts,
    r0: usize,
    dst: *mut f32,
    n: usize,
) {
    let kb = k / QK;
    if acts.m == 0 || kb == 0 {
        return;
    }
    TILES.with(|cell| {
        let mut tiles = cell.borrow_mut();
        tiles.resize(kb, Tile::ZERO);
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the caller checked the CPU features and the row count and
        // owns the output columns.
        unsafe {
            let q6 = match w {
                Weights::Q4K(b) => {
                    let b: &[Q4] = view(b);
                    for (i, t) in tiles.iter_mut().enumerate() {
                        let at = |r: usize| (r0 + r) * kb + i;
                        kernels::fill_q4(
                            t,
                            std::array::from_fn(|r| &b[at(r)]),
                            std::array::from_fn(|r| b.as_ptr().wrapping_add(at(r) + AHEAD)),
                        );
                    }
                    false
                }
                Weights::Q6K(b) => {
                    let b: &[Q6] = view(b);
                    for (i, t) in tiles.iter_mut().enumerate() {
                        let at = |r: usize| (r0 + r) * kb + i;
                        kernels::fill_q6(
                            t,
                            std::array::from_fn(|r| &b[at(r)]),
                            std::array::from_fn(|r| b.as_ptr().wrapping_add(at(r) + AHEAD)),
                        );
                    }
                    true
                }
            };
            kernels::run(&tiles, q6, acts, kb, r0, dst, n)
        };
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (w, acts, r0, dst, n);
    });
}

#[cfg(target_arch = "x86_64")]
mod kernels {
    use super::{Acts, Tile, MT, Q4, Q6, ROWS};
    use half::f16;
    use std::arch::x86_64::*;

    /// Transpose 16 rows of 16 dwords in registers: `r[i]` lane `j` becomes
    /// `r[j]` lane `i`.
    #[inline(always)]
    unsafe fn transpose16(r: &mut [__m512i; 16]) {
        let mut t = [_mm512_setzero_si512(); 16];
        for i in 0..8 {
            t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
            t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
        }
        // Per row quad G and 128-bit lane L: s[G][j] lane L = column 4L+j,
        // rows 4G..4G+4.
        let mut s = [_mm512_setzero_si512(); 16];
        for g in 0..4 {
            let (a, b, c, d) = (t[4 * g], t[4 * g + 1], t[4 * g + 2], t[4 * g + 3]);
            s[4 * g] = _mm512_unpacklo_epi64(a, c);
            s[4 * g + 1] = _mm512_unpackhi_epi64(a, c);
            s[4 * g + 2] = _mm512_unpacklo_epi64(b, d);
            s[4 * g + 3] = _mm512_unpackhi_epi64(b, d);
        }
        // 4×4 transpose of 128-bit lanes across the quads, for each j.
        for j in 0..4 {
            let (s0, s1, s2, s3) = (s[j], s[4 + j], s[8 + j], s[12 + j]);
            let u0 = _mm512_shuffle_i32x4::<0b01_00_01_00>(s0, s1);
            let u1 = _mm512_shuffle_i32x4::<0b11_10_11_10>(s0, s1);
            let u2 = _mm512_shuffle_i32x4::<0b01_00_01_00>(s2, s3);
            let u3 = _mm512_shuffle_i32x4::<0b11_10_11_10>(s2, s3);
            r[j] = _mm512_shuffle_i32x4::<0b10_00_10_00>(u0, u2);
            r[4 + j] = _mm512_shuffle_i32x4::<0b11_01_11_01>(u0, u2);
            r[8 + j] = _mm512_shuffle_i32x4::<0b10_00_10_00>(u1, u3);
            r[12 + j] = _mm512_shuffle_i32x4::<0b11_01_11_01>(u1, u3);
        }
    }

    /// Store transposed groups `g0..g0+16` of a tile.
    #[inline(always)]
    unsafe fn store_groups(t: &mut Tile, g0: usize, rows: &mut [__m512i; 16]) {
        // SAFETY: a caller's target features; 16 aligned groups in the tile.
        unsafe {
            transpose16(rows);
            for (i, v) in rows.iter().enumerate() {
                _mm512_store_si512(t.q.as_mut_ptr().wrapping_add((g0 + i) * ROWS).cast(), *v);
            }
        }
    }

    /// Store 16 per-row float vectors as 16 per-column ones (`cols[c][r]`).
    #[inline(always)]
    unsafe fn store_columns(cols: &mut [[f32; ROWS]], rows: &mut [__m512i; 16]) {
        // SAFETY: a caller's target features; `cols` has 16 rows of 16.
        unsafe {
            transpose16(rows);
            for (c, v) in cols.iter_mut().zip(rows.iter()) {
                _mm512_storeu_si512(c.as_mut_ptr().cast(), *v);
            }
        }
    }

    /// Ask for the cache lines of 16 blocks of `size` bytes ahead of use:
    /// the 16 rows are 16 separate streams through memory, more than the
    /// hardware prefetcher follows.
    #[inline(always)]
    unsafe fn prefetch<T>(next: [*const T; ROWS]) {
        let last = std::mem::size_of::<T>() - 1;
        for p in next {
            // Every line the block touches (it need not start on one).
            for off in (0..last).step_by(64).chain([last]) {
                // SAFETY: a prefetch never faults.
                unsafe { _mm_prefetch::<_MM_HINT_T1>(p.cast::<i8>().wrapping_add(off)) };
            }
        }
    }

    /// Unpack one super-block of 16 Q4_K rows into `t`.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(super) unsafe fn fill_q4(t: &mut Tile, rows: [&Q4; ROWS], next: [*const Q4; ROWS]) {
        // SAFETY: this function's target features.
        unsafe { prefetch(next) };
        let mask = _mm512_set1_epi8(0x0F);
        let mut g = [[_mm512_setzero_si512(); 16]; 4];
        let mut sm = [_mm512_setzero_si512(); 16];
        for (r, b) in rows.iter().enumerate() {
            // SAFETY: 128 bytes of quants per block.
            let (v0, v1) = unsafe {
                (
                    _mm512_loadu_si512(b.qs.as_ptr().cast()),
                    _mm512_loadu_si512(b.qs.as_ptr().wrapping_add(64).cast()),
                )
            };
            // Word c*8+w of the block: low nibbles are group 16c+w, high
            // nibbles group 16c+8+w.
            for (h, v) in [v0, v1].into_iter().enumerate() {
                let lo = _mm512_and_si512(v, mask);
                let hi = _mm512_and_si512(_mm512_srli_epi32::<4>(v), mask);
                g[2 * h][r] = _mm512_shuffle_i64x2::<0b01_00_01_00>(lo, hi);
                g[2 * h + 1][r] = _mm512_shuffle_i64x2::<0b11_10_11_10>(lo, hi);
            }
            let (d, dmin) = (
                f16::from_bits(b.d).to_f32(),
                f16::from_bits(b.dmin).to_f32(),
            );
            let mut v = [0f32; 16];
            let scales_mins = lawbrain_kernels::quant::q4k_scales_mins(&b.scales);
            for s in 0..8 {
                v[s] = d * f32::from(scales_mins[s]);
                v[8 + s] = dmin * f32::from(scales_mins[8 + s]);
            }
            // SAFETY: 16 floats.
            sm[r] = unsafe { _mm512_loadu_si512(v.as_ptr().cast()) };
        }
        // SAFETY: this function's target features.
        unsafe {
            for (i, rows) in g.iter_mut().enumerate() {
                store_groups(t, 16 * i, rows);
            }
            let mut cols = [[0f32; ROWS]; 16];
            store_columns(&mut cols, &mut sm);
            t.scale[..8].copy_from_slice(&cols[..8]);
            t.min.copy_from_slice(&cols[8..]);
        }
    }

    /// Unpack one super-block of 16 Q6_K rows into `t`.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(super) unsafe fn fill_q6(t: &mut Tile, rows: [&Q6; ROWS], next: [*const Q6; ROWS]) {
        // SAFETY: this function's target features.
        unsafe { prefetch(next) };
        let (m4, m2) = (_mm512_set1_epi8(0x0F), _mm512_set1_epi8(0x03));
        // Dword lanes 0-7 carry value rows j=0 (j=2), lanes 8-15 j=1 (j=3):
        // their high bits sit 2j bits up in the qh word.
        let sh_lo = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2);
        let sh_hi = _mm512_setr_epi32(4, 4, 4, 4, 4, 4, 4, 4, 6, 6, 6, 6, 6, 6, 6, 6);
        let mut g = [[_mm512_setzero_si512(); 16]; 4];
        let mut sc = [_mm512_setzero_si512(); 16];
        for (r, b) in rows.iter().enumerate() {
            // SAFETY: 128 bytes of ql, 64 of qh, 16 scales per block.
            let (ql0, ql1, qh, s8) = unsafe {
                (
                    _mm512_loadu_si512(b.ql.as_ptr().cast()),
                    _mm512_loadu_si512(b.ql.as_ptr().wrapping_add(64).cast()),
                    _mm512_loadu_si512(b.qh.as_ptr().cast()),
                    _mm_loadu_si128(b.scales.as_ptr().cast()),
                )
            };
            // Half n: qh words 8n..8n+8, twice.
            let halves = [
                (ql0, _mm512_shuffle_i64x2::<0b01_00_01_00>(qh, qh)),
                (ql1, _mm512_shuffle_i64x2::<0b11_10_11_10>(qh, qh)),
            ];
            for (n, (q, h)) in halves.into_iter().enumerate() {
                let lo = _mm512_or_si512(
                    _mm512_and_si512(q, m4),
                    _mm512_slli_epi32::<4>(_mm512_and_si512(_mm512_srlv_epi32(h, sh_lo), m2)),
                );
                let hi = _mm512_or_si512(
                    _mm512_and_si512(_mm512_srli_epi32::<4>(q), m4),
                    _mm512_slli_epi32::<4>(_mm512_and_si512(_mm512_srlv_epi32(h, sh_hi), m2)),
                );
                g[2 * n][r] = lo;
                g[2 * n + 1][r] = hi;
            }
            let d = _mm512_set1_ps(f16::from_bits(b.d).to_f32());
            sc[r] = _mm512_castps_si512(_mm512_mul_ps(
                d,
                _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(s8)),
            ));
        }
        // SAFETY: this function's target features.
        unsafe {
            for (i, rows) in g.iter_mut().enumerate() {
                store_groups(t, 16 * i, rows);
            }
            store_columns(&mut t.scale, &mut sc);
        }
    }

    /// All activation rows against the tiles of one 16-row group.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(super) unsafe fn run(
        tiles: &[Tile],
        q6: bool,
        acts: &Acts,
        kb: usize,
        r0: usize,
        dst: *mut f32,
        n: usize,
    ) {
        let m = acts.m;
        let mut a0 = 0;
        while a0 < m {
            let mt = (m - a0).min(MT);
            // Short last group: repeat its last row (computed, not stored).
            let row = |i: usize| (a0 + i).min(m - 1);
            let mut acc = [_mm512_setzero_ps(); MT];
            for (b, tile) in tiles.iter().enumerate() {
                let blocks: [usize; MT] = std::array::from_fn(|i| row(i) * kb + b);
                // SAFETY: the caller checked the CPU features.
                unsafe {
                    if q6 {
                        tile_q6(tile, acts, &blocks, &mut acc)
                    } else {
                        tile_q4(tile, acts, &blocks, &mut acc)
                    }
                }
            }
            for (i, v) in acc.iter().enumerate().take(mt) {
                // SAFETY: the caller owns columns r0..r0+16 of every row.
                unsafe { _mm512_storeu_ps(dst.add((a0 + i) * n + r0), *v) };
            }
            a0 += MT;
        }
    }

    /// The four activation bytes of group `g` after `p`, in every lane.
    /// Plain pointer arithmetic: this is the innermost loop, and the checked
    /// forms cost more than the product in unoptimised test builds.
    #[inline(always)]
    unsafe fn bcast(p: *const i8, g: usize) -> __m512i {
        // SAFETY: `p` starts a block's 256 quants and g < 64.
        _mm512_broadcastd_epi32(unsafe { _mm_loadu_si32(p.wrapping_add(4 * g).cast()) })
    }

    #[inline(always)]
    unsafe fn lanes(tile: &Tile, g: usize) -> __m512i {
        // SAFETY: the tile is 64-byte aligned and group g's 16 lanes are
        // contiguous.
        unsafe { _mm512_load_si512(tile.q.as_ptr().wrapping_add(g * ROWS).cast()) }
    }

    /// Where the quants of each activation row's block start.
    #[inline(always)]
    fn starts(acts: &Acts, blocks: &[usize; MT]) -> [*const i8; MT] {
        std::array::from_fn(|i| acts.x[blocks[i]].qs.as_ptr())
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    unsafe fn tile_q4(tile: &Tile, acts: &Acts, blocks: &[usize; MT], acc: &mut [__m512; MT]) {
        let mut part = [_mm512_setzero_ps(); MT];
        let p = starts(acts, blocks);
        for s in 0..8 {
            let mut isum = [_mm512_setzero_si512(); MT];
            for g in 8 * s..8 * s + 8 {
                // SAFETY: in-bounds group of an aligned tile.
                let w = unsafe { lanes(tile, g) };
                for i in 0..MT {
                    isum[i] = _mm512_dpbusd_epi32(isum[i], w, unsafe { bcast(p[i], g) });
                }
            }
            // SAFETY: rows of 16 f32 inside the tile.
            let (scale, min) = unsafe {
                (
                    _mm512_loadu_ps(tile.scale[s].as_ptr()),
                    _mm512_loadu_ps(tile.min[s].as_ptr()),
                )
            };
            for i in 0..MT {
                let sum = _mm512_set1_ps(acts.sums[blocks[i]].pair[s]);
                part[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[i]), scale, part[i]);
                part[i] = _mm512_fnmadd_ps(min, sum, part[i]);
            }
        }
        for i in 0..MT {
            acc[i] = _mm512_fmadd_ps(part[i], _mm512_set1_ps(acts.x[blocks[i]].d), acc[i]);
        }
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    unsafe fn tile_q6(tile: &Tile, acts: &Acts, blocks: &[usize; MT], acc: &mut [__m512; MT]) {
        let mut part = [_mm512_setzero_ps(); MT];
        let p = starts(acts, blocks);
        for s in 0..16 {
            let mut isum = [_mm512_setzero_si512(); MT];
            for g in 4 * s..4 * s + 4 {
                // SAFETY: in-bounds group of an aligned tile.
                let w = unsafe { lanes(tile, g) };
                for i in 0..MT {
                    isum[i] = _mm512_dpbusd_epi32(isum[i], w, unsafe { bcast(p[i], g) });
                }
            }
            // SAFETY: a row of 16 f32 inside the tile.
            let scale = unsafe { _mm512_loadu_ps(tile.scale[s].as_ptr()) };
            for i in 0..MT {
                let off = _mm512_set1_ps(acts.sums[blocks[i]].six[s]);
                let v = _mm512_sub_ps(_mm512_cvtepi32_ps(isum[i]), off);
                part[i] = _mm512_fmadd_ps(v, scale, part[i]);
            }
        }
        for i in 0..MT {
            acc[i] = _mm512_fmadd_ps(part[i], _mm512_set1_ps(acts.x[blocks[i]].d), acc[i]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic bytes for block contents.
    fn bytes(seed: u64, n: usize) -> Vec<u8> {
        let mut x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (x >> 33) as u8
            })
            .collect()
    }

    #[test]
    fn fast_quantization_matches_candles() {
        use candle_core::quantized::k_quants::GgmlType;
        let (m, k) = (5, 512);
        for seed in 0..20u64 {
            let b = bytes(seed, m * k);
            // Activations of mixed scale, exact halves (ties), zeros and an
            // all-zero block.
            let mut x: Vec<f32> = b
                .iter()
                .enumerate()
                .map(|(i, v)| match i % 7 {
                    0 => 0.0,
                    1 => f32::from(*v) / 2.0 - 64.0,
                    _ => (f32::from(*v) - 127.5) * 0.013 * (1 + seed) as f32,
                })
                .collect();
            x[..QK].fill(0.0);
            // A block whose scale is 1 (largest magnitude -127): values just
            // below a half and exact halves must round as candle's `round`.
            let edge = [
                -127.0,
                0.499_999_97,
                -0.499_999_97,
                2.5,
                -2.5,
                1.5,
                126.5,
                -0.5,
            ];
            x[QK..QK + edge.len()].copy_from_slice(&edge);
            let mut fast = vec![BlockQ8K::zeros(); m * k / QK];
            for r in 0..m {
                quantize_q8k(&x[r * k..(r + 1) * k], &mut fast[r * 2..r * 2 + 2]);
            }
            let mut plain = vec![BlockQ8K::zeros(); m * k / QK];
            for r in 0..m {
                BlockQ8K::from_float(&x[r * k..(r + 1) * k], &mut plain[r * 2..r * 2 + 2]);
            }
            assert_eq!(fast, plain, "seed {seed}");
        }
    }

    fn q4(seed: u64) -> Q4 {
        let b = bytes(seed, 140);
        Q4 {
            d: f16::from_f32(0.01 + seed as f32 * 1e-3).to_bits(),
            dmin: f16::from_f32(0.002 * seed as f32).to_bits(),
            scales: std::array::from_fn(|i| b[i]),
            qs: std::array::from_fn(|i| b[12 + i]),
        }
    }

    fn q6(seed: u64) -> Q6 {
        let b = bytes(seed, 208);
        Q6 {
            ql: std::array::from_fn(|i| b[i]),
            qh: std::array::from_fn(|i| b[128 + i]),
            scales: std::array::from_fn(|i| b[192 + i] as i8),
            d: f16::from_f32(0.003 * (seed + 1) as f32).to_bits(),
        }
    }

    fn same(a: &Tile, b: &Tile, scales: usize, mins: usize) {
        for (i, (x, y)) in a.q.iter().zip(&b.q).enumerate() {
            assert_eq!(x, y, "group {} row {}", i / ROWS, i % ROWS);
        }
        assert_eq!(a.scale[..scales], b.scale[..scales]);
        assert_eq!(a.min[..mins], b.min[..mins]);
    }

    /// The register transposes build exactly the tile of the plain loops.
    #[test]
    fn simd_fill_matches_reference() {
        if !available() {
            eprintln!("no AVX-512 VNNI here: nothing to compare");
            return;
        }
        let b4: Vec<Q4> = (0..ROWS as u64).map(q4).collect();
        let b6: Vec<Q6> = (0..ROWS as u64).map(|s| q6(s + 100)).collect();
        let (mut want, mut got) = (Tile::ZERO, Tile::ZERO);
        want.fill_q4(|r| &b4[r]);
        #[cfg(target_arch = "x86_64")]
        // SAFETY: checked above.
        unsafe {
            kernels::fill_q4(
                &mut got,
                std::array::from_fn(|r| &b4[r]),
                [b4.as_ptr(); ROWS],
            )
        };
        same(&want, &got, 8, 8);
        let (mut want, mut got) = (Tile::ZERO, Tile::ZERO);
        want.fill_q6(|r| &b6[r]);
        #[cfg(target_arch = "x86_64")]
        // SAFETY: checked above.
        unsafe {
            kernels::fill_q6(
                &mut got,
                std::array::from_fn(|r| &b6[r]),
                [b6.as_ptr(); ROWS],
            )
        };
        same(&want, &got, 16, 0);
    }
}
