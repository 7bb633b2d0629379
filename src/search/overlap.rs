//! Word overlap between a question and an article, in the question's own
//! words and in the legal terms they stand for: signals for the reranker
//! and the answer's relevance gate.

/// Characters that carry no subject: pairs made only of these are ignored.
const FUNCTION_CHARS: &str = "我你他她它们的了吗呢吧啊呀么怎什是不有在这那个些可以能会要就还和与及或把被让给对向从到都也很太又才再请问该应当如何为何啥哪谁多少几没无一二三四五六七八九十百千万年月日天元块后前时候里上下中说想找自己情况问题办理规定法律条";

fn is_cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

/// The question's content character pairs (deduplicated).
pub fn content_pairs(question: &str) -> Vec<String> {
    let chars: Vec<char> = question.chars().collect();
    let mut out: Vec<String> = Vec::new();
    for w in chars.windows(2) {
        if !is_cjk(w[0]) || !is_cjk(w[1]) {
            continue;
        }
        if FUNCTION_CHARS.contains(w[0]) && FUNCTION_CHARS.contains(w[1]) {
            continue;
        }
        let p: String = w.iter().collect();
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// Share of `pairs` found in `text` (0 when there are none).
pub fn pair_share(pairs: &[String], text: &str) -> f32 {
    if pairs.is_empty() {
        return 0.0;
    }
    pairs.iter().filter(|p| text.contains(p.as_str())).count() as f32 / pairs.len() as f32
}

/// The legal terms retrieval's colloquial-to-legal table adds for the
/// question (`src/search/expansions.toml`, read here as data: 借了/不还 call
/// for 借款/返还). Articles are written in those terms, not in the asker's.
pub fn legal_terms(question: &str) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Rule {
        when: Vec<String>,
        #[serde(default)]
        add: Vec<String>,
        #[serde(default)]
        unless: Vec<String>,
    }
    #[derive(serde::Deserialize)]
    struct Table {
        rule: Vec<Rule>,
    }
    static RULES: std::sync::OnceLock<Vec<Rule>> = std::sync::OnceLock::new();
    let rules =
        RULES.get_or_init(
            || match toml::from_str::<Table>(include_str!("expansions.toml")) {
                Ok(t) => t.rule,
                Err(e) => {
                    tracing::error!("expansion table does not parse: {e}");
                    Vec::new()
                }
            },
        );
    let has = |w: &String| !w.is_empty() && question.contains(w.as_str());
    let mut out: Vec<String> = Vec::new();
    for r in rules
        .iter()
        .filter(|r| r.when.iter().any(has) && !r.unless.iter().any(has))
    {
        for t in &r.add {
            if !out.contains(t) {
                out.push(t.clone());
            }
        }
    }
    out
}
