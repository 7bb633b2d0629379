//! Citations in a streamed answer are checked before anyone sees them
//! (issue 15 item 4), and answers are built as a citizen acts on them (issue
//! 14): a scripted model that invents a citation, over the real corpus and
//! index, through the pipeline, the SSE hall, the agent console and the
//! OpenAI endpoint.

mod common;
mod serverkit;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use lawbrain::answer::{stream_filter::REMOVED_MARKER, Brain, ConsultEvent};
use lawbrain::llm::{Backend, ChatMessage, GenParams, GenStats, Generation, StopReason};
use lawbrain::store::Store;
use lawbrain::triage::ReviewReason;
use serde_json::{json, Value};
use serverkit::{client, config, parse_sse, real_brain, start};

/// The question the script answers (retrieval finds the loan articles).
const QUESTION: &str =
    "朋友找我借了3万块钱，说好一年还，现在到期了一直拖着不还，我能起诉要回来吗？";
/// The invented citation: the Civil Code has 1260 articles.
const INVENTED: &str = "第九千九百条";

/// A model that writes a fixed text, two characters at a time (so every
/// citation arrives split across pieces), and counts its calls.
struct Scripted {
    text: String,
    calls: AtomicUsize,
    /// Characters handed out so far.
    sent: AtomicUsize,
}

impl Scripted {
    fn new(text: &str) -> Arc<Scripted> {
        Arc::new(Scripted {
            text: text.to_string(),
            calls: AtomicUsize::new(0),
            sent: AtomicUsize::new(0),
        })
    }
}

impl Backend for Scripted {
    fn name(&self) -> String {
        "scripted".into()
    }
    fn generate(
        &self,
        _: &[ChatMessage],
        _: &GenParams,
        on_text: &mut dyn FnMut(&str) -> bool,
    ) -> lawbrain::Result<Generation> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let chars: Vec<char> = self.text.chars().collect();
        let mut sent = String::new();
        for piece in chars.chunks(2) {
            let p: String = piece.iter().collect();
            sent.push_str(&p);
            self.sent.fetch_add(piece.len(), Ordering::SeqCst);
            if !on_text(&p) {
                return Ok(Generation {
                    text: sent,
                    stop: StopReason::Cancelled,
                    stats: GenStats::default(),
                });
            }
        }
        Ok(Generation {
            text: sent,
            stop: StopReason::Eos,
            stats: GenStats {
                prompt_tokens: 300,
                gen_tokens: chars.len(),
                ttft_ms: 1.0,
                ..GenStats::default()
            },
        })
    }
}

fn script() -> String {
    format!(
        "结论：可以。借款到期不还，您可以要求返还借款，协商不成可以起诉。\n依据：《中华人民共和国民法典》第六百七十五条规定借款人应当按照约定的期限返还借款；《中华人民共和国民法典》{INVENTED}也这样规定。\n建议：请立即去找律师。"
    )
}

fn brain(backend: Arc<Scripted>) -> Arc<Brain> {
    let base = real_brain();
    Arc::new(Brain {
        searcher: base.searcher.clone(),
        directory: base.directory.clone(),
        backend: Some(backend),
        params: GenParams::default(),
    })
}

#[test]
fn an_invented_citation_never_reaches_the_stream() {
    let model = Scripted::new(&script());
    let b = brain(model.clone());
    let mut deltas: Vec<String> = Vec::new();
    let a = b
        .consult(QUESTION, &[], &mut |ev| {
            if let ConsultEvent::Delta(d) = ev {
                deltas.push(d.to_string());
            }
            true
        })
        .expect("consult");
    println!("{}\n{:?}", a.answer, a.guide.gate);
    assert_eq!(
        model.calls.load(Ordering::SeqCst),
        1,
        "the gate let it draft"
    );
    assert!(!a.guide.abstained);
    let mut seen = String::new();
    for d in &deltas {
        seen.push_str(d);
        assert!(!seen.contains(INVENTED), "shown before the check: {seen}");
        assert!(!seen.contains("9900"));
    }
    // What streamed is exactly the answer that is stored.
    assert_eq!(seen, a.answer);
    assert!(a.answer.contains(REMOVED_MARKER), "{}", a.answer);
    assert!(a.answer.contains("《中华人民共和国民法典》第六百七十五条"));
    assert_eq!(a.removed_citations.len(), 1);
    assert_eq!(a.removed_citations[0].article, 9900);
    assert!(a.citations.iter().any(|c| c.article == 675));
    assert!(a
        .triage
        .review_reasons
        .contains(&ReviewReason::CitationRemoved));
    // The model's own 建议 is cut; the built one comes from the route.
    assert!(!a.answer.contains("请立即去找律师"), "{}", a.answer);
    assert!(a.answer.contains("\n建议：\n1. 办理途径："), "{}", a.answer);
    assert!(a.answer.contains("12348"));
    assert_eq!(
        a.guide.conclusion,
        "可以。借款到期不还，您可以要求返还借款，协商不成可以起诉。"
    );
    assert!(!a.guide.steps.is_empty());

    // The next steps are identical between runs.
    let again = b.consult(QUESTION, &[], &mut |_| true).expect("consult");
    assert_eq!(again.guide.steps, a.guide.steps);
    assert_eq!(again.answer, a.answer);
}

#[test]
fn unrelated_articles_make_the_answer_abstain_with_a_route_and_a_referral() {
    let model = Scripted::new(&script());
    let b = brain(model.clone());
    // Only off-subject articles as context, but through the gate (not as
    // an oracle): a foreign-judgment article for an annual-leave question.
    let q = "单位不让我休年假，也不给钱，怎么办";
    let corpus = b.searcher.corpus();
    let hit = |law: &str, n: u32| {
        let a = match corpus.lookup(law, n, 0) {
            lawbrain::corpus::Lookup::Current(a) => a,
            _ => panic!("{law} {n} is in the corpus"),
        };
        // As search results arrive (JSON): optional signals stay absent.
        let h: lawbrain::search::Hit = serde_json::from_value(json!({
            "law": a.law, "article": a.article, "suffix": 0,
            "article_label": a.article_label, "text": a.text, "score": 10.0,
            "level": a.level.as_str(), "status": a.status.as_str(),
        }))
        .expect("hit");
        h
    };
    let hits = vec![hit("中华人民共和国民事诉讼法", 300)];
    let triage = lawbrain::triage::triage(q, &hits, &b.directory);
    let report = lawbrain::answer::gate::assess(q, &hits, Some(&triage));
    assert!(report.abstain, "{report:?}");
    // And through the pipeline, on the real retrieval for a question no
    // statute addresses: no draft, the route and the referral, flagged.
    let a = b
        .consult("量子纠缠能不能用来预测彩票号码？", &[], &mut |_| true)
        .expect("consult");
    println!("{}\n{:?}", a.answer, a.guide.gate);
    assert!(a.guide.abstained, "{:?}", a.guide.gate);
    assert_eq!(
        model.calls.load(Ordering::SeqCst),
        0,
        "no draft when abstaining"
    );
    assert!(a.citations.is_empty());
    assert!(a.answer.contains("没有找到"));
    assert!(a.answer.contains("建议："));
    assert!(a.answer.contains(a.triage.primary_service.name_zh()));
    assert!(a.answer.contains("12348"));
    assert!(a.triage.needs_review);
    assert!(a
        .triage
        .review_reasons
        .contains(&ReviewReason::LowConfidence));
}

/// A drafted conclusion that denies the asker something is never shown: the
/// asker gets the articles quoted, the next steps and a review; staff get
/// the draft's conclusion. A "yes" draft streams as written.
#[test]
fn a_conclusion_that_denies_is_held_for_review() {
    use lawbrain::answer::{hold, ConsultOptions};
    let q = "超市保安怀疑我偷东西，当众搜我的身，我能要求超市赔偿吗？";
    let no = "结论：您不能要求超市赔偿，这种检查是超市的正常管理。\n\n依据：《中华人民共和国民法典》第一千一百六十五条规定，行为人因过错侵害他人民事权益造成损害的，应当承担侵权责任。";
    let backend = Scripted::new(no);
    let mut shown = String::new();
    let a = brain(backend.clone())
        .consult(q, &[], &mut |ev| {
            if let ConsultEvent::Delta(d) = ev {
                shown.push_str(d);
            }
            true
        })
        .expect("consult");
    assert!(a.guide.held, "{}", a.answer);
    assert!(!shown.contains("不能要求超市赔偿"), "{shown}");
    assert!(!a.answer.contains("不能要求超市赔偿"), "{}", a.answer);
    assert_eq!(shown, a.answer, "what streamed is what is stored");
    assert!(
        a.answer
            .starts_with(&format!("结论：{}", hold::HELD_CONCLUSION)),
        "{}",
        a.answer
    );
    assert!(a.answer.contains("建议"), "the next steps are kept");
    assert!(a.triage.needs_review);
    assert!(a.triage.review_reasons.contains(&ReviewReason::DenialHeld));
    assert!(!a.fallback, "holding is not a model failure");
    let passed = a.guide.gate.passed();
    assert!(!passed.is_empty());
    let first = &a.retrieved[passed[0]];
    assert!(a.answer.contains(&first.law), "the articles are quoted");
    assert_eq!(a.citations.len(), passed.len().min(3));
    assert!(a
        .guide
        .held_conclusion
        .as_deref()
        .is_some_and(|c| c.contains("不能要求超市赔偿")));
    let sent = backend.sent.load(Ordering::SeqCst);
    assert!(
        sent < no.chars().count(),
        "drafting stops once the conclusion is held ({sent} of {})",
        no.chars().count()
    );
    let json = serde_json::to_string(&a).expect("json");
    assert!(
        !json.contains("不能要求超市赔偿"),
        "the held conclusion is not sent in the answer's JSON"
    );

    // The same draft with the hold off is shown as written.
    let opts = ConsultOptions {
        hold_denials: false,
        ..ConsultOptions::default()
    };
    let a = brain(Scripted::new(no))
        .consult_with(q, &[], &opts, &mut |_| true)
        .expect("consult");
    assert!(!a.guide.held);
    assert!(a.answer.contains("不能要求超市赔偿"), "{}", a.answer);

    // A "yes" draft is not held.
    let yes = "结论：您可以要求超市赔偿，超市无权搜查顾客身体。\n\n依据：《中华人民共和国民法典》第一千零一十一条规定，非法搜查他人身体的，受害人有权依法请求行为人承担民事责任。";
    let mut shown = String::new();
    let a = brain(Scripted::new(yes))
        .consult(q, &[], &mut |ev| {
            if let ConsultEvent::Delta(d) = ev {
                shown.push_str(d);
            }
            true
        })
        .expect("consult");
    assert!(!a.guide.held, "{}", a.answer);
    assert!(!a.triage.review_reasons.contains(&ReviewReason::DenialHeld));
    assert!(
        a.answer.starts_with("结论：您可以要求超市赔偿"),
        "{}",
        a.answer
    );
    assert_eq!(shown, a.answer);
}

fn store() -> Arc<Store> {
    Arc::new(Store::open_in_memory().expect("store"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hall_console_and_openai_never_show_the_invented_citation() {
    let s = start(brain(Scripted::new(&script())), store(), config()).await;
    let c = client();

    // The hall's SSE stream.
    let body = c
        .post(format!("{}/api/consult", s.url))
        .header("accept", "text/event-stream")
        .json(&json!({ "question": QUESTION }))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("body");
    let evs = parse_sse(&body);
    let streamed: String = evs
        .iter()
        .filter(|(n, _)| n == "delta")
        .map(|(_, d)| d["text"].as_str().unwrap_or("").to_string())
        .collect();
    let done = &evs.iter().find(|(n, _)| n == "done").expect("done").1;
    assert!(!body.contains(INVENTED), "{body}");
    assert_eq!(streamed, done["answer"].as_str().expect("answer"));
    assert!(streamed.contains(REMOVED_MARKER));
    assert!(done["guide"]["steps"]
        .as_array()
        .is_some_and(|s| !s.is_empty()));

    // The OpenAI endpoint, streaming: the transcript a client keeps.
    let body = c
        .post(format!("{}/v1/chat/completions", s.url))
        .json(&json!({"stream": true, "messages": [{"role": "user", "content": QUESTION}]}))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("body");
    let transcript: String = parse_sse(&body)
        .iter()
        .filter_map(|(_, d)| {
            d["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    assert!(!body.contains(INVENTED), "{body}");
    assert!(transcript.contains(REMOVED_MARKER), "{transcript}");
    assert!(
        !transcript.contains("核验后的答复"),
        "sent once, already checked"
    );

    // Not streaming.
    let v: Value = c
        .post(format!("{}/v1/chat/completions", s.url))
        .json(&json!({"messages": [{"role": "user", "content": QUESTION}]}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let content = v["choices"][0]["message"]["content"]
        .as_str()
        .expect("content");
    assert!(!content.contains(INVENTED), "{content}");
    assert!(content.contains(REMOVED_MARKER));
}
