//! The eval harness: metrics over labelled cases, HTML reports, run
//! comparison, and the LawBench runner.
//!
//! * [`cases`]: the labelled-case JSONL format.
//! * [`metrics`]: pure metric functions (hit@k, MRR, macro-F1, ...).
//! * [`keypoints`]: key-point coverage of an answer (meaning, not substrings).
//! * [`rouge`]: ROUGE-L over jieba tokens, as LawBench scores.
//! * [`run`]: running cases through the pipeline, resumable.
//! * [`results`]: the `metrics.json` record and metric aggregation.
//! * [`report`]: the self-contained HTML report and the report listing.
//! * [`compare`]: what got better and worse between two runs.
//! * [`lawbench`]: LawBench tasks 1-1, 3-2 and 3-8.

pub mod cases;
pub mod compare;
pub mod keypoints;
pub mod lawbench;
pub mod metrics;
pub mod quality;
pub mod report;
pub mod results;
pub mod retrieval_cv;
pub mod rouge;
pub mod run;

pub use cases::{load_cases, Case};
pub use report::{list_reports, write_report, ReportSummary};
pub use results::{aggregate, EvalRun};
pub use run::{run_cases, Pipeline};
