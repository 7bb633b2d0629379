//! Service routing: weigh the facts of a case (and the laws retrieved for it)
//! into a score per service. Every point added carries a reason for `why`.

use super::facts::Facts;
use super::Service;
use crate::search::Hit;

/// Scores per service with the reasons that produced them.
#[derive(Debug, Clone)]
pub struct Scores {
    score: [f32; 10],
    /// (service, weight, reason) in the order they were added.
    pub reasons: Vec<(Service, f32, String)>,
}

impl Scores {
    fn new() -> Scores {
        Scores {
            score: [0.0; 10],
            reasons: Vec::new(),
        }
    }

    fn idx(s: Service) -> usize {
        Service::ALL.iter().position(|x| *x == s).unwrap_or(0)
    }

    pub fn add(&mut self, s: Service, w: f32, why: impl Into<String>) {
        self.score[Scores::idx(s)] += w;
        self.reasons.push((s, w, why.into()));
    }

    pub fn get(&self, s: Service) -> f32 {
        self.score[Scores::idx(s)]
    }

    /// Services by score, best first; ties keep the `Service::ALL` order.
    pub fn ranked(&self) -> Vec<(Service, f32)> {
        let mut v: Vec<(Service, f32)> = Service::ALL.iter().map(|s| (*s, self.get(*s))).collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1));
        v
    }
}

fn q(w: &str) -> String {
    format!("“{w}”")
}

/// Asking whether an employer's practice is lawful.
const LEGALITY_Q: &[&str] = &[
    "合法吗",
    "合理吗",
    "违法吗",
    "能这样吗",
    "是真的吗",
    "怎么算",
    "对吗",
    "算不算",
    "有没有责任",
    "有责任吗",
    "这样可以吗",
];

/// Words that claim money or a job back (a dispute, not only a question).
const LABOR_CLAIM: &[&str] = &[
    "赔偿",
    "补偿",
    "要钱",
    "要回",
    "能要",
    "加班费",
    "二倍",
    "双倍",
    "没发",
    "拖欠",
    "欠",
    "走人",
    "辞退",
    "开除",
    "辞了",
    "解除",
    "别来了",
    "不用来了",
];

/// The asker is the one sued or prosecuted.
const DEFENDANT: &[&str] = &[
    "我被人起诉",
    "我被起诉",
    "被人起诉了",
    "起诉了我",
    "起诉我们",
    "把我告了",
    "告了我",
    "还起诉我们",
    "报案说我",
    "被检察院起诉",
    "诬告",
    "接受调查",
    "传唤",
];

/// A contract's agreement to arbitrate.
const ARBITRATION_AGREEMENT: &[&str] = &[
    "仲裁委员会",
    "仲裁委",
    "仲裁条款",
    "约定仲裁",
    "约定了仲裁",
    "提交仲裁",
];

/// Mediation already tried without result.
const MEDIATION_FAILED: &[&str] = &[
    "调解不成",
    "调解失败",
    "调解没用",
    "调解也没用",
    "不认账",
    "谈不拢",
    "没谈成",
    "调不好",
    "调解了好几次",
];

/// Wanting custody changed after a divorce.
const CUSTODY_CHANGE: &[&str] = &["要过来", "要回来", "争回来", "变更", "改成跟我", "改判"];

/// Laws whose retrieval points at a service.
const LAW_SERVICE: &[(&str, Service)] = &[
    ("劳动争议调解仲裁法", Service::Arbitration),
    ("农村土地承包经营纠纷调解仲裁法", Service::Arbitration),
    ("仲裁法", Service::Arbitration),
    ("公证法", Service::Notary),
    ("人民调解法", Service::Mediation),
    ("行政复议法", Service::Administrative),
    ("行政处罚法", Service::Administrative),
    ("工伤保险条例", Service::Administrative),
    ("劳动保障监察条例", Service::Administrative),
    ("保障农民工工资支付条例", Service::Administrative),
    ("法律援助法", Service::LegalAid),
    ("反家庭暴力法", Service::Emergency),
    ("行政诉讼法", Service::Litigation),
    ("民事诉讼法", Service::Litigation),
    ("司法鉴定", Service::JudicialAppraisal),
    ("医疗纠纷预防和处理条例", Service::JudicialAppraisal),
];

/// Score the services for a case.
pub fn score(f: &Facts, hits: &[Hit]) -> Scores {
    let mut s = Scores::new();
    use Service::*;
    s.add(Consultation, 1.0, "默认：先提供法律咨询");

    // Outside lawbrain's remit, or asking for help to break the law.
    if let Some(w) = f.out_of_scope.or(f.foreign_law) {
        s.add(
            Consultation,
            20.0,
            format!("{}：不属于中国法律问题，只能说明服务范围", q(w)),
        );
        return s;
    }
    if !f.has_legal_content && !f.any_topic() && f.injection.is_none() {
        s.add(
            Consultation,
            2.0,
            "问题中没有可识别的法律事项，先咨询了解情况",
        );
    }
    if let Some(w) = f.illegal_request {
        s.add(
            Consultation,
            20.0,
            format!("{}：要求协助违法行为，不能提供，只作法律说明", q(w)),
        );
        return s;
    }

    // Danger first.
    if let Some(w) = f.imminent {
        s.add(
            Emergency,
            8.0,
            format!("{}：人身安全正受到紧迫威胁，先拨打110", q(w)),
        );
    }
    if let Some(w) = f.suicide {
        s.add(Emergency, 8.0, format!("{}：有轻生风险，需立即干预", q(w)));
    }
    if let Some(w) = f.fraud_now {
        s.add(
            Emergency,
            6.0,
            format!("{}：刚被骗转账，应立即报警并联系银行止付", q(w)),
        );
    }
    if let Some(w) = f.domestic_violence {
        s.add(
            Emergency,
            4.0,
            format!(
                "{}：家庭暴力，可报警、申请人身安全保护令（反家庭暴力法）",
                q(w)
            ),
        );
        s.add(
            LegalAid,
            1.5,
            "家庭暴力受害人申请法律援助不受经济困难条件限制（法律援助法第32条）",
        );
        s.add(Litigation, 1.0, "可向法院申请人身安全保护令或起诉离婚");
    }
    if let Some(w) = f.missing_person {
        s.add(
            Emergency,
            6.0,
            format!(
                "{}：人员下落不明，立即报警（110），失踪报案不需要等24小时",
                q(w)
            ),
        );
    }
    if let Some(w) = f.child_abuse {
        s.add(
            Emergency,
            4.5,
            format!(
                "{}：未成年人遭受虐待，任何人都可以报警（110），公安、民政、妇联应介入",
                q(w)
            ),
        );
    }
    if let Some(w) = f.threat {
        let w8 = if f.domestic_violence.is_some() {
            0.5
        } else {
            3.5
        };
        s.add(
            Emergency,
            w8,
            format!("{}：受到威胁，注意人身安全，可报警", q(w)),
        );
    }

    // Legal aid requests and complaints about it.
    if let Some(w) = f.hardship {
        let pay_for_law = w.contains("律师")
            || w.contains("官司")
            || f.lawyer_words.is_some()
            || f.sue_words.is_some();
        let weight = if pay_for_law || f.divorce.is_some() {
            4.0
        } else {
            3.0
        };
        s.add(
            LegalAid,
            weight,
            format!("{}：经济困难，可申请法律援助", q(w)),
        );
    }
    if let Some(w) = f.aid_words {
        if let Some(r) = f.aid_refused.or(f.aid_lawyer_complaint) {
            s.add(
                Administrative,
                6.0,
                format!("{}：对法律援助机构的决定或援助人员有异议，向司法行政部门提出（法律援助法第49条、第56条）", q(r)),
            );
            s.add(LegalAid, 1.0, format!("{}：仍属法律援助事项", q(w)));
        } else if let (Some(g), false) = (f.aid_general_question, has_own_matter(f)) {
            s.add(
                Consultation,
                4.5,
                format!("{}：询问法律援助的一般条件，解答即可", q(g)),
            );
            s.add(LegalAid, 1.0, format!("{}：法律援助", q(w)));
        } else {
            s.add(LegalAid, 4.5, format!("{}：当事人询问或需要法律援助", q(w)));
        }
    }
    if let Some(w) = f.hero {
        s.add(
            LegalAid,
            3.0,
            format!(
                "{}：因见义勇为主张权益，法律援助不受经济条件限制（第32条）",
                q(w)
            ),
        );
        s.add(Litigation, 1.0, "向侵害人主张赔偿可起诉");
    }

    // Criminal matters.
    if let Some(w) = f.detained {
        if f.minor_age.is_some() || f.disabled.is_some() {
            s.add(
                LegalAid,
                6.0,
                format!(
                    "{}：未成年人或残疾人涉嫌犯罪，办案机关应通知法律援助机构指派律师（第25条）",
                    q(w)
                ),
            );
            s.add(Lawyer, 2.0, "也可自行委托辩护律师");
        } else if f.assaulted.is_none() && f.hero.is_none() {
            s.add(
                Lawyer,
                4.5,
                format!("{}：家属被采取强制措施，宜尽快委托辩护律师会见", q(w)),
            );
            s.add(LegalAid, 1.0, "经济困难的可申请刑事法律援助（第24条）");
        }
    }
    if let Some(w) = f.police_inaction {
        s.add(
            Lawyer,
            4.0,
            format!(
                "{}：报案后公安不立案，宜请律师代为申请复议或检察院立案监督",
                q(w)
            ),
        );
        s.add(Litigation, 1.0, "也可考虑刑事自诉或民事起诉");
    }
    if let (Some(w), None, None) = (f.assaulted, f.domestic_violence, f.hero) {
        s.add(
            Consultation,
            2.0,
            format!("{}：被人殴打，可要求公安处理并索赔", q(w)),
        );
        s.add(JudicialAppraisal, 1.5, "伤情鉴定决定是治安案件还是刑事案件");
        s.add(Litigation, 1.0, "可提起民事赔偿诉讼");
    }

    // Groups, large sums and foreign parties need a lawyer.
    let big = f.amount.unwrap_or(0.0) >= 1_000_000.0;
    if big
        || f.legal_text.contains("外国")
        || f.legal_text.contains("境外")
        || f.legal_text.contains("涉外")
    {
        s.add(Lawyer, 3.5, "涉外或金额巨大的纠纷，宜委托律师");
    }
    if let Some(g) = &f.group {
        if f.wage_arrears.is_none() {
            s.add(
                Lawyer,
                3.5,
                format!("{g}：多人共同纠纷，宜委托律师统一处理"),
            );
            s.add(Litigation, 1.5, "多人纠纷可共同诉讼");
        }
    }
    if let Some(w) = f.lawyer_words {
        s.add(Lawyer, 1.5, format!("{}：询问委托律师", q(w)));
    }

    // Labour.
    let labor_case = f.labor_ctx.is_some() && f.consumer.is_none() && f.land_contract.is_none();
    // Migrant workers as a group behave like a contractor's crew.
    let crew = f.contractor.or(f.migrant.filter(|_| {
        f.group.is_some()
            || ["我们", "他们", "工地"]
                .iter()
                .any(|w| f.legal_text.contains(w))
    }));
    if let (Some(w), Some(c)) = (f.wage_arrears, crew) {
        s.add(
            Administrative,
            5.0,
            format!(
                "{}、{}：工程建设领域欠薪，可向劳动保障监察投诉（保障农民工工资支付条例）",
                q(c),
                q(w)
            ),
        );
        s.add(Arbitration, 2.5, "也可申请劳动仲裁");
    }
    if let Some(w) = f.child_work {
        s.add(
            Administrative,
            5.0,
            format!("{}：未成年人务工，劳动保障监察部门查处违法用工", q(w)),
        );
    }
    if let Some(w) = f.work_injury {
        s.add(
            Administrative,
            3.0,
            format!("{}：工伤，先向人社部门申请工伤认定", q(w)),
        );
        s.add(Arbitration, 2.0, "工伤待遇争议可申请劳动仲裁");
        if let Some(n) = f.no_social_insurance {
            s.add(
                Administrative,
                1.5,
                format!("{}：未缴社保，可向劳动保障监察投诉", q(n)),
            );
        }
    }
    if labor_case && f.contractor.is_none() && f.child_work.is_none() && f.work_injury.is_none() {
        let legality_q = LEGALITY_Q.iter().find(|w| f.legal_text.contains(*w));
        let claim = LABOR_CLAIM.iter().any(|w| f.legal_text.contains(w));
        if let (Some(lq), Some(h), false) = (legality_q, f.labor_harm, claim) {
            // "试用期工资只给八折合法吗": a question about a workplace rule,
            // no money or job claimed yet.
            s.add(
                Consultation,
                4.5,
                format!(
                    "{}、{}：问用人单位的做法是否合法，尚未主张权利，解答即可",
                    q(h),
                    q(lq)
                ),
            );
            s.add(Arbitration, 1.5, "发生争议可申请劳动仲裁");
        } else if let Some(h) = f.labor_harm {
            s.add(
                Arbitration,
                4.0,
                format!(
                    "{}：劳动争议，先申请劳动人事争议仲裁（劳动争议调解仲裁法）",
                    q(h)
                ),
            );
            if f.no_social_insurance.is_some() || f.wage_arrears.is_some() {
                s.add(Administrative, 1.5, "也可向劳动保障监察投诉");
            }
        } else if let (Some(c), Some(_)) = (
            f.labor_ctx,
            f.knowledge_q.or(f.self_permission_q.then_some("我能")),
        ) {
            s.add(
                Consultation,
                2.5,
                format!("{}：劳动关系中的权利义务问题，尚无实际争议，解答即可", q(c)),
            );
            s.add(Arbitration, 1.5, "发生争议可申请劳动仲裁");
        } else if let Some(c) = f.labor_ctx {
            s.add(
                Arbitration,
                3.0,
                format!("{}：与用人单位的纠纷，可申请劳动人事争议仲裁", q(c)),
            );
            s.add(Administrative, 1.0, "违法用工可向劳动保障监察投诉");
        }
    }
    // Relatives quarrelling over compensation already paid is a family matter.
    let family_split = f.family_dispute.is_some() && f.legal_text.contains("分");
    if let Some(w) = f
        .land_taking
        .filter(|_| f.reconsideration_to_court.is_none() && f.neighbor.is_none() && !family_split)
    {
        s.add(
            Administrative,
            4.5,
            format!(
                "{}：征收、占用土地及补偿争议，可申请行政复议或向政府部门反映",
                q(w)
            ),
        );
        s.add(Litigation, 1.0, "也可提起行政诉讼");
    }
    if let (Some(w), true) = (
        f.disabled,
        has_own_matter(f) || f.contract_dispute.is_some(),
    ) {
        s.add(LegalAid, 4.5, format!("{}：残疾人等特定群体维权，可申请法律援助，无固定生活来源的免予经济困难核查（第42条）", q(w)));
    }
    if let Some(w) = f.environment {
        s.add(
            Administrative,
            4.0,
            format!("{}：环境污染，向生态环境部门投诉举报（12345）", q(w)),
        );
        s.add(Litigation, 1.0, "受到损害可起诉索赔");
    }
    if let Some(w) = f.admin_refusal.filter(|_| f.aid_words.is_none()) {
        s.add(
            Administrative,
            5.0,
            format!(
                "{}：行政机关拒绝申请事项，可申请行政复议（60日内）或提起行政诉讼",
                q(w)
            ),
        );
        s.add(Litigation, 1.0, "也可提起行政诉讼");
    }
    if let Some(w) = f.labor_relation_denied {
        s.add(
            Arbitration,
            3.0,
            format!("{}：对方否认劳动关系，先申请劳动仲裁确认劳动关系", q(w)),
        );
    }
    if let (Some(r), Some(c)) = (f.report_intent, f.labor_ctx.or(f.consumer)) {
        if f.aid_words.is_none() {
            s.add(
                Administrative,
                4.5,
                format!(
                    "{}、{}：向主管部门举报投诉（劳动保障监察12333、市场监管12315）",
                    q(r),
                    q(c)
                ),
            );
        }
    }
    if let Some(w) = f
        .contract_dispute
        .filter(|_| f.loan.is_none() && f.divorce.is_none())
    {
        s.add(
            Litigation,
            3.0,
            format!("{}：合同纠纷，对方不履行，可起诉（也可先协商调解）", q(w)),
        );
        s.add(Mediation, 1.0, "可先调解");
        s.add(Lawyer, 1.0, "金额较大可委托律师");
    }
    if let Some(w) = f.land_contract {
        s.add(
            Arbitration,
            4.5,
            format!("{}：土地承包经营纠纷，可申请农村土地承包仲裁或调解", q(w)),
        );
        s.add(Mediation, 2.0, "村委会、乡镇可调解");
        s.add(Litigation, 1.0, "也可直接起诉");
    }
    if let Some(w) = f.appeal {
        s.add(
            Litigation,
            5.0,
            format!("{}：不服一审判决，收到判决书15日内上诉（裁定10日）", q(w)),
        );
        s.add(Lawyer, 1.5, "上诉可委托律师");
    }
    if f.self_permission_q && f.detained.is_none() && f.imminent.is_none() {
        s.add(Consultation, 2.5, "当事人问自己能否这样做，解答即可");
    }
    if f.rule_question {
        s.add(
            Consultation,
            3.0,
            "一般性的法律规定问题，没有具体纠纷，解答即可",
        );
    }
    if let Some(w) = f.award_challenge {
        s.add(
            Litigation,
            6.0,
            format!("{}：不服劳动仲裁裁决，收到裁决书15日内向法院起诉", q(w)),
        );
        s.add(Lawyer, 1.0, "诉讼可委托律师");
    }

    // Administrative.
    if let Some(w) = f.reconsideration_to_court {
        s.add(
            Litigation,
            6.0,
            format!("{}：对复议决定不服，收到决定书15日内可提起行政诉讼", q(w)),
        );
        s.add(Lawyer, 1.0, "行政诉讼可委托律师");
    } else if let Some(w) = f
        .admin_penalty
        .filter(|_| f.labor_harm.is_none() || !labor_case)
    {
        s.add(
            Administrative,
            4.5,
            format!("{}：对行政处罚不服，可申请行政复议或陈述申辩、听证", q(w)),
        );
        s.add(Litigation, 1.0, "也可提起行政诉讼");
        if f.amount.unwrap_or(0.0) >= 50_000.0 || f.hearing.is_some() {
            s.add(Lawyer, 1.5, "较大数额罚款，可委托律师参加听证");
        }
    } else if let Some(w) = f.reconsideration {
        s.add(Administrative, 3.0, format!("{}：行政复议", q(w)));
    }
    if let Some(w) = f.business_gone {
        s.add(
            Administrative,
            4.5,
            format!("{}：经营者失联或推诿，向市场监管部门投诉（12315）", q(w)),
        );
        s.add(Litigation, 1.0, "也可起诉经营者");
    } else if let (Some(w), None) = (f.consumer_dispute, f.sale_contract.or(f.knowledge_q)) {
        s.add(
            Administrative,
            3.0,
            format!(
                "{}：消费纠纷，经营者不处理的可向市场监管部门投诉（12315）",
                q(w)
            ),
        );
        s.add(Litigation, 1.0, "也可起诉经营者");
    } else if let Some(w) = f.consumer_rule_q {
        s.add(
            Consultation,
            3.0,
            format!("{}：消费者权益规则问题，解答即可", q(w)),
        );
        s.add(Administrative, 1.5, "协商不成可向市场监管部门投诉");
    } else if let (Some(c), Some(_)) = (f.consumer, f.knowledge_q) {
        if f.sale_contract.is_none() {
            s.add(Consultation, 2.0, format!("{}：消费规则问题", q(c)));
            s.add(Administrative, 1.0, "可向市场监管部门投诉");
        }
    }
    if let Some(w) = f.official_complaint {
        if f.notary_error.is_none() {
            // Saying "投诉" outright is the asker's own choice of service.
            let explicit = f.legal_text.contains("投诉");
            s.add(
                Administrative,
                if explicit { 6.0 } else { 3.0 },
                format!("{}：对机关或工作人员的投诉", q(w)),
            );
        }
    }

    // Money owed.
    if let Some(w) = f.judgment_unpaid {
        s.add(
            Litigation,
            5.0,
            format!("{}：生效法律文书不履行，向法院申请强制执行", q(w)),
        );
    }
    let debt_q = f.spouse_debt.or(f.heir_debt);
    if let Some(d) = debt_q {
        s.add(
            Consultation,
            3.5,
            format!("{}：是否需要承担债务，解答即可", q(d)),
        );
        s.add(Litigation, 1.0, "被起诉时应诉");
        s.add(Lawyer, 0.5, "可委托律师");
    }
    if f.loan.is_some() && f.labor_harm.is_none() && debt_q.is_none() {
        let w = f.loan.unwrap_or("借款");
        if let Some(g) = f.guarantor {
            s.add(
                Consultation,
                3.5,
                format!("{}：保证责任的认定问题，解答即可", q(g)),
            );
            s.add(Lawyer, 1.0, "被起诉时可委托律师");
        } else if let Some(i) = f.interest {
            s.add(
                Consultation,
                3.5,
                format!("{}：借款利息是否合法，解答即可（民间借贷司法解释）", q(i)),
            );
            s.add(Litigation, 1.0, "对超出部分可诉讼主张");
        } else if f.hidden_assets.is_none() && f.judgment_unpaid.is_none() && f.threat.is_none() {
            s.add(
                Litigation,
                3.0,
                format!("{}：借款纠纷，可起诉要求返还（诉讼时效三年）", q(w)),
            );
            s.add(Mediation, 1.0, "也可先调解");
        }
    }
    if let Some(w) = f.sale_contract.filter(|_| f.loan.is_none()) {
        s.add(
            Litigation,
            3.0,
            format!("{}：合同约定与实际不符，违约或欺诈，可起诉", q(w)),
        );
        s.add(Administrative, 1.0, "可向市场监管部门投诉");
    }

    // Family.
    if let Some(w) = f.hidden_assets {
        s.add(
            Litigation,
            4.0,
            format!(
                "{}：离婚时转移夫妻共同财产，可在离婚诉讼中请求分割或追回",
                q(w)
            ),
        );
        s.add(Lawyer, 1.0, "可委托律师调查取证");
    }
    if let Some(w) = f.visitation {
        s.add(
            Litigation,
            4.0,
            format!("{}：探望权被阻挠，可起诉或申请强制执行", q(w)),
        );
        s.add(Mediation, 1.5, "可先调解");
    }
    if let Some(w) = f.support_arrears.filter(|_| f.elderly_support.is_none()) {
        s.add(
            Litigation,
            4.0,
            format!("{}：拖欠抚养费等，可起诉或对已生效判决申请强制执行", q(w)),
        );
        s.add(LegalAid, 1.5, "请求给付抚养费可申请法律援助（第31条）");
    }
    if let Some(w) = f.elderly_support {
        s.add(
            Mediation,
            4.0,
            format!("{}：子女赡养纠纷，先由村（居）调委会调解", q(w)),
        );
        s.add(Litigation, 2.0, "调解不成可起诉要求给付赡养费");
        s.add(LegalAid, 1.5, "请求给付赡养费可申请法律援助（第31条）");
    }
    if let Some(w) = f
        .divorce_rule_q
        .filter(|_| f.hidden_assets.is_none() && f.domestic_violence.is_none())
    {
        s.add(
            Consultation,
            3.5,
            format!("{}：离婚中的法律规则问题，解答即可", q(w)),
        );
        s.add(Litigation, 1.5, "协议不成可起诉离婚");
        s.add(Mediation, 0.5, "可调解");
    }
    if let (true, Some(w)) = (
        f.legal_text.contains("抚养权"),
        CUSTODY_CHANGE.iter().find(|w| f.legal_text.contains(*w)),
    ) {
        s.add(
            Litigation,
            4.5,
            format!("“抚养权”、{}：变更抚养关系，协商不成向法院起诉", q(w)),
        );
        s.add(Mediation, 1.0, "可先协商调解");
    }
    if let Some(w) = f.betrothal {
        s.add(Mediation, 4.0, format!("{}：彩礼返还纠纷，宜先调解", q(w)));
        s.add(Litigation, 1.5, "调解不成可起诉");
    }

    // Inheritance and wills.
    if let Some(w) = f.will_validity {
        s.add(
            Consultation,
            4.5,
            format!("{}：遗嘱效力问题，解答即可", q(w)),
        );
        s.add(Litigation, 1.0, "有争议可起诉");
        s.add(Notary, 1.0, "可到公证处办理遗嘱公证");
    } else if let Some(w) = f.make_will {
        s.add(Notary, 4.0, format!("{}：办理遗嘱公证", q(w)));
    } else if let Some(w) = f.transfer_after_death.filter(|_| f.inheritance.is_some()) {
        s.add(
            Notary,
            4.0,
            format!("{}：继承房产过户，一般需办理继承公证", q(w)),
        );
        s.add(Consultation, 1.0, "法定继承份额可先咨询");
    } else if let (Some(_), Some(c)) = (f.inheritance, f.family_dispute) {
        s.add(
            Mediation,
            4.0,
            format!("{}：亲属间继承纠纷，宜先调解", q(c)),
        );
        s.add(Litigation, 1.5, "调解不成可起诉");
    } else if f.inheritance.is_some() && f.heir_debt.is_none() {
        s.add(Consultation, 1.5, "继承规则问题");
        s.add(Notary, 1.0, "继承可办理公证");
    }
    if let Some(c) = f.family_dispute {
        let handled = f
            .inheritance
            .or(f.elderly_support)
            .or(f.divorce_rule_q)
            .or(f.hidden_assets)
            .or(f.visitation);
        if handled.is_none() {
            s.add(
                Mediation,
                3.0,
                format!("{}：亲属间纠纷，宜先由人民调解委员会调解", q(c)),
            );
        }
    }

    // Notary.
    if let Some(w) = f.notary_error {
        s.add(
            Notary,
            5.0,
            format!("{}：公证书有错误，向出具的公证机构申请更正或复查", q(w)),
        );
        s.add(Administrative, 1.5, "对公证机构的投诉可向司法行政部门提出");
        s.add(Litigation, 1.0, "对公证事项有争议可起诉");
    } else if let Some(w) = f.notary_words.filter(|_| f.will_validity.is_none()) {
        let to_do = ["办", "材料", "去哪", "需要什么", "手续", "多久", "能帮"]
            .iter()
            .any(|x| f.legal_text.contains(x));
        let weight = if to_do { 5.0 } else { 3.5 };
        s.add(Notary, weight, format!("{}：当事人要办理公证", q(w)));
    }
    if let Some(w) = f.remote_principal.filter(|_| f.overseas.is_none()) {
        s.add(
            Notary,
            3.0,
            format!("{}：本人不能到场，委托他人办理，委托书一般需公证", q(w)),
        );
    }
    if let Some(w) = f.notarize_intent {
        s.add(
            Notary,
            3.5,
            format!("{}：希望协议、文书更有证明力，可办理公证", q(w)),
        );
    }
    if let Some(w) = f.overseas {
        s.add(
            Notary,
            3.0,
            format!("{}：在境外的人委托他人办理，委托书需公证或认证", q(w)),
        );
    }
    if let Some(w) = f.abroad_docs {
        s.add(
            Notary,
            4.0,
            format!("{}：出国（境）使用的证明需办理涉外公证", q(w)),
        );
    }
    if let Some(w) = f.evidence_preserve {
        s.add(
            Notary,
            3.5,
            format!("{}：网上证据可申请公证处证据保全", q(w)),
        );
        s.add(Litigation, 1.5, "可据此起诉维权");
    }

    // Appraisal.
    if let Some(w) = f.paternity {
        s.add(
            JudicialAppraisal,
            5.0,
            format!("{}：亲子关系需司法鉴定", q(w)),
        );
        s.add(Litigation, 1.0, "确认亲子关系可起诉");
    } else if let Some(w) = f.appraisal {
        s.add(JudicialAppraisal, 5.0, format!("{}：需要司法鉴定", q(w)));
        s.add(Litigation, 1.0, "鉴定结论用于诉讼");
    }
    if let Some(w) = f.medical {
        s.add(
            JudicialAppraisal,
            4.5,
            format!("{}：医疗损害的过错和因果关系需医疗损害鉴定", q(w)),
        );
        s.add(Mediation, 1.5, "可申请医疗纠纷人民调解");
        s.add(Litigation, 1.5, "可起诉");
        s.add(Lawyer, 1.5, "医疗纠纷专业性强，宜委托律师");
    }

    // Injuries between private parties.
    if let Some(w) = f.traffic.filter(|_| {
        f.detained.is_none()
            && f.crime.is_none()
            && !(f.work_injury.is_some() && f.legal_text.contains("工伤"))
    }) {
        if let Some(h) = f.hit_and_run {
            s.add(
                Consultation,
                3.0,
                format!(
                    "{}：肇事逃逸，先由交警侦查，可申请道路交通事故社会救助基金垫付",
                    q(h)
                ),
            );
            s.add(Administrative, 1.5, "向交警部门和救助基金管理机构申请");
            s.add(
                LegalAid,
                1.0,
                "交通事故人身损害赔偿可申请法律援助（第31条）",
            );
        } else if f.appraisal.is_none() {
            s.add(
                Mediation,
                4.0,
                format!("{}：交通事故损害赔偿，可申请交警或人民调解", q(w)),
            );
            s.add(Litigation, 1.5, "调解不成可起诉");
            s.add(JudicialAppraisal, 1.5, "伤残等级需鉴定");
        } else {
            s.add(Mediation, 1.0, "交通事故赔偿可调解");
        }
    }
    if let Some(w) = f.school_injury.filter(|_| f.traffic.is_none()) {
        s.add(
            Mediation,
            4.0,
            format!("{}：在校受伤，学校与家长之间的责任纠纷，宜先调解", q(w)),
        );
        s.add(Litigation, 1.5, "调解不成可起诉");
        s.add(JudicialAppraisal, 1.5, "伤残等级需鉴定");
    }
    if let Some(w) = f.dog {
        s.add(
            Mediation,
            4.0,
            format!("{}：饲养动物损害责任纠纷，宜先调解", q(w)),
        );
        s.add(Litigation, 1.5, "调解不成可起诉");
    }
    if let Some(w) = f.falling_object {
        s.add(
            Consultation,
            3.5,
            format!(
                "{}：高空抛物、坠物，公安调查，责任人不明时规则特殊，先解答",
                q(w)
            ),
        );
        s.add(Litigation, 1.5, "可起诉可能加害的建筑物使用人");
    }
    if let Some(w) = f.hired_injury.filter(|_| f.labor_harm.is_none()) {
        s.add(
            Litigation,
            4.0,
            format!("{}：个人之间提供劳务受伤，按过错分担责任，可起诉", q(w)),
        );
        s.add(Mediation, 1.5, "可先调解");
        s.add(JudicialAppraisal, 1.5, "伤残等级需鉴定");
    }

    // Neighbours, tenancy, property management.
    if let Some(w) = f.neighbor.filter(|_| f.falling_object.is_none()) {
        s.add(
            Mediation,
            4.0,
            format!("{}：相邻关系纠纷，由人民调解委员会调解", q(w)),
        );
        s.add(Litigation, 1.5, "调解不成可起诉");
    }
    if let Some(w) = f.lease_sale {
        s.add(
            Consultation,
            3.5,
            format!("{}：买卖不破租赁，解答即可", q(w)),
        );
        s.add(Litigation, 1.0, "有争议可起诉");
    } else if let Some(w) = f.deposit.filter(|_| f.group.is_none() && !labor_case) {
        s.add(
            Mediation,
            3.5,
            format!("{}：押金等小额纠纷，宜先调解", q(w)),
        );
        s.add(Litigation, 1.5, "调解不成可起诉");
    }
    if let Some(w) = f.property_mgmt {
        if f.knowledge_q.is_some() {
            s.add(
                Consultation,
                2.5,
                format!("{}：物业服务中的权利义务问题，解答即可", q(w)),
            );
        }
        s.add(Mediation, 1.5, "物业纠纷可调解");
        s.add(Administrative, 1.0, "可向住建部门投诉");
    }

    // Where a case already stands: an arbitration agreement in a contract
    // takes it out of court (Arbitration Law art. 5); mediation tried and
    // failed leaves the court.
    let text = &f.legal_text;
    if let Some(w) = ARBITRATION_AGREEMENT.iter().find(|w| text.contains(*w)) {
        if !["不予受理", "不受理", "裁决"]
            .iter()
            .any(|x| text.contains(x))
        {
            s.add(
                Arbitration,
                6.0,
                format!(
                    "{}：合同约定了仲裁的，应向约定的仲裁委员会申请仲裁，法院不受理（仲裁法第5条）",
                    q(w)
                ),
            );
        }
    }
    if text.contains("调解") {
        if let Some(w) = MEDIATION_FAILED.iter().find(|w| text.contains(*w)) {
            s.add(
                Litigation,
                3.0,
                format!("“调解”后{}：调解未成，可向人民法院起诉", q(w)),
            );
        }
    }

    // Question form and explicit wishes.
    if let Some(w) = f.sue_words {
        s.add(Litigation, 1.0, format!("{}：当事人提到起诉", q(w)));
    }
    if let (Some(w), None) = (f.knowledge_q, f.action_q) {
        s.add(Consultation, 1.0, format!("{}：询问法律规定", q(w)));
    }

    if let Some(w) = DEFENDANT
        .iter()
        .copied()
        .find(|w| f.legal_text.contains(w))
        .or_else(|| passive_sued(&f.legal_text))
    {
        if f.detained.is_none() {
            s.add(
                Lawyer,
                4.0,
                format!("{}：当事人被起诉或被追究，宜委托律师应诉、辩护", q(w)),
            );
        }
    }

    // Broad topic classes decide what no specific rule did.
    fallback_domains(f, &mut s);

    // The laws retrieved are one more voter.
    let mut voted: Vec<Service> = Vec::new();
    for h in hits.iter().take(5) {
        if let Some((_, svc)) = LAW_SERVICE.iter().find(|(name, _)| h.law.contains(name)) {
            if voted.iter().filter(|v| *v == svc).count() < 2 {
                s.add(
                    *svc,
                    1.0,
                    format!("检索到《{}》第{}条", short_law(&h.law), h.article),
                );
                voted.push(*svc);
            }
        }
    }
    s
}

/// The service a retrieved law points to (公证法 -> notary ...), if any.
pub fn law_service(law: &str) -> Option<Service> {
    LAW_SERVICE
        .iter()
        .find(|(name, _)| law.contains(name))
        .map(|(_, s)| *s)
}

/// "我开的小公司被一个大客户起诉了": the asker's side is sued.
fn passive_sued(text: &str) -> Option<&'static str> {
    text.match_indices('被').find_map(|(i, _)| {
        let after: String = text[i..].chars().take(12).collect();
        let clause = after.split(['，', '。', ',']).next().unwrap_or_default();
        (clause.contains("起诉") || clause.contains("告了")).then_some("被……起诉")
    })
}

/// The fall-back layer: when no service but consultation scored
/// `fallback_below`, the topic classes of `domains.toml` vote. Rule questions
/// ("试用期可以不交社保吗") and out-of-scope requests keep their answer.
fn fallback_domains(f: &Facts, s: &mut Scores) {
    let table = super::domains::Domains::builtin();
    // Consultation starts at 1 (default) and may get 1 more for the question
    // form; beyond that a specific rule chose it.
    let decided = Service::ALL.iter().any(|x| {
        let bar = if *x == Service::Consultation {
            table.fallback_below + 1.0
        } else {
            table.fallback_below
        };
        s.get(*x) >= bar
    });
    if decided || f.rule_question || f.out_of_scope.is_some() || f.illegal_request.is_some() {
        return;
    }
    for (d, words) in table.matches(&f.factual_text) {
        if let Some(svc) = Service::from_id(&d.service) {
            let said: Vec<String> = words.iter().map(|w| q(w)).collect();
            s.add(svc, d.weight, format!("{}：{}", said.join("、"), d.why));
        }
    }
}

/// Whether the question describes a matter of the asker's own (not only a
/// general question about a service).
pub fn has_own_matter(f: &Facts) -> bool {
    f.labor_ctx.is_some()
        || f.loan.is_some()
        || f.divorce.is_some()
        || f.traffic.is_some()
        || f.injury.is_some()
        || f.elderly_support.is_some()
        || f.support_arrears.is_some()
        || f.domestic_violence.is_some()
        || f.hero.is_some()
        || f.detained.is_some()
        || f.land_contract.is_some()
        || f.deadline_words.is_some()
        || f.admin_penalty.is_some()
}

/// `中华人民共和国民法典` -> `民法典`.
pub fn short_law(name: &str) -> &str {
    name.strip_prefix("中华人民共和国").unwrap_or(name)
}
