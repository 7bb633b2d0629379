//! Text repairs for article texts from `laws.db` and local files.
//!
//! Owns: stripping part headings (编/分编/附则) that leaked into the end of the
//! previous article, Pandoc image placeholders and table rules, ASCII double
//! quotes (turned into Chinese “ ” pairwise), and stray spaces between Chinese
//! characters. Every function is pure: text in, text out.

use regex::Regex;
use std::sync::OnceLock;

fn heading_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^(第[一二三四五六七八九十百]+(?:分编|编)[ \t\u{3000}\u{2009}]+\S[^。；：，]{0,40}|附[ \t\u{3000}\u{2009}]*则)$")
            .expect("valid heading regex")
    })
}

/// Whether a line is a part heading (`第二编 物 权`, `第一分编 通则`, `附 则`).
pub fn is_part_heading(line: &str) -> bool {
    heading_re().is_match(line.trim())
}

/// Normalise a heading for display: `第二编 物 权` -> `第二编 物权`, `附 则` -> `附则`.
pub fn normalize_heading(line: &str) -> String {
    let line = line.trim();
    let mut parts = line.split(|c: char| c.is_whitespace());
    let first = parts.next().unwrap_or_default();
    let rest: String = parts.collect();
    if rest.is_empty() {
        first.to_string()
    } else if first.starts_with('第') {
        format!("{first} {rest}")
    } else {
        format!("{first}{rest}")
    }
}

/// Remove part headings leaked into the end of an article. Returns the text
/// without them and the headings (normalised, in order of appearance): these
/// start the path of the articles that follow.
pub fn strip_leaked_headings(text: &str) -> (String, Vec<String>) {
    let mut lines: Vec<&str> = text.trim_end().lines().collect();
    let mut headings = Vec::new();
    while lines.len() > 1 {
        let last = lines[lines.len() - 1];
        if last.trim().is_empty() {
            lines.pop();
            continue;
        }
        if is_part_heading(last) {
            headings.push(normalize_heading(last));
            lines.pop();
        } else {
            break;
        }
    }
    headings.reverse();
    (lines.join("\n"), headings)
}

fn image_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r#"!\S{0,60}?\{(?:width|height)="[^"]*"(?:\s+(?:width|height)="[^"]*")*\s*\}"#)
            .expect("valid image regex")
    })
}

/// Remove Pandoc image placeholders (`!24427{width="3.2in"\nheight="3.5in"}`).
pub fn strip_images(text: &str) -> String {
    image_re().replace_all(text, "").into_owned()
}

/// Whether a line is only a table rule (`+-----+----+`, `----- -----`).
fn is_table_rule(line: &str) -> bool {
    let t = line.trim();
    t.chars().filter(|&c| c == '-' || c == '=').count() >= 3
        && t.chars()
            .all(|c| matches!(c, '-' | '+' | '|' | '=' | ':' | ' '))
}

/// Chinese characters, CJK punctuation and full-width forms.
pub fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}' | '\u{3001}'..='\u{303f}'
        | '\u{ff01}'..='\u{ff0f}' | '\u{ff1a}'..='\u{ff20}' | '\u{ff3b}'..='\u{ff40}'
        | '\u{ff5b}'..='\u{ff65}' | '“' | '”' | '‘' | '’' | '…' | '—' | '·')
}

fn is_stray_space(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\u{2009}' | '\u{200a}' | '\u{202f}' | '\u{00a0}' | '\u{2002}' | '\u{2003}'
    )
}

/// Remove spaces (ASCII, thin, no-break) between two Chinese characters or
/// Chinese punctuation: `审 判` -> `审判`, `方式， 自觉` -> `方式，自觉`.
/// Thin spaces elsewhere become ordinary spaces. The ideographic space
/// (U+3000) is kept: laws use it between a label and its text.
pub fn fix_spaces(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if is_stray_space(c) {
            let start = i;
            while i < chars.len() && is_stray_space(chars[i]) {
                i += 1;
            }
            let before = out.chars().last();
            let after = chars.get(i).copied();
            let between_cjk =
                matches!((before, after), (Some(b), Some(a)) if is_cjk(b) && is_cjk(a));
            if !between_cjk {
                // Keep one ordinary space (or the run, for table alignment).
                for &s in &chars[start..i] {
                    out.push(if s == ' ' || s == '\t' { s } else { ' ' });
                }
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Turn ASCII double quotes into Chinese quotes, pairwise. A quote at the start
/// of a line always opens (Chinese style repeats the opening quote on every
/// paragraph of a multi-paragraph quotation); otherwise quotes alternate.
pub fn fix_quotes(text: &str) -> String {
    if !text.contains('"') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut open = false;
    for (n, line) in text.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
        }
        let has_cjk = line.chars().any(is_cjk);
        for (i, c) in line.chars().enumerate() {
            if c == '"' && has_cjk {
                if i == 0 || !open {
                    out.push('“');
                    open = true;
                } else {
                    out.push('”');
                    open = false;
                }
            } else {
                out.push(c);
            }
        }
    }
    out
}

/// All repairs for one article text: images, table rules, spaces, quotes,
/// trailing spaces and blank lines.
pub fn clean_text(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let text = strip_images(&text);
    let text = fix_spaces(&text);
    let text = fix_quotes(&text);
    let mut lines: Vec<&str> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end();
        if line.trim().is_empty() || is_table_rule(line) {
            continue;
        }
        lines.push(line);
    }
    lines.join("\n").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_leaked_part_headings() {
        let (t, h) =
            strip_leaked_headings("期间的计算方法依照本法的规定。\n第二编 物 权\n第一分编 通 则");
        assert_eq!(t, "期间的计算方法依照本法的规定。");
        assert_eq!(h, vec!["第二编 物权", "第一分编 通则"]);
        let (t, h) = strip_leaked_headings("留置权消灭。\n附 则");
        assert_eq!(t, "留置权消灭。");
        assert_eq!(h, vec!["附则"]);
        // A reference to a part inside a sentence is not a heading.
        let (t, h) =
            strip_leaked_headings("违反本法第二编第一分编第二章等规定，适用本节规定予以行政处罚。");
        assert!(h.is_empty());
        assert!(t.ends_with("处罚。"));
        let (t, h) = strip_leaked_headings("第二编 污染防治");
        assert_eq!(
            t, "第二编 污染防治",
            "a text that is only a heading is kept"
        );
        assert!(h.is_empty());
    }

    #[test]
    fn strips_pandoc_images_and_rules() {
        let t = clean_text("本法自1991年10月1日起施行。\n!24427{width=\"3.23in\"\nheight=\"3.59in\"}\n说明：国徽\n+----+----+\n| a | b |");
        assert_eq!(t, "本法自1991年10月1日起施行。\n说明：国徽\n| a | b |");
    }

    #[test]
    fn fixes_spaces_between_chinese() {
        assert_eq!(
            fix_spaces("全国自然资源开发利 用和保护"),
            "全国自然资源开发利用和保护"
        );
        assert_eq!(fix_spaces("生活方式， 自觉履行"), "生活方式，自觉履行");
        assert_eq!(fix_spaces("税 目\u{2009}税额"), "税目税额");
        assert_eq!(fix_spaces("处 1000 元罚款"), "处 1000 元罚款");
        assert_eq!(
            fix_spaces("第一百二十条之二\u{3000}有下列"),
            "第一百二十条之二\u{3000}有下列"
        );
    }

    #[test]
    fn quotes_become_chinese_pairs() {
        assert_eq!(fix_quotes("冠以\"专业技术\"。"), "冠以“专业技术”。");
        assert_eq!(
            fix_quotes("修改为：\"第一款\n\"第二款。\""),
            "修改为：“第一款\n“第二款。”"
        );
        assert_eq!(
            fix_quotes("以\"口粮田\"和\"责任田\"为由"),
            "以“口粮田”和“责任田”为由"
        );
        assert_eq!(
            fix_quotes("width=\"3in\""),
            "width=\"3in\"",
            "lines without Chinese are left alone"
        );
    }
}
