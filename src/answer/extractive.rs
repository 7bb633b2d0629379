//! The extractive answer used when the model is missing, fails, times out or
//! says nothing usable: the top articles quoted, plus the referral.

use crate::search::Hit;
use crate::triage::Triage;

use super::prompt::{cite_label, cut};

/// Build the 结论 / 依据 / 建议 text from `hits` (at most `n`).
pub fn answer(hits: &[Hit], triage: &Triage, n: usize) -> String {
    let mut s = String::new();
    if hits.is_empty() {
        s.push_str(
            "结论：没有检索到与您的问题直接相关的法律条文，现有资料不足以回答这个问题。\n\n",
        );
    } else {
        s.push_str("结论：系统未能生成完整解答，以下是与您的问题最相关的法律条文摘录，供您参考；具体情况请以工作人员的解答为准。\n\n依据：\n");
        for (i, h) in hits.iter().take(n).enumerate() {
            s.push_str(&format!(
                "{}. {}：{}\n",
                i + 1,
                cite_label(h),
                cut(h.text.trim(), 200)
            ));
        }
        s.push('\n');
    }
    s.push_str("建议：");
    let r = &triage.referral;
    if !r.service_name.is_empty() {
        s.push_str(&format!("建议选择“{}”。", r.service_name));
    }
    if let Some(w) = r.where_to_go.first() {
        s.push_str(&format!("可前往{w}。"));
    }
    s.push_str("也可以拨打12348公共法律服务热线咨询。");
    s
}
