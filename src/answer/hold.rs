//! Holding back drafted conclusions that deny the asker something.
//!
//! A blind judge read 120 answers of the 1.5B drafter to held-out STARD
//! questions (`eval/README.md`, third round): 4 of the 10 whose 结论 said
//! 不能 / 无权 / 不需要 … would have hurt the asker if acted on, against 7 of
//! 60 "yes" conclusions. A wrong "no" makes a person give up a claim, a
//! payment or a deadline; a wrong "yes" at least sends them to someone who
//! checks. So a drafted conclusion whose stance is "no" is not shown: the
//! answer says that the question needs a person, quotes the articles the
//! drafter was given (their text, not an interpretation), gives the next
//! steps, and the case goes to the review queue (`denial_held`) with the
//! draft's conclusion as the note, for staff to confirm or correct.
//!
//! The stance is read from modal cues in the first two sentences of the 结论
//! (the reader the eval's answer-quality measure uses, `eval::quality`), but
//! only the cues that deny the asker something count as "no" here
//! ([`DENIAL_CUES`]): a prohibition (不得, 违法, 无效) usually binds the
//! other side. Cue lists a person can read, not a learned model.
//!
//! While the answer streams, [`ConclusionGate`] keeps the 结论 back until its
//! stance is known (two sentences, or the end of the 结论), then releases it
//! or holds it; nothing shown is ever taken back.

use serde::{Deserialize, Serialize};

use crate::search::Hit;

/// Yes / no / unclear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stance {
    Yes,
    No,
    Unclear,
}

/// Cues of a "no" (read first; a cue found here is not counted again as the
/// "yes" cue inside it: 不能 is not 能).
const NO_CUES: [&str; 22] = [
    "不能",
    "不可以",
    "不可",
    "无权",
    "不需要",
    "不需",
    "不用",
    "不应",
    "不必",
    "不会",
    "不构成",
    "不属于",
    "无效",
    "不影响",
    "不得",
    "不承担",
    "不予",
    "没有权",
    "不合法",
    "不支持",
    "违法",
    "不行",
];

/// The "no" cues that deny the asker something: cannot, need not, has no
/// right, will not be supported, is not (a work injury, a crime …). The
/// other "no" cues state a prohibition or an invalidity (不得, 违法, 无效,
/// 不应 …), which usually bind the other side and favour the asker; they
/// do not hold a draft (they are still read, so their "yes" part is not
/// counted as a yes).
const DENIAL_CUES: [&str; 14] = [
    "不能",
    "不可以",
    "不可",
    "无权",
    "没有权",
    "不需要",
    "不需",
    "不用",
    "不必",
    "不予",
    "不支持",
    "不行",
    "不承担",
    "不构成",
];

/// Statute terms with 不能 inside that deny nothing (不能胜任工作,
/// 不能清偿到期债务, 不能预见、不能避免并不能克服 …): set aside before the
/// denial cues are counted.
const TERMS_NOT_DENIALS: [&str; 8] = [
    "不能胜任",
    "不能清偿",
    "不能履行",
    "不能预见",
    "不能避免",
    "不能克服",
    "不能辨认",
    "不能控制",
];

/// Cues of a "yes".
const YES_CUES: [&str; 14] = [
    "可以",
    "有权",
    "应当",
    "应该",
    "需要",
    "构成",
    "属于",
    "有效",
    "能够",
    "合法",
    "支持",
    "须",
    "要承担",
    "承担",
];

/// Sentence ends, for the stance window.
const SENTENCE_ENDS: [char; 8] = ['。', '！', '？', '；', '!', '?', ';', '\n'];

/// The sentences of `text`: split at 。！？； (and their ASCII forms) and
/// line breaks, trimmed, empty ones dropped.
pub fn sentences(text: &str) -> impl Iterator<Item = &str> {
    text.split(SENTENCE_ENDS)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The sentences a stance is read from (a greeting alone is not one).
fn stance_sentences(text: &str) -> impl Iterator<Item = &str> {
    sentences(text).filter(|s| !s.starts_with("您好") || s.chars().count() > 6)
}

/// The stance of the first `n` sentences of `text` (a greeting alone does
/// not count as a sentence).
pub fn stance(text: &str, n: usize) -> Stance {
    stance_counting(text, n, &NO_CUES, &[])
}

/// [`stance`] counting only the "no" cues in `counted` (the others are
/// read and set aside), after setting aside the phrases in `terms`.
fn stance_counting(text: &str, n: usize, counted: &[&str], terms: &[&str]) -> Stance {
    let head: String = stance_sentences(text)
        .take(n)
        .collect::<Vec<_>>()
        .join("。");
    let mut no = 0usize;
    let mut rest = head.clone();
    for t in terms {
        rest = rest.replace(t, "□");
    }
    for cue in NO_CUES {
        if counted.contains(&cue) {
            no += rest.matches(cue).count();
        }
        rest = rest.replace(cue, "□");
    }
    let yes: usize = YES_CUES.iter().map(|c| rest.matches(c).count()).sum();
    match (yes, no) {
        (0, 0) => Stance::Unclear,
        (y, n) if n > y => Stance::No,
        (y, n) if y > n => Stance::Yes,
        _ => Stance::Unclear,
    }
}

/// Sentences of the 结论 the stance is read from.
pub const STANCE_SENTENCES: usize = 2;

/// Whether a drafted 结论 denies the asker something and is held: its
/// stance is "no" counting only [`DENIAL_CUES`], statute terms like
/// 不能胜任 set aside.
pub fn denies(conclusion: &str) -> bool {
    stance_counting(
        conclusion,
        STANCE_SENTENCES,
        &DENIAL_CUES,
        &TERMS_NOT_DENIALS,
    ) == Stance::No
}

/// The 结论 shown in place of a held one.
/// It carries no stance cue itself, so measures of stance read it as unclear.
pub const HELD_CONCLUSION: &str = "系统起草的是一个否定性的答复。这类答复一旦出错，可能让您错失本来享有的权利，系统无法可靠地核实，所以这里先不给出结论，已转请工作人员复核后答复您。在此之前，请不要因此放弃主张权利，并留意下面的时限。";

/// The answer shown when a drafted conclusion is held: [`HELD_CONCLUSION`],
/// the articles the drafter was given (quoted, at most `n`), then `steps`
/// (the rendered 建议 block).
pub fn held_answer(articles: &[Hit], steps: &str, n: usize) -> String {
    let mut s = format!("结论：{HELD_CONCLUSION}\n\n");
    if !articles.is_empty() {
        s.push_str("相关条文（原文摘录，供参考）：\n");
        s.push_str(&super::extractive::quote(articles, n));
        s.push('\n');
    }
    s.push_str(steps);
    s
}

/// What [`ConclusionGate`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The 结论 is still being written.
    Pending,
    /// Shown: everything passes from now on.
    Released,
    /// Not shown: the draft is dropped.
    Held,
}

/// Keeps a streaming draft back until the stance of its 结论 is known.
#[derive(Debug)]
pub struct ConclusionGate {
    buf: String,
    verdict: Verdict,
}

impl ConclusionGate {
    /// A gate; a disabled one releases everything at once.
    pub fn new(enabled: bool) -> Self {
        ConclusionGate {
            buf: String::new(),
            verdict: if enabled {
                Verdict::Pending
            } else {
                Verdict::Released
            },
        }
    }

    pub fn verdict(&self) -> Verdict {
        self.verdict
    }

    /// The 结论 read so far (what a held draft said).
    pub fn conclusion(&self) -> String {
        super::conclusion_of(&self.buf)
    }

    /// Feed released text; returns what may be shown now.
    pub fn push(&mut self, text: &str) -> String {
        match self.verdict {
            Verdict::Released => return text.to_string(),
            Verdict::Held => return String::new(),
            Verdict::Pending => {}
        }
        self.buf.push_str(text);
        if self.conclusion_complete() {
            self.decide()
        } else {
            String::new()
        }
    }

    /// The draft ended: decide on what there is.
    pub fn finish(&mut self) -> String {
        match self.verdict {
            Verdict::Pending => self.decide(),
            _ => String::new(),
        }
    }

    fn decide(&mut self) -> String {
        if denies(&self.conclusion()) {
            self.verdict = Verdict::Held;
            String::new()
        } else {
            self.verdict = Verdict::Released;
            std::mem::take(&mut self.buf)
        }
    }

    /// The 结论 has ended (依据, 建议 or a blank line follows it), or holds
    /// enough whole sentences for its stance to be final.
    fn conclusion_complete(&self) -> bool {
        let start = self.buf.find("结论：").map_or(0, |i| i + "结论：".len());
        let rest = &self.buf[start..];
        let body = rest.trim_start();
        if body.is_empty() {
            return false;
        }
        if ["\n\n", "依据", "建议："].iter().any(|m| body.contains(m)) {
            return true;
        }
        // Whole sentences (followed by an end mark) that the stance reads.
        let whole = match body.rfind(SENTENCE_ENDS) {
            Some(i) => &body[..i],
            None => return false,
        };
        stance_sentences(whole).count() >= STANCE_SENTENCES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stance_reads_modal_cues() {
        assert_eq!(stance("您好，可以要求对方还款。", 2), Stance::Yes);
        assert_eq!(stance("不能要求对方返还，因为是赠与。", 2), Stance::No);
        assert_eq!(stance("这取决于具体情况。", 2), Stance::Unclear);
        // A negative cue is not counted again as the positive one inside it.
        assert_eq!(stance("不可以。", 2), Stance::No);
    }

    /// Feed `text` in pieces of `step` characters; what was shown, and the
    /// verdict.
    fn stream(text: &str, step: usize) -> (String, Verdict) {
        let mut g = ConclusionGate::new(true);
        let chars: Vec<char> = text.chars().collect();
        let mut shown = String::new();
        for piece in chars.chunks(step) {
            shown.push_str(&g.push(&piece.iter().collect::<String>()));
        }
        shown.push_str(&g.finish());
        (shown, g.verdict())
    }

    #[test]
    fn a_no_conclusion_is_held_and_nothing_of_it_is_shown() {
        let draft = "结论：您不能要求超市赔偿。\n\n依据：《民法典》第一千一百七十九条规定……";
        for step in [1, 3, 50] {
            let (shown, v) = stream(draft, step);
            assert_eq!(v, Verdict::Held, "step {step}");
            assert_eq!(shown, "", "step {step}");
        }
    }

    #[test]
    fn a_yes_or_unclear_conclusion_passes_whole_and_unchanged() {
        for draft in [
            "结论：您可以要求超市赔偿。\n\n依据：《民法典》第一千零一十一条……",
            "结论：这要看合同怎么约定。依据：……",
            "结论：可以。",
        ] {
            for step in [1, 4, 100] {
                let (shown, v) = stream(draft, step);
                assert_eq!(v, Verdict::Released, "{draft} step {step}");
                assert_eq!(shown, draft, "step {step}");
            }
        }
    }

    #[test]
    fn the_stance_is_decided_after_two_sentences_without_waiting_for_the_end() {
        let mut g = ConclusionGate::new(true);
        assert_eq!(g.push("结论：您好。可以要求返还。"), "");
        assert_eq!(
            g.verdict(),
            Verdict::Pending,
            "a greeting is not a sentence"
        );
        let out = g.push("对方应当退款。利息");
        assert_eq!(g.verdict(), Verdict::Released);
        assert_eq!(out, "结论：您好。可以要求返还。对方应当退款。利息");
        assert_eq!(g.push("也可以主张。"), "也可以主张。");
    }

    #[test]
    fn a_prohibition_on_the_other_side_is_not_a_denial() {
        assert!(denies("您不能要求对方赔偿。"));
        assert!(denies("公司不承担责任。"));
        assert!(!denies("承揽人不得擅自更换定作人提供的材料。"));
        assert!(!denies("晚上施工违法，噪声扰民的行为不合法。"));
        assert!(!denies("这个格式条款无效。"));
        assert!(!denies(
            "劳动者不能胜任工作，经过培训仍不能胜任的，用人单位可以解除合同。"
        ));
        assert!(denies("劳动者不能要求经济补偿。"));
        // The eval's reader still calls them "no".
        assert_eq!(stance("这个格式条款无效。", 2), Stance::No);
    }

    #[test]
    fn a_disabled_gate_passes_everything() {
        let mut g = ConclusionGate::new(false);
        assert_eq!(g.push("结论：不能。"), "结论：不能。");
        assert_eq!(g.finish(), "");
    }

    #[test]
    fn the_held_answer_quotes_the_articles_and_keeps_the_steps() {
        let h = Hit {
            law: "民法典".into(),
            article: 1011,
            suffix: 0,
            article_label: "第一千零一十一条".into(),
            text: "以非法拘禁等方式剥夺、限制他人的行动自由，或者非法搜查他人身体的，受害人有权依法请求行为人承担民事责任。".into(),
            score: 1.0,
            level: "法律".into(),
            status: "现行有效".into(),
            dense: None,
            rerank: None,
        };
        let a = held_answer(&[h], "建议：\n1. 拨打12348咨询。", 3);
        assert!(a.starts_with("结论：系统起草的是一个否定性的答复"), "{a}");
        assert!(
            a.contains("民法典") && a.contains("第一千零一十一条"),
            "{a}"
        );
        assert!(a.contains("非法搜查他人身体"), "{a}");
        assert!(a.ends_with("建议：\n1. 拨打12348咨询。"), "{a}");
        let shown = super::super::conclusion_of(&a);
        assert_eq!(stance(&shown, STANCE_SENTENCES), Stance::Unclear, "{shown}");
    }
}
