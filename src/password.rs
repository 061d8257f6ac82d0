//! Passwords: generation from a CSPRNG and argon2id hashing in PHP's PHC format, so
//! `password_verify()` accepts our hashes. Used by `sync/` for new users and by the PHP API.
//!
//! `hash` produces exactly what PHP's `password_hash($p, PASSWORD_ARGON2ID)` produces with its
//! default cost (`$argon2id$v=19$m=65536,t=4,p=1$<16-byte salt>$<32-byte hash>`), so
//! `password_needs_rehash()` is false for it. `verify` accepts PHP's argon2id and argon2i
//! hashes and refuses everything else, including costs too large to compute safely.

use argon2::password_hash::{Decimal, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordVerifier, Version};
use rand::Rng;

use crate::error::{Error, Result};

/// Shortest and longest generated password.
pub const MIN_LENGTH: usize = 12;
pub const MAX_LENGTH: usize = 128;

/// Letters and digits, as in `wp_generate_password()`.
const ALPHANUMERIC: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
/// WordPress's "special characters" set of `wp_generate_password($length, true)`.
const SPECIAL: &[u8] = b"!@#$%^&*()";

/// PHP's PASSWORD_ARGON2_DEFAULT_MEMORY_COST (KiB), _TIME_COST and _THREADS.
const MEMORY_KIB: u32 = 65_536;
const TIME_COST: u32 = 4;
const LANES: u32 = 1;
/// PHP's salt and hash lengths for argon2.
const SALT_BYTES: usize = 16;
const HASH_BYTES: usize = 32;

/// Largest cost `verify` computes: a stored hash asking for more is refused rather than
/// allowed to exhaust the server (1 GiB of memory, 32 passes, 64 lanes).
const MAX_VERIFY_MEMORY_KIB: u32 = 1 << 20;
const MAX_VERIFY_TIME_COST: u32 = 32;
const MAX_VERIFY_LANES: u32 = 64;

/// A password of `length` (12..=128) letters and digits, plus WordPress's special characters
/// when `special_chars`.
///
/// Characters are drawn uniformly (rejection sampling, no modulo bias) from `rand::rng()`, a
/// CSPRNG seeded from the operating system.
pub fn generate(length: usize, special_chars: bool) -> Result<String> {
    if !(MIN_LENGTH..=MAX_LENGTH).contains(&length) {
        return Err(Error::InvalidArgument {
            name: "length",
            reason: format!("must be between {MIN_LENGTH} and {MAX_LENGTH}, not {length}"),
        });
    }
    let alphabet: Vec<u8> = if special_chars {
        [ALPHANUMERIC, SPECIAL].concat()
    } else {
        ALPHANUMERIC.to_vec()
    };
    // Bytes at or above `limit` would make some characters likelier than others.
    let size = alphabet.len();
    let limit = 256 - 256 % size;
    let mut rng = rand::rng();
    let mut password = String::with_capacity(length);
    let mut buffer = [0u8; 64];
    while password.len() < length {
        rng.fill_bytes(&mut buffer);
        for &byte in &buffer {
            if password.len() == length {
                break;
            }
            let byte = usize::from(byte);
            if byte < limit {
                if let Some(&c) = alphabet.get(byte % size) {
                    password.push(char::from(c));
                }
            }
        }
    }
    Ok(password)
}

/// argon2id with PHP's default cost (m=65536, t=4, p=1), PHC string format. Passwords are
/// bytes, as in PHP: nothing is re-encoded.
pub fn hash(password: impl AsRef<[u8]>) -> Result<String> {
    hash_with_cost(password.as_ref(), MEMORY_KIB, TIME_COST, LANES)
}

fn hash_with_cost(password: &[u8], memory_kib: u32, time_cost: u32, lanes: u32) -> Result<String> {
    let params = Params::new(memory_kib, time_cost, lanes, Some(HASH_BYTES))
        .map_err(|e| Error::Hash(e.to_string()))?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let mut salt = [0u8; SALT_BYTES];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::Hash(e.to_string()))?;
    let hash = argon2
        .hash_password(password, &salt)
        .map_err(|e| Error::Hash(e.to_string()))?;
    Ok(hash.to_string())
}

/// Verifies a password against an argon2id or argon2i PHC hash; any other format is false.
pub fn verify(password: impl AsRef<[u8]>, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    if !matches!(parsed.algorithm.as_str(), "argon2id" | "argon2i") {
        return false;
    }
    let cost = |name: &str| parsed.params.get_decimal(name);
    let (Some(memory), Some(time), Some(lanes)) = (cost("m"), cost("t"), cost("p")) else {
        return false;
    };
    if memory > MAX_VERIFY_MEMORY_KIB || time > MAX_VERIFY_TIME_COST || lanes > MAX_VERIFY_LANES {
        return false;
    }
    // libargon2 reads a hash without `v=` as version 0x10, not the newest.
    let version: Decimal = parsed.version.unwrap_or(0x10);
    let parsed = PasswordHash {
        version: Some(version),
        ..parsed
    };
    Argon2::default()
        .verify_password(password.as_ref(), &parsed)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_bounds() {
        for length in [0, 11, 129, usize::MAX] {
            let error = generate(length, false).unwrap_err();
            assert_eq!(error.code(), "invalid_argument");
            assert!(matches!(
                error,
                Error::InvalidArgument { name: "length", .. }
            ));
        }
        assert_eq!(generate(12, false).map(|p| p.len()), Ok(12));
        assert_eq!(generate(128, true).map(|p| p.len()), Ok(128));
    }

    #[test]
    fn alphabets() {
        let plain = generate(128, false).unwrap();
        assert!(plain.bytes().all(|b| ALPHANUMERIC.contains(&b)));
        // 2,000 characters from the 72-character set: each special character is expected
        // about 28 times; none appearing at all would mean they are never drawn.
        let special: String = (0..16).map(|_| generate(125, true).unwrap()).collect();
        assert!(special
            .bytes()
            .all(|b| ALPHANUMERIC.contains(&b) || SPECIAL.contains(&b)));
        assert!(special.bytes().any(|b| SPECIAL.contains(&b)));
        assert_ne!(generate(32, false).unwrap(), generate(32, false).unwrap());
    }

    #[test]
    fn distribution_is_roughly_uniform() {
        let text: String = (0..100).map(|_| generate(124, false).unwrap()).collect();
        let mut counts = [0usize; 256];
        for b in text.bytes() {
            counts[usize::from(b)] += 1;
        }
        // 12,400 draws over 62 characters: 200 expected each.
        for &c in ALPHANUMERIC {
            let n = counts[usize::from(c)];
            assert!(
                (100..=320).contains(&n),
                "{} drawn {n} times",
                char::from(c)
            );
        }
    }

    /// Runs `php -r code -- args...`; `None` (with a message) when PHP is not installed.
    fn php(code: &str, args: &[&str]) -> Option<String> {
        match std::process::Command::new("php")
            .arg("-r")
            .arg(code)
            .arg("--")
            .args(args)
            .output()
        {
            Ok(out) => {
                assert!(
                    out.status.success(),
                    "php failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                Some(String::from_utf8_lossy(&out.stdout).into_owned())
            }
            Err(error) => {
                eprintln!("SKIPPED: php is not installed or not runnable ({error}); PHP interop not checked");
                None
            }
        }
    }

    /// One default-cost hash (slow in debug builds): its format, our verify, and PHP's
    /// `password_verify` / `password_needs_rehash`.
    #[test]
    fn hash_is_php_compatible() {
        let password = "correct horse \u{e9}$'\"";
        let hashed = hash(password).unwrap();
        assert!(
            hashed.starts_with("$argon2id$v=19$m=65536,t=4,p=1$"),
            "{hashed}"
        );
        let parts: Vec<&str> = hashed.split('$').collect();
        assert_eq!(parts.len(), 6);
        assert_eq!(parts[4].len(), 22, "16-byte salt, unpadded base64");
        assert_eq!(parts[5].len(), 43, "32-byte hash, unpadded base64");
        assert!(verify(password, &hashed));

        let code = r#"echo json_encode([
            password_verify($argv[1], $argv[2]),
            password_verify($argv[1] . "x", $argv[2]),
            password_needs_rehash($argv[2], PASSWORD_ARGON2ID),
            password_get_info($argv[2])["algoName"],
        ]);"#;
        if let Some(out) = php(code, &[password, &hashed]) {
            assert_eq!(out.trim(), r#"[true,false,false,"argon2id"]"#);
        }
    }

    /// Hashes made by PHP (argon2i and argon2id, low cost to keep debug tests fast, and two
    /// lanes) verify here.
    #[test]
    fn verifies_php_hashes() {
        let password = "p\u{e4}ss w0rd!";
        let code = r#"$o = ["memory_cost" => 1024, "time_cost" => 2];
            echo password_hash($argv[1], PASSWORD_ARGON2I, $o), "\n",
                 password_hash($argv[1], PASSWORD_ARGON2ID, $o), "\n",
                 password_hash($argv[1], PASSWORD_ARGON2ID, $o + ["threads" => 2]), "\n";"#;
        let Some(out) = php(code, &[password]) else {
            return;
        };
        let hashes: Vec<&str> = out.lines().collect();
        assert_eq!(hashes.len(), 3, "{out}");
        assert!(hashes[0].starts_with("$argon2i$"));
        for php_hash in hashes {
            assert!(verify(password, php_hash), "{php_hash}");
            assert!(!verify("wrong", php_hash), "{php_hash}");
        }
    }

    #[test]
    fn low_cost_round_trip_and_salting() {
        let first = hash_with_cost(b"secret", 1024, 1, 1).unwrap();
        let second = hash_with_cost(b"secret", 1024, 1, 1).unwrap();
        assert_ne!(first, second, "salted");
        assert!(verify("secret", &first));
        assert!(!verify("Secret", &first));
        assert!(!verify("", &first));
        // Version 0x10 (written without `v=`) verifies with the old algorithm, not 0x13.
        let versionless = first.replacen("$v=19", "", 1);
        assert!(!verify("secret", &versionless));
    }

    #[test]
    fn verify_refuses_garbage() {
        for garbage in [
            "",
            "$",
            "$$$$$",
            "$argon2id$",
            "$argon2id$v=19$m=65536,t=4,p=1$",
            "$argon2id$v=19$m=65536,t=4,p=1$c2FsdA$",
            "$argon2id$v=19$m=x,t=4,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaA",
            "$argon2id$v=19$m=4294967295,t=4294967295,p=16777215$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaA",
            "$argon2d$v=19$m=65536,t=4,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaA",
            "$2y$10$abcdefghijklmnopqrstuu5Y5nGc5hFz7sE8h1vKm7K3l3P8kqQ2e",
            "plaintext",
            "$argon2id$v=19$m=1,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaA",
            "$argon2id$v=19$m=65536,t=4,p=1$\u{0}\u{1}$\u{ff}",
        ] {
            assert!(!verify("password", garbage), "{garbage}");
        }
    }
}
