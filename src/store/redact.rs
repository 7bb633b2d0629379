//! Redaction of personal data before anything is stored: resident ID-card
//! numbers (18 digits, last may be X, and the old 15-digit ones), mainland
//! mobile and landline phone numbers, bank-card numbers (15-19 digits),
//! e-mail addresses and street addresses (…路…号, …栋…单元…室).
//!
//! Text is matched on a normalised view, so what input methods type is
//! caught as well as ASCII: full-width digits, letters and signs (１３８,
//! ＠, （０２７）), the ideographic space, dashes of every width, and digits
//! spoken in Chinese numerals (一三九一二三四五六七八, 幺 for 1, 〇/零 for 0)
//! in runs long enough to be a number. Separators (spaces, dots, dashes,
//! parentheses around an area code) may sit between the digits. Only the
//! matched spans are replaced; the rest of the text is kept exactly as
//! written.
//!
//! Statute numbers (第1079条, 第一千零七十九条), amounts (3万元, 80000元),
//! dates and case numbers are left as they are: only digit runs with the
//! shape of those identifiers match.

use regex::Regex;
use std::sync::OnceLock;

/// What replaced an ID-card number.
pub const ID_MARK: &str = "[身份证号已隐去]";
/// What replaced a phone number.
pub const PHONE_MARK: &str = "[电话已隐去]";
/// What replaced a bank-card number.
pub const CARD_MARK: &str = "[银行卡号已隐去]";
/// What replaced an e-mail address.
pub const EMAIL_MARK: &str = "[邮箱已隐去]";
/// What replaced a street address.
pub const ADDRESS_MARK: &str = "[地址已隐去]";

/// Chinese numerals used to read out digits one by one.
fn chinese_digit(c: char) -> Option<char> {
    Some(match c {
        '〇' | '零' | '○' | '洞' => '0',
        '一' | '幺' | '壹' => '1',
        '二' | '贰' => '2',
        '三' | '叁' => '3',
        '四' | '肆' => '4',
        '五' | '伍' => '5',
        '六' | '陆' => '6',
        '七' | '柒' => '7',
        '八' | '捌' => '8',
        '九' | '玖' => '9',
        _ => return None,
    })
}

/// Width and shape folding of one character (one character out for one in).
fn fold(c: char) -> char {
    match c {
        '０'..='９' | 'Ａ'..='Ｚ' | 'ａ'..='ｚ' | '＋' | '．' | '＠' | '＿' | '％' => {
            char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
        }
        '－' | '—' | '–' | '‐' | '‑' | '‒' | '―' | '﹣' | '−' => '-',
        '（' => '(',
        '）' => ')',
        '\u{3000}' | '\u{00A0}' | '\u{2002}'..='\u{200A}' | '\u{202F}' => ' ',
        _ => c,
    }
}

fn is_sep(c: char) -> bool {
    matches!(c, ' ' | '-' | '.')
}

/// Digits read out in Chinese numerals count as digits only in runs of at
/// least this many (a phone number has 7-11), so 第一千零七十九条 or 一二
/// stay words.
const SPOKEN_RUN: usize = 7;

/// The normalised text and, for every byte of it, the byte offset of the
/// original character it came from (plus one entry for the end).
struct Normalised {
    text: String,
    origin: Vec<usize>,
}

fn normalise(text: &str) -> Normalised {
    let chars: Vec<(usize, char)> = text.char_indices().map(|(i, c)| (i, fold(c))).collect();
    let mut out: Vec<char> = chars.iter().map(|(_, c)| *c).collect();
    // Runs of digits (ASCII or spoken) with single separators between them.
    let mut i = 0;
    while i < out.len() {
        let digitish = |c: char| c.is_ascii_digit() || chinese_digit(c).is_some();
        if !digitish(out[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i; // exclusive, last digit + 1
        let mut digits = 0;
        let mut j = i;
        while j < out.len() {
            if digitish(out[j]) {
                digits += 1;
                j += 1;
                end = j;
            } else if is_sep(out[j]) && j + 1 < out.len() && digitish(out[j + 1]) {
                j += 1;
            } else {
                break;
            }
        }
        if digits >= SPOKEN_RUN {
            for c in &mut out[start..end] {
                if let Some(d) = chinese_digit(*c) {
                    *c = d;
                }
            }
        }
        i = end.max(i + 1);
    }
    let mut text_n = String::with_capacity(text.len());
    let mut origin = Vec::with_capacity(text.len() + 1);
    for ((pos, _), c) in chars.iter().zip(out) {
        let before = text_n.len();
        text_n.push(c);
        origin.extend(std::iter::repeat_n(*pos, text_n.len() - before));
    }
    origin.push(text.len());
    Normalised {
        text: text_n,
        origin,
    }
}

struct Patterns {
    id18: Regex,
    id15: Regex,
    card: Regex,
    mobile: Regex,
    landline: Regex,
    email: Regex,
    road: Regex,
    building: Regex,
    room: Regex,
}

/// A number as written in an address (digits or Chinese numerals).
const NUM: &str = "[0-9一二三四五六七八九十百零〇两]+";

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let re = |s: &str| Regex::new(s).expect("static regex");
        Patterns {
            // 6-digit area, birth date 18xx/19xx/20xx MMDD, 3-digit sequence, check digit;
            // a space or dash may separate area, birth date and sequence.
            id18: re(r"(?:^|[^0-9])([1-9][0-9]{5}[ -]?(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[ -]?[0-9]{3}[0-9Xx])(?:$|[^0-9])"),
            // First-generation ID: area, YYMMDD, 3-digit sequence.
            id15: re(r"(?:^|[^0-9])([1-9][0-9]{5}[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3})(?:$|[^0-9])"),
            // 15-19 digits, optionally grouped by single spaces or dashes.
            card: re(r"(?:^|[^0-9])([1-9](?:[ -]?[0-9]){14,18})(?:$|[^0-9])"),
            // Mobile: 1[3-9] and 9 more digits, any single separators between
            // digits, optionally +86 / 0086 / (+86) in front.
            mobile: re(r"(?:^|[^0-9])((?:(?:\+|00)?86[ .\-]?|\(\+?86\)[ .\-]?)?1[ .\-]?[3-9](?:[ .\-]?[0-9]){9})(?:$|[^0-9])"),
            // Landline: area code 0xx(x) (in parentheses or not) then 7-8 digits.
            landline: re(r"(?:^|[^0-9])((?:\(0[1-9][0-9]{1,2}\)[ .\-]?|0[1-9][0-9]{1,2}[ .\-]?)[2-9][0-9]{2,3}[ .\-]?[0-9]{4})(?:$|[^0-9])"),
            email: re(r"([A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,})"),
            // A road and a door number; the road's name is taken in front of it.
            road: re(&format!(
                r"((?:大道|大街|路|街|巷|弄|胡同)[ ]?{NUM}[ ]?(?:号|弄)(?:院)?(?:[ \-]?{NUM}(?:号楼|栋|幢|座|单元|楼|层|室|号|户))*)"
            )),
            // Building, unit and room: 5栋2单元301室, 3号楼1202, 二栋三单元五零二室.
            building: re(&format!(
                r"((?:{NUM}(?:号楼|栋|幢|座|单元)[ \-]?){{1,3}}(?:{NUM}(?:楼|层)[ \-]?)?(?:{NUM}(?:室|户)|[0-9]{{2,5}}))"
            )),
            // A room number on its own: 502室.
            room: re(r"((?:^|[^0-9])[0-9]{3,5}室)"),
        }
    })
}

/// Characters that end a place name when walking back from 路/小区: the
/// administrative units before it, and words around an address.
fn ends_name(c: char) -> bool {
    !('\u{4E00}'..='\u{9FFF}').contains(&c)
        || "省市区县镇乡村州旗在住于到是址家从去往向近旁对面附和与及或的了我他她你们叫".contains(c)
}

/// Walk back from byte `at` of `text` over at most `max` name characters.
fn name_start(text: &str, at: usize, max: usize) -> usize {
    let mut start = at;
    for (i, c) in text[..at].char_indices().rev().take(max) {
        if ends_name(c) {
            break;
        }
        start = i;
    }
    start
}

/// Estates whose name comes before a building number.
const ESTATES: [&str; 9] = [
    "小区", "花园", "公寓", "大厦", "家园", "社区", "公馆", "苑", "院",
];

/// Group-1 spans of `re` in `text` (searching again from each span's end,
/// since the boundary characters around a number are part of a match).
fn spans(re: &Regex, text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos <= text.len() {
        let Some(caps) = re.captures_at(text, pos) else {
            break;
        };
        let Some(m) = caps.get(1) else { break };
        out.push((m.start(), m.end()));
        pos = if m.end() > m.start() {
            m.end()
        } else {
            m.end() + 1
        };
    }
    out
}

/// Redact ID-card, bank-card and phone numbers, e-mail and street addresses in `text`.
pub fn redact(text: &str) -> String {
    let p = patterns();
    let n = normalise(text);
    let t = n.text.as_str();
    // Chosen spans over the normalised text, with their mark; earlier kinds
    // win over later ones (an ID number would also look like a card).
    let mut chosen: Vec<(usize, usize, &str)> = Vec::new();
    let mut take = |s: usize, e: usize, mark: &'static str| {
        if s < e && !chosen.iter().any(|(a, b, _)| s < *b && *a < e) {
            chosen.push((s, e, mark));
        }
    };
    for (re, mark) in [
        (&p.id18, ID_MARK),
        (&p.id15, ID_MARK),
        (&p.card, CARD_MARK),
        (&p.mobile, PHONE_MARK),
        (&p.landline, PHONE_MARK),
        (&p.email, EMAIL_MARK),
    ] {
        for (s, e) in spans(re, t) {
            take(s, e, mark);
        }
    }
    for (s, e) in spans(&p.road, t) {
        let start = name_start(t, s, 8);
        if start < s {
            take(start, e, ADDRESS_MARK);
        }
    }
    for (s, e) in spans(&p.building, t) {
        let before = &t[..s];
        let start = ESTATES
            .iter()
            .find(|suffix| before.ends_with(*suffix))
            .map(|suffix| name_start(t, s - suffix.len(), 8))
            .unwrap_or(s);
        take(start, e, ADDRESS_MARK);
    }
    for (s, e) in spans(&p.room, t) {
        // Skip the boundary character the pattern may have taken.
        let s = t[s..e]
            .char_indices()
            .find(|(_, c)| c.is_ascii_digit())
            .map_or(s, |(i, _)| s + i);
        take(s, e, ADDRESS_MARK);
    }
    if chosen.is_empty() {
        return text.to_string();
    }
    chosen.sort_by_key(|(s, _, _)| *s);
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (s, e, mark) in chosen {
        let (os, oe) = (n.origin[s], n.origin[e]);
        out.push_str(&text[last..os]);
        out.push_str(mark);
        last = oe;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant of personal data seen slipping through, and the
    /// ordinary ones: (input, expected stored text).
    const CASES: &[(&str, &str)] = &[
        // ID-card numbers
        (
            "我的身份证号是42070419900307123X，请帮我查",
            "我的身份证号是[身份证号已隐去]，请帮我查",
        ),
        ("身份证420704199003071234", "身份证[身份证号已隐去]"),
        (
            "身份证４２０７０４１９９００３０７１２３Ｘ",
            "身份证[身份证号已隐去]",
        ),
        (
            "身份证 420704 19900307 123x 男",
            "身份证 [身份证号已隐去] 男",
        ),
        (
            "老身份证号420704900307123还能用吗",
            "老身份证号[身份证号已隐去]还能用吗",
        ),
        (
            "老身份证号４２０７０４９００３０７１２３",
            "老身份证号[身份证号已隐去]",
        ),
        // mobile phones
        ("电话13812345678找我", "电话[电话已隐去]找我"),
        ("打+86 138-1234-5678", "打[电话已隐去]"),
        ("手机１３８１２３４５６７８", "手机[电话已隐去]"),
        ("手机１３８－１２３４－５６７８", "手机[电话已隐去]"),
        ("手机138.1234.5678", "手机[电话已隐去]"),
        ("手机138 1234 5678", "手机[电话已隐去]"),
        ("手机138　1234　5678", "手机[电话已隐去]"),
        ("手机(+86)13812345678", "手机[电话已隐去]"),
        ("手机（＋８６）１３８１２３４５６７８", "手机[电话已隐去]"),
        ("手机0086 13812345678", "手机[电话已隐去]"),
        ("手机1 3 8 1 2 3 4 5 6 7 8", "手机[电话已隐去]"),
        (
            "我电话一三九一二三四五六七八，晚上打",
            "我电话[电话已隐去]，晚上打",
        ),
        ("电话幺三八幺二三四五六七八", "电话[电话已隐去]"),
        ("电话壹叁玖壹贰叁肆伍陆柒捌", "电话[电话已隐去]"),
        ("电话139一二三四5678", "电话[电话已隐去]"),
        // landlines
        ("座机027-87654321", "座机[电话已隐去]"),
        ("0711 3201234。", "[电话已隐去]。"),
        ("座机(027)87654321", "座机[电话已隐去]"),
        ("座机（０２７）８７６５４３２１", "座机[电话已隐去]"),
        ("座机027.8765.4321", "座机[电话已隐去]"),
        ("座机02787654321", "座机[电话已隐去]"),
        // bank cards
        ("卡号6222021234567890123", "卡号[银行卡号已隐去]"),
        (
            "卡号 6222 0212 3456 7890 到账",
            "卡号 [银行卡号已隐去] 到账",
        ),
        ("卡号622202123456789", "卡号[银行卡号已隐去]"),
        (
            "卡号６２２２０２１２３４５６７８９０",
            "卡号[银行卡号已隐去]",
        ),
        ("卡号6222-0212-3456-789", "卡号[银行卡号已隐去]"),
        // e-mail
        ("邮箱zhang.san@example.com有合同", "邮箱[邮箱已隐去]有合同"),
        ("发到12345678@qq.com", "发到[邮箱已隐去]"),
        ("邮箱ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｏｍ", "邮箱[邮箱已隐去]"),
        (
            "Mail: li_si+law@mail.example.org.cn.",
            "Mail: [邮箱已隐去].",
        ),
        // street addresses
        (
            "我住武汉市洪山区珞喻路1037号3栋502室，房东不退押金",
            "我住武汉市洪山区[地址已隐去]，房东不退押金",
        ),
        (
            "地址：鄂州市鄂城区滨湖南路８８号",
            "地址：鄂州市鄂城区[地址已隐去]",
        ),
        ("家在中山大道100号", "家在[地址已隐去]"),
        ("住在阳光小区5栋2单元301室", "住在[地址已隐去]"),
        ("住在阳光花园二栋三单元五零二室", "住在[地址已隐去]"),
        ("我租的房子在3号楼1202", "我租的房子在[地址已隐去]"),
        ("房号502室漏水", "房号[地址已隐去]漏水"),
        ("住在建设街12号院", "住在[地址已隐去]"),
        // several in one text
        (
            "13812345678,13912345678 和 42070419900307123X",
            "[电话已隐去],[电话已隐去] 和 [身份证号已隐去]",
        ),
    ];

    /// Text that must be stored exactly as written.
    const KEPT: &[&str] = &[
        "民法典第1079条规定",
        "依据《民法典》第一千零七十九条，可以起诉离婚",
        "借了30000元，2021年12月31日前还",
        "拨打12348法律援助热线",
        "工资拖欠了3个月共计24000元",
        "合同编号2023001",
        "刑法第133条之一",
        "（2020）鄂0104民初1234号判决",
        "国务院令第423号公布",
        "二〇二〇年十二月二十九日",
        "一二三四五六",
        "我住在三楼，楼上漏水",
        "第２条　全角的法条编号",
        "一楼一个人",
        "《道路交通安全法》第七十六条",
        "街道办事处说去法院",
        "赔偿金额１５０００元",
    ];

    #[test]
    fn every_variant_is_redacted() {
        let mut wrong = Vec::new();
        for (input, want) in CASES {
            let got = redact(input);
            if got != *want {
                wrong.push(format!("{input:?}\n   got  {got:?}\n   want {want:?}"));
            }
        }
        assert!(
            wrong.is_empty(),
            "{} of {} variants wrong:\n{}",
            wrong.len(),
            CASES.len(),
            wrong.join("\n")
        );
    }

    #[test]
    fn legal_numbers_amounts_and_plain_text_are_kept() {
        for t in KEPT {
            assert_eq!(redact(t), *t, "{t}");
        }
    }

    #[test]
    fn normalising_keeps_one_offset_per_byte() {
        let s = "电话１３８ 一三九";
        let n = normalise(s);
        assert_eq!(n.origin.len(), n.text.len() + 1);
        assert_eq!(*n.origin.last().expect("end"), s.len());
    }
}
