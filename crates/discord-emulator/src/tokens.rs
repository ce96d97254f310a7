//! Tokens shaped like Discord's: three base64url segments — the account's id, a timestamp and
//! a secret (`<base64url(id)>.<base64url(time)>.<base64url(random)>`), as Discord's bot and
//! user tokens are. Client libraries rely on that shape: discord.js strips a leading "Bot" or
//! "Bearer" from any token it is given (case-insensitively), serenity and discord.py prefix
//! "Bot ", and some read the bot's id from the first segment; a token that begins with "bot"
//! does not survive them.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::snowflake::{DISCORD_EPOCH_MS, Snowflake, now_ms};

/// How many random bytes the secret segment holds (27 base64url characters, as in Discord's
/// classic tokens).
const SECRET_BYTES: usize = 20;

/// A fresh token for the account `id`.
pub(crate) fn mint(id: Snowflake) -> String {
    let seconds = now_ms().saturating_sub(DISCORD_EPOCH_MS) / 1000;
    let time = u32::try_from(seconds).unwrap_or(u32::MAX).to_be_bytes();
    let secret: Vec<u8> = std::iter::repeat_with(|| fastrand::u8(..))
        .take(SECRET_BYTES)
        .collect();
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(id.to_string()),
        URL_SAFE_NO_PAD.encode(time),
        URL_SAFE_NO_PAD.encode(secret)
    )
}

/// A fresh interaction token: like Discord's, `base64url("interaction:<id>:<secret>")`, with
/// 48 random bytes of secret, so no test can guess another interaction's token.
pub(crate) fn mint_interaction(id: Snowflake) -> String {
    let secret: Vec<u8> = std::iter::repeat_with(|| fastrand::u8(..))
        .take(48)
        .collect();
    URL_SAFE_NO_PAD.encode(format!(
        "interaction:{id}:{}",
        URL_SAFE_NO_PAD.encode(secret)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The account id a token names in its first segment, if it has Discord's shape.
    fn account_id(token: &str) -> Option<Snowflake> {
        let first = token.split('.').next()?;
        let decoded = URL_SAFE_NO_PAD.decode(first).ok()?;
        std::str::from_utf8(&decoded).ok()?.parse().ok()
    }

    #[test]
    fn a_minted_token_has_discords_shape_and_names_its_account() {
        let id = Snowflake(175_928_847_299_117_063);
        let token = mint(id);
        let segments: Vec<&str> = token.split('.').collect();
        assert_eq!(segments.len(), 3, "{token}");
        assert_eq!(segments[0], "MTc1OTI4ODQ3Mjk5MTE3MDYz");
        assert_eq!(segments[1].len(), 6, "{token}");
        assert_eq!(segments[2].len(), 27, "{token}");
        let url_safe = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        assert!(segments.iter().all(|s| s.chars().all(url_safe)), "{token}");
        assert_eq!(account_id(&token), Some(id));
        assert_ne!(mint(id), token, "each token is new");
    }

    #[test]
    fn interaction_tokens_are_new_each_time() {
        let id = Snowflake(1);
        let token = mint_interaction(id);
        assert!(token.starts_with("aW50ZXJhY3Rpb246"), "{token}");
        assert!(token.len() > 80, "{token}");
        assert_ne!(mint_interaction(id), token);
    }
}
