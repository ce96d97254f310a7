//! Pairing codes: eight characters drawn from the operating system's CSPRNG, in an alphabet
//! without look-alikes, and read back forgivingly (case, blanks and dashes do not matter).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The characters a code is made of: digits and capitals without `0 O 1 I L` (31 symbols).
pub const ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// How many characters a code has: 31⁸ ≈ 8.5 × 10¹¹ codes (about 39.6 bits).
pub const CODE_LENGTH: usize = 8;

/// A pairing code, e.g. `K7M3QX9P`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PairingCode(String);

impl PairingCode {
    /// A new code from the operating system's random number generator.
    ///
    /// # Errors
    ///
    /// When the operating system has no randomness to give (never on a running Linux).
    pub fn random() -> Result<Self> {
        // Rejection sampling keeps every symbol equally likely: 248 = 8 × 31.
        let limit = (256 / ALPHABET.len() * ALPHABET.len()) as u8;
        let mut code = String::with_capacity(CODE_LENGTH);
        let mut bytes = [0u8; 32];
        while code.len() < CODE_LENGTH {
            getrandom::fill(&mut bytes).map_err(|e| {
                Error::backend_message("pairing", format!("no randomness for a code: {e}"))
            })?;
            for &byte in bytes.iter().filter(|&&b| b < limit) {
                if code.len() == CODE_LENGTH {
                    break;
                }
                code.push(char::from(ALPHABET[usize::from(byte) % ALPHABET.len()]));
            }
        }
        Ok(Self(code))
    }

    /// The code an operator typed: letters in either case, blanks and dashes ignored. `None`
    /// when it cannot be a code (wrong length or a character outside [`ALPHABET`]).
    ///
    /// ```
    /// use connector_core::pairing::PairingCode;
    /// assert_eq!(PairingCode::parse(" k7m3-qx9p ").unwrap().as_str(), "K7M3QX9P");
    /// assert!(PairingCode::parse("K7M3QX90").is_none(), "0 is not in the alphabet");
    /// ```
    pub fn parse(typed: &str) -> Option<Self> {
        let code: String = typed
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        (code.len() == CODE_LENGTH && code.bytes().all(|b| ALPHABET.contains(&b)))
            .then_some(Self(code))
    }

    /// The code's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PairingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn random_codes_are_well_formed_and_differ() {
        let codes: HashSet<String> = (0..200).map(|_| PairingCode::random().unwrap().0).collect();
        assert_eq!(codes.len(), 200);
        for code in &codes {
            assert_eq!(
                PairingCode::parse(code).map(|c| c.0).as_deref(),
                Some(&**code)
            );
        }
    }

    #[test]
    fn typed_codes_are_read_forgivingly_but_not_guessed() {
        assert_eq!(
            PairingCode::parse("abcd efgh").unwrap().as_str(),
            "ABCDEFGH"
        );
        for wrong in [
            "",
            "ABCDEFG",
            "ABCDEFGHJ",
            "ABCDEFG1",
            "ABCDEFGO",
            "ABCD_EFG",
        ] {
            assert!(PairingCode::parse(wrong).is_none(), "{wrong}");
        }
    }
}
