//! `lawbrain serve` itself (the binary, as operators run it) under 300
//! slow clients with a low open-file limit, and a second server started on
//! the same data directory.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpSocket;

/// A server process, killed when dropped.
struct Server {
    child: Child,
    port: u16,
    log: mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `lawbrain serve` on the test index with `ulimit -Sn fd_limit`, a
/// database in `db_dir`; waits for its address.
fn serve(db_dir: &std::path::Path, fd_limit: u32) -> Result<Server, String> {
    let index = common::index_dir();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -Sn {fd_limit} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_lawbrain"))
        .args(["serve", "--no-setup", "--no-llm", "--addr", "127.0.0.1:0"])
        .arg("--index")
        .arg(&index)
        .arg("--db")
        .arg(db_dir.join("lawbrain.sqlite3"))
        .env("LAWBRAIN_DATA", db_dir)
        .env("LAWBRAIN_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("starting lawbrain: {e}"))?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let re = regex::Regex::new(r"serving on http://127\.0\.0\.1:(\d+)/").expect("regex");
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                if let Some(port) = re.captures(&line).and_then(|c| c[1].parse().ok()) {
                    return Ok(Server {
                        child,
                        port,
                        log: rx,
                    });
                }
                seen.push(line);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!("lawbrain exited ({status}): {}", seen.join("\n")));
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
                return Err(format!("lawbrain exited ({status}): {}", seen.join("\n")));
            }
        }
    }
    let _ = child.kill();
    Err(format!("lawbrain did not start: {}", seen.join("\n")))
}

async fn slow_connection(port: u16, from: &str) -> tokio::net::TcpStream {
    let sock = TcpSocket::new_v4().expect("socket");
    sock.bind(format!("{from}:0").parse().expect("source"))
        .expect("bind source address");
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let mut s = sock.connect(addr).await.expect("connect");
    s.write_all(b"GET /healthz HTTP/1.1\r\nHo")
        .await
        .expect("write");
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_under_300_slow_clients_with_a_low_descriptor_limit() {
    // Build (or reuse) the test index before starting the server on it.
    let _ = common::national_corpus();
    let _ = common::searcher();
    let dir = tempfile::tempdir().expect("tmp");
    let server = tokio::task::spawn_blocking({
        let d = dir.path().to_path_buf();
        move || serve(&d, 256)
    })
    .await
    .expect("join")
    .unwrap_or_else(|e| panic!("{e}"));
    let port = server.port;
    let mut slow = Vec::new();
    for i in 0..300 {
        slow.push(slow_connection(port, &format!("127.0.0.{}", 2 + i % 10)).await);
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let mut times = Vec::new();
    let mut open = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let r = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            .expect("healthz answers with 300 slow clients connected");
        times.push(t.elapsed());
        assert_eq!(r.status(), 200);
        let v: serde_json::Value = r.json().await.expect("json");
        open = v["connections"].as_u64().unwrap_or(0).max(open);
    }
    let worst = times.iter().max().copied().unwrap_or_default();
    println!("healthz under 300 slow clients, open-file limit 256 at start: worst of 5 {worst:?}, {open} connections open");
    assert!(worst < Duration::from_secs(1), "{times:?}");
    assert!(open >= 300, "the slow clients were all connected: {open}");
    drop(slow);

    // A second server on the same data directory refuses to start.
    let second = tokio::task::spawn_blocking({
        let d = dir.path().to_path_buf();
        move || serve(&d, 1024)
    })
    .await
    .expect("join");
    let err = match second {
        Ok(_) => panic!("a second server started on the same data directory"),
        Err(e) => e,
    };
    assert!(err.contains("in use by another lawbrain server"), "{err}");
    assert!(
        err.contains(&format!("pid {}", server.child.id())),
        "names the server holding it: {err}"
    );
    let log: Vec<String> = server.log.try_iter().collect();
    assert!(
        log.iter().all(|l| !l.contains("Too many open files")),
        "{log:?}"
    );
}
