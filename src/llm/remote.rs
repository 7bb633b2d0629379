//! Generation on an OpenAI-compatible server (vLLM, llama.cpp's server,
//! TGI, SGLang, or a `lawbrain serve --engine-only` node) behind the
//! [`Backend`] trait. The prompt and every check stay in lawbrain: the
//! engine only turns messages into text.
//!
//! * Streaming: `POST {url}/chat/completions` with `stream: true`; the SSE
//!   `data:` lines carry `choices[0].delta.content` until `[DONE]`.
//! * Cancellation: when `on_text` returns `false` the response is dropped,
//!   which closes the connection (engines stop generating on disconnect).
//! * Deadline: the request's whole-exchange timeout is the time left to
//!   [`GenParams::deadline`]; passing it ends generation with
//!   [`StopReason::Deadline`] and whatever text has arrived.
//! * Retries: connection failures, 429 and 503 are retried with exponential
//!   backoff (or the server's `Retry-After`) as long as no text has been
//!   handed on; after that an error ends generation with an error (the
//!   answer pipeline then uses the extractive answer and says why).
//! * Several URLs: used round-robin; a URL that fails to connect is marked
//!   down and skipped until a cooldown passes, then probed with
//!   `GET {url}/models` before it is used again.
//! * Token counting: unknown ([`Backend::count_tokens`] is `None`), so the
//!   prompt budget uses the estimate.
//!
//! The API key (read from an environment variable the caller names) is sent
//! as a bearer token and never logged nor shown by `Debug`.

use std::io::{BufRead, BufReader};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{Backend, ChatMessage, GenParams, GenStats, Generation, StopReason};
use crate::{Error, Result};

/// How to reach the engines.
#[derive(Clone)]
pub struct RemoteOptions {
    /// Base URLs, each up to and including `/v1` (`http://host:8000/v1`).
    pub urls: Vec<String>,
    /// The model name sent in requests. `None`: each server's first model
    /// from `GET /v1/models` (or `default` when it does not list any).
    pub model: Option<String>,
    /// Sent as `Authorization: Bearer ...`.
    pub api_key: Option<String>,
    /// Time to open a connection.
    pub connect_timeout: Duration,
    /// Longest silence allowed while a stream is open (the engine is wedged
    /// or the network dropped without a reset).
    pub read_timeout: Duration,
    /// Longest wait for the first response when the request has no
    /// deadline of its own.
    pub request_timeout: Duration,
    /// Attempts after the first one (connection failures, 429, 503).
    pub retries: u32,
    /// First backoff; doubled each retry, capped at 8 s.
    pub backoff: Duration,
    /// How long a URL that failed stays out of the rotation before a probe.
    pub cooldown: Duration,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        RemoteOptions {
            urls: Vec::new(),
            model: None,
            api_key: None,
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(300),
            retries: 3,
            backoff: Duration::from_millis(250),
            cooldown: Duration::from_secs(10),
        }
    }
}

impl std::fmt::Debug for RemoteOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteOptions")
            .field("urls", &self.urls)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("retries", &self.retries)
            .finish()
    }
}

/// One engine URL and what we know of its health.
struct Node {
    base: String,
    /// `host:port`, for names and logs.
    host: String,
    /// When it was marked down (`None`: up).
    down_since: Mutex<Option<Instant>>,
    /// The model name it serves, once discovered.
    model: Mutex<Option<String>>,
}

impl Node {
    fn is_down(&self, cooldown: Duration) -> Option<bool> {
        let d = *self.down_since.lock().unwrap_or_else(|e| e.into_inner());
        match d {
            None => Some(false),
            Some(t) if t.elapsed() >= cooldown => None, // due for a probe
            Some(_) => Some(true),
        }
    }

    fn mark_down(&self) {
        let mut d = self.down_since.lock().unwrap_or_else(|e| e.into_inner());
        if d.is_none() {
            tracing::warn!(engine = %self.host, "remote engine marked down");
        }
        *d = Some(Instant::now());
    }

    fn mark_up(&self) {
        let mut d = self.down_since.lock().unwrap_or_else(|e| e.into_inner());
        if d.is_some() {
            tracing::info!(engine = %self.host, "remote engine back up");
        }
        *d = None;
    }
}

/// A [`Backend`] that generates on OpenAI-compatible servers.
pub struct RemoteBackend {
    nodes: Vec<Node>,
    next: AtomicUsize,
    agent: ureq::Agent,
    opts: RemoteOptions,
}

/// Why one attempt failed.
enum Attempt {
    /// The server could not be reached (mark down, try another).
    Unreachable(String),
    /// 429 / 503: busy; retry after this long if the server said.
    Busy(u16, Option<Duration>),
    /// Not worth retrying (bad request, auth, not found, ...).
    Fatal(String),
    /// The deadline passed before any response.
    Deadline,
}

fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest).to_string()
}

fn check_url(url: &str) -> Result<String> {
    let u = url.trim().trim_end_matches('/');
    if !(u.starts_with("http://") || u.starts_with("https://")) || host_of(u).is_empty() {
        return Err(Error::InvalidInput(format!(
            "--llm-url {u:?}: expected http://host:port/v1 (or https://)"
        )));
    }
    Ok(u.to_string())
}

/// A body excerpt for error messages (engines put the reason there).
fn excerpt(body: &str) -> String {
    let one_line = body.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut s: String = one_line.chars().take(300).collect();
    if one_line.chars().count() > 300 {
        s.push('…');
    }
    s
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl RemoteBackend {
    /// Set up the engines (no request is made: a server that is down now may
    /// be up when the first question comes; [`RemoteBackend::probe`] checks).
    pub fn new(opts: RemoteOptions) -> Result<RemoteBackend> {
        if opts.urls.is_empty() {
            return Err(Error::InvalidInput("no --llm-url given".into()));
        }
        let mut nodes = Vec::new();
        for u in &opts.urls {
            let base = check_url(u)?;
            if nodes.iter().any(|n: &Node| n.base == base) {
                continue;
            }
            nodes.push(Node {
                host: host_of(&base),
                base,
                down_since: Mutex::new(None),
                model: Mutex::new(opts.model.clone()),
            });
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(opts.connect_timeout))
            .timeout_per_read(Some(opts.read_timeout))
            .user_agent(format!("lawbrain/{}", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(RemoteBackend {
            nodes,
            next: AtomicUsize::new(0),
            agent,
            opts,
        })
    }

    /// `GET /models` on every URL: marks each up or down and learns the
    /// model names. Returns how many answered.
    pub fn probe(&self) -> usize {
        self.nodes.iter().filter(|n| self.probe_node(n)).count()
    }

    fn probe_node(&self, node: &Node) -> bool {
        match self.models(node) {
            Ok(models) => {
                node.mark_up();
                let mut m = node.model.lock().unwrap_or_else(|e| e.into_inner());
                if m.is_none() {
                    *m = Some(
                        models
                            .into_iter()
                            .next()
                            .unwrap_or_else(|| "default".into()),
                    );
                }
                true
            }
            Err(e) => {
                tracing::warn!(engine = %node.host, error = %e, "remote engine health check failed");
                node.mark_down();
                false
            }
        }
    }

    /// The model ids a server lists.
    fn models(&self, node: &Node) -> Result<Vec<String>> {
        let mut req = self
            .agent
            .get(format!("{}/models", node.base))
            .config()
            .timeout_global(Some(self.opts.connect_timeout.max(Duration::from_secs(2))))
            .build();
        if let Some(k) = &self.opts.api_key {
            req = req.header("Authorization", format!("Bearer {k}"));
        }
        let mut resp = req
            .call()
            .map_err(|e| Error::Remote(format!("{}: {e}", node.host)))?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_string()
            .map_err(|e| Error::Remote(format!("{}: reading /models: {e}", node.host)))?;
        if status != 200 {
            return Err(Error::Remote(format!(
                "{}: GET /models answered {status}: {}",
                node.host,
                excerpt(&body)
            )));
        }
        let v: Value = serde_json::from_str(&body)
            .map_err(|e| Error::Remote(format!("{}: /models is not JSON: {e}", node.host)))?;
        Ok(v["data"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|m| m["id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The next URL to use: round-robin over the ones up; a down one whose
    /// cooldown has passed is probed first; when all are down, the one down
    /// longest is tried anyway (it may be back).
    fn pick(&self) -> &Node {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let up: Vec<&Node> = self
            .nodes
            .iter()
            .filter(|node| match node.is_down(self.opts.cooldown) {
                Some(down) => !down,
                None => self.probe_node(node),
            })
            .collect();
        if !up.is_empty() {
            return up[start % up.len()];
        }
        self.nodes
            .iter()
            .min_by_key(|n| *n.down_since.lock().unwrap_or_else(|e| e.into_inner()))
            .unwrap_or(&self.nodes[start % self.nodes.len()])
    }

    fn model_for(&self, node: &Node) -> String {
        if let Some(m) = node.model.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            return m;
        }
        // Not discovered yet: ask once (a failure leaves it for next time).
        match self.models(node) {
            Ok(models) => {
                let m = models
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| "default".into());
                *node.model.lock().unwrap_or_else(|e| e.into_inner()) = Some(m.clone());
                m
            }
            Err(_) => "default".into(),
        }
    }

    fn body(&self, model: &str, messages: &[ChatMessage], p: &GenParams) -> Value {
        let mut b = json!({
            "model": model,
            "messages": messages,
            "stream": true,
            "max_tokens": p.max_tokens,
            "temperature": p.temperature,
            "seed": p.seed,
        });
        if let Some(top_p) = p.top_p {
            b["top_p"] = json!(top_p);
        }
        if (p.repeat_penalty - 1.0).abs() > f32::EPSILON {
            // llama.cpp's name and vLLM's; other servers ignore them.
            b["repeat_penalty"] = json!(p.repeat_penalty);
            b["repetition_penalty"] = json!(p.repeat_penalty);
        }
        b
    }

    /// Send one request to `node`; a 200 response to stream, or why not.
    fn send(
        &self,
        node: &Node,
        body: &Value,
        deadline: Option<Instant>,
    ) -> std::result::Result<ureq::http::Response<ureq::Body>, Attempt> {
        let budget = match deadline {
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(Attempt::Deadline);
                }
                left
            }
            None => self.opts.request_timeout,
        };
        let mut req = self
            .agent
            .post(format!("{}/chat/completions", node.base))
            .config()
            .timeout_global(Some(budget))
            .build()
            .header("Accept", "text/event-stream");
        if let Some(k) = &self.opts.api_key {
            req = req.header("Authorization", format!("Bearer {k}"));
        }
        let resp = match req.send_json(body) {
            Ok(r) => r,
            Err(ureq::Error::Timeout(t)) => {
                return Err(match deadline {
                    Some(d) if Instant::now() + Duration::from_millis(50) >= d => Attempt::Deadline,
                    _ => Attempt::Unreachable(format!("{}: timed out ({t})", node.host)),
                })
            }
            Err(e) => return Err(Attempt::Unreachable(format!("{}: {e}", node.host))),
        };
        let status = resp.status().as_u16();
        if status == 200 {
            return Ok(resp);
        }
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        if status == 429 || status == 503 {
            return Err(Attempt::Busy(status, retry_after));
        }
        let mut resp = resp;
        let text = resp
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_string()
            .unwrap_or_default();
        Err(Attempt::Fatal(format!(
            "{} answered {status}: {}",
            node.host,
            excerpt(&text)
        )))
    }
}

/// What a stream said besides text.
#[derive(Default)]
struct StreamEnd {
    finish: Option<String>,
    done: bool,
    usage: Option<(usize, usize)>,
}

impl Backend for RemoteBackend {
    fn name(&self) -> String {
        let model = self
            .nodes
            .iter()
            .find_map(|n| n.model.lock().unwrap_or_else(|e| e.into_inner()).clone())
            .unwrap_or_else(|| "auto".into());
        // Servers that name models by their file path: the file name is enough.
        let model = model.rsplit('/').next().unwrap_or(&model).to_string();
        let hosts: Vec<&str> = self.nodes.iter().map(|n| n.host.as_str()).collect();
        format!("remote:{model}@{}", hosts.join(","))
    }

    fn generate(
        &self,
        messages: &[ChatMessage],
        params: &GenParams,
        on_text: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Generation> {
        let t0 = Instant::now();
        let deadline = params.deadline;
        let stopped = |text: String, stop: StopReason| Generation {
            text,
            stop,
            stats: GenStats {
                total_ms: ms(t0.elapsed()),
                ..GenStats::default()
            },
        };
        // Connect, retrying what may pass.
        let attempts = (self.opts.retries as usize + 1).max(self.nodes.len());
        let mut last_err = String::new();
        let mut backoff = self.opts.backoff;
        let mut got = None;
        for attempt in 0..attempts {
            let node = self.pick();
            let body = self.body(&self.model_for(node), messages, params);
            let wait = match self.send(node, &body, deadline) {
                Ok(resp) => {
                    node.mark_up();
                    got = Some((node, resp));
                    break;
                }
                Err(Attempt::Deadline) => return Ok(stopped(String::new(), StopReason::Deadline)),
                Err(Attempt::Fatal(e)) => return Err(Error::Remote(e)),
                Err(Attempt::Unreachable(e)) => {
                    node.mark_down();
                    last_err = e;
                    // Another URL may be up: try it at once.
                    if self
                        .nodes
                        .iter()
                        .any(|n| n.is_down(self.opts.cooldown) == Some(false))
                    {
                        Duration::ZERO
                    } else {
                        backoff
                    }
                }
                Err(Attempt::Busy(status, after)) => {
                    last_err = format!("{} answered {status} (busy)", node.host);
                    after.unwrap_or(backoff).min(Duration::from_secs(30))
                }
            };
            if attempt + 1 == attempts {
                break;
            }
            tracing::info!(attempt = attempt + 1, wait_ms = wait.as_millis() as u64, error = %last_err, "remote engine: retrying");
            if let Some(d) = deadline {
                if Instant::now() + wait >= d {
                    return Ok(stopped(String::new(), StopReason::Deadline));
                }
            }
            std::thread::sleep(wait);
            if !wait.is_zero() {
                backoff = (backoff * 2).min(Duration::from_secs(8));
            }
        }
        let Some((node, resp)) = got else {
            return Err(Error::Remote(format!(
                "no engine answered after {attempts} attempts: {last_err}"
            )));
        };

        // Stream.
        let t_sent = Instant::now();
        let reader = resp.into_body().into_with_config().limit(64 << 20).reader();
        let mut lines = BufReader::new(reader);
        let mut text = String::new();
        let mut pieces = 0usize;
        let mut first: Option<Instant> = None;
        let mut last = t_sent;
        let mut end = StreamEnd::default();
        let mut line = String::new();
        let mut data = String::new();
        let stats = |pieces: usize,
                     first: Option<Instant>,
                     last: Instant,
                     usage: Option<(usize, usize)>| {
            let gen_tokens = usage.map_or(pieces, |u| u.1);
            let ttft = first.map_or(0.0, |f| ms(f - t0));
            let span = first.map_or(0.0, |f| (last - f).as_secs_f64());
            GenStats {
                prompt_tokens: usage.map_or(0, |u| u.0),
                cached_prompt_tokens: 0,
                gen_tokens,
                ttft_ms: ttft,
                prompt_tokens_per_s: 0.0,
                tokens_per_s: if gen_tokens > 1 && span > 0.0 {
                    (gen_tokens - 1) as f64 / span
                } else {
                    0.0
                },
                total_ms: ms(t0.elapsed()),
                ..GenStats::default()
            }
        };
        loop {
            if let Some(d) = deadline {
                if Instant::now() >= d {
                    // Dropping the reader closes the connection.
                    return Ok(Generation {
                        text,
                        stop: StopReason::Deadline,
                        stats: stats(pieces, first, last, end.usage),
                    });
                }
            }
            line.clear();
            match lines.read_line(&mut line) {
                // End of the body: a last event without its blank line still counts.
                Ok(0) if data.is_empty() => break,
                Ok(0) => {}
                Ok(_) => {}
                Err(e) => {
                    if deadline.is_some_and(|d| Instant::now() + Duration::from_millis(50) >= d) {
                        return Ok(Generation {
                            text,
                            stop: StopReason::Deadline,
                            stats: stats(pieces, first, last, end.usage),
                        });
                    }
                    return Err(Error::Remote(format!(
                        "{} failed mid-answer after {pieces} pieces: {e}",
                        node.host
                    )));
                }
            }
            let l = line.trim_end_matches(['\r', '\n']);
            if let Some(d) = l.strip_prefix("data:") {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(d.strip_prefix(' ').unwrap_or(d));
                continue;
            }
            if !l.is_empty() || data.is_empty() {
                continue; // comments (`: ping`), `event:`/`id:` fields
            }
            // A blank line ends an event.
            let event = std::mem::take(&mut data);
            if event.trim() == "[DONE]" {
                end.done = true;
                break;
            }
            let v: Value = serde_json::from_str(&event).map_err(|e| {
                Error::Remote(format!(
                    "{}: unreadable stream event ({e}): {}",
                    node.host,
                    excerpt(&event)
                ))
            })?;
            if let Some(err) = v.get("error") {
                let msg = err["message"]
                    .as_str()
                    .map_or_else(|| err.to_string(), str::to_string);
                return Err(Error::Remote(format!(
                    "{} reported an error mid-answer after {pieces} pieces: {}",
                    node.host,
                    excerpt(&msg)
                )));
            }
            if let Some(u) = v.get("usage").filter(|u| !u.is_null()) {
                end.usage = Some((
                    u["prompt_tokens"].as_u64().unwrap_or(0) as usize,
                    u["completion_tokens"].as_u64().unwrap_or(0) as usize,
                ));
            }
            let choice = &v["choices"][0];
            if let Some(f) = choice["finish_reason"].as_str() {
                end.finish = Some(f.to_string());
            }
            if let Some(piece) = choice["delta"]["content"]
                .as_str()
                .filter(|s| !s.is_empty())
            {
                let now = Instant::now();
                first.get_or_insert(now);
                last = now;
                pieces += 1;
                text.push_str(piece);
                if !on_text(piece) {
                    return Ok(Generation {
                        text,
                        stop: StopReason::Cancelled,
                        stats: stats(pieces, first, last, end.usage),
                    });
                }
            }
        }
        if !end.done && end.finish.is_none() {
            return Err(Error::Remote(format!(
                "{} closed the stream mid-answer after {pieces} pieces",
                node.host
            )));
        }
        let stop = match end.finish.as_deref() {
            Some("length") => StopReason::Length,
            _ => StopReason::Eos,
        };
        let g = Generation {
            stop,
            stats: stats(pieces, first, last, end.usage),
            text,
        };
        tracing::debug!(engine = %node.host, tokens = g.stats.gen_tokens, ttft_ms = g.stats.ttft_ms, "remote generation done");
        Ok(g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_keys_never_shown() {
        assert!(RemoteBackend::new(RemoteOptions::default()).is_err());
        let bad = RemoteOptions {
            urls: vec!["localhost:8000/v1".into()],
            ..RemoteOptions::default()
        };
        assert!(matches!(
            RemoteBackend::new(bad),
            Err(Error::InvalidInput(_))
        ));
        let ok = RemoteOptions {
            urls: vec![
                "http://10.0.0.1:8000/v1/".into(),
                "http://10.0.0.1:8000/v1".into(),
                "https://gpu-2:443/v1".into(),
            ],
            model: Some("qwen".into()),
            api_key: Some("sk-secret-value".into()),
            ..RemoteOptions::default()
        };
        assert!(!format!("{ok:?}").contains("sk-secret-value"));
        let b = RemoteBackend::new(ok).expect("valid");
        assert_eq!(b.nodes.len(), 2, "the duplicate URL is used once");
        assert_eq!(b.name(), "remote:qwen@10.0.0.1:8000,gpu-2:443");
        assert_eq!(b.count_tokens("任何文本"), None);
    }
}
