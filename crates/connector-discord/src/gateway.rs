//! The gateway connection: serenity's client on a thread of its own, forwarding events in order.
//!
//! serenity spawns one task per event it dispatches. On a multi-threaded runtime those tasks
//! may run in any order, so the client gets a current-thread runtime of its own, where spawned
//! tasks start in the order they were spawned; each handler call only pushes its event into an
//! unbounded channel, which the connector's pump (`crate::pump`) reads in that order. The pump
//! runs on the same thread ([`Gateway::spawn`]), so an event reaches it without waking
//! another thread.
//!
//! The handler is registered before the client connects, so the connector is never online
//! without listening. Resume after a dropped socket, op 7 Reconnect and op 9 Invalid Session
//! are serenity's; the pump backfills over REST after every READY (a new session may have
//! missed messages) and drops repeats by message id.

use std::thread::JoinHandle;
use std::time::Duration;

use async_trait::async_trait;
use connector_core::config::secrets::{ExposeSecret, SecretString};
use connector_core::{Error, Result};
use serenity::all::{
    ComponentInteraction, ConnectionStage, Context, EventHandler, GatewayIntents, GuildChannel,
    Interaction, Message, Reaction, Ready, ResumedEvent, ShardStageUpdateEvent,
};
use serenity::client::ClientBuilder;
use serenity::gateway::GatewayError;
use serenity::http::HttpBuilder;
use serenity::model::guild::Guild;
use tokio::sync::{mpsc, oneshot, watch};

use crate::KIND;
use crate::settings::DiscordSettings;

/// What the connector asks the gateway for.
pub(crate) fn intents() -> GatewayIntents {
    GatewayIntents::GUILDS
        | GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::MESSAGE_CONTENT
        | GatewayIntents::GUILD_MESSAGE_REACTIONS
}

/// The health detail when Discord refuses the Message Content intent.
pub(crate) const MESSAGE_CONTENT_HINT: &str = "Discord withholds message content: enable Message \
     Content Intent in the Developer Portal → Bot (Privileged Gateway Intents)";

/// An event the pump acts on, in gateway order.
#[derive(Debug)]
pub(crate) enum GatewayEvent {
    /// A session began (READY): the pump backfills what it may have missed.
    Ready,
    /// MESSAGE_CREATE.
    Message(Box<Message>),
    /// MESSAGE_REACTION_ADD.
    Reaction(Box<Reaction>),
    /// MESSAGE_REACTION_REMOVE.
    ReactionRemoved(Box<Reaction>),
    /// THREAD_CREATE, or a thread listed in GUILD_CREATE: `(thread, parent)`.
    Thread(u64, Option<u64>),
}

/// The state of the gateway connection, for `open`, health and diagnose.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct GatewayState {
    /// A session is established and events flow.
    pub(crate) connected: bool,
    /// A READY was ever received.
    pub(crate) ever_ready: bool,
    /// Why the client stopped for good, if it did.
    pub(crate) fatal: Option<String>,
}

/// The running gateway client; stopping it (or dropping this) ends its thread.
#[derive(Debug)]
pub(crate) struct Gateway {
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    /// The gateway thread's runtime, for the pump: events reach it without crossing threads.
    runtime: Option<tokio::runtime::Handle>,
}

impl Gateway {
    /// Starts the client with `settings`' API base, sending events to `events` and its state to
    /// `state`.
    pub(crate) fn start(
        settings: &DiscordSettings,
        token: &SecretString,
        events: mpsc::UnboundedSender<GatewayEvent>,
        clicks: mpsc::UnboundedSender<Box<ComponentInteraction>>,
        state: watch::Sender<GatewayState>,
    ) -> Result<Self> {
        let token = token.expose_secret().to_owned();
        let proxy = settings
            .base_url_overridden
            .then(|| settings.base_url.clone());
        let (shutdown, shutdown_rx) = oneshot::channel();
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("discord-gateway".into())
            .spawn(move || run(token, proxy, events, clicks, state, shutdown_rx, handle_tx))
            .map_err(|e| Error::backend(KIND, "cannot start the gateway thread", e))?;
        Ok(Self {
            shutdown: Some(shutdown),
            thread: Some(thread),
            runtime: handle_rx.recv().ok(),
        })
    }

    /// Runs `task` on the gateway thread (on the caller's runtime if that thread has none), so
    /// the events it reads are handed over within one thread. The task ends when the gateway
    /// stops.
    pub(crate) fn spawn<F>(&self, task: F) -> tokio::task::JoinHandle<()>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        match &self.runtime {
            Some(runtime) => runtime.spawn(task),
            None => tokio::spawn(task),
        }
    }

    /// Stops the client and waits for its thread (briefly: serenity closes the socket).
    pub(crate) async fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

fn run(
    token: String,
    proxy: Option<String>,
    events: mpsc::UnboundedSender<GatewayEvent>,
    clicks: mpsc::UnboundedSender<Box<ComponentInteraction>>,
    state: watch::Sender<GatewayState>,
    shutdown: oneshot::Receiver<()>,
    handle: std::sync::mpsc::Sender<tokio::runtime::Handle>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            state.send_modify(|s| s.fatal = Some(format!("cannot start the gateway runtime: {e}")));
            return;
        }
    };
    let _ = handle.send(runtime.handle().clone());
    runtime.block_on(async move {
        let mut shutdown = shutdown;
        let mut failures: u32 = 0;
        loop {
            let mut http = HttpBuilder::new(&token).ratelimiter_disabled(true);
            if let Some(proxy) = &proxy {
                http = http.proxy(proxy.clone());
            }
            let handler = Handler {
                events: events.clone(),
                clicks: clicks.clone(),
                state: state.clone(),
            };
            let result = match ClientBuilder::new_with_http(http.build(), intents())
                .event_handler(handler)
                .await
            {
                Ok(mut client) => {
                    let manager = client.shard_manager.clone();
                    let watcher = tokio::spawn(watch_stage(manager.clone(), state.clone()));
                    let result = tokio::select! {
                        result = client.start() => result,
                        _ = &mut shutdown => {
                            watcher.abort();
                            manager.shutdown_all().await;
                            return;
                        }
                    };
                    watcher.abort();
                    result
                }
                Err(e) => Err(e),
            };
            state.send_modify(|s| s.connected = false);
            match result {
                Err(e) if is_fatal(&e) => {
                    let reason = describe(&e);
                    tracing::error!(%reason, "discord gateway refused the connector");
                    state.send_modify(|s| s.fatal = Some(reason));
                    // The pump lives on this runtime too: keep it until the connector closes.
                    let _ = (&mut shutdown).await;
                    return;
                }
                other => {
                    // serenity gave up reconnecting: start a fresh client (it identifies anew,
                    // and the pump backfills after its READY).
                    failures = failures.saturating_add(1);
                    let pause = RESTART_PAUSE.saturating_mul(failures.min(30));
                    tracing::warn!(result = ?other.err().map(|e| describe(&e)), ?pause,
                        "discord gateway client stopped; restarting it");
                    tokio::select! {
                        () = tokio::time::sleep(pause) => {}
                        _ = &mut shutdown => return,
                    }
                }
            }
        }
    });
    runtime.shutdown_background();
}

/// How often the shard's connection stage is looked at.
const STAGE_POLL: Duration = Duration::from_millis(250);

/// Keeps `connected` in step with the shard runner's stage. serenity replaces a runner whose
/// socket died and reports no stage change while it cannot reconnect, so the event handler
/// alone would show a dead gateway as connected.
async fn watch_stage(
    manager: std::sync::Arc<serenity::gateway::ShardManager>,
    state: watch::Sender<GatewayState>,
) {
    loop {
        tokio::time::sleep(STAGE_POLL).await;
        let connected = manager
            .runners
            .lock()
            .await
            .values()
            .any(|runner| runner.stage == ConnectionStage::Connected);
        state.send_if_modified(|s| {
            let changed = s.connected != connected && (connected || s.ever_ready);
            if changed {
                s.connected = connected;
            }
            changed
        });
    }
}

/// The first pause before a stopped gateway client is started again (it grows linearly).
const RESTART_PAUSE: Duration = Duration::from_secs(1);

/// Whether the gateway refused us for a reason reconnecting cannot fix.
fn is_fatal(error: &serenity::Error) -> bool {
    matches!(
        error,
        serenity::Error::Gateway(
            GatewayError::DisallowedGatewayIntents
                | GatewayError::InvalidGatewayIntents
                | GatewayError::InvalidAuthentication
        )
    )
}

/// A gateway failure in words an operator can act on.
fn describe(error: &serenity::Error) -> String {
    match error {
        serenity::Error::Gateway(GatewayError::DisallowedGatewayIntents) => {
            MESSAGE_CONTENT_HINT.to_owned()
        }
        serenity::Error::Gateway(GatewayError::InvalidAuthentication) => {
            "the gateway rejected the bot token (close 4004)".to_owned()
        }
        other => format!("gateway: {other}"),
    }
}

/// Forwards the events the connector needs, in order, and tracks the connection.
struct Handler {
    events: mpsc::UnboundedSender<GatewayEvent>,
    /// Button clicks, handled apart from the pump (see `interactions`).
    clicks: mpsc::UnboundedSender<Box<ComponentInteraction>>,
    state: watch::Sender<GatewayState>,
}

#[async_trait]
impl EventHandler for Handler {
    async fn ready(&self, _ctx: Context, _ready: Ready) {
        self.state.send_modify(|s| {
            s.connected = true;
            s.ever_ready = true;
        });
        let _ = self.events.send(GatewayEvent::Ready);
    }

    async fn resume(&self, _ctx: Context, _event: ResumedEvent) {
        self.state.send_modify(|s| s.connected = true);
    }

    async fn shard_stage_update(&self, _ctx: Context, event: ShardStageUpdateEvent) {
        let connected = event.new == ConnectionStage::Connected;
        self.state.send_modify(|s| s.connected = connected);
    }

    async fn guild_create(&self, _ctx: Context, guild: Guild, _is_new: Option<bool>) {
        for thread in guild.threads {
            let parent = thread.parent_id.map(|p| p.get());
            let _ = self
                .events
                .send(GatewayEvent::Thread(thread.id.get(), parent));
        }
    }

    async fn thread_create(&self, _ctx: Context, thread: GuildChannel) {
        let parent = thread.parent_id.map(|p| p.get());
        let _ = self
            .events
            .send(GatewayEvent::Thread(thread.id.get(), parent));
    }

    async fn message(&self, _ctx: Context, message: Message) {
        let _ = self.events.send(GatewayEvent::Message(Box::new(message)));
    }

    async fn interaction_create(&self, _ctx: Context, interaction: Interaction) {
        if let Interaction::Component(click) = interaction {
            let _ = self.clicks.send(Box::new(click));
        }
    }

    async fn reaction_add(&self, _ctx: Context, reaction: Reaction) {
        let _ = self.events.send(GatewayEvent::Reaction(Box::new(reaction)));
    }

    async fn reaction_remove(&self, _ctx: Context, reaction: Reaction) {
        let _ = self
            .events
            .send(GatewayEvent::ReactionRemoved(Box::new(reaction)));
    }
}
