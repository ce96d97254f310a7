//! How figures are written in the report's tables.

use std::time::Duration;

/// Milliseconds, with two decimals under 10 ms and one above: `0.42 ms`, `12.3 ms`.
pub fn ms(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

/// A size in KiB (as `/proc` gives it), written in MiB: `12.3 MiB`.
pub fn kib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_and_mebibytes() {
        assert_eq!(ms(Duration::from_micros(420)), "0.42 ms");
        assert_eq!(ms(Duration::from_micros(9_994)), "9.99 ms");
        assert_eq!(ms(Duration::from_micros(12_345)), "12.3 ms");
        assert_eq!(ms(Duration::ZERO), "0.00 ms");
        assert_eq!(kib(0), "0.0 MiB");
        assert_eq!(kib(12_595), "12.3 MiB");
    }
}
