//! Building the matrix-sdk client and restoring its session from the access token alone.
//!
//! The token is all the operator provides. `GET /_matrix/client/v3/account/whoami` names its
//! user and device; the user must be the configured `user_id`, and the device is what the
//! session (and, with `e2e-encryption`, the crypto store) is restored with.

use connector_core::config::secrets::{ExposeSecret, SecretString};
use connector_core::retry::RetryPolicy;
use connector_core::{Error, Result};
use matrix_sdk::authentication::matrix::MatrixSession;
use matrix_sdk::ruma::{OwnedDeviceId, OwnedUserId};
use matrix_sdk::{Client, SessionMeta, SessionTokens};

use crate::error::from_http;
use crate::requests::request_config;
use crate::settings::MatrixSettings;
use crate::{KIND, error};

/// A logged-in client for `settings`, with the token's identity checked against the config.
pub(crate) async fn connect(settings: &MatrixSettings, token: &SecretString) -> Result<Client> {
    let (user_id, device_id) = RetryPolicy::default()
        .run(|_| whoami(settings, token))
        .await?;
    if user_id != settings.user_id {
        return Err(Error::config(
            "connector.matrix.user_id",
            format!(
                "is {} but MATRIX_ACCESS_TOKEN belongs to {user_id}: use that user's token or \
                 change user_id",
                settings.user_id
            ),
        ));
    }
    let client = builder(settings)
        .await?
        .build()
        .await
        .map_err(build_error)?;
    client
        .restore_session(MatrixSession {
            meta: SessionMeta { user_id, device_id },
            tokens: SessionTokens {
                access_token: token.expose_secret().to_owned(),
                refresh_token: None,
            },
        })
        .await
        .map_err(|e| error::from_sdk("restore the session", e))?;
    Ok(client)
}

/// The token's user and device, asked of the homeserver.
///
/// matrix-sdk sends authenticated requests only for a restored session, so a throw-away client
/// is restored with a placeholder device for this one request.
async fn whoami(
    settings: &MatrixSettings,
    token: &SecretString,
) -> Result<(OwnedUserId, OwnedDeviceId)> {
    let probe = Client::builder()
        .homeserver_url(&settings.homeserver_url)
        .request_config(request_config())
        .build()
        .await
        .map_err(build_error)?;
    probe
        .restore_session(MatrixSession {
            meta: SessionMeta {
                user_id: settings.user_id.clone(),
                device_id: "CONNECTOR_PROBE".into(),
            },
            tokens: SessionTokens {
                access_token: token.expose_secret().to_owned(),
                refresh_token: None,
            },
        })
        .await
        .map_err(|e| error::from_sdk("prepare whoami", e))?;
    let answer = probe.whoami().await.map_err(|e| from_http("whoami", e))?;
    let device_id = answer.device_id.ok_or_else(|| Error::Unauthorized {
        kind: KIND.into(),
        reason: "the access token has no device (an appservice token?); use a user's login token"
            .into(),
    })?;
    Ok((answer.user_id, device_id))
}

/// The client builder for `settings`: homeserver, request settings and, with
/// `e2e-encryption`, the SQLite crypto store in the state directory.
async fn builder(settings: &MatrixSettings) -> Result<matrix_sdk::ClientBuilder> {
    let builder = Client::builder()
        .homeserver_url(&settings.homeserver_url)
        .request_config(request_config());
    #[cfg(feature = "e2e-encryption")]
    let builder = {
        let dir = settings.crypto_store_dir();
        tokio::fs::create_dir_all(&dir).await.map_err(|e| {
            Error::backend(
                KIND,
                format!("cannot create the crypto store {}", dir.display()),
                e,
            )
        })?;
        builder.sqlite_store(dir, None)
    };
    Ok(builder)
}

fn build_error(error: matrix_sdk::ClientBuildError) -> Error {
    Error::config(
        "connector.matrix.homeserver_url",
        format!("cannot build a Matrix client: {error}"),
    )
}
