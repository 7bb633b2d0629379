//! Redaction of personal numbers before anything is stored: resident ID-card
//! numbers (18 digits, last may be X), mainland mobile and landline phone
//! numbers, and bank-card numbers (16-19 digits, spaces or dashes allowed).
//!
//! Statute numbers (第1079条), amounts (3万元, 80000元) and dates are left as
//! they are: only digit runs with the shape of those identifiers match.

use regex::Regex;
use std::sync::OnceLock;

/// What replaced an ID-card number.
pub const ID_MARK: &str = "[身份证号已隐去]";
/// What replaced a phone number.
pub const PHONE_MARK: &str = "[电话已隐去]";
/// What replaced a bank-card number.
pub const CARD_MARK: &str = "[银行卡号已隐去]";

struct Patterns {
    id_card: Regex,
    card: Regex,
    mobile: Regex,
    landline: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| Patterns {
        // 6-digit area, birth date 19xx/20xx MMDD, 3-digit sequence, check digit.
        id_card: Regex::new(r"(?:^|[^0-9])([1-9][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx])(?:$|[^0-9])")
            .expect("static regex"),
        // 16-19 digits, optionally grouped by single spaces or dashes.
        card: Regex::new(r"(?:^|[^0-9])([1-9](?:[ -]?[0-9]){15,18})(?:$|[^0-9])").expect("static regex"),
        // Mobile: 1[3-9]x, 11 digits, optionally +86 / 86 and separators 3-4-4.
        mobile: Regex::new(r"(?:^|[^0-9])((?:\+?86[ -]?)?1[3-9][0-9][ -]?[0-9]{4}[ -]?[0-9]{4})(?:$|[^0-9])")
            .expect("static regex"),
        // Landline: 0xx(x)-xxxxxxx(x), the dash or a space required, or 12348-style
        // hotlines are kept (they are 5 digits and public).
        landline: Regex::new(r"(?:^|[^0-9])(0[1-9][0-9]{1,2}[ -][2-9][0-9]{6,7})(?:$|[^0-9])").expect("static regex"),
    })
}

/// Replace every match of group 1 of `re` in `text` with `mark`.
fn replace_group(re: &Regex, text: &str, mark: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut pos = 0;
    // Matches consume one boundary character on each side; search again from
    // the end of the number so adjacent numbers separated by one char match.
    while pos <= text.len() {
        let Some(caps) = re.captures_at(text, pos) else {
            break;
        };
        let Some(m) = caps.get(1) else { break };
        out.push_str(&text[last..m.start()]);
        out.push_str(mark);
        last = m.end();
        pos = m.end();
    }
    out.push_str(&text[last..]);
    out
}

/// Redact ID-card, bank-card and phone numbers in `text`.
pub fn redact(text: &str) -> String {
    let p = patterns();
    // Order matters: an ID number is 18 digits and would also look like a card.
    let t = replace_group(&p.id_card, text, ID_MARK);
    let t = replace_group(&p.card, &t, CARD_MARK);
    let t = replace_group(&p.mobile, &t, PHONE_MARK);
    replace_group(&p.landline, &t, PHONE_MARK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_card_numbers_are_redacted() {
        let r = redact("我的身份证号是42070419900307123X，请帮我查");
        assert_eq!(r, format!("我的身份证号是{ID_MARK}，请帮我查"));
        let r = redact("身份证420704199003071234");
        assert_eq!(r, format!("身份证{ID_MARK}"));
    }

    #[test]
    fn phone_numbers_are_redacted() {
        assert_eq!(
            redact("电话13812345678找我"),
            format!("电话{PHONE_MARK}找我")
        );
        assert_eq!(redact("打+86 138-1234-5678"), format!("打{PHONE_MARK}"));
        assert_eq!(redact("座机027-87654321"), format!("座机{PHONE_MARK}"));
        assert_eq!(redact("0711 3201234。"), format!("{PHONE_MARK}。"));
    }

    #[test]
    fn bank_cards_are_redacted() {
        assert_eq!(
            redact("卡号6222021234567890123"),
            format!("卡号{CARD_MARK}")
        );
        assert_eq!(
            redact("卡号 6222 0212 3456 7890 到账"),
            format!("卡号 {CARD_MARK} 到账")
        );
    }

    #[test]
    fn several_numbers_in_one_text() {
        let r = redact("13812345678,13912345678 和 42070419900307123X");
        assert_eq!(r, format!("{PHONE_MARK},{PHONE_MARK} 和 {ID_MARK}"));
    }

    #[test]
    fn legal_numbers_and_amounts_are_kept() {
        for t in [
            "民法典第1079条规定",
            "借了30000元，2021年12月31日前还",
            "拨打12348法律援助热线",
            "工资拖欠了3个月共计24000元",
            "合同编号2023001",
            "刑法第133条之一",
        ] {
            assert_eq!(redact(t), t, "{t}");
        }
    }
}
