//! The dense encoder against reference embeddings computed once with the
//! encoder's reference C implementation (int8 activations, so not bit-equal):
//! `tests/data/e5_reference.json`, texts written for this test.

mod common;

use lawbrain::embed::{dot, Kind, DIM};

fn reference() -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(common::repo().join("tests/data/e5_reference.json"))
        .expect("reference file");
    serde_json::from_str(&text).expect("reference JSON")
}

#[test]
fn embeddings_match_the_reference_implementation() {
    let enc = common::encoder();
    let refs = reference();
    assert!(refs.len() >= 7);
    for r in &refs {
        let text = r["text"].as_str().expect("text");
        let kind = if r["kind"] == "query" {
            Kind::Query
        } else {
            Kind::Passage
        };
        let want: Vec<f32> = r["vector"]
            .as_array()
            .expect("vector")
            .iter()
            .map(|x| x.as_f64().expect("number") as f32)
            .collect();
        assert_eq!(want.len(), DIM);
        let ids = enc.tokens(text, kind).expect("tokens");
        assert_eq!(
            ids.len() as u64,
            r["tokens"].as_u64().expect("tokens"),
            "{text}"
        );
        let got = match kind {
            Kind::Query => enc.embed_query(text).expect("embed"),
            Kind::Passage => enc
                .embed(&[text], kind, &mut lawbrain::progress::NoProgress)
                .expect("embed")
                .remove(0),
        };
        let norm = dot(&got, &got).sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "not normalised: {norm}");
        let cos = dot(&got, &want);
        assert!(cos >= 0.99, "cosine {cos} for {text}");
    }
}

#[test]
fn batching_does_not_change_embeddings() {
    let enc = common::encoder();
    let refs = reference();
    let passages: Vec<&str> = refs
        .iter()
        .filter(|r| r["kind"] == "passage")
        .map(|r| r["text"].as_str().expect("text"))
        .collect();
    let batch = enc
        .embed(
            &passages,
            Kind::Passage,
            &mut lawbrain::progress::NoProgress,
        )
        .expect("batch");
    for (p, b) in passages.iter().zip(&batch) {
        let one = enc
            .embed(&[p], Kind::Passage, &mut lawbrain::progress::NoProgress)
            .expect("one");
        let cos = dot(&one[0], b);
        assert!(cos > 0.9999, "padding changed an embedding: {cos}");
    }
}

#[test]
fn related_texts_are_nearer_than_unrelated_ones() {
    let enc = common::encoder();
    let q = enc.embed_query("公司拖欠工资不发怎么办").expect("q");
    let ps = enc
        .embed(
            &[
                "用人单位应当按时足额支付劳动者工资，不得克扣或者无故拖欠。",
                "夫妻一方要求离婚的，可以向人民法院提起离婚诉讼。",
            ],
            Kind::Passage,
            &mut lawbrain::progress::NoProgress,
        )
        .expect("p");
    assert!(dot(&q, &ps[0]) > dot(&q, &ps[1]) + 0.02);
}

/// The answer-quality similarity (issue 14): a conclusion saying what the
/// lawyer said in other words scores above one that says the opposite on
/// another subject, and an empty side gives no figure.
#[test]
fn answer_similarity_credits_the_same_meaning() {
    use lawbrain::eval::quality::similarity;
    let enc = common::encoder();
    let lawyer = "您好，用人单位拖欠工资的，劳动者可以向劳动保障监察部门投诉，也可以申请劳动仲裁，要求支付所欠工资。";
    let same = similarity(
        &enc,
        "老板欠薪，你可以去劳动监察投诉或者申请劳动仲裁，讨回工资。",
        lawyer,
    )
    .expect("embed")
    .expect("a figure");
    let other = similarity(&enc, "离婚时夫妻共同财产一般平均分割。", lawyer)
        .expect("embed")
        .expect("a figure");
    assert!(same > other + 0.02, "same {same:.3} other {other:.3}");
    assert_eq!(similarity(&enc, " ", lawyer).expect("embed"), None);
}

#[test]
fn long_passages_are_cut_to_the_cap() {
    let enc = common::encoder();
    let long = "劳动者".repeat(400);
    let ids = enc.tokens(&long, Kind::Passage).expect("tokens");
    assert_eq!(ids.len(), lawbrain::embed::PASSAGE_MAX_TOKENS);
    assert_eq!(ids.last(), enc.tokens("", Kind::Passage).expect("t").last());
}

#[test]
fn a_corrupt_encoder_file_names_setup() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("e5.bin");
    std::fs::write(&model, b"E5S1garbage").expect("write");
    let (_, tok) = lawbrain::embed::asset_paths(&common::cache()).expect("assets present");
    let err = lawbrain::embed::Encoder::load(&model, &tok, "x")
        .err()
        .expect("corrupt file must fail");
    assert!(err.to_string().contains("lawbrain setup"), "{err}");
    let missing = dir.path().join("absent.bin");
    let err = lawbrain::embed::Encoder::load(&missing, &tok, "x")
        .err()
        .expect("missing file must fail");
    assert!(err.to_string().contains("lawbrain setup"), "{err}");
}
