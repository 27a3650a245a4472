//! The box's own Ed25519 key: made at first start, kept in the usage database (so backups carry
//! it and a restored box signs as before), and shown as a short fingerprint so that a district
//! office can tell by eye which key a centre's summaries are signed with.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rusqlite::{Connection, OptionalExtension};
use sha2::{Digest, Sha256};

/// Name of the key's row in the database's `secrets` table.
const SECRET_NAME: &str = "box-signing";

/// Errors of loading or making the key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The database could not be read or written.
    #[error("the box key could not be kept: {0}")]
    Database(#[from] rusqlite::Error),
    /// The system gave no randomness to make a key with.
    #[error("no randomness to make the box key: {0}")]
    Random(String),
}

/// The box's signing key.
pub struct BoxKey {
    signing: SigningKey,
}

impl std::fmt::Debug for BoxKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret half, not even in a log line.
        f.debug_struct("BoxKey")
            .field("fingerprint", &self.fingerprint())
            .finish()
    }
}

impl BoxKey {
    /// The key kept in `conn` (a usage database with its `secrets` table), made now if there is
    /// none. Two processes starting at once keep the same key: the first write wins.
    pub fn load_or_create(conn: &Connection) -> Result<BoxKey, KeyError> {
        if let Some(key) = Self::load(conn)? {
            return Ok(key);
        }
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| KeyError::Random(e.to_string()))?;
        conn.execute(
            "INSERT OR IGNORE INTO secrets(name, value) VALUES (?1, ?2)",
            rusqlite::params![SECRET_NAME, &seed[..]],
        )?;
        Ok(Self::load(conn)?.unwrap_or_else(|| BoxKey {
            signing: SigningKey::from_bytes(&seed),
        }))
    }

    /// The key kept in `conn`, if one was made (a database opened read-only, as `doctor` does).
    pub fn load(conn: &Connection) -> Result<Option<BoxKey>, KeyError> {
        let stored: Option<Vec<u8>> = conn
            .query_row(
                "SELECT value FROM secrets WHERE name = ?1",
                [SECRET_NAME],
                |r| r.get(0),
            )
            .optional()
            .or_else(|e| match e {
                // A database from before the table existed has no key yet.
                rusqlite::Error::SqliteFailure(_, Some(ref m)) if m.contains("no such table") => {
                    Ok(None)
                }
                e => Err(e),
            })?;
        Ok(stored
            .and_then(|v| <[u8; 32]>::try_from(v.as_slice()).ok())
            .map(|seed| BoxKey {
                signing: SigningKey::from_bytes(&seed),
            }))
    }

    /// A key from a known seed, for simulations of many boxes (a box's own key is made from
    /// the system's randomness by [`BoxKey::load_or_create`]).
    pub fn from_seed(seed: [u8; 32]) -> BoxKey {
        BoxKey {
            signing: SigningKey::from_bytes(&seed),
        }
    }

    /// The public half, as sent with every signed file.
    pub fn public(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }

    /// The short fingerprint people compare: see [`fingerprint`].
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.public())
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.signing.sign(message).to_bytes()
    }
}

/// Whether `signature` is `public`'s signature of `message` (strict verification: no
/// malleable or small-order keys).
pub fn verify(public: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    let Ok(key) = VerifyingKey::from_bytes(public) else {
        return false;
    };
    key.verify_strict(message, &Signature::from_bytes(signature))
        .is_ok()
}

/// A public key's fingerprint: the first 8 bytes of its SHA-256 in four groups of four hex
/// digits ("3f2a-91bc-0d4e-77a1"), short enough to read over the phone.
pub fn fingerprint(public: &[u8; 32]) -> String {
    let digest = Sha256::digest(public);
    let hex: Vec<String> = digest[..8]
        .chunks(2)
        .map(|c| format!("{:02x}{:02x}", c[0], c[1]))
        .collect();
    hex.join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE secrets(name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID",
        )
        .unwrap();
        c
    }

    #[test]
    fn the_key_is_made_once_and_kept() {
        let c = db();
        let a = BoxKey::load_or_create(&c).unwrap();
        let b = BoxKey::load_or_create(&c).unwrap();
        assert_eq!(a.public(), b.public());
        assert_eq!(BoxKey::load(&c).unwrap().unwrap().public(), a.public());
        // Another box makes another key.
        assert_ne!(BoxKey::load_or_create(&db()).unwrap().public(), a.public());
    }

    #[test]
    fn signatures_check_and_any_change_breaks_them() {
        let key = BoxKey::load_or_create(&db()).unwrap();
        let msg = b"2026-H2 summary";
        let sig = key.sign(msg);
        assert!(verify(&key.public(), msg, &sig));
        assert!(!verify(&key.public(), b"2026-H1 summary", &sig));
        let mut bad = sig;
        bad[10] ^= 1;
        assert!(!verify(&key.public(), msg, &bad));
        let other = BoxKey::load_or_create(&db()).unwrap();
        assert!(!verify(&other.public(), msg, &sig));
        assert!(!verify(&[0u8; 32], msg, &sig));
    }

    #[test]
    fn fingerprints_are_short_stable_and_hide_the_secret() {
        let key = BoxKey::load_or_create(&db()).unwrap();
        let f = key.fingerprint();
        assert_eq!(f.len(), 19, "{f}");
        assert_eq!(f.matches('-').count(), 3);
        assert_eq!(f, fingerprint(&key.public()));
        assert_eq!(fingerprint(&[0u8; 32]), fingerprint(&[0u8; 32]));
        assert!(format!("{key:?}").contains(&f));
    }

    #[test]
    fn a_database_without_the_table_has_no_key() {
        let c = Connection::open_in_memory().unwrap();
        assert!(BoxKey::load(&c).unwrap().is_none());
    }
}
