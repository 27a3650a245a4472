//! argon2id hashing and checking in one block of memory allocated once per process and reused.
//!
//! The argon2 crate allocates its 19 MiB afresh for every check; on the blocking pool each
//! thread's allocator arena then keeps it (measured: 100 wrong logins took the server to
//! 1 GB). Here every hash and check borrows the one buffer, one at a time; callers that must
//! not wait for ever bound their queue themselves (`web::login_limit`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// Memory of the hashes this program makes, in KiB (OWASP's minimum for argon2id).
pub const M_COST_KIB: u32 = 19 * 1024;
/// Passes of the hashes this program makes.
pub const T_COST: u32 = 2;
/// The most memory a stored hash may ask for, in KiB: the largest of OWASP's argon2id
/// settings (46 MiB). A hash asking for more is refused rather than allowed to take the box's
/// memory.
pub const MAX_M_COST_KIB: u32 = 46 * 1024;
/// The most passes a stored hash may ask for (OWASP's settings use 1 to 5).
pub const MAX_T_COST: u32 = 10;
/// The most lanes a stored hash may ask for (this build computes them one after another).
pub const MAX_P_COST: u32 = 4;
/// Length of the hashes this program makes, in bytes.
const OUTPUT_LEN: usize = 32;

/// Why a password could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The stored string is not an argon2 PHC string this program can check.
    #[error("not a usable argon2 hash: {0}")]
    Unreadable(argon2::password_hash::Error),
    /// The stored hash asks for more work than this box allows.
    #[error("argon2 hash asks for m={m} KiB, t={t}, p={p}: over this box's caps")]
    TooCostly {
        /// Memory, KiB.
        m: u32,
        /// Passes.
        t: u32,
        /// Lanes.
        p: u32,
    },
    /// argon2 itself refused the input.
    #[error("argon2: {0}")]
    Argon2(#[from] argon2::Error),
    /// The OS random number generator failed.
    #[error("no randomness for a salt: {0}")]
    Random(#[from] getrandom::Error),
}

impl From<argon2::password_hash::Error> for HashError {
    fn from(e: argon2::password_hash::Error) -> HashError {
        HashError::Unreadable(e)
    }
}

// One per process, not per app: the CLI and the server share this code, and memory is a
// property of the process. The number of them is what bounds the memory.
static MEMORY: Mutex<Vec<Block>> = Mutex::new(Vec::new());
static BUFFERS: AtomicUsize = AtomicUsize::new(0);

/// How many argon2 buffers this process has ever allocated (at most one; growing it for a
/// stored hash with more memory counts once more).
pub fn buffers_allocated() -> usize {
    BUFFERS.load(Ordering::Relaxed)
}

/// Runs `f` on the process's argon2 memory, grown to `blocks` if it is smaller; waits while
/// another hash uses it.
fn with_memory<T>(blocks: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
    let mut memory = MEMORY.lock().unwrap_or_else(PoisonError::into_inner);
    if memory.len() < blocks {
        // Replaced, not grown in place: a growing Vec may briefly hold both sizes.
        *memory = Vec::new();
        let mut fresh = Vec::with_capacity(blocks);
        fresh.resize(blocks, Block::default());
        *memory = fresh;
        BUFFERS.fetch_add(1, Ordering::Relaxed);
    }
    f(&mut memory[..blocks])
}

fn params(m: u32, t: u32, p: u32, output_len: usize) -> Result<Params, HashError> {
    Ok(Params::new(m, t, p, Some(output_len))?)
}

/// Hashes `password` with a fresh salt; returns the PHC string
/// (`$argon2id$v=19$m=19456,t=2,p=1$…`).
pub fn hash(password: &[u8]) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)?;
    let params = params(M_COST_KIB, T_COST, 1, OUTPUT_LEN)?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; OUTPUT_LEN];
    with_memory(params.block_count(), |m| {
        argon.hash_password_into_with_memory(password, &salt, &mut out, m)
    })?;
    let salt = SaltString::encode_b64(&salt)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: (&params).try_into()?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out)?),
    };
    Ok(phc.to_string())
}

/// A stored hash, read and checked against the caps, ready to be computed again.
struct Stored<'a> {
    argon: Argon2<'static>,
    salt: argon2::password_hash::Salt<'a>,
    expected: Output,
}

fn read(phc: &str) -> Result<Stored<'_>, HashError> {
    let h = PasswordHash::new(phc)?;
    let algorithm = Algorithm::try_from(h.algorithm)?;
    let version = h
        .version
        .map(Version::try_from)
        .transpose()?
        .unwrap_or_default();
    let p = Params::try_from(&h)?;
    if p.m_cost() > MAX_M_COST_KIB || p.t_cost() > MAX_T_COST || p.p_cost() > MAX_P_COST {
        return Err(HashError::TooCostly {
            m: p.m_cost(),
            t: p.t_cost(),
            p: p.p_cost(),
        });
    }
    let (Some(salt), Some(expected)) = (h.salt, h.hash) else {
        return Err(HashError::Unreadable(
            argon2::password_hash::Error::PhcStringField,
        ));
    };
    Ok(Stored {
        argon: Argon2::new(algorithm, version, p),
        salt,
        expected,
    })
}

/// Whether `phc` is an argon2 hash this program can check (parses, within the caps), without
/// computing anything.
pub fn check_stored(phc: &str) -> Result<(), HashError> {
    let stored = read(phc)?;
    let mut salt = [0u8; 64];
    stored.salt.decode_b64(&mut salt)?;
    Ok(())
}

/// Whether `password` matches the stored hash `phc`, computed in the shared memory and
/// compared in constant time.
pub fn verify(phc: &str, password: &[u8]) -> Result<bool, HashError> {
    let stored = read(phc)?;
    let mut salt = [0u8; 64];
    let salt = stored.salt.decode_b64(&mut salt)?;
    let blocks = stored.argon.params().block_count();
    let computed = Output::init_with(stored.expected.len(), |out| {
        with_memory(blocks, |m| {
            stored
                .argon
                .hash_password_into_with_memory(password, salt, out, m)
        })
        .map_err(Into::into)
    })?;
    // `Output`'s equality is constant-time.
    Ok(computed == stored.expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    fn crate_hash(m: u32, t: u32, p: u32, alg: Algorithm, password: &str) -> String {
        let salt = SaltString::encode_b64(b"sixteen byte slt").unwrap();
        let params = Params::new(m, t, p, None).unwrap();
        Argon2::new(alg, Version::V0x13, params)
            .hash_password(password.as_bytes(), &salt)
            .unwrap()
            .to_string()
    }

    #[test]
    fn agrees_with_the_argon2_crate_for_right_and_wrong_passwords() {
        let ours = hash("mật khẩu".as_bytes()).unwrap();
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        let parsed = PasswordHash::new(&ours).unwrap();
        let theirs = Argon2::default();
        assert!(
            theirs
                .verify_password("mật khẩu".as_bytes(), &parsed)
                .is_ok()
        );
        assert!(theirs.verify_password(b"mat khau", &parsed).is_err());
        assert!(verify(&ours, "mật khẩu".as_bytes()).unwrap());
        assert!(!verify(&ours, b"mat khau").unwrap());
        assert!(!verify(&ours, b"").unwrap());
    }

    #[test]
    fn hashes_with_other_settings_still_verify() {
        for (m, t, p, alg) in [
            (19 * 1024, 2, 1, Algorithm::Argon2id),
            (12 * 1024, 3, 1, Algorithm::Argon2id),
            (7 * 1024, 5, 1, Algorithm::Argon2id),
            (46 * 1024, 1, 1, Algorithm::Argon2id),
            (8 * 1024, 2, 2, Algorithm::Argon2id),
            (4 * 1024, 3, 1, Algorithm::Argon2i),
            (4 * 1024, 3, 1, Algorithm::Argon2d),
        ] {
            let phc = crate_hash(m, t, p, alg, "đúng rồi");
            assert!(verify(&phc, "đúng rồi".as_bytes()).unwrap(), "{phc}");
            assert!(!verify(&phc, "sai rồi".as_bytes()).unwrap(), "{phc}");
            check_stored(&phc).unwrap();
        }
        // Version 0x10 hashes (no `v=` field) too.
        let salt = SaltString::encode_b64(b"sixteen byte slt").unwrap();
        let old = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x10,
            Params::new(4096, 2, 1, None).unwrap(),
        )
        .hash_password(b"cu", &salt)
        .unwrap()
        .to_string();
        assert!(verify(&old, b"cu").unwrap(), "{old}");
        assert!(!verify(&old, b"moi").unwrap(), "{old}");
    }

    #[test]
    fn absurd_or_broken_hashes_are_refused_without_computing() {
        let costly = "$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0pFd7rSvq5t8lWq6nZKvM5m5v8rC0v5d5oQe3yE1F4Y";
        assert!(matches!(
            verify(costly, b"x"),
            Err(HashError::TooCostly { m: 4194304, .. })
        ));
        let slow = costly.replace("m=4194304,t=2", "m=19456,t=100000");
        assert!(matches!(
            check_stored(&slow),
            Err(HashError::TooCostly { .. })
        ));
        for broken in [
            "",
            "plaintext",
            "$2b$12$abcdefghijklmnopqrstuv",
            "$scrypt$ln=16,r=8,p=1$c29tZXNhbHQ$aGFzaA",
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA",
        ] {
            assert!(check_stored(broken).is_err(), "{broken}");
            assert!(verify(broken, b"x").is_err(), "{broken}");
        }
    }

    #[test]
    fn one_buffer_serves_every_hash() {
        for _ in 0..3 {
            let h = hash(b"mot hai ba").unwrap();
            assert!(verify(&h, b"mot hai ba").unwrap());
        }
        // The default size and, at most, one growth to the 46 MiB cap in another test.
        assert!(buffers_allocated() <= 2, "{}", buffers_allocated());
    }
}
