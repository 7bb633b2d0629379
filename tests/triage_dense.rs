//! Triage with the router that reads the sentence embedding, as `serve`,
//! `ask`, `eval` and `lawbrain triage` run it once the encoder is set up.
//! A test binary of its own: switching the built-in router is process-wide.

mod common;

use lawbrain::embed::{dot, Kind};
use lawbrain::progress::NoProgress;
use lawbrain::triage::{self, router, router::Router, Directory, Options, Service};

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

    // Blind probe lists through the embedding router, with the learned
    // out-of-scope detector and without it (here: the router already
    // reads the embedding).
    for (file, floors) in PROBE_FLOORS {
        let with = probe_scores(r, &dir, file, true);
        let without = probe_scores(r, &dir, file, false);
        println!(
            "{file} (embedding router): out of scope {}/{} with the detector, {}/{} without; \
             negatives unflagged {}/{} and {}/{}; injection {}/{}",
            with[1].0,
            with[1].1,
            without[1].0,
            without[1].1,
            with[2].0,
            with[2].1,
            without[2].0,
            without[2].1,
            with[0].0,
            with[0].1
        );
        for (k, (got, floor)) in with.iter().zip(floors).enumerate() {
            assert!(
                got.0 >= floor,
                "{file}: class {k}: {}/{} < {floor}",
                got.0,
                got.1
            );
        }
        assert!(with[1].0 >= without[1].0, "{file}: the detector only adds");
    }
}

/// Probe lists and the floors (injection, out of scope, negatives left
/// alone) the embedding router must keep on them.
const PROBE_FLOORS: [(&str, [usize; 3]); 3] = [
    ("triage_probes_fresh3.tsv", [64, 35, 37]),
    ("triage_probes_fresh4.tsv", [54, 35, 40]),
    ("triage_probes_fresh5.tsv", [47, 45, 56]),
];

/// (found, of) per class: injection, out of scope, negatives unflagged.
fn probe_scores(r: &Router, dir: &Directory, file: &str, scope: bool) -> [(usize, usize); 3] {
    let opts = Options {
        scope_detector: scope,
        ..Options::default()
    };
    common::probe_scores(file, scope, |q| {
        triage::triage_with(r, &opts, q, &[], dir, 2026).review_reasons
    })
}
