//! Triage with the router that reads the sentence embedding, as `serve`,
//! `ask`, `eval` and `lawbrain triage` run it once the encoder is set up.
//! A test binary of its own: switching the built-in router is process-wide.

mod common;

use lawbrain::embed::{dot, Kind};
use lawbrain::progress::NoProgress;
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

    // The training embeddings are kept in the cache's vector store (asking
    // it again embeds nothing), and match what the encoder gives the same
    // text one at a time.
    let texts: Vec<String> = router::our_cases()
        .expect("ours")
        .into_iter()
        .chain(router::policy_cases().expect("theirs"))
        .map(|c| triage::routed_text(&c.question))
        .collect();
    let (stored, embedded) = lawbrain::search::dense::embed_stored(
        &texts,
        Kind::Query,
        &enc,
        cache.path(),
        &mut NoProgress,
    )
    .expect("vector store");
    assert_eq!(embedded, 0, "the training embeddings were stored");
    assert_eq!(stored.len(), texts.len());
    let one = enc.embed_query(&texts[0]).expect("embed");
    assert!(
        dot(&stored[0], &one) > 0.999,
        "cos {}",
        dot(&stored[0], &one)
    );
}
