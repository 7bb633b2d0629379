//! Broad topic classes (`src/triage/domains.toml`, staff-editable): the
//! fall-back layer of routing. When no specific rule has decided a case, the
//! everyday words of a topic (who, what went wrong) still point at a service.
//!
//! Owns reading and checking the table and matching it against a question.

use super::Service;
use serde::Deserialize;
use std::sync::OnceLock;

/// The table built into the binary.
pub const BUILTIN_TOML: &str = include_str!("domains.toml");

/// One topic class.
#[derive(Debug, Clone, Deserialize)]
pub struct Domain {
    pub name: String,
    pub service: String,
    pub weight: f32,
    pub why: String,
    /// Word groups; a question needs a word from every group.
    pub all: Vec<Vec<String>>,
    /// Words that stop the domain.
    #[serde(default)]
    pub unless: Vec<String>,
    /// Also needs one of the table's `dispute` words (the other side refuses,
    /// denies or delays): a story of a conflict, not a question about a rule.
    #[serde(default)]
    pub needs_dispute: bool,
}

/// The whole table.
#[derive(Debug, Clone, Deserialize)]
pub struct Domains {
    /// Domains vote only when no specific service scored this much.
    pub fallback_below: f32,
    /// Words that tell of a conflict with the other side.
    #[serde(default)]
    pub dispute: Vec<String>,
    #[serde(rename = "domain", default)]
    pub domains: Vec<Domain>,
}

impl Domains {
    /// Parse and check domain TOML (every service id must be known).
    pub fn parse(text: &str) -> crate::Result<Domains> {
        let d: Domains = toml::from_str(text)?;
        for dom in &d.domains {
            if Service::from_id(&dom.service).is_none() {
                return Err(crate::Error::InvalidInput(format!(
                    "domain {}: unknown service {}",
                    dom.name, dom.service
                )));
            }
            if dom.all.is_empty() || dom.all.iter().any(Vec::is_empty) {
                return Err(crate::Error::InvalidInput(format!(
                    "domain {}: empty word group",
                    dom.name
                )));
            }
        }
        Ok(d)
    }

    /// The built-in table (parsed once; a unit test keeps it valid).
    pub fn builtin() -> &'static Domains {
        static D: OnceLock<Domains> = OnceLock::new();
        D.get_or_init(|| {
            Domains::parse(BUILTIN_TOML).unwrap_or_else(|e| {
                tracing::warn!("built-in triage domains unreadable: {e}");
                Domains {
                    fallback_below: 0.0,
                    dispute: Vec::new(),
                    domains: Vec::new(),
                }
            })
        })
    }

    /// The domains `norm` (a normalised question) matches, with the first
    /// word found of each group.
    pub fn matches<'a>(&'a self, norm: &str) -> Vec<(&'a Domain, Vec<&'a str>)> {
        self.domains
            .iter()
            .filter(|d| !d.unless.iter().any(|u| norm.contains(u.as_str())))
            .filter_map(|d| {
                let dispute: &[String] = if d.needs_dispute { &self.dispute } else { &[] };
                let words: Option<Vec<&str>> = d
                    .all
                    .iter()
                    .map(Vec::as_slice)
                    .chain(d.needs_dispute.then_some(dispute))
                    .map(|g| g.iter().map(String::as_str).find(|w| norm.contains(w)))
                    .collect();
                words.map(|w| (d, w))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_parses() {
        let d = Domains::parse(BUILTIN_TOML).expect("builtin domains");
        assert!(d.domains.len() >= 5);
        assert!(d.fallback_below > 0.0);
    }

    #[test]
    fn every_group_must_match_and_unless_stops() {
        let d = Domains::parse(
            r#"
fallback_below = 3.0
[[domain]]
name = "x"
service = "mediation"
weight = 3.0
why = "w"
all = [["邻居"], ["树"]]
unless = ["公司"]
"#,
        )
        .expect("parses");
        assert_eq!(d.matches("邻居把树砍了").len(), 1);
        assert!(d.matches("邻居吵架").is_empty());
        assert!(d.matches("公司邻居把树砍了").is_empty());
        let d = Domains::parse(
            r#"
fallback_below = 3.0
dispute = ["不承认"]
[[domain]]
name = "x"
service = "mediation"
weight = 2.5
why = "w"
all = [["邻居"]]
needs_dispute = true
"#,
        )
        .expect("parses");
        assert!(d.matches("邻居是谁").is_empty());
        assert_eq!(d.matches("邻居不承认")[0].1, vec!["邻居", "不承认"]);
        assert!(Domains::parse("fallback_below = 1.0\n[[domain]]\nname='a'\nservice='nope'\nweight=1.0\nwhy=''\nall=[['a']]").is_err());
    }
}
