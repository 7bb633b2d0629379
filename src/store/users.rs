//! Staff and agent accounts (argon2 password hashes) and login sessions.
//! Session tokens are random; only their sha256 is stored.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::db::{vals, Row};
use super::{now, random_hex, Store};
use crate::{Error, Result};

/// What an account may do. Staff may do everything an agent may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 12348 hotline agent: the agent console.
    Agent,
    /// Reviewer: the review queue, eval reports, and the agent console.
    Staff,
}

impl Role {
    pub fn id(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Staff => "staff",
        }
    }

    pub fn from_id(s: &str) -> Option<Role> {
        match s {
            "agent" => Some(Role::Agent),
            "staff" => Some(Role::Staff),
            _ => None,
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Role::Agent => "坐席",
            Role::Staff => "审核员",
        }
    }
}

/// A logged-in or listed account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub role: Role,
}

/// A hash of a random password with the parameters real accounts use,
/// checked against when the name is unknown.
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| {
        let mut salt = [0u8; 16];
        rand::fill(&mut salt[..]);
        let mut pw = [0u8; 16];
        rand::fill(&mut pw[..]);
        let Ok(salt) = SaltString::encode_b64(&salt) else {
            return String::new();
        };
        Argon2::default()
            .hash_password(&pw, &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn user_from_row(r: &Row) -> Result<User> {
    let role: String = r.get(2)?;
    Ok(User {
        id: r.get(0)?,
        name: r.get(1)?,
        role: Role::from_id(&role).unwrap_or(Role::Agent),
    })
}

impl Store {
    /// Add an account. Names are 1-64 visible characters; passwords at least 8.
    pub fn add_user(&self, name: &str, role: Role, password: &str) -> Result<User> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(Error::InvalidInput(
                "user name must be 1-64 visible characters".into(),
            ));
        }
        if password.chars().count() < 8 {
            return Err(Error::InvalidInput(
                "password must have at least 8 characters".into(),
            ));
        }
        let mut salt = [0u8; 16];
        rand::fill(&mut salt[..]);
        let salt = SaltString::encode_b64(&salt).map_err(|e| Error::Store(format!("salt: {e}")))?;
        let hash = Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| Error::Store(format!("hashing password: {e}")))?
            .to_string();
        // One statement: of two servers adding the same name at once, one
        // adds it and the other is told it exists.
        let id: Option<i64> = self
            .conn()
            .query_opt(
                "INSERT INTO users (name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (name) DO NOTHING RETURNING id",
                vals![name, role.id(), hash, now()],
            )?
            .map(|r| r.get(0))
            .transpose()?;
        let Some(id) = id else {
            return Err(Error::InvalidInput(format!("user {name} already exists")));
        };
        Ok(User {
            id,
            name: name.to_string(),
            role,
        })
    }

    /// All accounts, by name.
    pub fn users(&self) -> Result<Vec<User>> {
        let mut users = self
            .conn()
            .query("SELECT id, name, role FROM users", &[])?
            .iter()
            .map(user_from_row)
            .collect::<Result<Vec<_>>>()?;
        // Byte order, the same on both backends (whatever the collation).
        users.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(users)
    }

    /// Check a password; `None` for an unknown name or a wrong password.
    pub fn verify_login(&self, name: &str, password: &str) -> Result<Option<User>> {
        let row: Option<(User, String)> = self
            .conn()
            .query_opt(
                "SELECT id, name, role, password_hash FROM users WHERE name = ?1",
                vals![name.trim()],
            )?
            .map(|r| Ok::<_, Error>((user_from_row(&r)?, r.get(3)?)))
            .transpose()?;
        let Some((user, hash)) = row else {
            // Spend the same hashing on an unknown name as on a known one,
            // so the answer time does not tell which names exist.
            if let Ok(parsed) = PasswordHash::new(dummy_hash()) {
                let _ = Argon2::default().verify_password(password.as_bytes(), &parsed);
            }
            return Ok(None);
        };
        let parsed =
            PasswordHash::new(&hash).map_err(|e| Error::Store(format!("stored hash: {e}")))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .ok()
            .map(|_| user))
    }

    /// Start a session for `user`; returns (token for the cookie, CSRF token).
    pub fn create_session(&self, user: &User, ttl_secs: i64) -> Result<(String, String)> {
        let token = random_hex(32);
        let csrf = random_hex(16);
        self.conn().execute(
            "INSERT INTO sessions (token_hash, user_id, csrf, expires_at) VALUES (?1, ?2, ?3, ?4)",
            vals![token_hash(&token), user.id, &csrf, now() + ttl_secs],
        )?;
        Ok((token, csrf))
    }

    /// The user and CSRF token of a live session.
    pub fn session(&self, token: &str) -> Result<Option<(User, String)>> {
        self.conn()
            .query_opt(
                "SELECT u.id, u.name, u.role, s.csrf FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.token_hash = ?1 AND s.expires_at > ?2",
                vals![token_hash(token), now()],
            )?
            .map(|r| Ok((user_from_row(&r)?, r.get(3)?)))
            .transpose()
    }

    /// End a session.
    pub fn delete_session(&self, token: &str) -> Result<()> {
        self.conn().execute(
            "DELETE FROM sessions WHERE token_hash = ?1",
            vals![token_hash(token)],
        )?;
        Ok(())
    }
}
