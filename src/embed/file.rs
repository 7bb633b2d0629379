//! Reader for the packed 4-bit multilingual-e5-small file (`E5S1`).
//!
//! Layout (little endian): magic `E5S1`, `u32` version; `i32` hidden size,
//! layers, heads, feed-forward size, vocabulary rows, max positions, token
//! types; `f32` LayerNorm epsilon; `i32` quant block size (32). Then the
//! SentencePiece vocabulary (skipped here: the tokenizer comes from its own
//! `tokenizer.json`), a normalisation map (skipped), and a tensor directory:
//! `u16` name length, name, `u8` dtype (0 = f32, 1 = Q4_0), `u32` element
//! count, `u64` offset from the file start, `u64` byte length.
//!
//! Q4_0 is the GGML block: an f16 scale and 16 bytes holding 32 nibbles
//! (byte `j` carries weight `j` in its low and weight `j + 16` in its high
//! nibble), each weight `(q - 8) * scale`. Every offset and length is checked
//! against the file before anything is read.

use std::collections::HashMap;

use crate::error::{Error, Result};

/// Elements per Q4_0 block.
pub const QK: usize = 32;
/// Bytes per Q4_0 block.
pub const Q4_0_BYTES: usize = 18;

/// Shape of the encoder, from the file header.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Config {
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub ff: usize,
    pub vocab: usize,
    pub max_positions: usize,
    pub type_vocab: usize,
    pub eps: f64,
}

/// Element type of a stored tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    F32,
    Q4_0,
}

/// One tensor's place in the file.
#[derive(Debug, Clone, Copy)]
struct Entry {
    dtype: DType,
    elements: usize,
    offset: usize,
    bytes: usize,
}

/// The parsed file: header plus a checked directory over the bytes.
pub struct E5File {
    pub config: Config,
    data: Vec<u8>,
    dir: HashMap<String, Entry>,
}

fn bad(msg: impl Into<String>) -> Error {
    Error::Model(format!(
        "the dense encoder file is corrupt ({}): run `lawbrain setup` to fetch it again",
        msg.into()
    ))
}

struct Cursor<'a> {
    b: &'a [u8],
    p: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self
            .p
            .checked_add(n)
            .ok_or_else(|| bad("offset overflow"))?;
        let s = self.b.get(self.p..end).ok_or_else(|| bad("truncated"))?;
        self.p = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16> {
        let s = self.take(2)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }
    fn u32(&mut self) -> Result<u32> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn i32(&mut self) -> Result<i32> {
        Ok(self.u32()? as i32)
    }
    fn f32(&mut self) -> Result<f32> {
        Ok(f32::from_bits(self.u32()?))
    }
    fn u64(&mut self) -> Result<u64> {
        let s = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(u64::from_le_bytes(a))
    }
    fn dim(&mut self, what: &str, max: usize) -> Result<usize> {
        let v = self.i32()?;
        if v <= 0 || v as usize > max {
            return Err(bad(format!("{what} = {v}")));
        }
        Ok(v as usize)
    }
}

impl E5File {
    /// Parse an `E5S1` image.
    pub fn parse(data: Vec<u8>) -> Result<E5File> {
        if data.len() < 8 || &data[..4] != b"E5S1" {
            return Err(bad("no E5S1 header"));
        }
        let mut c = Cursor { b: &data, p: 8 };
        let hidden = c.dim("hidden size", 4096)?;
        let layers = c.dim("layers", 64)?;
        let heads = c.dim("heads", 64)?;
        let ff = c.dim("feed-forward size", 16384)?;
        let vocab = c.dim("vocabulary", 1 << 20)?;
        let max_positions = c.dim("positions", 8192)?;
        let type_vocab = c.dim("token types", 16)?;
        let eps = c.f32()? as f64;
        let qk = c.dim("block size", 1024)?;
        if qk != QK
            || !hidden.is_multiple_of(QK)
            || !ff.is_multiple_of(QK)
            || !hidden.is_multiple_of(heads)
        {
            return Err(bad("unsupported shape"));
        }
        if !(eps > 0.0 && eps < 1e-3) {
            return Err(bad(format!("epsilon {eps}")));
        }
        // SentencePiece vocabulary: counts, offsets, scores, blob.
        let pieces = c.dim("pieces", 1 << 20)?;
        for _ in 0..4 {
            c.i32()?;
        }
        let blob = c.u64()? as usize;
        c.take((pieces + 1) * 4)?;
        c.take(pieces * 4)?;
        c.take(blob)?;
        // Normalisation map.
        c.i32()?;
        let nm = c.u32()? as usize;
        c.take(nm)?;
        // Tensor directory.
        let n = c.dim("tensors", 100_000)?;
        let mut dir = HashMap::with_capacity(n);
        for _ in 0..n {
            let len = c.u16()? as usize;
            let name = String::from_utf8(c.take(len)?.to_vec())
                .map_err(|_| bad("tensor name is not UTF-8"))?;
            let dtype = match c.u8()? {
                0 => DType::F32,
                1 => DType::Q4_0,
                t => return Err(bad(format!("tensor {name}: dtype {t}"))),
            };
            let elements = c.u32()? as usize;
            let offset = c.u64()? as usize;
            let bytes = c.u64()? as usize;
            let need = match dtype {
                DType::F32 => elements * 4,
                DType::Q4_0 => elements / QK * Q4_0_BYTES,
            };
            if bytes != need
                || (dtype == DType::Q4_0 && !elements.is_multiple_of(QK))
                || offset.checked_add(bytes).is_none_or(|e| e > data.len())
            {
                return Err(bad(format!("tensor {name} out of bounds")));
            }
            dir.insert(
                name,
                Entry {
                    dtype,
                    elements,
                    offset,
                    bytes,
                },
            );
        }
        Ok(E5File {
            config: Config {
                hidden,
                layers,
                heads,
                ff,
                vocab,
                max_positions,
                type_vocab,
                eps,
            },
            data,
            dir,
        })
    }

    fn entry(&self, name: &str, elements: usize) -> Result<Entry> {
        let e = *self
            .dir
            .get(name)
            .ok_or_else(|| bad(format!("missing tensor {name}")))?;
        if e.elements != elements {
            return Err(bad(format!(
                "tensor {name} has {} elements, expected {elements}",
                e.elements
            )));
        }
        Ok(e)
    }

    /// A tensor as f32 values (Q4_0 tensors are dequantized).
    pub fn f32(&self, name: &str, elements: usize) -> Result<Vec<f32>> {
        let e = self.entry(name, elements)?;
        let bytes = &self.data[e.offset..e.offset + e.bytes];
        Ok(match e.dtype {
            DType::F32 => bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            DType::Q4_0 => {
                let mut out = vec![0f32; elements];
                for (blk, o) in bytes.chunks_exact(Q4_0_BYTES).zip(out.chunks_exact_mut(QK)) {
                    dequant_block(blk, o);
                }
                out
            }
        })
    }

    /// The raw Q4_0 bytes of a tensor (the word embeddings stay compact).
    pub fn q4_0(&self, name: &str, elements: usize) -> Result<Vec<u8>> {
        let e = self.entry(name, elements)?;
        if e.dtype != DType::Q4_0 {
            return Err(bad(format!("tensor {name} is not Q4_0")));
        }
        Ok(self.data[e.offset..e.offset + e.bytes].to_vec())
    }
}

/// Dequantize one Q4_0 block (18 bytes) into 32 floats.
pub fn dequant_block(blk: &[u8], out: &mut [f32]) {
    let d = half::f16::from_le_bytes([blk[0], blk[1]]).to_f32();
    for j in 0..QK / 2 {
        let q = blk[2 + j];
        out[j] = ((q & 0x0F) as i32 - 8) as f32 * d;
        out[j + QK / 2] = ((q >> 4) as i32 - 8) as f32 * d;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q4_0_block_layout() {
        // scale 0.5; byte j: low nibble j % 16, high nibble 15 - j % 16.
        let mut blk = vec![0u8; Q4_0_BYTES];
        blk[..2].copy_from_slice(&half::f16::from_f32(0.5).to_le_bytes());
        for j in 0..16u8 {
            blk[2 + j as usize] = j | ((15 - j) << 4);
        }
        let mut out = [0f32; QK];
        dequant_block(&blk, &mut out);
        assert_eq!(out[0], -4.0); // (0 - 8) * 0.5
        assert_eq!(out[15], 3.5); // (15 - 8) * 0.5
        assert_eq!(out[16], 3.5); // high nibble of byte 0 = 15
        assert_eq!(out[31], -4.0);
    }

    #[test]
    fn rejects_garbage_and_truncation() {
        assert!(E5File::parse(b"NOPE0000".to_vec()).is_err());
        let mut v = b"E5S1".to_vec();
        v.extend_from_slice(&1u32.to_le_bytes());
        v.extend_from_slice(&384i32.to_le_bytes());
        let err = E5File::parse(v)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("lawbrain setup"), "{err}");
    }
}
