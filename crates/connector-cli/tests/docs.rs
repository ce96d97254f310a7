//! Keeps the operator docs true: `docs/cli.md` has a section for every command the binary
//! lists, the Discord invite URL's permission integer is the sum of the permissions table, and
//! each deploy guide's `connector init` command writes exactly the block the guide shows.

mod common;

use common::{Dir, stdout};

fn doc(name: &str) -> String {
    let path = format!("{}/../../docs/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn cli_md_documents_every_command() {
    let dir = Dir::new();
    let output = dir.connector().arg("--help").output().unwrap();
    let help = stdout(&output);
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        // A command starts after two spaces; a wrapped description is indented further.
        .filter(|l| !l[2..].starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.contains(&"doctor"), "{help}");
    let cli = doc("cli.md");
    for command in commands {
        assert!(
            cli.contains(&format!("### `connector {command}")),
            "docs/cli.md has no section for `connector {command}`"
        );
    }
}

#[test]
fn discord_invite_permissions_match_the_table() {
    let text = doc("deploy-discord.md");
    let mut sum = 0u64;
    for line in text
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains(" << "))
    {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let bit: u32 = cells[2]
            .trim_start_matches("1 << ")
            .parse()
            .unwrap_or_else(|e| panic!("{line}: {e}"));
        let value: u64 = cells[3].parse().unwrap();
        assert_eq!(value, 1u64 << bit, "{line}");
        sum += value;
    }
    // View Channel, Send Messages, Attach Files, Read Message History, Add Reactions, Create
    // Public Threads, Send Messages in Threads — Discord's documented bits.
    let expected = [10, 11, 15, 16, 6, 35, 38]
        .iter()
        .map(|bit| 1u64 << bit)
        .sum::<u64>();
    assert_eq!(sum, expected);
    assert!(
        text.contains(&format!("scope=bot&permissions={expected}")),
        "the invite URL must carry permissions={expected}"
    );
}

/// The `connector … init …` command of a deploy guide (continuation lines joined, quotes
/// removed) and the YAML block shown after it.
fn init_example(text: &str) -> (Vec<String>, String) {
    let start = text
        .find("connector --roster roster.yaml init")
        .expect("the guide shows an init command");
    let command_text = &text[start..text[start..].find("\n```").map(|e| start + e).unwrap()];
    let words = command_text
        .replace("\\\n", " ")
        .split_whitespace()
        .map(|w| w.trim_matches('\'').to_owned())
        .collect();
    let yaml_start = start + text[start..].find("```yaml\n").unwrap() + "```yaml\n".len();
    let yaml_end = yaml_start + text[yaml_start..].find("```").unwrap();
    (words, text[yaml_start..yaml_end].to_owned())
}

#[test]
fn each_deploy_guide_init_writes_the_block_it_shows() {
    for guide in [
        "deploy-matrix.md",
        "deploy-discord.md",
        "deploy-telegram.md",
        "deploy-slack.md",
    ] {
        let (words, block) = init_example(&doc(guide));
        let dir = Dir::new();
        let roster = dir.path().join("roster.yaml");
        let args: Vec<String> = words[1..]
            .iter()
            .map(|w| {
                if w == "roster.yaml" {
                    roster.display().to_string()
                } else {
                    w.clone()
                }
            })
            .chain(["--dry-run".to_owned()])
            .collect();
        let output = dir.connector().args(&args).output().unwrap();
        assert!(output.status.success(), "{guide}: {output:?}");
        // The roster as it would be written, before the next steps `init` prints after it.
        let written: String = stdout(&output)
            .lines()
            .skip(1)
            .take_while(|l| !l.starts_with("set in the environment"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(
            written, block,
            "{guide}: `init` writes another block than the guide shows"
        );
        connector_core::ConnectorConfig::from_roster_str(&block)
            .unwrap_or_else(|e| panic!("{guide}: {e}"));
    }
}
