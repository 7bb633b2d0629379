//! API tests against the service on port 0: SSE event order, the OpenAI
//! shape, limits and errors, queueing, login and CSRF, redaction, escaping
//! and crash consistency of the store.

mod common;
mod serverkit;

use std::io::BufRead;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use lawbrain::server::ServerConfig;
use lawbrain::store::{Role, Store};
use serde_json::{json, Value};
use serverkit::{client, config, csrf_of, get_html, parse_sse, real_brain, start, Fake};

/// In memory, or on PostgreSQL with `LAWBRAIN_TEST_DATABASE` ([`common::test_store`]).
fn store() -> Arc<Store> {
    common::test_store()
}

async fn sse_consult(url: &str, body: Value) -> (reqwest::StatusCode, Vec<(String, Value)>) {
    let r = client()
        .post(format!("{url}/api/consult"))
        .header("accept", "text/event-stream")
        .json(&body)
        .send()
        .await
        .expect("send");
    let status = r.status();
    let text = r.text().await.expect("body");
    (status, parse_sse(&text))
}

#[tokio::test]
async fn sse_events_arrive_in_order_and_the_answer_is_stored() {
    let st = store();
    let s = start(real_brain(), st.clone(), config()).await;
    let (status, events) = sse_consult(
        &s.url,
        json!({"question": "老板拖欠工资不发，公司还要解除劳动合同怎么办"}),
    )
    .await;
    assert_eq!(status, 200);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(&names[..2], ["triage", "hits"], "{names:?}");
    let first_delta = names.iter().position(|n| *n == "delta").expect("deltas");
    let cites = names
        .iter()
        .position(|n| *n == "citations")
        .expect("citations");
    assert!(
        names[first_delta..cites].iter().all(|n| *n == "delta"),
        "{names:?}"
    );
    assert_eq!(&names[cites..], ["citations", "done"]);
    let hits = events[1].1.as_array().expect("hits array");
    assert!(!hits.is_empty(), "hits for a wage question");
    assert!(
        hits.iter().any(|h| h["law"] == "中华人民共和国劳动合同法"),
        "{hits:?}"
    );
    let services = events[0].1["services"].as_array().expect("services");
    assert!(
        services.iter().any(|x| x == "arbitration"),
        "wage arrears go to labour arbitration: {services:?}"
    );
    let streamed: String = events
        .iter()
        .filter(|(n, _)| n == "delta")
        .map(|(_, d)| d["text"].as_str().expect("text").to_string())
        .collect();
    let done = &events.last().expect("done").1;
    assert_eq!(done["answer"].as_str(), Some(streamed.as_str()));
    let answer_id = done["answer_id"].as_i64().expect("stored");
    let rec = st.answer(answer_id).expect("read").expect("answer stored");
    assert_eq!(rec.answer, streamed);
    assert_eq!(
        rec.conversation_id,
        done["conversation_id"].as_str().expect("conv")
    );
    let cites = events[cites].1["citations"].as_array().expect("citations");
    assert!(!cites.is_empty());
    assert!(cites.iter().all(|c| c["status"] == "valid"), "{cites:?}");
    // Every cited article opens.
    for c in cites {
        let url = format!(
            "{}/api/articles/{}/{}",
            s.url,
            c["law"].as_str().expect("law"),
            c["article"]
        );
        let a: Value = client()
            .get(url)
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        assert!(a["text"].as_str().is_some_and(|t| !t.is_empty()), "{a}");
    }
}

#[tokio::test]
async fn json_consult_keeps_the_conversation_across_turns() {
    let fake = Fake::new(Duration::ZERO);
    let st = store();
    let s = start(fake.clone(), st.clone(), config()).await;
    let c = client();
    let first: Value = c
        .post(format!("{}/api/consult", s.url))
        .json(&json!({"question": "我想离婚，对方不同意"}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let conv = first["conversation_id"]
        .as_str()
        .expect("conversation")
        .to_string();
    assert!(
        first["answer"].as_str().expect("answer").contains("民法典"),
        "{first}"
    );
    let second = c
        .post(format!("{}/api/consult", s.url))
        .json(&json!({"question": "那孩子归谁？", "conversation_id": conv}))
        .send()
        .await
        .expect("send");
    assert_eq!(second.status(), 200);
    let history = fake.last_history.lock().expect("lock").clone();
    assert_eq!(
        history.len(),
        2,
        "the first turn is the history of the second"
    );
    assert_eq!(history[0].content, "我想离婚，对方不同意");
    assert_eq!(history[1].role, "assistant");
    let unknown = c
        .post(format!("{}/api/consult", s.url))
        .json(&json!({"question": "还有问题", "conversation_id": "nope"}))
        .send()
        .await
        .expect("send");
    assert_eq!(unknown.status(), 404);
    assert_eq!(st.history(&conv).expect("history").len(), 4);
}

#[tokio::test]
async fn openai_shape_stream_and_non_stream() {
    let s = start(real_brain(), store(), config()).await;
    let c = client();
    let body = json!({"model": "lawbrain", "messages": [
        {"role": "system", "content": "你是法律助手"},
        {"role": "user", "content": "被公司辞退了，能拿经济补偿吗"}]});
    let r: Value = c
        .post(format!("{}/v1/chat/completions", s.url))
        .json(&body)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(r["object"], "chat.completion");
    assert_eq!(r["choices"][0]["message"]["role"], "assistant");
    assert_eq!(r["choices"][0]["finish_reason"], "stop");
    let content = r["choices"][0]["message"]["content"]
        .as_str()
        .expect("content");
    assert!(content.contains("劳动合同法"), "{content}");
    assert!(r["usage"]["total_tokens"].is_number());
    let mut stream_body = body.clone();
    stream_body["stream"] = json!(true);
    let text = c
        .post(format!("{}/v1/chat/completions", s.url))
        .json(&stream_body)
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    let events = parse_sse(&text);
    assert_eq!(
        events.last().map(|e| &e.1),
        Some(&Value::String("[DONE]".into()))
    );
    let chunks: Vec<&Value> = events
        .iter()
        .map(|e| &e.1)
        .filter(|v| v.is_object())
        .collect();
    assert!(chunks
        .iter()
        .all(|c| c["object"] == "chat.completion.chunk"));
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let joined: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(
        joined, content,
        "streamed text equals the non-streamed answer"
    );
    assert_eq!(
        chunks.last().expect("last")["choices"][0]["finish_reason"],
        "stop"
    );
    let bad = c
        .post(format!("{}/v1/chat/completions", s.url))
        .json(&json!({"messages": [{"role": "assistant", "content": "hi"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(bad.status(), 400);
}

/// The real `openai` Python client against the endpoint. Needs python3 with
/// `venv`; installs the client into a venv under the system temp dir once.
#[tokio::test]
async fn openai_python_client_works() {
    let venv = std::env::var_os("LAWBRAIN_OPENAI_VENV")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("lawbrain-openai-venv"));
    let py = venv.join("bin").join("python");
    let has_client = py.exists()
        && std::process::Command::new(&py)
            .args(["-c", "import openai"])
            .status()
            .is_ok_and(|s| s.success());
    if !has_client {
        let ok = std::process::Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "python3 -m venv failed");
        let ok = std::process::Command::new(venv.join("bin").join("pip"))
            .args(["install", "-q", "openai"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "pip install openai failed");
    }
    let s = start(real_brain(), store(), config()).await;
    let script = r#"
import json, sys, openai
c = openai.OpenAI(base_url=sys.argv[1] + "/v1", api_key="none")
r = c.chat.completions.create(model="lawbrain", messages=[{"role": "user", "content": "公司拖欠工资怎么办"}])
print("FULL", json.dumps(r.choices[0].message.content))
parts = []
for ch in c.chat.completions.create(model="lawbrain", stream=True, messages=[{"role": "user", "content": "公司拖欠工资怎么办"}]):
    if ch.choices and ch.choices[0].delta.content:
        parts.append(ch.choices[0].delta.content)
print("STREAM", json.dumps("".join(parts)))
"#;
    let url = s.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(py)
            .arg("-c")
            .arg(script)
            .arg(url)
            .output()
            .expect("run python")
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = |p: &str| -> String {
        let l = stdout
            .lines()
            .find_map(|l| l.strip_prefix(p))
            .expect("output line");
        serde_json::from_str(l).expect("JSON string")
    };
    let (full, streamed) = (line("FULL "), line("STREAM "));
    assert!(
        full.contains('《') && full.chars().count() > 20,
        "a grounded answer: {full}"
    );
    assert_eq!(full, streamed);
}

#[tokio::test]
async fn limits_and_errors_have_clear_messages() {
    let fake = Fake::new(Duration::ZERO);
    let cfg = ServerConfig {
        max_body_bytes: 4096,
        max_question_chars: 100,
        ..config()
    };
    let st = store();
    let s = start(fake, st.clone(), cfg).await;
    let c = client();
    let post = |body: String, ct: &'static str| {
        c.post(format!("{}/api/consult", s.url))
            .header("content-type", ct)
            .body(body)
            .send()
    };
    let check = |r: reqwest::Response, status: u16| async move {
        assert_eq!(r.status().as_u16(), status);
        let v: Value = r.json().await.expect("JSON error body");
        let msg = v["error"].as_str().expect("error message").to_string();
        assert!(!msg.is_empty());
        msg
    };
    let m = check(
        post("{\"question\": ".into(), "application/json")
            .await
            .expect("send"),
        400,
    )
    .await;
    assert!(m.contains("JSON"), "{m}");
    check(
        post("{\"q\": 1}".into(), "application/json")
            .await
            .expect("send"),
        400,
    )
    .await;
    check(
        post("{\"question\": \"  \"}".into(), "application/json")
            .await
            .expect("send"),
        400,
    )
    .await;
    check(
        post("question=x".into(), "text/plain").await.expect("send"),
        415,
    )
    .await;
    let long = json!({"question": "工".repeat(101)}).to_string();
    let m = check(post(long, "application/json").await.expect("send"), 413).await;
    assert!(m.contains("100"), "{m}");
    let huge = json!({"question": "x".repeat(10_000)}).to_string();
    check(post(huge, "application/json").await.expect("send"), 413).await;
    let r = c
        .get(format!("{}/api/articles/民法典/abc", s.url))
        .send()
        .await
        .expect("send");
    check(r, 400).await;
    let r = c
        .get(format!(
            "{}/api/articles/中华人民共和国民法典/第一千零七十九条",
            s.url
        ))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let a: Value = r.json().await.expect("json");
    assert!(a["text"].as_str().expect("text").contains("离婚"));
    let r = c
        .get(format!("{}/api/articles/民法典/99999", s.url))
        .send()
        .await
        .expect("send");
    check(r, 404).await;
    let r = c.get(format!("{}/nope", s.url)).send().await.expect("send");
    check(r, 404).await;
    let r = c
        .post(format!("{}/api/feedback", s.url))
        .json(&json!({"answer_id": 12345, "helpful": false}))
        .send()
        .await
        .expect("send");
    check(r, 404).await;
    assert_eq!(
        st.count_answers().expect("count"),
        0,
        "nothing stored by bad requests"
    );
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let fake = Fake::new(Duration::ZERO);
    let cfg = ServerConfig {
        rate_per_minute: 6,
        rate_burst: 3,
        ..config()
    };
    let s = start(fake, store(), cfg).await;
    let c = client();
    for _ in 0..3 {
        let r = c
            .get(format!("{}/api/search?q=工资", s.url))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200);
    }
    let r = c
        .get(format!("{}/api/search?q=工资", s.url))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("secs");
    assert!((1..=10).contains(&wait), "{wait}");
    let v: Value = r.json().await.expect("json");
    assert!(v["error"].as_str().expect("msg").contains("频繁"));
    // Pages and health are not rate limited.
    assert_eq!(
        c.get(format!("{}/healthz", s.url))
            .send()
            .await
            .expect("send")
            .status(),
        200
    );
    let m = c
        .get(format!("{}/metrics", s.url))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    assert!(m.contains("lawbrain_rate_limited_total 1"), "{m}");
    assert!(
        m.contains(
            "lawbrain_http_requests_total{method=\"GET\",route=\"/api/search\",status=\"200\"} 3"
        ),
        "{m}"
    );
    assert!(m.contains("lawbrain_queue_depth 0"));
}

#[tokio::test]
async fn full_queue_refuses_with_retry_after_while_search_still_answers() {
    let fake = Fake::new(Duration::from_millis(150));
    let cfg = ServerConfig {
        generators: 1,
        queue: 1,
        retry_after_secs: 7,
        ..config()
    };
    let st = store();
    let s = start(fake.clone(), st.clone(), cfg).await;
    let url = s.url.clone();
    let first = tokio::spawn(sse_consult_owned(url.clone(), "公司拖欠工资"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let second = tokio::spawn(sse_consult_owned(url.clone(), "离婚孩子抚养"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r = client()
        .post(format!("{url}/api/consult"))
        .json(&json!({"question": "合同违约怎么赔偿"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "7");
    let v: Value = r.json().await.expect("json");
    assert!(v["error"].as_str().expect("msg").contains("排队"));
    assert!(
        v["triage"]["primary_service"].is_string(),
        "triage still answers: {v}"
    );
    assert!(
        v["hits"].as_array().is_some_and(|h| !h.is_empty()),
        "articles still answer: {v}"
    );
    let r = client()
        .get(format!("{url}/api/search?q=违约"))
        .send()
        .await
        .expect("send");
    assert_eq!(
        r.status(),
        200,
        "search answers while generation is saturated"
    );
    let h: Value = client()
        .get(format!("{url}/healthz"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(h["queue_depth"], 1);
    assert_eq!(h["generations_running"], 1);
    let (s1, e1) = first.await.expect("first");
    let (s2, e2) = second.await.expect("second");
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(e1.last().map(|e| e.0.as_str()), Some("done"));
    assert!(
        e2.iter().any(|(n, d)| n == "queue" && d["position"] == 1),
        "the waiting citizen sees a queue position: {:?}",
        e2.iter().map(|e| &e.0).collect::<Vec<_>>()
    );
    assert_eq!(e2.last().map(|e| e.0.as_str()), Some("done"));
    assert_eq!(st.count_answers().expect("count"), 2);
}

async fn sse_consult_owned(url: String, q: &'static str) -> (u16, Vec<(String, Value)>) {
    let (s, e) = sse_consult(&url, json!({ "question": q })).await;
    (s.as_u16(), e)
}

#[tokio::test]
async fn a_client_that_leaves_cancels_generation_and_nothing_is_stored() {
    let fake = Fake::new(Duration::from_millis(100));
    let st = store();
    let s = start(fake.clone(), st.clone(), config()).await;
    let mut r = client()
        .post(format!("{}/api/consult", s.url))
        .header("accept", "text/event-stream")
        .json(&json!({"question": "公司拖欠工资，要解除劳动合同"}))
        .send()
        .await
        .expect("send");
    let mut seen = String::new();
    while !seen.contains("event: delta") {
        let chunk = r.chunk().await.expect("chunk").expect("more");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    drop(r);
    for _ in 0..50 {
        if fake.cancelled.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        fake.cancelled.load(Ordering::SeqCst),
        "generation was cancelled"
    );
    assert_eq!(st.count_answers().expect("count"), 0);
    assert_eq!(s.state.queue.running(), 0, "the generator is free again");
}

#[tokio::test]
async fn personal_numbers_are_redacted_before_storing() {
    let st = store();
    let s = start(real_brain(), st.clone(), config()).await;
    let q = "我叫张三，身份证42070419900307123X，电话13812345678，工资卡6222021234567890123被公司扣了工资";
    let v: Value = client()
        .post(format!("{}/api/consult", s.url))
        .json(&json!({ "question": q }))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let id = v["answer_id"].as_i64().expect("id");
    let rec = st.answer(id).expect("read").expect("stored");
    for secret in ["42070419900307123X", "13812345678", "6222021234567890123"] {
        assert!(!rec.question.contains(secret), "{}", rec.question);
    }
    assert!(rec.question.contains("身份证号已隐去") && rec.question.contains("电话已隐去"));
    let history = st.history(&rec.conversation_id).expect("history");
    assert!(history.iter().all(|m| !m.content.contains("13812345678")));
    client()
        .post(format!("{}/api/feedback", s.url))
        .json(&json!({"answer_id": id, "answer_token": v["answer_token"], "helpful": false, "comment": "请回电 13912345678"}))
        .send()
        .await
        .expect("send");
    let items = st
        .reviews("pending", Some("negative_feedback"), 10)
        .expect("reviews");
    assert_eq!(items.len(), 1);
    assert!(!items[0].note.contains("13912345678"), "{}", items[0].note);
}

/// Log in through the form; returns the session cookie value.
async fn login(url: &str, name: &str, password: &str) -> reqwest::Response {
    serverkit::post_login(url, name, password, "").await
}

fn session_cookie(r: &reqwest::Response) -> String {
    let c = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("lb_session="))
        .expect("session cookie")
        .to_string();
    assert!(
        c.contains("HttpOnly") && c.contains("SameSite=Strict"),
        "{c}"
    );
    c.split(';').next().expect("kv").to_string()
}

/// POST a form with a session cookie.
async fn post_form(
    c: &reqwest::Client,
    url: String,
    cookie: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    c.post(url)
        .header("cookie", cookie)
        .form(form)
        .send()
        .await
        .expect("send")
}

#[tokio::test]
async fn staff_pages_need_login_and_forms_need_csrf() {
    let fake = Fake::new(Duration::ZERO);
    let st = store();
    st.add_user("wang", Role::Agent, "agent-pass-1")
        .expect("agent");
    st.add_user("li", Role::Staff, "staff-pass-1")
        .expect("staff");
    let s = start(fake.clone(), st.clone(), config()).await;
    let c = client();
    for p in ["/agent", "/review", "/eval", "/review/export.jsonl"] {
        let r = c.get(format!("{}{p}", s.url)).send().await.expect("send");
        assert_eq!(r.status(), 303, "{p}");
        assert_eq!(r.headers()["location"], format!("/login?next={p}"));
    }
    // Login CSRF: a form without the matching cookie is refused.
    let r = c
        .post(format!("{}/login", s.url))
        .form(&[
            ("name", "li"),
            ("password", "staff-pass-1"),
            ("csrf", "forged"),
        ])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 403);
    assert_eq!(login(&s.url, "li", "wrong-password").await.status(), 401);
    let agent = login(&s.url, "wang", "agent-pass-1").await;
    assert_eq!(agent.status(), 303);
    assert_eq!(agent.headers()["location"], "/agent");
    let agent_cookie = session_cookie(&agent);
    let r = c
        .get(format!("{}/review", s.url))
        .header("cookie", &agent_cookie)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 403, "agents cannot open the review queue");
    // The agent drafts an answer for a caller; the answer contains markup that must be escaped.
    *fake.extra.lock().expect("lock") = "<script>alert(1)</script>".into();
    let page = c
        .get(format!("{}/agent", s.url))
        .header("cookie", &agent_cookie)
        .send()
        .await
        .expect("send");
    let csrf = csrf_of(&page.text().await.expect("html"));
    let r = post_form(
        &c,
        format!("{}/agent/ask", s.url),
        &agent_cookie,
        &[("question", "他动手打了我，我能告他吗"), ("csrf", "bad")],
    )
    .await;
    assert_eq!(r.status(), 403, "CSRF token required");
    let r = post_form(
        &c,
        format!("{}/agent/ask", s.url),
        &agent_cookie,
        &[
            ("question", "他动手打了我，我能告他吗"),
            ("csrf", csrf.as_str()),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let call = r.headers()["location"].to_str().expect("loc").to_string();
    let html = get_html(&c, format!("{}{call}", s.url), &agent_cookie).await;
    assert!(
        !html.contains("<script>alert(1)</script>"),
        "model output is escaped"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("刑事"), "the triage flag shows");
    let r = post_form(
        &c,
        format!("{}{call}", s.url),
        &agent_cookie,
        &[
            ("reply", "请尽快报警并保留证据"),
            ("action", "escalate"),
            ("csrf", csrf.as_str()),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    // Staff reviews it.
    let staff = login(&s.url, "li", "staff-pass-1").await;
    let staff_cookie = session_cookie(&staff);
    let html = get_html(
        &c,
        format!("{}/review?reason=escalated", s.url),
        &staff_cookie,
    )
    .await;
    assert!(
        html.contains("他动手打了我"),
        "escalated call is in the queue"
    );
    let item = st
        .reviews("pending", Some("escalated"), 10)
        .expect("reviews");
    assert_eq!(item.len(), 1);
    assert!(item[0].reasons.contains(&"criminal".to_string()));
    let id = item[0].id;
    let staff_csrf = csrf_of(&html);
    let r = post_form(
        &c,
        format!("{}/review/{id}", s.url),
        &staff_cookie,
        &[
            ("action", "approve"),
            ("answer", "x"),
            ("csrf", csrf.as_str()),
        ],
    )
    .await;
    assert_eq!(r.status(), 403, "another session's CSRF token is refused");
    let r = post_form(
        &c,
        format!("{}/review/{id}", s.url),
        &staff_cookie,
        &[
            ("action", "approve"),
            ("answer", "可向公安机关报案，并申请法律援助。"),
            ("csrf", staff_csrf.as_str()),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let export = c
        .get(format!("{}/review/export.jsonl", s.url))
        .header("cookie", &staff_cookie)
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("jsonl");
    let cases: Vec<Value> = export
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(cases.len(), 1);
    let case = &cases[0];
    assert_eq!(case["question"], "他动手打了我，我能告他吗");
    assert_eq!(case["answer"], "可向公安机关报案，并申请法律援助。");
    for key in [
        "id",
        "primary_service",
        "services",
        "articles",
        "needs_review",
        "review_reasons",
        "key_points",
    ] {
        assert!(case.get(key).is_some(), "eval case has {key}: {case}");
    }
    assert_eq!(case["review_reasons"], json!(["criminal"]));
    let log = st.audit_log(20).expect("audit");
    assert!(
        log.iter()
            .any(|(u, a, _, _, _)| u == "li" && a == "review.edit_approve"),
        "{log:?}"
    );
    assert!(
        log.iter()
            .any(|(u, a, _, _, _)| u == "wang" && a == "call.escalated"),
        "{log:?}"
    );
}

#[tokio::test]
async fn pages_have_a_strict_csp_and_handoff_creates_a_review_item() {
    let st = store();
    let s = start(real_brain(), st.clone(), config()).await;
    let c = client();
    let r = c.get(format!("{}/", s.url)).send().await.expect("send");
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_string();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let html = r.text().await.expect("html");
    assert!(html.contains("网上法律服务大厅") && html.contains("不构成法律意见"));
    assert!(!html.contains("<script>"), "no inline script");
    let js = c
        .get(format!("{}/static/app.js", s.url))
        .send()
        .await
        .expect("send");
    assert!(js.headers()["content-type"]
        .to_str()
        .expect("ct")
        .starts_with("text/javascript"));
    assert!(!js.text().await.expect("js").contains("innerHTML"));
    let v: Value = c
        .post(format!("{}/api/consult", s.url))
        .json(&json!({"question": "合同违约了对方不赔钱"}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let id = v["answer_id"].as_i64().expect("id");
    let token = v["answer_token"]
        .as_str()
        .expect("answer_token")
        .to_string();
    assert!(token.len() >= 32, "an unguessable token: {token}");
    // Someone else's answer: the id alone, a wrong token, a token of
    // another answer: all refused, nothing queued.
    let other: Value = c
        .post(format!("{}/api/consult", s.url))
        .json(&json!({"question": "邻居装修把我家墙弄裂了"}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    for (body, what) in [
        (json!({"answer_id": id, "note": "x"}), "no token"),
        (
            json!({"answer_id": id, "answer_token": "0".repeat(32), "note": "x"}),
            "wrong token",
        ),
        (
            json!({"answer_id": id, "answer_token": other["answer_token"], "note": "x"}),
            "another answer's token",
        ),
    ] {
        for path in ["/api/handoff", "/api/feedback"] {
            let mut body = body.clone();
            body["helpful"] = json!(false);
            let r = c
                .post(format!("{}{path}", s.url))
                .json(&body)
                .send()
                .await
                .expect("send");
            assert_eq!(r.status(), 404, "{path} with {what}");
        }
    }
    for reason in ["human_request", "negative_feedback"] {
        assert!(
            st.reviews("pending", Some(reason), 10)
                .expect("reviews")
                .is_empty(),
            "nothing queued ({reason}) by requests without the right token"
        );
    }
    let r: Value = c
        .post(format!("{}/api/handoff", s.url))
        .json(&json!({"answer_id": id, "answer_token": token, "note": "想找人当面问"}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(r["ok"], true);
    let items = st
        .reviews("pending", Some("human_request"), 10)
        .expect("reviews");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].answer.id, id);
    assert_eq!(items[0].note, "想找人当面问");
    assert!(items[0].reasons.contains(&"human_request".to_string()));
}

// ------------------------------------------------------------ crash consistency

/// Child half of the crash test: writes finished turns until killed, printing
/// each stored answer id after its transaction commits.
#[test]
fn crash_child_writer() {
    let Some(db) = std::env::var_os("LAWBRAIN_CRASH_CHILD_DB") else {
        return; // only runs as the crash test's child process
    };
    let store = Store::open(std::path::Path::new(&db)).expect("open");
    let long = "劳动者拖欠工资的问题。".repeat(200);
    for i in 0.. {
        let conv = store.create_conversation("web").expect("conv");
        let answer = lawbrain::answer::Answer {
            question: format!("第{i}个问题：{}", "公司拖欠工资怎么办"),
            answer: format!("第{i}个答复：{long}"),
            citations: vec![],
            removed_citations: vec![],
            retrieved: vec![],
            fallback: true,
            fallback_reason: None,
            triage: serverkit::triage_for("打人"),
            timings: Default::default(),
            guide: Default::default(),
        };
        let id = store.save_answer(&conv, &answer, &[]).expect("save");
        println!("stored {id} {conv}");
    }
}

#[test]
fn kill_9_mid_write_leaves_a_consistent_database() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("crash.sqlite3");
    let mut child = std::process::Command::new(std::env::current_exe().expect("exe"))
        .args([
            "crash_child_writer",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("LAWBRAIN_CRASH_CHILD_DB", &db)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn child");
    let stdout = child.stdout.take().expect("stdout");
    let mut finished: Vec<(i64, String)> = Vec::new();
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.expect("line");
        if let Some(rest) = line.strip_prefix("stored ") {
            let (id, conv) = rest.split_once(' ').expect("id conv");
            finished.push((id.parse().expect("id"), conv.to_string()));
            if finished.len() >= 40 {
                break;
            }
        }
    }
    // SIGKILL while the child keeps writing.
    let pid = child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-9", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let _ = child.wait();
    let store = Store::open(&db).expect("reopen after crash");
    assert_eq!(store.integrity_check().expect("check"), "ok");
    for (id, conv) in &finished {
        let rec = store
            .answer(*id)
            .expect("read")
            .expect("every finished answer survived");
        assert_eq!(&rec.conversation_id, conv);
        let h = store.history(conv).expect("history");
        assert_eq!(
            h.len(),
            2,
            "question and answer of a finished turn are both there"
        );
    }
    // No half-written turn: every answer has its two messages and its review.
    let total = store.count_answers().expect("count");
    assert!(total >= finished.len() as i64);
    let reviews = store.reviews("all", None, 100_000).expect("reviews");
    assert_eq!(
        reviews.len() as i64,
        total,
        "each flagged answer has exactly one review item"
    );
}

/// The agent console streams the suggested answer, then names the new call.
#[tokio::test]
async fn agent_console_streams_the_draft_then_opens_the_call() {
    let fake = Fake::new(Duration::from_millis(5));
    let st = store();
    st.add_user("zhao", Role::Agent, "agent-pass-2")
        .expect("agent");
    let s = start(fake.clone(), st.clone(), config()).await;
    let c = client();
    let cookie = session_cookie(&login(&s.url, "zhao", "agent-pass-2").await);
    let page = get_html(&c, format!("{}/agent", s.url), &cookie).await;
    assert!(page.contains("/static/agent.js") && page.contains("id=\"agent-draft\""));
    let csrf = csrf_of(&page);
    let ask = |token: String| {
        c.post(format!("{}/agent/ask/stream", s.url))
            .header("cookie", &cookie)
            .header("accept", "text/event-stream")
            .form(&[("question", "公司拖欠工资两个月了怎么办"), ("csrf", &token)])
            .send()
    };
    let r = ask("forged".into()).await.expect("send");
    assert_eq!(r.status(), 403, "CSRF token required");
    // Empty and oversized questions are refused with a message; no call is opened.
    for (q, status) in [
        (String::new(), 400),
        ("问".repeat(config().max_question_chars + 1), 413),
    ] {
        let r = post_form(
            &c,
            format!("{}/agent/ask/stream", s.url),
            &cookie,
            &[("question", q.as_str()), ("csrf", csrf.as_str())],
        )
        .await;
        assert_eq!(r.status(), status);
        let body: Value = r.json().await.expect("json error");
        assert!(!body["error"].as_str().unwrap_or("").is_empty(), "{body}");
    }
    assert!(st.calls(None, 10).expect("calls").is_empty());
    let r = ask(csrf.clone()).await.expect("send");
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .expect("type")
        .starts_with("text/event-stream"));
    let events = parse_sse(&r.text().await.expect("body"));
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names.iter().filter(|n| **n == "delta").count() >= 2,
        "{names:?}"
    );
    assert_eq!(names.last(), Some(&"call"), "{names:?}");
    let done = events.iter().position(|(n, _)| n == "done").expect("done");
    assert_eq!(done + 1, names.len() - 1, "call comes right after done");
    let url = events.last().expect("call").1["url"]
        .as_str()
        .expect("url")
        .to_string();
    let calls = st.calls(None, 10).expect("calls");
    assert_eq!(calls.len(), 1);
    assert_eq!(url, format!("/agent/calls/{}", calls[0].id));
    let html = get_html(&c, format!("{}{url}", s.url), &cookie).await;
    assert!(html.contains("公司拖欠工资两个月了怎么办"));
    for (name, kind) in [
        ("sse.js", "text/javascript"),
        ("agent.js", "text/javascript"),
        ("app.css", "text/css"),
    ] {
        let r = c
            .get(format!("{}/static/{name}", s.url))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200, "{name}");
        assert!(r.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with(kind));
    }
    let r = c
        .get(format!("{}/static/../Cargo.toml", s.url))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 404);
}

/// A real-model answer streams through `/api/consult` in pieces that add up
/// to the draft, and the verified answer arrives at the end.
#[tokio::test]
async fn real_model_answer_streams_over_sse() {
    let engine = lawbrain::llm::CandleEngine::load(
        &common::default_model(),
        &lawbrain::llm::EngineOptions::default(),
    )
    .expect("load model");
    let base = real_brain();
    let brain = Arc::new(lawbrain::answer::Brain {
        searcher: base.searcher.clone(),
        directory: base.directory.clone(),
        backend: Some(Arc::new(engine)),
        params: lawbrain::llm::GenParams {
            max_tokens: 24,
            ..Default::default()
        },
    });
    let s = start(brain, store(), config()).await;
    let r = client()
        .post(format!("{}/api/consult", s.url))
        .header("accept", "text/event-stream")
        .json(&json!({ "question": "邻居装修太吵，晚上十一点还在施工，我该怎么办？" }))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let events = parse_sse(&r.text().await.expect("body"));
    let deltas: Vec<&str> = events
        .iter()
        .filter(|(n, _)| n == "delta")
        .filter_map(|(_, d)| d["text"].as_str())
        .collect();
    assert!(deltas.len() >= 2, "tokens arrive in pieces: {deltas:?}");
    assert!(deltas.iter().all(|d| !d.contains('\u{FFFD}')), "{deltas:?}");
    let (_, done) = events.iter().find(|(n, _)| n == "done").expect("done");
    assert!(!done["answer"].as_str().unwrap_or("").trim().is_empty());
    assert!(
        done["timings"]["gen_tokens"].as_u64().unwrap_or(0) > 0 || done["fallback"] == true,
        "{done}"
    );
}
