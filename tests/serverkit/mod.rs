//! Test kit for the service: start `app(state)` on port 0, a stand-in
//! pipeline for limit/queue/auth tests (keyword search over the real
//! `laws.db` articles, answers quoting them, controllable speed), and SSE
//! parsing.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lawbrain::answer::{Answer, AnswerCitation, ConsultEvent, Timings};
use lawbrain::cite::CiteStatus;
use lawbrain::llm::ChatMessage;
use lawbrain::search::{Hit, SearchOptions};
use lawbrain::server::{AppState, ArticleView, Consult, ServerConfig};
use lawbrain::store::Store;
use lawbrain::triage::{LegalAidHint, Referral, ReviewReason, Service, Triage};

/// The real pipeline: the shared test index (real corpus), the built-in
/// referral directory, extractive answers (no model: the model is not the
/// point of these tests and is slow on 2 cores).
pub fn real_brain() -> Arc<lawbrain::answer::Brain> {
    static B: std::sync::OnceLock<Arc<lawbrain::answer::Brain>> = std::sync::OnceLock::new();
    B.get_or_init(|| {
        // Load the corpus first: `common::searcher` holds the fixture lock
        // while it builds the index and would otherwise take it twice.
        let _ = crate::common::national_corpus();
        Arc::new(lawbrain::answer::Brain {
            searcher: crate::common::searcher(),
            directory: Arc::new(lawbrain::triage::Directory::builtin()),
            backend: None,
            params: lawbrain::llm::GenParams::default(),
        })
    })
    .clone()
}

/// A stand-in pipeline over real statute text.
pub struct Fake {
    articles: Vec<Hit>,
    /// Pause between answer pieces.
    pub delay: Duration,
    /// Extra text appended to every answer (e.g. markup to check escaping).
    pub extra: Mutex<String>,
    pub cancelled: AtomicBool,
    pub consults: AtomicUsize,
    pub last_history: Mutex<Vec<ChatMessage>>,
}

fn laws_db() -> std::path::PathBuf {
    lawbrain::config::Paths::from_env().laws_db()
}

impl Fake {
    pub fn new(delay: Duration) -> Arc<Fake> {
        let conn = rusqlite::Connection::open_with_flags(
            laws_db(),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .expect("laws.db in the cache (run lawbrain setup)");
        let mut st = conn
            .prepare(
                "SELECT law_name, article_no_arabic, article_no, article_text, level FROM articles
                 WHERE status = '现行有效' AND article_no_arabic IS NOT NULL AND (
                   (law_name = '中华人民共和国民法典' AND article_no_arabic IN (577, 1079, 1084, 1085, 703, 704, 1165))
                   OR (law_name = '中华人民共和国劳动合同法' AND article_no_arabic IN (30, 38, 46, 85))
                   OR (law_name = '中华人民共和国法律援助法' AND article_no_arabic IN (24, 31, 32)))",
            )
            .expect("query");
        let articles: Vec<Hit> = st
            .query_map([], |r| {
                Ok(Hit {
                    law: r.get(0)?,
                    article: r.get(1)?,
                    suffix: 0,
                    article_label: r.get(2)?,
                    text: r.get(3)?,
                    score: 1.0,
                    level: r.get(4)?,
                    status: "现行有效".into(),
                    dense: None,
                    rerank: None,
                })
            })
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("articles");
        assert!(
            articles.len() >= 10,
            "expected the test articles in laws.db, got {}",
            articles.len()
        );
        Arc::new(Fake {
            articles,
            delay,
            extra: Mutex::new(String::new()),
            cancelled: AtomicBool::new(false),
            consults: AtomicUsize::new(0),
            last_history: Mutex::new(Vec::new()),
        })
    }

    fn find(&self, q: &str) -> Vec<Hit> {
        let chars: Vec<char> = q.chars().collect();
        let mut scored: Vec<(usize, &Hit)> = self
            .articles
            .iter()
            .map(|h| {
                let n = chars
                    .windows(2)
                    .filter(|w| h.text.contains(&w.iter().collect::<String>()))
                    .count();
                (n, h)
            })
            .filter(|(n, _)| *n > 0)
            .collect();
        scored.sort_by_key(|x| std::cmp::Reverse(x.0));
        scored.into_iter().take(3).map(|(_, h)| h.clone()).collect()
    }
}

pub fn triage_for(question: &str) -> Triage {
    let criminal = question.contains("打") || question.contains("刑");
    Triage {
        primary_service: if question.contains("工资") {
            Service::Arbitration
        } else {
            Service::Consultation
        },
        services: vec![Service::Consultation],
        why: vec!["测试分流".into()],
        needs_review: criminal,
        review_reasons: if criminal {
            vec![ReviewReason::Criminal]
        } else {
            vec![]
        },
        legal_aid: LegalAidHint::default(),
        referral: Referral {
            service: "consultation".into(),
            service_name: "咨询即可".into(),
            where_to_go: vec!["鄂州市公共法律服务中心".into()],
            how: vec!["拨打 12348".into()],
            phones: vec!["12348".into()],
        },
    }
}

impl Consult for Fake {
    fn search(&self, query: &str, opts: &SearchOptions) -> lawbrain::Result<Vec<Hit>> {
        let mut h = self.find(query);
        h.truncate(opts.k);
        Ok(h)
    }

    fn triage(&self, question: &str, _hits: &[Hit]) -> Triage {
        triage_for(question)
    }

    fn article(&self, law: &str, article: u32, suffix: u32) -> lawbrain::Result<ArticleView> {
        self.articles
            .iter()
            .find(|h| (h.law == law || h.law.ends_with(law)) && h.article == article && suffix == 0)
            .map(|h| ArticleView {
                law: h.law.clone(),
                article: h.article,
                suffix: 0,
                article_label: h.article_label.clone(),
                text: h.text.clone(),
                level: h.level.clone(),
                status: h.status.clone(),
                in_force: true,
            })
            .ok_or_else(|| lawbrain::Error::NotFound(format!("{law} {article}")))
    }

    fn consult(
        &self,
        question: &str,
        history: &[ChatMessage],
        on_event: &mut dyn FnMut(ConsultEvent<'_>) -> bool,
    ) -> lawbrain::Result<Answer> {
        self.consults.fetch_add(1, Ordering::SeqCst);
        *self.last_history.lock().expect("lock") = history.to_vec();
        let hits = self.find(question);
        let triage = triage_for(question);
        on_event(ConsultEvent::Triage(&triage));
        on_event(ConsultEvent::Hits(&hits));
        let mut text = String::new();
        let mut pieces: Vec<String> = vec!["根据您描述的情况，".into()];
        for h in &hits {
            pieces.push(format!("《{}》{}规定：", h.law, h.article_label));
            pieces.push(h.text.chars().take(40).collect());
            pieces.push("。".into());
        }
        pieces.push(self.extra.lock().expect("lock").clone());
        for p in pieces {
            std::thread::sleep(self.delay);
            if !on_event(ConsultEvent::Delta(&p)) {
                self.cancelled.store(true, Ordering::SeqCst);
                return Err(lawbrain::Error::Cancelled("client left".into()));
            }
            text.push_str(&p);
        }
        Ok(Answer {
            question: question.to_string(),
            answer: text,
            citations: hits
                .iter()
                .map(|h| AnswerCitation {
                    law: h.law.clone(),
                    article: h.article,
                    suffix: 0,
                    status: CiteStatus::Valid,
                    in_context: true,
                })
                .collect(),
            removed_citations: vec![],
            retrieved: hits,
            fallback: false,
            fallback_reason: None,
            triage,
            timings: Timings {
                gen_tokens: 20,
                tokens_per_s: 10.0,
                ..Timings::default()
            },
            guide: Default::default(),
        })
    }

    fn model_name(&self) -> String {
        "fake".into()
    }
}

/// A running test server.
pub struct Server {
    pub url: String,
    pub state: Arc<AppState>,
}

/// Start `app(state)` on 127.0.0.1:0, through the service's own accept
/// loop (connection caps, read timeouts), as `lawbrain serve` runs it.
pub async fn start(pipeline: Arc<dyn Consult>, store: Arc<Store>, config: ServerConfig) -> Server {
    let state = AppState::new(pipeline, store, config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    let st = state.clone();
    tokio::spawn(async move {
        lawbrain::server::conn::serve_until(listener, st, std::future::pending())
            .await
            .expect("serve");
    });
    Server {
        url: format!("http://{addr}"),
        state,
    }
}

/// Config for tests: generous rate limits unless a test sets them.
pub fn config() -> ServerConfig {
    ServerConfig {
        rate_per_minute: 10_000,
        rate_burst: 10_000,
        reports_dir: std::env::temp_dir().join("lawbrain-no-reports"),
        ..ServerConfig::default()
    }
}

/// Parse an SSE body into (event, JSON data) pairs.
pub fn parse_sse(body: &str) -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    for block in body.split("\n\n") {
        let mut name = "message".to_string();
        let mut data = Vec::new();
        for line in block.lines() {
            if let Some(n) = line.strip_prefix("event:") {
                name = n.trim().to_string();
            } else if let Some(d) = line.strip_prefix("data:") {
                data.push(d.strip_prefix(' ').unwrap_or(d).to_string());
            }
        }
        if !data.is_empty() {
            let joined = data.join("\n");
            let v = serde_json::from_str(&joined).unwrap_or(serde_json::Value::String(joined));
            out.push((name, v));
        }
    }
    out
}

/// A client that does not follow redirects and keeps no cookies.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub fn repo() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Post the login form (fetching its CSRF token first).
pub async fn post_login(url: &str, name: &str, password: &str, next: &str) -> reqwest::Response {
    let c = client();
    let page = c.get(format!("{url}/login")).send().await.expect("page");
    let set = page.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_string();
    let token = set
        .split(';')
        .next()
        .and_then(|kv| kv.split_once('='))
        .map(|(_, v)| v.to_string())
        .expect("csrf cookie");
    let html = page.text().await.expect("html");
    assert!(
        html.contains(&format!("value=\"{token}\"")),
        "the form carries the CSRF token"
    );
    c.post(format!("{url}/login"))
        .header("cookie", format!("lb_login_csrf={token}"))
        .form(&[
            ("name", name),
            ("password", password),
            ("csrf", &token),
            ("next", next),
        ])
        .send()
        .await
        .expect("login")
}

/// GET a page's HTML with a session cookie.
pub async fn get_html(c: &reqwest::Client, url: String, cookie: &str) -> String {
    c.get(url)
        .header("cookie", cookie)
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("html")
}

/// The CSRF token of a page's form.
pub fn csrf_of(html: &str) -> String {
    let i =
        html.find("name=\"csrf\" value=\"").expect("csrf field") + "name=\"csrf\" value=\"".len();
    html[i..].split('"').next().expect("value").to_string()
}
