//! The eval harness: metrics over labelled cases, HTML reports, run
//! comparison, and the LawBench runner.
