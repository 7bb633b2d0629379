//! Version selection: which version of each law is in force on a date.
//!
//! Rules: the effective date of a version is max(effective_date, version_date)
//! (the database's effective_date is unreliable); 现行有效 beats 已被修改;
//! 历史版本 and 已废止 are never selected, except that a version not yet in
//! force on the date yields to the latest earlier version of the same law.
//! Everything not selected is kept, with its status, for citation checking.

use super::db::RawLaw;
use super::Status;

/// One law version and what selection made of it.
#[derive(Debug, Clone)]
pub struct Chosen {
    /// Index into the raw law list.
    pub index: usize,
    /// Status as of the date.
    pub status: Status,
    /// Effective date used (YYYY-MM-DD), if known.
    pub effective: Option<String>,
    /// Whether this is the version in force.
    pub selected: bool,
}

/// The date a version took effect: max(effective_date, version_date).
pub fn effective_date(law: &RawLaw) -> Option<String> {
    let dates = [law.effective_date.trim(), law.version_date.trim()];
    dates
        .iter()
        .filter(|d| is_date(d))
        .max()
        .map(|d| d.to_string())
}

/// Whether `s` looks like YYYY-MM-DD.
pub fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

fn db_status(s: &str) -> Status {
    match s {
        "现行有效" => Status::InForce,
        "已被修改" => Status::Amended,
        "已废止" => Status::Repealed,
        _ => Status::Historical,
    }
}

/// Decide, for every raw law version, its status on `as_of` and whether it is
/// the one selected.
pub fn select(laws: &[RawLaw], as_of: &str) -> Vec<Chosen> {
    let mut by_name: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for (i, l) in laws.iter().enumerate() {
        by_name.entry(l.name.as_str()).or_default().push(i);
    }
    let mut out = Vec::with_capacity(laws.len());
    for idxs in by_name.values() {
        let mut chosen: Vec<Chosen> = idxs
            .iter()
            .map(|&i| {
                let eff = effective_date(&laws[i]);
                let mut status = db_status(laws[i].status.trim());
                let future = eff.as_deref().is_some_and(|e| e > as_of);
                if future && status.citable() {
                    status = Status::NotYetInForce;
                }
                Chosen {
                    index: i,
                    status,
                    effective: eff,
                    selected: false,
                }
            })
            .collect();
        let rank = |c: &Chosen| match c.status {
            Status::InForce => 2,
            Status::Amended => 1,
            _ => 0,
        };
        let best = chosen
            .iter()
            .enumerate()
            .filter(|(_, c)| rank(c) > 0)
            .max_by(|(_, a), (_, b)| rank(a).cmp(&rank(b)).then(a.effective.cmp(&b.effective)))
            .map(|(i, _)| i);
        let pick = match best {
            Some(i) => Some(i),
            None => {
                // A version not yet in force yields to the latest earlier
                // historical version of the same law.
                let has_future = chosen.iter().any(|c| c.status == Status::NotYetInForce);
                if has_future {
                    chosen
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| {
                            c.status == Status::Historical
                                && c.effective.as_deref().is_none_or(|e| e <= as_of)
                        })
                        .max_by(|(_, a), (_, b)| a.effective.cmp(&b.effective))
                        .map(|(i, _)| i)
                } else {
                    None
                }
            }
        };
        if let Some(i) = pick {
            chosen[i].selected = true;
            if chosen[i].status == Status::Historical {
                chosen[i].status = Status::InForce;
            }
        }
        out.extend(chosen);
    }
    out.sort_by_key(|c| c.index);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn law(name: &str, eff: &str, ver: &str, status: &str) -> RawLaw {
        RawLaw {
            law_id: format!("{name}{ver}"),
            name: name.into(),
            doc_type: "法律".into(),
            level: "法律".into(),
            effective_date: eff.into(),
            version_date: ver.into(),
            status: status.into(),
            rows: vec![],
        }
    }

    #[test]
    fn future_version_yields_to_previous() {
        let laws = vec![
            law("农业法", "2003-03-01", "2012-12-28", "历史版本"),
            law("农业法", "2027-01-01", "2026-08-28", "现行有效"),
        ];
        let c = select(&laws, "2026-11-28");
        assert!(c[0].selected && c[0].status == Status::InForce);
        assert!(!c[1].selected && c[1].status == Status::NotYetInForce);
        let c = select(&laws, "2027-06-01");
        assert!(!c[0].selected && c[0].status == Status::Historical);
        assert!(c[1].selected && c[1].status == Status::InForce);
    }

    #[test]
    fn effective_is_max_of_dates_and_repealed_never_selected() {
        let l = law("注册会计师法", "1994-01-01", "2026-06-26", "现行有效");
        assert_eq!(effective_date(&l).as_deref(), Some("2026-06-26"));
        let laws = vec![law("某法", "2000-01-01", "2000-01-01", "已废止")];
        assert!(!select(&laws, "2026-01-01")[0].selected);
        let laws = vec![law("刑法", "1997-10-01", "2020-12-26", "已被修改")];
        let c = select(&laws, "2026-01-01");
        assert!(c[0].selected && c[0].status == Status::Amended);
    }
}
