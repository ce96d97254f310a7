//! Proof against tmux's real command parser that `quote_arg` yields the argument back
//! byte for byte: every string is quoted into a `set-buffer` command, parsed by tmux
//! (`source-file` uses the same parser as control-mode input lines), and the buffer is
//! saved to a file and compared. Nothing in the strings may be expanded or executed.

mod common;

use common::{Scratch, TestServer};
use connector_tmux::quoting::quote_arg;

#[test]
fn quoted_arguments_survive_tmux_parser_byte_for_byte() {
    let server = TestServer::new();
    let scratch = Scratch::new();
    let marker = scratch.path_str("MARKER");
    server.start_session("q", &["sh"]);

    let all_ascii: String = (1u8..=127).map(char::from).collect();
    let cases = vec![
        all_ascii,
        "-n".to_owned(),
        "--".to_owned(),
        "; kill-server".to_owned(),
        "\\; kill-server".to_owned(),
        format!("; run-shell \"touch {marker}\""),
        format!("#(touch {marker})"),
        "#{pane_id} #{session_name} ## #[fg=red]".to_owned(),
        format!("$(touch {marker}) `touch {marker}`"),
        "$HOME ${HOME} $ $$ ${".to_owned(),
        "~ ~/x ~root a~b".to_owned(),
        "%if #{x}\n%endif".to_owned(),
        "{ new-window }".to_owned(),
        "'single' \"double\" \\\\ \\n \\e \\u0041 \\101".to_owned(),
        "line one\nline two\r\n\ttabbed".to_owned(),
        "ünïcödé ✓ 日本語 🚀".to_owned(),
        "trailing space ".to_owned(),
    ];

    for (i, case) in cases.iter().enumerate() {
        let script = scratch.file(&format!("cmd{i}.conf"));
        let out = scratch.file(&format!("out{i}"));
        let line = format!("set-buffer -b q{i} -- {}\n", quote_arg(case));
        assert!(!line.trim_end().contains('\n'), "one line: {line:?}");
        std::fs::write(&script, line).expect("write script");
        server.tmux(&["source-file", &script.to_string_lossy()]);
        server.tmux(&[
            "save-buffer",
            "-b",
            &format!("q{i}"),
            &out.to_string_lossy(),
        ]);
        let saved = std::fs::read(&out).expect("saved buffer");
        assert_eq!(
            String::from_utf8_lossy(&saved),
            case.as_str(),
            "case {i} came back different"
        );
    }
    // An empty argument stays one (empty) argument. (An empty `set-buffer` is ignored by
    // tmux, so a user option carries it.)
    let script = scratch.file("empty.conf");
    std::fs::write(
        &script,
        format!("set-option -g @empty {} \n", quote_arg("")),
    )
    .expect("write");
    server.tmux(&["set-option", "-g", "@empty", "not yet"]);
    server.tmux(&["source-file", &script.to_string_lossy()]);
    assert_eq!(server.tmux(&["show-options", "-gv", "@empty"]), "\n");

    assert!(!scratch.file("MARKER").exists(), "something was executed");
    assert!(
        server.try_tmux(&["has-session", "-t", "q"]).is_ok(),
        "server survived"
    );
}
