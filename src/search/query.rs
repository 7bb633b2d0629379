//! Turning a question into a ranked list of articles.
//!
//! Steps: explicit citations first (exact lookups); then a BM25 query over the
//! question words minus stop words plus the expansion-table terms, across the
//! text, heading and law-name fields with boosts, plus phrase-proximity
//! queries for adjacent words; filters as required clauses; finally a rerank
//! by per-article priors (popular laws up; amendment items, full-text rows,
//! organisational laws and out-of-region rules down) and by the laws the
//! question names or the expansion rules point to.

use std::collections::HashMap;

use tantivy::collector::TopDocs;
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, Occur, PhraseQuery, Query, TermQuery,
};
use tantivy::schema::IndexRecordOption;
use tantivy::Term;

use super::citation::{self, QueryCitation};
use super::expand::{self, Rule};
use super::schema::{self, Fields};
use super::{Hit, SearchOptions};
use crate::corpus::{Article, ArticleKind, Corpus, LawInfo, Level, Lookup, Status};

/// Tuning knobs of the ranking, in one place.
#[derive(Debug, Clone)]
pub struct Tuning {
    pub w_text: f32,
    pub w_heads: f32,
    pub w_law: f32,
    pub w_expand: f32,
    pub w_phrase: f32,
    pub phrase_slop: u32,
    pub candidates: usize,
    /// Boost for a law the question names.
    pub named_law: f32,
    /// Boost per expansion rule pointing at a law (capped by `rule_law_cap`).
    pub rule_law: f32,
    pub rule_law_cap: f32,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            w_text: 1.0,
            w_heads: 0.3,
            w_law: 0.3,
            w_expand: 0.7,
            w_phrase: 0.6,
            phrase_slop: 2,
            candidates: 300,
            named_law: 2.0,
            rule_law: 0.25,
            rule_law_cap: 1.8,
        }
    }
}

/// Laws people ask about most, by short name, with their prior.
const POPULAR: &[(&str, f32)] = &[
    ("民法典", 1.35),
    ("劳动合同法", 1.35),
    ("劳动法", 1.2),
    ("法律援助法", 1.3),
    ("民事诉讼法", 1.2),
    ("刑事诉讼法", 1.1),
    ("消费者权益保护法", 1.25),
    ("道路交通安全法", 1.2),
    ("反家庭暴力法", 1.3),
    ("人民调解法", 1.25),
    ("公证法", 1.25),
    ("治安管理处罚法", 1.15),
    ("劳动争议调解仲裁法", 1.25),
    ("社会保险法", 1.15),
    ("行政复议法", 1.1),
    ("行政诉讼法", 1.1),
    ("行政处罚法", 1.1),
    ("妇女权益保障法", 1.1),
    ("未成年人保护法", 1.1),
    ("老年人权益保障法", 1.15),
    ("食品安全法", 1.05),
    ("电子商务法", 1.05),
    ("反电信网络诈骗法", 1.05),
    ("农村土地承包法", 1.05),
    ("农村土地承包经营纠纷调解仲裁法", 1.05),
];

/// Name fragments of organisational / state-structure laws citizens rarely need.
const OBSCURE: &[&str] = &[
    "组织法",
    "法官法",
    "检察官法",
    "监察官法",
    "选举法",
    "立法法",
    "代表法",
    "国旗法",
    "国徽法",
    "国歌法",
    "戒严法",
    "驻军法",
    "兵役法",
    "国防",
    "预备役",
    "军人",
    "军事",
    "人民武装警察",
    "外交",
    "领事",
    "缔结条约",
    "专属经济区",
    "领海",
    "香港特别行政区",
    "澳门特别行政区",
    "决定",
    "决议",
    "修正案",
    "授权",
    "反分裂",
];

/// Short name of a law: without the 中华人民共和国 prefix.
pub fn short_name(name: &str) -> &str {
    name.strip_prefix("中华人民共和国").unwrap_or(name)
}

/// Prior of all articles of a law (popularity, obscurity, level).
pub fn law_prior(l: &LawInfo) -> f32 {
    let short = short_name(&l.name);
    if let Some((_, p)) = POPULAR.iter().find(|(n, _)| *n == short) {
        return *p;
    }
    let mut p = match l.level {
        Level::Constitution => 0.8,
        Level::Law => 1.0,
        Level::Administrative => 0.9,
        Level::JudicialInterpretation => 0.9,
        Level::Local => 0.7,
    };
    if OBSCURE.iter().any(|o| short.contains(o)) {
        p *= 0.6;
    }
    p
}

/// Prior of one article given its law's prior.
pub fn article_prior(a: &Article, law: f32) -> f32 {
    let kind = match a.kind {
        ArticleKind::Article => 1.0,
        ArticleKind::AmendmentItem => 0.5,
        ArticleKind::FullText => 0.4,
    };
    let status = match a.status {
        Status::InForce => 1.0,
        Status::Amended => 0.95,
        _ => 0.5,
    };
    // Purpose/scope articles (第一条, 第二条) and very short pointers rarely answer anything.
    let short = if a.text.chars().count() < 20 {
        0.8
    } else {
        1.0
    };
    law * kind * status * short
}

/// Everything the query side precomputes at open time.
pub struct QueryData {
    /// (name or alias, law index), longest first.
    pub names: Vec<(String, usize)>,
    /// Law index of each doc id.
    pub doc_law: Vec<u32>,
    /// Prior of each doc id.
    pub doc_prior: Vec<f32>,
    /// Law indexes each expansion rule boosts.
    pub rule_laws: Vec<Vec<usize>>,
    pub rules: &'static [Rule],
    pub tuning: Tuning,
}

impl QueryData {
    pub fn new(corpus: &Corpus) -> QueryData {
        let mut names: Vec<(String, usize)> = Vec::new();
        let mut by_name: HashMap<String, usize> = HashMap::new();
        for (i, l) in corpus.laws.iter().enumerate() {
            let mut add = |n: &str| {
                if n.chars().count() >= 2 && !by_name.contains_key(n) {
                    by_name.insert(n.to_string(), i);
                    names.push((n.to_string(), i));
                }
            };
            add(&l.name);
            add(short_name(&l.name));
            for a in &l.aliases {
                add(a);
            }
        }
        names.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
        let law_prior: Vec<f32> = corpus.laws.iter().map(law_prior).collect();
        let all = corpus.articles.iter().chain(corpus.other_versions.iter());
        let mut doc_law = Vec::new();
        let mut doc_prior = Vec::new();
        for a in all {
            let li = by_name.get(a.law.as_str()).copied();
            doc_law.push(li.map(|i| i as u32).unwrap_or(u32::MAX));
            let lp = li.map(|i| law_prior[i]).unwrap_or(0.8);
            doc_prior.push(article_prior(a, lp));
        }
        let rules = expand::rules();
        let rule_laws = rules
            .iter()
            .map(|r| {
                r.laws
                    .iter()
                    .filter_map(|n| by_name.get(n.as_str()).copied())
                    .collect()
            })
            .collect();
        QueryData {
            names,
            doc_law,
            doc_prior,
            rule_laws,
            rules,
            tuning: Tuning::default(),
        }
    }
}

/// The article behind a doc id.
pub fn doc_article(corpus: &Corpus, doc: usize) -> Option<&Article> {
    let n = corpus.articles.len();
    if doc < n {
        corpus.articles.get(doc)
    } else {
        corpus.other_versions.get(doc - n)
    }
}

pub fn hit(a: &Article, score: f32) -> Hit {
    Hit {
        law: a.law.clone(),
        article: a.article,
        suffix: a.suffix,
        article_label: a.article_label.clone(),
        text: a.text.clone(),
        score,
        level: a.level.as_str().to_string(),
        status: a.status.as_str().to_string(),
        dense: None,
        rerank: None,
    }
}

/// Whether an article passes the filters.
pub fn passes(a: &Article, opts: &SearchOptions, law: Option<&str>) -> bool {
    if opts.in_force_only && !a.status.citable() {
        return false;
    }
    if let Some(l) = law {
        if a.law != l {
            return false;
        }
    }
    if let Some(lv) = &opts.level {
        if a.level.as_str() != lv {
            return false;
        }
    }
    if let Some(r) = &opts.region {
        if a.region.as_deref() != Some(r.as_str()) {
            return false;
        }
    }
    true
}

/// Exact answers to the citations in the query.
pub fn citation_hits(
    corpus: &Corpus,
    data: &QueryData,
    query: &str,
    opts: &SearchOptions,
) -> Vec<Hit> {
    let mentions = citation::law_mentions(query, &data.names);
    let cites: Vec<QueryCitation> = citation::citations(query, &mentions);
    let mut out = Vec::new();
    for c in cites {
        let Some(info) = corpus.laws.get(c.law) else {
            continue;
        };
        let a = match corpus.lookup(&info.name, c.article, c.suffix) {
            Lookup::Current(a) => Some(a),
            Lookup::NotInForce(a) if !opts.in_force_only => Some(a),
            _ => None,
        };
        if let Some(a) = a {
            out.push(hit(a, 1000.0));
        }
    }
    out
}

/// Laws the query names (by index).
pub fn named_laws(data: &QueryData, query: &str) -> Vec<usize> {
    citation::law_mentions(query, &data.names)
        .into_iter()
        .map(|(_, _, l)| l)
        .collect()
}

fn term_query(f: &Fields, word: &str, w: f32, t: &Tuning) -> Box<dyn Query> {
    let mk = |field, boost: f32| -> (Occur, Box<dyn Query>) {
        let q = TermQuery::new(
            Term::from_field_text(field, word),
            IndexRecordOption::WithFreqs,
        );
        (
            Occur::Should,
            Box::new(BoostQuery::new(Box::new(q), boost * w)),
        )
    };
    Box::new(BooleanQuery::new(vec![
        mk(f.text, t.w_text),
        mk(f.heads, t.w_heads),
        mk(f.law_name, t.w_law),
    ]))
}

fn phrase_query(
    f: &Fields,
    pair: &[(usize, String)],
    w: f32,
    t: &Tuning,
) -> Option<Box<dyn Query>> {
    if pair.len() < 2 {
        return None;
    }
    let base = pair[0].0;
    let terms: Vec<(usize, Term)> = pair
        .iter()
        .map(|(p, s)| (p - base, Term::from_field_text(f.text, s)))
        .collect();
    let q = PhraseQuery::new_with_offset_and_slop(terms, t.phrase_slop);
    Some(Box::new(BoostQuery::new(Box::new(q), t.w_phrase * w)))
}

/// The weighted words of a question: question words minus stop words (weight
/// 1), expansion terms (weight `w_expand` times the rule weight). Also returns
/// the phrases (adjacent whole words) and the fired rules.
pub struct Analysed {
    pub terms: Vec<(String, f32)>,
    pub phrases: Vec<(Vec<(usize, String)>, f32)>,
    pub rules: Vec<usize>,
}

pub fn analyse(data: &QueryData, query: &str) -> Analysed {
    let t = &data.tuning;
    let mut weights: HashMap<String, f32> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut put = |w: &str, x: f32, weights: &mut HashMap<String, f32>| {
        let e = weights.entry(w.to_string()).or_insert_with(|| {
            order.push(w.to_string());
            0.0
        });
        if x > *e {
            *e = x;
        }
    };
    for tok in schema::tokenize(query) {
        if !expand::is_stop(&tok.text) {
            put(&tok.text, 1.0, &mut weights);
        }
    }
    let content = |ws: Vec<(usize, String)>| -> Vec<(usize, String)> {
        ws.into_iter()
            .filter(|(_, w)| !expand::is_stop(w))
            .collect()
    };
    let qwords = content(schema::words(query));
    let mut phrases: Vec<(Vec<(usize, String)>, f32)> = qwords
        .windows(2)
        .filter(|p| p[1].0 - p[0].0 <= p[0].1.chars().count() + 1)
        .map(|p| (p.to_vec(), 1.0))
        .collect();
    let fired = expand::matching(data.rules, query);
    for &ri in &fired {
        let r = &data.rules[ri];
        for add in &r.add {
            let w = t.w_expand * r.weight;
            for tok in schema::tokenize(add) {
                put(&tok.text, w, &mut weights);
            }
            let ws = schema::words(add);
            if ws.len() >= 2 {
                phrases.push((ws, w));
            }
        }
    }
    let terms = order
        .into_iter()
        .map(|w| {
            let x = weights.get(&w).copied().unwrap_or(0.0);
            (w, x)
        })
        .collect();
    Analysed {
        terms,
        phrases,
        rules: fired,
    }
}

/// Build the tantivy query for an analysed question and the filters.
pub fn build_query(
    f: &Fields,
    data: &QueryData,
    a: &Analysed,
    opts: &SearchOptions,
    law: Option<&str>,
) -> BooleanQuery {
    let t = &data.tuning;
    let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for (w, x) in &a.terms {
        should.push((Occur::Should, term_query(f, w, *x, t)));
    }
    for (p, x) in &a.phrases {
        if let Some(q) = phrase_query(f, p, *x, t) {
            should.push((Occur::Should, q));
        }
    }
    let mut clauses: Vec<(Occur, Box<dyn Query>)> =
        vec![(Occur::Must, Box::new(BooleanQuery::new(should)))];
    let raw = |field, v: &str| -> Box<dyn Query> {
        Box::new(ConstScoreQuery::new(
            Box::new(TermQuery::new(
                Term::from_field_text(field, v),
                IndexRecordOption::Basic,
            )),
            0.0,
        ))
    };
    if let Some(l) = law {
        clauses.push((Occur::Must, raw(f.law, l)));
    }
    if let Some(lv) = &opts.level {
        clauses.push((Occur::Must, raw(f.level, lv)));
    }
    if let Some(r) = &opts.region {
        clauses.push((Occur::Must, raw(f.region, r)));
    }
    if opts.in_force_only {
        let citable = BooleanQuery::new(vec![
            (Occur::Should, raw(f.status, Status::InForce.as_str())),
            (Occur::Should, raw(f.status, Status::Amended.as_str())),
        ]);
        clauses.push((Occur::Must, Box::new(citable)));
    }
    BooleanQuery::new(clauses)
}

/// Per-law multipliers for this question: named laws and rule laws.
pub fn law_boosts(data: &QueryData, named: &[usize], rules: &[usize]) -> HashMap<usize, f32> {
    let t = &data.tuning;
    let mut m: HashMap<usize, f32> = HashMap::new();
    for &ri in rules {
        for &l in data.rule_laws.get(ri).map(Vec::as_slice).unwrap_or(&[]) {
            let e = m.entry(l).or_insert(1.0);
            *e = (*e + t.rule_law).min(t.rule_law_cap);
        }
    }
    for &l in named {
        *m.entry(l).or_insert(1.0) *= t.named_law;
    }
    m
}

/// Top-`candidates` doc ids with BM25 scores, reranked by priors and boosts.
pub fn rank(
    searcher: &tantivy::Searcher,
    data: &QueryData,
    query: &BooleanQuery,
    boosts: &HashMap<usize, f32>,
    limit: usize,
) -> crate::Result<Vec<(usize, f32)>> {
    let top = searcher.search(
        query,
        &TopDocs::with_limit(data.tuning.candidates.max(limit)).order_by_score(),
    )?;
    let mut out = Vec::with_capacity(top.len());
    let mut readers = HashMap::new();
    for (score, addr) in top {
        let col = match readers.entry(addr.segment_ord) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let seg = searcher.segment_reader(addr.segment_ord);
                v.insert(seg.fast_fields().u64("doc")?)
            }
        };
        let Some(doc) = col.first(addr.doc_id) else {
            continue;
        };
        let doc = doc as usize;
        let prior = data.doc_prior.get(doc).copied().unwrap_or(1.0);
        let law = data.doc_law.get(doc).copied().unwrap_or(u32::MAX) as usize;
        let boost = boosts.get(&law).copied().unwrap_or(1.0);
        out.push((doc, score * prior * boost));
    }
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out.truncate(limit);
    Ok(out)
}
