//! SQLite storage for the service: conversations, messages, answers, reviews,
//! feedback, hotline calls, users, sessions and the audit log of staff actions.
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

pub mod lock;
pub mod redact;
pub mod schema;
mod users;

pub use lock::DirLock;
pub use users::{Role, User};

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
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
    conn: Mutex<Connection>,
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
        Error::Io { .. } => true,
        _ => false,
    }
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

fn answer_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AnswerRecord> {
    let parse = |s: String| serde_json::from_str(&s).unwrap_or(serde_json::Value::Null);
    Ok(AnswerRecord {
        id: r.get("id")?,
        conversation_id: r.get("conversation_id")?,
        question: r.get("question")?,
        answer: r.get("answer")?,
        citations: parse(r.get("citations")?),
        triage: parse(r.get("triage")?),
        flags: serde_json::from_str(&r.get::<_, String>("flags")?).unwrap_or_default(),
        timings: parse(r.get("timings")?),
        fallback: r.get("fallback")?,
        created_at: r.get("created_at")?,
    })
}

const ANSWER_COLS: &str =
    "a.id AS id, a.conversation_id, a.question, a.answer, a.citations, a.triage, a.flags, a.timings, a.fallback, a.created_at";

impl Store {
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

    fn setup(mut conn: Connection, path: Option<std::path::PathBuf>) -> Result<Store> {
        conn.busy_timeout(Duration::from_secs(5))?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        tracing::debug!(mode, "storage journal mode");
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Deleted rows are overwritten with zeros, not just unlinked.
        conn.pragma_update(None, "secure_delete", "ON")?;
        schema::migrate(&mut conn)?;
        Ok(Store {
            conn: Mutex::new(conn),
            path,
            health: Mutex::new(HealthState::default()),
        })
    }

    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
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
    /// on its file system (under 1 MiB is a fault).
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
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO health_probe (id, at) VALUES (1, ?1) ON CONFLICT(id) DO UPDATE SET at = excluded.at",
            [now()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Cap the database at `pages` pages (`PRAGMA max_page_count`): writes
    /// that need more fail as on a full disk. For bounding the file, and for
    /// testing how the service behaves when storage fills up. Returns the cap in force.
    pub fn set_max_pages(&self, pages: u64) -> Result<u64> {
        Ok(self
            .conn()
            .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |r| {
                r.get(0)
            })?)
    }

    /// Pages the database uses now.
    pub fn page_count(&self) -> Result<u64> {
        Ok(self
            .conn()
            .query_row("PRAGMA page_count", [], |r| r.get(0))?)
    }

    /// Start a conversation; returns its id (random, not guessable).
    pub fn create_conversation(&self, channel: &str) -> Result<String> {
        let id = new_conversation_id();
        self.conn().execute(
            "INSERT INTO conversations (id, channel, created_at) VALUES (?1, ?2, ?3)",
            params![id, channel, now()],
        )?;
        Ok(id)
    }

    /// Whether a conversation exists.
    pub fn conversation_exists(&self, id: &str) -> Result<bool> {
        Ok(self
            .conn()
            .query_row(
                "SELECT 1 FROM conversations WHERE id = ?1",
                [id],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Earlier turns of a conversation, oldest first (already redacted).
    pub fn history(&self, conversation_id: &str) -> Result<Vec<ChatMessage>> {
        let conn = self.conn();
        let mut st = conn
            .prepare("SELECT role, content FROM messages WHERE conversation_id = ?1 ORDER BY id")?;
        let rows = st.query_map([conversation_id], |r| {
            Ok(ChatMessage {
                role: r.get(0)?,
                content: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
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
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(channel) = new_channel {
            tx.execute(
                "INSERT INTO conversations (id, channel, created_at) VALUES (?1, ?2, ?3)",
                params![conversation_id, channel, t],
            )?;
        }
        tx.execute(
            "INSERT INTO messages (conversation_id, role, content, created_at) VALUES (?1, 'user', ?2, ?3)",
            params![conversation_id, question, t],
        )?;
        tx.execute(
            "INSERT INTO messages (conversation_id, role, content, created_at) VALUES (?1, 'assistant', ?2, ?3)",
            params![conversation_id, text, t],
        )?;
        let message_id = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO answers (conversation_id, message_id, question, answer, citations, triage, flags, timings, fallback, created_at, token_hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                conversation_id,
                message_id,
                question,
                text,
                serde_json::to_string(&answer.citations)?,
                redact::redact(&serde_json::to_string(&answer.triage)?),
                serde_json::to_string(&flags)?,
                serde_json::to_string(&answer.timings)?,
                answer.fallback,
                t,
                sha256_hex(&token)
            ],
        )?;
        let answer_id = tx.last_insert_rowid();
        if answer.triage.needs_review || !flags.is_empty() {
            for f in &flags {
                add_review_reason(&tx, answer_id, f, "")?;
            }
        }
        tx.commit()?;
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
            .query_row(
                "SELECT token_hash FROM answers WHERE id = ?1",
                [answer_id],
                |r| r.get(0),
            )
            .optional()?;
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
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {ANSWER_COLS} FROM answers a WHERE a.id = ?1"),
                [id],
                answer_from_row,
            )
            .optional()?)
    }

    /// Number of stored answers (metrics, tests).
    pub fn count_answers(&self) -> Result<i64> {
        Ok(self
            .conn()
            .query_row("SELECT COUNT(*) FROM answers", [], |r| r.get(0))?)
    }

    /// Number of stored conversations (metrics, tests).
    pub fn count_conversations(&self) -> Result<i64> {
        Ok(self
            .conn()
            .query_row("SELECT COUNT(*) FROM conversations", [], |r| r.get(0))?)
    }

    /// A citizen's 有帮助/没帮助. Negative feedback puts the answer in the review queue.
    pub fn add_feedback(&self, answer_id: i64, helpful: bool, comment: &str) -> Result<()> {
        let r = self.add_feedback_inner(answer_id, helpful, comment);
        self.track(r)
    }

    fn add_feedback_inner(&self, answer_id: i64, helpful: bool, comment: &str) -> Result<()> {
        let comment = redact::redact(comment);
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        require_answer(&tx, answer_id)?;
        tx.execute(
            "INSERT INTO feedback (answer_id, helpful, comment, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![answer_id, helpful, comment, now()],
        )?;
        if !helpful {
            add_review_reason(&tx, answer_id, REASON_NEGATIVE, &comment)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// 转人工: the citizen asks for a person. Returns the review id.
    pub fn request_human(&self, answer_id: i64, note: &str) -> Result<i64> {
        let r = self.request_human_inner(answer_id, note);
        self.track(r)
    }

    fn request_human_inner(&self, answer_id: i64, note: &str) -> Result<i64> {
        let note = redact::redact(note);
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        require_answer(&tx, answer_id)?;
        let id = add_review_reason(&tx, answer_id, REASON_HUMAN, &note)?;
        tx.commit()?;
        Ok(id)
    }

    /// Review items, newest first: `status` (pending/approved/rejected/all) and an optional reason.
    pub fn reviews(
        &self,
        status: &str,
        reason: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ReviewItem>> {
        let conn = self.conn();
        let mut st = conn.prepare(&format!(
            "SELECT r.id AS rid, r.status, r.note, r.final_answer, r.comment, r.reviewer, r.created_at AS rcreated,
                    {ANSWER_COLS}
             FROM reviews r JOIN answers a ON a.id = r.answer_id
             WHERE (?1 = 'all' OR r.status = ?1)
               AND (?2 IS NULL OR EXISTS (SELECT 1 FROM review_reasons x WHERE x.review_id = r.id AND x.reason = ?2))
             ORDER BY r.id DESC LIMIT ?3"
        ))?;
        let rows = st.query_map(params![status, reason, limit as i64], |r| {
            Ok(ReviewItem {
                id: r.get("rid")?,
                answer: answer_from_row(r)?,
                reasons: Vec::new(),
                status: r.get("status")?,
                note: r.get("note")?,
                final_answer: r.get("final_answer")?,
                comment: r.get("comment")?,
                reviewer: r.get("reviewer")?,
                created_at: r.get("rcreated")?,
            })
        })?;
        let mut items: Vec<ReviewItem> = rows.collect::<rusqlite::Result<_>>()?;
        let mut st =
            conn.prepare("SELECT reason FROM review_reasons WHERE review_id = ?1 ORDER BY reason")?;
        for it in &mut items {
            it.reasons = st
                .query_map([it.id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
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
    pub fn decide_review(&self, id: i64, reviewer: &str, decision: &Decision) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let status: Option<String> = tx
            .query_row("SELECT status FROM reviews WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        match status.as_deref() {
            None => return Err(Error::NotFound(format!("review {id}"))),
            Some("pending") => {}
            Some(s) => return Err(Error::InvalidInput(format!("review {id} is already {s}"))),
        }
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
        let t = now();
        tx.execute(
            "UPDATE reviews SET status = ?1, final_answer = ?2, comment = ?3, reviewer = ?4, decided_at = ?5 WHERE id = ?6",
            params![status, final_answer, comment, reviewer, t, id],
        )?;
        tx.execute(
            "INSERT INTO audit_log (user, action, target, detail, at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                reviewer,
                action,
                format!("review:{id}"),
                comment.unwrap_or_default(),
                t
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Approved review items as eval cases (the shape of `eval/dev.jsonl`).
    pub fn export_eval_cases(&self) -> Result<Vec<serde_json::Value>> {
        let items = self.reviews("approved", None, 100_000)?;
        Ok(items.iter().rev().map(eval_case).collect())
    }

    /// Record a hotline call for the agent's answer.
    pub fn create_call(&self, agent: &str, answer_id: i64) -> Result<i64> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO calls (agent, answer_id, created_at) VALUES (?1, ?2, ?3)",
            params![agent, answer_id, now()],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// Close a call: `answered` with the reply given, or `escalated` (goes to review).
    pub fn close_call(&self, id: i64, agent: &str, reply: &str, escalate: bool) -> Result<()> {
        let reply = redact::redact(reply);
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row: Option<(i64, String)> = tx
            .query_row(
                "SELECT answer_id, status FROM calls WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((answer_id, status)) = row else {
            return Err(Error::NotFound(format!("call {id}")));
        };
        if status != "open" {
            return Err(Error::InvalidInput(format!(
                "call {id} is already {status}"
            )));
        }
        let new_status = if escalate { "escalated" } else { "answered" };
        let t = now();
        tx.execute(
            "UPDATE calls SET reply = ?1, status = ?2, closed_at = ?3 WHERE id = ?4",
            params![reply, new_status, t, id],
        )?;
        if escalate {
            add_review_reason(&tx, answer_id, REASON_ESCALATED, &reply)?;
        }
        tx.execute(
            "INSERT INTO audit_log (user, action, target, detail, at) VALUES (?1, ?2, ?3, '', ?4)",
            params![agent, format!("call.{new_status}"), format!("call:{id}"), t],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Calls, newest first (all agents when `agent` is `None`).
    pub fn calls(&self, agent: Option<&str>, limit: usize) -> Result<Vec<Call>> {
        let conn = self.conn();
        let mut st = conn.prepare(&format!(
            "SELECT c.id AS cid, c.agent, c.reply, c.status, c.created_at AS ccreated, {ANSWER_COLS}
             FROM calls c JOIN answers a ON a.id = c.answer_id
             WHERE (?1 IS NULL OR c.agent = ?1) ORDER BY c.id DESC LIMIT ?2"
        ))?;
        let rows = st.query_map(params![agent, limit as i64], |r| {
            Ok(Call {
                id: r.get("cid")?,
                agent: r.get("agent")?,
                answer: answer_from_row(r)?,
                reply: r.get("reply")?,
                status: r.get("status")?,
                created_at: r.get("ccreated")?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Record a staff action.
    pub fn audit(&self, user: &str, action: &str, target: &str, detail: &str) -> Result<()> {
        self.conn().execute(
            "INSERT INTO audit_log (user, action, target, detail, at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![user, action, target, redact::redact(detail), now()],
        )?;
        Ok(())
    }

    /// Audit log entries, newest first: (user, action, target, detail, at).
    pub fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT user, action, target, detail, at FROM audit_log ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = st.query_map([limit as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Delete conversations (with their messages, answers, reviews, feedback
    /// and calls) older than `days`, and expired sessions.
    ///
    /// Nothing of the purged text stays readable in the files: deleted
    /// content is zeroed (`secure_delete`), the write-ahead log is
    /// checkpointed and truncated, and the file is vacuumed.
    pub fn purge(&self, days: u32) -> Result<PurgeReport> {
        let report = self.purge_rows(days)?;
        let conn = self.conn();
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        conn.execute_batch("VACUUM")?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(report)
    }

    fn purge_rows(&self, days: u32) -> Result<PurgeReport> {
        let cutoff = now() - i64::from(days) * 86_400;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let conversations =
            tx.execute("DELETE FROM conversations WHERE created_at < ?1", [cutoff])?;
        let sessions = tx.execute("DELETE FROM sessions WHERE expires_at < ?1", [now()])?;
        tx.execute(
            "INSERT INTO audit_log (user, action, target, detail, at) VALUES ('system', 'purge', 'conversations', ?1, ?2)",
            params![format!("older than {days} days: {conversations} removed"), now()],
        )?;
        tx.commit()?;
        Ok(PurgeReport {
            conversations,
            sessions,
        })
    }

    /// Run SQLite's integrity check; `ok` when the file is consistent.
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self
            .conn()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }
}

fn require_answer(tx: &rusqlite::Transaction<'_>, answer_id: i64) -> Result<()> {
    let found = tx
        .query_row("SELECT 1 FROM answers WHERE id = ?1", [answer_id], |_| {
            Ok(())
        })
        .optional()?;
    found.ok_or_else(|| Error::NotFound(format!("answer {answer_id}")))
}

/// Put `answer_id` in the review queue for `reason` (one pending item per answer).
fn add_review_reason(
    tx: &rusqlite::Transaction<'_>,
    answer_id: i64,
    reason: &str,
    note: &str,
) -> Result<i64> {
    let existing: Option<i64> = tx
        .query_row(
            "SELECT id FROM reviews WHERE answer_id = ?1 AND status = 'pending'",
            [answer_id],
            |r| r.get(0),
        )
        .optional()?;
    let id = match existing {
        Some(id) => {
            if !note.is_empty() {
                tx.execute(
                    "UPDATE reviews SET note = CASE WHEN note = '' THEN ?1 ELSE note || char(10) || ?1 END WHERE id = ?2",
                    params![note, id],
                )?;
            }
            id
        }
        None => {
            tx.execute(
                "INSERT INTO reviews (answer_id, note, created_at) VALUES (?1, ?2, ?3)",
                params![answer_id, note, now()],
            )?;
            tx.last_insert_rowid()
        }
    };
    tx.execute(
        "INSERT OR IGNORE INTO review_reasons (review_id, reason) VALUES (?1, ?2)",
        params![id, reason],
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

    #[test]
    fn migrations_are_idempotent_and_versioned() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("s.sqlite3");
        drop(Store::open(&p).expect("first open"));
        let s = Store::open(&p).expect("second open");
        let v: u32 = s
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(v, schema::current_version());
        let mode: String = s
            .conn()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .expect("mode");
        assert_eq!(mode, "wal");
    }

    #[test]
    fn flagged_answers_enter_the_review_queue_once() {
        let s = Store::open_in_memory().expect("store");
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
        let s = Store::open_in_memory().expect("store");
        let old = s.create_conversation("web").expect("conv");
        let id = s
            .save_answer(&old, &answer("旧问题", true), &[])
            .expect("save");
        s.conn()
            .execute(
                "UPDATE conversations SET created_at = created_at - 200 * 86400 WHERE id = ?1",
                [&old],
            )
            .expect("age it");
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
        s.conn()
            .execute(
                "UPDATE conversations SET created_at = created_at - 200 * 86400 WHERE id = ?1",
                [&old],
            )
            .expect("age it");
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
        let mut threads = Vec::new();
        for (i, s) in [a.clone(), b.clone(), a, b].into_iter().enumerate() {
            let c = c.clone();
            threads.push(std::thread::spawn(move || {
                let mut failures = Vec::new();
                for n in 0..150 {
                    let r = if n % 2 == 0 {
                        s.add_feedback(id, i % 2 == 0, "意见").map(|_| ())
                    } else {
                        s.save_answer(&c, &answer("又一个问题", false), &[])
                            .map(|_| ())
                    };
                    if let Err(e) = r {
                        failures.push(e.to_string());
                    }
                }
                failures
            }));
        }
        let failures: Vec<String> = threads
            .into_iter()
            .flat_map(|t| t.join().expect("thread"))
            .collect();
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
        let s = Store::open_in_memory().expect("store");
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
            .query_row(
                "SELECT token_hash FROM answers WHERE id = ?1",
                [a.id],
                |r| r.get(0),
            )
            .expect("hash");
        assert_ne!(stored, a.token, "only a hash of the token is stored");
    }

    #[test]
    fn users_and_sessions() {
        let s = Store::open_in_memory().expect("store");
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
            .query_row("SELECT token_hash FROM sessions", [], |r| r.get(0))
            .expect("hash");
        assert_ne!(stored, token, "only a hash of the token is stored");
        s.delete_session(&token).expect("logout");
        assert_eq!(s.session(&token).expect("read"), None);
        let (expired, _) = s.create_session(&u, -1).expect("session");
        assert_eq!(s.session(&expired).expect("read"), None);
    }
}
