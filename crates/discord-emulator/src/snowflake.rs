//! Snowflake ids: Discord's 64-bit ids, minted in increasing order from the emulator's clock.

use std::{fmt, str::FromStr, time::SystemTime};

/// Discord's epoch, the first millisecond of 2015, in Unix milliseconds.
pub const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// A Discord id: milliseconds since [`DISCORD_EPOCH_MS`] in the top 42 bits, then worker,
/// process and increment bits. It travels as a decimal string in JSON.
///
/// ```
/// use discord_emulator::Snowflake;
/// let id: Snowflake = "175928847299117063".parse().unwrap();
/// assert_eq!(id.timestamp_ms(), 1_462_015_105_796);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Snowflake(pub u64);

impl Snowflake {
    /// The raw 64-bit value.
    #[must_use]
    pub fn get(self) -> u64 {
        self.0
    }

    /// When the id was minted, in Unix milliseconds.
    #[must_use]
    pub fn timestamp_ms(self) -> u64 {
        (self.0 >> 22) + DISCORD_EPOCH_MS
    }
}

impl fmt::Display for Snowflake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for Snowflake {
    type Err = std::num::ParseIntError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Snowflake)
    }
}

impl From<u64> for Snowflake {
    fn from(value: u64) -> Self {
        Snowflake(value)
    }
}

/// Snowflakes travel as strings: JSON numbers cannot hold 64 bits everywhere.
impl serde::Serialize for Snowflake {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl From<Snowflake> for serde_json::Value {
    fn from(id: Snowflake) -> Self {
        serde_json::Value::String(id.to_string())
    }
}

/// Mints strictly increasing snowflakes (worker 1, process 0), so ids sort like creation order.
#[derive(Debug, Default)]
pub(crate) struct SnowflakeGen {
    last_ms: u64,
    increment: u64,
}

impl SnowflakeGen {
    pub(crate) fn next(&mut self) -> Snowflake {
        let now = now_ms().max(DISCORD_EPOCH_MS);
        if now > self.last_ms {
            self.last_ms = now;
            self.increment = 0;
        } else {
            self.increment += 1;
            if self.increment > 0xFFF {
                self.last_ms += 1;
                self.increment = 0;
            }
        }
        Snowflake(((self.last_ms - DISCORD_EPOCH_MS) << 22) | (1 << 17) | self.increment)
    }
}

/// The current Unix time in milliseconds.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Formats Unix milliseconds as Discord does: `2024-05-06T07:08:09.123000+00:00`.
pub(crate) fn iso8601(unix_ms: u64) -> String {
    let ts = i64::try_from(unix_ms)
        .ok()
        .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let dt = ts.to_zoned(jiff::tz::TimeZone::UTC).datetime();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}+00:00",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        dt.subsec_nanosecond() / 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_increase_and_carry_their_time() {
        let mut ids = SnowflakeGen::default();
        let first = ids.next();
        let mut last = first;
        for _ in 0..10_000 {
            let next = ids.next();
            assert!(next > last);
            last = next;
        }
        assert!(first.timestamp_ms().abs_diff(now_ms()) < 60_000);
    }

    #[test]
    fn documented_example_decodes() {
        // The example from Discord's reference ("Snowflakes").
        let id = Snowflake(175_928_847_299_117_063);
        assert_eq!(id.timestamp_ms(), 1_462_015_105_796);
    }

    #[test]
    fn timestamps_look_like_discords() {
        assert_eq!(
            iso8601(1_462_015_105_796),
            "2016-04-30T11:18:25.796000+00:00"
        );
    }
}
