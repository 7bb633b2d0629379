//! A learned linear head on question embeddings: `q' = normalise(W q)`.
//!
//! multilingual-e5-small was not trained on statute retrieval; a citizen's
//! words ("老板跑路了") and an article's ("用人单位") sit further apart than
//! they should. The head is a 384×384 matrix, started at the identity and
//! trained with a contrastive loss on real questions with gold articles: for
//! each question, a softmax over its gold articles and hard negatives (the
//! top lexical and dense candidates that are not gold), temperature 0.05,
//! plain SGD with an L2 pull back to the identity. Only the question side
//! moves, so the article vectors (the expensive part) are untouched.
//!
//! Whether it pays is decided by fold-honest cross-validation
//! ([`crate::eval::retrieval_cv`]), never by a figure on its own training
//! questions.

use crate::embed::DIM;

/// Training settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdapterConfig {
    pub epochs: usize,
    pub lr: f32,
    /// Pull towards the identity, per step.
    pub l2: f32,
    pub temperature: f32,
}

impl Default for AdapterConfig {
    fn default() -> Self {
        AdapterConfig {
            epochs: 3,
            lr: 0.001,
            l2: 0.1,
            temperature: 0.05,
        }
    }
}

/// One training question: its embedding, the gold and the negative
/// article vectors (rows of [`crate::search::DenseIndex`]).
pub struct Example<'a> {
    pub query: &'a [f32],
    pub gold: Vec<&'a [f32]>,
    pub negatives: Vec<&'a [f32]>,
}

/// The head.
#[derive(Debug, Clone, PartialEq)]
pub struct Adapter {
    /// Row-major `DIM × DIM`.
    pub w: Vec<f32>,
}

impl Default for Adapter {
    fn default() -> Self {
        Adapter::identity()
    }
}

impl Adapter {
    /// `W = I`.
    pub fn identity() -> Adapter {
        let mut w = vec![0.0; DIM * DIM];
        for i in 0..DIM {
            w[i * DIM + i] = 1.0;
        }
        Adapter { w }
    }

    /// `normalise(W q)`.
    pub fn apply(&self, q: &[f32]) -> Vec<f32> {
        let mut out: Vec<f32> = self
            .w
            .chunks_exact(DIM)
            .map(|row| crate::embed::dot(row, q))
            .collect();
        crate::embed::bert::normalise(&mut out);
        out
    }

    /// Train on `examples` (deterministic: fixed order, no sampling).
    pub fn train(examples: &[Example<'_>], cfg: AdapterConfig) -> Adapter {
        let mut a = Adapter::identity();
        let inv_t = 1.0 / cfg.temperature;
        let mut u = vec![0f32; DIM];
        let mut v = vec![0f32; DIM];
        for _ in 0..cfg.epochs {
            for ex in examples {
                if ex.gold.is_empty() || ex.negatives.is_empty() {
                    continue;
                }
                // u = W q (unnormalised: scores are linear in W).
                for (ui, row) in u.iter_mut().zip(a.w.chunks_exact(DIM)) {
                    *ui = crate::embed::dot(row, ex.query);
                }
                let all: Vec<(&[f32], bool)> = ex
                    .gold
                    .iter()
                    .map(|p| (*p, true))
                    .chain(ex.negatives.iter().map(|p| (*p, false)))
                    .collect();
                let scores: Vec<f32> = all
                    .iter()
                    .map(|(p, _)| crate::embed::dot(&u, p) * inv_t)
                    .collect();
                let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let exps: Vec<f32> = scores.iter().map(|s| (s - max).exp()).collect();
                let z: f32 = exps.iter().sum();
                let zp: f32 = exps
                    .iter()
                    .zip(&all)
                    .filter(|(_, (_, g))| *g)
                    .map(|(e, _)| e)
                    .sum();
                // dL/ds_j = softmax_j - target_j (target spread over gold by
                // its own softmax); dL/dW = (1/t) (sum_j g_j p_j) q^T.
                v.iter_mut().for_each(|x| *x = 0.0);
                for (e, (p, gold)) in exps.iter().zip(&all) {
                    let mut g = e / z;
                    if *gold {
                        g -= e / zp;
                    }
                    if g != 0.0 {
                        for (vi, pi) in v.iter_mut().zip(p.iter()) {
                            *vi += g * pi;
                        }
                    }
                }
                let step = cfg.lr * inv_t;
                for (i, row) in a.w.chunks_exact_mut(DIM).enumerate() {
                    let gi = step * v[i];
                    for (j, (wij, qj)) in row.iter_mut().zip(ex.query).enumerate() {
                        let ident = if i == j { 1.0 } else { 0.0 };
                        *wij -= gi * qj + cfg.lr * cfg.l2 * (*wij - ident);
                    }
                }
            }
        }
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(seed: u32) -> Vec<f32> {
        let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        let mut v: Vec<f32> = (0..DIM)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x % 1000) as f32 / 1000.0 - 0.5
            })
            .collect();
        crate::embed::bert::normalise(&mut v);
        v
    }

    #[test]
    fn training_pulls_questions_towards_their_gold() {
        // Gold articles are rotations of their questions' space: identity
        // ranks the decoy first, the trained head the gold.
        let queries: Vec<Vec<f32>> = (0..40).map(unit).collect();
        let golds: Vec<Vec<f32>> = (100..140).map(unit).collect();
        let decoys: Vec<Vec<f32>> = queries
            .iter()
            .map(|q| {
                let mut d: Vec<f32> = q.iter().zip(unit(999)).map(|(a, b)| a + 0.3 * b).collect();
                crate::embed::bert::normalise(&mut d);
                d
            })
            .collect();
        let examples: Vec<Example<'_>> = (0..40)
            .map(|i| Example {
                query: &queries[i],
                gold: vec![&golds[i]],
                negatives: vec![&decoys[i]],
            })
            .collect();
        let id = Adapter::identity();
        let before = (0..40)
            .filter(|&i| {
                let q = id.apply(&queries[i]);
                crate::embed::dot(&q, &golds[i]) > crate::embed::dot(&q, &decoys[i])
            })
            .count();
        let cfg = AdapterConfig {
            epochs: 8,
            lr: 0.5,
            l2: 0.01,
            temperature: 0.05,
        };
        let a = Adapter::train(&examples, cfg);
        let after = (0..40)
            .filter(|&i| {
                let q = a.apply(&queries[i]);
                crate::embed::dot(&q, &golds[i]) > crate::embed::dot(&q, &decoys[i])
            })
            .count();
        assert_eq!(before, 0);
        assert!(after >= 35, "{after}/40");
        assert_eq!(a, Adapter::train(&examples, cfg));
    }
}
