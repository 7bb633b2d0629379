//! Triage: route a consultation to the right public legal service, say whether
//! the person may qualify for legal aid, and flag answers a person must review.
//! The policy it follows is ROUTING.md (services, tie-break order, legal-aid
//! test, review reasons); `corpus/triage/ROUTING_NOTES.md` says where the code
//! departs from it.
//!
//! How a question is decided ([`triage_with`]):
//! 1. **Hard rules** (`hard_rules.toml`, staff-readable, [`hard_rules`]): only
//!    where safety or abuse demands recall — danger now and self-harm
//!    (emergency), children harmed, crime, injection tactics (their clauses
//!    are removed before routing, so the legal question inside is routed as
//!    if the wrapper were absent), out of scope (consultation alone).
//! 2. **The learned router** ([`router`]): logistic regression trained at
//!    first use on our labelled batches and the other author's policy cases,
//!    over character n-grams, the hand-written rules' scores (`rules.rs`,
//!    `facts.rs`, `signals.rs`, `domains.toml`, now features, not deciders),
//!    and a sentence embedding once the encoder is given ([`use_encoder`],
//!    [`router::Router::warm_dense`]; until then an n-gram router). It
//!    picks the primary service and decides each review reason with a
//!    threshold tuned for recall by cross-validation.
//! 3. The review reasons of the hand-written rules are added (measured: they
//!    raise cross-author recall), and the Legal Aid Law hints ([`legal_aid`]).
//!
//! `why` is in a citizen's words: the policy rule that decided, the nearest
//! labelled case, the retrieved articles. [`xauthor`] is the cross-author
//! test. The naive-Bayes voter (`learned.rs`) and the rules-first pipeline
//! survive only as [`legacy_triage_in_year`], the harness's baseline.
//! Deterministic and fast (well under 30 ms once trained); works with or
//! without the LLM.

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
    /// Added by `ask`: the drafted conclusion denied the asker something and
    /// was held back (`answer::hold`).
    DenialHeld,
}

impl ReviewReason {
    /// Every reason; the first nine are the ones triage decides
    /// ([`router::REASONS`]), the rest are added by the answer pipeline.
    pub const ALL: [ReviewReason; 13] = [
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
        ReviewReason::DenialHeld,
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
            ReviewReason::DenialHeld => "denial_held",
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
pub mod hard_rules;
pub mod injection;
pub mod learned;
pub mod legal_aid;
pub mod review;
pub mod router;
pub mod rules;
pub mod scope;
pub mod signals;
pub mod xauthor;

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

/// Most services in a routed triage (ROUTING.md §4).
const MAX_ROUTED_SERVICES: usize = 3;
/// A further service is listed when the router gives it at least this.
const SECOND_SERVICE_MIN: f32 = 0.15;
/// The year the built-in router's training cases are read in (elapsed-time
/// facts depend on it; fixed so training is reproducible).
pub const TRAIN_YEAR: i32 = 2026;

/// Triage a question, given the articles retrieved for it (may be empty).
pub fn triage(question: &str, hits: &[Hit], directory: &Directory) -> Triage {
    use chrono::Datelike;
    triage_in_year(question, hits, directory, chrono::Local::now().year())
}

/// [`triage`] with the current year given (elapsed-time rules use it), so a
/// result can be reproduced exactly.
pub fn triage_in_year(question: &str, hits: &[Hit], directory: &Directory, year: i32) -> Triage {
    triage_with(
        router::Router::builtin(),
        &Options::default(),
        question,
        hits,
        directory,
        year,
    )
}

static ENCODER: std::sync::OnceLock<std::sync::Arc<crate::embed::Encoder>> =
    std::sync::OnceLock::new();
static EMBED_CACHE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

/// The asset cache given with [`use_encoder`].
pub fn embedding_cache() -> Option<&'static std::path::Path> {
    EMBED_CACHE.get().map(|p| p.as_path())
}

/// Give triage the dense encoder (once per process). Nothing changes until
/// [`router::Router::warm_dense`] has trained the router that reads the
/// sentence embedding; until then triage routes with the n-gram router, so
/// a question is always read the way its router was trained. `cache` is the
/// asset cache, whose vector store keeps the training cases' embeddings (a
/// new checkout reuses them; without it they are computed each time, about
/// 15 s on 2 cores). Returns false when an encoder was already set.
pub fn use_encoder(
    encoder: std::sync::Arc<crate::embed::Encoder>,
    cache: Option<&std::path::Path>,
) -> bool {
    if let Some(c) = cache {
        let _ = EMBED_CACHE.set(c.to_path_buf());
    }
    ENCODER.set(encoder).is_ok()
}

/// The encoder given with [`use_encoder`].
pub fn encoder() -> Option<&'static std::sync::Arc<crate::embed::Encoder>> {
    ENCODER.get()
}

/// The sentence embedding the router reads, when an encoder was given with
/// [`use_encoder`] (training and run time both call this).
pub fn embedding_of(question: &str) -> Option<Vec<f32>> {
    let enc = ENCODER.get()?;
    match enc.embed_query(question) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::warn!("triage: embedding failed ({e}); routing without it");
            None
        }
    }
}

/// Which router triage uses now: `"embedding"` once the router that reads
/// the sentence embedding is trained, else `"ngrams"`.
pub fn router_mode() -> &'static str {
    if router::Router::dense_ready() {
        "embedding"
    } else {
        "ngrams"
    }
}

/// What triage reads about a question before deciding.
#[derive(Debug, Clone)]
pub struct Reading {
    pub facts: facts::Facts,
    pub scores: rules::Scores,
    pub aid: LegalAidHint,
    pub aid_why: Vec<String>,
    /// The review reasons of the hand-written rules (a router feature).
    pub rule_review: Vec<(ReviewReason, String)>,
    pub inputs: router::Inputs,
}

/// Read `question`: the hand-written facts and rules (as features), the
/// legal-aid hint, and the router's inputs (with the sentence embedding when
/// an encoder was given). Injection wrappers matched by the hard rules are
/// removed from the text the router reads.
pub fn read(question: &str, hits: &[Hit], year: i32) -> Reading {
    read_as(question, hits, year, true)
}

/// The text the router reads for `question` (injection wrappers removed).
pub fn routed_text(question: &str) -> String {
    hard_rules::HardRules::builtin().strip(question)
}

/// [`read`], embedding the question only when `embed` (a router trained
/// without the embedding must read questions without it).
pub fn read_as(question: &str, hits: &[Hit], year: i32, embed: bool) -> Reading {
    let routed = routed_text(question);
    let f = facts::read(&routed, year);
    let scores = rules::score(&f, hits);
    let (aid, aid_why) = legal_aid::assess(&f);
    let rule_review = review::reasons(&f, &aid);
    let inputs = router::Inputs {
        text: learned::without_filler(&f.factual_text),
        embedding: if embed { embedding_of(&routed) } else { None },
        laws: hits
            .iter()
            .take(5)
            .map(|h| rules::short_law(&h.law).to_string())
            .collect(),
        rule_scores: Service::ALL.map(|s| scores.get(s)),
        rule_reasons: rule_review.iter().map(|(r, _)| r.id()).collect(),
    };
    Reading {
        facts: f,
        scores,
        aid,
        aid_why,
        rule_review,
        inputs,
    }
}

/// How the router's output, the hard rules and the hand-written review
/// reasons are combined (the variants the cross-author harness measures).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Apply the hard rules (`hard_rules.toml`).
    pub hard_rules: bool,
    /// Also raise every review reason the hand-written rules raise
    /// (measured: without them the cross-author needs_review recall drops).
    pub rule_reasons: bool,
    /// When the hand-written rules' best score reaches this, their best
    /// service is the primary instead of the router's. Measured by 5-fold
    /// cross-validation inside each author: no bar from 3 to 8 beat the
    /// router alone, so it is off.
    pub rules_decide_at: Option<f32>,
    /// Let the learned injection detector ([`injection`]) raise
    /// `injection` beside the hard rules.
    pub injection_detector: bool,
    /// Let the learned out-of-scope detector ([`scope`]) raise
    /// `out_of_scope` (it reads the sentence embedding: off in effect
    /// without the encoder).
    pub scope_detector: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            hard_rules: true,
            rule_reasons: true,
            rules_decide_at: None,
            injection_detector: true,
            scope_detector: true,
        }
    }
}

/// Why each service is the first step, in a citizen's words (ROUTING.md §1).
fn policy_line(s: Service) -> &'static str {
    match s {
        Service::Consultation => "您需要的主要是弄清法律怎么规定、怎么计算、是否有效，先听取法律咨询就可以自己判断和处理",
        Service::Mediation => "这是和还要继续来往的人（邻居、亲戚、房东、同事等）之间的纠纷，对方还能沟通，先找人民调解最省时省钱",
        Service::Litigation => "对方拒绝或否认，或者这件事只有法院能处理（起诉、应诉、强制执行、上诉等），需要走诉讼",
        Service::Arbitration => "这类争议（劳动争议、农村土地承包、有仲裁条款的合同）依法要先申请仲裁，仲裁是起诉前的第一步",
        Service::Lawyer => "这件事涉及刑事案件或比较复杂、金额较大，最好委托专业律师代理",
        Service::LegalAid => "您可能符合法律援助条件，又需要有人代理，可以申请由法律援助机构免费指派律师",
        Service::Administrative => "有主管的行政机关可以直接处理（投诉、举报、申请、复议），这是最快的途径",
        Service::Notary => "这是不涉及争议的办理或证明事项，到公证处办理公证即可",
        Service::JudicialAppraisal => "争议的关键在于需要专业鉴定意见（伤残、笔迹、医疗过错、工程质量等），要先做司法鉴定",
        Service::Emergency => "可能有人身危险正在发生，请先拨打110或相关紧急电话，确保安全",
    }
}

/// Why a case needs a person, in a citizen's words.
fn reason_line(r: ReviewReason) -> &'static str {
    match r {
        ReviewReason::Criminal => "可能涉及刑事案件，工作人员会核实",
        ReviewReason::Safety => "可能关系到人身安全，工作人员会尽快跟进",
        ReviewReason::Minor => "涉及未成年人的权益或安全，工作人员会重点关注",
        ReviewReason::AidEligibility => "您可能符合法律援助条件，工作人员会核实",
        ReviewReason::Complaint => "这是对法律服务机构或人员的投诉，由工作人员处理",
        ReviewReason::OutOfScope => "这个请求可能不属于中国法律服务的范围",
        ReviewReason::Injection => "留言中有要求改变助手规则的内容，这部分不会照做",
        ReviewReason::Complex => "案情较复杂（多方、金额大、涉外或群体等），工作人员会再看一遍",
        ReviewReason::Deadline => "有法律期限可能快到或已过，请尽快行动，工作人员会核实",
        ReviewReason::LowConfidence => "找到的法律依据不够充分，工作人员会补充",
        ReviewReason::CitationRemoved => "回答中有引用未能核实，已删去，工作人员会再看",
        ReviewReason::FallbackUsed => "这次的回答是直接摘录的法条，工作人员会补充说明",
        ReviewReason::DenialHeld => "系统起草的是否定性答复，需工作人员核实后再答复您",
    }
}

fn snippet(q: &str, n: usize) -> String {
    let s: String = q.chars().take(n).collect();
    if q.chars().count() > n {
        format!("{s}……")
    } else {
        s
    }
}

/// Triage with a given router and options (the cross-author harness trains
/// its own routers; [`triage_in_year`] uses the built-in one).
pub fn triage_with(
    router: &router::Router,
    opts: &Options,
    question: &str,
    hits: &[Hit],
    directory: &Directory,
    year: i32,
) -> Triage {
    let r = read_as(question, hits, year, router.reads_embedding());
    triage_reading(router, opts, question, r, hits, directory)
}

/// [`triage_with`] on a question already [`read`] (the harness reads each
/// labelled case once and routes it with several routers).
pub fn triage_reading(
    router: &router::Router,
    opts: &Options,
    question: &str,
    r: Reading,
    hits: &[Hit],
    directory: &Directory,
) -> Triage {
    let pred = router.predict(&r.inputs);
    let fired = if opts.hard_rules {
        hard_rules::HardRules::builtin().check(question)
    } else {
        Vec::new()
    };
    let out_of_scope = fired.iter().find(|f| {
        f.rule.primary == Some(Service::Consultation)
            && f.rule.reasons.contains(&ReviewReason::OutOfScope)
    });
    let danger = fired
        .iter()
        .find(|f| f.rule.primary == Some(Service::Emergency));
    // ROUTING.md §2: wholly out of scope first, then danger now, then the router.
    let (primary_service, decided_by) = match (out_of_scope, danger) {
        (Some(f), _) => (Service::Consultation, Some(f)),
        (None, Some(f)) => (Service::Emergency, Some(f)),
        _ => {
            let rules_best = Service::ALL.iter().copied().zip(r.inputs.rule_scores).fold(
                (Service::Consultation, 0.0f32),
                |b, x| {
                    if x.1 > b.1 {
                        x
                    } else {
                        b
                    }
                },
            );
            match opts.rules_decide_at {
                Some(bar) if rules_best.1 >= bar => (rules_best.0, None),
                _ => (pred.primary(), None),
            }
        }
    };

    // Injection is decided by the hard rules (tactics, as data) and the
    // injection detector (character n-grams, trained on the probe lists and
    // the labelled cases), not by the router's vote: that vote keyed on the
    // ordinary legal question inside the labelled injection cases and
    // flagged plain questions like them.
    let mut reasons: Vec<ReviewReason> = pred
        .reasons
        .iter()
        .copied()
        .filter(|x| *x != ReviewReason::Injection)
        .collect();
    for f in &fired {
        reasons.extend(f.rule.reasons.iter().copied());
    }
    if opts.injection_detector && router.flags_injection(question) {
        reasons.push(ReviewReason::Injection);
    }
    if opts.scope_detector && router.flags_out_of_scope(&r.inputs) {
        reasons.push(ReviewReason::OutOfScope);
    }
    if opts.rule_reasons {
        reasons.extend(r.rule_review.iter().map(|(x, _)| *x));
    }
    // A rule that says "this is in scope" (a question about the service
    // itself...) takes away what only the router or the fact rules raised.
    let cleared = |x: &ReviewReason| fired.iter().any(|f| f.rule.clears.contains(x));
    let raised_hard = |x: &ReviewReason| fired.iter().any(|f| f.rule.reasons.contains(x));
    reasons.retain(|x| !cleared(x) || raised_hard(x));
    if out_of_scope.is_some() {
        reasons.retain(|x| matches!(x, ReviewReason::OutOfScope | ReviewReason::Injection));
    }
    // Whatever sent a case to the emergency services, a person follows it up.
    if primary_service == Service::Emergency {
        reasons.push(ReviewReason::Safety);
    }
    let mut review_reasons: Vec<ReviewReason> = router::REASONS
        .iter()
        .copied()
        .filter(|x| reasons.contains(x))
        .collect();
    review_reasons.dedup();

    let services: Vec<Service> = if out_of_scope.is_some() {
        vec![Service::Consultation]
    } else {
        let mut v = vec![primary_service];
        let mut push = |s: Service| {
            if !v.contains(&s) {
                v.push(s);
            }
        };
        if review_reasons.contains(&ReviewReason::Safety) {
            push(Service::Emergency);
        }
        if review_reasons.contains(&ReviewReason::AidEligibility) || r.aid.may_qualify {
            push(Service::LegalAid);
        }
        for (s, p) in pred.ranked() {
            if p >= SECOND_SERVICE_MIN {
                push(s);
            }
        }
        // A service whose own law was retrieved (a notary-law article...).
        for h in hits.iter().take(3) {
            if let Some(s) = rules::law_service(&h.law) {
                push(s);
            }
        }
        v.truncate(MAX_ROUTED_SERVICES);
        v
    };

    // Why, in a citizen's words: the rule that decided, the nearest
    // labelled cases, the articles, legal aid, then review reasons.
    let mut why = Vec::new();
    match decided_by {
        Some(f) => why.push(format!("{}：{}", primary_service.name_zh(), f.rule.why)),
        None => why.push(format!(
            "{}：{}",
            primary_service.name_zh(),
            policy_line(primary_service)
        )),
    }
    if out_of_scope.is_none() {
        // An ordinary consultation, not a labelled injection or off-topic
        // probe, is what a citizen may be shown as a precedent.
        let shown = router
            .nearest(&r.inputs.text, 8, Some(primary_service))
            .into_iter()
            .filter(|(c, _)| {
                !c.reasons
                    .iter()
                    .any(|x| matches!(x, ReviewReason::Injection | ReviewReason::OutOfScope))
            })
            .take(1);
        for (c, sim) in shown {
            if sim >= 0.3 {
                why.push(format!(
                    "与已处理过的类似咨询相近（“{}”），那次的建议也是{}",
                    snippet(&c.question, 30),
                    primary_service.name_zh()
                ));
            }
        }
        for h in hits.iter().take(2) {
            why.push(format!(
                "相关法条：《{}》{}",
                rules::short_law(&h.law),
                h.article_label
            ));
        }
        why.extend(r.aid_why.iter().take(2).cloned());
    }
    for x in &review_reasons {
        let line = fired
            .iter()
            .find(|f| f.rule.reasons.contains(x))
            .map_or(reason_line(*x), |f| f.rule.why.as_str());
        why.push(format!("需工作人员复核（{}）：{}", x.id(), line));
    }

    let referral = directory.referral(primary_service, &r.facts.legal_text);
    tracing::debug!(primary = primary_service.id(), reasons = ?review_reasons, "triage");
    Triage {
        primary_service,
        services,
        why,
        needs_review: !review_reasons.is_empty(),
        review_reasons,
        legal_aid: r.aid,
        referral,
    }
}

/// The pipeline before the learned router (hand-written rules, then a naive
/// Bayes voter where they scored weakly). Kept only as the baseline of the
/// cross-author harness ([`xauthor`]); not used to answer anyone.
pub fn legacy_triage_in_year(
    question: &str,
    hits: &[Hit],
    directory: &Directory,
    year: i32,
) -> Triage {
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
