//! Choosing the next token: repetition penalty, greedy / temperature / top-p
//! sampling with a seed, and detection of verbatim loops.

use candle_core::Tensor;
use candle_transformers::generation::{LogitsProcessor, Sampling};

use super::GenParams;
use crate::error::Result;

/// Per-generation sampler state.
pub struct Sampler {
    proc: LogitsProcessor,
    penalty: f32,
    last_n: usize,
}

impl Sampler {
    pub fn new(p: &GenParams) -> Self {
        let sampling = if p.temperature <= 0.0 {
            Sampling::ArgMax
        } else {
            match p.top_p {
                Some(top_p) if top_p > 0.0 && top_p < 1.0 => Sampling::TopP {
                    p: top_p,
                    temperature: p.temperature,
                },
                _ => Sampling::All {
                    temperature: p.temperature,
                },
            }
        };
        Sampler {
            proc: LogitsProcessor::from_sampling(p.seed, sampling),
            penalty: p.repeat_penalty,
            last_n: p.repeat_last_n,
        }
    }

    /// Pick the next token given the logits and the tokens generated so far.
    pub fn next(&mut self, logits: &Tensor, generated: &[u32]) -> Result<u32> {
        let logits = if self.penalty != 1.0 && !generated.is_empty() {
            let start = generated.len().saturating_sub(self.last_n);
            candle_transformers::utils::apply_repeat_penalty(
                logits,
                self.penalty,
                &generated[start..],
            )?
        } else {
            logits.clone()
        };
        Ok(self.proc.sample(&logits)?)
    }
}

/// Whether the end of `tokens` is a verbatim loop: a block of `len` tokens
/// repeated back to back, covering at least `min_span` tokens (short blocks must
/// repeat more often before they count). Returns the length of the repeated
/// tail beyond the first copy.
pub fn loop_tail(tokens: &[u32], min_span: usize) -> Option<usize> {
    let n = tokens.len();
    for len in 1..=n / 2 {
        let copies_needed = min_span.div_ceil(len).max(2);
        if copies_needed * len > n {
            continue;
        }
        let tail = &tokens[n - len..];
        let all = (1..copies_needed).all(|c| &tokens[n - (c + 1) * len..n - c * len] == tail);
        if all {
            return Some((copies_needed - 1) * len);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_sentence_loops() {
        let sentence: Vec<u32> = (100..120).collect();
        let mut t: Vec<u32> = vec![1, 2, 3];
        t.extend(&sentence);
        assert_eq!(loop_tail(&t, 24), None);
        t.extend(&sentence);
        assert_eq!(loop_tail(&t, 24), Some(20));
    }

    #[test]
    fn short_repeats_need_a_long_span() {
        let mut t = vec![5u32; 10];
        assert_eq!(loop_tail(&t, 24), None);
        t.extend(vec![5u32; 20]);
        assert!(loop_tail(&t, 24).is_some());
        assert_eq!(loop_tail(&[1, 2, 3, 4, 1, 2, 3, 5], 4), None);
    }

    #[test]
    fn greedy_picks_argmax() {
        let mut s = Sampler::new(&GenParams {
            repeat_penalty: 1.0,
            ..GenParams::default()
        });
        let logits = Tensor::new(&[0.1f32, 3.0, 0.5], &candle_core::Device::Cpu).expect("tensor");
        assert_eq!(s.next(&logits, &[]).expect("sample"), 1);
    }

    #[test]
    fn repeat_penalty_demotes_seen_tokens() {
        let mut s = Sampler::new(&GenParams {
            repeat_penalty: 2.0,
            ..GenParams::default()
        });
        let logits = Tensor::new(&[0.1f32, 3.0, 2.0], &candle_core::Device::Cpu).expect("tensor");
        assert_eq!(s.next(&logits, &[1]).expect("sample"), 2);
    }
}
