//! Law-name aliases and name normalisation.
//!
//! Owns: the short names people use for a law (民法典, 劳动合同法, 刑诉法) and
//! the normalised form names are compared in. Resolution is exact on the
//! normalised form, never fuzzy: 劳动法 must never resolve to 劳动合同法.

/// Common short names that are unambiguous: (short, normalised full name).
/// Only names in wide use whose target is certain.
const SHORT_NAMES: &[(&str, &str)] = &[
    ("刑诉法", "刑事诉讼法"),
    ("民诉法", "民事诉讼法"),
    ("行诉法", "行政诉讼法"),
    ("治安处罚法", "治安管理处罚法"),
    ("道交法", "道路交通安全法"),
    ("交通安全法", "道路交通安全法"),
    ("消法", "消费者权益保护法"),
    ("消费者保护法", "消费者权益保护法"),
    ("消保法", "消费者权益保护法"),
    ("未保法", "未成年人保护法"),
    ("反家暴法", "反家庭暴力法"),
    ("个税法", "个人所得税法"),
    ("劳动仲裁法", "劳动争议调解仲裁法"),
    ("社保法", "社会保险法"),
    ("妇女权益保护法", "妇女权益保障法"),
    ("老年人权益保护法", "老年人权益保障法"),
    ("残疾人权益保障法", "残疾人保障法"),
];

/// Normalise a law name for comparison: drop 《》 and quotes, spaces and the
/// `中华人民共和国` prefix wherever it appears (also inside titles such as
/// 关于适用《中华人民共和国民法典》婚姻家庭编的解释).
pub fn normalize(name: &str) -> String {
    let mut s: String = name
        .chars()
        .filter(|c| {
            !matches!(
                c,
                '《' | '》' | '〈' | '〉' | '"' | '“' | '”' | ' ' | '\u{3000}' | '\t'
            )
        })
        .collect();
    s = s.replace("中华人民共和国", "");
    // Brackets are written both ways: （一） and (一).
    s.replace('(', "（").replace(')', "）")
}

/// Aliases of a law with this full name: the name without 中华人民共和国, the
/// short names of [`SHORT_NAMES`], and for judicial interpretations the name
/// without the issuing court.
pub fn aliases_for(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if !s.is_empty() && s != name && !out.contains(&s) {
            out.push(s);
        }
    };
    let norm = normalize(name);
    push(norm.clone());
    for (short, full) in SHORT_NAMES {
        if norm == *full {
            push((*short).to_string());
        }
    }
    for court in [
        "最高人民法院、最高人民检察院",
        "最高人民法院",
        "最高人民检察院",
    ] {
        if let Some(rest) = norm.strip_prefix(court) {
            push(rest.to_string());
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_names() {
        assert_eq!(normalize("《中华人民共和国民法典》"), "民法典");
        assert_eq!(normalize("中华人民共和国 劳动合同法"), "劳动合同法");
        assert_eq!(
            normalize("最高人民法院关于适用《中华人民共和国民法典》婚姻家庭编的解释(一)"),
            "最高人民法院关于适用民法典婚姻家庭编的解释（一）"
        );
    }

    #[test]
    fn aliases_include_short_names() {
        let a = aliases_for("中华人民共和国刑事诉讼法");
        assert!(a.contains(&"刑事诉讼法".to_string()));
        assert!(a.contains(&"刑诉法".to_string()));
        let a = aliases_for("中华人民共和国劳动法");
        assert_eq!(a, vec!["劳动法".to_string()]);
    }
}
