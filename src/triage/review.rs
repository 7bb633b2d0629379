//! Human-review flags: which cases a person must see, and why.
//!
//! Owns the triage-time reasons (criminal, safety, minor, aid_eligibility,
//! complaint, out_of_scope, injection, complex, deadline). The pipeline
//! reasons (low_confidence, citation_removed, fallback_used) are added by `ask`.

use super::facts::{Facts, Found};
use super::{LegalAidHint, ReviewReason};

/// Review reasons for a case, each with a short explanation.
pub fn reasons(f: &Facts, aid: &LegalAidHint) -> Vec<(ReviewReason, String)> {
    use ReviewReason::*;
    let mut out: Vec<(ReviewReason, String)> = Vec::new();
    let q = |w: &str| format!("“{w}”");

    if let Some(w) = f.injection {
        out.push((
            Injection,
            format!(
                "{}：试图改变助手规则或套取系统提示，只回答其中的法律问题",
                q(w)
            ),
        ));
    }
    if let Some(w) = f.out_of_scope.or(f.foreign_law) {
        out.push((OutOfScope, format!("{}：不属于中国法律咨询范围", q(w))));
    }

    let criminal = f
        .fraud_now
        .or(f.missing_person.filter(|_| f.child.is_some()))
        .or(f.detained)
        .or(f.police_inaction)
        .or(f.crime)
        .or(f.assaulted.filter(|_| f.domestic_violence.is_none()))
        .or(f
            .threat
            .or(f.imminent)
            .filter(|_| f.loan.is_some() || debt_collector(f)));
    if let Some(w) = criminal {
        out.push((
            Criminal,
            format!("{}：可能涉及刑事犯罪或公安机关处理", q(w)),
        ));
    }

    let safety = f
        .imminent
        .or(f.suicide)
        .or(f.domestic_violence)
        .or(f.threat)
        .or(f.child_abuse)
        .or(f.missing_person);
    if let Some(w) = safety {
        out.push((Safety, format!("{}：人身安全风险", q(w))));
    }

    let child_present = f.child.is_some() || f.minor_age.is_some();
    let minor = f
        .child_work
        .or(f.child_abuse)
        .or(f.child_harmed)
        .or(f.paternity.filter(|_| child_present))
        .or(f.detained.filter(|_| f.minor_age.is_some()))
        .or(safety.filter(|_| child_present))
        .or(minor_party(f));
    if let Some(w) = minor {
        out.push((Minor, format!("{}：涉及未成年人权益，需特别保护", q(w))));
    }

    if super::legal_aid::needs_eligibility_review(f, aid) {
        out.push((
            AidEligibility,
            "可能符合法律援助条件，是否给予由法律援助机构审查决定".to_string(),
        ));
    }

    let complaint = f
        .aid_refused
        .filter(|_| f.aid_words.is_some())
        .or(f.aid_lawyer_complaint)
        .or(f.notary_error)
        .or(f.official_complaint);
    if let Some(w) = complaint {
        out.push((
            Complaint,
            format!("{}：对机关、法律服务机构或其人员的投诉、异议", q(w)),
        ));
    }

    let mut complex: Vec<String> = Vec::new();
    if let Some(g) = &f.group {
        complex.push(format!("多人纠纷（{g}）"));
    }
    if f.medical.is_some() {
        complex.push("医疗损害责任，专业性强".to_string());
    }
    if let Some(w) = f.overseas {
        complex.push(format!("涉外因素（{}）", q(w)));
    }
    if f.legal_text.contains("外国")
        || f.legal_text.contains("境外")
        || f.legal_text.contains("涉外")
    {
        complex.push("涉外因素".to_string());
    }
    if let Some(a) = f.amount {
        if a >= 1_000_000.0 || (a >= 100_000.0 && f.admin_penalty.is_some()) {
            complex.push(format!("金额较大（约{}万元）", (a / 10_000.0).round()));
        }
    }
    let issues = issue_count(f);
    if issues >= 4 {
        complex.push(format!("同时涉及{issues}类问题"));
    }
    if !complex.is_empty() {
        out.push((Complex, format!("案情复杂：{}", complex.join("；"))));
    }

    let mut deadline: Vec<String> = Vec::new();
    if let Some(d) = f.days_left {
        deadline.push(format!("期限只剩约{d}天"));
    }
    if let Some(w) = f.appeal {
        deadline.push(format!("{}：上诉期限为判决书送达之日起15日", q(w)));
    }
    if let Some(w) = f.award_challenge {
        deadline.push(format!("{}：不服仲裁裁决须在收到之日起15日内起诉", q(w)));
    }
    if let Some(w) = f.reconsideration_to_court {
        deadline.push(format!("{}：不服复议决定须在收到之日起15日内起诉", q(w)));
    }
    if let Some(w) = f.decision_received {
        deadline.push(format!("{}：对决定、裁判不服有法定期限", q(w)));
    }
    if let (Some(y), Some(_)) = (f.years_ago, f.loan) {
        if y >= 2 {
            deadline.push(format!("约{y}年前的债务，注意三年诉讼时效"));
        }
    }
    if let Some(m) = f.unpaid_months {
        if m >= 12.0 {
            deadline.push(format!("拖欠已约{}个月，注意仲裁或诉讼时效", m as u32));
        }
    }
    if let Some(w) = f.deadline_words.filter(|_| !f.rule_question) {
        deadline.push(format!("{}：当事人关心期限", q(w)));
    }
    if !deadline.is_empty() {
        out.push((Deadline, deadline.join("；")));
    }

    out.sort_by_key(|(r, _)| *r);
    out.dedup_by_key(|(r, _)| *r);
    out
}

/// Someone collecting a debt by pressure (the threat is the collector's).
fn debt_collector(f: &Facts) -> bool {
    ["催收", "讨债", "要债", "催债", "追债"]
        .iter()
        .any(|w| f.legal_text.contains(w))
}

/// A person under 18 (a stated age) is a party to the matter itself: harmed,
/// working, accused, liable or contracting. Family-law questions about a
/// child (custody, support, visits, divorce) are routine and not flagged.
fn minor_party(f: &Facts) -> Found {
    let family = f.divorce.is_some()
        || f.divorce_rule_q.is_some()
        || f.support_arrears.is_some()
        || f.visitation.is_some()
        || ["抚养", "监护权", "探望", "离婚"]
            .iter()
            .any(|w| f.legal_text.contains(w));
    f.minor_age
        .filter(|_| !family && !f.rule_question)
        .map(|_| "未满18周岁")
}

/// How many distinct kinds of trouble one question raises.
fn issue_count(f: &Facts) -> usize {
    let kinds = [
        f.domestic_violence.is_some(),
        f.divorce.is_some() || f.legal_text.contains("离婚"),
        f.child.is_some()
            && (f.legal_text.contains("抚养")
                || f.legal_text.contains("孩子") && f.divorce.is_some()),
        f.legal_text.contains("房子") || f.legal_text.contains("房产"),
        f.legal_text.contains("车"),
        f.threat.is_some(),
        f.hardship.is_some(),
        f.loan.is_some(),
        f.labor_harm.is_some(),
        f.injury.is_some(),
    ];
    kinds.iter().filter(|k| **k).count()
}
