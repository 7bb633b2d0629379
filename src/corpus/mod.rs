//! The statute corpus: clean [`Article`] records from the national law
//! database (`laws.db`) and from local regulation files.
//!
//! Owns: reading `laws.db`, repairing its known defects, choosing the version
//! in force on a date, Chinese article numbers, law-name aliases, and the
//! importer for `corpus/local/`. Everything downstream (index, citation
//! checking, answers) sees only the cleaned [`Corpus`].

use serde::{Deserialize, Serialize};

/// Level in the hierarchy of norms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub enum Level {
    /// 宪法
    #[serde(rename = "宪法")]
    Constitution,
    /// 法律 (including 立法解释 and 修正案 documents)
    #[serde(rename = "法律")]
    Law,
    /// 行政法规
    #[serde(rename = "行政法规")]
    Administrative,
    /// 司法解释
    #[serde(rename = "司法解释")]
    JudicialInterpretation,
    /// 地方性法规 (and local government rules)
    #[serde(rename = "地方性法规")]
    Local,
}

impl Level {
    /// The Chinese name, as shown to users and written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Constitution => "宪法",
            Level::Law => "法律",
            Level::Administrative => "行政法规",
            Level::JudicialInterpretation => "司法解释",
            Level::Local => "地方性法规",
        }
    }
}

/// Validity status of a law version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    /// 现行有效
    #[serde(rename = "现行有效")]
    InForce,
    /// 已被修改: amended; the text may be partly outdated.
    #[serde(rename = "已被修改")]
    Amended,
    /// 历史版本
    #[serde(rename = "历史版本")]
    Historical,
    /// 已废止
    #[serde(rename = "已废止")]
    Repealed,
    /// 尚未施行: a version that takes effect after the as-of date.
    #[serde(rename = "尚未施行")]
    NotYetInForce,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::InForce => "现行有效",
            Status::Amended => "已被修改",
            Status::Historical => "历史版本",
            Status::Repealed => "已废止",
            Status::NotYetInForce => "尚未施行",
        }
    }

    /// Whether an article with this status may be cited as current law.
    pub fn citable(self) -> bool {
        matches!(self, Status::InForce | Status::Amended)
    }
}

/// What a corpus row is. Only `Article` rows are articles in the legal sense.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ArticleKind {
    /// A numbered article (第N条) of a law, regulation or interpretation.
    #[default]
    Article,
    /// An item (条目N) of an amendment document (修正案 / 修改决定).
    AmendmentItem,
    /// The full text of a legislative interpretation or decision without articles (全文).
    FullText,
}

/// One article (条) of one law version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Article {
    /// Full law name, e.g. `中华人民共和国民法典`.
    pub law: String,
    /// Arabic article number (1079 for 第一千零七十九条).
    pub article: u32,
    /// `之一` = 1, `之二` = 2, else 0.
    #[serde(default)]
    pub suffix: u32,
    /// Label as written in the law: `第一千零七十九条`, `第一百三十三条之一`.
    pub article_label: String,
    /// Text of the article, cleaned.
    pub text: String,
    pub level: Level,
    pub status: Status,
    /// Region for local regulations (e.g. `山东省`); `None` for national norms.
    #[serde(default)]
    pub region: Option<String>,
    /// 编 / 分编 / 章 / 节 headings, outermost first.
    #[serde(default)]
    pub path: Vec<String>,
    /// Date this version took effect (YYYY-MM-DD), when known.
    #[serde(default)]
    pub effective: Option<String>,
    /// The text may be outdated (e.g. 刑法 articles changed by 刑法修正案（十二）).
    #[serde(default)]
    pub possibly_outdated: bool,
    /// Article, amendment item or full text.
    #[serde(default)]
    pub kind: ArticleKind,
}

impl Article {
    /// Stable key: `law#article` or `law#article-suffix`.
    pub fn key(&self) -> String {
        article_key(&self.law, self.article, self.suffix)
    }

    /// Citation form: `《中华人民共和国民法典》第一千零七十九条`.
    pub fn citation(&self) -> String {
        format!("《{}》{}", self.law, self.article_label)
    }
}

/// Stable key for an article.
pub fn article_key(law: &str, article: u32, suffix: u32) -> String {
    if suffix == 0 {
        format!("{law}#{article}")
    } else {
        format!("{law}#{article}-{suffix}")
    }
}

/// Summary of one law (one version) in the corpus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LawInfo {
    /// Full name.
    pub name: String,
    /// Short names people use: 民法典, 劳动合同法 (without 中华人民共和国) ...
    pub aliases: Vec<String>,
    pub level: Level,
    pub status: Status,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub effective: Option<String>,
    /// Number of articles of this law in the corpus.
    pub articles: usize,
}

/// How an article lookup came out.
#[derive(Debug, Clone, Copy)]
pub enum Lookup<'a> {
    /// The version in force on the corpus's as-of date.
    Current(&'a Article),
    /// Only a version that is not in force (historical, repealed, not yet in force).
    NotInForce(&'a Article),
    /// The law is known but has no such article.
    NoSuchArticle,
    /// The law name did not resolve.
    UnknownLaw,
}

/// The cleaned corpus: the articles in force on `as_of`, plus the other
/// versions kept apart so citations of them can be recognised.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Corpus {
    /// The as-of date the versions were selected for (YYYY-MM-DD).
    pub as_of: String,
    /// One entry per selected law version.
    pub laws: Vec<LawInfo>,
    /// Articles of the selected versions (what search indexes).
    pub articles: Vec<Article>,
    /// Articles of versions not in force on `as_of` (for citation checking only).
    #[serde(default)]
    pub other_versions: Vec<Article>,
}

pub mod aliases;
pub mod clean;
mod db;
pub mod local;
mod national;
pub mod numerals;
pub mod versions;

use std::path::Path;

use crate::error::{Error, IoContext};

/// What the local-regulation importer did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportReport {
    pub files: usize,
    pub laws: usize,
    pub articles: usize,
    /// Problems found (gaps in numbering, duplicates, unreadable files).
    pub warnings: Vec<String>,
}

impl Corpus {
    /// Read `laws.db`, repair its defects, and select the versions in force on
    /// `as_of` (YYYY-MM-DD).
    pub fn from_laws_db(path: &Path, as_of: &str) -> crate::Result<Corpus> {
        if !versions::is_date(as_of) {
            return Err(Error::InvalidInput(format!(
                "as-of date {as_of:?} is not YYYY-MM-DD"
            )));
        }
        let raw = db::read(path)?;
        let chosen = versions::select(&raw, as_of);
        let corpus = national::assemble(&raw, &chosen, as_of);
        tracing::info!(
            laws = corpus.laws.len(),
            articles = corpus.articles.len(),
            other = corpus.other_versions.len(),
            as_of,
            "corpus loaded from laws.db"
        );
        Ok(corpus)
    }

    /// Import a folder of local/administrative regulation files (`.md`/`.txt`).
    pub fn import_local(&mut self, dir: &Path) -> crate::Result<ImportReport> {
        local::import_dir(self, dir)
    }

    /// Resolve a full name or alias (民法典, 劳动合同法, 《法律援助法》) to a law.
    /// Exact on the normalised name: never a near miss (劳动法 is not 劳动合同法).
    pub fn resolve_law(&self, name: &str) -> Option<&LawInfo> {
        let q = aliases::normalize(name);
        if q.is_empty() {
            return None;
        }
        self.laws
            .iter()
            .find(|l| l.name == name.trim())
            .or_else(|| self.laws.iter().find(|l| aliases::normalize(&l.name) == q))
            .or_else(|| self.laws.iter().find(|l| l.aliases.iter().any(|a| *a == q)))
    }

    /// Resolve a name to a full law name, also among versions not in force
    /// (repealed laws, laws not yet in force).
    pub fn resolve_any_law(&self, name: &str) -> Option<&str> {
        if let Some(l) = self.resolve_law(name) {
            return Some(&l.name);
        }
        let q = aliases::normalize(name);
        if q.is_empty() {
            return None;
        }
        let mut last: Option<&str> = None;
        for a in &self.other_versions {
            if last == Some(a.law.as_str()) {
                continue; // rows of one law are contiguous
            }
            last = Some(a.law.as_str());
            if aliases::normalize(&a.law) == q || aliases::aliases_for(&a.law).contains(&q) {
                return Some(a.law.as_str());
            }
        }
        None
    }

    /// The longest law name or alias that `text` ends with, and its length in
    /// bytes: for "根据劳动合同法" it is 劳动合同法. Used to find the law a
    /// citation names without 《》.
    pub fn resolve_law_suffix(&self, text: &str) -> Option<(&str, usize)> {
        let starts: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        for &i in &starts {
            let cand = &text[i..];
            if cand.chars().count() < 2 {
                break;
            }
            if let Some(name) = self.resolve_any_law(cand) {
                return Some((name, text.len() - i));
            }
        }
        None
    }

    /// All articles (any kind) of the selected version of `law` (full name).
    pub fn articles_of<'a>(&'a self, law: &'a str) -> impl Iterator<Item = &'a Article> + 'a {
        self.articles.iter().filter(move |a| a.law == law)
    }

    /// Look up an article by law (name or alias), number and 之N suffix.
    pub fn lookup(&self, law: &str, article: u32, suffix: u32) -> Lookup<'_> {
        let numbered = |a: &&Article| {
            a.article == article && a.suffix == suffix && a.kind != ArticleKind::FullText
        };
        let Some(name) = self.resolve_any_law(law) else {
            return Lookup::UnknownLaw;
        };
        if let Some(a) = self
            .articles
            .iter()
            .filter(|a| a.law == name)
            .find(numbered)
        {
            return Lookup::Current(a);
        }
        // Prefer the newest other version that has the article.
        let other = self
            .other_versions
            .iter()
            .filter(|a| a.law == name)
            .filter(numbered)
            .max_by(|a, b| a.effective.cmp(&b.effective));
        match other {
            Some(a) => Lookup::NotInForce(a),
            None => Lookup::NoSuchArticle,
        }
    }

    /// Law names close to `name` (sharing its normalised text), for "did you
    /// mean" messages. At most `n`.
    pub fn suggest_laws(&self, name: &str, n: usize) -> Vec<String> {
        let q = aliases::normalize(name);
        let q = q.trim_end_matches('法');
        if q.is_empty() {
            return Vec::new();
        }
        let mut scored: Vec<(usize, &str)> = self
            .laws
            .iter()
            .filter_map(|l| {
                let norm = aliases::normalize(&l.name);
                let common = q.chars().filter(|c| norm.contains(*c)).count();
                (common * 2 >= q.chars().count() && common > 0).then_some((common, l.name.as_str()))
            })
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.len().cmp(&b.1.len())));
        scored
            .into_iter()
            .take(n)
            .map(|(_, s)| s.to_string())
            .collect()
    }

    /// Write the corpus as JSON (the index directory keeps one beside the index).
    pub fn save(&self, path: &Path) -> crate::Result<()> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).ctx(|| format!("creating {}", dir.display()))?;
            }
        }
        let tmp = path.with_extension("json.tmp");
        {
            let f = std::fs::File::create(&tmp).ctx(|| format!("writing {}", tmp.display()))?;
            let mut w = std::io::BufWriter::new(f);
            serde_json::to_writer(&mut w, self)?;
            std::io::Write::flush(&mut w).ctx(|| format!("writing {}", tmp.display()))?;
        }
        std::fs::rename(&tmp, path)
            .ctx(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
        Ok(())
    }

    /// Read a corpus written by [`Corpus::save`].
    pub fn load(path: &Path) -> crate::Result<Corpus> {
        let f = std::fs::File::open(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::MissingAsset {
                    what: "the corpus file".into(),
                    path: path.to_path_buf(),
                    fix: "lawbrain index".into(),
                }
            } else {
                Error::io(format!("reading {}", path.display()), e)
            }
        })?;
        Ok(serde_json::from_reader(std::io::BufReader::new(f))?)
    }
}
