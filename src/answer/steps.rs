//! The 建议 (next steps) block, built only from verified parts: the triaged
//! service and its reasons, the legal-aid assessment (Legal Aid Law), the
//! referral directory (`corpus/directory.toml`) and the time limits triage
//! recognised. No model output goes in, so it is right by construction as far
//! as those parts are, and identical between runs.

use serde::{Deserialize, Serialize};

use crate::triage::{ReviewReason, Service, Triage};

/// One next step: a short heading and its lines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// `办理途径`, `去哪里办`, `怎么办、带什么`, `时限`, `法律援助`, `电话`, ...
    pub title: String,
    pub lines: Vec<String>,
}

/// Most places listed under 去哪里办.
const MAX_PLACES: usize = 3;

/// Whether a line is about a time limit.
fn is_time_limit(s: &str) -> bool {
    ["时效", "期限", "日内", "日起", "天内", "年内", "个月内"]
        .iter()
        .any(|w| s.contains(w))
}

/// Triage's reason for a route, in the words a citizen reads: without the
/// service name in front (the step says it), a quoted phrase of the question
/// introduced as what they said, and the statistical voter's internals left
/// out.
pub fn citizen_reason(line: &str, service: Service) -> Option<String> {
    if line.starts_with("需人工审核") || line.contains("规则把握不大") {
        return None;
    }
    let mut s = line.trim();
    for svc in Service::ALL {
        if let Some(rest) = s.strip_prefix(&format!("{}：", svc.name_zh())) {
            if rest.starts_with("默认") {
                return None;
            }
            if svc != service {
                // A reason for another suggested service.
                return Some(format!("也可以考虑“{}”：{}", svc.name_zh(), quoted(rest)));
            }
            s = rest;
            break;
        }
    }
    if s.starts_with("默认") {
        return None;
    }
    Some(quoted(s))
}

/// `“拖欠工资”：劳动争议…` -> `您提到“拖欠工资”，劳动争议…`.
fn quoted(s: &str) -> String {
    if s.starts_with('“') {
        if let Some(end) = s.find("”：") {
            let said = &s[..end + "”".len()];
            let rest = &s[end + "”：".len()..];
            return format!("您提到{said}，{rest}");
        }
    }
    s.to_string()
}

/// What triage said needs attention for `reason` (the text after its
/// `需人工审核（id）：` prefix), if it flagged it.
fn review_text(t: &Triage, reason: ReviewReason) -> Option<String> {
    let prefix = format!("需人工审核（{}）：", reason.id());
    t.why
        .iter()
        .find_map(|w| w.strip_prefix(&prefix).map(str::to_string))
}

/// The next steps for a triaged case.
pub fn next_steps(t: &Triage) -> Vec<Step> {
    let r = &t.referral;
    let service = t.primary_service;
    let mut steps = Vec::new();

    let mut route = vec![format!("建议选择“{}”。", service.name_zh())];
    route.extend(
        t.why
            .iter()
            .filter_map(|w| citizen_reason(w, service))
            .take(3),
    );
    steps.push(Step {
        title: "办理途径".into(),
        lines: route,
    });

    if t.services.contains(&Service::Emergency) && service != Service::Emergency {
        steps.push(Step {
            title: "先保安全".into(),
            lines: vec!["人身安全受到威胁时，请立即拨打110报警；受伤拨打120。".into()],
        });
    }

    let places: Vec<String> = r.where_to_go.iter().take(MAX_PLACES).cloned().collect();
    if !places.is_empty() {
        steps.push(Step {
            title: "去哪里办".into(),
            lines: places,
        });
    }

    let mut how: Vec<String> = r
        .how
        .iter()
        .filter(|h| !is_time_limit(h))
        .cloned()
        .collect();
    if t.legal_aid.may_qualify {
        for b in &t.legal_aid.what_to_bring {
            if !how.contains(b) {
                how.push(format!("申请法律援助需带：{b}"));
            }
        }
    }
    if !how.is_empty() {
        steps.push(Step {
            title: "怎么办、带什么".into(),
            lines: how,
        });
    }

    let mut limits: Vec<String> = Vec::new();
    if let Some(d) = review_text(t, ReviewReason::Deadline) {
        limits.push(format!("{d}。"));
    }
    limits.extend(r.how.iter().filter(|h| is_time_limit(h)).cloned());
    if !limits.is_empty() {
        limits.push("期限过了可能失去权利，请尽早办理。".into());
        steps.push(Step {
            title: "时限".into(),
            lines: limits,
        });
    }

    if t.legal_aid.may_qualify {
        let arts: Vec<String> = t
            .legal_aid
            .basis
            .iter()
            .map(|a| format!("第{}条", a.article))
            .collect();
        let mut line = "您可能符合法律援助条件".to_string();
        if !arts.is_empty() {
            line.push_str(&format!(
                "（《中华人民共和国法律援助法》{}）",
                arts.join("、")
            ));
        }
        line.push_str(if t.legal_aid.economic_review_exempt {
            "，且不受经济困难条件的限制"
        } else {
            ""
        });
        line.push_str("；是否符合由法律援助机构审查决定。");
        steps.push(Step {
            title: "法律援助".into(),
            lines: vec![line],
        });
    }

    let mut phones = r.phones.clone();
    if !phones.iter().any(|p| p.starts_with("12348")) {
        phones.push("12348（公共法律服务热线）".into());
    }
    steps.push(Step {
        title: "电话".into(),
        lines: vec![phones.join("；")],
    });
    steps
}

/// The 建议 block as text.
pub fn render(steps: &[Step]) -> String {
    let mut s = String::from("建议：\n");
    for (i, step) in steps.iter().enumerate() {
        s.push_str(&format!(
            "{}. {}：{}\n",
            i + 1,
            step.title,
            step.lines.join(" ")
        ));
    }
    s.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::Directory;

    #[test]
    fn reasons_read_as_plain_words() {
        assert_eq!(
            citizen_reason(
                "向人民法院起诉：“借钱”：借款纠纷，可起诉要求返还（诉讼时效三年）",
                Service::Litigation
            )
            .as_deref(),
            Some("您提到“借钱”，借款纠纷，可起诉要求返还（诉讼时效三年）")
        );
        assert_eq!(
            citizen_reason("需人工审核（deadline）：期限只剩约3天", Service::Litigation),
            None
        );
        for service in [Service::Consultation, Service::Arbitration] {
            assert_eq!(
                citizen_reason("咨询即可：默认：先提供法律咨询", service),
                None
            );
        }
    }

    #[test]
    fn steps_come_from_triage_and_directory_and_repeat_exactly() {
        let d = Directory::builtin();
        let q = "我在鄂州一家厂里做了三年，老板突然说不要我了，一分钱补偿都不给，还欠我两个月工资，我该么样办？";
        let t = crate::triage::triage_in_year(q, &[], &d, 2026);
        let a = render(&next_steps(&t));
        let b = render(&next_steps(&crate::triage::triage_in_year(
            q,
            &[],
            &d,
            2026,
        )));
        assert_eq!(a, b);
        assert!(a.starts_with("建议：\n1. 办理途径：建议选择“"), "{a}");
        assert!(a.contains(t.primary_service.name_zh()), "{a}");
        assert!(a.contains("12348"), "{a}");
        // Everything named as a place comes from the directory.
        for p in t.referral.where_to_go.iter().take(MAX_PLACES) {
            assert!(a.contains(p.as_str()), "{p}");
        }
        if t.primary_service == Service::Arbitration {
            assert!(a.contains("时限：") && a.contains("一年"), "{a}");
        }
    }
}
