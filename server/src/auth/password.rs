//! Passwords: argon2id at the OWASP minimum (19 MiB, 2 passes, 1 lane, ≈15 ms on one core),
//! hashed when the person sets the password and never at import. Hashing runs on the blocking
//! pool so that it never stalls the async workers.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{AppError, ErrorCode};

pub const MIN_LEN: usize = 8;
pub const MAX_LEN: usize = 128;

/// Passwords so common that an attacker tries them first.
const COMMON: [&str; 12] = [
    "12345678",
    "123456789",
    "1234567890",
    "87654321",
    "password",
    "password1",
    "qwertyui",
    "qwerty123",
    "abc12345",
    "abcd1234",
    "11223344",
    "a1234567",
];

fn argon2() -> Argon2<'static> {
    // Params::new only fails on out-of-range values; these are the documented OWASP minimum.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Whether a new password is acceptable; the error names the rule it breaks.
pub fn check_policy(password: &str) -> Result<(), AppError> {
    let chars = password.chars().count();
    if chars < MIN_LEN {
        return Err(AppError::new(ErrorCode::WeakPassword)
            .with_arg("rule", "short")
            .with_arg("min", MIN_LEN.to_string()));
    }
    if chars > MAX_LEN {
        return Err(AppError::new(ErrorCode::WeakPassword)
            .with_arg("rule", "long")
            .with_arg("min", MIN_LEN.to_string()));
    }
    let mut distinct: Vec<char> = password.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 3 || COMMON.contains(&password.to_lowercase().as_str()) {
        return Err(AppError::new(ErrorCode::WeakPassword)
            .with_arg("rule", "common")
            .with_arg("min", MIN_LEN.to_string()));
    }
    Ok(())
}

/// The PHC string of a new password.
pub async fn hash(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::internal(anyhow::anyhow!("argon2: {e}")))
    })
    .await
    .map_err(AppError::internal)?
}

/// Whether `password` matches the PHC string. `None` verifies against a fixed hash and answers
/// false, so that "no such person" costs the same time as "wrong password".
pub async fn verify(password: String, phc: Option<String>) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        let phc = phc.unwrap_or_else(|| DUMMY.to_owned());
        let Ok(parsed) = PasswordHash::new(&phc) else {
            return false;
        };
        let ok = argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        ok && phc != DUMMY
    })
    .await
    .map_err(AppError::internal)
}

/// A hash of a random password nobody knows, with the same parameters as real ones.
const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$5JsXlmTPhZ7ut4cE3z0dcdQ38VlYSJXQOb7mN7GMg1E";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_wrong_passwords_do_not() -> Result<(), AppError> {
        let phc = hash("春眠不觉晓2026".to_owned()).await?;
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("春眠不觉晓2026".to_owned(), Some(phc.clone())).await?);
        assert!(!verify("春眠不觉晓2025".to_owned(), Some(phc)).await?);
        assert!(!verify("anything".to_owned(), None).await?);
        Ok(())
    }

    #[test]
    fn policy_names_the_rule() {
        for (password, ok) in [
            ("short", false),
            ("12345678", false),
            ("aaaaaaaa", false),
            ("abababab", false),
            ("Password1", false),
            ("春眠不觉晓处处闻", true),
            ("tea-time-42", true),
        ] {
            assert_eq!(check_policy(password).is_ok(), ok, "{password}");
        }
    }
}
