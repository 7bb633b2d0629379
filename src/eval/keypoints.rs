//! Key-point coverage: does an answer say what a labelled key point says?
//!
//! Exact substring match fails on Chinese paraphrase ("可起诉要求还款" vs
//! "可以向法院提起诉讼，要求对方还款"). Instead:
//! 1. the key point is cut into jieba tokens; punctuation and stop words
//!    (function words, modal verbs like 可/可以/应当) are dropped, leaving its
//!    content tokens;
//! 2. a content token is matched in an answer passage with weight 1 when the
//!    passage contains it (so segmentation differences do not matter:
//!    "起诉" is found in "提起诉讼"), else with the share of its character
//!    bigrams the passage contains (partial credit for longer terms,
//!    "诉讼时效" vs "时效");
//! 3. the key point's score in a passage is the weighted share of its content
//!    tokens matched; passages are single sentences and pairs of adjacent
//!    sentences (a point may span a sentence break);
//! 4. a key point is covered when its best passage score reaches
//!    [`THRESHOLD`]. A case's coverage is covered / total key points.

use super::rouge::jieba_cut;

/// Minimum content-token recall for a key point to count as covered.
pub const THRESHOLD: f64 = 0.6;

const STOP: &[&str] = &[
    "的", "了", "和", "与", "及", "或", "或者", "是", "在", "对", "向", "被", "把", "将", "由",
    "为", "以", "于", "从", "等", "并", "且", "而", "也", "都", "就", "还", "又", "可", "可以",
    "能", "能够", "应", "应当", "应该", "需", "需要", "要", "会", "有", "没有", "无", "不", "其",
    "之", "该", "此", "这", "那", "这个", "一个", "如", "如果", "若", "则", "即", "但", "但是",
    "所", "给", "让", "使", "你", "您", "我", "他", "她", "它", "我们", "他们", "自己", "吗", "呢",
    "吧", "啊", "着", "过", "地", "得", "上", "下", "中", "内", "时", "后", "前",
];

fn is_punct_or_space(token: &str) -> bool {
    token.chars().all(|c| !c.is_alphanumeric())
}

/// Content tokens of a key point (deduplicated, in order).
pub fn content_tokens(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in jieba_cut(text) {
        let t = t.trim();
        if t.is_empty() || is_punct_or_space(t) || STOP.contains(&t) {
            continue;
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    out
}

fn bigrams(s: &str) -> Vec<String> {
    let cs: Vec<char> = s.chars().collect();
    cs.windows(2).map(|w| w.iter().collect()).collect()
}

/// How much of `token` a passage contains: 1 for containment, else the share
/// of its character bigrams present (0 for one- and two-character tokens).
fn token_match(token: &str, passage: &str) -> f64 {
    if passage.contains(token) {
        return 1.0;
    }
    let bg = bigrams(token);
    if bg.len() < 2 {
        return 0.0;
    }
    bg.iter().filter(|b| passage.contains(b.as_str())).count() as f64 / bg.len() as f64
}

/// Sentences of an answer (split at 。！？；!?; and line breaks).
pub fn sentences(answer: &str) -> Vec<String> {
    crate::answer::hold::sentences(answer)
        .map(str::to_string)
        .collect()
}

/// Best score of one key point over the passages of an answer (0..=1).
pub fn key_point_score(key_point: &str, answer: &str) -> f64 {
    let tokens = content_tokens(key_point);
    if tokens.is_empty() {
        return 0.0;
    }
    let sents = sentences(answer);
    let mut passages: Vec<String> = sents.clone();
    passages.extend(sents.windows(2).map(|w| format!("{}。{}", w[0], w[1])));
    passages
        .iter()
        .map(|p| tokens.iter().map(|t| token_match(t, p)).sum::<f64>() / tokens.len() as f64)
        .fold(0.0, f64::max)
}

/// Whether each key point is covered by the answer.
pub fn covered(key_points: &[String], answer: &str) -> Vec<bool> {
    key_points
        .iter()
        .map(|k| key_point_score(k, answer) >= THRESHOLD)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paraphrase_is_covered_unrelated_is_not() {
        let answer = "您可以向人民法院提起诉讼，要求对方返还借款。微信转账记录可以作为证据使用。";
        assert!(key_point_score("转账记录可作证据", answer) >= THRESHOLD);
        assert!(key_point_score("可起诉要求还款", answer) >= THRESHOLD);
        assert!(key_point_score("可申请劳动仲裁", answer) < THRESHOLD);
        assert_eq!(
            covered(&["注意保留聊天记录".to_string()], answer),
            vec![false]
        );
    }

    #[test]
    fn stop_words_and_punctuation_are_not_content() {
        let t = content_tokens("可以申请法律援助。");
        assert!(!t.iter().any(|x| x == "可以" || x == "。"), "{t:?}");
        assert!(t.iter().any(|x| x.contains("援助")), "{t:?}");
        assert_eq!(key_point_score("，。", "任何回答"), 0.0);
    }
}
