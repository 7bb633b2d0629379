//! The extractive answer used when the model is missing, fails, times out or
//! says nothing usable: the top articles quoted, plus the referral.

use crate::search::Hit;

use super::prompt::{cite_label, excerpt};

/// Why the answer is extractive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// The service runs without a model (`--no-llm`): by design, it quotes
    /// and does not conclude.
    NoModel,
    /// The model failed, timed out or wrote nothing usable.
    DraftFailed,
}

/// Build the 结论 / 依据 text from `hits` (at most `n`), then `steps` (the
/// rendered 建议 block).
pub fn answer(hits: &[Hit], steps: &str, n: usize, why: Why) -> String {
    let mut s = String::new();
    if hits.is_empty() {
        s.push_str(
            "结论：没有检索到与您的问题直接相关的法律条文，现有资料不足以回答这个问题。\n\n",
        );
    } else {
        s.push_str(match why {
            Why::NoModel => "结论：这里不对您的具体情况下结论，只摘录与您的问题最相关的法律条文原文，供您参考；具体情况请以工作人员的解答为准。\n\n依据：\n",
            Why::DraftFailed => "结论：系统未能生成完整解答，以下是与您的问题最相关的法律条文摘录，供您参考；具体情况请以工作人员的解答为准。\n\n依据：\n",
        });
        s.push_str(&quote(hits, n));
        s.push('\n');
    }
    s.push_str(steps);
    s
}

/// The first `n` of `hits` as a numbered list of excerpts, one per line.
pub fn quote(hits: &[Hit], n: usize) -> String {
    hits.iter()
        .take(n)
        .enumerate()
        .map(|(i, h)| {
            format!(
                "{}. {}：{}\n",
                i + 1,
                cite_label(h),
                excerpt(h.text.trim(), 200)
            )
        })
        .collect()
}
