//! Importer for local regulations, administrative regulations and judicial
//! interpretations kept as `.md`/`.txt` files (`corpus/local/`).
//!
//! Format (the LawRefBook layout, also fine for hand-written files):
//!
//! ```text
//! ---                      (optional front matter)
//! level: 地方性法规          (宪法/法律/行政法规/司法解释/地方性法规)
//! region: 湖北省
//! effective: 2020-01-01
//! ---
//! # 标题                    (else the file name is the title)
//! 2004年12月1日 施行         (adoption/amendment lines, up to <!-- INFO END -->)
//! <!-- INFO END -->
//! ## 第一章 总则            (编/章/节 headings, `##` or plain)
//! 第一条 ……                 (one article per paragraph; paragraphs without
//! ……                        a 第X条 belong to the article before)
//! ```
//!
//! A date in the file name (`条例(2019-12-30).md`) is the version date. The
//! level and region are inferred from the title when not given: 最高人民法院…
//! is 司法解释, a title starting with a province or city is 地方性法规 of that
//! region, other 条例/规定/办法 are 行政法规. Files without any 第X条 become one
//! full-text row. Gaps and duplicates in the numbering are reported.

use std::path::{Path, PathBuf};

use regex::Regex;

use super::{
    aliases, clean, numerals, Article, ArticleKind, Corpus, ImportReport, LawInfo, Level, Status,
};
use crate::error::IoContext;

const PROVINCES: &[&str] = &[
    "北京市",
    "天津市",
    "上海市",
    "重庆市",
    "河北省",
    "山西省",
    "辽宁省",
    "吉林省",
    "黑龙江省",
    "江苏省",
    "浙江省",
    "安徽省",
    "福建省",
    "江西省",
    "山东省",
    "河南省",
    "湖北省",
    "湖南省",
    "广东省",
    "海南省",
    "四川省",
    "贵州省",
    "云南省",
    "陕西省",
    "甘肃省",
    "青海省",
    "台湾省",
    "内蒙古自治区",
    "广西壮族自治区",
    "西藏自治区",
    "宁夏回族自治区",
    "新疆维吾尔自治区",
    "香港特别行政区",
    "澳门特别行政区",
];

/// Front matter and header facts of one file.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Meta {
    pub title: Option<String>,
    pub level: Option<Level>,
    pub region: Option<String>,
    pub effective: Option<String>,
}

/// One parsed file: its law and articles, plus warnings.
#[derive(Debug, Clone)]
pub struct ParsedFile {
    pub law: LawInfo,
    pub articles: Vec<Article>,
    pub warnings: Vec<String>,
}

fn parse_level(s: &str) -> Option<Level> {
    Some(match s.trim() {
        "宪法" => Level::Constitution,
        "法律" => Level::Law,
        "行政法规" => Level::Administrative,
        "司法解释" => Level::JudicialInterpretation,
        "地方性法规" | "地方政府规章" | "地方规章" => Level::Local,
        _ => return None,
    })
}

/// The region a title starts with (`山东省…` -> 山东省, `宁波市…` -> 宁波市).
pub fn region_of(title: &str) -> Option<String> {
    if let Some(p) = PROVINCES.iter().find(|p| title.starts_with(*p)) {
        // A city of the province: 湖北省鄂州市… -> 湖北省鄂州市.
        let rest = &title[p.len()..];
        let city: String = rest.chars().take(5).collect();
        if let Some(i) = city.find('市') {
            if i >= 6 {
                return Some(format!("{p}{}", &city[..i + '市'.len_utf8()]));
            }
        }
        return Some((*p).to_string());
    }
    // 宁波市 / 鄂州市 / 恩施土家族苗族自治州: 2-8 characters then 市/州/县.
    let re = Regex::new(r"^([\p{Han}]{2,8}?(?:市|自治州|自治县|县))").ok()?;
    let m = re.captures(title)?.get(1)?.as_str().to_string();
    let stem = m.trim_end_matches(['市', '县', '州']);
    if ["城", "都", "城市", "全国", "国家"].contains(&stem)
        || ["人民", "关于", "国务院"].iter().any(|w| m.contains(w))
    {
        return None;
    }
    Some(m)
}

/// Level inferred from a title (and region).
pub fn infer_level(title: &str, region: Option<&str>) -> Level {
    if title.starts_with("最高人民法院") || title.starts_with("最高人民检察院") {
        Level::JudicialInterpretation
    } else if region.is_some() {
        Level::Local
    } else if title.ends_with('法') || title.ends_with("法典") {
        Level::Law
    } else {
        Level::Administrative
    }
}

/// `(2019-12-30)` in a file name.
fn date_in_name(stem: &str) -> Option<String> {
    let re = Regex::new(r"[(（](\d{4}-\d{2}-\d{2})[)）]").ok()?;
    Some(re.captures(stem)?.get(1)?.as_str().to_string())
}

/// `2004年12月1日 施行` -> 2004-12-01.
fn effective_in_info(line: &str) -> Option<String> {
    let re = Regex::new(r"(\d{4})年(\d{1,2})月(\d{1,2})日.*施行").ok()?;
    let c = re.captures(line)?;
    let num = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
    Some(format!("{:04}-{:02}-{:02}", num(1)?, num(2)?, num(3)?))
}

fn article_line_re() -> Regex {
    Regex::new(r"^第([零〇一二两三四五六七八九十百千0-9]+)条(?:之([一二三四五六七八九十]+))?(?:[\s\u{3000}]+|$)(.*)$")
        .expect("valid article regex")
}

fn heading_re() -> Regex {
    Regex::new(r"^第[零一二三四五六七八九十百]+(分编|编|章|节)(?:[\s\u{3000}]+\S.*)?$")
        .expect("valid heading regex")
}

/// Heading depth: 编 0, 分编 1, 章 (and other `##` headings) 2, 节 3.
fn heading_depth(h: &str) -> usize {
    match heading_re()
        .captures(h)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str())
    {
        Some("编") => 0,
        Some("分编") => 1,
        Some("节") => 3,
        _ => 2,
    }
}

/// Parse one file's text. `stem` is the file name without extension.
pub fn parse_file(stem: &str, text: &str) -> ParsedFile {
    let mut warnings = Vec::new();
    let text = text.trim_start_matches('\u{feff}').replace("\r\n", "\n");
    let mut lines: Vec<&str> = text.lines().collect();
    let mut meta = Meta::default();
    // Front matter.
    if lines.first().map(|l| l.trim()) == Some("---") {
        if let Some(end) = lines.iter().skip(1).position(|l| l.trim() == "---") {
            for l in &lines[1..=end] {
                if let Some((k, v)) = l.split_once(':').or_else(|| l.split_once('：')) {
                    let v = v.trim().trim_matches('"').to_string();
                    match k.trim() {
                        "level" | "层级" => {
                            meta.level = parse_level(&v);
                            if meta.level.is_none() {
                                warnings
                                    .push(format!("{stem}: unknown level {v:?} in front matter"));
                            }
                        }
                        "region" | "地区" => meta.region = Some(v).filter(|s| !s.is_empty()),
                        "effective" | "施行" => {
                            meta.effective = Some(v).filter(|s| super::versions::is_date(s))
                        }
                        "title" | "标题" => meta.title = Some(v).filter(|s| !s.is_empty()),
                        _ => {}
                    }
                }
            }
            lines.drain(..=end + 1);
        }
    }
    // Title line.
    let mut i = 0;
    while i < lines.len() && lines[i].trim().is_empty() {
        i += 1;
    }
    if i < lines.len() {
        if let Some(t) = lines[i].trim().strip_prefix("# ") {
            if meta.title.is_none() {
                meta.title = Some(t.trim().to_string());
            }
            i += 1;
        }
    }
    let file_date = date_in_name(stem);
    let title = meta.title.clone().unwrap_or_else(|| {
        let re = Regex::new(r"[(（]\d{4}-\d{2}-\d{2}[)）]").expect("valid date regex");
        re.replace_all(stem, "").trim().to_string()
    });
    // Info block up to <!-- INFO END -->.
    let mut body_start = i;
    if let Some(end) = lines.iter().position(|l| l.trim() == "<!-- INFO END -->") {
        for l in &lines[i..end] {
            if meta.effective.is_none() {
                meta.effective = effective_in_info(l);
            }
        }
        body_start = end + 1;
    }
    let effective = meta.effective.clone().or(file_date);
    let region = meta.region.clone().or_else(|| region_of(&title));
    let level = meta
        .level
        .unwrap_or_else(|| infer_level(&title, region.as_deref()));

    let art_re = article_line_re();
    let head_re = heading_re();
    let mut path: Vec<(usize, String)> = Vec::new();
    let mut articles: Vec<Article> = Vec::new();
    let mut preamble: Vec<String> = Vec::new();
    let new_article =
        |article: u32, suffix: u32, label: String, body: String, path: &[(usize, String)]| {
            Article {
                law: title.clone(),
                article,
                suffix,
                article_label: label,
                text: body,
                level,
                status: Status::InForce,
                region: region.clone(),
                path: path.iter().map(|(_, h)| h.clone()).collect(),
                effective: effective.clone(),
                possibly_outdated: false,
                kind: ArticleKind::Article,
            }
        };
    for raw in &lines[body_start..] {
        let line = raw.trim();
        if line.is_empty() || line.starts_with("<!--") {
            continue;
        }
        let heading = if let Some(h) = line.strip_prefix('#') {
            Some(h.trim_start_matches('#').trim())
        } else if head_re.is_match(line) {
            Some(line)
        } else {
            None
        };
        if let Some(h) = heading {
            let h = clean::normalize_heading(h);
            let depth = heading_depth(&h);
            path.retain(|(d, _)| *d < depth);
            path.push((depth, h));
            continue;
        }
        if let Some(c) = art_re.captures(line) {
            let n = c.get(1).and_then(|m| numerals::parse_number(m.as_str()));
            let s = c
                .get(2)
                .and_then(|m| numerals::parse_number(m.as_str()))
                .unwrap_or(0);
            if let Some(n) = n.filter(|&n| n > 0) {
                let label = numerals::article_label(n, s);
                let body = c
                    .get(3)
                    .map(|m| m.as_str().trim())
                    .unwrap_or("")
                    .to_string();
                articles.push(new_article(n, s, label, body, &path));
                continue;
            }
        }
        match articles.last_mut() {
            Some(a) => {
                if !a.text.is_empty() {
                    a.text.push('\n');
                }
                a.text.push_str(line);
            }
            None => preamble.push(line.to_string()),
        }
    }
    if articles.is_empty() {
        if preamble.is_empty() {
            warnings.push(format!("{title}: no text"));
        } else {
            let mut a = new_article(0, 0, "全文".into(), preamble.join("\n"), &[]);
            a.kind = ArticleKind::FullText;
            articles.push(a);
        }
    }
    for a in &mut articles {
        a.text = clean::clean_text(&a.text);
    }
    // Numbering checks.
    let mut prev: Option<(u32, u32)> = None;
    let mut seen = std::collections::HashSet::new();
    for a in articles.iter().filter(|a| a.kind == ArticleKind::Article) {
        let key = (a.article, a.suffix);
        if !seen.insert(key) {
            warnings.push(format!("{title}: duplicate {}", a.article_label));
            prev = Some(key);
            continue;
        }
        let expected_ok = match prev {
            None => a.article == 1 && a.suffix == 0,
            Some((p, _)) if a.suffix == 0 => a.article == p + 1,
            Some((p, ps)) => a.article == p && a.suffix == ps + 1,
        };
        if !expected_ok {
            let after = prev
                .map(|(p, s)| numerals::article_label(p, s))
                .unwrap_or_else(|| "the start".into());
            warnings.push(format!(
                "{title}: numbering gap: {} follows {after}",
                a.article_label
            ));
        }
        prev = Some(key);
    }
    let law = LawInfo {
        name: title.clone(),
        aliases: aliases::aliases_for(&title),
        level,
        status: Status::InForce,
        region,
        effective,
        articles: articles.len(),
    };
    ParsedFile {
        law,
        articles,
        warnings,
    }
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> crate::Result<()> {
    let entries = std::fs::read_dir(dir).ctx(|| format!("reading {}", dir.display()))?;
    for e in entries {
        let e = e.ctx(|| format!("reading {}", dir.display()))?;
        let p = e.path();
        if p.is_dir() {
            collect_files(&p, out)?;
        } else if matches!(p.extension().and_then(|x| x.to_str()), Some("md" | "txt")) {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !name.eq_ignore_ascii_case("README.md")
                && !name.eq_ignore_ascii_case("PROVENANCE.md")
            {
                out.push(p);
            }
        }
    }
    Ok(())
}

/// Import every `.md`/`.txt` file under `dir` (recursively) into `corpus`.
/// A law already in the corpus under the same name is replaced.
pub fn import_dir(corpus: &mut Corpus, dir: &Path) -> crate::Result<ImportReport> {
    if !dir.is_dir() {
        return Err(crate::Error::InvalidInput(format!(
            "{} is not a folder of regulation files",
            dir.display()
        )));
    }
    let mut files = Vec::new();
    collect_files(dir, &mut files)?;
    files.sort();
    let mut report = ImportReport::default();
    let mut parsed_all = Vec::new();
    for f in &files {
        let stem = f
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("")
            .to_string();
        let bytes = std::fs::read(f).ctx(|| format!("reading {}", f.display()))?;
        let Ok(text) = String::from_utf8(bytes) else {
            report
                .warnings
                .push(format!("{}: not UTF-8, skipped", f.display()));
            continue;
        };
        report.files += 1;
        let parsed = parse_file(&stem, &text);
        report.warnings.extend(parsed.warnings.iter().cloned());
        if parsed.articles.is_empty() {
            continue;
        }
        parsed_all.push(parsed);
    }
    for p in parsed_all {
        if parsed_names_clash(corpus, &p.law.name) {
            report
                .warnings
                .push(format!("{}: replaces the law of the same name", p.law.name));
            corpus.laws.retain(|l| l.name != p.law.name);
            corpus.articles.retain(|a| a.law != p.law.name);
        }
        report.laws += 1;
        report.articles += p.articles.len();
        corpus.laws.push(p.law);
        corpus.articles.extend(p.articles);
    }
    tracing::info!(
        files = report.files,
        laws = report.laws,
        articles = report.articles,
        "local regulations imported"
    );
    Ok(report)
}

fn parsed_names_clash(corpus: &Corpus, name: &str) -> bool {
    corpus.laws.iter().any(|l| l.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_headings_articles_and_continuations() {
        let text = "# 测试条例\n\n2004年12月1日 施行\n\n<!-- INFO END -->\n\n## 第一章 总则\n\n第一条 目的。\n\n第二条 适用范围。\n\n第二款内容。\n\n## 第二章 附则\n\n第三条 本条例自公布之日起施行。\n";
        let p = parse_file("测试条例(2004-11-01)", text);
        assert_eq!(p.articles.len(), 3);
        assert_eq!(p.articles[1].text, "适用范围。\n第二款内容。");
        assert_eq!(p.articles[2].path, vec!["第二章 附则".to_string()]);
        assert_eq!(p.law.effective.as_deref(), Some("2004-12-01"));
        assert_eq!(p.law.level, Level::Administrative);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    }

    #[test]
    fn front_matter_and_gaps() {
        let text = "---\nlevel: 地方性法规\nregion: 湖北省\n---\n第一条 一。\n第三条 三。\n第三条 再三。\n";
        let p = parse_file("鄂州市某规定", text);
        assert_eq!(p.law.name, "鄂州市某规定");
        assert_eq!(p.law.level, Level::Local);
        assert_eq!(p.law.region.as_deref(), Some("湖北省"));
        assert!(
            p.warnings.iter().any(|w| w.contains("gap")),
            "{:?}",
            p.warnings
        );
        assert!(
            p.warnings.iter().any(|w| w.contains("duplicate")),
            "{:?}",
            p.warnings
        );
    }

    #[test]
    fn infers_region_and_level() {
        assert_eq!(region_of("山东省法律援助条例").as_deref(), Some("山东省"));
        assert_eq!(region_of("宁波市人民调解条例").as_deref(), Some("宁波市"));
        assert_eq!(
            region_of("湖北省鄂州市养犬管理条例").as_deref(),
            Some("湖北省鄂州市")
        );
        assert_eq!(region_of("城市房地产管理条例"), None);
        assert_eq!(region_of("劳动保障监察条例"), None);
        assert_eq!(
            region_of("最高人民法院关于审理民间借贷案件适用法律若干问题的规定"),
            None
        );
        assert_eq!(
            infer_level(
                "最高人民法院关于审理民间借贷案件适用法律若干问题的规定",
                None
            ),
            Level::JudicialInterpretation
        );
        assert_eq!(infer_level("工伤保险条例", None), Level::Administrative);
        assert_eq!(
            infer_level("北京市法律援助条例", Some("北京市")),
            Level::Local
        );
    }
}
