//! Chinese numerals and article numbers.
//!
//! Owns the conversion between Chinese and Arabic article numbers
//! (`第一千零七十九条` <-> 1079, `第一百三十三条之一` <-> (133, 1)) and the
//! parsing of every form a user or a law writes an article number in.

/// Value of one Chinese digit character (`〇零一二两三...九`, also 壹贰...).
fn digit(c: char) -> Option<u32> {
    Some(match c {
        '〇' | '零' | '0' => 0,
        '一' | '壹' => 1,
        '二' | '两' | '贰' => 2,
        '三' | '叁' => 3,
        '四' | '肆' => 4,
        '五' | '伍' => 5,
        '六' | '陆' => 6,
        '七' | '柒' => 7,
        '八' | '捌' => 8,
        '九' | '玖' => 9,
        _ => return None,
    })
}

/// Value of a unit character (十 百 千 万).
fn unit(c: char) -> Option<u32> {
    Some(match c {
        '十' | '拾' => 10,
        '百' | '佰' => 100,
        '千' | '仟' => 1000,
        '万' => 10_000,
        _ => return None,
    })
}

/// Whether `c` can appear in a Chinese number.
pub fn is_cn_numeral(c: char) -> bool {
    digit(c).is_some() || unit(c).is_some()
}

/// Parse a Chinese number (`一千零七十九`, `十`, `二十三`, `一〇七九`) or
/// an Arabic one (`1079`, full-width `１０７９` too). `None` when it is neither.
pub fn parse_number(s: &str) -> Option<u32> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if s.chars()
        .all(|c| c.is_ascii_digit() || ('０'..='９').contains(&c))
    {
        let ascii: String = s
            .chars()
            .map(|c| {
                if c.is_ascii_digit() {
                    c
                } else {
                    char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or('0')
                }
            })
            .collect();
        return ascii.parse().ok();
    }
    if !s.chars().all(is_cn_numeral) {
        return None;
    }
    // Digit-by-digit form without units: 一〇七九.
    if s.chars().all(|c| digit(c).is_some()) {
        if s.chars().count() == 1 {
            return digit(s.chars().next()?);
        }
        return s
            .chars()
            .try_fold(0u32, |acc, c| acc.checked_mul(10)?.checked_add(digit(c)?));
    }
    let mut total: u32 = 0; // completed 万 groups
    let mut section: u32 = 0; // below 万
    let mut pending: Option<u32> = None; // digit waiting for its unit
    for c in s.chars() {
        if let Some(d) = digit(c) {
            if pending.is_some() && d != 0 {
                return None; // two digits in a row: 一二
            }
            pending = if d == 0 { None } else { Some(d) };
        } else if let Some(u) = unit(c) {
            if u == 10_000 {
                section += pending.take().unwrap_or(0);
                total = total.checked_add(section.checked_mul(10_000)?)?;
                section = 0;
            } else {
                // 十 alone at the start means 一十.
                let d = pending.take().unwrap_or(1);
                section = section.checked_add(d * u)?;
            }
        }
    }
    section += pending.unwrap_or(0);
    total.checked_add(section)
}

/// Write `n` as a Chinese number the way laws do: 10 -> 十, 15 -> 十五,
/// 110 -> 一百一十, 1079 -> 一千零七十九, 0 -> 零.
pub fn to_chinese(n: u32) -> String {
    if n == 0 {
        return "零".into();
    }
    if n >= 10_000 {
        let hi = n / 10_000;
        let lo = n % 10_000;
        let mut s = to_chinese(hi);
        s.push('万');
        if lo > 0 {
            if lo < 1000 {
                s.push('零');
            }
            s.push_str(&below_10k(lo));
        }
        return s;
    }
    let s = below_10k(n);
    if (10..20).contains(&n) {
        // 一十五 -> 十五 at the start of a number.
        return s.trim_start_matches('一').to_string();
    }
    s
}

fn below_10k(n: u32) -> String {
    const D: [char; 10] = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];
    let units = [(1000, '千'), (100, '百'), (10, '十')];
    let mut s = String::new();
    let mut rest = n;
    let mut zero = false;
    let mut started = false;
    for (v, u) in units {
        let d = rest / v;
        rest %= v;
        if d > 0 {
            if zero {
                s.push('零');
                zero = false;
            }
            s.push(D[d as usize]);
            s.push(u);
            started = true;
        } else if started {
            zero = true;
        }
    }
    if rest > 0 {
        if zero {
            s.push('零');
        }
        s.push(D[rest as usize]);
    }
    s
}

/// The label a law uses: (1079, 0) -> `第一千零七十九条`, (133, 1) -> `第一百三十三条之一`.
pub fn article_label(article: u32, suffix: u32) -> String {
    if suffix == 0 {
        format!("第{}条", to_chinese(article))
    } else {
        format!("第{}条之{}", to_chinese(article), to_chinese(suffix))
    }
}

/// Parse an article number in any form people write it:
/// `1079`, `第1079条`, `第一千零七十九条`, `一千零七十九`, `133之一`,
/// `第一百三十三条之一`, `133-1`. Returns (article, suffix).
pub fn parse_article(s: &str) -> Option<(u32, u32)> {
    let s = s.trim();
    let s = s.strip_prefix('第').unwrap_or(s);
    let (main, suffix) = match s.split_once('之') {
        Some((m, suf)) => (m, Some(suf)),
        None => match s.split_once('-') {
            Some((m, suf)) => (m, Some(suf)),
            None => (s, None),
        },
    };
    let main = main.trim().strip_suffix('条').unwrap_or(main.trim()).trim();
    let article = parse_number(main)?;
    if article == 0 {
        return None;
    }
    let suffix = match suffix {
        Some(suf) => {
            let v = parse_number(suf.trim())?;
            if v == 0 {
                return None;
            }
            v
        }
        None => 0,
    };
    Some((article, suffix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_to_arabic() {
        assert_eq!(parse_number("一千零七十九"), Some(1079));
        assert_eq!(parse_number("十"), Some(10));
        assert_eq!(parse_number("十五"), Some(15));
        assert_eq!(parse_number("一百零二"), Some(102));
        assert_eq!(parse_number("一百一十"), Some(110));
        assert_eq!(parse_number("二百"), Some(200));
        assert_eq!(parse_number("一千二百六十"), Some(1260));
        assert_eq!(parse_number("两千"), Some(2000));
        assert_eq!(parse_number("一〇七九"), Some(1079));
        assert_eq!(parse_number("1079"), Some(1079));
        assert_eq!(parse_number("１０７９"), Some(1079));
        assert_eq!(parse_number("一万零一"), Some(10001));
        assert_eq!(parse_number("一二"), Some(12));
        assert_eq!(parse_number("abc"), None);
        assert_eq!(parse_number(""), None);
        assert_eq!(parse_number("九二十"), None);
    }

    #[test]
    fn arabic_to_chinese_round_trips() {
        assert_eq!(to_chinese(1079), "一千零七十九");
        assert_eq!(to_chinese(10), "十");
        assert_eq!(to_chinese(15), "十五");
        assert_eq!(to_chinese(102), "一百零二");
        assert_eq!(to_chinese(110), "一百一十");
        assert_eq!(to_chinese(1001), "一千零一");
        assert_eq!(to_chinese(1010), "一千零一十");
        assert_eq!(to_chinese(1100), "一千一百");
        for n in 1..=3000 {
            assert_eq!(
                parse_number(&to_chinese(n)),
                Some(n),
                "{n} -> {}",
                to_chinese(n)
            );
        }
    }

    #[test]
    fn article_forms() {
        assert_eq!(parse_article("第一千零七十九条"), Some((1079, 0)));
        assert_eq!(parse_article("第十条"), Some((10, 0)));
        assert_eq!(parse_article("第一百零二条"), Some((102, 0)));
        assert_eq!(parse_article("1079"), Some((1079, 0)));
        assert_eq!(parse_article("第1079条"), Some((1079, 0)));
        assert_eq!(parse_article("133之一"), Some((133, 1)));
        assert_eq!(parse_article("第一百三十三条之二"), Some((133, 2)));
        assert_eq!(parse_article("133-1"), Some((133, 1)));
        assert_eq!(parse_article("第零条"), None);
        assert_eq!(parse_article("x"), None);
        assert_eq!(article_label(1079, 0), "第一千零七十九条");
        assert_eq!(article_label(133, 1), "第一百三十三条之一");
        assert_eq!(article_label(10, 0), "第十条");
    }
}
