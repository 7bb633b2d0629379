//! The two database backends behind [`super::Store`]: an embedded SQLite
//! file and a PostgreSQL server.
//!
//! SQL is written once, in the dialect both accept (`?1`-style placeholders,
//! `INSERT ... RETURNING id`, `ON CONFLICT ... DO NOTHING`, the `"user"`
//! column quoted); for PostgreSQL the placeholders become `$1`. Values cross
//! as [`Value`] and rows come back as [`Row`]s of them.
//!
//! The PostgreSQL client (the sync `postgres` crate) runs its own small
//! runtime and must not be driven from a tokio worker thread, where the
//! store is often called from. It lives on a dedicated thread that takes one
//! statement at a time over a channel ([`PgHandle`]); the caller waits on a
//! std channel, as it would wait on SQLite's file lock. A lost connection is
//! re-established on the next statement outside a transaction; inside one,
//! the statements fail until the transaction ends, so nothing half-done is
//! ever committed on a new connection.

use std::collections::HashMap;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use postgres::types::{IsNull, ToSql, Type};

use crate::{Error, Result};

/// A value going into or coming out of a statement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(i64::from(v))
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// `vals![a, b]`: statement parameters.
macro_rules! vals {
    ($($x:expr),* $(,)?) => { &[$($crate::store::db::Value::from($x)),*][..] };
}
pub(crate) use vals;

/// Read a column value as a Rust type.
pub(crate) trait FromValue: Sized {
    fn from_value(v: &Value) -> Option<Self>;
}
impl FromValue for i64 {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
}
impl FromValue for u64 {
    fn from_value(v: &Value) -> Option<Self> {
        i64::from_value(v).and_then(|i| u64::try_from(i).ok())
    }
}
impl FromValue for u32 {
    fn from_value(v: &Value) -> Option<Self> {
        i64::from_value(v).and_then(|i| u32::try_from(i).ok())
    }
}
impl FromValue for bool {
    fn from_value(v: &Value) -> Option<Self> {
        i64::from_value(v).map(|i| i != 0)
    }
}
impl FromValue for String {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Null => Some(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// One result row.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    names: Arc<[String]>,
    vals: Vec<Value>,
}

impl Row {
    /// Column `i`.
    pub(crate) fn get<T: FromValue>(&self, i: usize) -> Result<T> {
        let v = self.vals.get(i).unwrap_or(&Value::Null);
        T::from_value(v).ok_or_else(|| {
            Error::Store(format!(
                "column {} has an unexpected type ({v:?})",
                self.names.get(i).map_or("?", |s| s.as_str())
            ))
        })
    }

    /// The column named `name`.
    pub(crate) fn col<T: FromValue>(&self, name: &str) -> Result<T> {
        let i = self
            .names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| Error::Store(format!("no column {name} in the result")))?;
        self.get(i)
    }
}

/// Which kind of database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Sqlite,
    Postgres,
}

/// An open connection of either kind.
pub(crate) enum Conn {
    Sqlite(rusqlite::Connection),
    Pg(PgHandle),
}

impl Conn {
    pub(crate) fn kind(&self) -> Kind {
        match self {
            Conn::Sqlite(_) => Kind::Sqlite,
            Conn::Pg(_) => Kind::Postgres,
        }
    }

    /// Run one statement; returns the rows it changed.
    pub(crate) fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        match self {
            Conn::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                Ok(st.execute(rusqlite::params_from_iter(params.iter()))? as u64)
            }
            Conn::Pg(h) => match h.call(Op::Execute, sql, params)? {
                Reply::Count(n) => Ok(n),
                Reply::Rows(_) => Ok(0),
            },
        }
    }

    /// Run a query; all its rows.
    pub(crate) fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        match self {
            Conn::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let names: Arc<[String]> = st
                    .column_names()
                    .into_iter()
                    .map(String::from)
                    .collect::<Vec<_>>()
                    .into();
                let n = names.len();
                let mut rows = st.query(rusqlite::params_from_iter(params.iter()))?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    let mut vals = Vec::with_capacity(n);
                    for i in 0..n {
                        use rusqlite::types::ValueRef as V;
                        vals.push(match r.get_ref(i)? {
                            V::Null => Value::Null,
                            V::Integer(i) => Value::Int(i),
                            V::Real(f) => Value::Real(f),
                            V::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                            V::Blob(b) => Value::Text(String::from_utf8_lossy(b).into_owned()),
                        });
                    }
                    out.push(Row {
                        names: names.clone(),
                        vals,
                    });
                }
                Ok(out)
            }
            Conn::Pg(h) => match h.call(Op::Query, sql, params)? {
                Reply::Rows(r) => Ok(r),
                Reply::Count(_) => Ok(Vec::new()),
            },
        }
    }

    /// The first row of a query, if any.
    pub(crate) fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// The first row of a query, which must have one.
    pub(crate) fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row> {
        self.query_opt(sql, params)?
            .ok_or_else(|| Error::Store("the query returned no row".into()))
    }

    /// Statements without parameters, separated by `;` (DDL).
    pub(crate) fn batch(&mut self, sql: &str) -> Result<()> {
        match self {
            Conn::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Conn::Pg(h) => h.call(Op::Batch, sql, &[]).map(|_| ()),
        }
    }

    /// Run `f` in a write transaction: committed when it returns `Ok`,
    /// rolled back otherwise. On SQLite it starts `IMMEDIATE` (the write lock
    /// is taken at once, so a second process waits its turn instead of
    /// failing later); on PostgreSQL it is `READ COMMITTED`, and the
    /// statements that must not race another node lock their rows.
    pub(crate) fn transaction<T>(&mut self, f: impl FnOnce(&mut Conn) -> Result<T>) -> Result<T> {
        match self {
            Conn::Sqlite(c) => c.execute_batch("BEGIN IMMEDIATE")?,
            Conn::Pg(h) => {
                h.call(Op::Begin, "BEGIN", &[])?;
            }
        }
        let mut guard = TxGuard {
            conn: self,
            open: true,
        };
        let r = f(guard.conn);
        match r {
            Ok(v) => {
                guard.open = false;
                guard.conn.end(true)?;
                Ok(v)
            }
            Err(e) => {
                guard.open = false;
                if let Err(re) = guard.conn.end(false) {
                    tracing::warn!(error = %re, "rollback failed");
                }
                Err(e)
            }
        }
    }

    fn end(&mut self, commit: bool) -> Result<()> {
        let sql = if commit { "COMMIT" } else { "ROLLBACK" };
        match self {
            Conn::Sqlite(c) => {
                if commit {
                    if let Err(e) = c.execute_batch(sql) {
                        // A failed COMMIT (disk full) leaves the transaction open.
                        let _ = c.execute_batch("ROLLBACK");
                        return Err(e.into());
                    }
                    Ok(())
                } else if c.is_autocommit() {
                    Ok(())
                } else {
                    Ok(c.execute_batch(sql)?)
                }
            }
            Conn::Pg(h) => h.call(Op::End, sql, &[]).map(|_| ()),
        }
    }
}

/// Rolls back a transaction left open by a panic.
struct TxGuard<'a> {
    conn: &'a mut Conn,
    open: bool,
}

impl Drop for TxGuard<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.conn.end(false);
        }
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Real(f) => ToSqlOutput::Borrowed(ValueRef::Real(*f)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                _ => i.to_string().to_sql(ty, out),
            },
            Value::Real(f) => match *ty {
                Type::FLOAT4 => (*f as f32).to_sql(ty, out),
                _ => f.to_sql(ty, out),
            },
            Value::Text(s) => s.as_str().to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        matches!(
            *ty,
            Type::INT8
                | Type::INT4
                | Type::INT2
                | Type::BOOL
                | Type::FLOAT8
                | Type::FLOAT4
                | Type::TEXT
                | Type::VARCHAR
                | Type::BPCHAR
                | Type::NAME
                | Type::UNKNOWN
        )
    }

    postgres::types::to_sql_checked!();
}

/// `?1` placeholders to PostgreSQL's `$1` (outside quoted text).
pub(crate) fn pg_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
                out.push(c);
            }
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    out.push(c);
                }
                '?' if chars.peek().is_some_and(|d| d.is_ascii_digit()) => out.push('$'),
                _ => out.push(c),
            },
        }
    }
    out
}

/// Schema DDL written for SQLite, in PostgreSQL's types: 64-bit integers and
/// identity keys for SQLite's row ids.
pub(crate) fn pg_ddl(sql: &str) -> String {
    sql.replace("INTEGER PRIMARY KEY", "\u{0}")
        .replace("INTEGER", "BIGINT")
        .replace(
            "\u{0}",
            "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        )
        .replace("BLOB", "BYTEA")
        .replace("REAL", "DOUBLE PRECISION")
}

// ------------------------------------------------------------------ PostgreSQL

/// How long connecting to the server may take before the call fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Execute,
    Query,
    Batch,
    /// `BEGIN`: may reconnect first; then the connection is in a transaction.
    Begin,
    /// `COMMIT`/`ROLLBACK`: ends the transaction (whatever the connection's state).
    End,
}

enum Reply {
    Count(u64),
    Rows(Vec<Row>),
}

struct Job {
    op: Op,
    sql: String,
    params: Vec<Value>,
    reply: mpsc::SyncSender<Result<Reply>>,
}

/// The caller's side of the PostgreSQL connection thread.
pub(crate) struct PgHandle {
    jobs: mpsc::Sender<Job>,
}

/// Where and how to connect.
#[derive(Clone)]
pub(crate) struct PgTarget {
    pub config: postgres::Config,
    /// A schema to create if missing and put first on the search path.
    pub schema: Option<String>,
}

impl PgHandle {
    /// Start the connection thread and connect (failing if the server
    /// cannot be reached now).
    pub(crate) fn connect(target: PgTarget) -> Result<PgHandle> {
        let (jobs, rx) = mpsc::channel::<Job>();
        let (ready_tx, ready_rx) = mpsc::sync_channel::<Result<()>>(1);
        std::thread::Builder::new()
            .name("postgres".into())
            .spawn(move || {
                let mut w = Worker {
                    target,
                    client: None,
                    statements: HashMap::new(),
                    in_tx: false,
                    broken_tx: false,
                };
                let _ = ready_tx.send(w.ensure_connected());
                while let Ok(job) = rx.recv() {
                    let r = w.run(job.op, &job.sql, &job.params);
                    let _ = job.reply.send(r);
                }
            })
            .map_err(|e| Error::io("starting the PostgreSQL connection thread", e))?;
        ready_rx
            .recv()
            .map_err(|_| Error::StorageDown("the PostgreSQL connection thread stopped".into()))??;
        Ok(PgHandle { jobs })
    }

    fn call(&mut self, op: Op, sql: &str, params: &[Value]) -> Result<Reply> {
        let (tx, rx) = mpsc::sync_channel(1);
        let sql = match op {
            Op::Batch => sql.to_string(),
            _ => pg_sql(sql),
        };
        self.jobs
            .send(Job {
                op,
                sql,
                params: params.to_vec(),
                reply: tx,
            })
            .map_err(|_| Error::StorageDown("the PostgreSQL connection thread stopped".into()))?;
        rx.recv()
            .map_err(|_| Error::StorageDown("the PostgreSQL connection thread stopped".into()))?
    }
}

struct Worker {
    target: PgTarget,
    client: Option<postgres::Client>,
    statements: HashMap<String, postgres::Statement>,
    in_tx: bool,
    /// The connection was lost inside the current transaction.
    broken_tx: bool,
}

impl Worker {
    fn ensure_connected(&mut self) -> Result<()> {
        if self.client.as_ref().is_some_and(|c| !c.is_closed()) {
            return Ok(());
        }
        self.client = None;
        self.statements.clear();
        let mut config = self.target.config.clone();
        config.connect_timeout(CONNECT_TIMEOUT);
        if config.get_application_name().is_none() {
            config.application_name("lawbrain");
        }
        // Notices ("already exists, skipping") are not news for the log.
        config.notice_callback(|n| tracing::debug!(notice = %n.message(), "PostgreSQL notice"));
        let mut client = config.connect(postgres::NoTls)?;
        if let Some(schema) = &self.target.schema {
            let q = quote_ident(schema);
            if let Err(e) = client.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {q}")) {
                // Another server created it at the same moment.
                let raced = e
                    .code()
                    .is_some_and(|c| matches!(c.code(), "23505" | "42P06"));
                if !raced {
                    return Err(e.into());
                }
            }
            client.batch_execute(&format!("SET search_path TO {q}"))?;
        }
        tracing::debug!("connected to PostgreSQL");
        self.client = Some(client);
        Ok(())
    }

    /// Run a job. A `BEGIN`, or a read outside a transaction, that fails
    /// because the connection was lost (the server restarted, or ended the
    /// session) is tried once more on a new connection: nothing was done.
    fn run(&mut self, op: Op, sql: &str, params: &[Value]) -> Result<Reply> {
        let read = matches!(op, Op::Query | Op::Execute)
            && !self.in_tx
            && sql
                .trim_start()
                .get(..6)
                .is_some_and(|w| w.eq_ignore_ascii_case("select"));
        let r = self.run_once(op, sql, params);
        let lost = matches!(&r, Err(Error::Postgres(e)) if connection_lost(e));
        if lost && (op == Op::Begin || read) {
            tracing::info!("reconnecting to PostgreSQL");
            return self.run_once(op, sql, params);
        }
        r
    }

    fn run_once(&mut self, op: Op, sql: &str, params: &[Value]) -> Result<Reply> {
        match op {
            Op::End => {
                let was_broken = self.broken_tx;
                self.in_tx = false;
                self.broken_tx = false;
                if was_broken || self.client.as_ref().is_none_or(|c| c.is_closed()) {
                    return if sql == "COMMIT" {
                        Err(Error::StorageDown(
                            "the connection to PostgreSQL was lost; the transaction was not committed"
                                .into(),
                        ))
                    } else {
                        Ok(Reply::Count(0))
                    };
                }
            }
            Op::Begin => {
                self.in_tx = false;
                self.broken_tx = false;
                self.ensure_connected()?;
            }
            _ if self.in_tx => {
                if self.broken_tx || self.client.as_ref().is_none_or(|c| c.is_closed()) {
                    self.broken_tx = true;
                    return Err(Error::StorageDown(
                        "the connection to PostgreSQL was lost in a transaction".into(),
                    ));
                }
            }
            _ => self.ensure_connected()?,
        }
        let r = self.run_connected(op, sql, params);
        match &r {
            Ok(_) if op == Op::Begin => self.in_tx = true,
            Err(Error::Postgres(e))
                if connection_lost(e) || self.client.as_ref().is_none_or(|c| c.is_closed()) =>
            {
                tracing::warn!(error = %e, "lost the connection to PostgreSQL");
                if self.in_tx {
                    self.broken_tx = true;
                }
                self.client = None;
                self.statements.clear();
            }
            _ => {}
        }
        r
    }

    fn run_connected(&mut self, op: Op, sql: &str, params: &[Value]) -> Result<Reply> {
        let Some(client) = self.client.as_mut() else {
            return Err(Error::StorageDown("not connected to PostgreSQL".into()));
        };
        match op {
            Op::Batch | Op::Begin | Op::End => {
                client.batch_execute(sql)?;
                Ok(Reply::Count(0))
            }
            Op::Execute | Op::Query => {
                let st = match self.statements.get(sql) {
                    Some(st) => st.clone(),
                    None => {
                        let st = client.prepare(sql)?;
                        if self.statements.len() > 256 {
                            self.statements.clear();
                        }
                        self.statements.insert(sql.to_string(), st.clone());
                        st
                    }
                };
                let refs: Vec<&(dyn ToSql + Sync)> =
                    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
                if op == Op::Execute && st.columns().is_empty() {
                    return Ok(Reply::Count(client.execute(&st, &refs)?));
                }
                let rows = client.query(&st, &refs)?;
                let names: Arc<[String]> = st
                    .columns()
                    .iter()
                    .map(|c| c.name().to_string())
                    .collect::<Vec<_>>()
                    .into();
                let mut out = Vec::with_capacity(rows.len());
                for r in &rows {
                    let mut vals = Vec::with_capacity(names.len());
                    for (i, c) in r.columns().iter().enumerate() {
                        vals.push(pg_value(r, i, c.type_())?);
                    }
                    out.push(Row {
                        names: names.clone(),
                        vals,
                    });
                }
                if op == Op::Execute {
                    return Ok(Reply::Count(out.len() as u64));
                }
                Ok(Reply::Rows(out))
            }
        }
    }
}

/// Whether `e` means the connection is gone (not that the statement
/// failed): no SQLSTATE (I/O, closed), a connection-class error (08), or
/// the server ending the session (57P01-57P05: shutdown, terminated).
fn connection_lost(e: &postgres::Error) -> bool {
    e.is_closed()
        || e.code()
            .is_none_or(|c| c.code().starts_with("08") || c.code().starts_with("57P"))
}

fn pg_value(r: &postgres::Row, i: usize, ty: &Type) -> Result<Value> {
    fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> Value) -> Value {
        v.map_or(Value::Null, f)
    }
    Ok(match *ty {
        Type::INT8 => opt(r.try_get::<_, Option<i64>>(i)?, Value::Int),
        Type::INT4 => opt(r.try_get::<_, Option<i32>>(i)?, |v| Value::Int(v.into())),
        Type::INT2 => opt(r.try_get::<_, Option<i16>>(i)?, |v| Value::Int(v.into())),
        Type::BOOL => opt(r.try_get::<_, Option<bool>>(i)?, |v| Value::Int(v.into())),
        Type::FLOAT8 => opt(r.try_get::<_, Option<f64>>(i)?, Value::Real),
        Type::FLOAT4 => opt(r.try_get::<_, Option<f32>>(i)?, |v| Value::Real(v.into())),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
            opt(r.try_get::<_, Option<String>>(i)?, Value::Text)
        }
        ref other => {
            return Err(Error::Store(format!(
                "column {} has type {other}, which the store does not read",
                r.columns()[i].name()
            )))
        }
    })
}

/// `name` as a quoted SQL identifier.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `url` with its password replaced by `***` (for logs and `/healthz`).
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_string(),
    };
    // A password given as a query parameter.
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let q: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => kv.to_string(),
                })
                .collect();
            format!("{path}?{}", q.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollar_numbers_outside_quotes() {
        assert_eq!(
            pg_sql("SELECT '?1', \"a?2\" FROM t WHERE a = ?1 AND b = ?12"),
            "SELECT '?1', \"a?2\" FROM t WHERE a = $1 AND b = $12"
        );
    }

    #[test]
    fn ddl_uses_postgres_types() {
        assert_eq!(
            pg_ddl("id INTEGER PRIMARY KEY, n INTEGER NOT NULL, b BLOB, r REAL"),
            "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n BIGINT NOT NULL, b BYTEA, r DOUBLE PRECISION"
        );
    }

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact_url("postgres://lb:s3cr%40t@db.internal:5432/lawbrain?sslmode=disable"),
            "postgres://lb:***@db.internal:5432/lawbrain?sslmode=disable"
        );
        assert_eq!(
            redact_url("postgresql://lb@/lawbrain?host=/run/pg&password=hunter2"),
            "postgresql://lb@/lawbrain?host=/run/pg&password=***"
        );
        assert_eq!(
            redact_url("postgres://localhost/db"),
            "postgres://localhost/db"
        );
    }
}
