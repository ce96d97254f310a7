//! Slack-shaped identifiers: `U…`/`C…`/`F…` ids, message timestamps (`ts`) and opaque tokens.

use std::time::{SystemTime, UNIX_EPOCH};

/// Hands out ids and strictly increasing message timestamps.
#[derive(Debug, Default)]
pub(crate) struct Ids {
    counter: u64,
    last_ts_micros: u64,
}

impl Ids {
    /// A new id with Slack's one-letter prefix (`U`, `C`, `F`, `B`, `A`, `T`, `Ev`…).
    pub(crate) fn next(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{:08X}", 0x0E00_0000 + self.counter)
    }

    /// A fresh opaque token (tickets, trigger ids, envelope ids).
    pub(crate) fn token(&mut self) -> String {
        self.counter += 1;
        let noise = fastrand::u64(..);
        format!(
            "{:08x}-{:04x}-{:012x}",
            self.counter,
            noise & 0xffff,
            noise >> 16
        )
    }

    /// The next message timestamp: seconds and microseconds since the epoch, `"1700000000.000100"`,
    /// strictly greater than every one handed out before.
    pub(crate) fn ts(&mut self) -> String {
        let now = now_micros();
        self.last_ts_micros = now.max(self.last_ts_micros + 1);
        format_ts(self.last_ts_micros)
    }
}

/// Microseconds since the Unix epoch.
pub(crate) fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// Seconds since the Unix epoch.
pub(crate) fn now_secs() -> u64 {
    now_micros() / 1_000_000
}

/// Formats microseconds as a Slack `ts`.
pub(crate) fn format_ts(micros: u64) -> String {
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

/// Parses a Slack `ts` (`"1700000000.000100"`, or whole seconds) into microseconds.
pub(crate) fn parse_ts(ts: &str) -> Option<u64> {
    let (secs, frac) = ts.split_once('.').unwrap_or((ts, ""));
    let secs: u64 = secs.parse().ok()?;
    if frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let micros: u64 = format!("{frac:0<6}").parse().ok()?;
    Some(secs * 1_000_000 + micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ts_round_trips_and_increases() {
        let mut ids = Ids::default();
        let a = ids.ts();
        let b = ids.ts();
        assert!(parse_ts(&b) > parse_ts(&a));
        assert_eq!(format_ts(parse_ts(&a).unwrap()), a);
        assert_eq!(parse_ts("12"), Some(12_000_000));
        assert_eq!(parse_ts("x.1"), None);
    }
}
