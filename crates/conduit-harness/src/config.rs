//! The one file a Conduit runs from: `conduit.toml`, the `[global]` table `docs/deploy-matrix.md`
//! shows, pointed at a temporary directory.

use std::{fs, io, path::Path, path::PathBuf};

/// The server name every harness homeserver uses: user ids are `@name:localhost`.
pub const SERVER_NAME: &str = "localhost";

/// The `registration_token` of every harness homeserver (accounts are registered with it, as
/// `docs/deploy-matrix.md` tells operators to).
pub const REGISTRATION_TOKEN: &str = "harness-registration-token";

/// Where the files of one homeserver live, all inside its temporary directory.
pub(crate) struct Layout<'a> {
    /// The temporary directory.
    pub(crate) dir: &'a Path,
}

impl Layout<'_> {
    /// `conduit.toml`, handed over as `CONDUIT_CONFIG`.
    pub(crate) fn config(&self) -> PathBuf {
        self.dir.join("conduit.toml")
    }

    /// The SQLite database's directory.
    pub(crate) fn database(&self) -> PathBuf {
        self.dir.join("db")
    }

    /// Writes `conduit.toml` and creates the database directory.
    pub(crate) fn write(&self, config: &str) -> io::Result<()> {
        fs::create_dir_all(self.database())?;
        fs::write(self.config(), config)
    }
}

/// The harness's configuration: the keys of the docs' `[global]` table, with the harness's
/// server name and token, no trusted servers and no update check (the tests run offline).
pub(crate) fn harness_config(database: &Path, port: u16) -> String {
    format!(
        "[global]\n\
         server_name = \"{SERVER_NAME}\"\n\
         database_backend = \"sqlite\"\n\
         database_path = \"{}\"\n\
         address = \"127.0.0.1\"\n\
         port = {port}\n\
         max_request_size = 20_000_000\n\
         allow_registration = true\n\
         registration_token = \"{REGISTRATION_TOKEN}\"\n\
         allow_federation = false\n\
         allow_check_for_updates = false\n\
         trusted_servers = []\n\
         log = \"warn\"\n",
        database.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_has_the_documented_keys() {
        let text = harness_config(Path::new("/tmp/x/db"), 4242);
        for line in [
            "server_name = \"localhost\"",
            "database_backend = \"sqlite\"",
            "database_path = \"/tmp/x/db\"",
            "address = \"127.0.0.1\"",
            "port = 4242",
            "allow_registration = true",
            "registration_token = \"harness-registration-token\"",
            "allow_federation = false",
            "trusted_servers = []",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from\n{text}"
            );
        }
    }
}
