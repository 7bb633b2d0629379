//! Triage: route a consultation to the right public legal service, say whether
//! the person may qualify for legal aid, and flag answers a person must review.
//!
//! Owns: the service and review-reason ids, the rules and their reasons, the
//! fall-back topic classes (`domains.toml`, staff-editable), the Legal Aid Law
//! eligibility hints, the referral directory (TOML), and the learned voter
//! (`learned.rs`, naive Bayes trained on `corpus/triage/examples.tsv`) that
//! picks the primary service where no rule scored strongly (below 4).
//! Deterministic and fast; works with or without the LLM.

use serde::{Deserialize, Serialize};

/// The public legal services a case can be routed to. Ids are fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    LegalAid,
    Mediation,
    Notary,
    JudicialAppraisal,
    Arbitration,
    Lawyer,
    Litigation,
    Administrative,
    Emergency,
    Consultation,
}

impl Service {
    pub const ALL: [Service; 10] = [
        Service::LegalAid,
        Service::Mediation,
        Service::Notary,
        Service::JudicialAppraisal,
        Service::Arbitration,
        Service::Lawyer,
        Service::Litigation,
        Service::Administrative,
        Service::Emergency,
        Service::Consultation,
    ];

    /// The fixed id (`legal_aid`, ...).
    pub fn id(self) -> &'static str {
        match self {
            Service::LegalAid => "legal_aid",
            Service::Mediation => "mediation",
            Service::Notary => "notary",
            Service::JudicialAppraisal => "judicial_appraisal",
            Service::Arbitration => "arbitration",
            Service::Lawyer => "lawyer",
            Service::Litigation => "litigation",
            Service::Administrative => "administrative",
            Service::Emergency => "emergency",
            Service::Consultation => "consultation",
        }
    }

    /// Chinese name shown to users.
    pub fn name_zh(self) -> &'static str {
        match self {
            Service::LegalAid => "法律援助",
            Service::Mediation => "人民调解",
            Service::Notary => "公证",
            Service::JudicialAppraisal => "司法鉴定",
            Service::Arbitration => "仲裁",
            Service::Lawyer => "委托律师",
            Service::Litigation => "向人民法院起诉",
            Service::Administrative => "向行政机关投诉/申请/复议",
            Service::Emergency => "紧急情况",
            Service::Consultation => "咨询即可",
        }
    }

    pub fn from_id(id: &str) -> Option<Service> {
        Service::ALL.into_iter().find(|s| s.id() == id)
    }
}

/// Why an answer must be seen by a person. Ids are fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewReason {
    Criminal,
    Safety,
    Minor,
    AidEligibility,
    Complaint,
    OutOfScope,
    Injection,
    Complex,
    Deadline,
    /// Added by `ask`: retrieval was weak.
    LowConfidence,
    /// Added by `ask`: a citation had to be removed from the model's answer.
    CitationRemoved,
    /// Added by `ask`: the extractive fallback answer was used.
    FallbackUsed,
}

impl ReviewReason {
    pub const ALL: [ReviewReason; 12] = [
        ReviewReason::Criminal,
        ReviewReason::Safety,
        ReviewReason::Minor,
        ReviewReason::AidEligibility,
        ReviewReason::Complaint,
        ReviewReason::OutOfScope,
        ReviewReason::Injection,
        ReviewReason::Complex,
        ReviewReason::Deadline,
        ReviewReason::LowConfidence,
        ReviewReason::CitationRemoved,
        ReviewReason::FallbackUsed,
    ];

    pub fn id(self) -> &'static str {
        match self {
            ReviewReason::Criminal => "criminal",
            ReviewReason::Safety => "safety",
            ReviewReason::Minor => "minor",
            ReviewReason::AidEligibility => "aid_eligibility",
            ReviewReason::Complaint => "complaint",
            ReviewReason::OutOfScope => "out_of_scope",
            ReviewReason::Injection => "injection",
            ReviewReason::Complex => "complex",
            ReviewReason::Deadline => "deadline",
            ReviewReason::LowConfidence => "low_confidence",
            ReviewReason::CitationRemoved => "citation_removed",
            ReviewReason::FallbackUsed => "fallback_used",
        }
    }

    pub fn from_id(id: &str) -> Option<ReviewReason> {
        ReviewReason::ALL.into_iter().find(|r| r.id() == id)
    }
}

/// A law article reference (`{law, article}`) used as a basis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleRef {
    pub law: String,
    pub article: u32,
}

/// Legal-aid hints per the Legal Aid Law (arts. 24-25, 31, 32, 42).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LegalAidHint {
    /// The person may qualify (a staff member decides).
    pub may_qualify: bool,
    /// No economic-status review is needed (art. 32 / art. 42 cases).
    pub economic_review_exempt: bool,
    pub basis: Vec<ArticleRef>,
    pub what_to_bring: Vec<String>,
}

/// Where to go and how: read from the referral directory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Referral {
    pub service: String,
    pub service_name: String,
    /// Unit (city centre, district centre, station) to go to.
    pub where_to_go: Vec<String>,
    /// How: hotline, online hall, in person, with what.
    pub how: Vec<String>,
    /// Phone numbers (national numbers only; local ones as marked fields).
    pub phones: Vec<String>,
}

/// The output of triage. The JSON shape of `lawbrain triage --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Triage {
    pub primary_service: Service,
    /// All suggested services, best first (includes the primary).
    pub services: Vec<Service>,
    /// Short reasons, each tied to words of the question or an article.
    pub why: Vec<String>,
    pub needs_review: bool,
    pub review_reasons: Vec<ReviewReason>,
    pub legal_aid: LegalAidHint,
    pub referral: Referral,
}

use crate::search::Hit;

pub mod directory;
pub mod domains;
pub mod facts;
pub mod learned;
pub mod legal_aid;
pub mod review;
pub mod rules;
pub mod signals;

pub use directory::{Hotline, Online, ServiceEntry, Unit};

/// The referral directory (TOML, editable by staff): `corpus/directory.toml`
/// is built in; see [`directory`] for reading and lookups.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Directory {
    #[serde(default)]
    pub city: String,
    /// The marker for fields staff still have to fill in ("待填写").
    #[serde(default)]
    pub placeholder: String,
    #[serde(default)]
    pub hotlines: Vec<Hotline>,
    #[serde(default)]
    pub online: Option<Online>,
    #[serde(default)]
    pub units: Vec<Unit>,
    /// Where and how, per service id.
    #[serde(default)]
    pub services: std::collections::BTreeMap<String, ServiceEntry>,
}

/// Most services listed in a triage.
const MAX_SERVICES: usize = 5;
/// A service below this score is not suggested (unless a rule adds it).
const SUGGEST_MIN: f32 = 1.0;
/// Most reasons in `why`.
const MAX_WHY: usize = 8;

/// Triage a question, given the articles retrieved for it (may be empty).
pub fn triage(question: &str, hits: &[Hit], directory: &Directory) -> Triage {
    use chrono::Datelike;
    triage_in_year(question, hits, directory, chrono::Local::now().year())
}

/// [`triage`] with the current year given (elapsed-time rules use it), so a
/// result can be reproduced exactly.
pub fn triage_in_year(question: &str, hits: &[Hit], directory: &Directory, year: i32) -> Triage {
    let f = facts::read(question, year);
    let scores = rules::score(&f, hits);
    let (legal_aid, aid_why) = legal_aid::assess(&f);
    let mut review = review::reasons(&f, &legal_aid);

    let ranked = scores.ranked();
    let rules_best = ranked
        .first()
        .copied()
        .unwrap_or((Service::Consultation, 0.0));
    // Where the rules are weak, the learned voter decides.
    let vote = (rules_best.1 < learned::RULES_WEAK_BELOW)
        .then(|| learned::Model::builtin().vote_text(&learned::without_filler(&f.factual_text)))
        .filter(|v| {
            learned::takes_over(rules_best, v, learned::RULES_WEAK_BELOW, learned::MIN_PROB)
        });
    let primary_service = vote.as_ref().map_or(rules_best.0, |v| v.service);
    // Whatever sent a case to the emergency services, a person follows it up.
    if primary_service == Service::Emergency && review.is_empty() {
        review.push((
            ReviewReason::Safety,
            "转入紧急处置：人身安全可能正受威胁，需工作人员立即跟进".to_string(),
        ));
    }
    let mut services: Vec<Service> = std::iter::once(primary_service)
        .chain(
            ranked
                .iter()
                .filter(|(s, v)| *s != primary_service && *v >= SUGGEST_MIN)
                .map(|(s, _)| *s),
        )
        .take(MAX_SERVICES)
        .collect();
    let mut push = |s: Service| {
        if !services.contains(&s) {
            services.push(s);
        }
    };
    if legal_aid.may_qualify {
        push(Service::LegalAid);
    }
    if review.iter().any(|(r, _)| *r == ReviewReason::Safety) {
        push(Service::Emergency);
    }

    // Why: the strongest reasons for the suggested services, then legal aid
    // and review explanations.
    let mut why: Vec<String> = vote.iter().map(learned::Vote::why).collect();
    let mut strong: Vec<&(Service, f32, String)> = scores
        .reasons
        .iter()
        .filter(|(s, w, _)| services.contains(s) && (*w >= SUGGEST_MIN || *s == primary_service))
        .collect();
    strong.sort_by(|a, b| {
        let pa = a.0 == primary_service;
        let pb = b.0 == primary_service;
        pb.cmp(&pa).then(b.1.total_cmp(&a.1))
    });
    for (s, _, r) in strong {
        let line = format!("{}：{}", s.name_zh(), r);
        if !why.contains(&line) && why.len() < MAX_WHY - 2 {
            why.push(line);
        }
    }
    why.extend(aid_why.into_iter().take(2));
    for (r, text) in &review {
        why.push(format!("需人工审核（{}）：{}", r.id(), text));
    }

    let review_reasons: Vec<ReviewReason> = review.iter().map(|(r, _)| *r).collect();
    let referral = directory.referral(primary_service, &f.legal_text);
    tracing::debug!(primary = primary_service.id(), reasons = ?review_reasons, "triage");
    Triage {
        primary_service,
        services,
        why,
        needs_review: !review_reasons.is_empty(),
        review_reasons,
        legal_aid,
        referral,
    }
}
