//! `lawbrain serve`, `user`, `purge`, `bench serve`.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use lawbrain::answer::Brain;
use lawbrain::config::Paths;
use lawbrain::llm::Backend;
use lawbrain::search::Searcher;
use lawbrain::server::{AppState, ServerConfig};
use lawbrain::store::{Database, DirLock, Role as StoreRole, Store};
use lawbrain::triage::Directory;

use crate::cli::{PurgeArgs, Role, ServeArgs, StoreArgs, UserAction, UserArgs};

fn db_path(db: &Option<PathBuf>, paths: &Paths) -> PathBuf {
    db.clone()
        .unwrap_or_else(|| paths.data.join("lawbrain.sqlite3"))
}

/// The service database: PostgreSQL with `--database`, else the SQLite file.
fn database(store: &StoreArgs, paths: &Paths) -> anyhow::Result<Database> {
    Ok(match &store.database {
        Some(url) => Database::postgres(url)?,
        None => Database::Sqlite(db_path(&store.db, paths)),
    })
}

fn open_store(db: &Database) -> anyhow::Result<Store> {
    Store::open_database(db)
        .with_context(|| format!("opening the service database {}", db.describe()))
}

/// Load the model the flags select; `None` (extractive answers) when the
/// local model cannot load. Remote settings that cannot work (a malformed
/// `--llm-url`, a missing key variable) stop the start: the operator asked
/// for that engine. An engine that is merely down is retried per question.
fn load_backend(a: &ServeArgs, paths: &Paths) -> anyhow::Result<Option<Arc<dyn Backend>>> {
    if !a.model.llm_url.is_empty() {
        return super::ask::load_backend(&a.model, &paths.cache)
            .map(Some)
            .context("the remote engine settings (--llm-url, --llm-model, --llm-key-env)");
    }
    Ok(match super::ask::load_engine(&a.model, &paths.cache) {
        Ok(engine) => {
            tracing::info!(model = %engine.name(), load_ms = engine.load_ms, "model loaded");
            let engine = Arc::new(engine);
            warm_up(engine.clone());
            Some(engine)
        }
        Err(e) => {
            tracing::warn!(error = %e, "the model could not be loaded: serving extractive answers (as with --no-llm)");
            None
        }
    })
}

/// In the background, run the fixed system prompt through the model once:
/// its keys and values stay cached (and, on CPUs without AVX-512 VNNI,
/// candle repacks the weights on this first prompt), so the first citizen
/// does not wait for either. A request that arrives meanwhile queues behind
/// it.
fn warm_up(engine: Arc<lawbrain::llm::CandleEngine>) {
    std::thread::spawn(move || {
        let t0 = Instant::now();
        let count = |t: &str| engine.count_tokens(t).unwrap_or(0);
        let (msgs, _) = lawbrain::answer::prompt::build_messages(
            "你好",
            &[],
            &[],
            &lawbrain::answer::PromptBudget::default(),
            &count,
        );
        let params = lawbrain::llm::GenParams {
            max_tokens: 1,
            ..Default::default()
        };
        match engine.generate(&msgs, &params, &mut |_| true) {
            Ok(_) => tracing::info!(
                ms = t0.elapsed().as_millis() as u64,
                "model warmed up (system prompt cached)"
            ),
            Err(e) => tracing::warn!(error = %e, "model warm-up failed"),
        }
    });
}

/// The folder holding the database (the data directory), locked while serving.
fn db_dir(db: &std::path::Path) -> PathBuf {
    match db.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

pub fn serve(a: ServeArgs) -> anyhow::Result<()> {
    if a.engine_only {
        return serve_engine(a);
    }
    // Bad remote-engine settings (a URL, an unset key variable) stop here.
    super::ask::remote_options(&a.model)?;
    let paths = super::paths(&a.data);
    let db = database(&a.store, &paths)?;
    // First, before any slow setup: one server per SQLite file's directory.
    // (Several servers share a PostgreSQL database by design.)
    let lock = match &db {
        Database::Sqlite(path) => {
            let lock = DirLock::acquire(&db_dir(path)).context("locking the data directory")?;
            tracing::info!(lock = %lock.path().display(), "data directory locked");
            Some(lock)
        }
        Database::Postgres(_) => None,
    };
    let mut bar = super::Bar::new();
    if !a.no_setup {
        let corpus = lawbrain::assets::asset("laws-db")?;
        lawbrain::assets::ensure(&corpus, &paths.cache, false, &mut bar)
            .context("fetching the law database")?;
        if !a.no_llm
            && a.model.model.is_none()
            && a.model.hf.is_none()
            && a.model.llm_url.is_empty()
        {
            let profile = match a.model.profile {
                crate::cli::Profile::Default => "default",
                crate::cli::Profile::Small => "small",
            };
            let m = lawbrain::assets::model_asset(profile)?;
            if let Err(e) = lawbrain::assets::ensure(&m, &paths.cache, false, &mut bar) {
                tracing::warn!(error = %e, "could not fetch the model; answers will be extractive");
            }
        }
        if !a.data.lexical {
            for id in [
                lawbrain::embed::MODEL_ASSET,
                lawbrain::embed::TOKENIZER_ASSET,
            ] {
                let asset = lawbrain::assets::asset(id)?;
                if let Err(e) = lawbrain::assets::ensure(&asset, &paths.cache, false, &mut bar) {
                    tracing::warn!(error = %e, "could not fetch the dense encoder; search stays lexical");
                }
            }
        }
        lawbrain::search::ensure_index(&paths, None, &mut bar)
            .context("preparing the search index")?;
    }
    let searcher = Arc::new(Searcher::open(&paths.index).context("opening the search index")?);
    spawn_dense(searcher.clone(), &a.data);
    let directory = match &a.directory {
        Some(p) => Directory::load(p)
            .with_context(|| format!("loading referral directory {}", p.display()))?,
        None => Directory::builtin(),
    };
    let backend = if a.no_llm {
        tracing::info!("--no-llm: serving extractive answers");
        None
    } else {
        load_backend(&a, &paths)?
    };
    let brain = Brain {
        searcher,
        directory: Arc::new(directory),
        backend,
        params: super::ask::gen_params(&a.model),
    };
    let store = open_store(&db)?;
    tracing::info!(db = %db.describe(), backend = store.backend(), "service database ready");
    let config = ServerConfig {
        generators: a.generators.max(1),
        queue: a.queue,
        reports_dir: paths.data.join("reports"),
        secure_cookies: a.secure_cookies,
        max_connections: a.max_connections.max(1),
        max_connections_per_ip: a.max_connections_per_ip.max(1),
        header_timeout: Duration::from_secs(a.header_timeout.max(1)),
        body_timeout: Duration::from_secs(a.body_timeout.max(1)),
        trusted_proxies: lawbrain::server::limits::TrustedProxies::parse(&a.trusted_proxies)
            .map_err(|e| anyhow::anyhow!("--trusted-proxies: {e}"))?,
        ..ServerConfig::default()
    };
    // Per-IP limits on public endpoints (raise them for a loopback load test).
    let env_u32 = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u32>().ok());
    let config = ServerConfig {
        rate_per_minute: env_u32("LAWBRAIN_RATE_PER_MINUTE").unwrap_or(config.rate_per_minute),
        rate_burst: env_u32("LAWBRAIN_RATE_BURST").unwrap_or(config.rate_burst),
        ..config
    };
    let config = lawbrain::server::fit_to_descriptors(config);
    let state = AppState::new(Arc::new(brain), Arc::new(store), config);
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(lawbrain::server::serve(&a.addr, state))?;
    drop(lock);
    Ok(())
}

/// `serve --engine-only`: the model behind a raw OpenAI chat API (no index,
/// no database, no data-directory lock).
fn serve_engine(a: ServeArgs) -> anyhow::Result<()> {
    let paths = super::paths(&a.data);
    if !a.no_setup && a.model.llm_url.is_empty() && a.model.model.is_none() && a.model.hf.is_none()
    {
        let profile = match a.model.profile {
            crate::cli::Profile::Default => "default",
            crate::cli::Profile::Small => "small",
        };
        let m = lawbrain::assets::model_asset(profile)?;
        lawbrain::assets::ensure(&m, &paths.cache, false, &mut super::Bar::new())
            .context("fetching the model")?;
    }
    let backend = super::ask::load_backend(&a.model, &paths.cache).context("loading the model")?;
    tracing::info!(engine = %backend.name(), "engine-only: serving raw generation");
    let defaults = super::ask::gen_params(&a.model);
    let state = Arc::new(lawbrain::server::engine::EngineState {
        backend,
        queue: lawbrain::server::queue::Queue::new(a.generators.max(1), a.queue),
        max_tokens: defaults.max_tokens.max(4096),
        defaults,
        timeout: Duration::from_secs(a.model.deadline_secs.max(1)),
        retry_after_secs: 5,
    });
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&a.addr)
            .await
            .with_context(|| format!("binding {}", a.addr))?;
        tracing::info!(
            "lawbrain engine serving on http://{}/v1",
            listener.local_addr()?
        );
        axum::serve(listener, lawbrain::server::engine::engine_app(state))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("serving")
    })
}

/// Attach dense retrieval in the background: the service answers lexically
/// at once and switches to hybrid when the dense index is ready (the first
/// time on a machine the articles are embedded, with progress in the log).
fn spawn_dense(searcher: Arc<Searcher>, data: &crate::cli::DataArgs) {
    if data.lexical {
        tracing::info!("--lexical: dense retrieval off");
        return;
    }
    let cache = super::paths(data).cache;
    let spawned = std::thread::Builder::new()
        .name("dense-index".into())
        .spawn(move || {
            let encoder = match lawbrain::embed::Encoder::from_cache(&cache) {
                Ok(e) => Arc::new(e),
                Err(e) => {
                    tracing::warn!("dense retrieval off, serving lexical search: {e}");
                    return;
                }
            };
            // Triage switches to the router that reads the sentence
            // embedding first (seconds); the dense index may take longer.
            lawbrain::triage::use_encoder(encoder.clone(), Some(&cache));
            lawbrain::triage::router::Router::warm_dense();
            let mut log = lawbrain::progress::LogProgress::default();
            match searcher.attach_dense(encoder, &cache, &mut log) {
                Ok(m) => tracing::info!(
                    articles = m.articles,
                    embedded = m.embedded,
                    ms = m.build_ms,
                    "dense index ready: retrieval is hybrid"
                ),
                Err(e) => tracing::warn!("dense index failed, staying lexical: {e}"),
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("could not start the dense index thread: {e}");
    }
}

pub fn user(a: UserArgs) -> anyhow::Result<()> {
    let paths = Paths::from_env();
    let store = open_store(&database(&a.store, &paths)?)?;
    match a.action {
        UserAction::Add { name, role } => {
            let password = match std::env::var("LAWBRAIN_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut s = String::new();
                    std::io::stdin()
                        .read_to_string(&mut s)
                        .context("reading the password from stdin")?;
                    s.lines().next().unwrap_or("").to_string()
                }
            };
            let role = match role {
                Role::Agent => StoreRole::Agent,
                Role::Staff => StoreRole::Staff,
            };
            let u = store.add_user(&name, role, &password)?;
            store.audit("cli", "user.add", &format!("user:{}", u.name), role.id())?;
            println!("added {} ({})", u.name, u.role.id());
        }
        UserAction::List => {
            for u in store.users()? {
                println!("{}\t{}", u.name, u.role.id());
            }
        }
    }
    Ok(())
}

pub fn purge(a: PurgeArgs) -> anyhow::Result<()> {
    let paths = Paths::from_env();
    let store = open_store(&database(&a.store, &paths)?)?;
    let r = store.purge(a.older_than_days)?;
    println!(
        "purged {} conversations older than {} days and {} expired sessions",
        r.conversations, a.older_than_days, r.sessions
    );
    Ok(())
}

/// Questions the consult part of the bench asks (everyday wording, not eval cases).
const BENCH_QUESTIONS: [&str; 5] = [
    "公司拖欠工资两个月了，我该去哪里投诉？",
    "租房押金房东不退怎么办",
    "邻居装修把我家墙弄裂了，能要求赔偿吗",
    "离婚时孩子的抚养权怎么判",
    "网购买到假货商家不给退款",
];

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Load test running servers on loopback: `/api/search` at `concurrency`
/// connections for `requests` requests, then `/api/consult` with 10
/// concurrent citizens (20 requests). Requests go to `urls` in turn.
pub fn bench(urls: Vec<String>, concurrency: usize, requests: usize) -> anyhow::Result<()> {
    for url in &urls {
        let host = url
            .trim_start_matches("http://")
            .split(['/', ':'])
            .next()
            .unwrap_or("");
        if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
            anyhow::bail!("bench serve only targets a loopback server (got {url})");
        }
    }
    if urls.len() > 1 {
        println!(
            "{} nodes, requests in turn: {}",
            urls.len(),
            urls.join(", ")
        );
    }
    let requests = requests.clamp(1, 100_000);
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let client = reqwest_like::Client::new(&urls)?;
        let rss0 = client.rss_hint().await;
        // --- search
        let queries = ["拖欠工资", "离婚 抚养权", "押金不退", "交通事故赔偿", "劳动合同解除 经济补偿"];
        let (lat, errors, wall) = client
            .run(concurrency.max(1), requests, move |i| {
                (
                    "GET",
                    format!("/api/search?q={}", urlenc(queries[i % queries.len()])),
                    String::new(),
                )
            })
            .await;
        println!(
            "search: {} requests at {} connections in {:.2}s: {:.0} req/s, p50 {:.1} ms, p99 {:.1} ms, errors {}",
            lat.len() + errors.len(),
            concurrency,
            wall,
            (lat.len() + errors.len()) as f64 / wall,
            percentile(&lat, 0.5),
            percentile(&lat, 0.99),
            errors.len()
        );
        for e in errors.iter().take(5) {
            println!("  error: {e}");
        }
        // --- consult
        let (lat, errors, wall) = client
            .run(10, 20, |i| {
                (
                    "POST",
                    "/api/consult".to_string(),
                    serde_json::json!({ "question": BENCH_QUESTIONS[i % BENCH_QUESTIONS.len()] }).to_string(),
                )
            })
            .await;
        let busy = errors.iter().filter(|e| e.starts_with("503") || e.starts_with("429")).count();
        println!(
            "consult: 20 requests from 10 concurrent citizens in {:.2}s: {} answered, p50 {:.0} ms, p99 {:.0} ms, {} refused as busy (503/429), {} other errors",
            wall,
            lat.len(),
            percentile(&lat, 0.5),
            percentile(&lat, 0.99),
            busy,
            errors.len() - busy
        );
        for e in errors.iter().filter(|e| !(e.starts_with("503") || e.starts_with("429"))).take(5) {
            println!("  error: {e}");
        }
        let rss1 = client.rss_hint().await;
        if let (Some(a), Some(b)) = (rss0, rss1) {
            println!("server health before: {a}");
            println!("server health after:  {b}");
        }
        anyhow::Ok(())
    })
}

fn urlenc(s: &str) -> String {
    lawbrain::server::pages::url_segment(s)
}

/// A tiny HTTP/1.1 client over tokio for the loopback bench (no extra dependency).
mod reqwest_like {
    use super::*;
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    use tokio::net::TcpStream;

    /// Nodes as (address, Host header); request `i` goes to node `i % n`.
    pub struct Client {
        nodes: Vec<(String, String)>,
    }

    type Req = (&'static str, String, String);

    impl Client {
        pub fn new(urls: &[String]) -> anyhow::Result<Client> {
            let nodes: Vec<(String, String)> = urls
                .iter()
                .map(|url| {
                    let rest = url.trim_start_matches("http://");
                    let hostport = rest.split('/').next().unwrap_or(rest);
                    let addr = if hostport.contains(':') {
                        hostport.to_string()
                    } else {
                        format!("{hostport}:80")
                    };
                    (addr, hostport.to_string())
                })
                .collect();
            if nodes.is_empty() {
                anyhow::bail!("bench serve needs at least one --url");
            }
            Ok(Client { nodes })
        }

        /// Request `i` on a fresh connection to its node; returns (status, body).
        async fn request(
            &self,
            i: usize,
            method: &str,
            path: &str,
            body: &str,
        ) -> anyhow::Result<(u16, String)> {
            let (addr, host) = &self.nodes[i % self.nodes.len()];
            let mut s = TcpStream::connect(addr).await?;
            let head = format!(
                "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            s.write_all(head.as_bytes()).await?;
            s.write_all(body.as_bytes()).await?;
            let mut r = BufReader::new(s);
            let mut status_line = String::new();
            r.read_line(&mut status_line).await?;
            let status: u16 = status_line
                .split_whitespace()
                .nth(1)
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            let mut rest = Vec::new();
            r.read_to_end(&mut rest).await?;
            let text = String::from_utf8_lossy(&rest);
            let body = text
                .split_once("\r\n\r\n")
                .map(|(_, b)| b.to_string())
                .unwrap_or_default();
            Ok((status, body))
        }

        /// Each node's `/healthz` body, one line each.
        pub async fn rss_hint(&self) -> Option<String> {
            let mut out = Vec::new();
            for i in 0..self.nodes.len() {
                out.push(self.request(i, "GET", "/healthz", "").await.ok()?.1);
            }
            Some(out.join("\n  "))
        }

        /// Run `total` requests from `conc` workers; returns (latencies ms sorted, errors, wall s).
        pub async fn run(
            &self,
            conc: usize,
            total: usize,
            make: impl Fn(usize) -> Req + Send + Sync + 'static,
        ) -> (Vec<f64>, Vec<String>, f64) {
            let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let make = Arc::new(make);
            let me = Arc::new(Client {
                nodes: self.nodes.clone(),
            });
            let t0 = Instant::now();
            let mut tasks = Vec::new();
            for _ in 0..conc {
                let (next, make, me) = (next.clone(), make.clone(), me.clone());
                tasks.push(tokio::spawn(async move {
                    let mut lat = Vec::new();
                    let mut errs = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        if i >= total {
                            break;
                        }
                        let (m, p, b) = make(i);
                        let t = Instant::now();
                        match tokio::time::timeout(
                            Duration::from_secs(600),
                            me.request(i, m, &p, &b),
                        )
                        .await
                        {
                            Ok(Ok((200, _))) => lat.push(t.elapsed().as_secs_f64() * 1000.0),
                            Ok(Ok((s, body))) => errs.push(format!(
                                "{s} {}",
                                body.chars().take(120).collect::<String>()
                            )),
                            Ok(Err(e)) => errs.push(format!("io {e}")),
                            Err(_) => errs.push("timeout".into()),
                        }
                    }
                    (lat, errs)
                }));
            }
            let mut lat = Vec::new();
            let mut errs = Vec::new();
            for t in tasks {
                if let Ok((l, e)) = t.await {
                    lat.extend(l);
                    errs.extend(e);
                }
            }
            lat.sort_by(|a, b| a.total_cmp(b));
            (lat, errs, t0.elapsed().as_secs_f64())
        }
    }
}
