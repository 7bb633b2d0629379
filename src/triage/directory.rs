//! The referral directory: which unit offers which service, where and how.
//!
//! Owns reading and checking the staff-editable TOML (`corpus/directory.toml`
//! is built in) and turning a service into a [`Referral`]. Local addresses and
//! phone numbers stay as the file says ("待填写" until staff fill them in);
//! nothing here invents a number.

use super::{Directory, Referral, Service};
use crate::error::IoContext;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The directory shipped with lawbrain.
pub const BUILTIN_TOML: &str = include_str!("../../corpus/directory.toml");

/// A national hotline.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Hotline {
    pub name: String,
    pub number: String,
    #[serde(default)]
    pub note: String,
}

/// The online legal service hall.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Online {
    pub name: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub how: String,
}

/// A public legal service unit (city centre, district centre, station).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub level: String,
    /// Place words that make this unit the nearest one ("华容区").
    #[serde(default)]
    pub areas: Vec<String>,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub hours: String,
    /// Service ids the unit handles.
    #[serde(default)]
    pub services: Vec<String>,
}

/// Where and how for one service.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceEntry {
    #[serde(default, rename = "where")]
    pub where_to_go: Vec<String>,
    #[serde(default)]
    pub how: Vec<String>,
    #[serde(default)]
    pub phones: Vec<String>,
}

impl Directory {
    /// The directory shipped with lawbrain (`corpus/directory.toml`).
    pub fn builtin() -> Directory {
        match Directory::parse(BUILTIN_TOML) {
            Ok(d) => d,
            Err(e) => {
                // A unit test keeps this from happening; stay usable anyway.
                tracing::error!("built-in referral directory is invalid: {e}");
                Directory::default()
            }
        }
    }

    /// Load a directory file (a clear error for a bad file; nothing changes).
    pub fn load(path: &Path) -> crate::Result<Directory> {
        let text = std::fs::read_to_string(path)
            .ctx(|| format!("reading directory {}", path.display()))?;
        Directory::parse(&text).map_err(|e| match e {
            crate::Error::InvalidInput(m) => {
                crate::Error::InvalidInput(format!("{}: {m}", path.display()))
            }
            other => other,
        })
    }

    /// Parse and check directory TOML.
    pub fn parse(text: &str) -> crate::Result<Directory> {
        let d: Directory = toml::from_str(text)?;
        d.check()?;
        Ok(d)
    }

    fn check(&self) -> crate::Result<()> {
        for key in self.services.keys() {
            if Service::from_id(key).is_none() {
                return Err(crate::Error::InvalidInput(format!(
                    "unknown service id [services.{key}]"
                )));
            }
        }
        for u in &self.units {
            for s in &u.services {
                if Service::from_id(s).is_none() {
                    return Err(crate::Error::InvalidInput(format!(
                        "unit {}: unknown service id {s:?}",
                        u.id
                    )));
                }
            }
        }
        for (key, e) in &self.services {
            for p in &e.phones {
                if !self.hotlines.iter().any(|h| &h.number == p) {
                    return Err(crate::Error::InvalidInput(format!(
                        "[services.{key}] phone {p:?} is not one of the listed hotlines"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Units that offer `service`, the ones whose area words occur in
    /// `question` first.
    pub fn units_for(&self, service: Service, question: &str) -> Vec<&Unit> {
        let mut local: Vec<&Unit> = Vec::new();
        let mut other: Vec<&Unit> = Vec::new();
        for u in self
            .units
            .iter()
            .filter(|u| u.services.iter().any(|s| s == service.id()))
        {
            let named = u.level != "乡镇"
                && u.areas
                    .iter()
                    .any(|a| !a.is_empty() && question.contains(a.as_str()));
            if named {
                local.push(u);
            } else {
                other.push(u);
            }
        }
        if local.is_empty() {
            // No district named: the city centre and the township stations.
            other.retain(|u| u.level == "市" || u.level == "乡镇");
            other
        } else {
            local
        }
    }

    /// Where to go and how for `service`, tailored to the place named in `question`.
    pub fn referral(&self, service: Service, question: &str) -> Referral {
        let entry = self.services.get(service.id()).cloned().unwrap_or_default();
        let mut where_to_go: Vec<String> = self
            .units_for(service, question)
            .into_iter()
            .map(|u| {
                format!(
                    "{}（地址：{}；电话：{}；办公时间：{}）",
                    u.name, u.address, u.phone, u.hours
                )
            })
            .collect();
        where_to_go.extend(entry.where_to_go.iter().cloned());
        let mut how = entry.how.clone();
        if let Some(o) = &self.online {
            if matches!(
                service,
                Service::Consultation | Service::LegalAid | Service::Notary
            ) {
                how.push(format!("{}：{}（网址：{}）", o.name, o.how, o.url));
            }
        }
        let phones = entry
            .phones
            .iter()
            .map(|p| match self.hotlines.iter().find(|h| &h.number == p) {
                Some(h) => format!("{}（{}）", h.number, h.name),
                None => p.clone(),
            })
            .collect();
        Referral {
            service: service.id().to_string(),
            service_name: service.name_zh().to_string(),
            where_to_go,
            how,
            phones,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_parses_and_covers_every_service() {
        let d = Directory::parse(BUILTIN_TOML).expect("builtin directory");
        for s in Service::ALL {
            assert!(
                d.services.contains_key(s.id()),
                "missing [services.{}]",
                s.id()
            );
        }
        for area in ["鄂城区", "华容区", "梁子湖区", "临空经济区", "葛店开发区"]
        {
            assert!(
                d.units.iter().any(|u| u.areas.iter().any(|a| a == area)),
                "{area}"
            );
        }
    }

    #[test]
    fn only_national_numbers_and_placeholders() {
        let d = Directory::builtin();
        let national = ["12348", "110", "120", "12315", "12333", "12345"];
        for h in &d.hotlines {
            assert!(national.contains(&h.number.as_str()), "{}", h.number);
        }
        for u in &d.units {
            assert!(u.phone.contains("待填写"), "{}: {}", u.name, u.phone);
            assert!(u.address.contains("待填写"), "{}: {}", u.name, u.address);
        }
    }

    #[test]
    fn district_named_in_question_comes_first() {
        let d = Directory::builtin();
        let r = d.referral(Service::LegalAid, "我住在华容区，想申请法律援助");
        assert!(
            r.where_to_go[0].starts_with("华容区公共法律服务中心"),
            "{:?}",
            r.where_to_go
        );
        let r = d.referral(Service::LegalAid, "想申请法律援助");
        assert!(
            r.where_to_go[0].starts_with("鄂州市公共法律服务中心"),
            "{:?}",
            r.where_to_go
        );
        assert!(r.phones.iter().any(|p| p.starts_with("12348")));
        let r = d.referral(Service::Emergency, "救命");
        assert!(r.phones.iter().any(|p| p.starts_with("110")));
    }

    #[test]
    fn bad_directory_is_a_clear_error() {
        let e = Directory::parse("[services.foo]\nwhere=[]\n").expect_err("unknown id");
        assert!(e.to_string().contains("foo"), "{e}");
        let e = Directory::parse(
            "[[hotlines]]\nname='x'\nnumber='12348'\n[services.consultation]\nphones=['0711-1234567']\n",
        )
        .expect_err("unlisted phone");
        assert!(e.to_string().contains("0711"), "{e}");
        assert!(Directory::parse("not toml [").is_err());
    }
}
