//! The registry: third-party kinds at run time (with config blocks of their own), and clear
//! errors for kinds it cannot build.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use connector_core::config::secrets::Environment;
use connector_core::config::{ConnectorConfig, ConnectorKind};
use connector_core::{
    Capabilities, ConnectorDescriptor, ConnectorFuture, ConnectorHealth, DiagnosisFuture,
    LoopbackConnector, OrchestratorConnector, OutboundMessage, Probe, SendReceipt, Subscription,
};
use connector_registry::{Error, Registry};

/// A connector of a third-party crate: wraps the loopback and renames its kind.
struct EchoConnector(LoopbackConnector, String);

#[async_trait]
impl OrchestratorConnector for EchoConnector {
    fn kind(&self) -> &str {
        "my-echo"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::NONE
    }
    async fn send(&self, message: OutboundMessage) -> connector_core::Result<SendReceipt> {
        self.0.send(message).await
    }
    async fn subscribe(&self) -> connector_core::Result<Subscription> {
        self.0.subscribe().await
    }
    async fn health(&self) -> ConnectorHealth {
        ConnectorHealth::healthy().with_detail(self.1.clone())
    }
}

fn config(yaml: &str) -> ConnectorConfig {
    ConnectorConfig::from_roster_str(yaml).unwrap()
}

/// The third-party kind's own block, `connector.my-echo`, which only its crate knows.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EchoSettings {
    greeting: String,
    #[serde(default)]
    suffix: Option<String>,
}

/// The third-party crate's factory: parses its own block (a problem in it fails the build of
/// the connector, naming its path) and greets with it.
fn create_echo(config: &ConnectorConfig, _env: &dyn Environment) -> ConnectorFuture {
    let settings = config.parse_kind_block::<EchoSettings>();
    Box::pin(async move {
        let settings = settings?.ok_or_else(|| {
            connector_core::Error::config("connector.my-echo", "required for kind my-echo")
        })?;
        let (connector, _operator) = LoopbackConnector::pair();
        let detail = format!(
            "{}{}",
            settings.greeting,
            settings.suffix.unwrap_or_default()
        );
        let connector: Arc<dyn OrchestratorConnector> = Arc::new(EchoConnector(connector, detail));
        Ok(connector)
    })
}

#[tokio::test]
async fn a_registered_kind_reads_its_own_config_block() {
    let mut registry = Registry::new();
    registry
        .register(ConnectorDescriptor {
            kind: "my-echo",
            secrets: &[],
            create: create_echo,
            diagnose_setup: None,
        })
        .unwrap();
    let roster = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/rosters/valid/custom-kind.yaml"
    ))
    .unwrap();
    let connector = registry
        .create(&ConnectorConfig::from_roster_str(&roster).unwrap())
        .await
        .unwrap();
    assert_eq!(connector.kind(), "my-echo");
    assert_eq!(connector.health().await.detail.as_deref(), Some("hello"));

    let errors = [
        "connector: {kind: my-echo, allow_any_sender: true, my-echo: {greeting: [hi]}}",
        "connector: {kind: my-echo, allow_any_sender: true, my-echo: {greeting: hi, sufix: '!'}}",
        "connector: {kind: my-echo, allow_any_sender: true}",
    ];
    let mut messages = Vec::new();
    for roster in errors {
        let error = registry.create(&config(roster)).await.err().unwrap();
        let Error::Connector(core) = &error else {
            panic!("not a configuration error: {error}");
        };
        assert!(!core.config_problems().is_empty(), "{error}");
        messages.push(error.to_string());
    }
    insta::assert_snapshot!(messages.join("\n"), @r"
    connector.my-echo.greeting: invalid type: sequence, expected a string
    connector.my-echo.sufix: unknown field `sufix`, expected `greeting` or `suffix`
    connector.my-echo: required for kind my-echo
    ");
}

#[tokio::test]
async fn third_party_kind_registers_at_run_time() {
    let mut registry = Registry::new();
    assert!(!registry.has("my-echo"));
    registry
        .register_fn("my-echo", |config, env| {
            // The factory sees the config and the environment it was given.
            let greeting = env
                .var("ECHO_GREETING")
                .and_then(|v| v.into_string().ok())
                .unwrap_or_default();
            let capacity = config.queue_capacity();
            Box::pin(async move {
                let (connector, _operator) = LoopbackConnector::pair();
                let connector: Arc<dyn OrchestratorConnector> =
                    Arc::new(EchoConnector(connector, format!("{greeting} ({capacity})")));
                Ok(connector)
            })
        })
        .unwrap();
    assert!(registry.has("my-echo"));
    let env: HashMap<String, String> = [("ECHO_GREETING".to_owned(), "hello".to_owned())].into();
    let connector = registry
        .create_with_env(
            &config("connector: {kind: my-echo, allow_any_sender: true, queue_capacity: 7}"),
            &env,
        )
        .await
        .unwrap();
    assert_eq!(connector.kind(), "my-echo");
    assert_eq!(
        connector.health().await.detail.as_deref(),
        Some("hello (7)")
    );
    assert!(
        connector
            .send(OutboundMessage::new("hi"))
            .await
            .unwrap()
            .confirmed
    );

    let again = registry.register_fn("my-echo", |_, _| unreachable!());
    assert!(matches!(again, Err(Error::AlreadyRegistered { .. })));
}

#[tokio::test]
async fn unknown_kinds_are_clear_errors() {
    let registry = Registry::new();
    let unknown = registry
        .create(&config("connector: {kind: irc}"))
        .await
        .err()
        .unwrap();
    insta::assert_snapshot!(unknown.to_string(), @"unknown connector kind `irc`: known kinds are discord, matrix, slack, telegram, tmux");
}

#[tokio::test]
async fn discord_is_built_when_compiled_in_and_named_when_not() {
    let discord = ConnectorConfig::from_roster_str(
        "connector: {kind: discord, allow_any_sender: true, discord: {channel_id: '1288776452373725234'}}",
    )
    .unwrap();
    let env: HashMap<String, String> = [(
        "HOME".to_owned(),
        std::env::temp_dir().display().to_string(),
    )]
    .into();
    let error = Registry::new()
        .create_with_env(&discord, &env)
        .await
        .err()
        .unwrap();
    if cfg!(feature = "discord") {
        // Compiled in: the factory runs and asks for its secret first.
        assert!(error.to_string().contains("DISCORD_BOT_TOKEN"), "{error}");
    } else {
        insta::assert_snapshot!(error.to_string(), @"connector kind `discord` is not compiled in: enable the `discord` feature of connector-registry (e.g. `cargo add connector-registry --features discord`, or build the connector CLI with `--features discord`)");
    }
}

#[tokio::test]
async fn matrix_is_built_when_compiled_in_and_named_when_not() {
    let matrix = ConnectorConfig::from_roster_str(
        "connector: {kind: matrix, allow_any_sender: true, matrix: {homeserver_url: 'http://127.0.0.1:9', user_id: '@b:x', room_id: '!r:x'}}",
    )
    .unwrap();
    let env: HashMap<String, String> = [(
        "HOME".to_owned(),
        std::env::temp_dir().display().to_string(),
    )]
    .into();
    let error = Registry::new()
        .create_with_env(&matrix, &env)
        .await
        .err()
        .unwrap();
    if cfg!(feature = "matrix") {
        // Compiled in: the factory runs and asks for its secret first.
        insta::assert_snapshot!(error.to_string(), @"MATRIX_ACCESS_TOKEN: not set: export MATRIX_ACCESS_TOKEN=… or point MATRIX_ACCESS_TOKEN_FILE at a file holding it (never put it in the roster)");
    } else {
        insta::assert_snapshot!(error.to_string(), @"connector kind `matrix` is not compiled in: enable the `matrix` feature of connector-registry (e.g. `cargo add connector-registry --features matrix`, or build the connector CLI with `--features matrix`)");
    }
}

#[tokio::test]
async fn an_empty_registry_names_the_registration_step() {
    let error = Registry::empty()
        .create(&ConnectorConfig::default())
        .await
        .err()
        .unwrap();
    if cfg!(feature = "tmux") {
        assert!(matches!(error, Error::NotRegistered { .. }), "{error}");
    } else {
        assert!(
            matches!(
                error,
                Error::NotCompiledIn {
                    feature: "tmux",
                    ..
                }
            ),
            "{error}"
        );
    }
}

/// With `--no-default-features`, asking for tmux names the feature to enable.
#[cfg(not(feature = "tmux"))]
#[tokio::test]
async fn a_kind_not_compiled_in_names_its_feature() {
    let error = Registry::new()
        .create(&ConnectorConfig::default())
        .await
        .err()
        .unwrap();
    insta::assert_snapshot!(error.to_string(), @"connector kind `tmux` is not compiled in: enable the `tmux` feature of connector-registry (e.g. `cargo add connector-registry --features tmux`, or build the connector CLI with `--features tmux`)");
}

#[tokio::test]
async fn invalid_configs_are_refused_before_any_factory_runs() {
    let mut config = ConnectorConfig::new(ConnectorKind::new("Bad Kind"));
    config.allow_any_sender = true;
    let error = Registry::new().create(&config).await.err().unwrap();
    assert!(error.to_string().starts_with("connector.kind:"), "{error}");
}

fn refuse(_: &ConnectorConfig, _: &dyn Environment) -> ConnectorFuture {
    Box::pin(async {
        Err(connector_core::Error::Unauthorized {
            kind: "my-guarded".to_owned(),
            reason: "token rejected".to_owned(),
        })
    })
}

fn probe_setup(config: &ConnectorConfig, _: &dyn Environment) -> DiagnosisFuture {
    let capacity = config.queue_capacity();
    Box::pin(async move {
        vec![
            Probe::pass("reachable", format!("queue {capacity}")),
            Probe::fail("token accepted", "401").with_fix("set MY_TOKEN"),
        ]
    })
}

#[tokio::test]
async fn a_backend_can_be_diagnosed_without_being_built() {
    let mut registry = Registry::empty();
    registry
        .register(ConnectorDescriptor {
            kind: "my-guarded",
            secrets: &[],
            create: refuse,
            diagnose_setup: Some(probe_setup),
        })
        .unwrap();
    let config = config("connector: {kind: my-guarded, allow_any_sender: true, queue_capacity: 3}");
    let env: HashMap<String, String> = HashMap::new();
    assert!(registry.create_with_env(&config, &env).await.is_err());
    let probes = registry
        .diagnose_setup_with_env(&config, &env)
        .await
        .expect("the descriptor offers a setup diagnosis");
    assert_eq!(probes[0].detail.as_deref(), Some("queue 3"));
    assert!(probes[1].failed());
    assert_eq!(probes[1].fix.as_deref(), Some("set MY_TOKEN"));

    // A kind registered by factory alone, or not at all, has none.
    registry
        .register_fn("my-echo", |_, _| unreachable!())
        .unwrap();
    let echo = self::config("connector: {kind: my-echo, allow_any_sender: true}");
    assert!(
        registry
            .diagnose_setup_with_env(&echo, &env)
            .await
            .is_none()
    );
    let irc = self::config("connector: {kind: irc}");
    assert!(registry.diagnose_setup_with_env(&irc, &env).await.is_none());
}

#[test]
fn secrets_come_from_the_descriptor_or_cores_table_of_kinds() {
    let mut registry = Registry::empty();
    // Not registered (nor, maybe, compiled in): core's table still names what the kind needs.
    assert_eq!(registry.secrets_of("matrix"), ["MATRIX_ACCESS_TOKEN"]);
    assert_eq!(registry.secrets_of("discord"), ["DISCORD_BOT_TOKEN"]);
    assert!(registry.secrets_of("tmux").is_empty());
    assert!(registry.secrets_of("irc").is_empty());
    registry
        .register(ConnectorDescriptor {
            kind: "my-guarded",
            secrets: &["MY_GUARDED_TOKEN"],
            create: refuse,
            diagnose_setup: None,
        })
        .unwrap();
    assert_eq!(registry.secrets_of("my-guarded"), ["MY_GUARDED_TOKEN"]);
    // The backends compiled in declare the same secrets as the table.
    let compiled = Registry::new();
    for known in connector_registry::KNOWN_KINDS {
        assert_eq!(
            compiled.secrets_of(known.kind),
            known.secrets,
            "{}",
            known.kind
        );
    }
}
