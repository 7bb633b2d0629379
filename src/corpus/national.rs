//! Turning the rows of `laws.db` into clean [`Article`] records.
//!
//! Owns: typing rows (article, amendment item, full text), levels, the
//! 编/分编/章/节 path (rebuilt from part headings that leaked into the end of
//! the previous article, with 附则 articles moved out of the last chapter),
//! and marking articles changed by a later amendment as possibly outdated.

use std::collections::{HashMap, HashSet};

use regex::Regex;

use super::db::{RawLaw, RawRow};
use super::versions::{self, Chosen};
use super::{aliases, clean, numerals, Article, ArticleKind, Corpus, LawInfo, Level, Status};

/// Level of a law version from the database's level/doc_type.
fn level_of(law: &RawLaw) -> Level {
    if law.level.contains("宪法") || law.doc_type.contains("宪法") {
        Level::Constitution
    } else {
        Level::Law
    }
}

/// The article number and kind of a row.
fn number_of(law: &RawLaw, row: &RawRow) -> (u32, u32, String, ArticleKind) {
    let no = row.article_no.trim();
    if no == "全文" || no.is_empty() {
        return (0, 0, "全文".into(), ArticleKind::FullText);
    }
    if let Some(n) = no.strip_prefix("条目") {
        let n = numerals::parse_number(n)
            .or_else(|| row.article_no_arabic.and_then(|v| u32::try_from(v).ok()))
            .unwrap_or(0);
        return (n, 0, no.to_string(), ArticleKind::AmendmentItem);
    }
    let (article, suffix) = numerals::parse_article(no)
        .or_else(|| {
            row.article_no_arabic
                .and_then(|v| u32::try_from(v).ok())
                .map(|v| (v, 0))
        })
        .unwrap_or((0, 0));
    let kind = if law.name.contains("修正案") {
        ArticleKind::AmendmentItem
    } else {
        ArticleKind::Article
    };
    (article, suffix, no.to_string(), kind)
}

/// Build the articles of one law version, cleaning texts and rebuilding paths.
fn build_articles(
    law: &RawLaw,
    level: Level,
    status: Status,
    effective: &Option<String>,
) -> Vec<Article> {
    // Pre-scan: does the law have 编 headings leaking? Then the articles before
    // the first one belong to 第一编 总则 (every code in the corpus opens so).
    let first_part = law
        .rows
        .iter()
        .flat_map(|r| clean::strip_leaked_headings(&r.text).1)
        .find(|h| h.starts_with('第') && h.contains('编') && !h.contains("分编"));
    let mut part: Vec<String> = match first_part.as_deref() {
        Some(h) if h.starts_with("第二编") => vec!["第一编 总则".to_string()],
        _ => Vec::new(),
    };
    let mut in_annex = false; // after a leaked 附则 heading
    let mut out = Vec::with_capacity(law.rows.len());
    for row in &law.rows {
        let (article, suffix, label, kind) = number_of(law, row);
        let (text, headings) = clean::strip_leaked_headings(&row.text);
        let text = clean::clean_text(&text);
        let mut path = part.clone();
        if !in_annex {
            for h in [row.chapter.trim(), row.section.trim()] {
                if !h.is_empty() {
                    path.push(clean::normalize_heading(h));
                }
            }
        }
        out.push(Article {
            law: law.name.clone(),
            article,
            suffix,
            article_label: label,
            text,
            level,
            status,
            region: None,
            path,
            effective: effective.clone(),
            possibly_outdated: false,
            kind,
        });
        for h in headings {
            if h == "附则" {
                part = vec![h];
                in_annex = true;
            } else if h.contains("分编") {
                part.truncate(1);
                part.push(h);
            } else {
                part = vec![h];
                in_annex = false;
            }
        }
    }
    out
}

fn amend_target_re() -> Regex {
    Regex::new(
        r"^中华人民共和国(.+?)修正案(?:（[一二三四五六七八九十]+）)?$|关于修改《(.+?)》的决定$",
    )
    .expect("valid amendment regex")
}

fn ref_re() -> Regex {
    Regex::new(r"第([零一二三四五六七八九十百千]+)条(?:之([一二三四五六七八九十]+))?")
        .expect("valid reference regex")
}

/// Mark articles of a selected law that a later amendment in force changes.
/// "Later" compares adoption dates (version_date): an amendment adopted on or
/// before the date of the law version we hold is already in its text.
fn mark_outdated(corpus: &mut Corpus, adopted: &HashMap<String, String>) {
    let target_re = amend_target_re();
    let refs = ref_re();
    let mut changed: HashSet<(String, u32, u32)> = HashSet::new();
    for l in &corpus.laws {
        let Some(c) = target_re.captures(&l.name) else {
            continue;
        };
        let Some(target) = c.get(1).or_else(|| c.get(2)) else {
            continue;
        };
        let target = target.as_str();
        let target = if target.starts_with("中华人民共和国") {
            target.to_string()
        } else {
            format!("中华人民共和国{target}")
        };
        let (Some(target_date), Some(own_date)) = (adopted.get(&target), adopted.get(&l.name))
        else {
            continue;
        };
        // Only amendments newer than the version we hold.
        if own_date <= target_date {
            continue;
        }
        for a in corpus
            .articles
            .iter()
            .filter(|a| a.law == l.name && a.kind == ArticleKind::AmendmentItem)
        {
            // The first sentence names the articles the item changes.
            let head: String = a
                .text
                .chars()
                .take_while(|&c| c != '：' && c != '。')
                .collect();
            for m in refs.captures_iter(&head) {
                let n = m
                    .get(1)
                    .and_then(|x| numerals::parse_number(x.as_str()))
                    .unwrap_or(0);
                let s = m
                    .get(2)
                    .and_then(|x| numerals::parse_number(x.as_str()))
                    .unwrap_or(0);
                if n > 0 {
                    changed.insert((target.clone(), n, s));
                }
            }
        }
    }
    for a in corpus.articles.iter_mut() {
        if a.kind == ArticleKind::Article && changed.contains(&(a.law.clone(), a.article, a.suffix))
        {
            a.possibly_outdated = true;
        }
    }
}

/// Assemble the corpus from raw laws and the selection made for `as_of`.
pub fn assemble(laws: &[RawLaw], chosen: &[Chosen], as_of: &str) -> Corpus {
    let mut corpus = Corpus {
        as_of: as_of.to_string(),
        ..Default::default()
    };
    let mut adopted: HashMap<String, String> = HashMap::new();
    for c in chosen {
        let law = &laws[c.index];
        let level = level_of(law);
        let articles = build_articles(law, level, c.status, &c.effective);
        if c.selected {
            let date = if versions::is_date(law.version_date.trim()) {
                law.version_date.trim().to_string()
            } else {
                c.effective.clone().unwrap_or_default()
            };
            adopted.insert(law.name.clone(), date);
            corpus.laws.push(LawInfo {
                name: law.name.clone(),
                aliases: aliases::aliases_for(&law.name),
                level,
                status: c.status,
                region: None,
                effective: c.effective.clone(),
                articles: articles.len(),
            });
            corpus.articles.extend(articles);
        } else {
            corpus.other_versions.extend(articles);
        }
    }
    mark_outdated(&mut corpus, &adopted);
    corpus
}
