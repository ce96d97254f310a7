//! What crates.io already holds under a name, read from its sparse index with `curl`.
//!
//! The index (`https://index.crates.io`) is what cargo itself reads; unlike the crates.io web
//! API it is reachable from machines that may only talk to package registries.

use std::process::Command;

use serde_json::Value;

use crate::Result;

/// The index that `cargo publish` to crates.io checks.
const INDEX: &str = "https://index.crates.io";

/// Every version of `name` on crates.io (yanked ones too: they still hold the name); empty when
/// the name is free. An error says why the index could not be read.
pub(super) fn published_versions(name: &str) -> Result<Vec<String>> {
    let url = format!("{INDEX}/{}", index_path(name));
    let output = Command::new("curl")
        .args(["--silent", "--show-error", "--location", "--max-time", "20"])
        .args(["--write-out", "\n%{http_code}", &url])
        .output()
        .map_err(|error| format!("could not run curl: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "{url}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let body = String::from_utf8_lossy(&output.stdout);
    let (body, status) = body.rsplit_once('\n').unwrap_or(("", &body));
    match status.trim() {
        "200" => parse_index_file(body),
        // The sparse index answers 404 (or 403 from its CDN) for a name nobody has published.
        "404" | "403" | "410" => Ok(Vec::new()),
        other => Err(format!("{url}: HTTP status {other}")),
    }
}

/// The path of a crate's file in the index: `1/a`, `2/ab`, `3/a/abc`, `co/nn/connector`.
fn index_path(name: &str) -> String {
    let name = name.to_ascii_lowercase();
    match name.len() {
        1 => format!("1/{name}"),
        2 => format!("2/{name}"),
        3 => format!("3/{}/{name}", &name[..1]),
        _ => format!("{}/{}/{name}", &name[..2], &name[2..4]),
    }
}

/// The versions in an index file: one JSON object per line, each with a `vers`.
fn parse_index_file(body: &str) -> Result<Vec<String>> {
    body.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let entry: Value = serde_json::from_str(line)
                .map_err(|error| format!("the index answered a line that is not JSON: {error}"))?;
            entry["vers"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| "the index answered an entry without `vers`".to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_paths_follow_cargos_layout() {
        assert_eq!(index_path("a"), "1/a");
        assert_eq!(index_path("ab"), "2/ab");
        assert_eq!(index_path("abc"), "3/a/abc");
        assert_eq!(index_path("connector-core"), "co/nn/connector-core");
        assert_eq!(index_path("Serde_JSON"), "se/rd/serde_json");
    }

    #[test]
    fn index_files_give_their_versions() {
        let body = "{\"name\":\"x\",\"vers\":\"0.5.0\",\"deps\":[]}\n\
                    {\"name\":\"x\",\"vers\":\"0.6.0\",\"yanked\":true}\n";
        assert_eq!(parse_index_file(body).unwrap(), ["0.5.0", "0.6.0"]);
        assert_eq!(parse_index_file("").unwrap(), Vec::<String>::new());
        assert!(parse_index_file("<html>").is_err());
        assert!(parse_index_file("{\"name\":\"x\"}").is_err());
    }
}
