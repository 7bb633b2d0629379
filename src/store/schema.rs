//! Schema migrations, the same for both backends: tracked with SQLite's
//! `user_version`, and on PostgreSQL in the one-row table `schema_version`.
//!
//! Each entry of [`MIGRATIONS`] moves the database one version up and runs in
//! its own transaction, so an interrupted upgrade leaves the previous version.
//! The DDL is written for SQLite; PostgreSQL gets it in its own types
//! ([`super::db::pg_ddl`]). On PostgreSQL each step holds an advisory lock
//! (per schema) while it reads the version and migrates, so several servers
//! starting at once on one database migrate it once.

use super::db::{pg_ddl, Conn, Kind};

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
    "user" TEXT NOT NULL,
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
pub(crate) fn migrate(conn: &mut Conn) -> crate::Result<()> {
    match conn.kind() {
        Kind::Sqlite => migrate_sqlite(conn),
        Kind::Postgres => migrate_postgres(conn),
    }
}

fn newer(version: u32) -> crate::Error {
    crate::Error::Store(format!(
        "database schema version {version} is newer than this lawbrain ({})",
        current_version()
    ))
}

fn migrate_sqlite(conn: &mut Conn) -> crate::Result<()> {
    let version: u32 = conn.query_one("PRAGMA user_version", &[])?.get(0)?;
    if version > current_version() {
        return Err(newer(version));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        conn.transaction(|tx| {
            tx.batch(sql)?;
            tx.batch(&format!("PRAGMA user_version = {}", i + 1))
        })?;
        tracing::info!(version = i + 1, "storage schema migrated");
    }
    Ok(())
}

/// The schema version of a PostgreSQL database (0 when new).
pub(crate) fn postgres_version(conn: &mut Conn) -> crate::Result<u32> {
    conn.batch("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")?;
    Ok(conn
        .query_opt("SELECT version FROM schema_version", &[])?
        .map(|r| r.get::<u32>(0))
        .transpose()?
        .unwrap_or(0))
}

fn migrate_postgres(conn: &mut Conn) -> crate::Result<()> {
    loop {
        let done = conn.transaction(|tx| {
            // Serialises migrators of this schema (another server starting now).
            tx.query(
                "SELECT pg_advisory_xact_lock(1819042147, hashtext(current_schema()))::text",
                &[],
            )?;
            let version = postgres_version(tx)?;
            if version > current_version() {
                return Err(newer(version));
            }
            let Some(sql) = MIGRATIONS.get(version as usize) else {
                return Ok(true);
            };
            tx.batch(&pg_ddl(sql))?;
            tx.execute("DELETE FROM schema_version", &[])?;
            tx.execute(
                "INSERT INTO schema_version (version) VALUES (?1)",
                &[super::db::Value::Int(i64::from(version) + 1)],
            )?;
            tracing::info!(version = version + 1, "storage schema migrated");
            Ok(false)
        })?;
        if done {
            return Ok(());
        }
    }
}
