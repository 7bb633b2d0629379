//! A learned reranker over the head of the fused ranking.
//!
//! Fusion knows only ranks. The reranker looks again at the first
//! [`Reranker::depth`] fused candidates with what is known about each:
//! its places and scores in the lexical and dense rankings, how much of the
//! question's wording (or the legal terms it stands for) the article holds,
//! whether the question names the article's law, and how often real
//! questions turned on this article and this law ("priors", counted on the
//! training questions), and how likely questions of this meaning turn on
//! its law, chapter and article (the topic classifier, `search::topics`). A logistic regression over these features, trained
//! on real questions with gold articles (STARD's training split), orders the
//! head; the rest of the list keeps its order.
//!
//! Training and its fold-honest evaluation live in
//! `eval::retrieval_cv`; the shipped model is `rerank.json` beside this file,
//! written by `lawbrain eval retrieval-cv --write-reranker`.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::overlap::{content_pairs, legal_terms, pair_share};
use super::topics::{Probabilities, StoredTopics, Topics};
use crate::corpus::Corpus;

/// Names of the features, in order (also the model file's documentation).
pub const FEATURES: [&str; 21] = [
    "fused_rr",
    "lexical_rr",
    "dense_rr",
    "lexical_rel",
    "dense_cos",
    "dense_gap",
    "article_prior",
    "law_prior",
    "words",
    "legal_terms",
    "law_named",
    "law_mass",
    "heading_words",
    "text_len",
    "chapter_prior",
    "neighbour_prior",
    "similar_article",
    "similar_law",
    "law_topic",
    "chapter_topic",
    "article_topic",
];

/// The features read from the topic classifier (`search::topics`).
pub const TOPIC_FEATURES: [&str; 3] = ["law_topic", "chapter_topic", "article_topic"];

/// How often each article, chapter and law was a gold answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Priors {
    /// `(law, article)` -> questions whose gold it was. (Ordered maps: the
    /// model file is the same bytes each time it is written.)
    pub articles: BTreeMap<String, f32>,
    /// law -> questions with a gold article of it.
    pub laws: BTreeMap<String, f32>,
    /// `law#headings` -> questions with a gold article under them.
    #[serde(default)]
    pub chapters: BTreeMap<String, f32>,
}

/// One gold article of a training question.
#[derive(Debug, Clone, PartialEq)]
pub struct Gold {
    pub law: String,
    pub article: u32,
    /// [`chapter_key`] of the article.
    pub chapter: String,
}

impl Gold {
    pub fn of(a: &crate::corpus::Article) -> Gold {
        Gold {
            law: a.law.clone(),
            article: a.article,
            chapter: chapter_key(a),
        }
    }
}

pub(crate) fn key(law: &str, article: u32) -> String {
    format!("{}#{article}", short_law(law))
}

/// The law and headings an article sits under (`民法典#合同编/借款合同`).
pub fn chapter_key(a: &crate::corpus::Article) -> String {
    format!("{}#{}", short_law(&a.law), a.path.join("/"))
}

/// A law's name without the `中华人民共和国` prefix.
pub fn short_law(law: &str) -> &str {
    law.trim_start_matches("中华人民共和国")
}

impl Priors {
    /// Counts over questions' gold article lists.
    pub fn count<'a>(golds: impl Iterator<Item = &'a [Gold]>) -> Priors {
        let mut p = Priors::default();
        for g in golds {
            p.add(g, 1.0);
        }
        p
    }

    /// Add (`sign` 1) or take away (-1) one question's gold articles.
    pub fn add(&mut self, gold: &[Gold], sign: f32) {
        let mut laws: Vec<&str> = Vec::new();
        let mut chapters: Vec<&str> = Vec::new();
        for g in gold {
            *self.articles.entry(key(&g.law, g.article)).or_insert(0.0) += sign;
            if !laws.contains(&short_law(&g.law)) {
                laws.push(short_law(&g.law));
            }
            if !chapters.contains(&g.chapter.as_str()) {
                chapters.push(&g.chapter);
            }
        }
        for l in laws {
            *self.laws.entry(l.to_string()).or_insert(0.0) += sign;
        }
        for c in chapters {
            *self.chapters.entry(c.to_string()).or_insert(0.0) += sign;
        }
    }

    fn chapter(&self, a: &crate::corpus::Article) -> f32 {
        self.chapters
            .get(&chapter_key(a))
            .copied()
            .unwrap_or(0.0)
            .max(0.0)
    }

    /// Gold counts of the articles up to two places before and after.
    fn neighbours(&self, law: &str, n: u32) -> f32 {
        [n.wrapping_sub(2), n.wrapping_sub(1), n + 1, n + 2]
            .iter()
            .map(|&m| self.article(law, m))
            .sum()
    }

    fn article(&self, law: &str, n: u32) -> f32 {
        self.articles
            .get(&key(law, n))
            .copied()
            .unwrap_or(0.0)
            .max(0.0)
    }

    fn law(&self, law: &str) -> f32 {
        self.laws
            .get(short_law(law))
            .copied()
            .unwrap_or(0.0)
            .max(0.0)
    }
}

/// What the reranker sees of one question's candidate lists.
pub struct Lists<'a> {
    pub question: &'a str,
    pub fused: &'a [(usize, f32)],
    pub lexical: &'a [(usize, f32)],
    pub dense: &'a [(usize, f32)],
    /// The question's embedding (when dense retrieval ran).
    pub query_vec: Option<&'a [f32]>,
}

/// How many similar past questions vote.
pub const SIMILAR_K: usize = 10;
/// Softmax temperature over their cosines (e5 cosines sit in a narrow band).
pub const SIMILAR_TAU: f32 = 0.02;

/// Features the shipped model leaves out: the votes of similar past
/// questions need those questions' embeddings at run time, and the product
/// carries no training question (nor vectors made from them). Measured in
/// `retrieval-cv` only, where the training folds supply them.
pub const NEEDS_PAST_QUESTIONS: [&str; 2] = ["similar_article", "similar_law"];

/// Past questions with their gold articles, as embeddings: "questions like
/// this one turned on these articles". Vectors are unit length.
#[derive(Debug, Clone, Default)]
pub struct Memory {
    pub vectors: Vec<Vec<f32>>,
    pub golds: Vec<Vec<Gold>>,
}

/// The votes of the most similar past questions (weights sum to 1).
#[derive(Debug, Clone, Default)]
pub struct Votes {
    articles: HashMap<String, f32>,
    laws: HashMap<String, f32>,
}

impl Votes {
    // No votes (the shipped model, which has none) cost no key building.
    fn article(&self, law: &str, n: u32) -> f32 {
        if self.articles.is_empty() {
            return 0.0;
        }
        self.articles.get(&key(law, n)).copied().unwrap_or(0.0)
    }

    fn law(&self, law: &str) -> f32 {
        if self.laws.is_empty() {
            return 0.0;
        }
        self.laws.get(short_law(law)).copied().unwrap_or(0.0)
    }
}

impl Memory {
    /// Votes of the [`SIMILAR_K`] past questions nearest `q`, leaving out
    /// `skip` (the question itself, when training on it).
    pub fn votes(&self, q: &[f32], skip: Option<usize>) -> Votes {
        let near = super::dense::best_k(
            self.vectors
                .iter()
                .enumerate()
                .filter(|(i, v)| Some(*i) != skip && v.len() == q.len())
                .map(|(i, v)| (i, crate::embed::dot(v, q)))
                .collect(),
            SIMILAR_K,
        );
        let Some(top) = near.first().map(|x| x.1) else {
            return Votes::default();
        };
        let w: Vec<f32> = near
            .iter()
            .map(|x| ((x.1 - top) / SIMILAR_TAU).exp())
            .collect();
        let total: f32 = w.iter().sum::<f32>().max(1e-9);
        let mut v = Votes::default();
        for ((i, _), wi) in near.iter().zip(&w) {
            let share = wi / total;
            let mut laws: Vec<&str> = Vec::new();
            for g in &self.golds[*i] {
                *v.articles.entry(key(&g.law, g.article)).or_insert(0.0) += share;
                if !laws.contains(&short_law(&g.law)) {
                    laws.push(short_law(&g.law));
                }
            }
            for l in laws {
                *v.laws.entry(l.to_string()).or_insert(0.0) += share;
            }
        }
        v
    }
}

/// Feature rows of the first `depth` fused candidates (doc, features).
pub fn features(
    corpus: &Corpus,
    priors: &Priors,
    votes: &Votes,
    topics: &Probabilities,
    l: &Lists<'_>,
    depth: usize,
) -> Vec<(usize, [f32; FEATURES.len()])> {
    let pairs = content_pairs(l.question);
    let terms = legal_terms(l.question);
    let lex_rank: HashMap<usize, usize> = l
        .lexical
        .iter()
        .enumerate()
        .map(|(r, x)| (x.0, r))
        .collect();
    let lex_score: HashMap<usize, f32> = l.lexical.iter().copied().collect();
    let dense_rank: HashMap<usize, usize> =
        l.dense.iter().enumerate().map(|(r, x)| (x.0, r)).collect();
    let dense_cos: HashMap<usize, f32> = l.dense.iter().copied().collect();
    let lex_top = l.lexical.first().map_or(0.0, |x| x.1);
    let dense_top = l.dense.first().map_or(0.0, |x| x.1);
    let rr = |r: Option<&usize>| r.map_or(0.0, |r| 1.0 / (1.0 + *r as f32));
    // How strongly the head points at each law (reciprocal ranks summed).
    let mut law_mass: HashMap<&str, f32> = HashMap::new();
    for (r, &(doc, _)) in l.fused.iter().take(depth).enumerate() {
        if let Some(a) = super::query::doc_article(corpus, doc) {
            *law_mass.entry(a.law.as_str()).or_insert(0.0) += 1.0 / (1.0 + r as f32);
        }
    }
    l.fused
        .iter()
        .take(depth)
        .enumerate()
        .filter_map(|(r, &(doc, _))| {
            let a = super::query::doc_article(corpus, doc)?;
            let text = format!("{}{}", a.law, a.text);
            let chapter = chapter_key(a);
            let cos = dense_cos.get(&doc).copied();
            let f = [
                1.0 / (1.0 + r as f32),
                rr(lex_rank.get(&doc)),
                rr(dense_rank.get(&doc)),
                match (lex_score.get(&doc), lex_top > 0.0) {
                    (Some(s), true) => (s / lex_top).clamp(0.0, 1.0),
                    _ => 0.0,
                },
                cos.unwrap_or(0.0),
                cos.map_or(-0.2, |c| c - dense_top),
                (1.0 + priors.article(&a.law, a.article)).ln(),
                (1.0 + priors.law(&a.law)).ln(),
                pair_share(&pairs, &text),
                pair_share(&terms, &text),
                f32::from(u8::from(law_named(l.question, &a.law))),
                law_mass.get(a.law.as_str()).copied().unwrap_or(0.0),
                pair_share(&pairs, &a.path.join("")),
                (1.0 + a.text.chars().count() as f32).ln(),
                (1.0 + priors.chapter(a)).ln(),
                (1.0 + priors.neighbours(&a.law, a.article)).ln(),
                votes.article(&a.law, a.article),
                votes.law(&a.law),
                topics.law(&a.law),
                topics.chapter(&chapter),
                topics.article(&a.law, a.article),
            ];
            Some((doc, f))
        })
        .collect()
}

/// Whether the question names the law (its short name, or the name without
/// a trailing 法/条例, at least two characters).
fn law_named(question: &str, law: &str) -> bool {
    let s = short_law(law);
    let core = s
        .trim_end_matches("条例")
        .trim_end_matches('法')
        .trim_end_matches("规定");
    question.contains(s) || (core.chars().count() >= 2 && question.contains(core))
}

/// A trained reranker: standardisation, logistic-regression weights, the
/// priors it was trained with, and how deep it reorders.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reranker {
    pub depth: usize,
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
    pub weights: Vec<f32>,
    pub bias: f32,
    /// Features left out (weight fixed at 0), by name.
    #[serde(default)]
    pub disabled: Vec<String>,
    pub priors: Priors,
    /// Where the model came from, for people reading the file.
    #[serde(default)]
    pub trained_on: String,
    /// Past questions as embeddings, for the `similar_*` features (set by
    /// `retrieval-cv` for its folds; never shipped: see
    /// [`NEEDS_PAST_QUESTIONS`]).
    #[serde(skip)]
    pub memory: Option<Memory>,
    /// The topic classifier's classes as the file keeps them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topics: Option<StoredTopics>,
    /// The classifier itself (from `topics` when loaded; set directly by
    /// `retrieval-cv` for its folds).
    #[serde(skip)]
    pub classes: Option<Topics>,
}

/// The probability a reranked head score carries (`1 + p`; scores outside
/// the head, or not reranked, carry none and read as 0).
pub fn probability(score: f32) -> f32 {
    if (1.0..=2.0).contains(&score) {
        score - 1.0
    } else {
        0.0
    }
}

/// Training settings.
#[derive(Debug, Clone, Copy)]
pub struct TrainConfig {
    pub depth: usize,
    pub epochs: usize,
    pub learning_rate: f32,
    pub l2: f32,
    /// Listwise (softmax over each question's candidates) instead of
    /// pointwise logistic loss.
    pub listwise: bool,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            depth: 50,
            epochs: 400,
            learning_rate: 0.5,
            l2: 1e-3,
            listwise: false,
        }
    }
}

impl TrainConfig {
    /// Settings for the listwise loss (its gradients are larger: a smaller
    /// step, more of them).
    pub fn listwise() -> TrainConfig {
        TrainConfig {
            epochs: 1000,
            learning_rate: 0.1,
            listwise: true,
            ..TrainConfig::default()
        }
    }
}

impl Reranker {
    /// Fit on the candidate lists of training questions (one list of
    /// `(features, is_gold)` rows per question) by full-batch gradient
    /// descent on standardised features. Pointwise (the default): logistic
    /// loss on every row, positives weighted to balance the classes.
    /// Listwise: the softmax of the scores over each question's candidates
    /// should put its mass on the gold articles (questions with no gold
    /// candidate are skipped).
    pub fn train(
        lists: &[Vec<([f32; FEATURES.len()], bool)>],
        priors: Priors,
        disabled: &[&str],
        cfg: TrainConfig,
    ) -> Reranker {
        let nf = FEATURES.len();
        let rows = || lists.iter().flatten();
        let n = rows().count().max(1) as f32;
        let mut mean = vec![0.0f32; nf];
        let mut std = vec![0.0f32; nf];
        for (x, _) in rows() {
            for j in 0..nf {
                mean[j] += x[j] / n;
            }
        }
        for (x, _) in rows() {
            for j in 0..nf {
                std[j] += (x[j] - mean[j]).powi(2) / n;
            }
        }
        for s in &mut std {
            *s = s.sqrt().max(1e-6);
        }
        let on: Vec<bool> = FEATURES.iter().map(|f| !disabled.contains(f)).collect();
        let standard = |l: &Vec<([f32; FEATURES.len()], bool)>| -> Vec<Vec<f32>> {
            l.iter()
                .map(|(x, _)| (0..nf).map(|j| (x[j] - mean[j]) / std[j]).collect())
                .collect()
        };
        let dot = |zi: &[f32], w: &[f32]| zi.iter().zip(w).map(|(a, c)| a * c).sum::<f32>();
        let mut w = vec![0.0f32; nf];
        let mut b = 0.0f32;
        if cfg.listwise {
            let z: Vec<(Vec<Vec<f32>>, Vec<f32>)> = lists
                .iter()
                .filter(|l| l.iter().any(|r| r.1))
                .map(|l| {
                    let golds = l.iter().filter(|r| r.1).count() as f32;
                    let t = l.iter().map(|r| f32::from(u8::from(r.1)) / golds);
                    (standard(l), t.collect())
                })
                .collect();
            let q = z.len().max(1) as f32;
            let mut p: Vec<f32> = Vec::new();
            for _ in 0..cfg.epochs {
                let mut gw = vec![0.0f32; nf];
                for (zs, target) in &z {
                    p.clear();
                    p.extend(zs.iter().map(|zi| dot(zi, &w)));
                    let max = p.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    let mut sum = 0.0;
                    for v in p.iter_mut() {
                        *v = (*v - max).exp();
                        sum += *v;
                    }
                    for ((zi, pi), t) in zs.iter().zip(&p).zip(target) {
                        let g = pi / sum - t;
                        for j in 0..nf {
                            gw[j] += g * zi[j];
                        }
                    }
                }
                for j in 0..nf {
                    if on[j] {
                        w[j] -= cfg.learning_rate * (gw[j] / q + cfg.l2 * w[j]);
                    }
                }
            }
            // The softmax ignores a shared offset; shown probabilities
            // start low for a typical candidate.
            b = -2.0;
        } else {
            let z: Vec<(Vec<f32>, bool)> = lists
                .iter()
                .flat_map(|l| standard(l).into_iter().zip(l.iter().map(|r| r.1)))
                .collect();
            let pos = z.iter().filter(|r| r.1).count().max(1) as f32;
            let neg = (z.len() as f32 - pos).max(1.0);
            let (wp, wn) = (n / (2.0 * pos), n / (2.0 * neg));
            for _ in 0..cfg.epochs {
                let mut gw = vec![0.0f32; nf];
                let mut gb = 0.0f32;
                for (zi, y) in &z {
                    let p = 1.0 / (1.0 + (-(b + dot(zi, &w))).exp());
                    let (t, cw) = if *y { (1.0, wp) } else { (0.0, wn) };
                    let g = cw * (p - t);
                    for j in 0..nf {
                        gw[j] += g * zi[j];
                    }
                    gb += g;
                }
                for j in 0..nf {
                    if on[j] {
                        w[j] -= cfg.learning_rate * (gw[j] / n + cfg.l2 * w[j]);
                    }
                }
                b -= cfg.learning_rate * gb / n;
            }
        }
        Reranker {
            depth: cfg.depth,
            mean,
            std,
            weights: w,
            bias: b,
            disabled: disabled.iter().map(|s| s.to_string()).collect(),
            priors,
            trained_on: String::new(),
            memory: None,
            topics: None,
            classes: None,
        }
    }

    /// Model score of one feature row.
    pub fn score(&self, x: &[f32; FEATURES.len()]) -> f32 {
        let mut s = self.bias;
        for (j, v) in x.iter().enumerate() {
            let (m, sd, w) = (
                self.mean.get(j).copied().unwrap_or(0.0),
                self.std.get(j).copied().unwrap_or(1.0),
                self.weights.get(j).copied().unwrap_or(0.0),
            );
            s += w * (v - m) / sd;
        }
        s
    }

    /// The fused list with its head reordered by the model (scores of the
    /// head become the model's probabilities; the tail keeps its order and
    /// scores below them).
    pub fn rerank(&self, corpus: &Corpus, l: &Lists<'_>) -> Vec<(usize, f32)> {
        let votes = match (&self.memory, l.query_vec) {
            (Some(m), Some(q)) => m.votes(q, None),
            _ => Votes::default(),
        };
        let topics = match (&self.classes, l.query_vec) {
            (Some(t), Some(q)) => t.probabilities(q, None),
            _ => Probabilities::default(),
        };
        let rows = features(corpus, &self.priors, &votes, &topics, l, self.depth);
        let mut head: Vec<(usize, f32, usize)> = rows
            .iter()
            .enumerate()
            .map(|(r, (doc, x))| (*doc, 1.0 + 1.0 / (1.0 + (-self.score(x)).exp()), r))
            .collect();
        head.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.2.cmp(&b.2)));
        let in_head: std::collections::HashSet<usize> = head.iter().map(|h| h.0).collect();
        let mut out: Vec<(usize, f32)> = head.into_iter().map(|(d, s, _)| (d, s)).collect();
        out.extend(
            l.fused
                .iter()
                .copied()
                .filter(|(d, _)| !in_head.contains(d)),
        );
        out
    }

    /// A short digest of everything that decides the ranking (depth,
    /// scaling, weights, counts): two models with the same digest rank alike.
    pub fn fingerprint(&self) -> String {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        let model = (
            self.depth,
            &self.mean,
            &self.std,
            &self.weights,
            self.bias,
            &self.disabled,
            &self.priors,
            &self.topics,
        );
        h.update(serde_json::to_vec(&model).unwrap_or_default());
        hex::encode(&h.finalize()[..6])
    }

    /// The shipped model (`src/search/rerank.json`), when it parses; for
    /// studies, `LAWBRAIN_RERANKER=FILE` replaces it with a model written by
    /// `eval retrieval-cv --write-reranker` (e.g. one fitted without a
    /// held-out fold).
    pub fn builtin() -> Option<&'static Reranker> {
        static MODEL: std::sync::OnceLock<Option<Reranker>> = std::sync::OnceLock::new();
        MODEL
            .get_or_init(|| {
                let (name, text) = match std::env::var_os("LAWBRAIN_RERANKER") {
                    Some(p) => {
                        let p = std::path::PathBuf::from(p);
                        match std::fs::read_to_string(&p) {
                            Ok(t) => (p.display().to_string(), t),
                            Err(e) => {
                                tracing::error!(
                                    "LAWBRAIN_RERANKER {}: {e}; no reranker",
                                    p.display()
                                );
                                return None;
                            }
                        }
                    }
                    None => (
                        "rerank.json".to_string(),
                        include_str!("rerank.json").to_string(),
                    ),
                };
                if text.trim().is_empty() || text.trim() == "null" {
                    return None;
                }
                match serde_json::from_str::<Reranker>(&text) {
                    Ok(mut m) if m.weights.len() == FEATURES.len() => {
                        if let Some(t) = &m.topics {
                            match Topics::from_stored(t) {
                                Ok(c) => m.classes = Some(c),
                                Err(e) => {
                                    tracing::error!("{name}: {e}; not used");
                                    return None;
                                }
                            }
                        }
                        if name == "rerank.json" {
                            tracing::debug!("reranker from {name} ({})", m.trained_on);
                        } else {
                            tracing::info!("reranker from {name} ({})", m.trained_on);
                        }
                        Some(m)
                    }
                    Ok(_) => {
                        tracing::error!("{name} has the wrong number of weights; not used");
                        None
                    }
                    Err(e) => {
                        tracing::error!("{name} does not parse ({e}); not used");
                        None
                    }
                }
            })
            .as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priors_count_questions_and_leave_one_out() {
        let g = |law: &str, article: u32| Gold {
            law: law.to_string(),
            article,
            chapter: "民法典#婚姻家庭编".to_string(),
        };
        let q1 = vec![g("中华人民共和国民法典", 1079), g("民法典", 1087)];
        let q2 = vec![g("民法典", 1079)];
        let mut p = Priors::count([q1.as_slice(), q2.as_slice()].into_iter());
        assert_eq!(
            p.article("民法典", 1079),
            2.0,
            "the prefix is not part of the key"
        );
        assert_eq!(
            p.law("中华人民共和国民法典"),
            2.0,
            "a law counts once per question"
        );
        p.add(&q1, -1.0);
        assert_eq!(p.article("民法典", 1079), 1.0);
        assert_eq!(p.article("民法典", 1087), 0.0);
    }

    #[test]
    fn laws_are_recognised_by_their_short_names() {
        assert!(law_named(
            "劳动合同法规定试用期多久",
            "中华人民共和国劳动合同法"
        ));
        assert!(law_named(
            "按照民法典离婚怎么分财产",
            "中华人民共和国民法典"
        ));
        assert!(!law_named("离婚怎么分财产", "中华人民共和国民法典"));
    }

    #[test]
    fn the_shipped_model_loads_and_prefers_what_it_learned() {
        let m = Reranker::builtin().expect("src/search/rerank.json ships a model");
        // Runs scored with another model are told apart by its digest.
        let mut other = m.clone();
        other.weights[0] += 0.01;
        assert_ne!(m.fingerprint(), other.fingerprint());
        assert_eq!(m.fingerprint(), m.clone().fingerprint());
        assert_eq!(m.weights.len(), FEATURES.len());
        assert!(m.depth >= 10);
        let w = |name: &str| m.weights[FEATURES.iter().position(|f| *f == name).expect("feature")];
        // Learned, not set: agreement of both rankings and the asker's own
        // words count for an article.
        assert!(w("fused_rr") + w("lexical_rr") + w("dense_rr") > 0.0);
        assert!(w("words") > 0.0);
        assert!(!m.priors.articles.is_empty());
        // The topic classifier ships with it, as class means, and the
        // model learned to read it.
        let t = m.classes.as_ref().expect("topics load from rerank.json");
        let [laws, chapters, articles] = t.sizes();
        assert!(
            laws >= 10 && chapters >= 50 && articles >= 100,
            "{laws} {chapters} {articles}"
        );
        assert!(TOPIC_FEATURES.iter().map(|f| w(f)).sum::<f32>() > 0.0);
        let mut without = m.clone();
        without.topics = None;
        assert_ne!(m.fingerprint(), without.fingerprint());
        // No past question ships, so their votes carry no weight.
        for f in NEEDS_PAST_QUESTIONS {
            assert!(m.disabled.iter().any(|d| d == f), "{f} not disabled");
            assert_eq!(w(f), 0.0, "{f}");
        }
    }

    #[test]
    fn similar_questions_vote_by_nearness() {
        let g = |law: &str, article: u32| Gold {
            law: law.to_string(),
            article,
            chapter: String::new(),
        };
        let unit = |v: [f32; 3]| {
            let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.iter().map(|x| x / n).collect::<Vec<f32>>()
        };
        let m = Memory {
            vectors: vec![
                unit([1.0, 0.0, 0.0]),
                unit([0.0, 1.0, 0.0]),
                unit([0.9, 0.1, 0.0]),
            ],
            golds: vec![
                vec![g("中华人民共和国劳动合同法", 47)],
                vec![g("民法典", 1087)],
                vec![g("劳动合同法", 87)],
            ],
        };
        let v = m.votes(&unit([1.0, 0.05, 0.0]), None);
        assert!(v.article("劳动合同法", 47) > v.article("民法典", 1087));
        assert!(
            v.law("中华人民共和国劳动合同法") > 0.99,
            "{}",
            v.law("劳动合同法")
        );
        // Leaving the nearest question out hands its vote to the others.
        let v = m.votes(&unit([1.0, 0.05, 0.0]), Some(0));
        assert_eq!(v.article("劳动合同法", 47), 0.0);
        assert!(v.article("劳动合同法", 87) > 0.9);
    }
}
