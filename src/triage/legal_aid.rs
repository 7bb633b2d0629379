//! Legal-aid hints per the Legal Aid Law (中华人民共和国法律援助法):
//! art. 24-25 (criminal defence), art. 31 (civil and administrative matters,
//! given financial hardship), art. 32 (no economic-status condition),
//! art. 42 (exempt from the economic check). The hint says "may qualify";
//! a staff member decides.

use super::facts::Facts;
use super::{ArticleRef, LegalAidHint};

pub const LAW: &str = "中华人民共和国法律援助法";

fn art(n: u32) -> ArticleRef {
    ArticleRef {
        law: LAW.to_string(),
        article: n,
    }
}

/// The hint and one reason per matched rule.
pub fn assess(f: &Facts) -> (LegalAidHint, Vec<String>) {
    let mut h = LegalAidHint::default();
    let mut why = Vec::new();
    let mut basis: Vec<u32> = Vec::new();
    let mut exempt_proof: Vec<&str> = Vec::new();

    // Art. 24-25: criminal suspects and defendants.
    let suspect = f.detained.is_some() && f.assaulted.is_none() && f.hero.is_none();
    if suspect {
        let special = f
            .minor_age
            .map(|_| "未成年人")
            .or(f.disabled)
            .or(["死刑", "无期", "杀人"]
                .into_iter()
                .find(|w| f.legal_text.contains(w)));
        if let Some(who) = special {
            basis.push(25);
            h.economic_review_exempt = true;
            why.push(format!("法律援助法第25条：犯罪嫌疑人属于“{who}”等情形、没有委托辩护人的，办案机关应当通知法律援助机构指派律师"));
        } else {
            basis.push(24);
            why.push("法律援助法第24条：犯罪嫌疑人因经济困难没有委托辩护人的，本人或近亲属可申请法律援助".to_string());
        }
    }

    // Art. 31: the civil / administrative matters.
    let mut matter: Vec<&str> = Vec::new();
    if f.support_arrears.is_some() || f.elderly_support.is_some() {
        matter.push("请求给付赡养费、抚养费、扶养费（第31条第4项）");
    }
    let labor_case = ["劳动仲裁", "劳动争议", "劳动关系"]
        .iter()
        .any(|w| f.legal_text.contains(w));
    if labor_case
        || f.wage_arrears.is_some()
        || (f.labor_harm.is_some() && f.labor_ctx.is_some() && f.consumer.is_none())
    {
        matter.push("请求确认劳动关系或者支付劳动报酬（第31条第5项）");
    }
    if f.work_injury.is_some() || (f.traffic.is_some() && f.injury.is_some()) || f.medical.is_some()
    {
        matter.push("请求工伤事故、交通事故、医疗事故人身损害赔偿（第31条第7项）");
    } else if f.consumer.is_some() && f.injury.is_some() {
        matter.push("请求食品药品安全事故人身损害赔偿（第31条第7项）");
    }
    if f.no_social_insurance.is_some() {
        matter.push("请求给予社会保险待遇（第31条第2项）");
    }
    let asks_for_help = f.aid_words.is_some()
        || f.hardship
            .is_some_and(|w| w.contains("律师") || w.contains("官司"));
    if f.hardship.is_some()
        && asks_for_help
        && f.aid_general_question.is_none()
        && matter.is_empty()
    {
        matter.push("当事人自述经济困难并申请法律援助（第31条第9项及地方规定的其他情形）");
    }
    if !matter.is_empty() {
        basis.push(31);
        why.push(format!(
            "法律援助法第31条：{}，因经济困难没有委托代理人的可申请法律援助",
            matter.join("；")
        ));
    }

    // Art. 32: no economic condition.
    let mut no_econ: Vec<&str> = Vec::new();
    if f.martyr_family.is_some() && f.aid_words.is_some() {
        no_econ.push("英雄烈士近亲属维护英雄烈士人格权益");
    }
    if f.hero.is_some() {
        no_econ.push("因见义勇为行为主张相关民事权益");
    }
    if f.domestic_violence.is_some() {
        no_econ.push("遭受虐待、遗弃或者家庭暴力的受害人主张相关权益");
    }
    if f.legal_text.contains("国家赔偿")
        && (f.legal_text.contains("再审") || f.legal_text.contains("改判无罪"))
    {
        no_econ.push("再审改判无罪请求国家赔偿");
    }
    if !no_econ.is_empty() {
        basis.push(32);
        h.economic_review_exempt = true;
        why.push(format!(
            "法律援助法第32条：{}，申请法律援助不受经济困难条件的限制",
            no_econ.join("；")
        ));
        exempt_proof.push(
            "证明属于第32条情形的材料（如见义勇为确认、家暴告诫书、报警回执、伤情照片、病历）",
        );
    }

    // Art. 42: exempt from the economic check.
    let mut exempt: Vec<&str> = Vec::new();
    if f.migrant.is_some()
        && (f.wage_arrears.is_some() || f.work_injury.is_some() || f.labor_harm.is_some())
    {
        exempt.push("申请支付劳动报酬或者请求工伤事故人身损害赔偿的进城务工人员");
    }
    if (f.elderly.is_some() || f.disabled.is_some() || f.minor_age.is_some())
        && f.hardship.is_some()
    {
        exempt.push("无固定生活来源的未成年人、老年人、残疾人等特定群体");
    }
    if f.legal_text.contains("低保")
        || f.legal_text.contains("特困")
        || f.legal_text.contains("优抚")
    {
        exempt.push("社会救助、司法救助或者优抚对象");
    }
    if !exempt.is_empty()
        && (!basis.is_empty() || (f.aid_words.is_some() && f.aid_general_question.is_none()))
    {
        basis.push(42);
        h.economic_review_exempt = true;
        why.push(format!(
            "法律援助法第42条：{}，有材料证明的免予核查经济困难状况",
            exempt.join("；")
        ));
        exempt_proof.push(
            "证明属于免予核查人员的材料（如务工证明、低保证、残疾证、老年人无固定收入的证明）",
        );
    }

    basis.sort_unstable();
    basis.dedup();
    h.may_qualify = !basis.is_empty();
    h.basis = basis.into_iter().map(art).collect();
    if h.may_qualify || f.aid_words.is_some() {
        h.what_to_bring = what_to_bring(h.economic_review_exempt, &exempt_proof, suspect);
    }
    (h, why)
}

fn what_to_bring(exempt: bool, exempt_proof: &[&str], criminal: bool) -> Vec<String> {
    let mut v =
        vec!["身份证明（居民身份证或户口簿）；代为申请的带上代理人身份证明和关系证明".to_string()];
    if exempt {
        v.extend(exempt_proof.iter().map(|s| s.to_string()));
    } else {
        v.push("经济困难状况说明（如实填写，或作个人诚信承诺，第41条）".to_string());
    }
    v.push("与所申请法律援助事项相关的材料（合同、欠条、工资记录、病历、判决书、仲裁或处罚文书、证据等）".to_string());
    v.push("法律援助申请表（可在窗口现场填写）".to_string());
    if criminal {
        v.push(
            "被羁押人员可由近亲属代为申请，或通过办案机关、看守所、值班律师转交申请（第39、40条）"
                .to_string(),
        );
    }
    v
}

/// Whether the case should be flagged `aid_eligibility`: someone may qualify
/// and whether they do turns on facts a person must check.
pub fn needs_eligibility_review(f: &Facts, h: &LegalAidHint) -> bool {
    let own_case_hint = f.hardship.is_some()
        || f.hero.is_some()
        || f.martyr_family.is_some()
        || f.disabled.is_some();
    let exempt_group = h.basis.iter().any(|a| a.article == 42);
    let refused = f.aid_words.is_some() && f.aid_refused.is_some();
    let asked_for_own = f.aid_words.is_some() && super::rules::has_own_matter(f);
    (h.may_qualify && (own_case_hint || exempt_group || asked_for_own)) || refused
}
