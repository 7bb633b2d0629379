//! SQLite storage for the service: conversations, messages, answers, reviews,
//! feedback, hotline calls, users, sessions and the audit log of staff actions.
//!
//! Owns: the schema and its migrations ([`schema`]), WAL mode, redaction of
//! personal numbers before anything is written ([`redact`]), and the retention
//! purge. An answer is written in one transaction together with its question,
//! so a crash leaves either the whole turn or nothing.

pub mod redact;
pub mod schema;
mod users;

pub use users::{Role, User};

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

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
    /// Open (creating if needed) the database at `path`, in WAL mode, migrated.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
            }
        }
        let conn = Connection::open(path)?;
        Self::setup(conn)
    }

    /// A private in-memory database (tests).
    pub fn open_in_memory() -> Result<Store> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(mut conn: Connection) -> Result<Store> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        tracing::debug!(mode, "storage journal mode");
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        schema::migrate(&mut conn)?;
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Start a conversation; returns its id (random, not guessable).
    pub fn create_conversation(&self, channel: &str) -> Result<String> {
        let id = random_hex(12);
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
        let mut conn = self.conn();
        let tx = conn.transaction()?;
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
            "INSERT INTO answers (conversation_id, message_id, question, answer, citations, triage, flags, timings, fallback, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
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
                t
            ],
        )?;
        let answer_id = tx.last_insert_rowid();
        if answer.triage.needs_review || !flags.is_empty() {
            for f in &flags {
                add_review_reason(&tx, answer_id, f, "")?;
            }
        }
        tx.commit()?;
        Ok(answer_id)
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

    /// A citizen's 有帮助/没帮助. Negative feedback puts the answer in the review queue.
    pub fn add_feedback(&self, answer_id: i64, helpful: bool, comment: &str) -> Result<()> {
        let comment = redact::redact(comment);
        let mut conn = self.conn();
        let tx = conn.transaction()?;
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
        let note = redact::redact(note);
        let mut conn = self.conn();
        let tx = conn.transaction()?;
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
        let tx = conn.transaction()?;
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
        let tx = conn.transaction()?;
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
    pub fn purge(&self, days: u32) -> Result<PurgeReport> {
        let cutoff = now() - i64::from(days) * 86_400;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
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
