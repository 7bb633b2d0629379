//! Topics: which law, chapter and article real questions like this one
//! turned on, learned from the question's embedding.
//!
//! A nearest-class-mean classifier. Each class (a law, a chapter, an article)
//! that at least [`MIN_QUESTIONS`] training questions had as gold is the
//! mean direction of those questions' e5 embeddings. A new question's
//! probability of a class is the softmax of its cosines with the classes of
//! that level, at temperature [`TAU`] (e5 cosines sit in a narrow band).
//!
//! Unlike the votes of the nearest past questions (`rerank::Memory`), the
//! classes ship: each is a mean over several questions, kept at 8 bits
//! ([`StoredTopics`]), and no single question's vector is stored.
//!
//! Training rows need leave-one-out probabilities (a question must not see
//! its own vector in its gold classes): [`Topics::probabilities`] takes the
//! question's own vector and gold, and equals training without it.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::rerank::{key, short_law, Gold};
use crate::error::{Error, Result};

/// Fewest training questions a class needs.
pub const MIN_QUESTIONS: usize = 2;
/// Softmax temperature over cosines.
pub const TAU: f32 = 0.02;

/// The three levels, in order.
const LEVELS: [&str; 3] = ["law", "chapter", "article"];

/// The class names of one gold list at each level (each name once).
fn names(gold: &[Gold]) -> [Vec<String>; 3] {
    let mut out: [Vec<String>; 3] = Default::default();
    for g in gold {
        let n = [
            short_law(&g.law).to_string(),
            g.chapter.clone(),
            key(&g.law, g.article),
        ];
        for (level, name) in out.iter_mut().zip(n) {
            if !level.contains(&name) {
                level.push(name);
            }
        }
    }
    out
}

/// One level's classes: the sum of their questions' vectors and how many.
#[derive(Debug, Clone, Default)]
struct Level {
    names: Vec<String>,
    index: HashMap<String, usize>,
    sums: Vec<Vec<f32>>,
    counts: Vec<usize>,
    /// Length of each sum (set once the classes are final, so a query
    /// does not recompute them).
    norms: Vec<f32>,
}

impl Level {
    fn add(&mut self, name: &str, v: &[f32]) {
        let i = match self.index.get(name) {
            Some(&i) => i,
            None => {
                self.names.push(name.to_string());
                self.sums.push(vec![0.0; v.len()]);
                self.counts.push(0);
                self.index.insert(name.to_string(), self.names.len() - 1);
                self.names.len() - 1
            }
        };
        for (s, x) in self.sums[i].iter_mut().zip(v) {
            *s += x;
        }
        self.counts[i] += 1;
    }

    /// Drop the classes with too few questions.
    fn prune(self) -> Level {
        let mut out = Level::default();
        for ((name, sum), n) in self.names.into_iter().zip(self.sums).zip(self.counts) {
            if n >= MIN_QUESTIONS {
                out.index.insert(name.clone(), out.names.len());
                out.names.push(name);
                out.sums.push(sum);
                out.counts.push(n);
            }
        }
        out.with_norms()
    }

    fn with_norms(mut self) -> Level {
        self.norms = self.sums.iter().map(|s| norm(s)).collect();
        self
    }

    /// Class probabilities of `q`; `own` is the question's own vector and
    /// its class names at this level, taken out of their classes first.
    fn probabilities(&self, q: &[f32], own: Option<(&[f32], &[String])>) -> HashMap<String, f32> {
        let mut cos: Vec<(usize, f32)> = Vec::with_capacity(self.names.len());
        for (i, (sum, &n)) in self.sums.iter().zip(&self.counts).enumerate() {
            if sum.len() != q.len() {
                continue;
            }
            let mine = own.filter(|(_, names)| names.contains(&self.names[i]));
            let c = match mine {
                Some((v, _)) => {
                    if n - 1 < MIN_QUESTIONS {
                        continue;
                    }
                    let s: Vec<f32> = sum.iter().zip(v).map(|(a, b)| a - b).collect();
                    cosine(q, &s)
                }
                None => over(crate::embed::dot(q, sum), self.norms[i]),
            };
            cos.push((i, c));
        }
        let max = cos.iter().map(|c| c.1).fold(f32::NEG_INFINITY, f32::max);
        let w: Vec<f32> = cos.iter().map(|c| ((c.1 - max) / TAU).exp()).collect();
        let total: f32 = w.iter().sum::<f32>().max(1e-30);
        cos.iter()
            .zip(w)
            .map(|((i, _), w)| (self.names[*i].clone(), w / total))
            .collect()
    }
}

fn norm(v: &[f32]) -> f32 {
    crate::embed::dot(v, v).sqrt()
}

/// A dot product over the second vector's length (0 for a zero vector).
fn over(dot: f32, norm: f32) -> f32 {
    if norm <= 1e-12 {
        0.0
    } else {
        dot / norm
    }
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    over(crate::embed::dot(a, b), norm(b))
}

/// The classifier: classes at three levels.
#[derive(Debug, Clone, Default)]
pub struct Topics {
    levels: [Level; 3],
}

/// A question's probabilities over the classes of each level.
#[derive(Debug, Clone, Default)]
pub struct Probabilities {
    levels: [HashMap<String, f32>; 3],
}

impl Probabilities {
    /// P(the question turns on this law).
    pub fn law(&self, law: &str) -> f32 {
        self.get(0, short_law(law))
    }

    /// P(... on an article under these headings): `chapter` is a
    /// `rerank::chapter_key`.
    pub fn chapter(&self, chapter: &str) -> f32 {
        self.get(1, chapter)
    }

    /// P(... on this article).
    pub fn article(&self, law: &str, n: u32) -> f32 {
        if self.levels[2].is_empty() {
            return 0.0;
        }
        self.get(2, &key(law, n))
    }

    fn get(&self, level: usize, name: &str) -> f32 {
        self.levels[level].get(name).copied().unwrap_or(0.0)
    }
}

impl Topics {
    /// Classes from training questions: unit vectors with their gold
    /// articles (questions without a vector are skipped).
    pub fn train<'a>(questions: impl Iterator<Item = (&'a [f32], &'a [Gold])>) -> Topics {
        let mut levels: [Level; 3] = Default::default();
        for (v, gold) in questions {
            if v.is_empty() {
                continue;
            }
            for (level, names) in levels.iter_mut().zip(names(gold)) {
                for n in names {
                    level.add(&n, v);
                }
            }
        }
        Topics {
            levels: levels.map(Level::prune),
        }
    }

    /// Number of classes at each level.
    pub fn sizes(&self) -> [usize; 3] {
        [0, 1, 2].map(|i| self.levels[i].names.len())
    }

    /// The question's probabilities; `own` = its own vector and gold when it
    /// was one of the training questions (leave-one-out).
    pub fn probabilities(&self, q: &[f32], own: Option<(&[f32], &[Gold])>) -> Probabilities {
        let own_names = own.map(|(v, g)| (v, names(g)));
        let mut p = Probabilities::default();
        for (i, level) in self.levels.iter().enumerate() {
            let o = own_names.as_ref().map(|(v, n)| (*v, n[i].as_slice()));
            p.levels[i] = level.probabilities(q, o);
        }
        p
    }

    /// The shippable form: each class's unit mean at 8 bits.
    pub fn to_stored(&self) -> StoredTopics {
        let dim = self
            .levels
            .iter()
            .flat_map(|l| l.sums.first())
            .map(Vec::len)
            .next()
            .unwrap_or(0);
        let levels = self
            .levels
            .iter()
            .zip(LEVELS)
            .map(|(l, name)| {
                let mut bytes = Vec::with_capacity(l.sums.len() * dim);
                let mut scales = Vec::with_capacity(l.sums.len());
                for (s, n) in l.sums.iter().zip(&l.norms) {
                    let len = n.max(1e-12);
                    let max = s.iter().map(|x| x.abs()).fold(0.0f32, f32::max) / len;
                    let scale = (max / 127.0).max(1e-12);
                    scales.push(scale);
                    bytes.extend(
                        s.iter()
                            .map(|x| ((x / len / scale).round().clamp(-127.0, 127.0) as i8) as u8),
                    );
                }
                StoredLevel {
                    level: name.to_string(),
                    names: l.names.clone(),
                    questions: l.counts.clone(),
                    scales,
                    means: hex::encode(bytes),
                }
            })
            .collect();
        StoredTopics { dim, levels }
    }

    /// Back from the stored form (leave-one-out no longer applies).
    pub fn from_stored(s: &StoredTopics) -> Result<Topics> {
        if s.levels.len() != LEVELS.len() {
            return Err(Error::InvalidInput(format!(
                "topics: {} levels, expected {}",
                s.levels.len(),
                LEVELS.len()
            )));
        }
        let mut levels: [Level; 3] = Default::default();
        for (out, l) in levels.iter_mut().zip(&s.levels) {
            let bytes = hex::decode(&l.means)
                .map_err(|e| Error::InvalidInput(format!("topics {}: {e}", l.level)))?;
            let n = l.names.len();
            if bytes.len() != n * s.dim || l.scales.len() != n || l.questions.len() != n {
                return Err(Error::InvalidInput(format!(
                    "topics {}: {n} classes do not match {} bytes of {} dimensions",
                    l.level,
                    bytes.len(),
                    s.dim
                )));
            }
            for (i, name) in l.names.iter().enumerate() {
                let v: Vec<f32> = bytes[i * s.dim..(i + 1) * s.dim]
                    .iter()
                    .map(|&b| f32::from(b as i8) * l.scales[i])
                    .collect();
                out.index.insert(name.clone(), i);
                out.names.push(name.clone());
                out.sums.push(v);
                out.counts.push(l.questions[i]);
            }
            *out = std::mem::take(out).with_norms();
        }
        Ok(Topics { levels })
    }
}

/// [`Topics`] as the model file keeps them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StoredTopics {
    pub dim: usize,
    pub levels: Vec<StoredLevel>,
}

/// One level of [`StoredTopics`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StoredLevel {
    pub level: String,
    pub names: Vec<String>,
    /// Training questions per class.
    pub questions: Vec<usize>,
    /// Per class: the value of one step of its 8-bit mean.
    pub scales: Vec<f32>,
    /// Class means, `dim` signed bytes each, hex.
    pub means: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    fn gold(law: &str, article: u32, chapter: &str) -> Vec<Gold> {
        vec![Gold {
            law: law.to_string(),
            article,
            chapter: chapter.to_string(),
        }]
    }

    fn data() -> (Vec<Vec<f32>>, Vec<Vec<Gold>>) {
        let vs = vec![
            unit(&[1.0, 0.1, 0.0]),
            unit(&[1.0, 0.0, 0.1]),
            unit(&[0.9, 0.2, 0.0]),
            unit(&[0.0, 1.0, 0.1]),
            unit(&[0.1, 1.0, 0.0]),
            unit(&[0.0, 0.0, 1.0]),
        ];
        let gs = vec![
            gold("中华人民共和国劳动合同法", 47, "劳动合同法#解除"),
            gold("劳动合同法", 47, "劳动合同法#解除"),
            gold("劳动合同法", 87, "劳动合同法#解除"),
            gold("民法典", 1079, "民法典#婚姻家庭编"),
            gold("民法典", 1087, "民法典#婚姻家庭编"),
            // A class of one question: never a class.
            gold("刑法", 264, "刑法#侵犯财产罪"),
        ];
        (vs, gs)
    }

    fn train(vs: &[Vec<f32>], gs: &[Vec<Gold>], skip: Option<usize>) -> Topics {
        Topics::train(
            vs.iter()
                .zip(gs)
                .enumerate()
                .filter(|(i, _)| Some(*i) != skip)
                .map(|(_, (v, g))| (v.as_slice(), g.as_slice())),
        )
    }

    #[test]
    fn classes_need_two_questions_and_near_questions_get_their_class() {
        let (vs, gs) = data();
        let t = train(&vs, &gs, None);
        assert_eq!(
            t.sizes(),
            [2, 2, 1],
            "刑法 and articles asked once are no class"
        );
        let p = t.probabilities(&unit(&[1.0, 0.05, 0.05]), None);
        assert!(p.law("中华人民共和国劳动合同法") > 0.9);
        assert!(p.chapter("劳动合同法#解除") > 0.9);
        assert!(p.article("劳动合同法", 47) > 0.99);
        assert_eq!(p.law("刑法"), 0.0);
        assert_eq!(p.article("民法典", 1079), 0.0);
        let total: f32 = ["劳动合同法", "民法典"].iter().map(|l| p.law(l)).sum();
        assert!((total - 1.0).abs() < 1e-5);
    }

    #[test]
    fn leave_one_out_equals_training_without_the_question() {
        let (vs, gs) = data();
        let all = train(&vs, &gs, None);
        for i in 0..vs.len() {
            let without = train(&vs, &gs, Some(i));
            let loo = all.probabilities(&vs[i], Some((&vs[i], &gs[i])));
            let want = without.probabilities(&vs[i], None);
            for (a, b) in loo.levels.iter().zip(&want.levels) {
                assert_eq!(a.len(), b.len(), "question {i}");
                for (k, v) in b {
                    assert!((a[k] - v).abs() < 1e-5, "question {i} class {k}");
                }
            }
        }
    }

    #[test]
    fn the_stored_form_round_trips_and_bad_files_are_refused() {
        let (vs, gs) = data();
        let t = train(&vs, &gs, None);
        let s = t.to_stored();
        let back = Topics::from_stored(&s).expect("round trip");
        assert_eq!(back.sizes(), t.sizes());
        let q = unit(&[0.3, 1.0, 0.2]);
        let (a, b) = (t.probabilities(&q, None), back.probabilities(&q, None));
        assert!((a.law("民法典") - b.law("民法典")).abs() < 0.02);
        // The stored means are unit directions, not any question's vector.
        let json = serde_json::to_string(&s).expect("json");
        let s2: StoredTopics = serde_json::from_str(&json).expect("parse");
        assert!(Topics::from_stored(&s2).is_ok());
        let mut bad = s.clone();
        bad.levels[0].means.push_str("zz");
        assert!(Topics::from_stored(&bad).is_err());
        let mut short = s;
        short.levels.pop();
        assert!(Topics::from_stored(&short).is_err());
        // A question of another dimension gets no probabilities.
        assert_eq!(t.probabilities(&[1.0, 0.0], None).law("民法典"), 0.0);
    }
}
