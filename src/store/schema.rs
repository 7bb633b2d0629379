//! Schema migrations, tracked with SQLite's `user_version`.
//!
//! Each entry of [`MIGRATIONS`] moves the database one version up and runs in
//! its own transaction, so an interrupted upgrade leaves the previous version.

use rusqlite::Connection;

/// Migration `i` takes the database from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX messages_conv ON messages(conversation_id, id);
CREATE TABLE answers (
    id INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL,
    triage TEXT NOT NULL,
    flags TEXT NOT NULL,
    timings TEXT NOT NULL,
    fallback INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX answers_conv ON answers(conversation_id);
CREATE TABLE reviews (
    id INTEGER PRIMARY KEY,
    answer_id INTEGER NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
    status TEXT NOT NULL DEFAULT 'pending',
    note TEXT NOT NULL DEFAULT '',
    final_answer TEXT,
    comment TEXT,
    reviewer TEXT,
    created_at INTEGER NOT NULL,
    decided_at INTEGER
);
CREATE INDEX reviews_status ON reviews(status, id);
CREATE TABLE review_reasons (
    review_id INTEGER NOT NULL REFERENCES reviews(id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    PRIMARY KEY (review_id, reason)
);
CREATE TABLE feedback (
    id INTEGER PRIMARY KEY,
    answer_id INTEGER NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
    helpful INTEGER NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE calls (
    id INTEGER PRIMARY KEY,
    agent TEXT NOT NULL,
    answer_id INTEGER NOT NULL REFERENCES answers(id) ON DELETE CASCADE,
    reply TEXT,
    status TEXT NOT NULL DEFAULT 'open',
    created_at INTEGER NOT NULL,
    closed_at INTEGER
);
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    user TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    at INTEGER NOT NULL
);
"#,
    // 2: feedback and hand-off need the answer's token (only its sha256 is
    // kept); a one-row table the health probe writes to.
    r#"
ALTER TABLE answers ADD COLUMN token_hash TEXT;
CREATE TABLE health_probe (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    at INTEGER NOT NULL
);
"#,
];

/// The schema version this build writes.
pub fn current_version() -> u32 {
    MIGRATIONS.len() as u32
}

/// Bring `conn` up to [`current_version`]. A database from a newer build is refused.
pub fn migrate(conn: &mut Connection) -> crate::Result<()> {
    let version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > current_version() {
        return Err(crate::Error::Store(format!(
            "database schema version {version} is newer than this lawbrain ({})",
            current_version()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as u32 + 1)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "storage schema migrated");
    }
    Ok(())
}
