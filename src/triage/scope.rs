//! A learned out-of-scope detector: logistic regression over the question's
//! sentence embedding (multilingual-e5-small), trained with the router on
//! its labelled cases (an `out_of_scope` review reason is a positive) plus
//! the first two blind probe lists (their `out_of_scope` probes positive,
//! their attacks and ordinary questions negative).
//!
//! Out of scope is a matter of meaning (a recipe, a stock tip, another
//! country's law), which the hard rules (`hard_rules.toml`) can only list
//! word by word; the detector raises `out_of_scope` beside them for requests
//! nobody wrote a rule for. It only adds the reason: a rule that says "this
//! is in scope" (a question about the service itself) still clears it, and
//! the route stays the router's.
//!
//! The embedding is centred on the training questions' mean and scaled to
//! length 2 (the router's [`super::router::Blocks::embed_scale`]: e5
//! vectors lie in a narrow cone). Full-batch gradient descent, classes
//! weighted to balance: deterministic, no randomness at run time.

/// Probability at which the detector raises `out_of_scope` (chosen before
/// any held-out list was scored: the middle of the scale).
pub const THRESHOLD: f32 = 0.5;

const EPOCHS: usize = 300;
const LEARNING_RATE: f32 = 0.5;
const L2: f32 = 1e-3;
/// Length of the centred embedding.
const SCALE: f32 = 2.0;

/// `(text, is_out_of_scope)` from a probe list (`expected<TAB>kind<TAB>text`).
pub fn parse_probes(text: &str) -> Vec<(String, bool)> {
    super::injection::parse_labelled(text, "out_of_scope")
}

/// The built-in probe lists' cases (the injection detector's lists).
pub fn probe_cases() -> Vec<(String, bool)> {
    super::injection::PROBE_LISTS
        .iter()
        .flat_map(|t| parse_probes(t))
        .collect()
}

/// The trained detector.
#[derive(Debug, Clone, Default)]
pub struct Detector {
    centre: Vec<f32>,
    weights: Vec<f32>,
    bias: f32,
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z.clamp(-30.0, 30.0)).exp())
}

impl Detector {
    /// Train on `(embedding, is_out_of_scope)`; `None` when there is
    /// nothing to learn (no vectors of one length, or one class missing).
    pub fn train(cases: &[(&[f32], bool)]) -> Option<Detector> {
        let dim = cases.first()?.0.len();
        let cases: Vec<&(&[f32], bool)> = cases
            .iter()
            .filter(|c| c.0.len() == dim && dim > 0)
            .collect();
        let pos = cases.iter().filter(|c| c.1).count();
        let neg = cases.len() - pos;
        if pos == 0 || neg == 0 {
            return None;
        }
        let n = cases.len() as f32;
        let mut centre = vec![0.0f32; dim];
        for (v, _) in &cases {
            for (c, x) in centre.iter_mut().zip(v.iter()) {
                *c += x / n;
            }
        }
        let mut d = Detector {
            centre,
            weights: vec![0.0; dim],
            bias: 0.0,
        };
        let xs: Vec<(Vec<f32>, f32, f32)> = cases
            .iter()
            .map(|(v, y)| {
                let w = if *y {
                    n / (2.0 * pos as f32)
                } else {
                    n / (2.0 * neg as f32)
                };
                (d.scaled(v), f32::from(u8::from(*y)), w)
            })
            .collect();
        for _ in 0..EPOCHS {
            let mut gw = vec![0.0f32; dim];
            let mut gb = 0.0f32;
            for (x, y, w) in &xs {
                let g = w * (d.raw(x) - y);
                for (a, b) in gw.iter_mut().zip(x) {
                    *a += g * b;
                }
                gb += g;
            }
            for (wj, g) in d.weights.iter_mut().zip(&gw) {
                *wj -= LEARNING_RATE * (g / n + L2 * *wj);
            }
            d.bias -= LEARNING_RATE * gb / n;
        }
        Some(d)
    }

    /// The embedding centred and at length [`SCALE`].
    fn scaled(&self, v: &[f32]) -> Vec<f32> {
        let c: Vec<f32> = v.iter().zip(&self.centre).map(|(a, b)| a - b).collect();
        let norm = c.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-9);
        c.iter().map(|x| x * SCALE / norm).collect()
    }

    fn raw(&self, x: &[f32]) -> f32 {
        sigmoid(self.bias + x.iter().zip(&self.weights).map(|(a, b)| a * b).sum::<f32>())
    }

    /// The probability that the question behind `embedding` is out of
    /// scope (0 for a vector of another length).
    pub fn probability(&self, embedding: &[f32]) -> f32 {
        if embedding.len() != self.centre.len() || embedding.is_empty() {
            return 0.0;
        }
        self.raw(&self.scaled(embedding))
    }

    /// Whether it reaches [`THRESHOLD`].
    pub fn flags(&self, embedding: &[f32]) -> bool {
        self.probability(embedding) >= THRESHOLD
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    #[test]
    fn it_learns_a_direction_and_refuses_what_it_cannot_learn() {
        let vs: Vec<(Vec<f32>, bool)> = (0..20)
            .map(|i| {
                let t = i as f32 / 20.0;
                if i % 2 == 0 {
                    (unit(&[1.0, t, 0.2]), true)
                } else {
                    (unit(&[t, 1.0, 0.2]), false)
                }
            })
            .collect();
        let cases: Vec<(&[f32], bool)> = vs.iter().map(|(v, y)| (v.as_slice(), *y)).collect();
        let d = Detector::train(&cases).expect("two classes");
        assert!(d.flags(&unit(&[1.0, 0.1, 0.2])));
        assert!(!d.flags(&unit(&[0.1, 1.0, 0.2])));
        assert_eq!(Detector::train(&cases).expect("again").weights, d.weights);
        // Odd input: another length, zeros, nothing.
        assert_eq!(d.probability(&[1.0, 0.0]), 0.0);
        assert_eq!(d.probability(&[]), 0.0);
        let p = d.probability(&[0.0, 0.0, 0.0]);
        assert!((0.0..=1.0).contains(&p));
        let one_class: Vec<(&[f32], bool)> = cases.iter().map(|(v, _)| (*v, true)).collect();
        assert!(Detector::train(&one_class).is_none());
        assert!(Detector::train(&[]).is_none());
    }

    #[test]
    fn probe_lists_hold_out_of_scope_probes() {
        let cases = probe_cases();
        let pos = cases.iter().filter(|(_, y)| *y).count();
        assert!(
            pos >= 40 && pos < cases.len() / 2,
            "{pos} of {}",
            cases.len()
        );
    }
}
