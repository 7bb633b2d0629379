//! A learned detector of prompt injection: logistic regression over the
//! question's character 1-3-grams, trained with the router on its labelled
//! cases (an `injection` review reason is a positive) plus the first two
//! blind probe lists (`tests/data/triage_probes_fresh{1,2}.tsv`: attacks,
//! out-of-scope requests and ordinary questions, written by annotators who
//! saw no code). It raises `injection` beside the hard rules
//! (`hard_rules.toml`), which keep the tactics a person can read; the
//! detector catches wordings nobody wrote a rule for.
//!
//! Measured once on sets it never trained on (README, Triage): the third
//! blind probe list, held out, injection found 45 -> 65 of 76 with the hard
//! rules, negatives left alone 39 of 45 either way; cross-author, ours ->
//! theirs needs_review recall 0.914 -> 0.943 (the harness trains the
//! detector on the probes and the training author's cases only).
//! Deterministic: fixed epochs, a fixed
//! shuffle, no randomness at run time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The first two blind probe lists (`expected<TAB>kind<TAB>text`).
pub const PROBE_LISTS: [&str; 2] = [
    include_str!("../../tests/data/triage_probes_fresh1.tsv"),
    include_str!("../../tests/data/triage_probes_fresh2.tsv"),
];

/// Probability at which the detector raises `injection` (chosen before the
/// held-out list was scored: the middle of the scale).
pub const THRESHOLD: f32 = 0.5;

const EPOCHS: usize = 30;
const LEARNING_RATE: f32 = 0.2;
const L2: f32 = 1e-4;

/// `(text, expected == label)` from a probe list
/// (`expected<TAB>kind<TAB>text`; `#` lines are comments).
pub fn parse_labelled(text: &str, label: &str) -> Vec<(String, bool)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut p = l.splitn(3, '\t');
            let expected = p.next()?;
            let _kind = p.next()?;
            Some((p.next()?.to_string(), expected == label))
        })
        .collect()
}

/// `(text, is_injection)` from a probe list.
pub fn parse_probes(text: &str) -> Vec<(String, bool)> {
    parse_labelled(text, "injection")
}

/// The built-in probe lists' cases.
pub fn probe_cases() -> Vec<(String, bool)> {
    PROBE_LISTS.iter().flat_map(|t| parse_probes(t)).collect()
}

/// Lower-cased character 1-, 2- and 3-grams, each once, as 64-bit hashes
/// (no string per gram on the request path; `DefaultHasher::new()` has
/// fixed keys, so the same text gives the same features everywhere).
fn grams(text: &str) -> Vec<u64> {
    use std::hash::{Hash, Hasher};
    let chars: Vec<char> = text.to_lowercase().chars().collect();
    let mut out: Vec<u64> = (1..=3)
        .flat_map(|n| chars.windows(n))
        .map(|w| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            w.hash(&mut h);
            h.finish()
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z.clamp(-30.0, 30.0)).exp())
}

/// The trained detector.
#[derive(Debug, Clone, Default)]
pub struct Detector {
    weights: HashMap<u64, f32>,
    bias: f32,
}

impl Detector {
    /// Train on `(text, is_injection)` cases by stochastic gradient descent
    /// with L2, in an order shuffled by a fixed seed.
    pub fn train(cases: &[(String, bool)]) -> Detector {
        let xs: Vec<(Vec<u64>, f32)> = cases
            .iter()
            .map(|(t, y)| (grams(t), if *y { 1.0 } else { 0.0 }))
            .collect();
        let mut order: Vec<usize> = (0..xs.len()).collect();
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut d = Detector::default();
        for _ in 0..EPOCHS {
            // Fisher-Yates with a xorshift generator: the same order on
            // every machine.
            for i in (1..order.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                order.swap(i, (state % (i as u64 + 1)) as usize);
            }
            for &i in &order {
                let (g, y) = &xs[i];
                let p = d.score(g);
                let err = p - y;
                for k in g {
                    let w = d.weights.entry(*k).or_insert(0.0);
                    *w -= LEARNING_RATE * (err + L2 * *w);
                }
                d.bias -= LEARNING_RATE * err;
            }
        }
        d
    }

    fn score(&self, grams: &[u64]) -> f32 {
        let z = self.bias
            + grams
                .iter()
                .filter_map(|k| self.weights.get(k))
                .sum::<f32>();
        sigmoid(z)
    }

    /// The detector for `cases`, trained once per distinct set: the
    /// n-gram and the embedding routers train on the same cases, and so do
    /// the cross-author harness's variants.
    pub fn shared(cases: &[(String, bool)]) -> Arc<Detector> {
        use std::hash::{Hash, Hasher};
        static LAST: Mutex<Option<(u64, Arc<Detector>)>> = Mutex::new(None);
        let mut h = std::collections::hash_map::DefaultHasher::new();
        cases.hash(&mut h);
        let key = h.finish();
        let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((k, d)) = last.as_ref() {
            if *k == key {
                return d.clone();
            }
        }
        let d = Arc::new(Detector::train(cases));
        *last = Some((key, d.clone()));
        d
    }

    /// The probability that `question` is an injection attempt.
    pub fn probability(&self, question: &str) -> f32 {
        self.score(&grams(question))
    }

    /// Whether `question` reaches [`THRESHOLD`].
    pub fn flags(&self, question: &str) -> bool {
        self.probability(question) >= THRESHOLD
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_input_is_scored_without_error() {
        let d = Detector::train(&probe_cases());
        for q in ["", " ", "\u{0}", "a", "😀😀😀", &"长".repeat(20_000)] {
            let p = d.probability(q);
            assert!((0.0..=1.0).contains(&p), "{q:?}: {p}");
        }
        assert!(!d.flags(""), "an empty question is no attack");
    }

    #[test]
    fn probe_lists_parse_into_both_classes() {
        let cases = probe_cases();
        assert!(cases.len() > 250, "{}", cases.len());
        let pos = cases.iter().filter(|(_, y)| *y).count();
        assert!(pos > 100 && pos < cases.len() - 100, "{pos}");
    }

    #[test]
    fn training_is_deterministic_and_learns_the_probes() {
        let cases = probe_cases();
        let (a, b) = (Detector::train(&cases), Detector::train(&cases));
        for (t, _) in cases.iter().take(20) {
            assert_eq!(a.probability(t), b.probability(t));
        }
        let right = cases.iter().filter(|(t, y)| a.flags(t) == *y).count();
        assert!(right * 100 >= cases.len() * 95, "{right}/{}", cases.len());
        let shared = Detector::shared(&cases);
        assert!(
            Arc::ptr_eq(&shared, &Detector::shared(&cases)),
            "trained once"
        );
        for (t, _) in cases.iter().take(20) {
            assert_eq!(shared.probability(t), a.probability(t));
        }
    }
}
