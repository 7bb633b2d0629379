//! The colloquial-to-legal expansion table (`expansions.toml`) and the
//! stop words of chatty questions.

use std::sync::OnceLock;

use serde::Deserialize;

/// The table as shipped.
pub const EXPANSIONS: &str = include_str!("expansions.toml");

/// One rule of the table.
#[derive(Debug, Clone, Deserialize)]
pub struct Rule {
    /// Fires when any of these occurs in the question.
    pub when: Vec<String>,
    /// Legal terms added to the query.
    #[serde(default)]
    pub add: Vec<String>,
    /// Laws (short or full names) whose articles are boosted.
    #[serde(default)]
    pub laws: Vec<String>,
    /// Weight of the added terms relative to question words.
    #[serde(default = "one")]
    pub weight: f32,
    /// Does not fire when any of these occurs (e.g. 工资 for the loan rule:
    /// "拖欠我工资" is a wage claim, not a loan).
    #[serde(default)]
    pub unless: Vec<String>,
}

fn one() -> f32 {
    1.0
}

#[derive(Deserialize)]
struct Table {
    rule: Vec<Rule>,
}

/// Parse a table text.
pub fn parse(text: &str) -> crate::Result<Vec<Rule>> {
    Ok(toml::from_str::<Table>(text)?.rule)
}

/// The shipped rules (parsed once; the table is checked by a unit test).
pub fn rules() -> &'static [Rule] {
    static R: OnceLock<Vec<Rule>> = OnceLock::new();
    R.get_or_init(|| match parse(EXPANSIONS) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("expansion table does not parse: {e}");
            Vec::new()
        }
    })
}

/// Indexes of the rules that fire for `question`.
pub fn matching(rules: &[Rule], question: &str) -> Vec<usize> {
    rules
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            r.when
                .iter()
                .any(|w| !w.is_empty() && question.contains(w.as_str()))
                && !r
                    .unless
                    .iter()
                    .any(|w| !w.is_empty() && question.contains(w.as_str()))
        })
        .map(|(i, _)| i)
        .collect()
}

/// Words that carry no legal meaning in a question (after tokenizing).
const STOP_WORDS: &[&str] = &[
    "我",
    "你",
    "他",
    "她",
    "它",
    "我们",
    "你们",
    "他们",
    "她们",
    "咱们",
    "自己",
    "的",
    "了",
    "着",
    "过",
    "吗",
    "啊",
    "呢",
    "吧",
    "呀",
    "哦",
    "嗯",
    "喂",
    "哈",
    "啦",
    "嘛",
    "么",
    "哪",
    "呗",
    "是",
    "在",
    "有",
    "就",
    "都",
    "也",
    "还",
    "要",
    "能",
    "会",
    "想",
    "这",
    "那",
    "这个",
    "那个",
    "这样",
    "那样",
    "个",
    "一个",
    "一下",
    "什么",
    "怎么",
    "怎么办",
    "怎样",
    "怎么样",
    "如何",
    "为什么",
    "为啥",
    "咋",
    "咋办",
    "啥",
    "请问",
    "问问",
    "问一下",
    "想问",
    "咨询",
    "你好",
    "您好",
    "同志",
    "谢谢",
    "麻烦",
    "现在",
    "然后",
    "但是",
    "可是",
    "因为",
    "所以",
    "如果",
    "就是",
    "还是",
    "或者",
    "已经",
    "一直",
    "一次",
    "一些",
    "有点",
    "这些",
    "那些",
    "说",
    "给",
    "让",
    "把",
    "对",
    "和",
    "跟",
    "与",
    "又",
    "才",
    "去",
    "来",
    "到",
    "上",
    "下",
    "里",
    "没",
    "不",
    "很",
    "太",
    "吗",
    "可以",
    "能不能",
    "可不可以",
    "是不是",
    "有没有",
    "应该",
    "需要",
    "到底",
    "真的",
    "一点",
    "听说",
    "知道",
    "觉得",
    "感觉",
    "时候",
    "情况",
    "问题",
    "办法",
    "我该",
    "该",
    "他说",
    "她说",
    "结果",
    "之前",
    "以后",
    "后来",
    "当时",
    "今天",
    "昨天",
    "明天",
    "去年",
    "今年",
    "前几天",
    "最近",
    "几个",
    "多少",
    "还有",
    "而且",
    "不是",
    "没有",
    "合法",
    "合理",
    "行吗",
    "对吗",
    "好",
    "啊啊",
    "听得到",
    "听得见",
];

/// Whether a query token is a stop word.
pub fn is_stop(word: &str) -> bool {
    STOP_WORDS.contains(&word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_table_parses_and_is_well_formed() {
        let rules = parse(EXPANSIONS).expect("expansions.toml parses");
        assert!(rules.len() >= 50, "only {} rules", rules.len());
        for r in &rules {
            assert!(!r.when.is_empty(), "rule without triggers: {r:?}");
            assert!(
                !r.add.is_empty() || !r.laws.is_empty(),
                "rule that does nothing: {r:?}"
            );
            assert!(r.when.iter().all(|w| !w.trim().is_empty()));
            assert!(r.unless.iter().all(|w| !w.trim().is_empty()));
        }
    }

    #[test]
    fn colloquial_questions_fire_legal_rules() {
        let rules = rules();
        let terms = |q: &str| -> Vec<String> {
            matching(rules, q)
                .into_iter()
                .flat_map(|i| rules[i].add.clone())
                .collect()
        };
        assert!(terms("老板不发工资").contains(&"劳动报酬".to_string()));
        assert!(terms("朋友欠钱不还").contains(&"借款".to_string()));
        assert!(terms("被车撞了").contains(&"交通事故".to_string()));
        assert!(terms("老公家暴").contains(&"家庭暴力".to_string()));
        assert!(terms("我请不起律师").contains(&"法律援助".to_string()));
        assert!(terms("今天天气不错").is_empty());
    }

    #[test]
    fn unless_stops_a_rule() {
        let rules = parse("[[rule]]\nwhen = [\"欠我\"]\nadd = [\"借款\"]\nunless = [\"工资\"]\n")
            .expect("table");
        assert_eq!(matching(&rules, "他欠我两万块钱"), vec![0]);
        assert!(matching(&rules, "公司拖欠我两个月工资").is_empty());
    }
}
