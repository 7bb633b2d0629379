//! Acceptance tests of the national corpus on the real `laws.db`.

mod common;

use lawbrain::corpus::{ArticleKind, Corpus, Lookup, Status};
use regex::Regex;

fn count_articles(c: &Corpus, law: &str) -> usize {
    c.articles
        .iter()
        .filter(|a| a.law == law && a.kind == ArticleKind::Article)
        .count()
}

#[test]
fn civil_code_and_legal_aid_law_have_all_articles() {
    let c = common::national_corpus();
    assert_eq!(count_articles(c, "中华人民共和国民法典"), 1260);
    assert_eq!(count_articles(c, "中华人民共和国法律援助法"), 71);
    let info = c.resolve_law("民法典").expect("民法典 resolves");
    assert_eq!(info.status, Status::InForce);
    assert_eq!(info.articles, 1260);
}

#[test]
fn no_leaked_heading_remains() {
    let c = common::national_corpus();
    let re = Regex::new(r"(?m)^(第[一二三四五六七八九十百]+(分编|编)[ \u{3000}]+\S|附\s*则\s*$)")
        .unwrap();
    let leaked: Vec<String> = c
        .articles
        .iter()
        .chain(&c.other_versions)
        .filter(|a| re.is_match(&a.text))
        .map(|a| a.key())
        .collect();
    assert!(leaked.is_empty(), "leaked headings in {leaked:?}");
}

#[test]
fn part_paths_are_rebuilt() {
    let c = common::national_corpus();
    let path = |n: u32| match c.lookup("民法典", n, 0) {
        Lookup::Current(a) => a.path.clone(),
        other => panic!("民法典 {n}: {other:?}"),
    };
    assert_eq!(path(1)[0], "第一编 总则");
    assert_eq!(path(204)[0], "第一编 总则");
    assert_eq!(&path(205)[..2], ["第二编 物权", "第一分编 通则"]);
    assert_eq!(&path(240)[..2], ["第二编 物权", "第二分编 所有权"]);
    assert_eq!(&path(1079)[..1], ["第五编 婚姻家庭"]);
    assert_eq!(path(1259), ["附则"]);
    assert_eq!(path(1260), ["附则"]);
    assert!(path(1258).contains(&"第七编 侵权责任".to_string()));
    // The text of 第204条 ends with the article itself.
    let Lookup::Current(a) = c.lookup("民法典", 204, 0) else {
        panic!()
    };
    assert!(a.text.ends_with("除外。"), "{}", a.text);
}

#[test]
fn texts_are_cleaned() {
    let c = common::national_corpus();
    let all: Vec<_> = c.articles.iter().chain(&c.other_versions).collect();
    let images = all
        .iter()
        .filter(|a| a.text.contains("{width=") || a.text.contains("height=\""))
        .count();
    assert_eq!(images, 0, "pandoc image placeholders left");
    let ascii_quotes = all
        .iter()
        .filter(|a| {
            a.text.lines().any(|l| {
                l.contains('"') && l.chars().any(|ch| ('\u{4e00}'..='\u{9fff}').contains(&ch))
            })
        })
        .count();
    assert_eq!(ascii_quotes, 0, "ASCII quotes left in Chinese text");
    let spaced = Regex::new(r"[\p{Han}，。；：][ \u{2009}\u{00a0}]+[\p{Han}]").unwrap();
    let bad: Vec<String> = all
        .iter()
        .filter(|a| spaced.is_match(&a.text))
        .map(|a| a.key())
        .take(5)
        .collect();
    assert!(
        bad.is_empty(),
        "stray spaces between Chinese characters in {bad:?}"
    );
    let Lookup::Current(a) = c.lookup("民法典", 1, 0) else {
        panic!()
    };
    assert!(a.text.starts_with("为了保护民事主体的合法权益"));
}

#[test]
fn lookups_in_every_form() {
    let c = common::national_corpus();
    for name in [
        "民法典",
        "《民法典》",
        "中华人民共和国民法典",
        "《中华人民共和国民法典》",
    ] {
        assert_eq!(
            c.resolve_law(name).map(|l| l.name.as_str()),
            Some("中华人民共和国民法典"),
            "{name}"
        );
    }
    assert_eq!(
        c.resolve_law("劳动法").map(|l| l.name.as_str()),
        Some("中华人民共和国劳动法")
    );
    assert_eq!(
        c.resolve_law("劳动合同法").map(|l| l.name.as_str()),
        Some("中华人民共和国劳动合同法")
    );
    assert_eq!(
        c.resolve_law("刑诉法").map(|l| l.name.as_str()),
        Some("中华人民共和国刑事诉讼法")
    );
    assert!(c.resolve_law("劳动").is_none());
    assert!(
        c.resolve_law("合同法").is_none(),
        "the repealed 合同法 is not the 劳动合同法"
    );
    for form in ["1079", "第一千零七十九条", "第1079条", "一千零七十九"] {
        let (n, s) = lawbrain::corpus::numerals::parse_article(form).unwrap();
        match c.lookup("民法典", n, s) {
            Lookup::Current(a) => {
                assert_eq!(a.article_label, "第一千零七十九条");
                assert!(a.text.contains("离婚"));
            }
            other => panic!("{form}: {other:?}"),
        }
    }
    assert!(matches!(c.lookup("民法典", 1438, 0), Lookup::NoSuchArticle));
    assert!(matches!(
        c.lookup("劳动合同法", 99, 0),
        Lookup::NoSuchArticle
    ));
    assert!(matches!(c.lookup("不存在法", 1, 0), Lookup::UnknownLaw));
    match c.lookup("法律援助法", 31, 0) {
        Lookup::Current(a) => assert_eq!(a.article_label, "第三十一条"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn criminal_law_is_present_with_outdated_marks() {
    let c = common::national_corpus();
    let info = c.resolve_law("刑法").expect("刑法 is in the corpus");
    assert_eq!(info.status, Status::Amended);
    let Lookup::Current(a) = c.lookup("刑法", 133, 1) else {
        panic!("刑法 133之一")
    };
    assert_eq!(a.article_label, "第一百三十三条之一");
    assert!(!a.possibly_outdated);
    // 刑法修正案（十二） changes 第三百九十条 (行贿罪).
    let Lookup::Current(a) = c.lookup("刑法", 390, 0) else {
        panic!("刑法 390")
    };
    assert!(a.possibly_outdated);
    let outdated: Vec<u32> = c
        .articles
        .iter()
        .filter(|a| a.law == "中华人民共和国刑法" && a.possibly_outdated)
        .map(|a| a.article)
        .collect();
    // Every item of the amendment except its commencement clause names one article.
    let items = c
        .articles
        .iter()
        .filter(|a| a.law == "中华人民共和国刑法修正案（十二）" && a.text.contains("刑法第"))
        .count();
    assert_eq!(outdated.len(), items, "{outdated:?}");
    assert!(!c
        .articles
        .iter()
        .any(|a| a.law == "中华人民共和国民法典" && a.possibly_outdated));
}

#[test]
fn amendment_and_interpretation_rows_are_typed() {
    let c = common::national_corpus();
    let amend: Vec<_> = c
        .articles
        .iter()
        .filter(|a| a.law == "中华人民共和国刑法修正案（十二）")
        .collect();
    assert!(!amend.is_empty());
    assert!(amend.iter().all(|a| a.kind == ArticleKind::AmendmentItem));
    let full = c
        .articles
        .iter()
        .filter(|a| {
            a.law
                .starts_with("全国人民代表大会常务委员会关于《中华人民共和国刑法》")
                && a.law.ends_with("的解释")
        })
        .collect::<Vec<_>>();
    assert!(!full.is_empty());
    assert!(full.iter().all(|a| a.kind == ArticleKind::FullText));
    // Constitution amendments number their items 第N条 but are not articles.
    assert!(c
        .articles
        .iter()
        .filter(|a| a.law.starts_with("中华人民共和国宪法修正案"))
        .all(|a| a.kind == ArticleKind::AmendmentItem));
    assert!(c
        .articles
        .iter()
        .filter(|a| a.law == "中华人民共和国民法典")
        .all(|a| a.kind == ArticleKind::Article));
}

#[test]
fn versions_follow_the_as_of_date() {
    let before = common::national_corpus(); // 2026-11-28
    let after = Corpus::from_laws_db(&common::laws_db(), "2027-06-01").expect("corpus for 2027");
    for law in ["农业法", "商标法"] {
        let b = before.resolve_law(law).expect(law);
        let a = after.resolve_law(law).expect(law);
        assert!(
            b.effective.as_deref().unwrap() < "2026-11-28",
            "{law}: {:?}",
            b.effective
        );
        assert_eq!(a.effective.as_deref(), Some("2027-01-01"), "{law}");
        assert_eq!(b.status, Status::InForce);
        // The new version is kept for citation checks but not searched.
        assert!(before
            .other_versions
            .iter()
            .any(|x| x.law == b.name && x.status == Status::NotYetInForce));
    }
    // A law first in force in 2027 is not selected before then.
    assert!(before.resolve_law("医疗保障法").is_none());
    assert!(after.resolve_law("医疗保障法").is_some());
    // Repealed and historical versions are never selected.
    assert!(before.resolve_law("乡镇企业法").is_none());
    assert!(before.laws.iter().all(|l| l.status.citable()));
    assert!(matches!(
        before.lookup("乡镇企业法", 1, 0),
        Lookup::NotInForce(_)
    ));
    // Names are unique among selected versions.
    let mut names: Vec<&str> = before.laws.iter().map(|l| l.name.as_str()).collect();
    names.sort();
    let n = names.len();
    names.dedup();
    assert_eq!(n, names.len());
}

#[test]
fn save_and_load_round_trip() {
    let c = common::national_corpus();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub").join("corpus.json");
    c.save(&path).unwrap();
    let back = Corpus::load(&path).unwrap();
    assert_eq!(back.as_of, c.as_of);
    assert_eq!(back.laws, c.laws);
    assert_eq!(back.articles, c.articles);
    assert_eq!(back.other_versions.len(), c.other_versions.len());
    assert!(Corpus::load(&dir.path().join("missing.json"))
        .unwrap_err()
        .to_string()
        .contains("lawbrain index"));
}

#[test]
fn bad_inputs_are_clear_errors() {
    let err = Corpus::from_laws_db(&common::laws_db(), "28.11.2026").unwrap_err();
    assert!(err.to_string().contains("YYYY-MM-DD"));
    let err = Corpus::from_laws_db(std::path::Path::new("/nonexistent/laws.db"), "2026-11-28")
        .unwrap_err();
    assert!(err.to_string().contains("lawbrain setup"), "{err}");
}
