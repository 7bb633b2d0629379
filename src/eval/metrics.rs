//! Pure metric functions over gold labels and predictions. No I/O, no model:
//! each takes plain slices and returns a number (or a table) so it can be
//! tested on hand-made inputs.
//!
//! Conventions: a ratio whose denominator is zero is 0 (nothing to measure
//! counts as nothing achieved; the run's `meta` says how many cases each
//! metric was measured on).

use std::collections::{BTreeMap, BTreeSet};

/// `num / den`, 0 when `den` is 0.
pub fn ratio(num: f64, den: f64) -> f64 {
    if den > 0.0 {
        num / den
    } else {
        0.0
    }
}

/// Mean of a sample, 0 when empty.
pub fn mean(xs: &[f64]) -> f64 {
    ratio(xs.iter().sum(), xs.len() as f64)
}

/// Nearest-rank percentile (0..=100), 0 for an empty sample.
pub fn percentile(samples: &[f64], p: f64) -> f64 {
    crate::bench::percentile(samples, p)
}

/// 1 when any gold item is among the first `k` ranked items, else 0.
pub fn hit_at_k<T: PartialEq>(gold: &[T], ranked: &[T], k: usize) -> f64 {
    if ranked.iter().take(k).any(|r| gold.contains(r)) {
        1.0
    } else {
        0.0
    }
}

/// Share of the (distinct) gold items found among the first `k` ranked items.
pub fn recall_at_k<T: PartialEq>(gold: &[T], ranked: &[T], k: usize) -> f64 {
    let mut distinct: Vec<&T> = Vec::new();
    for g in gold {
        if !distinct.contains(&g) {
            distinct.push(g);
        }
    }
    let top = &ranked[..ranked.len().min(k)];
    let found = distinct.iter().filter(|g| top.contains(g)).count();
    ratio(found as f64, distinct.len() as f64)
}

/// 1 / rank of the first gold item in `ranked` (1-based), 0 when none is there.
pub fn reciprocal_rank<T: PartialEq>(gold: &[T], ranked: &[T]) -> f64 {
    ranked
        .iter()
        .position(|r| gold.contains(r))
        .map(|i| 1.0 / (i as f64 + 1.0))
        .unwrap_or(0.0)
}

/// 1-based rank of the first gold item, if any.
pub fn first_rank<T: PartialEq>(gold: &[T], ranked: &[T]) -> Option<usize> {
    ranked.iter().position(|r| gold.contains(r)).map(|i| i + 1)
}

/// Share of `(gold, predicted)` pairs that agree.
pub fn accuracy<T: PartialEq>(pairs: &[(T, T)]) -> f64 {
    ratio(
        pairs.iter().filter(|(g, p)| g == p).count() as f64,
        pairs.len() as f64,
    )
}

/// Per-label precision, recall and F1 of single-label predictions.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct LabelScore {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Gold count of this label.
    pub support: usize,
}

/// Precision/recall/F1 of every label that occurs as gold or as prediction.
pub fn per_label<T: Ord + Clone>(pairs: &[(T, T)]) -> BTreeMap<T, LabelScore> {
    let labels: BTreeSet<T> = pairs
        .iter()
        .flat_map(|(g, p)| [g.clone(), p.clone()])
        .collect();
    labels
        .into_iter()
        .map(|l| {
            let tp = pairs.iter().filter(|(g, p)| *g == l && *p == l).count() as f64;
            let pred = pairs.iter().filter(|(_, p)| *p == l).count() as f64;
            let support = pairs.iter().filter(|(g, _)| *g == l).count();
            let precision = ratio(tp, pred);
            let recall = ratio(tp, support as f64);
            let f1 = ratio(2.0 * precision * recall, precision + recall);
            (
                l,
                LabelScore {
                    precision,
                    recall,
                    f1,
                    support,
                },
            )
        })
        .collect()
}

/// Macro-averaged F1 over every label that occurs as gold or as prediction
/// (a label only ever predicted, never gold, counts with F1 = 0).
pub fn macro_f1<T: Ord + Clone>(pairs: &[(T, T)]) -> f64 {
    let scores = per_label(pairs);
    mean(&scores.values().map(|s| s.f1).collect::<Vec<_>>())
}

/// Confusion table: `gold -> predicted -> count`.
pub fn confusion<T: Ord + Clone>(pairs: &[(T, T)]) -> BTreeMap<T, BTreeMap<T, usize>> {
    let mut m: BTreeMap<T, BTreeMap<T, usize>> = BTreeMap::new();
    for (g, p) in pairs {
        *m.entry(g.clone())
            .or_default()
            .entry(p.clone())
            .or_default() += 1;
    }
    m
}

/// Mean over cases of the share of gold services that were suggested
/// (cases without gold services are skipped).
pub fn set_recall<T: PartialEq>(cases: &[(Vec<T>, Vec<T>)]) -> f64 {
    let per: Vec<f64> = cases
        .iter()
        .filter(|(g, _)| !g.is_empty())
        .map(|(g, p)| recall_at_k(g, p, usize::MAX))
        .collect();
    mean(&per)
}

/// Precision and recall of a binary flag over `(gold, predicted)` pairs.
pub fn precision_recall(pairs: &[(bool, bool)]) -> (f64, f64) {
    let tp = pairs.iter().filter(|(g, p)| *g && *p).count() as f64;
    let pred = pairs.iter().filter(|(_, p)| *p).count() as f64;
    let gold = pairs.iter().filter(|(g, _)| *g).count() as f64;
    (ratio(tp, pred), ratio(tp, gold))
}

/// For each label that occurs in some gold set: the share of those cases
/// whose predicted set contains it.
pub fn per_label_recall<T: Ord + Clone>(cases: &[(Vec<T>, Vec<T>)]) -> BTreeMap<T, f64> {
    let mut counts: BTreeMap<T, (usize, usize)> = BTreeMap::new();
    for (gold, pred) in cases {
        let distinct: BTreeSet<&T> = gold.iter().collect();
        for g in distinct {
            let e = counts.entry(g.clone()).or_default();
            e.0 += 1;
            if pred.contains(g) {
                e.1 += 1;
            }
        }
    }
    counts
        .into_iter()
        .map(|(l, (n, hit))| (l, ratio(hit as f64, n as f64)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hit_recall_mrr_by_hand() {
        let gold = ["a", "b"];
        let ranked = ["x", "b", "y", "a"];
        assert_eq!(hit_at_k(&gold, &ranked, 1), 0.0);
        assert_eq!(hit_at_k(&gold, &ranked, 2), 1.0);
        assert_eq!(recall_at_k(&gold, &ranked, 2), 0.5);
        assert_eq!(recall_at_k(&gold, &ranked, 10), 1.0);
        assert_eq!(reciprocal_rank(&gold, &ranked), 0.5);
        assert_eq!(first_rank(&gold, &ranked), Some(2));
        assert_eq!(reciprocal_rank(&gold, &["z"]), 0.0);
        // Duplicate gold entries count once.
        assert_eq!(recall_at_k(&["a", "a"], &["a"], 1), 1.0);
    }

    #[test]
    fn macro_f1_by_hand() {
        // gold/pred: (A,A) (A,B) (B,B) (C,B)
        // A: tp1 pred1 gold2 -> P1 R.5 F .6667
        // B: tp1 pred3 gold1 -> P.3333 R1 F .5
        // C: tp0 pred0 gold1 -> F 0
        // macro = (0.6667+0.5+0)/3 = 0.3889
        let pairs = [("A", "A"), ("A", "B"), ("B", "B"), ("C", "B")];
        assert!((macro_f1(&pairs) - (2.0 / 3.0 + 0.5) / 3.0).abs() < 1e-12);
        assert_eq!(accuracy(&pairs), 0.5);
        let c = confusion(&pairs);
        assert_eq!(c["A"]["B"], 1);
        assert_eq!(c["C"]["B"], 1);
    }

    #[test]
    fn binary_and_set_metrics_by_hand() {
        // tp=1 (row 1), fp=1 (row 2), fn=2 (rows 3, 4)
        let pairs = [(true, true), (false, true), (true, false), (true, false)];
        assert_eq!(precision_recall(&pairs), (0.5, 1.0 / 3.0));
        assert_eq!(precision_recall(&[]), (0.0, 0.0));
        let cases = vec![
            (vec!["x", "y"], vec!["x"]),
            (vec!["y"], vec!["y", "z"]),
            (vec![], vec!["q"]),
        ];
        assert!((set_recall(&cases) - 0.75).abs() < 1e-12);
        let r = per_label_recall(&cases);
        assert_eq!(r["x"], 1.0);
        assert_eq!(r["y"], 0.5);
        assert!(!r.contains_key("z"));
    }

    #[test]
    fn percentiles_and_empty_inputs() {
        assert_eq!(percentile(&[10.0, 20.0, 30.0, 40.0], 50.0), 20.0);
        assert_eq!(percentile(&[], 95.0), 0.0);
        assert_eq!(mean(&[]), 0.0);
        assert_eq!(accuracy::<u8>(&[]), 0.0);
        assert_eq!(macro_f1::<u8>(&[]), 0.0);
    }
}
