//! Secrets (a leaf): access keys, webhook secrets, API credentials and passwords are held in
//! `Secret`, which never prints its value (`Debug` shows only whether it is empty), so a
//! secret cannot reach a log or an error message by accident.

/// A secret string: never printed by `Debug`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `given` is this secret, compared in constant time; an empty secret never
    /// matches. Both are hashed to fixed-size SHA-256 digests first, so neither the content
    /// nor the length of the secret leaks through timing.
    pub fn matches(&self, given: &str) -> bool {
        use sha2::{Digest, Sha256};
        use subtle::ConstantTimeEq;
        if self.0.is_empty() {
            return false;
        }
        let given = Sha256::digest(given.as_bytes());
        let expected = Sha256::digest(self.0.as_bytes());
        bool::from(given.as_slice().ct_eq(expected.as_slice()))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() {
            "Secret(empty)"
        } else {
            "Secret(***)"
        })
    }
}
