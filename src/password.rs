//! Passwords: generation from a CSPRNG and argon2id hashing in PHP's PHC format, so
//! `password_verify()` accepts our hashes. Used by `sync/` for new users and by the PHP API.

use crate::error::Result;

/// A password of `length` (12..=128) letters and digits, plus WordPress's special characters
/// when `special_chars`.
pub fn generate(length: usize, special_chars: bool) -> Result<String> {
    todo!("{length}{special_chars}")
}

/// argon2id with PHP's default cost (m=65536, t=4, p=1), PHC string format.
pub fn hash(password: &str) -> Result<String> {
    todo!("{password}")
}

/// Verifies a password against an argon2id or argon2i PHC hash; any other format is false.
pub fn verify(password: &str, hash: &str) -> bool {
    todo!("{password}{hash}")
}
