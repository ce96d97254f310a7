//! What the connector needs from the `connector.matrix` block: parsed ids and the state directory.

use std::path::PathBuf;

use connector_core::config::secrets::Environment;
use connector_core::config::{ConnectorConfig, MatrixConfig};
use connector_core::{Error, Result};
use matrix_sdk::ruma::{OwnedRoomId, OwnedUserId};

/// The validated Matrix settings of one connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MatrixSettings {
    /// The homeserver's client-server API base URL.
    pub(crate) homeserver_url: String,
    /// The bot's user id; the access token must belong to it.
    pub(crate) user_id: OwnedUserId,
    /// The one room the connector talks in.
    pub(crate) room_id: OwnedRoomId,
    /// Where the sync position (and, with `e2e-encryption`, the crypto store) live.
    pub(crate) state_dir: PathBuf,
}

impl MatrixSettings {
    /// Reads and checks the `connector.matrix` block; `env` supplies `XDG_STATE_HOME` and `HOME`
    /// for the default state directory.
    pub(crate) fn from_config(config: &ConnectorConfig, env: &dyn Environment) -> Result<Self> {
        config.validate()?;
        let matrix: &MatrixConfig = config.matrix.as_ref().ok_or_else(|| {
            Error::config(
                "connector.matrix",
                "required when kind is matrix (give homeserver_url, user_id and room_id)",
            )
        })?;
        let user_id = OwnedUserId::try_from(matrix.user_id.as_str()).map_err(|e| {
            Error::config(
                "connector.matrix.user_id",
                format!("{:?} is not a Matrix user id: {e}", matrix.user_id),
            )
        })?;
        let room_id = OwnedRoomId::try_from(matrix.room_id.as_str()).map_err(|e| {
            Error::config(
                "connector.matrix.room_id",
                format!("{:?} is not a Matrix room id: {e}", matrix.room_id),
            )
        })?;
        let state_dir = matrix.state_dir_or_default(env)?;
        Ok(Self {
            homeserver_url: matrix.homeserver_url.clone(),
            user_id,
            room_id,
            state_dir,
        })
    }

    /// The file holding the sync position for this room.
    ///
    /// The sync filter is limited to the room, so a position is only valid for the room it was
    /// taken with: two connectors of one bot user in different rooms keep separate files.
    pub(crate) fn sync_token_path(&self) -> PathBuf {
        self.state_dir
            .join(format!("next_batch-{}", sanitise(self.room_id.as_str())))
    }

    /// The file listing this room's encrypted events that wait for their room keys (feature
    /// `e2e-encryption`).
    #[cfg(feature = "e2e-encryption")]
    pub(crate) fn undecrypted_path(&self) -> PathBuf {
        self.state_dir.join(format!(
            "undecrypted-{}.json",
            sanitise(self.room_id.as_str())
        ))
    }

    /// The file remembering the reactions delivered from the room, so their removal can be
    /// reported.
    pub(crate) fn delivered_reactions_path(&self) -> PathBuf {
        self.state_dir.join(format!(
            "reactions-{}.json",
            sanitise(self.room_id.as_str())
        ))
    }

    /// The directory of the SQLite crypto store (feature `e2e-encryption`).
    #[cfg(feature = "e2e-encryption")]
    pub(crate) fn crypto_store_dir(&self) -> PathBuf {
        self.state_dir.join("crypto")
    }
}

/// An id made safe as one path component (`@bot:example.org` → `_bot_example.org`); core's
/// [`path_component`](connector_core::config::state_dir::path_component), which `connector check` uses too.
pub(crate) use connector_core::config::state_dir::path_component as sanitise;

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use std::path::Path;

    use super::*;

    fn config(state_dir: Option<&str>) -> ConnectorConfig {
        let state = state_dir.map_or(String::new(), |d| format!("\n    state_dir: {d}"));
        ConnectorConfig::from_roster_str(&format!(
            "connector:\n  kind: matrix\n  allowed_senders: ['@op:example.org']\n  matrix:\n    \
             homeserver_url: http://127.0.0.1:8008\n    user_id: '@bot:example.org'\n    \
             room_id: '!room:example.org'{state}\n"
        ))
        .expect("valid roster")
    }

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn sanitises_ids_into_one_path_component() {
        assert_eq!(sanitise("@bot:example.org:8448"), "_bot_example.org_8448");
        assert_eq!(sanitise("!a/b..c"), "_a_b__c");
    }

    #[test]
    fn state_dir_defaults_to_xdg_then_home() {
        let xdg = MatrixSettings::from_config(&config(None), &env(&[("XDG_STATE_HOME", "/s")]));
        assert_eq!(
            xdg.unwrap().state_dir,
            Path::new("/s/orchestrator-connector/matrix/_bot_example.org")
        );
        let home = MatrixSettings::from_config(&config(None), &env(&[("HOME", "/home/u")]));
        assert_eq!(
            home.unwrap().state_dir,
            Path::new("/home/u/.local/state/orchestrator-connector/matrix/_bot_example.org")
        );
        let explicit = MatrixSettings::from_config(&config(Some("/var/lib/x")), &env(&[]));
        let explicit = explicit.unwrap();
        assert_eq!(explicit.state_dir, Path::new("/var/lib/x"));
        assert_eq!(
            explicit.sync_token_path(),
            Path::new("/var/lib/x/next_batch-_room_example.org")
        );
        let none = MatrixSettings::from_config(&config(None), &env(&[])).unwrap_err();
        assert_eq!(
            none.config_problems()[0].path,
            "connector.matrix.state_dir",
            "{none}"
        );
    }
}
