//! Fold-honest cross-validation of retrieval on real questions with gold
//! articles (the STARD training split's format: `question` and `articles`
//! of `{law, article}`).
//!
//! Every question's lexical and dense candidate lists are computed once.
//! For each fold, the fusion parameters are chosen by grid search on the
//! *other* folds (best MRR@10, then hit@5) and the fold is scored with them;
//! the reported figures are those held-out scores pooled over all questions.
//! Lexical-only and dense-only need no tuning and are scored on everything.
//! Folds are assigned by a hash of the case id, so they do not follow the
//! file's order (which groups questions by law).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};
use crate::progress::Progress;
use crate::search::adapter::{Adapter, AdapterConfig, Example};
use crate::search::rerank::{self, Gold, Priors, Reranker, TrainConfig};
use crate::search::topics::{Probabilities, Topics};
use crate::search::{fusion, Candidates, DenseIndex, Fusion, SearchOptions, Searcher};

/// One question with its gold articles.
#[derive(Debug, Clone, Deserialize)]
pub struct GoldQuery {
    pub id: String,
    pub question: String,
    pub articles: Vec<GoldArticle>,
}

/// A gold article.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GoldArticle {
    pub law: String,
    pub article: u32,
}

/// Read a JSONL file of gold queries.
pub fn load(path: &Path) -> Result<Vec<GoldQuery>> {
    let text = std::fs::read_to_string(path).ctx(|| format!("reading {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            super::cases::from_json_line(l)
                .map_err(|e| Error::InvalidInput(format!("{} line {}: {e}", path.display(), i + 1)))
        })
        .collect()
}

/// Ranking quality over a set of questions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RankMetrics {
    pub n: usize,
    pub hit1: f64,
    pub hit3: f64,
    pub hit5: f64,
    pub hit10: f64,
    /// Mean reciprocal rank of the first gold article within the top 10.
    pub mrr10: f64,
    /// Share of all gold articles found in the top 10.
    pub recall10: f64,
}

/// What one cross-validation run found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CvReport {
    pub folds: usize,
    pub questions: usize,
    /// Held-out: each fold scored with parameters chosen on the others.
    pub fused_heldout: RankMetrics,
    /// Lexical search alone (no parameters tuned here).
    pub lexical: RankMetrics,
    /// Dense search alone (no parameters tuned here).
    pub dense: RankMetrics,
    /// Parameters chosen for each fold.
    pub chosen: Vec<Fusion>,
    /// Held-out metrics of each fold.
    pub per_fold: Vec<RankMetrics>,
    /// Parameters best on all questions (a training figure, shown apart).
    pub best_on_all: Fusion,
    pub best_on_all_score: RankMetrics,
    /// Dense alone with the learned question head, held out (head trained
    /// on the other folds).
    pub dense_adapted_heldout: Option<RankMetrics>,
    /// Hybrid with the learned head, held out (fusion chosen by an inner
    /// cross-validation inside the training folds, head trained on them).
    pub fused_adapted_heldout: Option<RankMetrics>,
    /// Hybrid reordered by the learned reranker, held out (reranker and its
    /// priors fitted on the other folds).
    #[serde(default)]
    pub reranked_heldout: Option<RankMetrics>,
    /// The reranker with the votes of the most similar training questions
    /// (measured, not shipped: the product carries no training question).
    #[serde(default)]
    pub reranked_votes_heldout: Option<RankMetrics>,
    /// The same without the article and law priors (features of the
    /// question and article only: what carries to other kinds of questions).
    #[serde(default)]
    pub reranked_no_priors_heldout: Option<RankMetrics>,
    /// The shipped reranker's features without the topic classifier's
    /// (what the classifier adds, held out).
    #[serde(default)]
    pub reranked_no_topics_heldout: Option<RankMetrics>,
    /// Held-out metrics of the reranker trained with the listwise loss
    /// (measured, not shipped: it ranks STARD better at the top but fits
    /// STARD's topics harder; the dev set falls from 0.756 to 0.641 hit@5).
    #[serde(default)]
    pub reranked_listwise_heldout: Option<RankMetrics>,
    /// Abstaining when the reranker doubts its first article.
    #[serde(default)]
    pub abstain: Option<AbstainStudy>,
}

struct Scored {
    question: String,
    fold: usize,
    gold: Vec<usize>,
    c: Candidates,
}

fn fold_of(id: &str, folds: usize) -> usize {
    // FNV-1a: stable across runs and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % folds as u64) as usize
}

/// Metrics of ranked doc lists against gold doc sets.
fn score<'a>(items: impl Iterator<Item = (&'a [usize], Vec<usize>)>) -> RankMetrics {
    let mut m = RankMetrics::default();
    let mut gold_total = 0usize;
    let mut gold_found = 0usize;
    for (gold, ranked) in items {
        m.n += 1;
        let first = ranked.iter().take(10).position(|d| gold.contains(d));
        if let Some(p) = first {
            m.mrr10 += 1.0 / (p + 1) as f64;
            m.hit1 += f64::from(u8::from(p < 1));
            m.hit3 += f64::from(u8::from(p < 3));
            m.hit5 += f64::from(u8::from(p < 5));
            m.hit10 += 1.0;
        }
        gold_total += gold.len();
        gold_found += gold
            .iter()
            .filter(|g| ranked.iter().take(10).any(|d| d == *g))
            .count();
    }
    if m.n > 0 {
        let n = m.n as f64;
        m.hit1 /= n;
        m.hit3 /= n;
        m.hit5 /= n;
        m.hit10 /= n;
        m.mrr10 /= n;
    }
    m.recall10 = if gold_total > 0 {
        gold_found as f64 / gold_total as f64
    } else {
        0.0
    };
    m
}

fn docs(list: &[(usize, f32)]) -> Vec<usize> {
    list.iter().take(10).map(|x| x.0).collect()
}

fn fused(s: &Scored, f: &Fusion) -> Vec<usize> {
    if s.c.dense.is_empty() {
        return docs(&s.c.lexical);
    }
    docs(&fusion::fuse(&s.c.lexical, &s.c.dense, f))
}

fn better(a: &RankMetrics, b: &RankMetrics) -> bool {
    (a.mrr10, a.hit5) > (b.mrr10, b.hit5)
}

fn best<'a>(
    set: impl Iterator<Item = &'a Scored> + Clone,
    grid: &[Fusion],
) -> (Fusion, RankMetrics) {
    let mut best = (grid[0], RankMetrics::default());
    for f in grid {
        let m = score(set.clone().map(|s| (s.gold.as_slice(), fused(s, f))));
        if better(&m, &best.1) {
            best = (*f, m);
        }
    }
    best
}

/// Every question's candidate lists, with its fold and gold documents.
/// Questions whose gold articles are not in the index are left out.
fn retrieve(
    searcher: &Searcher,
    queries: &[GoldQuery],
    folds: usize,
    progress: &mut dyn Progress,
) -> Result<Vec<Scored>> {
    let corpus = searcher.corpus();
    let mut index = std::collections::HashMap::new();
    for (i, a) in corpus.articles.iter().enumerate() {
        if a.suffix == 0 {
            index.insert((a.law.as_str(), a.article), i);
        }
    }
    let opts = SearchOptions {
        k: 10,
        ..SearchOptions::default()
    };
    progress.start("retrieving", queries.len() as u64);
    let mut scored = Vec::with_capacity(queries.len());
    for q in queries {
        let gold: Vec<usize> = q
            .articles
            .iter()
            .filter_map(|g| index.get(&(g.law.as_str(), g.article)).copied())
            .collect();
        progress.advance(1);
        if gold.is_empty() {
            continue;
        }
        let c = searcher.candidates(&q.question, &opts, 100)?;
        scored.push(Scored {
            question: q.question.clone(),
            fold: fold_of(&q.id, folds),
            gold,
            c,
        });
    }
    progress.finish(&format!("{} questions retrieved", scored.len()));
    Ok(scored)
}

/// Run `folds`-fold cross-validation of fusion over `queries`. Questions
/// whose gold articles are not in the index are skipped (and counted out).
pub fn cross_validate(
    searcher: &Searcher,
    queries: &[GoldQuery],
    folds: usize,
    progress: &mut dyn Progress,
) -> Result<CvReport> {
    if folds < 2 {
        return Err(Error::InvalidInput(
            "cross-validation needs at least 2 folds".into(),
        ));
    }
    let corpus = searcher.corpus();
    let scored = retrieve(searcher, queries, folds, progress)?;
    if scored.len() < folds {
        return Err(Error::InvalidInput(format!(
            "{} questions with gold articles in the index: too few for {folds} folds",
            scored.len()
        )));
    }
    let grid = fusion::grid();
    let mut chosen = Vec::with_capacity(folds);
    let mut per_fold = Vec::with_capacity(folds);
    let mut heldout: Vec<(Vec<usize>, Vec<usize>)> = Vec::with_capacity(scored.len());
    for f in 0..folds {
        let train = scored.iter().filter(|s| s.fold != f);
        let (params, _) = best(train, &grid);
        let test: Vec<(Vec<usize>, Vec<usize>)> = scored
            .iter()
            .filter(|s| s.fold == f)
            .map(|s| (s.gold.clone(), fused(s, &params)))
            .collect();
        per_fold.push(score(test.iter().map(|(g, r)| (g.as_slice(), r.clone()))));
        chosen.push(params);
        heldout.extend(test);
    }
    let (best_on_all, best_on_all_score) = best(scored.iter(), &grid);
    // The learned question head was measured worse and costs a minute; it
    // runs on request only.
    let with_head = std::env::var_os("LAWBRAIN_CV_HEAD").is_some_and(|v| v == "1");
    let (dense_adapted_heldout, fused_adapted_heldout) = match searcher.dense() {
        Some(d) if with_head => {
            let citable: Vec<bool> = corpus.articles.iter().map(|a| a.status.citable()).collect();
            let (a, b) = adapter_cv(&scored, &d.index, &citable, folds, &grid);
            (Some(a), Some(b))
        }
        _ => (None, None),
    };
    let cfg = TrainConfig::default();
    let shipped = &rerank::NEEDS_PAST_QUESTIONS;
    let (reranked, confidence) = rerank_cv(corpus, &scored, folds, shipped, cfg);
    let reranked_heldout = Some(reranked);
    let reranked_votes_heldout = Some(rerank_cv(corpus, &scored, folds, &[], cfg).0);
    let abstain = Some(abstain_study(&confidence, folds));
    let no_topics: Vec<&str> = shipped
        .iter()
        .chain(&rerank::TOPIC_FEATURES)
        .copied()
        .collect();
    let reranked_no_topics_heldout = Some(rerank_cv(corpus, &scored, folds, &no_topics, cfg).0);
    let no_priors = [
        "article_prior",
        "law_prior",
        "chapter_prior",
        "neighbour_prior",
        "similar_article",
        "similar_law",
        "law_topic",
        "chapter_topic",
        "article_topic",
    ];
    let reranked_no_priors_heldout = Some(rerank_cv(corpus, &scored, folds, &no_priors, cfg).0);
    let reranked_listwise_heldout =
        Some(rerank_cv(corpus, &scored, folds, shipped, TrainConfig::listwise()).0);
    Ok(CvReport {
        reranked_heldout,
        reranked_votes_heldout,
        reranked_no_priors_heldout,
        reranked_no_topics_heldout,
        reranked_listwise_heldout,
        abstain,
        folds,
        questions: scored.len(),
        fused_heldout: score(heldout.iter().map(|(g, r)| (g.as_slice(), r.clone()))),
        lexical: score(
            scored
                .iter()
                .map(|s| (s.gold.as_slice(), docs(&s.c.lexical))),
        ),
        dense: score(scored.iter().map(|s| (s.gold.as_slice(), docs(&s.c.dense)))),
        chosen,
        per_fold,
        best_on_all,
        best_on_all_score,
        dense_adapted_heldout,
        fused_adapted_heldout,
    })
}

/// Gold (law, article) pairs of a question.
fn gold_keys(corpus: &crate::corpus::Corpus, s: &Scored) -> Vec<Gold> {
    s.gold
        .iter()
        .filter_map(|&g| corpus.articles.get(g))
        .map(Gold::of)
        .collect()
}

/// Training rows of `set` for the reranker: each question's head features
/// computed with priors that leave the question itself out, and with the
/// votes of `memory` (the same set's questions, `None` when the similar-
/// question features are off) leaving it out too.
fn rerank_rows(
    corpus: &crate::corpus::Corpus,
    set: &[&Scored],
    priors: &mut Priors,
    memory: Option<&rerank::Memory>,
    topics: Option<&Topics>,
    depth: usize,
) -> Vec<Vec<([f32; rerank::FEATURES.len()], bool)>> {
    let f = Fusion::default();
    let mut lists = Vec::new();
    for (i, s) in set.iter().enumerate() {
        let own = gold_keys(corpus, s);
        priors.add(&own, -1.0);
        let fused = fusion::fuse(&s.c.lexical, &s.c.dense, &f);
        let l = rerank::Lists {
            question: &s.question,
            fused: &fused,
            lexical: &s.c.lexical,
            dense: &s.c.dense,
            query_vec: s.c.query_vec.as_deref(),
        };
        let votes = match (memory, &s.c.query_vec) {
            (Some(m), Some(q)) => m.votes(q, Some(i)),
            _ => rerank::Votes::default(),
        };
        // Leave-one-out: the question's vector is taken out of its classes.
        let probs = match (topics, &s.c.query_vec) {
            (Some(t), Some(q)) => t.probabilities(q, Some((q, &own))),
            _ => Probabilities::default(),
        };
        lists.push(
            rerank::features(corpus, priors, &votes, &probs, &l, depth)
                .into_iter()
                .map(|(doc, x)| (x, s.gold.contains(&doc)))
                .collect(),
        );
        priors.add(&own, 1.0);
    }
    lists
}

/// The questions of `set` that were embedded, with their gold articles
/// (positions follow `set`; a question without an embedding gets an empty
/// vector, which is never near anything).
fn memory_of(corpus: &crate::corpus::Corpus, set: &[&Scored]) -> rerank::Memory {
    rerank::Memory {
        vectors: set
            .iter()
            .map(|s| s.c.query_vec.clone().unwrap_or_default())
            .collect(),
        golds: set.iter().map(|s| gold_keys(corpus, s)).collect(),
    }
}

/// The topic classifier of `set`'s embedded questions.
fn topics_of(corpus: &crate::corpus::Corpus, set: &[&Scored]) -> Topics {
    let golds: Vec<Vec<Gold>> = set.iter().map(|s| gold_keys(corpus, s)).collect();
    Topics::train(
        set.iter()
            .zip(&golds)
            .filter_map(|(s, g)| Some((s.c.query_vec.as_deref()?, g.as_slice()))),
    )
}

/// Whether a model with these features `disabled` reads the topics.
fn reads_topics(disabled: &[&str]) -> bool {
    !rerank::TOPIC_FEATURES.iter().all(|f| disabled.contains(f))
}

/// Fit the reranker on all of `scored` (what ships).
pub fn fit_reranker(
    searcher: &Searcher,
    queries: &[GoldQuery],
    progress: &mut dyn Progress,
) -> Result<Reranker> {
    let scored = retrieve(searcher, queries, 1, progress)?;
    let corpus = searcher.corpus();
    let set: Vec<&Scored> = scored.iter().collect();
    let mut priors = Priors::count(
        set.iter()
            .map(|s| gold_keys(corpus, s))
            .collect::<Vec<_>>()
            .iter()
            .map(|v| v.as_slice()),
    );
    let cfg = TrainConfig::default();
    // The shipped model leaves the similar-question features out.
    let topics = topics_of(corpus, &set);
    let rows = rerank_rows(corpus, &set, &mut priors, None, Some(&topics), cfg.depth);
    let mut m = Reranker::train(&rows, priors, &rerank::NEEDS_PAST_QUESTIONS, cfg);
    let [laws, chapters, articles] = topics.sizes();
    m.trained_on = format!(
        "{} questions with gold articles; topics: {laws} laws, {chapters} chapters, {articles} articles",
        set.len()
    );
    m.topics = Some(topics.to_stored());
    m.classes = Some(topics);
    Ok(m)
}

/// Held-out metrics of the reranker: for each fold, priors and weights from
/// the other folds.
fn rerank_cv(
    corpus: &crate::corpus::Corpus,
    scored: &[Scored],
    folds: usize,
    disabled: &[&str],
    cfg: TrainConfig,
) -> (RankMetrics, Vec<Confidence>) {
    let f = Fusion::default();
    let mut out: Vec<(Vec<usize>, Vec<usize>)> = Vec::new();
    let mut points = Vec::new();
    for k in 0..folds {
        let train: Vec<&Scored> = scored.iter().filter(|s| s.fold != k).collect();
        let golds: Vec<Vec<Gold>> = train.iter().map(|s| gold_keys(corpus, s)).collect();
        let mut priors = Priors::count(golds.iter().map(|v| v.as_slice()));
        let votes_on = !rerank::NEEDS_PAST_QUESTIONS
            .iter()
            .all(|f| disabled.contains(f));
        let memory = votes_on.then(|| memory_of(corpus, &train));
        let topics = reads_topics(disabled).then(|| topics_of(corpus, &train));
        let rows = rerank_rows(
            corpus,
            &train,
            &mut priors,
            memory.as_ref(),
            topics.as_ref(),
            cfg.depth,
        );
        let mut model = Reranker::train(&rows, priors, disabled, cfg);
        model.memory = memory;
        model.classes = topics;
        for s in scored.iter().filter(|s| s.fold == k) {
            let fused = if s.c.dense.is_empty() {
                s.c.lexical.clone()
            } else {
                fusion::fuse(&s.c.lexical, &s.c.dense, &f)
            };
            let l = rerank::Lists {
                question: &s.question,
                fused: &fused,
                lexical: &s.c.lexical,
                dense: &s.c.dense,
                query_vec: s.c.query_vec.as_deref(),
            };
            let ranked = model.rerank(corpus, &l);
            points.push(Confidence {
                fold: k,
                top: ranked.first().map_or(0.0, |x| rerank::probability(x.1)),
                gold_in_top5: ranked.iter().take(5).any(|(d, _)| s.gold.contains(d)),
            });
            out.push((s.gold.clone(), docs(&ranked)));
        }
    }
    (
        score(out.iter().map(|(g, r)| (g.as_slice(), r.clone()))),
        points,
    )
}

/// The reranker's confidence in its first article for one held-out question.
#[derive(Debug, Clone, Copy)]
struct Confidence {
    fold: usize,
    /// Probability the model gives its first article.
    top: f32,
    gold_in_top5: bool,
}

/// What abstaining below a reranker confidence would do (abstain = "the
/// articles found do not govern this question"). Measured; the answer gate
/// does not abstain on it: the threshold chosen here (0.94) abstains on about
/// a quarter of STARD's questions but on 85% of the dev set's everyday
/// questions (whose gold is in the first five for 76%), so the reranker's
/// probabilities do not carry over to another way of asking. The gate uses
/// the threshold only the other way round (`gate::CONFIDENT`): a reranker
/// that confident overrules a lexical abstention.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct AbstainStudy {
    /// The threshold chosen on all out-of-fold confidences.
    pub threshold: f32,
    /// Held out: each fold judged with the threshold chosen on the others.
    pub rate: f64,
    /// Share of abstentions where no gold article was in the first five.
    pub right: f64,
    /// Share of questions with no gold article in the first five.
    pub no_gold: f64,
    /// Share of those that were abstained on (recall of "abstain").
    pub caught: f64,
    /// Share of questions with a gold article in the first five that were
    /// abstained on anyway.
    pub lost: f64,
}

/// Most questions abstained on that the threshold may cost.
const MAX_ABSTAIN: f64 = 0.30;

/// The threshold with the best Youden's J of "abstain" against "no gold
/// article in the first five" among those abstaining on at most
/// [`MAX_ABSTAIN`] of questions (the relevance gate's criterion).
fn choose_threshold(points: &[&Confidence]) -> f32 {
    let n = points.len().max(1) as f64;
    let bad = points.iter().filter(|p| !p.gold_in_top5).count().max(1) as f64;
    let good = points.iter().filter(|p| p.gold_in_top5).count().max(1) as f64;
    let mut best = (0.0f64, 0.0f32);
    for step in 1..100 {
        let t = step as f32 / 100.0;
        let abst: Vec<&&Confidence> = points.iter().filter(|p| p.top < t).collect();
        if abst.len() as f64 / n > MAX_ABSTAIN {
            break;
        }
        let caught = abst.iter().filter(|p| !p.gold_in_top5).count() as f64;
        let lost = abst.len() as f64 - caught;
        let j = caught / bad - lost / good;
        if j > best.0 {
            best = (j, t);
        }
    }
    best.1
}

fn abstain_study(points: &[Confidence], folds: usize) -> AbstainStudy {
    let all: Vec<&Confidence> = points.iter().collect();
    let (mut n, mut abst, mut right, mut bad, mut good, mut lost) = (0, 0, 0, 0, 0, 0);
    for k in 0..folds {
        let train: Vec<&Confidence> = points.iter().filter(|p| p.fold != k).collect();
        let t = choose_threshold(&train);
        for p in points.iter().filter(|p| p.fold == k) {
            n += 1;
            let a = p.top < t;
            abst += usize::from(a);
            if p.gold_in_top5 {
                good += 1;
                lost += usize::from(a);
            } else {
                bad += 1;
                right += usize::from(a);
            }
        }
    }
    let share = |a: usize, b: usize| a as f64 / b.max(1) as f64;
    AbstainStudy {
        threshold: choose_threshold(&all),
        rate: share(abst, n),
        right: share(right, abst),
        no_gold: share(bad, n),
        caught: share(right, bad),
        lost: share(lost, good),
    }
}

fn examples<'a>(set: &[&'a Scored], dense: &'a DenseIndex) -> Vec<Example<'a>> {
    let n = set.len();
    set.iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let q = s.c.query_vec.as_deref()?;
            let gold: Vec<&[f32]> = s.gold.iter().map(|&g| dense.vector(g)).collect();
            let negatives: Vec<&[f32]> = s
                .c
                .dense
                .iter()
                .take(30)
                .chain(s.c.lexical.iter().take(30))
                .map(|x| x.0)
                // Other questions' gold articles stand for the rest of the
                // corpus (without them the head drifts towards "typical
                // gold" and every question collapses onto it).
                .chain(
                    (1..=48).filter_map(|o| set.get((i + o * 7) % n.max(1))?.gold.first().copied()),
                )
                .filter(|d| *d < dense.len() && !s.gold.contains(d))
                .map(|d| dense.vector(d))
                .collect();
            Some(Example {
                query: q,
                gold,
                negatives,
            })
        })
        .collect()
}

/// Copies of `set` whose dense lists come from `head`.
fn with_head(set: &[&Scored], head: &Adapter, dense: &DenseIndex, citable: &[bool]) -> Vec<Scored> {
    set.iter()
        .map(|s| {
            let dense_list = match &s.c.query_vec {
                Some(q) => dense.top(&head.apply(q), 100, |i| citable.get(i) == Some(&true)),
                None => Vec::new(),
            };
            Scored {
                question: s.question.clone(),
                fold: s.fold,
                gold: s.gold.clone(),
                c: Candidates {
                    question: s.question.clone(),
                    cited: Vec::new(),
                    lexical: s.c.lexical.clone(),
                    dense: dense_list,
                    query_vec: None,
                },
            }
        })
        .collect()
}

/// Nested cross-validation of the learned question head: for each outer
/// fold, the fusion parameters are chosen on inner held-out lists (heads
/// trained without the inner fold), then a head trained on all training
/// folds ranks the outer fold.
fn adapter_cv(
    scored: &[Scored],
    dense: &DenseIndex,
    citable: &[bool],
    folds: usize,
    grid: &[Fusion],
) -> (RankMetrics, RankMetrics) {
    let cfg = AdapterConfig::default();
    let mut dense_out: Vec<(Vec<usize>, Vec<usize>)> = Vec::new();
    let mut fused_out: Vec<(Vec<usize>, Vec<usize>)> = Vec::new();
    for f in 0..folds {
        let train: Vec<&Scored> = scored.iter().filter(|s| s.fold != f).collect();
        let test: Vec<&Scored> = scored.iter().filter(|s| s.fold == f).collect();
        let mut inner: Vec<Scored> = Vec::new();
        for g in (0..folds).filter(|&g| g != f) {
            let fit: Vec<&Scored> = train.iter().copied().filter(|s| s.fold != g).collect();
            let held: Vec<&Scored> = train.iter().copied().filter(|s| s.fold == g).collect();
            let head = Adapter::train(&examples(&fit, dense), cfg);
            inner.extend(with_head(&held, &head, dense, citable));
        }
        let (params, _) = best(inner.iter(), grid);
        let head = Adapter::train(&examples(&train, dense), cfg);
        for s in with_head(&test, &head, dense, citable) {
            dense_out.push((s.gold.clone(), docs(&s.c.dense)));
            fused_out.push((s.gold.clone(), fused(&s, &params)));
        }
    }
    let m =
        |v: &[(Vec<usize>, Vec<usize>)]| score(v.iter().map(|(g, r)| (g.as_slice(), r.clone())));
    (m(&dense_out), m(&fused_out))
}

impl CvReport {
    /// A table people can read.
    pub fn render(&self) -> String {
        let row = |name: &str, m: &RankMetrics| {
            format!(
                "{name:<34} {:>5.3} {:>5.3} {:>5.3} {:>5.3} {:>6.3} {:>6.3}\n",
                m.hit1, m.hit3, m.hit5, m.hit10, m.mrr10, m.recall10
            )
        };
        let mut s = format!(
            "retrieval, {}-fold cross-validation over {} questions\n{:<34} {:>5} {:>5} {:>5} {:>5} {:>6} {:>6}\n",
            self.folds, self.questions, "", "hit@1", "hit@3", "hit@5", "hit@10", "MRR@10", "rec@10"
        );
        s.push_str(&row("lexical alone", &self.lexical));
        s.push_str(&row("dense alone", &self.dense));
        s.push_str(&row("hybrid, held-out folds", &self.fused_heldout));
        s.push_str(&row(
            "hybrid, tuned on all (training)",
            &self.best_on_all_score,
        ));
        if let Some(m) = &self.dense_adapted_heldout {
            s.push_str(&row("dense + learned head, held-out", m));
        }
        if let Some(m) = &self.fused_adapted_heldout {
            s.push_str(&row("hybrid + learned head, held-out", m));
        }
        if let Some(m) = &self.reranked_heldout {
            s.push_str(&row("hybrid + reranker, held-out", m));
        }
        if let Some(m) = &self.reranked_votes_heldout {
            s.push_str(&row(
                "hybrid + reranker + similar questions' votes (not shippable), held-out",
                m,
            ));
        }
        if let Some(m) = &self.reranked_no_topics_heldout {
            s.push_str(&row("hybrid + reranker w/o topics, held-out", m));
        }
        if let Some(m) = &self.reranked_no_priors_heldout {
            s.push_str(&row("hybrid + reranker w/o priors, held-out", m));
        }
        if let Some(m) = &self.reranked_listwise_heldout {
            s.push_str(&row("hybrid + listwise reranker, held-out", m));
        }
        if let Some(a) = &self.abstain {
            s.push_str(&format!(
                "abstain when the reranker's first article is below its threshold (held out: \
                 threshold from the other folds): abstains on {:.3} of questions, {:.3} of them \
                 rightly (no gold in the first five); catches {:.3} of the {:.3} with no gold in \
                 the first five, loses {:.3} of the rest; threshold on all folds {:.2} (the answer gate does not abstain on it; at or above it, a lexical abstention is overruled: gate::CONFIDENT)\n",
                a.rate, a.right, a.caught, a.no_gold, a.lost, a.threshold
            ));
        }
        for (i, (f, m)) in self.chosen.iter().zip(&self.per_fold).enumerate() {
            s.push_str(&format!(
                "  fold {}: k={} w_dense={} pool={} -> hit@5 {:.3} MRR@10 {:.3} (n={})\n",
                i + 1,
                f.k,
                f.w_dense,
                f.pool,
                m.hit5,
                m.mrr10,
                m.n
            ));
        }
        s
    }
}
