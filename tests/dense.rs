//! Dense and hybrid retrieval on the real corpus: a dense index over a few
//! laws (kept small so the test embeds in seconds once per machine; the
//! vectors go to the cache's vector store like the product's), how it is
//! reused, rebuilt and fused.

mod common;

use std::sync::Arc;

use lawbrain::corpus::Corpus;
use lawbrain::search::{Mode, SearchOptions, Searcher};

const LAWS: &[&str] = &[
    "中华人民共和国劳动合同法",
    "中华人民共和国法律援助法",
    "中华人民共和国人民调解法",
    "中华人民共和国公证法",
];

fn subset() -> Corpus {
    let mut c = common::national_corpus().clone();
    c.laws.retain(|l| LAWS.contains(&l.name.as_str()));
    c.articles.retain(|a| LAWS.contains(&a.law.as_str()));
    c.other_versions.clear();
    assert!(c.articles.len() > 200, "{} articles", c.articles.len());
    c
}

fn build(dir: &std::path::Path) -> Searcher {
    lawbrain::search::build_index(&subset(), dir, vec!["dense-test".into()]).expect("index");
    Searcher::open(dir).expect("open")
}

#[test]
fn hybrid_search_on_a_subset_and_reuse_of_the_dense_index() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = build(dir.path());
    assert_eq!(s.mode(), Mode::Lexical);
    let opts = SearchOptions {
        k: 5,
        ..SearchOptions::default()
    };
    let enc = common::encoder();
    let m = s
        .attach_dense(
            enc.clone(),
            &common::cache(),
            &mut lawbrain::progress::NoProgress,
        )
        .expect("attach");
    assert_eq!(s.mode(), Mode::Hybrid);
    assert_eq!(m.articles, s.corpus().articles.len());
    let manifest = lawbrain::search::read_manifest(dir.path()).expect("manifest");
    assert_eq!(
        manifest.dense.as_ref().map(|d| d.articles),
        Some(m.articles)
    );

    // A question with no word of the article: 不给钱 / 炒了我 vs 劳动报酬 / 解除.
    let hits = s.search("干了活公司一直不给钱", &opts).expect("search");
    assert!(
        hits.iter().all(|h| h.dense.is_some()),
        "hits carry the cosine"
    );
    let c = s
        .candidates("干了活公司一直不给钱", &opts, 50)
        .expect("candidates");
    assert!(!c.dense.is_empty() && c.query_vec.is_some());
    // Dense ranks wage-payment articles of the labour contract law high.
    let dense_top: Vec<String> = c
        .dense
        .iter()
        .take(10)
        .filter_map(|(d, _)| s.corpus().articles.get(*d))
        .map(|a| a.text.clone())
        .collect();
    assert!(
        dense_top.iter().any(|t| t.contains("劳动报酬")),
        "{dense_top:?}"
    );

    // Explicit citations stay exact and first.
    let hits = s
        .search("劳动合同法第八十二条怎么规定的", &opts)
        .expect("cite");
    assert_eq!(hits[0].article, 82);
    assert_eq!(hits[0].law, "中华人民共和国劳动合同法");

    // A second searcher on the same build loads dense.bin: nothing embedded.
    let s2 = Searcher::open(dir.path()).expect("open again");
    assert!(s2.has_dense_on_disk(&enc));
    let m2 = s2
        .attach_dense(
            enc.clone(),
            &common::cache(),
            &mut lawbrain::progress::NoProgress,
        )
        .expect("attach again");
    assert_eq!(m2.embedded, 0);
    assert_eq!(
        s2.search("干了活公司一直不给钱", &opts).expect("search"),
        s.search("干了活公司一直不给钱", &opts).expect("search")
    );

    // A corrupt dense.bin is not used: it is rebuilt from the vector store.
    let live = lawbrain::search::live_dir(dir.path()).expect("live");
    std::fs::write(live.join(lawbrain::search::dense::DENSE_FILE), b"garbage").expect("write");
    let s3 = Searcher::open(dir.path()).expect("open third");
    let m3 = s3
        .attach_dense(enc, &common::cache(), &mut lawbrain::progress::NoProgress)
        .expect("rebuild from the store");
    assert_eq!(
        m3.embedded, 0,
        "vectors come from the store, not the encoder"
    );
    assert_eq!(s3.mode(), Mode::Hybrid);
}

#[test]
fn filters_apply_to_dense_candidates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = build(dir.path());
    s.attach_dense(
        common::encoder(),
        &common::cache(),
        &mut lawbrain::progress::NoProgress,
    )
    .expect("attach");
    let opts = SearchOptions {
        k: 10,
        law: Some("公证法".into()),
        ..SearchOptions::default()
    };
    let c = s.candidates("老板欠工资", &opts, 30).expect("candidates");
    assert!(!c.dense.is_empty());
    for (d, _) in &c.dense {
        assert_eq!(s.corpus().articles[*d].law, "中华人民共和国公证法");
    }
    let _ = Arc::strong_count(&common::encoder());
}
