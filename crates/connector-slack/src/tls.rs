//! TLS for `https://slack.com` and the `wss://` Socket Mode URL: one rustls client config with
//! the ring provider and Mozilla's root certificates (webpki-roots), handed to reqwest and to
//! tokio-tungstenite alike, so neither depends on a process-wide default provider.

use std::sync::{Arc, OnceLock};

use connector_core::{Error, Result};

use crate::KIND;

/// The shared client config.
pub(crate) fn client_config() -> Result<Arc<rustls::ClientConfig>> {
    static CONFIG: OnceLock<std::result::Result<Arc<rustls::ClientConfig>, String>> =
        OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map(|builder| {
                    Arc::new(builder.with_root_certificates(roots).with_no_client_auth())
                })
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|reason| Error::backend_message(KIND, format!("cannot set up TLS: {reason}")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_config_builds_with_roots() {
        let config = super::client_config().expect("a TLS config");
        assert!(config.alpn_protocols.is_empty());
    }
}
