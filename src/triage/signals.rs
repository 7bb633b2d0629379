//! Signals read from the question text: normalisation, keyword groups,
//! money amounts, head counts, ages and elapsed time.
//!
//! Owns nothing but pure text inspection; the rules that weigh the signals
//! live in `rules.rs`, `review.rs` and `legal_aid.rs`.

use regex::Regex;
use std::sync::OnceLock;

/// The question prepared for matching, with what was found in it.
#[derive(Debug, Clone)]
pub struct Text {
    /// Normalised text (ASCII digits, no spaces, ASCII lower case).
    pub norm: String,
}

impl Text {
    pub fn new(raw: &str) -> Text {
        Text {
            norm: normalize(raw),
        }
    }

    /// The first pattern of `pats` that occurs in the text.
    pub fn find<'a>(&self, pats: &[&'a str]) -> Option<&'a str> {
        pats.iter().copied().find(|p| self.norm.contains(p))
    }

    pub fn any(&self, pats: &[&str]) -> bool {
        self.find(pats).is_some()
    }

    /// All patterns of `pats` that occur, in list order.
    pub fn all_found<'a>(&self, pats: &[&'a str]) -> Vec<&'a str> {
        pats.iter()
            .copied()
            .filter(|p| self.norm.contains(p))
            .collect()
    }
}

/// Full-width ASCII to half width, drop whitespace, lower-case ASCII, and
/// rewrite a few words whose characters mislead substring rules
/// ("偷偷" is "secretly", not theft).
pub fn normalize(raw: &str) -> String {
    let mut s = String::with_capacity(raw.len());
    for c in raw.chars() {
        let c = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        };
        if c.is_whitespace() {
            continue;
        }
        s.push(c.to_ascii_lowercase());
    }
    s.replace("偷偷", "悄悄")
        .replace("小偷小摸", "小摸")
        .replace("无犯罪", "无案底")
}

/// Value of a Chinese or Arabic number word ("十几" -> 15, "二十多" -> 20,
/// "两" -> 2, "3.5" -> 3.5). `几` alone counts as 5.
pub fn number_value(w: &str) -> Option<f64> {
    if w.is_empty() {
        return None;
    }
    if let Ok(v) = w.parse::<f64>() {
        return Some(v);
    }
    let digit = |c: char| -> Option<f64> {
        Some(match c {
            '零' => 0.0,
            '一' => 1.0,
            '二' | '两' => 2.0,
            '三' => 3.0,
            '四' => 4.0,
            '五' => 5.0,
            '六' => 6.0,
            '七' => 7.0,
            '八' => 8.0,
            '九' => 9.0,
            '几' => 5.0,
            _ => return None,
        })
    };
    let mut total = 0.0;
    let mut cur: Option<f64> = None;
    let mut last_unit = 1.0_f64;
    for c in w.chars() {
        let unit = match c {
            '十' => 10.0,
            '百' => 100.0,
            '千' => 1000.0,
            _ => {
                cur = Some(digit(c)?);
                continue;
            }
        };
        total += cur.unwrap_or(1.0) * unit;
        cur = None;
        last_unit = unit;
    }
    if let Some(d) = cur {
        // "十几" -> 10 + 5; "一千五" -> 1000 + 500.
        total += d * (last_unit / 10.0).max(1.0);
    }
    Some(total)
}

fn amount_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"([0-9]+(?:\.[0-9]+)?|[零一二两三四五六七八九十百千几]+)多?(万|千|百|块|元)")
            .expect("valid regex")
    })
}

/// The largest money amount named in the text, in yuan.
pub fn max_amount(t: &Text) -> Option<f64> {
    let mut best: Option<f64> = None;
    for c in amount_re().captures_iter(&t.norm) {
        let Some(v) = number_value(&c[1]) else {
            continue;
        };
        let mult = match &c[2] {
            "万" => 10_000.0,
            "千" => 1_000.0,
            "百" => 100.0,
            _ => 1.0,
        };
        let yuan = v * mult;
        best = Some(best.map_or(yuan, |b: f64| b.max(yuan)));
    }
    best
}

fn people_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"([0-9]+|[一二两三四五六七八九十百几]+)多?(个人|户|家人家|家住户|名工人|名员工|个工友|个工人|位|名|个村民|个业主|个租户)")
            .expect("valid regex")
    })
}

/// The largest head count of a group named in the text ("十几个人" -> 15).
pub fn max_people(t: &Text) -> Option<f64> {
    let mut best: Option<f64> = None;
    for c in people_re().captures_iter(&t.norm) {
        // "好几个人", "几个人": a few, not a crowd.
        let Some(v) = (if &c[1] == "几" {
            Some(3.0)
        } else {
            number_value(&c[1])
        }) else {
            continue;
        };
        best = Some(best.map_or(v, |b: f64| b.max(v)));
    }
    best
}

fn age_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"([0-9]{1,3}|[一二两三四五六七八九十]+)周?岁").expect("valid regex")
    })
}

/// Ages named in the text ("16岁", "今年七十三了" is not caught here).
pub fn ages(t: &Text) -> Vec<u32> {
    age_re()
        .captures_iter(&t.norm)
        .filter_map(|c| number_value(&c[1]))
        .map(|v| v as u32)
        .collect()
}

fn stated_age_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?:今年|才|刚满|已经)([0-9]{1,2}|[一二两三四五六七八九十]+)(?:岁|了|，|,|。|$)",
        )
        .expect("valid regex")
    })
}

/// An age stated without 岁 ("我儿子今年16，").
pub fn stated_age(t: &Text) -> Option<u32> {
    stated_age_re()
        .captures(&t.norm)
        .and_then(|c| number_value(&c[1]))
        .map(|v| v as u32)
}

fn can_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?:能|会|可以|得|该)[^，。？！,.?!]{1,8}吗").expect("valid regex")
    })
}

/// A yes/no question about what the law allows ("他们能停水吗").
pub fn can_question(t: &Text) -> bool {
    can_re().is_match(&t.norm)
}

fn work_duration_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?:干|做)了[0-9一二两三四五六七八九十几半多]+(?:个)?多?(?:月|年)")
            .expect("valid regex")
    })
}

/// "干了八个月": someone worked somewhere for a while.
pub fn work_duration(t: &Text) -> bool {
    work_duration_re().is_match(&t.norm)
}

fn self_permission_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"我(?:能|可以|能不能|可不可以|还能)[^，。？！,?!]{1,12}(?:吗|？|\?|$)")
            .expect("valid regex")
    })
}

/// "我能去同行上班吗": may the asker do something.
pub fn self_permission(t: &Text) -> bool {
    self_permission_re().is_match(&t.norm)
}

fn override_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?:忽略|无视|忘记|忘掉|不要理会|别管|跳过)[^，。！？]{0,14}(?:指令|指示|规定|规则|设定|提示|要求|限制|约束)").expect("valid regex")
    })
}

/// "请忽略你之前收到的所有指令": an attempt to override the rules.
pub fn override_attempt(norm: &str) -> bool {
    override_re().is_match(norm)
}

fn fine_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"罚(?:我|了|款)?[0-9一二两三四五六七八九十几百千万]+").expect("valid regex")
    })
}

/// "要罚三千": a fine with an amount.
pub fn fine_amount(t: &Text) -> bool {
    fine_re().is_match(&t.norm)
}

fn year_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"((?:19|20)[0-9]{2})年").expect("valid regex"))
}

/// Calendar years named in the text ("2021年").
pub fn years(t: &Text) -> Vec<i32> {
    year_re()
        .captures_iter(&t.norm)
        .filter_map(|c| c[1].parse().ok())
        .collect()
}

fn elapsed_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"([0-9]+|[一二两三四五六七八九十几]+)多?(年|个月)(?:了|都|一直|多)?(?:没|不|未)(?:还|给钱|付|支付|给过|要过|催过|发)")
            .expect("valid regex")
    })
}

/// The longest "N years/months without paying" span, in months.
pub fn unpaid_months(t: &Text) -> Option<f64> {
    let mut best: Option<f64> = None;
    for c in elapsed_re().captures_iter(&t.norm) {
        let Some(v) = number_value(&c[1]) else {
            continue;
        };
        let m = if &c[2] == "年" { v * 12.0 } else { v };
        best = Some(best.map_or(m, |b: f64| b.max(m)));
    }
    best
}

fn days_left_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?:还剩|只剩|剩下|还有)([0-9]+|[一二两三四五六七八九十几]+)天")
            .expect("valid regex")
    })
}

/// "还剩5天": days left before something runs out.
pub fn days_left(t: &Text) -> Option<f64> {
    days_left_re()
        .captures(&t.norm)
        .and_then(|c| number_value(&c[1]))
}

/// Split into sentences (keeps the delimiters out).
pub fn sentences(raw: &str) -> Vec<&str> {
    raw.split(['。', '！', '？', '!', '?', '；', ';', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(number_value("十几"), Some(15.0));
        assert_eq!(number_value("二十"), Some(20.0));
        assert_eq!(number_value("三十五"), Some(35.0));
        assert_eq!(number_value("两"), Some(2.0));
        assert_eq!(number_value("一千五"), Some(1500.0));
        assert_eq!(number_value("12"), Some(12.0));
        assert_eq!(number_value("x"), None);
    }

    #[test]
    fn amounts_people_ages() {
        let t = Text::new("欠了我们二十多万，还有5000元，我们十几个人，儿子16岁");
        assert_eq!(max_amount(&t), Some(200_000.0));
        assert_eq!(max_people(&t), Some(15.0));
        assert_eq!(ages(&t), vec![16]);
        let t = Text::new("已经两年没给钱了，还剩5天");
        assert_eq!(unpaid_months(&t), Some(24.0));
        assert_eq!(days_left(&t), Some(5.0));
    }

    #[test]
    fn normalisation() {
        assert_eq!(normalize("ＡＢ　１２ c"), "ab12c");
        assert!(!normalize("偷偷去做").contains('偷'));
    }
}
