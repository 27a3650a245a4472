//! Staff accounts and their login sessions, kept in the server's SQLite database.
//!
//! Passwords are hashed with argon2id (OWASP's minimum: 19 MiB, 2 passes). A session is a
//! random token in a cookie; only its SHA-256 is stored, so a copied database cannot be used to
//! log in. Sessions end after 30 idle minutes or 12 hours, whichever comes first. Hashing runs
//! in one reused block of memory (`password`).

pub mod password;

pub use password::buffers_allocated;

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

/// A session unused this long ends.
pub const IDLE_TIMEOUT_MS: i64 = 30 * 60 * 1000;
/// A session ends this long after login, used or not.
pub const ABSOLUTE_TIMEOUT_MS: i64 = 12 * 60 * 60 * 1000;
/// A session's last-seen time is saved again only once it is this old.
pub const LAST_SEEN_EVERY_MS: i64 = 60 * 1000;
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password accepted (the login form's limit): longer ones are refused before hashing.
pub const MAX_PASSWORD_CHARS: usize = 200;

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything, including reports and accounts.
    Manager,
    /// Lessons and materials, no reports or accounts.
    Teacher,
}

impl Role {
    /// The name stored and typed on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Manager => "manager",
            Role::Teacher => "teacher",
        }
    }

    /// The role's name in Vietnamese.
    pub fn name_vi(self) -> &'static str {
        match self {
            Role::Manager => "Quản lý",
            Role::Teacher => "Giáo viên",
        }
    }

    /// Reads a stored role; anything unknown gets the smaller rights.
    pub fn parse(s: &str) -> Role {
        if s == "manager" {
            Role::Manager
        } else {
            Role::Teacher
        }
    }
}

/// A logged-in staff member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Account name.
    pub user: String,
    /// Its role.
    pub role: Role,
    /// Token every form of this session must carry.
    pub csrf: String,
}

/// Errors of account management.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The database failed.
    #[error(transparent)]
    Db(#[from] rusqlite::Error),
    /// Hashing failed.
    #[error("password hashing: {0}")]
    Hash(String),
    /// The password is too weak.
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    /// Longer than the login form accepts.
    #[error("the password must have at most {MAX_PASSWORD_CHARS} characters")]
    TooLong,
    /// The user name is unusable.
    #[error("user names are 1-32 letters, digits, '-' or '_'")]
    BadName,
    /// No such account.
    #[error("there is no account named {0}")]
    NoSuchUser(String),
    /// Removing or demoting it would leave nobody able to manage accounts.
    #[error("{0} is the last manager; make another manager first")]
    LastManager(String),
}

/// An account as listed to managers (never with its hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Account name.
    pub username: String,
    /// What it may do.
    pub role: Role,
    /// When it was created, ms since the epoch.
    pub created_at: i64,
}

/// Creates the tables if needed.
pub fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS accounts(
            username TEXT PRIMARY KEY,
            role TEXT NOT NULL,
            hash TEXT NOT NULL,
            created_at INTEGER NOT NULL);
         CREATE TABLE IF NOT EXISTS sessions(
            token_hash TEXT PRIMARY KEY,
            username TEXT NOT NULL REFERENCES accounts(username) ON DELETE CASCADE,
            csrf TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            last_seen INTEGER NOT NULL);",
    )
}

/// A random 128-bit token, hex (for one-time form references).
pub fn random_token() -> String {
    random_hex(16)
}

fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    // Without OS randomness no safe token can be made; an all-zero one would be guessable,
    // so fail loudly instead.
    getrandom::fill(&mut b).expect("the OS random number generator is unavailable");
    crate::content::hex(&b)
}

/// Hashes a password (PHC string), in the process's one argon2 buffer.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    password::hash(normalised(password).as_bytes()).map_err(|e| AccountError::Hash(e.to_string()))
}

/// The same password typed on two keyboards (composed "ô" or "o" + a combining mark) is one
/// password: hashed and checked in NFC.
fn normalised(password: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    password.nfc().collect()
}

fn verify(hash: &str, password: &str) -> bool {
    match password::verify(hash, normalised(password).as_bytes()) {
        Ok(matched) => matched,
        Err(e) => {
            tracing::error!(error = %e, "a stored password hash cannot be checked");
            // As slow as a real check, so a broken account does not stand out by its timing.
            let _ = password::verify(DUMMY_HASH, password.as_bytes());
            false
        }
    }
}

fn valid_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Creates the account or changes its password; a new password ends its sessions.
pub fn set_password(
    conn: &Connection,
    user: &str,
    password: &str,
    role: Role,
    now_ms: i64,
) -> Result<(), AccountError> {
    check_new(user, password)?;
    if role != Role::Manager && is_last_manager(conn, user)? {
        return Err(AccountError::LastManager(user.to_string()));
    }
    let hash = hash_password(password)?;
    save_hash(conn, user, &hash, role, now_ms)
}

/// Refuses an unusable name or password before any hashing is spent on it.
pub fn check_new(user: &str, password: &str) -> Result<(), AccountError> {
    if !valid_name(user) {
        return Err(AccountError::BadName);
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccountError::TooShort);
    }
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(AccountError::TooLong);
    }
    Ok(())
}

/// [`set_password`] with the hash already made ([`hash_password`], away from the database
/// lock): creates the account or changes its hash and role, and ends its sessions.
pub fn save_hash(
    conn: &Connection,
    user: &str,
    hash: &str,
    role: Role,
    now_ms: i64,
) -> Result<(), AccountError> {
    if !valid_name(user) {
        return Err(AccountError::BadName);
    }
    if role != Role::Manager && is_last_manager(conn, user)? {
        return Err(AccountError::LastManager(user.to_string()));
    }
    let tx = conn.unchecked_transaction()?;
    tx.execute(
        "INSERT INTO accounts(username, role, hash, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(username) DO UPDATE SET hash = ?3, role = ?2",
        params![user, role.as_str(), hash, now_ms],
    )?;
    tx.execute("DELETE FROM sessions WHERE username = ?1", [user])?;
    tx.commit()?;
    Ok(())
}

/// Every account, by name.
pub fn list(conn: &Connection) -> rusqlite::Result<Vec<Account>> {
    let mut st =
        conn.prepare("SELECT username, role, created_at FROM accounts ORDER BY username")?;
    st.query_map([], |r| {
        Ok(Account {
            username: r.get(0)?,
            role: Role::parse(&r.get::<_, String>(1)?),
            created_at: r.get(2)?,
        })
    })?
    .collect()
}

/// Removes an account and ends its sessions; the last manager cannot be removed.
pub fn remove(conn: &Connection, user: &str) -> Result<(), AccountError> {
    if is_last_manager(conn, user)? {
        return Err(AccountError::LastManager(user.to_string()));
    }
    conn.execute("DELETE FROM sessions WHERE username = ?1", [user])?;
    if conn.execute("DELETE FROM accounts WHERE username = ?1", [user])? == 0 {
        return Err(AccountError::NoSuchUser(user.to_string()));
    }
    Ok(())
}

fn is_last_manager(conn: &Connection, user: &str) -> rusqlite::Result<bool> {
    let (is_manager, managers): (bool, i64) = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM accounts WHERE username = ?1 AND role = 'manager'),
                (SELECT COUNT(*) FROM accounts WHERE role = 'manager')",
        [user],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(is_manager && managers == 1)
}

/// What is wrong with the stored accounts (a name this program would refuse, a role it does
/// not know, a hash that is not an argon2 PHC string within this box's caps), one line each;
/// empty when they are sound. Used to check a database before it is restored.
pub fn problems(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut st = conn.prepare("SELECT username, role, hash FROM accounts ORDER BY username")?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get::<_, rusqlite::types::Value>(0)?,
            r.get::<_, rusqlite::types::Value>(1)?,
            r.get::<_, rusqlite::types::Value>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        use rusqlite::types::Value::Text;
        let (name, role, hash) = row?;
        let Text(name) = name else {
            out.push("an account whose name is not text".to_string());
            continue;
        };
        if !valid_name(&name) {
            out.push(format!("account {name:?}: not a usable user name"));
            continue;
        }
        if !matches!(&role, Text(r) if r == "manager" || r == "teacher") {
            out.push(format!(
                "account {name:?}: role {role:?} is neither manager nor teacher"
            ));
        }
        match &hash {
            Text(h) => {
                if let Err(e) = password::check_stored(h) {
                    out.push(format!("account {name:?}: password hash refused ({e})"));
                }
            }
            other => out.push(format!(
                "account {name:?}: password hash {other:?} is not text"
            )),
        }
    }
    Ok(out)
}

/// Number of accounts (none means nobody can log in yet).
pub fn count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT COUNT(*) FROM accounts", [], |r| r.get(0))
}

/// Checks a login; slow on purpose (argon2), and as slow for unknown users.
pub fn check_login(
    conn: &Connection,
    user: &str,
    password: &str,
) -> rusqlite::Result<Option<Role>> {
    if password.chars().count() > MAX_PASSWORD_CHARS {
        // No account has such a password; refusing it unhashed keeps huge posts cheap.
        return Ok(None);
    }
    Ok(check_against(stored_login(conn, user)?, password))
}

/// A stored hash and role, read for [`check_against`] (which is slow: run it away from the
/// database lock).
#[derive(Debug, Clone)]
pub struct StoredLogin(Option<(String, String)>);

/// The stored hash and role of `user` (none for an unknown name).
pub fn stored_login(conn: &Connection, user: &str) -> rusqlite::Result<StoredLogin> {
    conn.query_row(
        "SELECT hash, role FROM accounts WHERE username = ?1",
        [user],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
    .map(StoredLogin)
}

/// Checks `password` against what [`stored_login`] read; slow on purpose (argon2), and as slow
/// for unknown users.
pub fn check_against(stored: StoredLogin, password: &str) -> Option<Role> {
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return None;
    }
    match stored.0 {
        Some((hash, role)) if verify(&hash, password) => Some(Role::parse(&role)),
        Some(_) => None,
        None => {
            // Same work as a real check, so timing does not tell which names exist.
            let _ = verify(DUMMY_HASH, password);
            None
        }
    }
}

/// A valid argon2id hash of a random string, used to spend equal time on unknown users.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0pFd7rSvq5t8lWq6nZKvM5m5v8rC0v5d5oQe3yE1F4Y";

fn token_hash(token: &str) -> String {
    crate::content::hex(&Sha256::digest(token.as_bytes()))
}

/// Starts a session; returns the token for the cookie. Every login gets a fresh token.
pub fn start_session(conn: &Connection, user: &str, now_ms: i64) -> rusqlite::Result<String> {
    let token = random_hex(32);
    conn.execute(
        "DELETE FROM sessions WHERE last_seen < ?1 OR created_at < ?2",
        params![now_ms - IDLE_TIMEOUT_MS, now_ms - ABSOLUTE_TIMEOUT_MS],
    )?;
    conn.execute(
        "INSERT INTO sessions(token_hash, username, csrf, created_at, last_seen)
         VALUES (?1, ?2, ?3, ?4, ?4)",
        params![token_hash(&token), user, random_hex(16), now_ms],
    )?;
    Ok(token)
}

/// The session of a token, if it is still valid; using it keeps it alive (saved at most once
/// every [`LAST_SEEN_EVERY_MS`]; a failure to save is logged, not fatal).
pub fn session(conn: &Connection, token: &str, now_ms: i64) -> rusqlite::Result<Option<Session>> {
    let h = token_hash(token);
    let row: Option<(String, String, String, i64, i64)> = conn
        .query_row(
            "SELECT s.username, a.role, s.csrf, s.created_at, s.last_seen
             FROM sessions s JOIN accounts a ON a.username = s.username WHERE s.token_hash = ?1",
            [&h],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let Some((user, role, csrf, created, last)) = row else {
        return Ok(None);
    };
    if now_ms - last > IDLE_TIMEOUT_MS || now_ms - created > ABSOLUTE_TIMEOUT_MS {
        if let Err(e) = conn.execute("DELETE FROM sessions WHERE token_hash = ?1", [&h]) {
            // Ended all the same; the row goes with the next login's clean-up.
            tracing::warn!(error = %e, "an expired session could not be removed");
        }
        return Ok(None);
    }
    // Written only when stale: reading pages then writes nothing (less wear on the SD card),
    // and a full or read-only disk does not stop staff from reading.
    if now_ms - last >= LAST_SEEN_EVERY_MS
        && let Err(e) = conn.execute(
            "UPDATE sessions SET last_seen = ?2 WHERE token_hash = ?1",
            params![h, now_ms],
        )
    {
        tracing::warn!(error = %e, "a session's last-seen time could not be saved");
    }
    Ok(Some(Session {
        user,
        role: Role::parse(&role),
        csrf,
    }))
}

/// Ends a session (logout).
pub fn end_session(conn: &Connection, token: &str) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM sessions WHERE token_hash = ?1",
        [token_hash(token)],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        migrate(&c).unwrap();
        c
    }

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let h = hash_password("mật khẩu dài").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify(&h, "mật khẩu dài"));
        assert!(!verify(&h, "mật khẩu sai"));
        password::check_stored(DUMMY_HASH).unwrap();
    }

    #[test]
    fn the_last_manager_stays() {
        let c = db();
        set_password(&c, "quanly", "mat-khau-tot", Role::Manager, 0).unwrap();
        set_password(&c, "co-lan", "mat-khau-tot", Role::Teacher, 0).unwrap();
        assert!(matches!(
            remove(&c, "quanly"),
            Err(AccountError::LastManager(_))
        ));
        assert!(matches!(
            set_password(&c, "quanly", "mat-khau-moi", Role::Teacher, 0),
            Err(AccountError::LastManager(_))
        ));
        assert!(matches!(
            remove(&c, "khong-co"),
            Err(AccountError::NoSuchUser(_))
        ));
        let token = start_session(&c, "co-lan", 0).unwrap();
        remove(&c, "co-lan").unwrap();
        assert!(session(&c, &token, 1).unwrap().is_none());
        set_password(&c, "pho", "mat-khau-tot", Role::Manager, 0).unwrap();
        remove(&c, "quanly").unwrap();
        let names: Vec<_> = list(&c).unwrap().into_iter().map(|a| a.username).collect();
        assert_eq!(names, ["pho"]);
    }

    #[test]
    fn sessions_are_read_without_writing_and_survive_a_disk_that_refuses_writes() {
        let c = db();
        set_password(&c, "quanly", "mat-khau-tot", Role::Manager, 0).unwrap();
        let t = start_session(&c, "quanly", 1_000).unwrap();
        let changes = |c: &Connection| c.total_changes();
        let before = changes(&c);
        assert!(
            session(&c, &t, 1_000 + LAST_SEEN_EVERY_MS - 1)
                .unwrap()
                .is_some()
        );
        assert_eq!(changes(&c), before, "a fresh session is not written");
        c.pragma_update(None, "query_only", true).unwrap();
        // Stale: the write fails, the session still answers.
        assert!(
            session(&c, &t, 1_000 + 5 * LAST_SEEN_EVERY_MS)
                .unwrap()
                .is_some()
        );
        c.pragma_update(None, "query_only", false).unwrap();
        assert!(
            session(&c, &t, 1_000 + 6 * LAST_SEEN_EVERY_MS)
                .unwrap()
                .is_some()
        );
        assert!(changes(&c) > before, "a stale one is");
    }

    #[test]
    fn login_and_sessions() {
        let c = db();
        assert!(matches!(
            set_password(&c, "quanly", "ngan", Role::Manager, 0),
            Err(AccountError::TooShort)
        ));
        assert!(matches!(
            set_password(&c, "a b", "dudaidaiday", Role::Manager, 0),
            Err(AccountError::BadName)
        ));
        set_password(&c, "quanly", "mat-khau-tot", Role::Manager, 0).unwrap();
        assert_eq!(
            check_login(&c, "quanly", "mat-khau-tot").unwrap(),
            Some(Role::Manager)
        );
        assert_eq!(check_login(&c, "quanly", "sai").unwrap(), None);
        assert_eq!(check_login(&c, "ai-do", "mat-khau-tot").unwrap(), None);

        let t1 = start_session(&c, "quanly", 1_000).unwrap();
        let t2 = start_session(&c, "quanly", 1_000).unwrap();
        assert_ne!(t1, t2, "a new token at every login");
        let s = session(&c, &t1, 2_000).unwrap().unwrap();
        assert_eq!(s.role, Role::Manager);
        // Idle timeout.
        assert!(
            session(&c, &t1, 2_000 + IDLE_TIMEOUT_MS + 1)
                .unwrap()
                .is_none()
        );
        // Absolute timeout even when used all along.
        let mut now = 1_000;
        while now < 1_000 + ABSOLUTE_TIMEOUT_MS {
            now += IDLE_TIMEOUT_MS / 2;
            let alive = session(&c, &t2, now).unwrap().is_some();
            assert_eq!(alive, now - 1_000 <= ABSOLUTE_TIMEOUT_MS);
        }
        // Logout, and a password change ends sessions.
        let t3 = start_session(&c, "quanly", now).unwrap();
        end_session(&c, &t3).unwrap();
        assert!(session(&c, &t3, now).unwrap().is_none());
        let t4 = start_session(&c, "quanly", now).unwrap();
        set_password(&c, "quanly", "mat-khau-moi", Role::Manager, now).unwrap();
        assert!(session(&c, &t4, now).unwrap().is_none());
    }
}
