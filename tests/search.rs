//! Search on the real corpus: retrieval quality on the dev cases, explicit
//! citations, filters, and the missing/stale index errors.

mod common;

use lawbrain::search::{self, SearchOptions, Searcher};
use lawbrain::Error;

fn opts(k: usize) -> SearchOptions {
    SearchOptions {
        k,
        ..Default::default()
    }
}

#[test]
fn dev_retrieval_quality() {
    if !common::need_shared("the shared dev set") {
        return;
    }
    let s = common::searcher();
    let cases = common::read_jsonl(&common::dev_cases());
    assert!(!cases.is_empty());
    let (mut hit5, mut recall10) = (0.0f64, 0.0f64);
    for c in &cases {
        let q = c["question"].as_str().expect("question");
        let gold: Vec<(String, u32)> = c["articles"]
            .as_array()
            .expect("articles")
            .iter()
            .map(|a| {
                (
                    a["law"].as_str().expect("law").to_string(),
                    a["article"].as_u64().expect("article") as u32,
                )
            })
            .collect();
        let hits = s.search(q, &opts(10)).expect("search");
        let got: Vec<(String, u32)> = hits.iter().map(|h| (h.law.clone(), h.article)).collect();
        if got.iter().take(5).any(|g| gold.contains(g)) {
            hit5 += 1.0;
        }
        recall10 +=
            gold.iter().filter(|g| got.contains(g)).count() as f64 / gold.len().max(1) as f64;
    }
    let n = cases.len() as f64;
    let (hit5, recall10) = (hit5 / n, recall10 / n);
    println!(
        "dev retrieval over {} cases: hit@5 {hit5:.3}, recall@10 {recall10:.3}",
        cases.len()
    );
    assert!(hit5 >= 0.60, "hit@5 {hit5:.3} below 0.60");
}

#[test]
fn explicit_citations_come_first_in_every_form() {
    let s = common::searcher();
    let cases: &[(&str, &str, u32)] = &[
        ("民法典第1079条", "中华人民共和国民法典", 1079),
        ("民法典 第一千零七十九条", "中华人民共和国民法典", 1079),
        ("第一千零七十九条 民法典", "", 0),
        ("劳动合同法82条", "中华人民共和国劳动合同法", 82),
        ("《法律援助法》第三十一条", "中华人民共和国法律援助法", 31),
        (
            "中华人民共和国劳动法第四十四条怎么规定的",
            "中华人民共和国劳动法",
            44,
        ),
        (
            "请问民法典第一千零八十四条说的抚养权是什么意思",
            "中华人民共和国民法典",
            1084,
        ),
    ];
    for (q, law, art) in cases {
        let hits = s.search(q, &opts(5)).expect("search");
        if law.is_empty() {
            continue;
        }
        let first = hits.first().unwrap_or_else(|| panic!("no hits for {q}"));
        assert_eq!(
            (first.law.as_str(), first.article),
            (*law, *art),
            "query {q}"
        );
        let a = s
            .corpus()
            .articles
            .iter()
            .find(|a| a.law == *law && a.article == *art)
            .expect("article");
        assert_eq!(first.text, a.text);
        assert_eq!(first.article_label, a.article_label);
    }
    // An article that does not exist is not invented.
    let hits = s.search("民法典第1438条", &opts(5)).expect("search");
    assert!(hits
        .iter()
        .all(|h| !(h.law.ends_with("民法典") && h.article == 1438)));
}

#[test]
fn everyday_questions_find_the_obvious_law() {
    let s = common::searcher();
    let cases: &[(&str, &str)] = &[
        ("老板拖欠我三个月工资不发", "劳动"),
        ("被电动车撞了对方不肯赔", "交通"),
        ("老公经常打我", "反家庭暴力法"),
        ("家里穷请不起律师怎么办", "法律援助法"),
        ("网上买的东西有质量问题商家不给退", "消费者权益保护法"),
        ("想给房子办个公证", "公证法"),
    ];
    for (q, law) in cases {
        let hits = s.search(q, &opts(5)).expect("search");
        assert!(
            hits.iter().any(|h| h.law.contains(law)
                || s.corpus().articles.iter().any(|a| a.law == h.law
                    && a.article == h.article
                    && a.path.iter().any(|p| p.contains(law)))),
            "{q}: no {law} in top 5: {:?}",
            hits.iter()
                .map(|h| format!("{}{}", h.law, h.article))
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn filters_restrict_results() {
    let s = common::searcher();
    let q = "拖欠工资";
    let by_law = s
        .search(
            q,
            &SearchOptions {
                k: 10,
                law: Some("劳动法".into()),
                ..Default::default()
            },
        )
        .expect("search");
    assert!(!by_law.is_empty());
    assert!(
        by_law.iter().all(|h| h.law == "中华人民共和国劳动法"),
        "{by_law:?}"
    );

    let by_level = s
        .search(
            q,
            &SearchOptions {
                k: 10,
                level: Some("行政法规".into()),
                ..Default::default()
            },
        )
        .expect("search");
    assert!(
        !by_level.is_empty(),
        "the administrative regulations in the test index (shared samples or fixtures) mention wages"
    );
    assert!(by_level.iter().all(|h| h.level == "行政法规"));

    let regions: Vec<String> = s
        .corpus()
        .articles
        .iter()
        .filter_map(|a| a.region.clone())
        .collect();
    if let Some(region) = regions.first() {
        let by_region = s
            .search(
                "法律援助",
                &SearchOptions {
                    k: 10,
                    region: Some(region.clone()),
                    ..Default::default()
                },
            )
            .expect("search");
        assert!(!by_region.is_empty());
        let laws: Vec<&str> = s
            .corpus()
            .articles
            .iter()
            .filter(|a| a.region.as_deref() == Some(region.as_str()))
            .map(|a| a.law.as_str())
            .collect();
        assert!(by_region.iter().all(|h| laws.contains(&h.law.as_str())));
    }

    let all = s.search("刑法 盗窃", &opts(20)).expect("search");
    assert!(all
        .iter()
        .all(|h| h.status == "现行有效" || h.status == "已被修改"));

    let err = s
        .search(
            q,
            &SearchOptions {
                law: Some("不存在的法".into()),
                ..Default::default()
            },
        )
        .expect_err("unknown law");
    assert!(matches!(err, Error::NotFound(_)), "{err}");
    assert!(matches!(
        s.search("  ", &opts(5)),
        Err(Error::InvalidInput(_))
    ));
}

#[test]
fn missing_index_names_the_fix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = Searcher::open(dir.path())
        .err()
        .expect("missing index is an error");
    assert!(matches!(err, Error::MissingAsset { .. }), "{err}");
    assert!(err.to_string().contains("lawbrain index"), "{err}");
}

#[test]
fn stale_schema_is_detected_and_rebuild_swaps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut corpus = common::national_corpus().clone();
    corpus
        .articles
        .retain(|a| a.law == "中华人民共和国法律援助法");
    corpus.laws.retain(|l| l.name == "中华人民共和国法律援助法");
    corpus.other_versions.clear();
    let m = search::build_index(&corpus, dir.path(), vec!["test".into()]).expect("build");
    assert_eq!(m.articles, corpus.articles.len());
    assert_eq!(m.schema_version, search::SCHEMA_VERSION);
    let s = Searcher::open(dir.path()).expect("open");
    assert_eq!(s.manifest().articles, corpus.articles.len());
    let hits = s.search("法律援助法第三十一条", &opts(3)).expect("search");
    assert_eq!(hits.first().map(|h| h.article), Some(31));
    drop(s);

    // Rebuilding replaces the live build and leaves exactly one build directory.
    search::build_index(&corpus, dir.path(), vec!["test".into()]).expect("rebuild");
    let builds = std::fs::read_dir(dir.path())
        .expect("read dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("build-"))
        .count();
    assert_eq!(builds, 1);
    Searcher::open(dir.path()).expect("open after rebuild");

    // A manifest from another schema version is stale and says how to fix it.
    let live = search::live_dir(dir.path()).expect("live dir");
    let mpath = live.join("manifest.json");
    let mut v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&mpath).expect("manifest")).expect("json");
    v["schema_version"] = serde_json::json!(search::SCHEMA_VERSION + 1);
    std::fs::write(&mpath, serde_json::to_vec(&v).expect("json")).expect("write");
    let err = Searcher::open(dir.path()).err().expect("stale");
    assert!(matches!(err, Error::StaleIndex { .. }), "{err}");
    assert!(err.to_string().contains("lawbrain index"), "{err}");
}
