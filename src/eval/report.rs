//! The self-contained HTML report of an eval run (`DIR/index.html` beside
//! `DIR/metrics.json`) and the listing of report folders for the web `/eval`
//! page. Every piece of text from cases or model answers is HTML-escaped:
//! questions and answers are untrusted.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use super::keypoints;
use super::results::{
    AnswerMetrics, CaseResult, EvalRun, RetrievalMetrics, ReviewMetrics, RunMeta, TriageMetrics,
};
use crate::error::IoContext;
use crate::Result;

fn esc(s: &str) -> String {
    html_escape::encode_text(s).into_owned()
}

/// A vertical bar chart of values in 0..=`y_max` as an SVG string.
pub fn bar_chart(title: &str, labels: &[String], values: &[f64], y_max: f64) -> String {
    let mut svg = String::new();
    let n = labels.len().min(values.len());
    if n == 0 {
        return format!("<p class=\"empty\">{}: no data</p>", esc(title));
    }
    let width = (120 + 70 * n as u32).clamp(420, 1000);
    // The x labels stand on end below the axis: room for the longest.
    let label_px =
        |l: &String| -> u32 { l.chars().map(|c| if c.is_ascii() { 7 } else { 12 }).sum() };
    let x_area = (labels.iter().map(label_px).max().unwrap_or(0) + 16).clamp(40, 220);
    let drawn = (|| -> std::result::Result<(), String> {
        let root = SVGBackend::with_string(&mut svg, (width, 270 + x_area)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(x_area)
            .y_label_area_size(50)
            .build_cartesian_2d((0..n).into_segmented(), 0.0..y_max.max(1e-9))
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| match x {
                SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                    labels.get(*i).cloned().unwrap_or_default()
                }
                SegmentValue::Last => String::new(),
            })
            .x_label_style(
                ("sans-serif", 12)
                    .into_font()
                    .transform(FontTransform::Rotate90),
            )
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(
                Histogram::vertical(&chart)
                    .style(RGBColor(52, 101, 164).filled())
                    .margin(8)
                    .data((0..n).map(|i| (i, values[i]))),
            )
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())
    })();
    match drawn {
        // plotters centres rotated labels on their tick, so half of each
        // would stand above the axis, hidden: start them at the tick instead.
        Ok(()) => {
            static ROTATED: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
            ROTATED
                .get_or_init(|| {
                    regex::Regex::new(
                        r#"(<text[^>]*?)text-anchor="middle"([^>]*transform="rotate\(90,)"#,
                    )
                    .expect("valid label regex")
                })
                .replace_all(&svg, r#"${1}text-anchor="start"${2}"#)
                .into_owned()
        }
        Err(e) => format!(
            "<p class=\"empty\">{}: chart failed ({})</p>",
            esc(title),
            esc(&e)
        ),
    }
}

/// A histogram of a latency sample (ms) in ten equal bins.
pub fn latency_chart(title: &str, samples: &[f64]) -> String {
    let max = samples.iter().cloned().fold(0.0, f64::max);
    if samples.is_empty() || max <= 0.0 {
        return format!("<p class=\"empty\">{}: no data</p>", esc(title));
    }
    let bins = 10usize;
    let w = max / bins as f64;
    let mut counts = vec![0f64; bins];
    for s in samples {
        let i = ((s / w) as usize).min(bins - 1);
        counts[i] += 1.0;
    }
    let labels: Vec<String> = (0..bins)
        .map(|i| format!("≤{:.0}ms", w * (i + 1) as f64))
        .collect();
    let ymax = counts.iter().cloned().fold(0.0, f64::max);
    bar_chart(title, &labels, &counts, ymax * 1.1)
}

fn row(out: &mut String, name: &str, value: String) {
    let _ = writeln!(
        out,
        "<tr><th>{}</th><td>{}</td></tr>",
        esc(name),
        esc(&value)
    );
}

fn headline(run: &EvalRun) -> String {
    let mut t = String::from("<table class=\"headline\">");
    let RetrievalMetrics {
        hit_at_1,
        hit_at_5,
        hit_at_10,
        recall_at_10,
        mrr,
    } = &run.retrieval;
    let m = &run.meta.measured;
    let _ = write!(
        t,
        "<tr><th colspan=2>retrieval ({} cases with gold articles)</th></tr>",
        m.retrieval
    );
    for (k, v) in [
        ("hit_at_1", hit_at_1),
        ("hit_at_5", hit_at_5),
        ("hit_at_10", hit_at_10),
        ("recall_at_10", recall_at_10),
        ("mrr", mrr),
    ] {
        row(&mut t, k, format!("{v:.3}"));
    }
    let TriageMetrics {
        accuracy,
        macro_f1,
        services_recall,
        ..
    } = &run.triage;
    let _ = write!(
        t,
        "<tr><th colspan=2>triage ({} labelled cases)</th></tr>",
        m.triage
    );
    row(&mut t, "accuracy", format!("{accuracy:.3}"));
    row(&mut t, "macro_f1", format!("{macro_f1:.3}"));
    row(&mut t, "services_recall", format!("{services_recall:.3}"));
    let ReviewMetrics {
        precision, recall, ..
    } = &run.review;
    let _ = write!(
        t,
        "<tr><th colspan=2>review flag ({} labelled cases)</th></tr>",
        m.review
    );
    row(&mut t, "precision", format!("{precision:.3}"));
    row(&mut t, "recall", format!("{recall:.3}"));
    if let Some(AnswerMetrics {
        citation_validity,
        grounding,
        removed_citation_rate,
        key_point_coverage,
        fallback_rate,
        leak_rate,
    }) = &run.answer
    {
        let _ = write!(
            t,
            "<tr><th colspan=2>answers ({} answered)</th></tr>",
            m.answer
        );
        row(
            &mut t,
            "citation_validity",
            format!("{citation_validity:.3}"),
        );
        row(&mut t, "grounding", format!("{grounding:.3}"));
        row(
            &mut t,
            "removed_citation_rate",
            format!("{removed_citation_rate:.3}"),
        );
        row(
            &mut t,
            "key_point_coverage",
            format!("{key_point_coverage:.3}"),
        );
        row(&mut t, "fallback_rate", format!("{fallback_rate:.3}"));
        row(&mut t, "leak_rate", format!("{leak_rate:.3}"));
    }
    let l = &run.latency;
    t.push_str("<tr><th colspan=2>latency</th></tr>");
    row(
        &mut t,
        "retrieval_ms_p50",
        format!("{:.1}", l.retrieval_ms_p50),
    );
    row(
        &mut t,
        "retrieval_ms_p95",
        format!("{:.1}", l.retrieval_ms_p95),
    );
    row(&mut t, "ttft_ms_p50", format!("{:.1}", l.ttft_ms_p50));
    row(&mut t, "total_ms_p50", format!("{:.1}", l.total_ms_p50));
    row(&mut t, "tokens_per_s", format!("{:.2}", l.tokens_per_s));
    t.push_str("</table>");
    t
}

fn confusion_table(run: &EvalRun) -> String {
    let c = &run.triage.confusion;
    if c.is_empty() {
        return String::new();
    }
    let mut cols: Vec<&String> = c.values().flat_map(|r| r.keys()).collect();
    cols.sort();
    cols.dedup();
    let mut t = String::from("<table class=\"confusion\"><tr><th>gold \\ predicted</th>");
    for col in &cols {
        let _ = write!(t, "<th>{}</th>", esc(col));
    }
    t.push_str("</tr>");
    for (gold, preds) in c {
        let _ = write!(t, "<tr><th>{}</th>", esc(gold));
        for col in &cols {
            let n = preds.get(*col).copied().unwrap_or(0);
            let cls = if *col == gold { " class=\"diag\"" } else { "" };
            let _ = write!(
                t,
                "<td{cls}>{}</td>",
                if n > 0 { n.to_string() } else { String::new() }
            );
        }
        t.push_str("</tr>");
    }
    t.push_str("</table>");
    t
}

fn case_html(r: &CaseResult) -> String {
    let c = &r.case;
    let mut h = String::new();
    let short: String = c.question.chars().take(60).collect();
    let _ = write!(
        h,
        "<details><summary><span class=\"score\">{:.2}</span> <b>{}</b> {}</summary><div class=\"case\">",
        r.score(),
        esc(&c.id),
        esc(&short)
    );
    let _ = write!(h, "<p class=\"q\">{}</p>", esc(&c.question));
    if let Some(e) = &r.error {
        let _ = write!(h, "<p class=\"bad\">error: {}</p>", esc(e));
    }
    let ids =
        |v: &[crate::triage::Service]| v.iter().map(|s| s.id()).collect::<Vec<_>>().join(", ");
    let reasons =
        |v: &[crate::triage::ReviewReason]| v.iter().map(|s| s.id()).collect::<Vec<_>>().join(", ");
    h.push_str("<table><tr><th></th><th>gold</th><th>predicted</th></tr>");
    let p = r.predicted.as_ref();
    let _ = write!(
        h,
        "<tr><th>primary service</th><td>{}</td><td>{}</td></tr>",
        esc(c.primary_service.map(|s| s.id()).unwrap_or("—")),
        esc(p.map(|p| p.primary_service.id()).unwrap_or("—"))
    );
    let _ = write!(
        h,
        "<tr><th>services</th><td>{}</td><td>{}</td></tr>",
        esc(&ids(&c.services)),
        esc(&p.map(|p| ids(&p.services)).unwrap_or_default())
    );
    let _ = write!(
        h,
        "<tr><th>needs review</th><td>{}</td><td>{}</td></tr>",
        c.needs_review
            .map(|b| b.to_string())
            .unwrap_or_else(|| "—".into()),
        p.map(|p| p.needs_review.to_string())
            .unwrap_or_else(|| "—".into())
    );
    let _ = write!(
        h,
        "<tr><th>review reasons</th><td>{}</td><td>{}</td></tr></table>",
        esc(&reasons(&c.review_reasons)),
        esc(&p.map(|p| reasons(&p.review_reasons)).unwrap_or_default())
    );
    if !c.articles.is_empty() {
        let gold: Vec<String> = c
            .articles
            .iter()
            .map(|a| format!("{} 第{}条", a.law, a.article))
            .collect();
        let _ = write!(
            h,
            "<p><b>gold articles:</b> {} — first gold rank: {}</p>",
            esc(&gold.join("；")),
            r.first_gold_rank
                .map(|x| x.to_string())
                .unwrap_or_else(|| "not retrieved".into())
        );
    }
    if !r.retrieved.is_empty() {
        h.push_str("<ol class=\"hits\">");
        for a in &r.retrieved {
            let cls = if a.gold { " class=\"gold\"" } else { "" };
            let _ = write!(
                h,
                "<li{cls}>《{}》{} <small>{:.2}</small></li>",
                esc(&a.law),
                esc(&a.label),
                a.score
            );
        }
        h.push_str("</ol>");
    }
    if let Some(a) = &r.answer {
        let _ = write!(
            h,
            "<p><b>answer</b>{}:</p><pre class=\"answer\">{}</pre>",
            if a.fallback {
                " (extractive fallback)"
            } else {
                ""
            },
            esc(&a.text)
        );
        if a.leak {
            h.push_str("<p class=\"bad\">leaks prompt internals</p>");
        }
        let cites: Vec<String> = a
            .citations
            .iter()
            .map(|x| {
                format!(
                    "{} 第{}条 ({:?}{})",
                    x.law,
                    x.article,
                    x.status,
                    if x.in_context { ", in context" } else { "" }
                )
            })
            .chain(
                a.removed_citations
                    .iter()
                    .map(|x| format!("REMOVED {} 第{}条 ({:?})", x.law, x.article, x.status)),
            )
            .collect();
        if !cites.is_empty() {
            let _ = write!(h, "<p><b>citations:</b> {}</p>", esc(&cites.join("；")));
        }
        if !c.key_points.is_empty() {
            h.push_str("<ul class=\"kp\">");
            for (k, cov) in c.key_points.iter().zip(&a.key_points_covered) {
                let _ = write!(
                    h,
                    "<li class=\"{}\">{}</li>",
                    if *cov { "ok" } else { "bad" },
                    esc(k)
                );
            }
            h.push_str("</ul>");
        }
    }
    h.push_str("</div></details>\n");
    h
}

const STYLE: &str = "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}\
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}\
td.diag{background:#dfd}.bad{color:#a00}.ok{color:#070}li.gold{font-weight:bold;color:#070}\
pre.answer{white-space:pre-wrap;background:#f6f6f6;padding:.5em}summary{cursor:pointer}\
.score{display:inline-block;width:3em;font-family:monospace}.charts svg{max-width:100%;height:auto}";

/// The full HTML of a run's report.
pub fn render_html(run: &EvalRun) -> String {
    let RunMeta {
        cases_file,
        cases,
        llm,
        pipeline,
        started_at,
        finished_at,
        lawbrain_version,
        measured,
    } = &run.meta;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>lawbrain eval {}</title><style>{STYLE}</style></head><body>",
        esc(finished_at)
    );
    let _ = write!(
        h,
        "<h1>lawbrain eval</h1><p>cases file <code>{}</code>, {} cases ({} failed), pipeline <code>{}</code>, LLM: {}, lawbrain {}, {} → {}</p>",
        esc(cases_file),
        cases,
        measured.errors,
        esc(pipeline),
        if *llm { "yes" } else { "no" },
        esc(lawbrain_version),
        esc(started_at),
        esc(finished_at)
    );
    h.push_str("<h2>Headline</h2>");
    h.push_str(&headline(run));
    h.push_str("<h2>Charts</h2><div class=\"charts\">");
    let svc: Vec<String> = run.per_service.keys().cloned().collect();
    let svc_acc: Vec<f64> = run.per_service.values().map(|s| s.accuracy).collect();
    h.push_str(&bar_chart(
        "primary-service accuracy per gold service",
        &svc,
        &svc_acc,
        1.0,
    ));
    let reasons: Vec<String> = run.review.per_reason.keys().cloned().collect();
    let rec: Vec<f64> = run.review.per_reason.values().copied().collect();
    h.push_str(&bar_chart("review recall per reason", &reasons, &rec, 1.0));
    let ok = run.results.iter().filter(|r| r.error.is_none());
    let retr: Vec<f64> = ok.clone().map(|r| r.timings.retrieval_ms).collect();
    h.push_str(&latency_chart("retrieval latency (cases per bin)", &retr));
    let total: Vec<f64> = ok.map(|r| r.timings.total_ms).collect();
    h.push_str(&latency_chart(
        "total latency per case (cases per bin)",
        &total,
    ));
    h.push_str("</div><h2>Triage confusion</h2>");
    h.push_str(&confusion_table(run));
    if run.answer.is_some() {
        let _ = write!(
            h,
            "<h2>How key-point coverage is measured</h2><p>Each labelled key point is cut into jieba tokens; punctuation \
             and stop words (function words, modal verbs such as 可/可以/应当) are dropped. A remaining content token counts \
             as matched in an answer passage when the passage contains it (so word-boundary differences do not matter), \
             otherwise by the share of its character bigrams the passage contains. Passages are single sentences and \
             pairs of adjacent sentences. A key point is covered when its best passage matches at least {:.0}% of its \
             content tokens; a case's coverage is the share of its key points covered, and the metric is the mean over \
             cases with key points. Exact wording is not required; the same content words are.</p>",
            keypoints::THRESHOLD * 100.0
        );
    }
    h.push_str("<h2>Cases, worst first</h2>");
    let mut order: Vec<&CaseResult> = run.results.iter().collect();
    order.sort_by(|a, b| {
        a.score()
            .total_cmp(&b.score())
            .then_with(|| a.case.id.cmp(&b.case.id))
    });
    for r in order {
        h.push_str(&case_html(r));
    }
    h.push_str("</body></html>\n");
    h
}

fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, data).ctx(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).ctx(|| format!("renaming {}", tmp.display()))
}

/// Write `DIR/metrics.json` and `DIR/index.html`.
pub fn write_report(dir: &Path, run: &EvalRun) -> Result<()> {
    std::fs::create_dir_all(dir).ctx(|| format!("creating {}", dir.display()))?;
    write_atomic(&dir.join("metrics.json"), &serde_json::to_vec_pretty(run)?)?;
    write_atomic(&dir.join("index.html"), render_html(run).as_bytes())
}

/// One report folder, as the web `/eval` page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportSummary {
    /// Folder name.
    pub name: String,
    pub dir: PathBuf,
    pub finished_at: String,
    pub cases_file: String,
    pub cases: usize,
    pub llm: bool,
    pub hit_at_5: f64,
    pub mrr: f64,
    pub triage_accuracy: f64,
    pub review_recall: f64,
    pub key_point_coverage: Option<f64>,
}

#[derive(Deserialize)]
struct Headline {
    meta: RunMeta,
    retrieval: RetrievalMetrics,
    triage: TriageMetrics,
    review: ReviewMetrics,
    #[serde(default)]
    answer: Option<AnswerMetrics>,
}

/// Report folders under `dir` (each holding `metrics.json`), newest first.
/// Folders without a readable `metrics.json` are skipped.
pub fn list_reports(dir: &Path) -> Vec<ReportSummary> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<ReportSummary> = entries
        .flatten()
        .filter_map(|e| {
            let path = e.path();
            let text = std::fs::read_to_string(path.join("metrics.json")).ok()?;
            let h: Headline = match serde_json::from_str(&text) {
                Ok(h) => h,
                Err(err) => {
                    tracing::warn!(dir = %path.display(), "unreadable metrics.json: {err}");
                    return None;
                }
            };
            Some(ReportSummary {
                name: e.file_name().to_string_lossy().into_owned(),
                dir: path,
                finished_at: h.meta.finished_at,
                cases_file: h.meta.cases_file,
                cases: h.meta.cases,
                llm: h.meta.llm,
                hit_at_5: h.retrieval.hit_at_5,
                mrr: h.retrieval.mrr,
                triage_accuracy: h.triage.accuracy,
                review_recall: h.review.recall,
                key_point_coverage: h.answer.map(|a| a.key_point_coverage),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.finished_at
            .cmp(&a.finished_at)
            .then_with(|| a.name.cmp(&b.name))
    });
    out
}

#[cfg(test)]
mod chart_tests {
    use super::*;

    /// Labels on end start at their tick (plotters would centre them there,
    /// hiding their first half above the axis), and the chart is tall enough
    /// for the longest.
    #[test]
    fn rotated_labels_start_at_their_tick() {
        let labels = vec!["judicial_appraisal".to_string(), "notary".to_string()];
        let svg = bar_chart("t", &labels, &[0.5, 1.0], 1.0);
        let rotated: Vec<&str> = svg
            .split("<text")
            .filter(|t| t.contains("rotate(90,"))
            .collect();
        assert!(rotated.len() >= 2, "{svg}");
        assert!(rotated.iter().all(|t| t.contains("text-anchor=\"start\"")));
        assert!(svg.contains("height=\"412\""), "270 + 18 * 7 + 16");
    }
}
