//! Printing results as text for people or JSON for scripts.

use std::io::Write;

use serde::Serialize;

use crate::error::Error;

/// Prints `value` as one line of JSON on stdout.
pub(crate) fn json_line(value: &impl Serialize) -> Result<(), Error> {
    let line = serde_json::to_string(value).map_err(|e| Error::Io {
        what: "encoding JSON",
        source: e.into(),
    })?;
    line_out(&line)
}

/// Prints `line` on stdout and flushes, so pipes see it at once.
pub(crate) fn line_out(line: &str) -> Result<(), Error> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .map_err(|source| Error::Io {
            what: "writing to stdout",
            source,
        })
}

/// `✓` or `✗`.
pub(crate) fn mark(ok: bool) -> &'static str {
    if ok { "✓" } else { "✗" }
}
