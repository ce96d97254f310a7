//! Threads as windows: naming a thread's window, marking it so it can be found again, and
//! reading the window list.
//!
//! A thread id can be any string a chat platform uses. The window gets a readable name
//! made of the id's safe characters ([`window_name`]); the exact id is kept, hex-encoded,
//! in the window's user option `@connector_thread`, which is what lookups compare (names
//! can collide after sanitising, and tmux may truncate or the operator may rename them).

/// Window user option holding the hex-encoded thread id.
pub const THREAD_OPTION: &str = "@connector_thread";
/// Window user option holding the window's role (`console` or `thread`).
pub const ROLE_OPTION: &str = "@connector_role";

/// A thread's window.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThreadWindow {
    /// The thread id, as given.
    pub thread: String,
    /// tmux window id, e.g. `@4`.
    pub window_id: String,
    /// The window's pane, e.g. `%7`.
    pub pane_id: String,
    /// The window name (sanitised thread id).
    pub name: String,
}

/// A readable window name for `thread`: ASCII letters, digits, `-` and `_` kept, anything
/// else becomes `_`, at most 32 characters, never empty. Free of `:`, `.`, `#` and
/// spaces, so it is neither a target separator nor a format.
pub fn window_name(thread: &str) -> String {
    let name: String = thread
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(32)
        .collect();
    if name.is_empty() {
        "thread".to_owned()
    } else {
        name
    }
}

/// Lowercase hex of the id's bytes (the value stored in [`THREAD_OPTION`]).
pub(crate) fn encode_id(thread: &str) -> String {
    crate::hex::encode(thread.as_bytes())
}

/// Inverse of [`encode_id`]; `None` for anything that is not our encoding.
pub(crate) fn decode_id(hex: &str) -> Option<String> {
    if hex.is_empty() {
        return None;
    }
    String::from_utf8(crate::hex::decode(hex)?).ok()
}

/// The `-F` format for [`parse_window`], one line per window (its active pane).
pub(crate) const WINDOW_FORMAT: &str = concat!(
    "#{window_id}\t#{pane_id}\t#{pane_pid}\t#{pane_dead}\t#{@connector_role}\t",
    "#{@connector_thread}\t#{m:*connector-tmux-console*,#{pane_start_command}}\t#{window_name}"
);

/// One line of `list-windows -F WINDOW_FORMAT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WindowRow {
    pub window_id: String,
    pub pane_id: String,
    pub pane_pid: u32,
    pub pane_dead: bool,
    pub role: String,
    pub thread: Option<String>,
    pub runs_console: bool,
    pub name: String,
}

/// Parses one line of [`WINDOW_FORMAT`] output.
pub(crate) fn parse_window(line: &str) -> Option<WindowRow> {
    let mut f = line.splitn(8, '\t');
    Some(WindowRow {
        window_id: f.next()?.to_owned(),
        pane_id: f.next()?.to_owned(),
        pane_pid: f.next()?.parse().unwrap_or(0),
        pane_dead: f.next()? == "1",
        role: f.next()?.to_owned(),
        thread: decode_id(f.next()?),
        runs_console: f.next()? == "1",
        name: f.next().unwrap_or_default().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_names_are_safe() {
        assert_eq!(window_name("1234.5678"), "1234_5678");
        assert_eq!(window_name("#{pane_id}; x"), "__pane_id___x");
        assert_eq!(window_name(""), "thread");
        assert_eq!(window_name(&"a".repeat(80)).len(), 32);
    }

    #[test]
    fn ids_round_trip_through_hex() {
        for id in ["t1", "$!\"#{x}\n ünï", "1729.1"] {
            assert_eq!(decode_id(&encode_id(id)).as_deref(), Some(id));
        }
        assert_eq!(decode_id(""), None);
        assert_eq!(decode_id("zz"), None);
    }

    #[test]
    fn window_rows_parse() {
        let row = parse_window("@3\t%5\t1234\t0\tthread\t7431\t0\tt1").unwrap();
        assert_eq!(row.window_id, "@3");
        assert_eq!(row.pane_id, "%5");
        assert_eq!(row.pane_pid, 1234);
        assert_eq!(row.thread.as_deref(), Some("t1"));
        assert!(!row.runs_console);
        let row = parse_window("@0\t%0\t99\t0\t\t\t1\tconsole").unwrap();
        assert_eq!(row.thread, None);
        assert!(row.runs_console);
        assert_eq!(parse_window("garbage"), None);
    }
}
