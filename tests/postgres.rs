//! The service on PostgreSQL (`--database postgres://…`): two servers on one
//! database share conversations, answer tokens, users, sessions and the
//! review queue; one review decision wins; a lost database answers 503 and
//! recovers; and two real `lawbrain serve` processes, one killed with
//! SIGKILL right after it acknowledged an answer and a hand-off, lose
//! nothing.
//!
//! Needs a PostgreSQL server: `LAWBRAIN_TEST_PG=postgres://…` (`eval "$(bash
//! .ci/postgres.sh)"` starts a throwaway one). Without it every test here
//! prints why and passes, unless `LAWBRAIN_REQUIRE_PG=1` (CI), which fails it.

mod common;
mod serverkit;

use std::io::BufRead;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lawbrain::store::{Role, Store};
use serde_json::{json, Value};
use serverkit::{client, config, csrf_of, get_html, post_login, start, Fake};

fn pg_store(url: &str, schema: &str) -> Arc<Store> {
    Arc::new(Store::open_postgres_in_schema(url, schema).expect("postgres store"))
}

/// The password in `url`, to check it is never shown.
fn password_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let userinfo = rest.split(['/', '?']).next()?.rsplit_once('@')?.0;
    Some(userinfo.split_once(':')?.1.to_string())
}

async fn consult(url: &str, q: &str) -> Value {
    let r = client()
        .post(format!("{url}/api/consult"))
        .json(&json!({ "question": q }))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    r.json().await.expect("json")
}

/// Log in through the form; returns the `lb_session=…` cookie.
async fn login(url: &str, name: &str, password: &str) -> String {
    let r = post_login(url, name, password, "").await;
    assert_eq!(r.status(), 303, "login on {url}");
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("lb_session="))
        .and_then(|v| v.split(';').next())
        .expect("session cookie")
        .to_string()
}

/// Post a staff decision on a review item.
async fn decide(
    url: &str,
    cookie: &str,
    review_id: i64,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client()
        .post(format!("{url}/review/{review_id}"))
        .header("cookie", cookie)
        .form(form)
        .send()
        .await
        .expect("send")
}

async fn healthz(url: &str) -> (u16, String) {
    let r = client()
        .get(format!("{url}/healthz"))
        .send()
        .await
        .expect("send");
    (r.status().as_u16(), r.text().await.expect("body"))
}

/// Two servers on one PostgreSQL schema, over HTTP: an answer given by A
/// takes feedback and a hand-off on B (its token is shared), a staff member
/// logs in on B and decides it there, a second decision on A is refused,
/// the purge removes it for both, and neither `/healthz` shows the password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_answers_reviews_logins_and_the_purge() {
    let Some(url) = common::need_pg("two servers on one database") else {
        return;
    };
    let schema = common::fresh_schema("http");
    let (sa, sb) = (pg_store(&url, &schema), pg_store(&url, &schema));
    let a = start(Fake::new(Duration::ZERO), sa.clone(), config()).await;
    let b = start(Fake::new(Duration::ZERO), sb.clone(), config()).await;

    let v = consult(&a.url, "公司拖欠我三个月工资怎么办").await;
    let (id, token) = (
        v["answer_id"].as_i64().expect("id"),
        v["answer_token"].as_str().expect("token").to_string(),
    );
    // The token A issued is checked on B.
    let r = client()
        .post(format!("{}/api/feedback", b.url))
        .json(&json!({"answer_id": id, "answer_token": token, "helpful": false, "comment": "没说清楚"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    let r = client()
        .post(format!("{}/api/feedback", b.url))
        .json(&json!({"answer_id": id, "answer_token": "0".repeat(32), "helpful": true}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 404, "a wrong token is refused on any server");
    let r = client()
        .post(format!("{}/api/handoff", b.url))
        .json(&json!({"answer_id": id, "answer_token": token, "note": "请回电 13812345678"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let review_id = r.json::<Value>().await.expect("json")["review_id"]
        .as_i64()
        .expect("review id");

    // The staff account added on A logs in on B and sees the item.
    sa.add_user("li", Role::Staff, "staff-pass-1")
        .expect("staff");
    let cookie_b = login(&b.url, "li", "staff-pass-1").await;
    let html = get_html(&client(), format!("{}/review", b.url), &cookie_b).await;
    assert!(html.contains("公司拖欠我三个月工资怎么办"), "{html}");
    assert!(
        !html.contains("13812345678"),
        "the phone number was redacted before storing"
    );
    let csrf_b = csrf_of(&html);
    let r = decide(
        &b.url,
        &cookie_b,
        review_id,
        &[
            ("action", "approve"),
            ("answer", "可向劳动监察大队投诉。"),
            ("csrf", csrf_b.as_str()),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    // The same decision on A now: refused, the first one stands.
    let cookie_a = login(&a.url, "li", "staff-pass-1").await;
    let html = get_html(&client(), format!("{}/review?status=all", a.url), &cookie_a).await;
    let csrf_a = csrf_of(&html);
    let r = decide(
        &a.url,
        &cookie_a,
        review_id,
        &[
            ("action", "reject"),
            ("comment", "不行"),
            ("csrf", csrf_a.as_str()),
        ],
    )
    .await;
    assert_eq!(
        r.status(),
        409,
        "an item decided on B cannot be decided on A"
    );
    let item = sa.review(review_id).expect("read").expect("item");
    assert_eq!(item.status, "approved");
    assert_eq!(item.final_answer.as_deref(), Some("可向劳动监察大队投诉。"));
    assert_eq!(item.reasons, vec!["human_request", "negative_feedback"]);

    for s in [&a.url, &b.url] {
        let (code, body) = healthz(s).await;
        assert_eq!(code, 200, "{body}");
        let h: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(h["storage"]["backend"], "postgres", "{h}");
        if let Some(pw) = password_of(&url) {
            assert!(!body.contains(&pw), "the password is not shown: {body}");
        }
    }

    // The purge on one removes it for both (nothing is older than 0 days
    // but 1 second: age the conversation through the store itself).
    assert_eq!(sb.count_conversations().expect("count"), 1);
    std::thread::sleep(Duration::from_millis(1100));
    let report = tokio::task::spawn_blocking({
        let sa = sa.clone();
        move || sa.purge(0)
    })
    .await
    .expect("join")
    .expect("purge");
    assert_eq!(report.conversations, 1);
    assert!(sb.answer(id).expect("read").is_none());
    assert!(sb.reviews("all", None, 10).expect("list").is_empty());
}

/// A TCP relay between the store and PostgreSQL that the test can cut (all
/// connections dropped, new ones refused) and restore: a database that
/// goes away and comes back.
struct Relay {
    port: u16,
    up: Arc<AtomicBool>,
    generation: Arc<std::sync::atomic::AtomicU64>,
}

impl Relay {
    fn start(upstream: String) -> Relay {
        let up = Arc::new(AtomicBool::new(true));
        let generation = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (tx, rx) = std::sync::mpsc::channel();
        let (up2, gen2) = (up.clone(), generation.clone());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let l = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                tx.send(l.local_addr().expect("addr").port()).expect("port");
                loop {
                    let Ok((mut inbound, _)) = l.accept().await else {
                        continue;
                    };
                    if !up2.load(Ordering::SeqCst) {
                        continue; // dropped: connection refused, in effect
                    }
                    let (up, generation) = (up2.clone(), gen2.clone());
                    let born = generation.load(Ordering::SeqCst);
                    let upstream = upstream.clone();
                    tokio::spawn(async move {
                        let Ok(mut out) = tokio::net::TcpStream::connect(&upstream).await else {
                            return;
                        };
                        let copy = tokio::io::copy_bidirectional(&mut inbound, &mut out);
                        let cut = async {
                            while up.load(Ordering::SeqCst)
                                && generation.load(Ordering::SeqCst) == born
                            {
                                tokio::time::sleep(Duration::from_millis(20)).await;
                            }
                        };
                        tokio::select! { _ = copy => {}, _ = cut => {} }
                    });
                }
            });
        });
        Relay {
            port: rx.recv().expect("relay port"),
            up,
            generation,
        }
    }

    /// Refuse new connections and close the open ones; returns once the
    /// relay's copy loops (polling every 20 ms) have let go.
    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(200));
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// `url` with its `host:port` replaced.
fn with_host_port(url: &str, host_port: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let userinfo = authority.rsplit_once('@').map(|(u, _)| format!("{u}@"));
    Some(format!(
        "{scheme}://{}{host_port}{tail}",
        userinfo.unwrap_or_default()
    ))
}

fn host_port(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let hp = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    hp.contains(':').then(|| hp.to_string())
}

/// The database goes away under a running server: consultations answer
/// 503 (nothing acknowledged that was not stored), `/healthz` says
/// degraded, and both recover by themselves when it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_database_answers_503_and_recovers() {
    let Some(url) = common::need_pg("a database that goes away") else {
        return;
    };
    let upstream = host_port(&url).expect("LAWBRAIN_TEST_PG names host:port");
    let relay = Relay::start(upstream);
    let relayed = with_host_port(&url, &format!("127.0.0.1:{}", relay.port)).expect("url");
    let st = pg_store(&relayed, &common::fresh_schema("relay"));
    let s = start(Fake::new(Duration::ZERO), st.clone(), config()).await;
    consult(&s.url, "工资被拖欠").await;

    relay.cut();
    let r = client()
        .post(format!("{}/api/consult", s.url))
        .json(&json!({ "question": "押金不退怎么办" }))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 503, "{}", r.text().await.unwrap_or_default());
    let (code, body) = healthz(&s.url).await;
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("degraded"), "{body}");
    if let Some(pw) = password_of(&url) {
        assert!(!body.contains(&pw), "{body}");
    }

    relay.restore();
    let t0 = Instant::now();
    loop {
        let (code, body) = healthz(&s.url).await;
        if code == 200 {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(15),
            "no recovery: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let v = consult(&s.url, "押金不退怎么办").await;
    let id = v["answer_id"].as_i64().expect("id");
    assert!(st.answer(id).expect("read").is_some());
    assert_eq!(st.count_answers().expect("count"), 2);
}

// ------------------------------------------------------------ two processes

/// A `lawbrain serve --no-llm` process on `database`; its log lines go to
/// `log` as they come.
struct Node {
    child: std::process::Child,
    url: String,
    log: Arc<std::sync::Mutex<String>>,
}

fn spawn_node(database: &str) -> Node {
    let index = common::index_dir();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lawbrain"))
        .args(["serve", "--no-setup", "--no-llm", "--lexical", "--addr"])
        .arg("127.0.0.1:0")
        .arg("--index")
        .arg(&index)
        .arg("--database")
        .arg(database)
        .env("LAWBRAIN_RATE_PER_MINUTE", "10000")
        .env("LAWBRAIN_RATE_BURST", "10000")
        .env("RUST_LOG", "info")
        .env_remove("LAWBRAIN_DB")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn lawbrain serve");
    let log = Arc::new(std::sync::Mutex::new(String::new()));
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    for stream in [
        Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().expect("stderr")),
    ] {
        let (log, tx) = (log.clone(), tx.clone());
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                if let Ok(mut l) = log.lock() {
                    l.push_str(&line);
                    l.push('\n');
                }
                let _ = tx.send(line);
            }
        });
    }
    let t0 = Instant::now();
    let url = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(120).saturating_sub(t0.elapsed()))
            .unwrap_or_else(|_| {
                panic!(
                    "lawbrain serve did not start: {}",
                    log.lock().map(|l| l.clone()).unwrap_or_default()
                )
            });
        if let Some(i) = line.find("lawbrain serving on http://") {
            let rest = &line[i + "lawbrain serving on ".len()..];
            break rest.trim().trim_end_matches('/').to_string();
        }
    };
    Node { child, url, log }
}

impl Node {
    /// SIGKILL, and wait for it to be gone.
    fn kill_9(&mut self) {
        self.child.kill().expect("kill -9");
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Acceptance: two `lawbrain serve` processes on one PostgreSQL database.
/// A question handed off on A is in B's staff review queue; A is killed
/// with SIGKILL right after acknowledging the answer and the hand-off, and
/// B (and the database) still has them; then B is killed right after
/// acknowledging an answer, and a new process finds it. Neither log shows
/// the database password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_processes_share_the_review_queue_and_kill_9_loses_nothing() {
    let Some(url) = common::need_pg("two lawbrain serve processes") else {
        return;
    };
    // The index the servers search (built once for the tests).
    tokio::task::spawn_blocking(common::searcher)
        .await
        .expect("index");
    // A schema made and migrated here; the servers reach it by the URL's
    // own `options` (as an operator would put them in a schema of their own).
    let schema = common::fresh_schema("proc");
    let admin = pg_store(&url, &schema);
    admin
        .add_user("li", Role::Staff, "staff-pass-1")
        .expect("staff");
    let sep = if url.contains('?') { '&' } else { '?' };
    let database = format!("{url}{sep}options=-c%20search_path%3D{schema}");

    let (mut a, mut b) = tokio::task::spawn_blocking({
        let database = database.clone();
        move || (spawn_node(&database), spawn_node(&database))
    })
    .await
    .expect("start nodes");

    let q = "他动手打了我，我能告他吗";
    let v = consult(&a.url, q).await;
    let id = v["answer_id"].as_i64().expect("id");
    let token = v["answer_token"].as_str().expect("token").to_string();
    let r = client()
        .post(format!("{}/api/handoff", a.url))
        .json(&json!({"answer_id": id, "answer_token": token, "note": "想当面咨询"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    let review_id = r.json::<Value>().await.expect("json")["review_id"]
        .as_i64()
        .expect("review id");
    // Acknowledged: now A dies without any chance to flush or clean up.
    a.kill_9();

    let cookie = login(&b.url, "li", "staff-pass-1").await;
    let html = get_html(
        &client(),
        format!("{}/review?reason=human_request", b.url),
        &cookie,
    )
    .await;
    assert!(html.contains(q), "A's hand-off is in B's review queue");
    assert!(html.contains("想当面咨询"), "with its note");
    let item = admin.review(review_id).expect("read").expect("item");
    assert_eq!(item.answer.id, id);
    assert_eq!(item.status, "pending");
    assert_eq!(
        admin
            .history(&item.answer.conversation_id)
            .expect("h")
            .len(),
        2
    );

    // B answers, acknowledges, and is killed at once; the answer is there.
    let v = consult(&b.url, "公司不给加班费怎么办").await;
    let id_b = v["answer_id"].as_i64().expect("id");
    b.kill_9();
    let rec = admin
        .answer(id_b)
        .expect("read")
        .expect("B's answer survived");
    assert_eq!(rec.question, "公司不给加班费怎么办");
    assert_eq!(admin.count_answers().expect("count"), 2);

    // A new process on the same database sees everything and takes logins.
    let c = tokio::task::spawn_blocking({
        let database = database.clone();
        move || spawn_node(&database)
    })
    .await
    .expect("start node");
    let cookie = login(&c.url, "li", "staff-pass-1").await;
    let html = get_html(&client(), format!("{}/review", c.url), &cookie).await;
    assert!(html.contains(q));

    if let Some(pw) = password_of(&url) {
        for n in [&a, &b, &c] {
            let log = n.log.lock().map(|l| l.clone()).unwrap_or_default();
            assert!(log.contains("service database ready"), "{log}");
            assert!(!log.contains(&pw), "the password is in a log: {log}");
        }
    }
}
