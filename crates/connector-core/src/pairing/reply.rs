//! The text a stranger is sent: their code, what the operator runs, and for how long.

use std::time::Duration;

use jiff::Timestamp;

use super::store::PendingCode;

/// The answer to a stranger's message carrying `pending`'s code, at `now`.
///
/// Markdown that reads well as plain text too (the code in backticks). It names no roster
/// path: the stranger is not told anything about the machine.
pub fn stranger_text(pending: &PendingCode, now: Timestamp) -> String {
    let left = pending.expires_at.duration_since(now).unsigned_abs();
    format!(
        "I don't know you yet, so your message was not passed on. If you are the operator, \
         approve yourself on the machine where the connector runs (with the same roster):\n\
         `connector pair approve {}`\n\
         The code expires in {}. Nobody can approve it from this chat.",
        pending.code,
        minutes(left)
    )
}

/// `1 minute`, `59 minutes`: rounded up, so a fresh hour-long code says 60.
fn minutes(left: Duration) -> String {
    let minutes = left.as_secs().div_ceil(60).max(1);
    if minutes == 1 {
        "1 minute".to_owned()
    } else {
        format!("{minutes} minutes")
    }
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;

    use super::*;
    use crate::pairing::PairingCode;

    #[test]
    fn the_stranger_is_told_the_code_and_the_command() {
        let now = Timestamp::UNIX_EPOCH;
        let pending = PendingCode {
            code: PairingCode::parse("K7M3QX9P").unwrap(),
            sender: "80351110224678912".into(),
            issued_at: now,
            expires_at: now + SignedDuration::from_mins(60),
            sent_at: now,
        };
        insta::assert_snapshot!(stranger_text(&pending, now), @r"
        I don't know you yet, so your message was not passed on. If you are the operator, approve yourself on the machine where the connector runs (with the same roster):
        `connector pair approve K7M3QX9P`
        The code expires in 60 minutes. Nobody can approve it from this chat.
        ");
        let later = now + SignedDuration::from_secs(59 * 60 + 30);
        assert!(stranger_text(&pending, later).contains("expires in 1 minute."));
    }
}
