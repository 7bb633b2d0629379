//! The local-regulation importer on the 26 shared sample files.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use lawbrain::corpus::{ArticleKind, Corpus, Level, Lookup};
use regex::Regex;

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "md") && !p.ends_with("PROVENANCE.md") {
            out.push(p);
        }
    }
}

/// Independent count: lines that start with 第X条, per file title.
fn expected_counts(dir: &Path) -> HashMap<String, (usize, PathBuf)> {
    let re = Regex::new(r"^第[零一二三四五六七八九十百千]+条").unwrap();
    let mut all = Vec::new();
    files(dir, &mut all);
    all.iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            let title = text
                .lines()
                .next()
                .unwrap()
                .trim_start_matches("# ")
                .trim()
                .to_string();
            let n = text.lines().filter(|l| re.is_match(l)).count();
            (title, (n, p.clone()))
        })
        .collect()
}

#[test]
fn imports_all_shared_files_with_right_counts() {
    if !common::need_shared("the 26 shared regulation samples") {
        return;
    }
    let dir = common::local_regulations();
    let expected = expected_counts(&dir);
    assert_eq!(expected.len(), 26);
    let mut c = Corpus {
        as_of: common::AS_OF.into(),
        ..Default::default()
    };
    let report = c.import_local(&dir).unwrap();
    assert_eq!(report.files, 26);
    assert_eq!(report.laws, 26);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    for (title, (n, path)) in &expected {
        let arts: Vec<_> = c.articles.iter().filter(|a| &a.law == title).collect();
        if *n == 0 {
            assert_eq!(arts.len(), 1, "{title}");
            assert_eq!(arts[0].kind, ArticleKind::FullText);
            continue;
        }
        assert_eq!(arts.len(), *n, "{title}");
        // Numbered 1..=n without gaps or duplicates.
        let nums: Vec<u32> = arts.iter().map(|a| a.article).collect();
        assert_eq!(nums, (1..=*n as u32).collect::<Vec<_>>(), "{title}");
        let law = c.resolve_law(title).unwrap();
        let folder = path
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap();
        let want = match folder {
            "administrative" => Level::Administrative,
            "judicial-interpretations" => Level::JudicialInterpretation,
            "local" => Level::Local,
            other => panic!("unexpected folder {other}"),
        };
        assert_eq!(law.level, want, "{title}");
        assert_eq!(
            law.region.is_some(),
            want == Level::Local,
            "{title}: {:?}",
            law.region
        );
        assert!(
            arts.iter()
                .all(|a| !a.text.is_empty() && !a.text.starts_with('第')),
            "{title}"
        );
    }
    assert_eq!(report.articles, c.articles.len());
}

#[test]
fn imported_articles_keep_paragraphs_paths_and_dates() {
    if !common::need_shared("the shared regulation samples") {
        return;
    }
    let mut c = Corpus::default();
    c.import_local(&common::local_regulations()).unwrap();
    let Lookup::Current(a) = c.lookup("劳动保障监察条例", 2, 0) else {
        panic!()
    };
    assert_eq!(a.text.lines().count(), 2, "{}", a.text);
    assert_eq!(a.path, vec!["第一章 总则".to_string()]);
    assert_eq!(a.effective.as_deref(), Some("2004-12-01"));
    let law = c.resolve_law("山东省法律援助条例").unwrap();
    assert_eq!(law.region.as_deref(), Some("山东省"));
    // Titles with 《中华人民共和国民法典》 resolve with the short name too.
    assert!(c
        .resolve_law("最高人民法院关于适用《民法典》婚姻家庭编的解释（一）")
        .is_some());
    assert!(
        c.resolve_law("民法典婚姻家庭编的解释（一）").is_none(),
        "no fuzzy matches"
    );
    let full = "最高人民法院关于适用《中华人民共和国民法典》婚姻家庭编的解释（一）";
    assert_eq!(
        c.resolve_law("婚姻家庭编解释（一）")
            .map(|l| l.name.as_str()),
        Some(full)
    );
    assert_eq!(
        c.resolve_law("《民法典婚姻家庭编解释（二）》")
            .map(|l| l.name.as_str()),
        Some(full.replace('一', "二").as_str())
    );
}

#[test]
fn front_matter_sets_level_and_region() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("养犬管理规定.md"),
        "---\nlevel: 地方性法规\nregion: 湖北省鄂州市\n---\n# 鄂州市养犬管理规定\n\n第一条 为了规范养犬。\n\n第二条 适用。\n\n第四条 跳号。\n",
    )
    .unwrap();
    let mut c = Corpus::default();
    let report = c.import_local(dir.path()).unwrap();
    assert_eq!(report.articles, 3);
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(report.warnings[0].contains("第四条"));
    let law = c.resolve_law("鄂州市养犬管理规定").unwrap();
    assert_eq!(law.level, Level::Local);
    assert_eq!(law.region.as_deref(), Some("湖北省鄂州市"));
    assert!(c.import_local(&dir.path().join("missing")).is_err());
}
