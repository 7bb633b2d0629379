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
            // 关于适用《民法典》婚姻家庭编的解释（一） -> 民法典婚姻家庭编解释（一）, 婚姻家庭编解释（一）
            if let Some(body) = rest.strip_prefix("关于适用") {
                if let Some(i) = body.find("的解释") {
                    let (subject, tail) = (&body[..i], &body[i + "的解释".len()..]);
                    push(format!("{subject}解释{tail}"));
                    if let Some(part) = subject.strip_prefix("民法典") {
                        if part.ends_with('编') {
                            push(format!("{part}解释{tail}"));
                        }
                    }
                }
            }
            break;
        }
    }
    out
}

/// A lookup table from normalised names and aliases to full law names, for
/// resolving many names against one corpus (citation checking). Full names
/// win over aliases; an alias shared by two laws resolves to neither.
#[derive(Debug, Clone, Default)]
pub struct NameIndex {
    map: std::collections::HashMap<String, String>,
    max_chars: usize,
}

impl NameIndex {
    /// Index the selected laws, then the laws known only in other versions.
    pub fn new(corpus: &super::Corpus) -> Self {
        let mut names: Vec<&str> = corpus.laws.iter().map(|l| l.name.as_str()).collect();
        let mut last: Option<&str> = None;
        for a in &corpus.other_versions {
            if last != Some(a.law.as_str()) && !names.contains(&a.law.as_str()) {
                names.push(&a.law);
            }
            last = Some(&a.law);
        }
        let mut map: std::collections::HashMap<String, String> = Default::default();
        for n in &names {
            map.entry(normalize(n)).or_insert_with(|| n.to_string());
        }
        let mut ambiguous = std::collections::HashSet::new();
        let selected: Vec<(&str, &Vec<String>)> = corpus
            .laws
            .iter()
            .map(|l| (l.name.as_str(), &l.aliases))
            .collect();
        let computed: Vec<(&str, Vec<String>)> = names[selected.len()..]
            .iter()
            .map(|n| (*n, aliases_for(n)))
            .collect();
        let all = selected
            .iter()
            .map(|(n, a)| (*n, a.as_slice()))
            .chain(computed.iter().map(|(n, a)| (*n, a.as_slice())));
        let full: std::collections::HashSet<String> = map.keys().cloned().collect();
        let mut alias_map: std::collections::HashMap<String, String> = Default::default();
        for (name, aliases) in all {
            for a in aliases {
                if full.contains(a) {
                    continue;
                }
                match alias_map.get(a) {
                    Some(other) if other != name => {
                        ambiguous.insert(a.clone());
                    }
                    Some(_) => {}
                    None => {
                        alias_map.insert(a.clone(), name.to_string());
                    }
                }
            }
        }
        for (a, n) in alias_map {
            if !ambiguous.contains(&a) {
                map.insert(a, n);
            }
        }
        let max_chars = map.keys().map(|k| k.chars().count()).max().unwrap_or(0);
        NameIndex { map, max_chars }
    }

    /// The full name for a name or alias as written (《》, 中华人民共和国 optional).
    pub fn resolve(&self, name: &str) -> Option<&str> {
        self.map.get(&normalize(name)).map(|s| s.as_str())
    }

    /// The longest law name or alias that `text` ends with: the full name and
    /// the byte length of the matched suffix of `text`.
    pub fn resolve_suffix(&self, text: &str) -> Option<(&str, usize)> {
        let starts: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        let n = starts.len();
        // Longest first; a suffix can be longer than its normalised key by the
        // 中华人民共和国 prefix and brackets.
        let longest = (self.max_chars + 12).min(n);
        for k in (2..=longest).rev() {
            let i = starts[n - k];
            if let Some(full) = self.resolve(&text[i..]) {
                return Some((full, text.len() - i));
            }
        }
        None
    }
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
        let a = aliases_for("最高人民法院关于适用《中华人民共和国民法典》婚姻家庭编的解释（一）");
        assert!(
            a.contains(&"民法典婚姻家庭编解释（一）".to_string()),
            "{a:?}"
        );
        assert!(a.contains(&"婚姻家庭编解释（一）".to_string()), "{a:?}");
    }
}
