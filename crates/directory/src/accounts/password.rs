//! Password hashing with Argon2id at OWASP's parameters (m = 19 MiB, t = 2, p = 1), on the blocking
//! pool behind a semaphore the size of the core count: a login flood cannot starve other requests.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use kernel::config::{PasswordConfig, PasswordProfile};
use kernel::error::FieldError;
use kernel::{App, AppError};
use std::sync::OnceLock;
use std::time::Duration;

/// How long a request waits for a hashing slot before it is told to come back (429).
const QUEUE_WAIT: Duration = Duration::from_millis(750);

fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(19 * 1024, 2, 1, None).expect("valid Argon2 parameters"))
}

fn hash_now(password: &str) -> String {
    let salt = SaltString::encode_b64(&kernel::secret::random_bytes::<16>()).expect("16 bytes is a valid salt");
    argon2().hash_password(password.as_bytes(), &salt).expect("Argon2 hashing cannot fail with valid parameters").to_string()
}

/// A hash of a random password, verified against when the account does not exist, so that an
/// unknown login takes as long as a wrong password.
fn decoy() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_now(&kernel::secret::random_token(16)))
}

/// A place on the hashing pool. Taken before any other work of a login, so that a flood of logins
/// is turned away (429) before it costs database queries.
pub struct HashSlot {
    _permit: tokio::sync::OwnedSemaphorePermit,
}

pub async fn slot(app: &App) -> Result<HashSlot, AppError> {
    let permit = tokio::time::timeout(QUEUE_WAIT, app.hash_permits.clone().acquire_owned())
        .await
        .map_err(|_| AppError::Busy { retry_after: 1 })?
        .map_err(AppError::internal)?;
    Ok(HashSlot { _permit: permit })
}

async fn on_hashing_pool<T: Send + 'static>(slot: HashSlot, work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
    tokio::task::spawn_blocking(move || {
        let out = work();
        drop(slot);
        out
    })
    .await
    .map_err(AppError::internal)
}

pub async fn hash(app: &App, password: String) -> Result<String, AppError> {
    on_hashing_pool(slot(app).await?, move || hash_now(&password)).await
}

/// Hashes without the request semaphore, for command-line tools and the demo seeder.
pub fn hash_blocking(password: &str) -> String {
    hash_now(password)
}

/// Checks `password` against `stored`; with no stored hash it checks a decoy and answers false.
pub async fn verify(slot: HashSlot, password: String, stored: Option<String>) -> Result<bool, AppError> {
    on_hashing_pool(slot, move || {
        let real = stored.is_some();
        let stored = stored.unwrap_or_else(|| decoy().to_string());
        let ok = PasswordHash::new(&stored).is_ok_and(|h| argon2().verify_password(password.as_bytes(), &h).is_ok());
        ok && real
    })
    .await
}

/// The configured password policy: ASVS (length, no composition rules) or 等保 (three of four classes).
pub fn check_policy(cfg: &PasswordConfig, password: &str, login: Option<&str>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let len = password.chars().count();
    if len < cfg.min_length {
        errors.push(FieldError::new("new_password", "password-error-too-short").arg("min", cfg.min_length));
    }
    if len > 128 {
        errors.push(FieldError::new("new_password", "error-field-too-long").arg("max", 128));
    }
    if login.is_some_and(|l| !l.is_empty() && password.to_lowercase().contains(&l.to_lowercase())) {
        errors.push(FieldError::new("new_password", "password-error-contains-login"));
    }
    if cfg.profile == PasswordProfile::Dengbao {
        let classes = [
            password.chars().any(|c| c.is_ascii_lowercase()),
            password.chars().any(|c| c.is_ascii_uppercase()),
            password.chars().any(|c| c.is_ascii_digit()),
            password.chars().any(|c| !c.is_ascii_alphanumeric()),
        ];
        if classes.iter().filter(|x| **x).count() < 3 {
            errors.push(FieldError::new("new_password", "password-error-classes"));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_use_owasp_parameters() {
        let h = hash_now("correct horse battery");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        let parsed = PasswordHash::new(&h).unwrap();
        assert!(argon2().verify_password(b"correct horse battery", &parsed).is_ok());
        assert!(argon2().verify_password(b"wrong", &parsed).is_err());
    }

    #[test]
    fn policies() {
        let asvs = PasswordConfig { profile: PasswordProfile::Asvs, min_length: 12, rotation_days: 0 };
        assert!(check_policy(&asvs, "short", None).iter().any(|e| e.key == "password-error-too-short"));
        assert!(check_policy(&asvs, "alllowercaseletters", None).is_empty());
        assert!(!check_policy(&asvs, "zhangsan-password", Some("zhangsan")).is_empty());
        let dengbao = PasswordConfig { profile: PasswordProfile::Dengbao, min_length: 8, rotation_days: 90 };
        assert!(check_policy(&dengbao, "alllowercaseletters", None).iter().any(|e| e.key == "password-error-classes"));
        assert!(check_policy(&dengbao, "Mixed-case-1", None).is_empty());
    }
}
