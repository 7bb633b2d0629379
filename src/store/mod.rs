//! Storage for the service: conversations, messages, answers, reviews,
//! feedback, hotline calls, users, sessions and the audit log of staff actions,
//! in an embedded SQLite file (the default) or a PostgreSQL database that
//! several servers share ([`Database`]; the two backends are in [`db`]).
//!
//! Owns: the schema and its migrations ([`schema`]), WAL mode, redaction of
//! personal data before anything is written ([`redact`]), the retention
//! purge (which leaves nothing of the purged text in the files: deleted
//! content is zeroed, the log checkpointed and the file vacuumed), storage
//! health ([`Store::health`]) and the data-directory lock ([`lock`]). An
//! answer is written in one transaction together with its question, so a
//! crash leaves either the whole turn or nothing. Database files are created
//! readable by their owner only (0600). Write transactions start `IMMEDIATE`,
//! so a second process on the same file (the `purge` command beside a
//! running server) waits for the busy timeout instead of failing.
//!
//! On PostgreSQL the same schema, migrations, redaction, purge and review
//! queue apply; the statements that could race another server (deciding a
//! review, closing a call, adding a review reason, adding a user) check
//! their condition in the statement or lock the row they depend on, so two
//! servers never both succeed at one decision. File modes, the data
//! directory lock, page caps and the free-disk figure are SQLite's and do
//! not apply there.

pub(crate) mod db;
pub mod lock;
pub mod redact;
pub mod schema;
mod users;

pub use db::redact_url;
pub use lock::DirLock;
pub use users::{Role, User};

use db::{vals, Conn, Kind, Row};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::answer::Answer;
use crate::llm::ChatMessage;
use crate::{Error, Result};

/// Review reasons the service adds beside the triage's [`crate::triage::ReviewReason`] ids.
pub const REASON_HUMAN: &str = "human_request";
/// A citizen said the answer did not help.
pub const REASON_NEGATIVE: &str = "negative_feedback";
/// A hotline agent escalated the call.
pub const REASON_ESCALATED: &str = "escalated";

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The service database. One connection behind a mutex: every operation is
/// a few small statements, far cheaper than the generation they record.
pub struct Store {
    conn: Mutex<Conn>,
    kind: Kind,
    /// The database file (`None` in memory), for the free-space figure.
    path: Option<std::path::PathBuf>,
    health: Mutex<HealthState>,
}

/// How long a successful health probe is reused.
const PROBE_TTL: Duration = Duration::from_secs(2);
/// How long a failed one is (so recovery shows at once).
const FAILED_PROBE_TTL: Duration = Duration::from_millis(250);
/// A failed real write is forgotten once a probe succeeds this long after it
/// (so health recovers without traffic), or at once by a real write that succeeds.
const FAILURE_MEMORY: Duration = Duration::from_secs(10);
/// Less free space than this on the database's file system is reported as a fault.
const MIN_FREE_BYTES: u64 = 1024 * 1024;

#[derive(Default)]
struct HealthState {
    /// The last failed write: why, when (unix seconds, and as an instant).
    last_failure: Option<(String, i64, Instant)>,
    /// The last probe: when, and its error if it failed.
    probe: Option<(Instant, Option<String>)>,
}

/// Whether the database takes writes, as `/healthz` reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StorageHealth {
    /// A probe write succeeded and the last real write did not fail.
    pub ok: bool,
    /// Why not, when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When the last real write failed (unix seconds), if it did and none succeeded since.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_failure_at: Option<i64>,
    /// Free space on the database's file system (MiB), where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk_free_mb: Option<u64>,
    /// `sqlite` or `postgres`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
}

/// Whether `e` means the storage cannot take the request now (disk full,
/// read-only, I/O error, locked, corrupt): the service answers 503 to these.
pub fn unavailable(e: &Error) -> bool {
    use rusqlite::ErrorCode as C;
    match e {
        Error::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => matches!(
            f.code,
            C::DiskFull
                | C::DatabaseBusy
                | C::DatabaseLocked
                | C::ReadOnly
                | C::SystemIoFailure
                | C::CannotOpen
                | C::DatabaseCorrupt
                | C::NotADatabase
                | C::OutOfMemory
                | C::FileLockingProtocolFailed
        ),
        Error::Postgres(e) => postgres_unavailable(e),
        Error::StorageDown(_) | Error::Io { .. } => true,
        _ => false,
    }
}

/// A PostgreSQL error that means the server cannot take the request now: no
/// connection, a connection-class error, shutdown, no room, too many
/// connections, read-only, a serialization failure or a deadlock (retryable).
fn postgres_unavailable(e: &postgres::Error) -> bool {
    let Some(code) = e.code() else {
        // No SQLSTATE: the connection failed or was lost.
        return true;
    };
    let c = code.code();
    c.starts_with("08") // connection exception
        || c.starts_with("53") // insufficient resources (disk full, out of memory, too many connections)
        || c.starts_with("57P") // admin shutdown, crash shutdown, cannot connect now
        || c.starts_with("40") // serialization failure, deadlock
        || c == "25006" // read-only transaction (a standby)
        || c.starts_with("58") // system error (I/O)
}

/// A stored answer's id and the token that lets its asker give feedback or
/// ask for a person (returned once, with the answer; only its hash is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedAnswer {
    pub id: i64,
    pub token: String,
}

/// A stored answer as the review queue and agent console show it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AnswerRecord {
    pub id: i64,
    pub conversation_id: String,
    pub question: String,
    pub answer: String,
    pub citations: serde_json::Value,
    pub triage: serde_json::Value,
    pub flags: Vec<String>,
    pub timings: serde_json::Value,
    pub fallback: bool,
    pub created_at: i64,
}

/// One item of the review queue.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReviewItem {
    pub id: i64,
    pub answer: AnswerRecord,
    pub reasons: Vec<String>,
    pub status: String,
    pub note: String,
    pub final_answer: Option<String>,
    pub comment: Option<String>,
    pub reviewer: Option<String>,
    pub created_at: i64,
}

/// A staff decision on a review item.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Approve, optionally with an edited answer.
    Approve { edited: Option<String> },
    /// Reject with a comment.
    Reject { comment: String },
}

/// One hotline call.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Call {
    pub id: i64,
    pub agent: String,
    pub answer: AnswerRecord,
    pub reply: Option<String>,
    pub status: String,
    pub created_at: i64,
}

/// One audit log entry: (user, action, target, detail, unix time).
pub type AuditEntry = (String, String, String, String, i64);

/// What a purge removed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PurgeReport {
    pub conversations: usize,
    pub sessions: usize,
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Create `path` readable and writable by its owner only, or tighten an
/// existing file (and its `-wal`/`-shm` companions) to that. SQLite creates
/// the companions with the database file's permissions.
#[cfg(unix)]
fn owner_only(path: &Path) -> Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if !path.exists() {
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(|e| Error::io(format!("creating {}", path.display()), e))?;
    }
    let mut names = vec![path.to_path_buf()];
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        names.push(p.into());
    }
    for p in names {
        if let Ok(meta) = std::fs::metadata(&p) {
            if meta.permissions().mode() & 0o077 != 0 {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| Error::io(format!("restricting {}", p.display()), e))?;
            }
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn owner_only(_path: &Path) -> Result<()> {
    Ok(())
}

/// Free bytes on the file system holding `path`.
#[cfg(unix)]
#[allow(clippy::unnecessary_cast)] // the statvfs field types vary by platform
fn disk_free(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty())?;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: `c` is a valid NUL-terminated path and `st` a plain struct
    // statvfs fills in; nothing is kept past the call.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    (rc == 0).then(|| st.f_bavail as u64 * st.f_frsize as u64)
}

#[cfg(not(unix))]
fn disk_free(_path: &Path) -> Option<u64> {
    None
}

/// A new conversation id (random, not guessable). The conversation is
/// stored with its first answer ([`Store::save_turn`]).
pub fn new_conversation_id() -> String {
    random_hex(12)
}

fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::fill(&mut b[..]);
    hex::encode(b)
}

fn answer_from_row(r: &Row) -> Result<AnswerRecord> {
    let parse = |s: String| serde_json::from_str(&s).unwrap_or(serde_json::Value::Null);
    Ok(AnswerRecord {
        id: r.col("id")?,
        conversation_id: r.col("conversation_id")?,
        question: r.col("question")?,
        answer: r.col("answer")?,
        citations: parse(r.col("citations")?),
        triage: parse(r.col("triage")?),
        flags: serde_json::from_str(&r.col::<String>("flags")?).unwrap_or_default(),
        timings: parse(r.col("timings")?),
        fallback: r.col("fallback")?,
        created_at: r.col("created_at")?,
    })
}

const ANSWER_COLS: &str =
    "a.id AS id, a.conversation_id, a.question, a.answer, a.citations, a.triage, a.flags, a.timings, a.fallback, a.created_at";

/// Where the service database is: a SQLite file, or a PostgreSQL server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// The embedded SQLite file.
    Sqlite(std::path::PathBuf),
    /// A `postgres://` (or `postgresql://`) URL, libpq style.
    Postgres(String),
}

impl Database {
    /// A PostgreSQL URL (`postgres://user:password@host:port/db`, or with
    /// `?host=/run/postgresql` for a Unix socket). Anything else is refused.
    pub fn postgres(url: &str) -> Result<Database> {
        let url = url.trim();
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(Error::InvalidInput(format!(
                "--database takes a PostgreSQL URL (postgres://user@host/db), not {}",
                db::redact_url(url)
            )));
        }
        url.parse::<postgres::Config>().map_err(|e| {
            Error::InvalidInput(format!(
                "PostgreSQL URL {} is not valid: {e}",
                db::redact_url(url)
            ))
        })?;
        Ok(Database::Postgres(url.to_string()))
    }

    /// For logs: the file, or the URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Database::Sqlite(p) => p.display().to_string(),
            Database::Postgres(u) => db::redact_url(u),
        }
    }
}

impl Store {
    /// Open the database `db` (see [`Store::open`] and [`Store::open_postgres`]).
    pub fn open_database(db: &Database) -> Result<Store> {
        match db {
            Database::Sqlite(p) => Store::open(p),
            Database::Postgres(u) => Store::open_postgres(u),
        }
    }

    /// Open (creating if needed) the database at `path`, in WAL mode,
    /// migrated, its files readable by the owner only.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
            }
        }
        owner_only(path)?;
        let conn = Connection::open(path)?;
        Self::setup(conn, Some(path.to_path_buf()))
    }

    /// A private in-memory database (tests).
    pub fn open_in_memory() -> Result<Store> {
        Self::setup(Connection::open_in_memory()?, None)
    }

    /// Connect to the PostgreSQL database at `url` and migrate it. Several
    /// servers may share it: each takes the rows it changes under lock, and
    /// migrations run once. The connection is not encrypted (no TLS): keep
    /// the database on a private network or a Unix socket, or reach it
    /// through a TLS tunnel.
    pub fn open_postgres(url: &str) -> Result<Store> {
        Self::open_postgres_target(url, None)
    }

    /// [`Store::open_postgres`] with the tables in `schema` (created if
    /// missing): one database for several deployments, or for tests.
    pub fn open_postgres_in_schema(url: &str, schema: &str) -> Result<Store> {
        Self::open_postgres_target(url, Some(schema.to_string()))
    }

    fn open_postgres_target(url: &str, schema: Option<String>) -> Result<Store> {
        let Database::Postgres(url) = Database::postgres(url)? else {
            return Err(Error::InvalidInput("not a PostgreSQL URL".into()));
        };
        let config: postgres::Config = url
            .parse()
            .map_err(|e| Error::InvalidInput(format!("PostgreSQL URL: {e}")))?;
        let mut conn = Conn::Pg(db::PgHandle::connect(db::PgTarget { config, schema })?);
        schema::migrate(&mut conn)?;
        Ok(Store {
            conn: Mutex::new(conn),
            kind: Kind::Postgres,
            path: None,
            health: Mutex::new(HealthState::default()),
        })
    }

    fn setup(conn: Connection, path: Option<std::path::PathBuf>) -> Result<Store> {
        conn.busy_timeout(Duration::from_secs(5))?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        tracing::debug!(mode, "storage journal mode");
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Deleted rows are overwritten with zeros, not just unlinked.
        conn.pragma_update(None, "secure_delete", "ON")?;
        let mut conn = Conn::Sqlite(conn);
        schema::migrate(&mut conn)?;
        Ok(Store {
            conn: Mutex::new(conn),
            kind: Kind::Sqlite,
            path,
            health: Mutex::new(HealthState::default()),
        })
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match self.kind() {
            Kind::Sqlite => "sqlite",
            Kind::Postgres => "postgres",
        }
    }

    fn kind(&self) -> Kind {
        self.kind
    }

    pub(crate) fn conn(&self) -> MutexGuard<'_, Conn> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn health_state(&self) -> MutexGuard<'_, HealthState> {
        self.health.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Note the outcome of a write for [`Store::health`].
    fn track<T>(&self, r: Result<T>) -> Result<T> {
        match &r {
            Ok(_) => self.health_state().last_failure = None,
            Err(e) if unavailable(e) => {
                tracing::error!(error = %e, "storage write failed");
                self.health_state().last_failure = Some((e.to_string(), now(), Instant::now()));
            }
            Err(_) => {}
        }
        r
    }

    /// Whether the database takes writes: a small probe write (reused for
    /// two seconds), the outcome of the last real write, and the free space
    /// on its file system (under 1 MiB is a fault; SQLite only: a
    /// PostgreSQL server's disk is the server's to watch, and a full one
    /// fails the probe).
    pub fn health(&self) -> StorageHealth {
        let probe_error = self.probe_cached();
        let last_failure = self.health_state().last_failure.clone();
        let free = self.path.as_deref().and_then(disk_free);
        let low_disk = free
            .filter(|b| *b < MIN_FREE_BYTES)
            .map(|b| format!("disk nearly full: {} KiB free", b / 1024));
        let error = probe_error
            .or_else(|| last_failure.as_ref().map(|(m, _, _)| m.clone()))
            .or(low_disk);
        StorageHealth {
            ok: error.is_none(),
            error,
            last_failure_at: last_failure.map(|(_, at, _)| at),
            disk_free_mb: free.map(|b| b / (1024 * 1024)),
            backend: Some(self.backend().to_string()),
        }
    }

    /// Whether new consultations can be stored: `Err(why)` when the probe
    /// write fails now. (A failed real write alone does not refuse them: the
    /// next one may well succeed, and it is what clears the failure.)
    pub fn writable(&self) -> std::result::Result<(), String> {
        match self.probe_cached() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The probe's error, if it fails (a result at most [`PROBE_TTL`] old).
    fn probe_cached(&self) -> Option<String> {
        let cached = self
            .health_state()
            .probe
            .as_ref()
            .filter(|(at, e)| {
                at.elapsed()
                    < if e.is_none() {
                        PROBE_TTL
                    } else {
                        FAILED_PROBE_TTL
                    }
            })
            .map(|(_, e)| e.clone());
        match cached {
            Some(e) => e,
            None => {
                let e = self.probe().err().map(|e| e.to_string());
                let mut h = self.health_state();
                h.probe = Some((Instant::now(), e.clone()));
                if e.is_none()
                    && h.last_failure
                        .as_ref()
                        .is_some_and(|(_, _, at)| at.elapsed() >= FAILURE_MEMORY)
                {
                    h.last_failure = None;
                }
                e
            }
        }
    }

    fn probe(&self) -> Result<()> {
        self.conn().transaction(|tx| {
            tx.execute(
                "INSERT INTO health_probe (id, at) VALUES (1, ?1) ON CONFLICT(id) DO UPDATE SET at = excluded.at",
                vals![now()],
            )?;
            Ok(())
        })
    }

    fn sqlite_only(&self, what: &str) -> Result<()> {
        match self.kind() {
            Kind::Sqlite => Ok(()),
            Kind::Postgres => Err(Error::InvalidInput(format!(
                "{what} is a SQLite setting; it does not apply to PostgreSQL"
            ))),
        }
    }

    /// Cap the database at `pages` pages (`PRAGMA max_page_count`): writes
    /// that need more fail as on a full disk. For bounding the file, and for
    /// testing how the service behaves when storage fills up. Returns the
    /// cap in force. SQLite only.
    pub fn set_max_pages(&self, pages: u64) -> Result<u64> {
        self.sqlite_only("max_page_count")?;
        self.conn()
            .query_one(&format!("PRAGMA max_page_count = {pages}"), &[])?
            .get(0)
    }

    /// Pages the database uses now. SQLite only.
    pub fn page_count(&self) -> Result<u64> {
        self.sqlite_only("page_count")?;
        self.conn().query_one("PRAGMA page_count", &[])?.get(0)
    }

    /// Start a conversation; returns its id (random, not guessable).
    pub fn create_conversation(&self, channel: &str) -> Result<String> {
        let id = new_conversation_id();
        self.conn().execute(
            "INSERT INTO conversations (id, channel, created_at) VALUES (?1, ?2, ?3)",
            vals![&id, channel, now()],
        )?;
        Ok(id)
    }

    /// Whether a conversation exists.
    pub fn conversation_exists(&self, id: &str) -> Result<bool> {
        Ok(self
            .conn()
            .query_opt("SELECT 1 FROM conversations WHERE id = ?1", vals![id])?
            .is_some())
    }

    /// Earlier turns of a conversation, oldest first (already redacted).
    pub fn history(&self, conversation_id: &str) -> Result<Vec<ChatMessage>> {
        self.conn()
            .query(
                "SELECT role, content FROM messages WHERE conversation_id = ?1 ORDER BY id",
                vals![conversation_id],
            )?
            .iter()
            .map(|r| {
                Ok(ChatMessage {
                    role: r.get(0)?,
                    content: r.get(1)?,
                })
            })
            .collect()
    }

    /// Store a finished turn: the question, the answer and, when the triage or
    /// `extra_flags` ask for it, a review item. All or nothing. Returns the answer id.
    pub fn save_answer(
        &self,
        conversation_id: &str,
        answer: &Answer,
        extra_flags: &[String],
    ) -> Result<i64> {
        Ok(self
            .save_turn(conversation_id, None, answer, extra_flags)?
            .id)
    }

    /// [`Store::save_answer`], creating the conversation in the same
    /// transaction when `new_channel` is given (so a consultation that fails
    /// before its answer is stored leaves no empty conversation behind), and
    /// returning the answer's token with its id.
    pub fn save_turn(
        &self,
        conversation_id: &str,
        new_channel: Option<&str>,
        answer: &Answer,
        extra_flags: &[String],
    ) -> Result<SavedAnswer> {
        let r = self.save_turn_inner(conversation_id, new_channel, answer, extra_flags);
        self.track(r)
    }

    fn save_turn_inner(
        &self,
        conversation_id: &str,
        new_channel: Option<&str>,
        answer: &Answer,
        extra_flags: &[String],
    ) -> Result<SavedAnswer> {
        let question = redact::redact(&answer.question);
        let text = redact::redact(&answer.answer);
        let mut flags: Vec<String> = answer
            .triage
            .review_reasons
            .iter()
            .map(|r| r.id().to_string())
            .collect();
        for f in extra_flags {
            if !flags.contains(f) {
                flags.push(f.clone());
            }
        }
        let t = now();
        let token = random_hex(16);
        let citations = serde_json::to_string(&answer.citations)?;
        let triage = redact::redact(&serde_json::to_string(&answer.triage)?);
        let flags_json = serde_json::to_string(&flags)?;
        let timings = serde_json::to_string(&answer.timings)?;
        let needs_review = answer.triage.needs_review || !flags.is_empty();
        let answer_id = self.conn().transaction(|tx| {
            if let Some(channel) = new_channel {
                tx.execute(
                    "INSERT INTO conversations (id, channel, created_at) VALUES (?1, ?2, ?3)",
                    vals![conversation_id, channel, t],
                )?;
            }
            tx.execute(
                "INSERT INTO messages (conversation_id, role, content, created_at) VALUES (?1, 'user', ?2, ?3)",
                vals![conversation_id, &question, t],
            )?;
            let message_id: i64 = tx
                .query_one(
                    "INSERT INTO messages (conversation_id, role, content, created_at) VALUES (?1, 'assistant', ?2, ?3) RETURNING id",
                    vals![conversation_id, &text, t],
                )?
                .get(0)?;
            let answer_id: i64 = tx
                .query_one(
                    "INSERT INTO answers (conversation_id, message_id, question, answer, citations, triage, flags, timings, fallback, created_at, token_hash)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) RETURNING id",
                    vals![
                        conversation_id,
                        message_id,
                        &question,
                        &text,
                        &citations,
                        &triage,
                        &flags_json,
                        &timings,
                        answer.fallback,
                        t,
                        sha256_hex(&token)
                    ],
                )?
                .get(0)?;
            if needs_review {
                for f in &flags {
                    add_review_reason(tx, answer_id, f, &reason_note(answer, f))?;
                }
            }
            Ok(answer_id)
        })?;
        Ok(SavedAnswer {
            id: answer_id,
            token,
        })
    }

    /// Whether `token` is the one [`Store::save_turn`] returned for
    /// `answer_id` (compared as hashes, in constant time). Unknown answers,
    /// answers stored before tokens existed and wrong tokens are all `false`.
    pub fn answer_token_matches(&self, answer_id: i64, token: &str) -> Result<bool> {
        let stored: Option<Option<String>> = self
            .conn()
            .query_opt(
                "SELECT token_hash FROM answers WHERE id = ?1",
                vals![answer_id],
            )?
            .map(|r| r.get(0))
            .transpose()?;
        let Some(Some(stored)) = stored else {
            return Ok(false);
        };
        let given = sha256_hex(token);
        Ok(stored.len() == given.len()
            && stored
                .bytes()
                .zip(given.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0)
    }

    /// One stored answer.
    pub fn answer(&self, id: i64) -> Result<Option<AnswerRecord>> {
        self.conn()
            .query_opt(
                &format!("SELECT {ANSWER_COLS} FROM answers a WHERE a.id = ?1"),
                vals![id],
            )?
            .map(|r| answer_from_row(&r))
            .transpose()
    }

    /// Number of stored answers (metrics, tests).
    pub fn count_answers(&self) -> Result<i64> {
        self.conn()
            .query_one("SELECT COUNT(*) FROM answers", &[])?
            .get(0)
    }

    /// Number of stored conversations (metrics, tests).
    pub fn count_conversations(&self) -> Result<i64> {
        self.conn()
            .query_one("SELECT COUNT(*) FROM conversations", &[])?
            .get(0)
    }

    /// A citizen's 有帮助/没帮助. Negative feedback puts the answer in the review queue.
    pub fn add_feedback(&self, answer_id: i64, helpful: bool, comment: &str) -> Result<()> {
        let r = self.add_feedback_inner(answer_id, helpful, comment);
        self.track(r)
    }

    fn add_feedback_inner(&self, answer_id: i64, helpful: bool, comment: &str) -> Result<()> {
        let comment = redact::redact(comment);
        self.conn().transaction(|tx| {
            lock_answer(tx, answer_id)?;
            tx.execute(
                "INSERT INTO feedback (answer_id, helpful, comment, created_at) VALUES (?1, ?2, ?3, ?4)",
                vals![answer_id, helpful, &comment, now()],
            )?;
            if !helpful {
                add_review_reason(tx, answer_id, REASON_NEGATIVE, &comment)?;
            }
            Ok(())
        })
    }

    /// 转人工: the citizen asks for a person. Returns the review id.
    pub fn request_human(&self, answer_id: i64, note: &str) -> Result<i64> {
        let r = self.request_human_inner(answer_id, note);
        self.track(r)
    }

    fn request_human_inner(&self, answer_id: i64, note: &str) -> Result<i64> {
        let note = redact::redact(note);
        self.conn().transaction(|tx| {
            lock_answer(tx, answer_id)?;
            add_review_reason(tx, answer_id, REASON_HUMAN, &note)
        })
    }

    /// Review items, newest first: `status` (pending/approved/rejected/all) and an optional reason.
    pub fn reviews(
        &self,
        status: &str,
        reason: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ReviewItem>> {
        let mut conn = self.conn();
        let rows = conn.query(
            &format!(
                "SELECT r.id AS rid, r.status, r.note, r.final_answer, r.comment, r.reviewer, r.created_at AS rcreated,
                    {ANSWER_COLS}
             FROM reviews r JOIN answers a ON a.id = r.answer_id
             WHERE (?1 = 'all' OR r.status = ?1)
               AND (CAST(?2 AS TEXT) IS NULL OR EXISTS (SELECT 1 FROM review_reasons x WHERE x.review_id = r.id AND x.reason = ?2))
             ORDER BY r.id DESC LIMIT ?3"
            ),
            vals![status, reason, i64::try_from(limit).unwrap_or(i64::MAX)],
        )?;
        let mut items = Vec::with_capacity(rows.len());
        for r in &rows {
            items.push(ReviewItem {
                id: r.col("rid")?,
                answer: answer_from_row(r)?,
                reasons: Vec::new(),
                status: r.col("status")?,
                note: r.col("note")?,
                final_answer: r.col("final_answer")?,
                comment: r.col("comment")?,
                reviewer: r.col("reviewer")?,
                created_at: r.col("rcreated")?,
            });
        }
        for it in &mut items {
            it.reasons = conn
                .query(
                    "SELECT reason FROM review_reasons WHERE review_id = ?1",
                    vals![it.id],
                )?
                .iter()
                .map(|r| r.get(0))
                .collect::<Result<_>>()?;
            // Byte order, the same on both backends (whatever the collation).
            it.reasons.sort();
        }
        Ok(items)
    }

    /// One review item.
    pub fn review(&self, id: i64) -> Result<Option<ReviewItem>> {
        Ok(self
            .reviews("all", None, usize::MAX >> 1)?
            .into_iter()
            .find(|r| r.id == id))
    }

    /// Approve or reject a pending review item; written to the audit log.
    /// Of two decisions on one item (from two servers at once) exactly one
    /// succeeds; the other is told the item is already decided.
    pub fn decide_review(&self, id: i64, reviewer: &str, decision: &Decision) -> Result<()> {
        let (status, final_answer, comment, action) = match decision {
            Decision::Approve { edited } => (
                "approved",
                edited.as_deref().map(redact::redact),
                None,
                if edited.is_some() {
                    "review.edit_approve"
                } else {
                    "review.approve"
                },
            ),
            Decision::Reject { comment } => (
                "rejected",
                None,
                Some(redact::redact(comment)),
                "review.reject",
            ),
        };
        self.conn().transaction(|tx| {
            let t = now();
            // Only a pending item changes: the condition is checked again
            // after any concurrent decision on the row commits.
            let changed = tx.execute(
                "UPDATE reviews SET status = ?1, final_answer = ?2, comment = ?3, reviewer = ?4, decided_at = ?5 WHERE id = ?6 AND status = 'pending'",
                vals![status, final_answer.clone(), comment.clone(), reviewer, t, id],
            )?;
            if changed == 0 {
                let now_status: Option<String> = tx
                    .query_opt("SELECT status FROM reviews WHERE id = ?1", vals![id])?
                    .map(|r| r.get(0))
                    .transpose()?;
                return Err(match now_status {
                    None => Error::NotFound(format!("review {id}")),
                    Some(s) => Error::InvalidInput(format!("review {id} is already {s}")),
                });
            }
            tx.execute(
                "INSERT INTO audit_log (\"user\", action, target, detail, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                vals![
                    reviewer,
                    action,
                    format!("review:{id}"),
                    comment.clone().unwrap_or_default(),
                    t
                ],
            )?;
            Ok(())
        })
    }

    /// Approved review items as eval cases (the shape of `eval/dev.jsonl`).
    pub fn export_eval_cases(&self) -> Result<Vec<serde_json::Value>> {
        let items = self.reviews("approved", None, 100_000)?;
        Ok(items.iter().rev().map(eval_case).collect())
    }

    /// Record a hotline call for the agent's answer.
    pub fn create_call(&self, agent: &str, answer_id: i64) -> Result<i64> {
        self.conn()
            .query_one(
                "INSERT INTO calls (agent, answer_id, created_at) VALUES (?1, ?2, ?3) RETURNING id",
                vals![agent, answer_id, now()],
            )?
            .get(0)
    }

    /// Close a call: `answered` with the reply given, or `escalated` (goes to review).
    pub fn close_call(&self, id: i64, agent: &str, reply: &str, escalate: bool) -> Result<()> {
        let reply = redact::redact(reply);
        self.conn().transaction(|tx| {
            let row = tx.query_opt(
                "SELECT answer_id, status FROM calls WHERE id = ?1",
                vals![id],
            )?;
            let Some(row) = row else {
                return Err(Error::NotFound(format!("call {id}")));
            };
            let answer_id: i64 = row.get(0)?;
            let new_status = if escalate { "escalated" } else { "answered" };
            let t = now();
            let changed = tx.execute(
                "UPDATE calls SET reply = ?1, status = ?2, closed_at = ?3 WHERE id = ?4 AND status = 'open'",
                vals![&reply, new_status, t, id],
            )?;
            if changed == 0 {
                let status: String = tx
                    .query_one("SELECT status FROM calls WHERE id = ?1", vals![id])?
                    .get(0)?;
                return Err(Error::InvalidInput(format!(
                    "call {id} is already {status}"
                )));
            }
            if escalate {
                lock_answer(tx, answer_id)?;
                add_review_reason(tx, answer_id, REASON_ESCALATED, &reply)?;
            }
            tx.execute(
                "INSERT INTO audit_log (\"user\", action, target, detail, at) VALUES (?1, ?2, ?3, '', ?4)",
                vals![agent, format!("call.{new_status}"), format!("call:{id}"), t],
            )?;
            Ok(())
        })
    }

    /// Calls, newest first (all agents when `agent` is `None`).
    pub fn calls(&self, agent: Option<&str>, limit: usize) -> Result<Vec<Call>> {
        self.conn()
            .query(
                &format!(
                    "SELECT c.id AS cid, c.agent, c.reply, c.status, c.created_at AS ccreated, {ANSWER_COLS}
             FROM calls c JOIN answers a ON a.id = c.answer_id
             WHERE (CAST(?1 AS TEXT) IS NULL OR c.agent = ?1) ORDER BY c.id DESC LIMIT ?2"
                ),
                vals![agent, i64::try_from(limit).unwrap_or(i64::MAX)],
            )?
            .iter()
            .map(|r| {
                Ok(Call {
                    id: r.col("cid")?,
                    agent: r.col("agent")?,
                    answer: answer_from_row(r)?,
                    reply: r.col("reply")?,
                    status: r.col("status")?,
                    created_at: r.col("ccreated")?,
                })
            })
            .collect()
    }

    /// Record a staff action.
    pub fn audit(&self, user: &str, action: &str, target: &str, detail: &str) -> Result<()> {
        self.conn().execute(
            "INSERT INTO audit_log (\"user\", action, target, detail, at) VALUES (?1, ?2, ?3, ?4, ?5)",
            vals![user, action, target, redact::redact(detail), now()],
        )?;
        Ok(())
    }

    /// Audit log entries, newest first: (user, action, target, detail, at).
    pub fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>> {
        self.conn()
            .query(
                "SELECT \"user\", action, target, detail, at FROM audit_log ORDER BY id DESC LIMIT ?1",
                vals![i64::try_from(limit).unwrap_or(i64::MAX)],
            )?
            .iter()
            .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .collect()
    }

    /// Delete conversations (with their messages, answers, reviews, feedback
    /// and calls) older than `days`, and expired sessions.
    ///
    /// Nothing of the purged text stays readable in the files. On SQLite:
    /// deleted content is zeroed (`secure_delete`), the write-ahead log is
    /// checkpointed and truncated, and the file is vacuumed. On PostgreSQL
    /// the tables that held it are rewritten (`VACUUM FULL`, which locks
    /// each briefly); the server's write-ahead log and any backups or
    /// replicas keep it until they are recycled, which is the server
    /// operator's retention to set.
    pub fn purge(&self, days: u32) -> Result<PurgeReport> {
        let report = self.purge_rows(days)?;
        let mut conn = self.conn();
        match conn.kind() {
            Kind::Sqlite => {
                conn.query("PRAGMA wal_checkpoint(TRUNCATE)", &[])?;
                conn.batch("VACUUM")?;
                conn.query("PRAGMA wal_checkpoint(TRUNCATE)", &[])?;
            }
            Kind::Postgres => conn.batch(
                "VACUUM (FULL) conversations, messages, answers, reviews, review_reasons, feedback, calls, sessions, audit_log",
            )?,
        }
        Ok(report)
    }

    fn purge_rows(&self, days: u32) -> Result<PurgeReport> {
        let cutoff = now() - i64::from(days) * 86_400;
        self.conn().transaction(|tx| {
            let conversations = tx.execute(
                "DELETE FROM conversations WHERE created_at < ?1",
                vals![cutoff],
            )? as usize;
            let sessions =
                tx.execute("DELETE FROM sessions WHERE expires_at < ?1", vals![now()])? as usize;
            tx.execute(
                "INSERT INTO audit_log (\"user\", action, target, detail, at) VALUES ('system', 'purge', 'conversations', ?1, ?2)",
                vals![
                    format!("older than {days} days: {conversations} removed"),
                    now()
                ],
            )?;
            Ok(PurgeReport {
                conversations,
                sessions,
            })
        })
    }

    /// Run SQLite's integrity check; `ok` when the file is consistent. On
    /// PostgreSQL, where the server checks its own pages, this checks that
    /// the schema is the one this build writes and the server answers.
    pub fn integrity_check(&self) -> Result<String> {
        let mut conn = self.conn();
        match conn.kind() {
            Kind::Sqlite => conn.query_one("PRAGMA integrity_check", &[])?.get(0),
            Kind::Postgres => {
                let v = schema::postgres_version(&mut conn)?;
                Ok(if v == schema::current_version() {
                    "ok".to_string()
                } else {
                    format!("schema version {v}, expected {}", schema::current_version())
                })
            }
        }
    }
}

/// Check that `answer_id` exists and, on PostgreSQL, lock its row until the
/// transaction ends, so review items for one answer are added one server at
/// a time (SQLite's write transactions are serial already).
fn lock_answer(tx: &mut Conn, answer_id: i64) -> Result<()> {
    let sql = match tx.kind() {
        Kind::Sqlite => "SELECT 1 FROM answers WHERE id = ?1",
        Kind::Postgres => "SELECT 1 FROM answers WHERE id = ?1 FOR UPDATE",
    };
    tx.query_opt(sql, vals![answer_id])?
        .map(|_| ())
        .ok_or_else(|| Error::NotFound(format!("answer {answer_id}")))
}

/// What staff should read with a review `reason` of `answer`: for a held
/// conclusion, the conclusion the drafter wrote (never shown to the asker).
fn reason_note(answer: &Answer, reason: &str) -> String {
    match &answer.guide.held_conclusion {
        Some(c) if reason == crate::triage::ReviewReason::DenialHeld.id() => {
            format!("系统起草但未发出的结论：{}", redact::redact(c))
        }
        _ => String::new(),
    }
}

/// Put `answer_id` in the review queue for `reason` (one pending item per
/// answer). On PostgreSQL the pending item is locked, so an item being
/// decided by another server meanwhile is not reused once decided: the
/// reason then opens a new pending item.
fn add_review_reason(tx: &mut Conn, answer_id: i64, reason: &str, note: &str) -> Result<i64> {
    let sql = match tx.kind() {
        Kind::Sqlite => {
            "SELECT id FROM reviews WHERE answer_id = ?1 AND status = 'pending' ORDER BY id LIMIT 1"
        }
        Kind::Postgres => {
            "SELECT id FROM reviews WHERE answer_id = ?1 AND status = 'pending' ORDER BY id LIMIT 1 FOR UPDATE"
        }
    };
    let existing: Option<i64> = tx
        .query_opt(sql, vals![answer_id])?
        .map(|r| r.get(0))
        .transpose()?;
    let id = match existing {
        Some(id) => {
            if !note.is_empty() {
                tx.execute(
                    "UPDATE reviews SET note = CASE WHEN note = '' THEN ?1 ELSE note || ?2 END WHERE id = ?3",
                    vals![note, format!("\n{note}"), id],
                )?;
            }
            id
        }
        None => tx
            .query_one(
                "INSERT INTO reviews (answer_id, note, created_at) VALUES (?1, ?2, ?3) RETURNING id",
                vals![answer_id, note, now()],
            )?
            .get(0)?,
    };
    tx.execute(
        "INSERT INTO review_reasons (review_id, reason) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        vals![id, reason],
    )?;
    Ok(id)
}
/// An approved review item in the eval case shape.
fn eval_case(it: &ReviewItem) -> serde_json::Value {
    let triage = &it.answer.triage;
    let articles: Vec<serde_json::Value> = it
        .answer
        .citations
        .as_array()
        .map(|cs| {
            cs.iter()
                .filter(|c| c.get("status").and_then(|s| s.as_str()) == Some("valid"))
                .map(|c| serde_json::json!({"law": c["law"], "article": c["article"]}))
                .collect()
        })
        .unwrap_or_default();
    let service_reasons: Vec<&String> = it
        .reasons
        .iter()
        .filter(|r| crate::triage::ReviewReason::from_id(r).is_some())
        .collect();
    serde_json::json!({
        "id": format!("review-{}", it.id),
        "question": it.answer.question,
        "primary_service": triage.get("primary_service").cloned().unwrap_or(serde_json::Value::Null),
        "services": triage.get("services").cloned().unwrap_or(serde_json::json!([])),
        "articles": articles,
        "needs_review": triage.get("needs_review").cloned().unwrap_or(serde_json::json!(false)),
        "review_reasons": triage.get("review_reasons").cloned().unwrap_or(serde_json::json!(service_reasons)),
        "key_points": [],
        "notes": it.note,
        "answer": it.final_answer.clone().unwrap_or_else(|| it.answer.answer.clone()),
        "reviewer": it.reviewer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feedback on answer `id` and new answers in conversation `c`, `n`
    /// writes from one thread per store; the errors, if any.
    fn write_from_threads(
        stores: Vec<std::sync::Arc<Store>>,
        c: &str,
        id: i64,
        n: usize,
    ) -> Vec<String> {
        let threads: Vec<_> = stores
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                let c = c.to_string();
                std::thread::spawn(move || {
                    (0..n)
                        .filter_map(|k| {
                            if k % 2 == 0 {
                                s.add_feedback(id, i % 2 == 0, "意见").map(|_| ())
                            } else {
                                s.save_answer(&c, &answer("又一个问题", false), &[])
                                    .map(|_| ())
                            }
                            .err()
                            .map(|e| e.to_string())
                        })
                        .collect::<Vec<String>>()
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().expect("thread"))
            .collect()
    }
    use crate::answer::Timings;
    use crate::triage::{LegalAidHint, Referral, ReviewReason, Service, Triage};

    fn answer(q: &str, flagged: bool) -> Answer {
        Answer {
            question: q.to_string(),
            answer: "可以向劳动争议仲裁委员会申请仲裁。".into(),
            citations: vec![],
            removed_citations: vec![],
            retrieved: vec![],
            fallback: false,
            fallback_reason: None,
            triage: Triage {
                primary_service: Service::Arbitration,
                services: vec![Service::Arbitration],
                why: vec![],
                needs_review: flagged,
                review_reasons: if flagged {
                    vec![ReviewReason::Deadline]
                } else {
                    vec![]
                },
                legal_aid: LegalAidHint::default(),
                referral: Referral::default(),
            },
            timings: Timings::default(),
            guide: Default::default(),
        }
    }

    /// The PostgreSQL server of the tests (`LAWBRAIN_TEST_PG`, a
    /// postgres:// URL): without it the PostgreSQL half of a test is
    /// skipped with a note, unless `LAWBRAIN_REQUIRE_PG=1` (CI), which fails it.
    fn pg_url() -> Option<String> {
        match std::env::var("LAWBRAIN_TEST_PG") {
            Ok(u) if !u.is_empty() => Some(u),
            _ => {
                if std::env::var_os("LAWBRAIN_REQUIRE_PG").is_some_and(|v| v == "1") {
                    panic!("LAWBRAIN_TEST_PG is not set, and LAWBRAIN_REQUIRE_PG=1");
                }
                println!("PostgreSQL half skipped: set LAWBRAIN_TEST_PG=postgres://… (.ci/postgres.sh starts one)");
                None
            }
        }
    }

    /// A schema name no other test uses.
    fn fresh_schema() -> String {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        format!(
            "t_unit_{}_{}_{}",
            std::process::id(),
            now(),
            N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        )
    }

    /// A PostgreSQL store in a fresh schema, and the schema's name.
    fn pg_store() -> Option<(Store, String)> {
        let url = pg_url()?;
        let schema = fresh_schema();
        let s = Store::open_postgres_in_schema(&url, &schema).expect("postgres store");
        Some((s, schema))
    }

    /// The stores a backend-neutral test runs on: SQLite in memory, and
    /// PostgreSQL in a fresh schema when there is a server.
    fn stores() -> Vec<Store> {
        let mut v = vec![Store::open_in_memory().expect("sqlite store")];
        v.extend(pg_store().map(|(s, _)| s));
        v
    }

    fn age_conversation(s: &Store, id: &str) {
        s.conn()
            .execute(
                "UPDATE conversations SET created_at = created_at - 200 * 86400 WHERE id = ?1",
                vals![id],
            )
            .expect("age it");
    }

    #[test]
    fn migrations_are_idempotent_and_versioned() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("s.sqlite3");
        drop(Store::open(&p).expect("first open"));
        let s = Store::open(&p).expect("second open");
        let v: u32 = s
            .conn()
            .query_one("PRAGMA user_version", &[])
            .and_then(|r| r.get(0))
            .expect("version");
        assert_eq!(v, schema::current_version());
        let mode: String = s
            .conn()
            .query_one("PRAGMA journal_mode", &[])
            .and_then(|r| r.get(0))
            .expect("mode");
        assert_eq!(mode, "wal");
        assert_eq!(s.integrity_check().expect("check"), "ok");
    }

    /// Four servers starting at once on a new PostgreSQL schema: it is
    /// migrated once, to the current version, and all four open it.
    #[test]
    fn postgres_migrations_run_once_when_servers_start_together() {
        let Some(url) = pg_url() else { return };
        let schema = fresh_schema();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (url, schema) = (url.clone(), schema.clone());
                std::thread::spawn(move || Store::open_postgres_in_schema(&url, &schema))
            })
            .collect();
        let stores: Vec<Store> = threads
            .into_iter()
            .map(|t| t.join().expect("thread").expect("open"))
            .collect();
        let s = &stores[0];
        assert_eq!(s.backend(), "postgres");
        let rows = s
            .conn()
            .query("SELECT version FROM schema_version", &[])
            .expect("version");
        assert_eq!(rows.len(), 1, "one version row");
        assert_eq!(rows[0].get::<u32>(0).expect("v"), schema::current_version());
        assert_eq!(s.integrity_check().expect("check"), "ok");
        // The tables are in the test's schema, with PostgreSQL's types.
        let ty: String = s
            .conn()
            .query_one(
                "SELECT data_type FROM information_schema.columns WHERE table_schema = ?1 AND table_name = 'answers' AND column_name = 'id'",
                vals![&schema],
            )
            .and_then(|r| r.get(0))
            .expect("column");
        assert_eq!(ty, "bigint");
        // SQLite's own settings are refused, not faked.
        assert!(matches!(s.page_count(), Err(Error::InvalidInput(_))));
        assert!(s.health().ok && s.health().disk_free_mb.is_none());
    }

    #[test]
    fn a_held_conclusion_reaches_staff_as_the_review_note() {
        for s in stores() {
            let c = s.create_conversation("web").expect("conv");
            let mut a = answer("超市搜身能要求赔偿吗", false);
            a.triage.needs_review = true;
            a.triage.review_reasons = vec![ReviewReason::DenialHeld];
            a.guide.held = true;
            a.guide.held_conclusion = Some("您不能要求超市赔偿。".into());
            let id = s.save_answer(&c, &a, &[]).expect("save");
            let items = s.reviews("pending", Some("denial_held"), 10).expect("list");
            assert_eq!(items.len(), 1);
            assert_eq!(items[0].answer.id, id);
            assert!(
                items[0].note.contains("您不能要求超市赔偿"),
                "{}",
                items[0].note
            );
            assert!(!items[0].answer.answer.contains("不能要求"));
        }
    }

    #[test]
    fn flagged_answers_enter_the_review_queue_once() {
        for s in stores() {
            flagged_answers_enter_the_review_queue_once_on(&s);
        }
    }

    fn flagged_answers_enter_the_review_queue_once_on(s: &Store) {
        let c = s.create_conversation("web").expect("conv");
        let plain = s
            .save_answer(&c, &answer("工资", false), &[])
            .expect("save");
        let flagged = s
            .save_answer(&c, &answer("三年前的欠款", true), &[])
            .expect("save");
        assert!(s
            .reviews("pending", None, 10)
            .expect("list")
            .iter()
            .all(|r| r.answer.id != plain));
        s.request_human(flagged, "").expect("handoff");
        s.add_feedback(flagged, false, "没用").expect("feedback");
        let items = s.reviews("pending", None, 10).expect("list");
        assert_eq!(items.len(), 1);
        assert_eq!(
            items[0].reasons,
            vec!["deadline", "human_request", "negative_feedback"]
        );
        s.decide_review(
            items[0].id,
            "li",
            &Decision::Reject {
                comment: "答复不完整".into(),
            },
        )
        .expect("reject");
        assert!(s
            .decide_review(items[0].id, "li", &Decision::Approve { edited: None })
            .is_err());
        assert!(
            s.export_eval_cases().expect("export").is_empty(),
            "rejected items are not exported"
        );
        assert!(matches!(
            s.add_feedback(999, true, ""),
            Err(Error::NotFound(_))
        ));
    }

    #[test]
    fn purge_removes_old_conversations_with_everything_in_them() {
        for s in stores() {
            purge_removes_old_conversations_on(&s);
        }
    }

    fn purge_removes_old_conversations_on(s: &Store) {
        let old = s.create_conversation("web").expect("conv");
        let id = s
            .save_answer(&old, &answer("旧问题", true), &[])
            .expect("save");
        s.request_human(id, "备注").expect("handoff");
        s.add_feedback(id, false, "没用").expect("feedback");
        let agent = s
            .add_user("zhao", Role::Agent, "agent-pass-1")
            .expect("user");
        let call = s.create_call(&agent.name, id).expect("call");
        s.close_call(call, &agent.name, "已答复", true)
            .expect("close");
        age_conversation(s, &old);
        let fresh = s.create_conversation("web").expect("conv");
        s.save_answer(&fresh, &answer("新问题", false), &[])
            .expect("save");
        let r = s.purge(180).expect("purge");
        assert_eq!(r.conversations, 1);
        assert!(s.answer(id).expect("read").is_none());
        assert!(
            s.reviews("all", None, 10).expect("list").is_empty(),
            "its review item went too"
        );
        assert_eq!(s.history(&fresh).expect("history").len(), 2);
        assert!(s.calls(None, 10).expect("calls").is_empty());
        assert_eq!(s.count_conversations().expect("count"), 1);
        let log = s.audit_log(10).expect("log");
        assert_eq!(log[0].0, "system");
        assert_eq!(log[0].1, "purge");
    }

    fn file_bytes(p: &Path) -> Vec<u8> {
        let mut all = std::fs::read(p).unwrap_or_default();
        for suffix in ["-wal", "-shm"] {
            let mut q = p.as_os_str().to_owned();
            q.push(suffix);
            all.extend(std::fs::read(std::path::PathBuf::from(q)).unwrap_or_default());
        }
        all
    }

    fn contains(hay: &[u8], needle: &str) -> bool {
        hay.windows(needle.len()).any(|w| w == needle.as_bytes())
    }

    #[test]
    fn purged_text_is_gone_from_the_files() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("s.sqlite3");
        let s = Store::open(&p).expect("store");
        let secret = "紫藤花园的秘密约定XQ7";
        let old = s.create_conversation("web").expect("conv");
        let id = s
            .save_answer(&old, &answer(&format!("{secret}，能反悔吗"), true), &[])
            .expect("save");
        s.request_human(id, &format!("备注：{secret}"))
            .expect("handoff");
        let kept = "仍在保留期内的问题QK3";
        let fresh = s.create_conversation("web").expect("conv");
        s.save_answer(&fresh, &answer(kept, false), &[])
            .expect("save");
        assert!(
            contains(&file_bytes(&p), secret),
            "written before the purge"
        );
        age_conversation(&s, &old);
        assert_eq!(s.purge(180).expect("purge").conversations, 1);
        let bytes = file_bytes(&p);
        assert!(!contains(&bytes, secret), "purged text still in the files");
        assert!(!contains(&bytes, "XQ7"), "purged text still in the files");
        drop(s);
        let bytes = file_bytes(&p);
        assert!(
            !contains(&bytes, "XQ7"),
            "purged text in the files after close"
        );
        let s = Store::open(&p).expect("reopen");
        assert_eq!(s.history(&fresh).expect("history")[0].content, kept);
    }

    #[cfg(unix)]
    #[test]
    fn database_files_are_private_to_their_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("s.sqlite3");
        let s = Store::open(&p).expect("store");
        let c = s.create_conversation("web").expect("conv");
        s.save_answer(&c, &answer("问题", false), &[])
            .expect("save");
        for suffix in ["", "-wal", "-shm"] {
            let mut q = p.as_os_str().to_owned();
            q.push(suffix);
            let mode = std::fs::metadata(std::path::PathBuf::from(q))
                .expect("file exists")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "s.sqlite3{suffix}: {mode:o}");
        }
        // A file left readable by others is tightened on open.
        drop(s);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        drop(Store::open(&p).expect("reopen"));
        let mode = std::fs::metadata(&p).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    /// Two processes on one file (the `purge` command beside a running
    /// server): every write waits its turn instead of failing with
    /// `database is locked`.
    #[test]
    fn two_connections_writing_at_once_never_fail() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("s.sqlite3");
        let a = std::sync::Arc::new(Store::open(&p).expect("a"));
        let b = std::sync::Arc::new(Store::open(&p).expect("b"));
        let c = a.create_conversation("web").expect("conv");
        let id = a
            .save_answer(&c, &answer("问题", false), &[])
            .expect("save");
        let failures = write_from_threads(vec![a.clone(), b.clone(), a, b], &c, id, 150);
        assert!(
            failures.is_empty(),
            "{} of 600 writes failed, e.g. {:?}",
            failures.len(),
            failures.first()
        );
    }

    #[test]
    fn a_full_database_is_reported_and_clears_when_writes_succeed_again() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("s.sqlite3");
        let s = Store::open(&p).expect("store");
        assert!(s.health().ok);
        assert!(s.health().disk_free_mb.is_some());
        let c = s.create_conversation("web").expect("conv");
        let pages = s.page_count().expect("pages");
        s.set_max_pages(pages).expect("cap");
        let long = "很长的问题".repeat(2000);
        let err = s
            .save_answer(&c, &answer(&long, false), &[])
            .expect_err("no room");
        assert!(unavailable(&err), "{err}");
        let h = s.health();
        assert!(!h.ok && h.last_failure_at.is_some(), "{h:?}");
        assert!(h.error.as_deref().unwrap_or("").contains("full"), "{h:?}");
        s.set_max_pages(1 << 30).expect("uncap");
        s.save_answer(&c, &answer("短问题", false), &[])
            .expect("room again");
        assert!(s.health().ok);
    }

    #[test]
    fn answer_tokens_match_only_their_answer() {
        for s in stores() {
            answer_tokens_match_only_their_answer_on(&s);
        }
    }

    fn answer_tokens_match_only_their_answer_on(s: &Store) {
        let c = new_conversation_id();
        let a = s
            .save_turn(&c, Some("web"), &answer("一", false), &[])
            .expect("save");
        let b = s
            .save_turn(&c, None, &answer("二", false), &[])
            .expect("save");
        assert!(s.conversation_exists(&c).expect("exists"));
        assert!(s.answer_token_matches(a.id, &a.token).expect("check"));
        assert!(!s.answer_token_matches(a.id, &b.token).expect("check"));
        assert!(!s.answer_token_matches(a.id, "").expect("check"));
        assert!(!s.answer_token_matches(999, &a.token).expect("check"));
        let stored: String = s
            .conn()
            .query_one("SELECT token_hash FROM answers WHERE id = ?1", vals![a.id])
            .and_then(|r| r.get(0))
            .expect("hash");
        assert_ne!(stored, a.token, "only a hash of the token is stored");
    }

    #[test]
    fn users_and_sessions() {
        for s in stores() {
            users_and_sessions_on(&s);
        }
    }

    fn users_and_sessions_on(s: &Store) {
        assert!(s.add_user("a", Role::Agent, "short").is_err());
        let u = s
            .add_user("zhang", Role::Agent, "long-enough-1")
            .expect("add");
        assert!(
            s.add_user("zhang", Role::Staff, "long-enough-2").is_err(),
            "duplicate"
        );
        assert_eq!(
            s.verify_login("zhang", "long-enough-1").expect("verify"),
            Some(u.clone())
        );
        assert_eq!(
            s.verify_login("zhang", "wrong-password").expect("verify"),
            None
        );
        assert_eq!(
            s.verify_login("nobody", "long-enough-1").expect("verify"),
            None
        );
        let (token, csrf) = s.create_session(&u, 60).expect("session");
        assert_eq!(s.session(&token).expect("read"), Some((u.clone(), csrf)));
        let stored: String = s
            .conn()
            .query_one("SELECT token_hash FROM sessions", &[])
            .and_then(|r| r.get(0))
            .expect("hash");
        assert_ne!(stored, token, "only a hash of the token is stored");
        s.delete_session(&token).expect("logout");
        assert_eq!(s.session(&token).expect("read"), None);
        let (expired, _) = s.create_session(&u, -1).expect("session");
        assert_eq!(s.session(&expired).expect("read"), None);
    }

    // ------------------------------------------------ several servers on PostgreSQL

    /// Two servers (two stores, two connections) on one PostgreSQL schema.
    fn pg_pair() -> Option<(Store, Store)> {
        let url = pg_url()?;
        let schema = fresh_schema();
        let a = Store::open_postgres_in_schema(&url, &schema).expect("a");
        let b = Store::open_postgres_in_schema(&url, &schema).expect("b");
        Some((a, b))
    }

    /// Both servers decide the same review items at the same moment: for each
    /// item exactly one decision succeeds, the other is told it is already
    /// decided, and the audit log has one entry per item.
    #[test]
    fn postgres_one_decision_wins_when_two_servers_decide_at_once() {
        let Some((a, b)) = pg_pair() else { return };
        let c = a.create_conversation("web").expect("conv");
        let mut ids = Vec::new();
        for i in 0..20 {
            let id = a
                .save_answer(&c, &answer(&format!("问题{i}"), true), &[])
                .expect("save");
            ids.push(b.request_human(id, "").expect("handoff"));
        }
        let (a, b) = (std::sync::Arc::new(a), std::sync::Arc::new(b));
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
        let run = |s: std::sync::Arc<Store>, who: &'static str, approve: bool| {
            let (ids, barrier) = (ids.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut outcomes = Vec::new();
                for id in ids {
                    barrier.wait();
                    let d = if approve {
                        Decision::Approve { edited: None }
                    } else {
                        Decision::Reject {
                            comment: "不完整".into(),
                        }
                    };
                    outcomes.push(s.decide_review(id, who, &d));
                }
                outcomes
            })
        };
        let ta = run(a.clone(), "li", true);
        let tb = run(b.clone(), "wang", false);
        let (ra, rb) = (ta.join().expect("a"), tb.join().expect("b"));
        for (i, (x, y)) in ra.iter().zip(&rb).enumerate() {
            assert!(
                x.is_ok() != y.is_ok(),
                "item {i}: exactly one decision succeeds: {x:?} / {y:?}"
            );
            let lost = if x.is_ok() { y } else { x };
            assert!(
                matches!(lost, Err(Error::InvalidInput(m)) if m.contains("already")),
                "{lost:?}"
            );
        }
        let decided = a.reviews("all", None, 100).expect("list");
        assert!(decided.iter().all(|r| r.status != "pending"));
        let log = b.audit_log(1000).expect("log");
        assert_eq!(
            log.iter().filter(|e| e.1.starts_with("review.")).count(),
            ids.len()
        );
    }

    /// One server takes a hand-off while the other records negative
    /// feedback on the same answers: each answer ends up with one pending
    /// review item holding both reasons.
    #[test]
    fn postgres_concurrent_reasons_share_one_pending_item() {
        let Some((a, b)) = pg_pair() else { return };
        let c = a.create_conversation("web").expect("conv");
        let ids: Vec<i64> = (0..30)
            .map(|i| {
                a.save_answer(&c, &answer(&format!("问题{i}"), false), &[])
                    .expect("save")
            })
            .collect();
        let (a, b) = (std::sync::Arc::new(a), std::sync::Arc::new(b));
        let ta = {
            let (a, ids) = (a.clone(), ids.clone());
            std::thread::spawn(move || {
                for id in ids {
                    a.request_human(id, "请回电").expect("handoff");
                }
            })
        };
        let tb = {
            let (b, ids) = (b.clone(), ids.clone());
            std::thread::spawn(move || {
                for id in ids {
                    b.add_feedback(id, false, "没帮助").expect("feedback");
                }
            })
        };
        ta.join().expect("a");
        tb.join().expect("b");
        let items = a.reviews("pending", None, 1000).expect("list");
        assert_eq!(items.len(), ids.len(), "one pending item per answer");
        for it in &items {
            assert_eq!(it.reasons, vec!["human_request", "negative_feedback"]);
            assert!(
                it.note.contains("请回电") && it.note.contains("没帮助"),
                "{}",
                it.note
            );
        }
    }

    /// The same user added from two servers at once: one is added, the
    /// other is told the name exists.
    #[test]
    fn postgres_a_name_is_added_once_from_two_servers() {
        let Some((a, b)) = pg_pair() else { return };
        let (a, b) = (std::sync::Arc::new(a), std::sync::Arc::new(b));
        let results: Vec<Result<User>> = [a.clone(), b.clone()]
            .into_iter()
            .map(|s| std::thread::spawn(move || s.add_user("chen", Role::Staff, "staff-pass-9")))
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().expect("thread"))
            .collect();
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "{results:?}"
        );
        assert!(results
            .iter()
            .any(|r| matches!(r, Err(Error::InvalidInput(m)) if m.contains("already exists"))));
        // A session made on one server is valid on the other.
        let u = b
            .verify_login("chen", "staff-pass-9")
            .expect("login")
            .expect("user");
        let (token, csrf) = a.create_session(&u, 60).expect("session");
        assert_eq!(b.session(&token).expect("read"), Some((u, csrf)));
    }

    /// Many writes from two servers at once on PostgreSQL: none fails.
    #[test]
    fn postgres_two_servers_writing_at_once_never_fail() {
        let Some((a, b)) = pg_pair() else { return };
        let (a, b) = (std::sync::Arc::new(a), std::sync::Arc::new(b));
        let c = a.create_conversation("web").expect("conv");
        let id = a
            .save_answer(&c, &answer("问题", false), &[])
            .expect("save");
        let failures = write_from_threads(vec![a.clone(), b.clone()], &c, id, 100);
        assert!(failures.is_empty(), "{failures:?}");
        assert_eq!(a.count_answers().expect("count"), 101);
    }

    /// The server ends the store's session (as on a restart): the call
    /// that meets the dead connection fails as "unavailable" or is retried,
    /// and the store reconnects by itself; health recovers.
    #[test]
    fn postgres_reconnects_after_the_server_drops_the_connection() {
        let Some((victim, other)) = pg_pair() else {
            return;
        };
        let c = victim.create_conversation("web").expect("conv");
        for round in 0..3 {
            let pid: i64 = victim
                .conn()
                .query_one("SELECT pg_backend_pid()", &[])
                .and_then(|r| r.get(0))
                .expect("pid");
            let killed: bool = other
                .conn()
                .query_one("SELECT pg_terminate_backend(?1::int)", vals![pid])
                .and_then(|r| r.get(0))
                .expect("terminate");
            assert!(killed, "round {round}");
            std::thread::sleep(Duration::from_millis(100));
            // A write in a transaction: BEGIN notices and reconnects.
            let id = victim
                .save_answer(&c, &answer("断线后的问题", true), &[])
                .expect("saved after reconnecting");
            assert!(victim.answer(id).expect("read").is_some());
            // A write outside a transaction after another drop may fail,
            // as unavailable, but the next one succeeds.
            let pid: i64 = victim
                .conn()
                .query_one("SELECT pg_backend_pid()", &[])
                .and_then(|r| r.get(0))
                .expect("pid");
            other
                .conn()
                .query_one("SELECT pg_terminate_backend(?1::int)", vals![pid])
                .expect("terminate");
            std::thread::sleep(Duration::from_millis(100));
            if let Err(e) = victim.audit("li", "test", "x", "") {
                assert!(unavailable(&e), "{e}");
            }
            victim.audit("li", "test", "x", "").expect("reconnected");
        }
        assert!(victim.health().ok);
        assert_eq!(other.count_answers().expect("count"), 3);
    }
}
