//! Holding citations back while an answer streams: a 《…》第N条 (or
//! `劳动合同法第82条`, `、第30条` after a cited law) is not shown until it is
//! complete and checked against the corpus; then it is released as written
//! when valid, re-attributed when it plainly belongs to another retrieved law
//! (as [`super::verify`] does), or replaced by a marker when it cannot be
//! verified. Everything shown is final: the streamed text and the stored
//! answer are the same text, so no client ever sees a citation that is later
//! removed.
//!
//! The model is also asked to stop after 依据 (the next steps are built from
//! verified parts): a line starting with a next-steps heading (建议, 办理途径,
//! 时限, ...) ends the draft here, before it is shown.

use crate::cite::CiteStatus;
use crate::corpus::aliases::NameIndex;
use crate::corpus::Corpus;
use crate::search::Hit;

use super::verify;

/// Shown in place of a citation that could not be verified.
pub const REMOVED_MARKER: &str = "〔无法核实的引用已删除〕";

/// Characters of an article reference after the law name.
fn numberish(c: char) -> bool {
    matches!(c, '第' | '条' | '之' | '款' | '0'..='9' | '０'..='９')
        || "零〇一二两三四五六七八九十百千".contains(c)
}

/// Characters a law name written without 《》 may contain.
fn name_char(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '（' | '）' | '(' | ')' | '、')
}

/// Endings of a law name (or 该法) that an article number may follow.
const LAW_ENDINGS: [&str; 7] = ["法", "法典", "条例", "规定", "办法", "解释", "决定"];

/// Decorations a model puts before a section heading.
fn decoration(c: char) -> bool {
    c.is_whitespace()
        || c.is_ascii_digit()
        || "*#.、．)）(（-—一二三四五六七八九十【】[]".contains(c)
}

/// Headings of the next-steps part of an answer. The model is asked to stop
/// after 依据, but a small model goes on to write its own 办理途径 and 时限,
/// and those may be invented; lawbrain builds that part from verified parts.
const NEXT_STEPS_HEADINGS: [&str; 8] = [
    "建议",
    "办理途径",
    "时限",
    "联系方式",
    "下一步",
    "维权途径",
    "处理建议",
    "操作步骤",
];

/// Where a line of `text` at or after `from` is a next-steps section heading
/// (`建议：`, `**办理途径**`, a line of its own), if one is.
fn next_steps_heading(text: &str, from: usize) -> Option<usize> {
    let mut line_start = text[..from].rfind('\n').map_or(0, |i| i + 1);
    for line in text[line_start..].split_inclusive('\n') {
        let core = line.trim_start_matches(decoration);
        let bare = core
            .trim_end()
            .trim_end_matches(['*', '：', ':', '】', '#']);
        let heading = NEXT_STEPS_HEADINGS.iter().any(|h| {
            (bare == *h && line.ends_with('\n'))
                || core
                    .strip_prefix(h)
                    .is_some_and(|rest| rest.starts_with(['：', ':', '*', '】']))
        });
        if line_start >= from && heading {
            return Some(line_start);
        }
        line_start += line.len();
    }
    None
}

/// The byte offset up to which `text` can be released: nothing after it can
/// belong to a citation that is still being written.
pub fn hold_point(text: &str) -> usize {
    // Trailing white space waits for what follows (nothing may follow).
    let mut h = text.trim_end().len();
    // A last line that may still become a next-steps heading.
    let ls = text.rfind('\n').map_or(0, |i| i + 1);
    let core = text[ls..].trim_start_matches(decoration);
    if NEXT_STEPS_HEADINGS.iter().any(|hd| hd.starts_with(core)) {
        h = h.min(ls);
    }
    // An unclosed 《.
    if let Some(o) = text.rfind('《') {
        if !text[o..].contains('》') {
            h = h.min(o);
        }
    }
    // A trailing article number in progress (第三十, 82条, 第3条第).
    let tail = text
        .char_indices()
        .rev()
        .take_while(|(_, c)| numberish(*c))
        .last()
        .map_or(text.len(), |(i, _)| i);
    h = h.min(tail);
    let before = &text[..tail];
    if let Some(stripped) = before.strip_suffix('》') {
        // 《…》 that a 第N条 may follow.
        if let Some(o) = stripped.rfind('《') {
            h = h.min(o);
        }
    } else {
        let run = before
            .char_indices()
            .rev()
            .take_while(|(_, c)| name_char(*c))
            .take(40)
            .last()
            .map_or(before.len(), |(i, _)| i);
        let name = &before[run..];
        if !name.is_empty() && (tail < text.len() || LAW_ENDINGS.iter().any(|e| name.ends_with(e)))
        {
            h = h.min(run);
        }
    }
    h
}

/// The citation hold-back filter over one streamed draft.
/// Where a sentence that could still become a system rule starts at the end
/// of `text` (its length when none): such a sentence is held until it
/// either becomes the rule (and is cut) or turns into something else.
pub fn rule_prefix_start(text: &str) -> usize {
    let start = text
        .rfind(['\n', '。', '：', '！', '？', '；'])
        .map_or(0, |i| {
            i + text[i..].chars().next().map_or(1, char::len_utf8)
        });
    let tail = text[start..].trim_start();
    if tail.is_empty() {
        return text.len();
    }
    if super::prompt::secret_sentences()
        .iter()
        .any(|r| r.starts_with(tail))
    {
        start
    } else {
        text.len()
    }
}

pub struct CitationHold<'a> {
    corpus: &'a Corpus,
    names: NameIndex,
    retrieved: &'a [Hit],
    raw: String,
    released: usize,
    shown: String,
    done: bool,
    /// System rules the draft repeated, cut before release.
    rules_cut: usize,
}

impl<'a> CitationHold<'a> {
    pub fn new(corpus: &'a Corpus, retrieved: &'a [Hit]) -> Self {
        CitationHold {
            corpus,
            names: NameIndex::new(corpus),
            retrieved,
            raw: String::new(),
            released: 0,
            shown: String::new(),
            done: false,
            rules_cut: 0,
        }
    }

    /// Whether the draft reached the 建议 heading (generation may stop).
    pub fn done(&self) -> bool {
        self.done
    }

    /// Take the next piece of the draft; returns the text to show now.
    pub fn push(&mut self, piece: &str) -> String {
        if self.done {
            return String::new();
        }
        self.raw.push_str(piece);
        self.cut_rules();
        if let Some(cut) = next_steps_heading(&self.raw, self.released) {
            self.raw.truncate(cut);
            return self.finish();
        }
        let h = hold_point(&self.raw)
            .min(rule_prefix_start(&self.raw))
            .max(self.released);
        self.release(h)
    }

    /// Cut every whole system rule from the part not yet shown (small
    /// models sometimes repeat one at the end of a draft; a request to
    /// reveal the rules repeats many).
    fn cut_rules(&mut self) {
        for rule in super::prompt::secret_sentences() {
            while let Some(i) = self.raw[self.released..].find(rule) {
                let start = self.released + i;
                let mut end = start + rule.len();
                if self.raw[end..].starts_with('。') {
                    end += '。'.len_utf8();
                }
                self.raw.replace_range(start..end, "");
                self.rules_cut += 1;
            }
        }
    }

    /// System rules cut from the draft so far.
    pub fn rules_cut(&self) -> usize {
        self.rules_cut
    }

    /// The draft ended: release what is left.
    pub fn finish(&mut self) -> String {
        self.cut_rules();
        let end = self.raw.trim_end().len().max(self.released);
        self.raw.truncate(end);
        self.done = true;
        self.release(end)
    }

    /// The text shown so far.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// The draft as the model wrote it (after the 建议 cut).
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The verified citations of everything released, and the shown text.
    pub fn verified(&self) -> verify::Verified {
        let found = crate::cite::check_with(&self.raw, self.corpus, &self.names);
        let v = verify::apply(&self.raw, &found, self.retrieved);
        verify::Verified {
            text: self.shown.clone(),
            citations: v.citations,
            removed: v.removed,
        }
    }

    fn release(&mut self, upto: usize) -> String {
        let mut upto = upto.min(self.raw.len());
        if upto <= self.released {
            return String::new();
        }
        let found = crate::cite::check_with(&self.raw[..upto], self.corpus, &self.names);
        // A citation running past the release point waits for the next round.
        if !self.done {
            if let Some(c) = found
                .iter()
                .find(|c| c.start < upto && c.end > upto && c.end > self.released)
            {
                upto = c.start.max(self.released);
            }
        }
        if upto <= self.released {
            return String::new();
        }
        let from = self.released;
        let seg = &self.raw[from..upto];
        let mut edits: Vec<(usize, usize, String)> = Vec::new();
        for c in found.iter().filter(|c| c.end > from && c.end <= upto) {
            let start = c.start.max(from);
            if !self.raw.is_char_boundary(start) || !self.raw.is_char_boundary(c.end) {
                continue;
            }
            if let Some(h) = verify::misattributed(c, self.retrieved) {
                edits.push((
                    start,
                    c.end,
                    format!("《{}》{}", h.law, &self.raw[start..c.end]),
                ));
            } else if c.status != CiteStatus::Valid {
                tracing::info!(law = %c.law, article = c.article, "held-back citation removed");
                edits.push((start, c.end, REMOVED_MARKER.to_string()));
            }
        }
        edits.sort_unstable_by_key(|e| (e.0, e.1));
        let mut out = String::with_capacity(seg.len());
        let mut pos = from;
        for (s, e, with) in edits {
            if s < pos {
                continue;
            }
            out.push_str(&self.raw[pos..s]);
            out.push_str(&with);
            pos = e;
        }
        out.push_str(&self.raw[pos..upto]);
        self.released = upto;
        self.shown.push_str(&out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_what_may_still_be_a_citation() {
        // Released up to the unclosed 《.
        assert_eq!(hold_point("依据《中华人民共和国民"), "依据".len());
        // A closed title may be followed by 第N条.
        assert_eq!(hold_point("依据《民法典》"), "依据".len());
        assert_eq!(hold_point("依据《民法典》第六百"), "依据".len());
        // Complete and followed by other text: nothing held.
        let t = "依据《民法典》第六百七十五条，借款人应当按期返还。";
        assert_eq!(hold_point(t), t.len());
        // A law name without 《》 and a number in progress.
        assert_eq!(hold_point("根据劳动合同法第8"), 0);
        assert_eq!(hold_point("根据劳动合同法"), 0);
        // Plain text, or a number in a sentence that ends: released.
        assert_eq!(hold_point("可以要求对方还款，"), "可以要求对方还款，".len());
        // A line that may become the 建议 heading.
        assert_eq!(hold_point("结论：可以。\n建"), "结论：可以。\n".len());
    }

    #[test]
    fn a_repeated_system_rule_is_held_and_cut_never_shown() {
        let rules = super::super::prompt::secret_sentences();
        let rule = rules[rules.len() - 1];
        let corpus = Corpus::default();
        let mut hold = CitationHold::new(&corpus, &[]);
        let draft = format!("结论：可以要求对方还款。\n{rule}。");
        let mut shown = String::new();
        // In small pieces, as a model streams it.
        let chars: Vec<char> = draft.chars().collect();
        for piece in chars.chunks(3) {
            shown.push_str(&hold.push(&piece.iter().collect::<String>()));
            let head: String = rule.chars().take(2).collect();
            assert!(
                !shown.contains(&head),
                "part of the rule was shown: {shown}"
            );
        }
        shown.push_str(&hold.finish());
        assert_eq!(shown.trim_end(), "结论：可以要求对方还款。");
        assert_eq!(hold.rules_cut(), 1);
        // A sentence that only starts like a rule is released in the end.
        let first = rule.chars().next().map(String::from).unwrap_or_default();
        assert_eq!(rule_prefix_start(&format!("好。{first}")), "好。".len());
        assert_eq!(rule_prefix_start("好。可以"), "好。可以".len());
    }

    #[test]
    fn heading_of_next_steps_is_found_at_a_line_start() {
        let head = |t: &str| next_steps_heading(t, 0);
        assert_eq!(
            head("结论：可以。\n建议：去仲裁"),
            Some("结论：可以。\n".len())
        );
        assert_eq!(
            head("结论：可以。\n**建议：**"),
            Some("结论：可以。\n".len())
        );
        assert_eq!(head("结论：建议您尽快起诉。"), None);
        assert_eq!(head("结论：可以。\n建议您尽快起诉。\n"), None);
        assert_eq!(head("依据：\n3. 建议\n"), Some("依据：\n".len()));
        // Only headings at or after `from` count.
        assert_eq!(next_steps_heading("建议：x\n结论", 3), None);
        // The model's own 办理途径 and 时限 (which may be invented) are cut
        // as well; the words inside a sentence are not headings.
        let t =
            "结论：可以投诉。\n依据：第九条。\n\n办理途径：向劳动行政部门投诉。\n时限：十五日内。";
        assert_eq!(head(t), Some(t.find("办理途径").expect("present")));
        assert_eq!(
            head("依据：第九条。\n**时限**：一年"),
            Some("依据：第九条。\n".len())
        );
        assert_eq!(head("依据：\n时限是一年，从知道之日起算。"), None);
        assert_eq!(head("依据：仲裁时限为一年。\n"), None);
    }
}
