//! The citizen and staff flows in real headless Chromium (Debian `chromium`),
//! driven over the DevTools protocol by `tests/browser.js` (Node 20+):
//! a citizen asks, sees articles, a streamed answer and a referral, opens a
//! citation, presses 转人工; a staff user logs in and approves the item, then
//! drafts a hotline answer on the agent console, which streams it and opens the call.
//! Screenshots land in `target/browser-artifacts/`.

mod common;
mod serverkit;

use std::sync::Arc;

use lawbrain::store::{Role, Store};
use serverkit::{config, real_brain, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn citizen_asks_and_staff_approves_in_chromium() {
    let store = Arc::new(Store::open_in_memory().expect("store"));
    store
        .add_user("reviewer", Role::Staff, "reviewer-pass-1")
        .expect("user");
    let s = start(real_brain(), store.clone(), config()).await;
    let artifacts = serverkit::repo().join("target").join("browser-artifacts");
    let url = s.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg("--experimental-websocket")
            .arg(serverkit::repo().join("tests").join("browser.js"))
            .arg(&url)
            .arg(&artifacts)
            .env("LB_STAFF_USER", "reviewer")
            .env("LB_STAFF_PASS", "reviewer-pass-1")
            .output()
            .expect("node (Node.js 20+) on PATH")
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "browser flow failed:\n{stdout}\n{stderr}"
    );
    let r: serde_json::Value =
        serde_json::from_str(stdout.lines().last().expect("result line")).expect("json");
    assert!(r["hits"].as_u64().expect("hits") >= 1, "{r}");
    let answer = r["answer"].as_str().expect("answer");
    assert!(
        answer.chars().count() > 20 && answer.contains('《'),
        "a grounded answer: {r}"
    );
    assert!(
        r["referral"].as_str().expect("referral").contains("12348"),
        "{r}"
    );
    assert!(
        r["article_text"].as_str().expect("text").chars().count() > 10,
        "{r}"
    );
    assert!(
        r["handoff"].as_str().expect("handoff").contains("已转人工"),
        "{r}"
    );
    assert_eq!(r["approved"], true);
    assert_eq!(
        r["agent_streamed"], true,
        "the console streamed the draft: {r}"
    );
    assert_eq!(r["agent_call"], true, "the console opened the call: {r}");
    let errors: Vec<&serde_json::Value> = r["errors"].as_array().expect("errors").iter().collect();
    assert!(
        errors.is_empty(),
        "script errors or CSP violations in the page: {errors:?}"
    );
    let approved = store
        .reviews("approved", Some("human_request"), 10)
        .expect("reviews");
    assert_eq!(approved.len(), 1);
    assert_eq!(approved[0].reviewer.as_deref(), Some("reviewer"));
}
