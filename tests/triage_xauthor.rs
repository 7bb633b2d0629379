//! The cross-author triage test, as shipped: the router reads the sentence
//! embedding. A test binary of its own because giving triage the encoder is
//! process-wide.

mod common;

/// Train on our own batches, test on the other author's 240 cases
/// (`shared/triage/train.jsonl`), and the reverse; print both for every
/// variant, with 5-fold cross-validation inside each author (the figure the
/// shipped variant was chosen by). `LAWBRAIN_XAUTHOR_CV=0` skips the folds.
#[test]
fn cross_author_report() {
    use lawbrain::triage::xauthor;
    // As shipped: the router reads the sentence embedding.
    lawbrain::triage::use_encoder(common::encoder(), None);
    let theirs_path = common::repo().join("../shared/triage/train.jsonl");
    let cv = std::env::var("LAWBRAIN_XAUTHOR_CV").map_or(true, |v| v != "0");
    let theirs_file = theirs_path.exists().then_some(theirs_path.as_path());
    let report = xauthor::report_files(theirs_file, cv).expect("report");
    println!("{report}");
    // The shipped variant both ways: the acceptance floors.
    let mut ours = xauthor::Set::new(
        "ours",
        lawbrain::triage::router::our_cases().expect("our cases"),
    );
    ours.use_recorded_rule_scores(&lawbrain::triage::router::recorded_rule_scores());
    let theirs = xauthor::Set::new(
        "theirs",
        lawbrain::triage::router::policy_cases().expect("policy cases"),
    );
    let shipped = xauthor::variants()[0];
    let o2t = xauthor::cross(&ours, &theirs, &shipped);
    let t2o = xauthor::cross(&theirs, &ours, &shipped);
    println!("shipped ours->theirs: {}", o2t.line());
    println!("shipped theirs->ours: {}", t2o.line());
    // Floors: the measured figures (0.642 / 0.933 / 0.649 and 0.661 / 1.000
    // / 0.480) less a margin. Review recall was 0.829 while the learned
    // router could flag injection too; it flagged 12 of the first 150 real
    // STARD questions (and plain wage questions), so injection is left to
    // the hard rules. The targets (0.75 accuracy, 0.92 recall at
    // 0.70 precision) are not reached.
    assert!(o2t.primary_accuracy >= 0.60, "{}", o2t.line());
    assert!(o2t.review_recall >= 0.88, "{}", o2t.line());
    assert!(o2t.review_precision >= 0.60, "{}", o2t.line());
    assert!(t2o.primary_accuracy >= 0.62, "{}", t2o.line());
    // (Not held out: the hand-written review reasons were tuned on ours.)
    assert!(t2o.review_recall >= 0.95, "{}", t2o.line());
    // Better than the pipeline before the router on the review flag.
    let legacy = xauthor::legacy(&theirs);
    println!("legacy ours->theirs: {}", legacy.line());
    assert!(o2t.review_recall > legacy.review_recall + 0.2);
}
