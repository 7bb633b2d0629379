//! Triage with the router that reads the sentence embedding, as `serve`,
//! `ask`, `eval` and `lawbrain triage` run it once the encoder is set up.
//! A test binary of its own: switching the built-in router is process-wide.

mod common;

use lawbrain::embed::dot;
use lawbrain::triage::{self, router, router::Router, Directory, Service};

#[test]
fn triage_switches_to_the_embedding_router_and_keeps_its_training_embeddings() {
    let dir = Directory::builtin();
    let q = "公司拖欠我三个月工资，老板一直说没钱，我想把工资要回来";
    let ngram = triage::triage_in_year(q, &[], &dir, 2026);
    assert_eq!(triage::router_mode(), "ngrams");
    assert!(Router::warm_dense().is_none(), "no encoder given yet");

    let cache = tempfile::tempdir().expect("tempdir");
    let enc = common::encoder();
    assert!(triage::use_encoder(enc.clone(), Some(cache.path())));
    assert_eq!(
        triage::router_mode(),
        "ngrams",
        "nothing changes before the embedding router is trained"
    );
    assert_eq!(triage::triage_in_year(q, &[], &dir, 2026), ngram);

    let r = Router::warm_dense().expect("the embedding router trains");
    assert!(r.reads_embedding());
    assert_eq!(triage::router_mode(), "embedding");
    let dense = triage::triage_in_year(q, &[], &dir, 2026);
    assert_eq!(dense.primary_service, Service::Arbitration, "{dense:?}");
    assert_eq!(
        triage::triage_in_year(q, &[], &dir, 2026),
        dense,
        "deterministic"
    );

    // The training embeddings are kept in the cache, one per labelled case,
    // and match what the encoder gives the same text one at a time.
    let n =
        router::our_cases().expect("ours").len() + router::policy_cases().expect("theirs").len();
    let files: Vec<_> = std::fs::read_dir(cache.path().join("triage"))
        .expect("cache folder")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let bytes = std::fs::read(&files[0]).expect("read");
    assert_eq!(bytes.len(), n * 384 * 4);
    let first: Vec<f32> = bytes[..384 * 4]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let case = &router::our_cases().expect("ours")[0];
    let one = enc
        .embed_query(&triage::routed_text(&case.question))
        .expect("embed");
    assert!(dot(&first, &one) > 0.999, "cos {}", dot(&first, &one));
}
