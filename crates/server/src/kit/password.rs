//! Passwords: argon2id (the `argon2` crate's defaults, OWASP's recommendation: 19 MiB, two
//! passes, one lane) stored as PHC strings in `users.password_hash`. Hashing is deliberately
//! slow and memory-hungry, so it runs on the blocking pool, a few at a time.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use tokio::sync::Semaphore;

/// The shortest password accepted, in characters.
pub const MIN_CHARS: usize = 10;
/// The longest password accepted, in bytes (hashing cost does not depend on it, but nobody
/// needs more and request bodies stay small).
pub const MAX_BYTES: usize = 1024;

/// Hashes at once; the rest wait (each takes 19 MiB).
static HASHING: Semaphore = Semaphore::const_new(4);

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("the password is empty")]
    Empty,
    #[error("the password is too short: at least {MIN_CHARS} characters")]
    TooShort,
    #[error("the password is too long: at most {MAX_BYTES} bytes")]
    TooLong,
}

/// Whether `password` may be set.
pub fn check_rules(password: &str) -> Result<(), PasswordError> {
    if password.trim().is_empty() {
        return Err(PasswordError::Empty);
    }
    if password.chars().count() < MIN_CHARS {
        return Err(PasswordError::TooShort);
    }
    if password.len() > MAX_BYTES {
        return Err(PasswordError::TooLong);
    }
    Ok(())
}

/// An argon2id PHC string for `password` with a fresh random salt.
pub fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let salt_bytes = crate::kit::ids::random_bytes::<16>();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
    Ok(hash.to_string())
}

/// Whether `password` matches the PHC string `hash`. A malformed hash matches nothing.
pub fn verify_blocking(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash of a random password, to verify against when there is no user or no password, so
/// that those answers take as long as a wrong password does.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let random = crate::kit::ids::random_id();
        hash_blocking(&random).expect("argon2 hashes with its default parameters")
    })
}

/// Makes the dummy hash ahead of the first login that needs it (blocking).
pub fn warm_up() {
    let _ = dummy_hash();
}

pub async fn hash(password: String) -> anyhow::Result<String> {
    let _permit = HASHING.acquire().await?;
    tokio::task::spawn_blocking(move || hash_blocking(&password)).await?
}

/// Verifies against `hash`, or against a dummy hash when there is none (and then fails).
pub async fn verify(password: String, hash: Option<String>) -> anyhow::Result<bool> {
    let _permit = HASHING.acquire().await?;
    tokio::task::spawn_blocking(move || match hash {
        Some(hash) => verify_blocking(&password, &hash),
        None => {
            let _ = verify_blocking(&password, dummy_hash());
            false
        }
    })
    .await
    .map_err(anyhow::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let hash = hash_blocking("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        assert!(verify_blocking("correct horse battery", &hash));
        assert!(!verify_blocking("correct horse batterY", &hash));
        assert!(!verify_blocking("anything", "not a phc string"));
        assert_ne!(hash, hash_blocking("correct horse battery").unwrap());
    }

    #[test]
    fn rules() {
        assert!(matches!(check_rules(""), Err(PasswordError::Empty)));
        assert!(matches!(check_rules("   "), Err(PasswordError::Empty)));
        assert!(matches!(check_rules("short"), Err(PasswordError::TooShort)));
        assert!(matches!(
            check_rules("ééééééééé"),
            Err(PasswordError::TooShort)
        ));
        assert!(check_rules("éééééééééé").is_ok());
        assert!(matches!(
            check_rules(&"x".repeat(MAX_BYTES + 1)),
            Err(PasswordError::TooLong)
        ));
    }
}
