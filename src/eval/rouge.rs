//! ROUGE-L F over jieba tokens, computed the way LawBench scores its
//! generation tasks (1-1, 3-2, 3-8).
//!
//! LawBench (`evaluation/utils/function_utils.py`) joins `jieba.cut(text)`
//! with spaces, replaces an empty hypothesis with `无内容`, and calls
//! `rouge_chinese.Rouge().get_scores`. That library cuts each text into
//! sentences at `。！？?` (and `......`, `……`), collapses whitespace inside
//! each sentence, splits on single spaces and flattens the words of all
//! sentences into one list; ROUGE-L is then the plain LCS over those two word
//! lists (duplicates kept, punctuation tokens kept):
//! `R = lcs/|ref|`, `P = lcs/|hyp|`, `F = 2PR/(P+R+1e-8)`.
//! This module reproduces that, with `jieba-rs` (HMM on, like `jieba.cut`).
//! Checked against the Python reference (jieba 0.42.1, rouge_chinese 1.0.3)
//! on 600 pairs of LawBench 1-1/3-2/3-8 texts: 598 scores identical, 2
//! differ by < 0.001 (jieba-rs and jieba segment a few unknown words
//! differently); the mean differs by 2e-6.

use std::sync::OnceLock;

use jieba_rs::Jieba;
use regex::Regex;

/// The shared jieba segmenter (default dictionary), built once.
pub fn jieba() -> &'static Jieba {
    static J: OnceLock<Jieba> = OnceLock::new();
    J.get_or_init(Jieba::new)
}

/// `jieba.cut(text)` (accurate mode, HMM on): every token, whitespace included.
pub fn jieba_cut(text: &str) -> Vec<&str> {
    jieba()
        .cut(text, true)
        .into_iter()
        .map(|t| t.word)
        .collect()
}

/// rouge_chinese's `cut_sent`: newline after sentence-final punctuation.
fn cut_sent(para: &str) -> Vec<String> {
    static RES: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    let res = RES.get_or_init(|| {
        [
            (r"([。！？\?])([^”’])", "$1\n$2"),
            (r"(\.{6})([^”’])", "$1\n$2"),
            (r"(…{2})([^”’])", "$1\n$2"),
            (r"([。！？\?][”’])([^，。！？\?])", "$1\n$2"),
        ]
        .into_iter()
        .filter_map(|(p, r)| Regex::new(p).ok().map(|re| (re, r)))
        .collect()
    });
    let mut s = para.to_string();
    for (re, rep) in res {
        s = re.replace_all(&s, *rep).into_owned();
    }
    // Python's rstrip() strips all trailing whitespace.
    s.trim_end().split('\n').map(str::to_string).collect()
}

/// The word list rouge_chinese scores for one space-joined text.
fn rouge_words(joined: &str) -> Vec<String> {
    let mut words = Vec::new();
    for sent in cut_sent(joined) {
        if sent.is_empty() {
            continue;
        }
        let norm = sent.split_whitespace().collect::<Vec<_>>().join(" ");
        words.extend(norm.split(' ').map(str::to_string));
    }
    words
}

/// Tokens of `text` exactly as LawBench's ROUGE sees them (jieba, then the
/// rouge_chinese sentence cutting and whitespace handling). An empty or
/// all-blank hypothesis becomes `无内容`, as in LawBench.
pub fn lawbench_tokens(text: &str, is_hypothesis: bool) -> Vec<String> {
    let joined = jieba_cut(text).join(" ");
    if is_hypothesis && joined.trim().is_empty() {
        return vec!["无内容".to_string()];
    }
    rouge_words(&joined)
}

/// Length of the longest common subsequence of two token lists.
pub fn lcs_len<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    if a.is_empty() || b.is_empty() {
        return 0;
    }
    let mut prev = vec![0usize; b.len() + 1];
    let mut cur = vec![0usize; b.len() + 1];
    for x in a {
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = if x == y {
                prev[j] + 1
            } else {
                prev[j + 1].max(cur[j])
            };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// ROUGE-L precision, recall and F of two token lists (rouge_chinese's
/// formula, including its `1e-8` in the F denominator).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RougeL {
    pub p: f64,
    pub r: f64,
    pub f: f64,
}

pub fn rouge_l_tokens<T: PartialEq>(hyp: &[T], reference: &[T]) -> RougeL {
    if hyp.is_empty() || reference.is_empty() {
        return RougeL {
            p: 0.0,
            r: 0.0,
            f: 0.0,
        };
    }
    let l = lcs_len(reference, hyp) as f64;
    let r = l / reference.len() as f64;
    let p = l / hyp.len() as f64;
    let f = 2.0 * (p * r) / (p + r + 1e-8);
    RougeL { p, r, f }
}

/// LawBench's per-item score: ROUGE-L F of `prediction` against `reference`.
/// An empty reference scores 0 (rouge_chinese would raise).
pub fn lawbench_rouge_l(prediction: &str, reference: &str) -> f64 {
    let hyp = lawbench_tokens(prediction, true);
    let reference = lawbench_tokens(reference, false);
    rouge_l_tokens(&hyp, &reference).f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lcs_known_values() {
        assert_eq!(lcs_len(&["a", "b", "c", "d"], &["a", "c", "d", "e"]), 3);
        assert_eq!(lcs_len::<&str>(&[], &["a"]), 0);
        assert_eq!(lcs_len(&["x"], &["y"]), 0);
    }

    #[test]
    fn rouge_l_by_hand() {
        // ref = a b c d e (5), hyp = a c e f (4): LCS = a c e = 3.
        // R = 3/5 = 0.6, P = 3/4 = 0.75, F = 2*0.45/1.35 = 0.6667 (minus 1e-8 effect).
        let s = rouge_l_tokens(&["a", "c", "e", "f"], &["a", "b", "c", "d", "e"]);
        assert!((s.r - 0.6).abs() < 1e-12);
        assert!((s.p - 0.75).abs() < 1e-12);
        assert!((s.f - 2.0 / 3.0).abs() < 1e-7);
    }

    #[test]
    fn sentence_cutting_matches_rouge_chinese() {
        assert_eq!(cut_sent("甲 。 乙 ？ 丙"), vec!["甲 。", " 乙 ？", " 丙"]);
        assert_eq!(
            rouge_words("甲 。 乙 ？ 丙"),
            vec!["甲", "。", "乙", "？", "丙"]
        );
    }

    #[test]
    fn identical_text_scores_one_and_empty_hypothesis_is_wu_neirong() {
        let t = "劳动者可以解除劳动合同。";
        assert!((lawbench_rouge_l(t, t) - 1.0).abs() < 1e-7);
        assert_eq!(lawbench_tokens("  ", true), vec!["无内容"]);
        assert_eq!(lawbench_rouge_l("", t), 0.0);
    }

    #[test]
    fn matches_lawbench_reference_values() {
        // Reference: LawBench's compute_rouge (python jieba 0.42 + rouge_chinese 1.0.3).
        // hyp: 劳动者|提前|三十日|以|书面形式|通知|用人单位|，|可以|解除|劳动合同|。 (12 tokens)
        // ref: 劳动者|可以|提前|三十日|通知|用人单位|解除|劳动合同|。 (9 tokens)
        // LCS = 劳动者 提前 三十日 通知 用人单位 解除 劳动合同 。 = 8
        // R = 8/9, P = 8/12, F = 2PR/(P+R+1e-8) = 0.7619047570068028
        let f = lawbench_rouge_l(
            "劳动者提前三十日以书面形式通知用人单位，可以解除劳动合同。",
            "劳动者可以提前三十日通知用人单位解除劳动合同。",
        );
        assert!((f - 0.7619047570068028).abs() < 1e-9, "{f}");
        // Python gives 0.5833333285503473 (29 vs 19 tokens, LCS 14).
        let f = lawbench_rouge_l(
            "根据《民法典》第一千零七十九条，夫妻一方要求离婚的，可以由有关组织进行调解或者直接向人民法院提起离婚诉讼。",
            "根据民法典第1079条的规定，夫妻一方要求离婚的，可以向法院起诉。",
        );
        assert!((f - 0.5833333285503473).abs() < 1e-9, "{f}");
    }
}
