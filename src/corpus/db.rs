//! Reader for the national law database (`laws.db`, SQLite, read-only).
//!
//! Owns: the SQL, and turning rows into raw law versions with raw article
//! rows. No cleaning and no version selection happen here.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use crate::error::Error;

/// One law version as stored in the `laws` table.
#[derive(Debug, Clone)]
pub struct RawLaw {
    pub law_id: String,
    pub name: String,
    pub doc_type: String,
    pub level: String,
    pub effective_date: String,
    pub version_date: String,
    pub status: String,
    pub rows: Vec<RawRow>,
}

/// One row of the `articles` table.
#[derive(Debug, Clone)]
pub struct RawRow {
    pub chapter: String,
    pub section: String,
    pub article_no: String,
    pub article_no_arabic: Option<i64>,
    pub text: String,
}

/// Read every law version with its rows, in database order.
pub fn read(path: &Path) -> crate::Result<Vec<RawLaw>> {
    if !path.exists() {
        return Err(Error::MissingAsset {
            what: "the law database laws.db".into(),
            path: path.to_path_buf(),
            fix: "lawbrain setup".into(),
        });
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let mut laws: Vec<RawLaw> = Vec::new();
    {
        let mut st = conn.prepare(
            "SELECT law_id, law_name, COALESCE(doc_type,''), COALESCE(level,''), COALESCE(effective_date,''),
                    COALESCE(version_date,''), COALESCE(status,'') FROM laws ORDER BY law_name, version_date",
        )?;
        let rows = st.query_map([], |r| {
            Ok(RawLaw {
                law_id: r.get(0)?,
                name: r.get(1)?,
                doc_type: r.get(2)?,
                level: r.get(3)?,
                effective_date: r.get(4)?,
                version_date: r.get(5)?,
                status: r.get(6)?,
                rows: Vec::new(),
            })
        })?;
        for l in rows {
            laws.push(l?);
        }
    }
    let index: std::collections::HashMap<String, usize> = laws
        .iter()
        .enumerate()
        .map(|(i, l)| (l.law_id.clone(), i))
        .collect();
    let mut st = conn.prepare(
        "SELECT law_id, COALESCE(chapter,''), COALESCE(section,''), COALESCE(article_no,''), article_no_arabic,
                COALESCE(article_text,'') FROM articles ORDER BY id",
    )?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            RawRow {
                chapter: r.get(1)?,
                section: r.get(2)?,
                article_no: r.get(3)?,
                article_no_arabic: r.get(4)?,
                text: r.get(5)?,
            },
        ))
    })?;
    for row in rows {
        let (law_id, row) = row?;
        match index.get(&law_id) {
            Some(&i) => laws[i].rows.push(row),
            None => tracing::warn!(law_id, "article row of an unknown law skipped"),
        }
    }
    Ok(laws)
}
