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

use std::path::Path;

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
        let _ = (path, as_of);
        todo!("corpus helper")
    }

    /// Import a folder of local/administrative regulation files (`.md`/`.txt`).
    pub fn import_local(&mut self, dir: &Path) -> crate::Result<ImportReport> {
        let _ = dir;
        todo!("corpus helper")
    }

    /// Resolve a full name or alias (民法典, 劳动合同法, 《法律援助法》) to a law.
    pub fn resolve_law(&self, name: &str) -> Option<&LawInfo> {
        let _ = name;
        todo!("corpus helper")
    }

    /// Look up an article by law (name or alias), number and 之N suffix.
    pub fn lookup(&self, law: &str, article: u32, suffix: u32) -> Lookup<'_> {
        let _ = (law, article, suffix);
        todo!("corpus helper")
    }

    /// Write the corpus as JSON (the index directory keeps one beside the index).
    pub fn save(&self, path: &Path) -> crate::Result<()> {
        let _ = path;
        todo!("corpus helper")
    }

    /// Read a corpus written by [`Corpus::save`].
    pub fn load(path: &Path) -> crate::Result<Corpus> {
        let _ = path;
        todo!("corpus helper")
    }
}
