//! The tokenizer, built from the GGUF's own vocabulary and merges, plus the
//! exact bytes of every token (for streaming whole UTF-8 characters) and the
//! end-of-generation ids.

use std::collections::HashSet;

use candle_core::quantized::gguf_file;
use candle_core::quantized::tokenizer::TokenizerFromGguf;
use tokenizers::Tokenizer;

use crate::error::{Error, Result};

/// Token names that end a turn in Qwen2.5 chat models (others come from the GGUF).
const EOG_NAMES: &[&str] = &[
    "<|im_end|>",
    "<|endoftext|>",
    "<|fim_pad|>",
    "<|repo_name|>",
    "<|file_sep|>",
];

/// Tokenizer plus per-token bytes and stop ids.
pub struct Tokens {
    tokenizer: Tokenizer,
    /// Raw bytes of each token id (byte-level BPE decoded; specials as text).
    bytes: Vec<Vec<u8>>,
    eog: HashSet<u32>,
}

/// GPT-2 byte-level alphabet: the char that stands for each byte.
fn byte_alphabet() -> [char; 256] {
    let mut bs: Vec<u32> = ('!' as u32..='~' as u32)
        .chain('¡' as u32..='¬' as u32)
        .chain('®' as u32..='ÿ' as u32)
        .collect();
    let mut cs = bs.clone();
    let mut n = 0;
    for b in 0..256u32 {
        if !bs.contains(&b) {
            bs.push(b);
            cs.push(256 + n);
            n += 1;
        }
    }
    let mut out = ['\0'; 256];
    for (b, c) in bs.iter().zip(cs.iter()) {
        out[*b as usize] = char::from_u32(*c).unwrap_or('\0');
    }
    out
}

impl Tokens {
    /// Build from GGUF metadata.
    pub fn from_gguf(ct: &gguf_file::Content) -> Result<Self> {
        let tokenizer = Tokenizer::from_gguf(ct)
            .map_err(|e| Error::Model(format!("tokenizer from GGUF: {e}")))?;
        let vocab: Vec<String> = match ct.metadata.get("tokenizer.ggml.tokens") {
            Some(v) => v
                .to_vec()?
                .iter()
                .map(|t| t.to_string().cloned())
                .collect::<candle_core::Result<Vec<_>>>()?,
            None => return Err(Error::Model("GGUF has no tokenizer.ggml.tokens".into())),
        };
        let types: Vec<u32> = match ct.metadata.get("tokenizer.ggml.token_type") {
            Some(v) => v
                .to_vec()?
                .iter()
                .map(|t| t.to_i32().map(|x| x as u32))
                .collect::<candle_core::Result<_>>()?,
            None => vec![1; vocab.len()],
        };
        let alpha = byte_alphabet();
        let mut rev = std::collections::HashMap::with_capacity(256);
        for (b, c) in alpha.iter().enumerate() {
            rev.insert(*c, b as u8);
        }
        let bytes = vocab
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let special = matches!(types.get(i), Some(2..=5));
                match t
                    .chars()
                    .map(|c| rev.get(&c).copied())
                    .collect::<Option<Vec<u8>>>()
                {
                    Some(b) if !special => b,
                    _ => t.as_bytes().to_vec(),
                }
            })
            .collect();
        let mut eog = HashSet::new();
        for key in [
            "tokenizer.ggml.eos_token_id",
            "tokenizer.ggml.eot_token_id",
            "tokenizer.ggml.eom_token_id",
        ] {
            if let Some(v) = ct.metadata.get(key) {
                if let Ok(id) = v.to_u32() {
                    eog.insert(id);
                }
            }
        }
        for name in EOG_NAMES {
            if let Some(id) = vocab.iter().position(|t| t == name) {
                eog.insert(id as u32);
            }
        }
        Ok(Tokens {
            tokenizer,
            bytes,
            eog,
        })
    }

    /// Encode text as is: special-token text such as `<|im_start|>` maps to its
    /// id, and no extra special tokens are added.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let enc = self
            .tokenizer
            .encode(text, false)
            .map_err(|e| Error::Model(format!("tokenize: {e}")))?;
        Ok(enc.get_ids().to_vec())
    }

    /// Whether `id` ends generation.
    pub fn is_eog(&self, id: u32) -> bool {
        self.eog.contains(&id)
    }

    /// The end-of-generation ids.
    pub fn eog_ids(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self.eog.iter().copied().collect();
        v.sort_unstable();
        v
    }

    /// The exact bytes of a token.
    pub fn token_bytes(&self, id: u32) -> &[u8] {
        self.bytes
            .get(id as usize)
            .map(|b| b.as_slice())
            .unwrap_or(&[])
    }

    /// Decode ids to text (lossy at invalid UTF-8).
    pub fn decode(&self, ids: &[u32]) -> String {
        let mut b = Vec::new();
        for id in ids {
            b.extend_from_slice(self.token_bytes(*id));
        }
        String::from_utf8_lossy(&b).into_owned()
    }

    /// The underlying `tokenizers` tokenizer.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }
}

/// Turns token bytes into text pieces of whole UTF-8 characters, holding back
/// an incomplete character at the end until its remaining bytes arrive.
#[derive(Debug, Default)]
pub struct Utf8Stream {
    pending: Vec<u8>,
}

impl Utf8Stream {
    /// Add bytes; returns the text that is complete now (maybe empty).
    pub fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut out = String::new();
        loop {
            match std::str::from_utf8(&self.pending) {
                Ok(s) => {
                    out.push_str(s);
                    self.pending.clear();
                    return out;
                }
                Err(e) => {
                    let good = e.valid_up_to();
                    // Safe: the prefix was just validated.
                    out.push_str(&String::from_utf8_lossy(&self.pending[..good]));
                    match e.error_len() {
                        // Incomplete character at the end: keep it.
                        None => {
                            self.pending.drain(..good);
                            return out;
                        }
                        // Invalid bytes: replace and continue.
                        Some(n) => {
                            out.push('\u{FFFD}');
                            self.pending.drain(..good + n);
                        }
                    }
                }
            }
        }
    }

    /// Whatever is left at the end (invalid bytes become U+FFFD).
    pub fn finish(&mut self) -> String {
        let s = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_stream_holds_back_partial_chars() {
        let text = "劳动合同法第四十七条 ok";
        let b = text.as_bytes();
        let mut s = Utf8Stream::default();
        let mut out = String::new();
        for chunk in b.chunks(2) {
            let piece = s.push(chunk);
            assert!(!piece.contains('\u{FFFD}'));
            out.push_str(&piece);
        }
        out.push_str(&s.finish());
        assert_eq!(out, text);
        // first push of 2 bytes of a 3-byte char gives nothing
        let mut s = Utf8Stream::default();
        assert_eq!(s.push(&"劳".as_bytes()[..2]), "");
        assert_eq!(s.push(&"劳".as_bytes()[2..]), "劳");
    }

    #[test]
    fn utf8_stream_replaces_invalid_bytes() {
        let mut s = Utf8Stream::default();
        assert_eq!(s.push(&[b'a', 0xff, b'b']), "a\u{FFFD}b");
    }

    #[test]
    fn byte_alphabet_is_a_bijection() {
        let a = byte_alphabet();
        let set: HashSet<char> = a.iter().copied().collect();
        assert_eq!(set.len(), 256);
        assert_eq!(a[b'A' as usize], 'A');
        assert_eq!(a[b' ' as usize], 'Ġ');
        assert_eq!(a[b'\n' as usize], 'Ċ');
    }
}
