//! Round-trip benchmark: the Slack connector against a raw `chat.postMessage` POST and a raw
//! Socket Mode reader on the same Slack emulator, same run.
//!
//! `cargo xtask bench slack` runs it and writes its section of `docs/benchmarks.md`; by hand:
//! `cargo bench -p connector-slack --bench roundtrip -- [--quick] [--write <path>]` (a relative
//! `--write` path is taken from the workspace root).
//!
//! It starts one `slack-emulator` in-process (rate limits off: both paths would wait alike) and
//! measures, in one run:
//!
//! * **idle RSS**: `VmRSS` of this process before `SlackConnector::open`, and after open,
//!   `subscribe` and a few idle seconds (Socket Mode connected);
//! * **send**: the connector's `send` against a raw `POST /api/chat.postMessage` made with
//!   reqwest — same channel, bot token and text length, both connection pools warmed, samples
//!   interleaved;
//! * **inbound**: the operator's message is posted in the emulator (`post_as`) → it is on the
//!   connector's subscription, against → a plain tokio-tungstenite Socket Mode client
//!   (`apps.connections.open`, `hello`, acking each envelope) has parsed it and handed its text
//!   to the consumer through a channel. Slack hands each envelope to one of an app's open
//!   connections, so the two cannot both listen: the samples alternate in blocks, the
//!   connector open during its blocks and closed during the raw reader's. Before each sample a
//!   settling message reaches the listener and [`SETTLE`] passes, so it is idle;
//! * **burst**: N operator messages stored back to back; each path must deliver all N, exactly
//!   once and in order; msgs/s = N ÷ (first post → last delivery).
//!
//! p50 and p99 are nearest-rank percentiles of per-message latencies (monotonic clock), with
//! failures counted at the time they gave up. Compare the ratios of one run.

// A benchmark reports to a person at a terminal: printing is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bench_support::listening::{Listener, Samples, burst, inbound_block};
use bench_support::paired::{Plan, Results, Run};
use bench_support::{Machine, Measured, Options, Rss, kib, ms, ratio};
use connector_core::config::secrets::{SLACK_APP_TOKEN, SLACK_BOT_TOKEN};
use connector_core::{ConnectorConfig, OrchestratorConnector, OutboundMessage, Subscription};
use connector_slack::{SLACK_API_BASE_URL, SlackConnector};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use slack_emulator::{Config, Emulator, UserHandle};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as Frame;

/// How long one message may take before it counts as failed.
const GIVE_UP: Duration = Duration::from_secs(10);

/// This bench's section of the report.
const SECTION: &str = "slack";

/// The pause after the settling message has arrived, so that the listener is idle (the
/// connector's position saved) when a sample is posted.
const SETTLE: Duration = Duration::from_millis(30);

/// Inbound samples come in this many alternating blocks per path.
const BLOCKS: usize = 3;

/// The `--help` text.
fn usage() -> String {
    bench_support::usage(
        "Slack connector vs a raw chat.postMessage POST and a raw Socket Mode reader on the \
         same emulator",
        "connector-slack",
        "a few seconds",
        "Slack",
        "",
    )
}

fn main() -> ExitCode {
    bench_support::run_main(&usage(), run)
}

fn run(options: &Options) -> Result<(), String> {
    bench_support::paired::run(
        options,
        Plan::emulated(options.quick),
        SECTION,
        measure,
        markdown,
    )
}

/// The emulator's side: the operator, the channel, and posting as them.
struct World {
    emulator: Emulator,
    operator: UserHandle,
}

impl World {
    /// Posts the operator's message (an envelope for the app); answers when the post began.
    fn post(&self, text: &str) -> Result<Instant, String> {
        let started = Instant::now();
        self.emulator
            .post_as(&self.operator, self.emulator.channel_id(), text, None)
            .map_err(|e| format!("operator post: {e}"))?;
        Ok(started)
    }
}

/// The connector, open and subscribed, or not (while the raw loop polls).
struct Listening {
    connector: SlackConnector,
    subscription: Subscription,
}

async fn open(world: &World, state_dir: &Path) -> Result<Listening, String> {
    let config = roster(world, state_dir)?;
    let env = HashMap::from([
        (
            SLACK_BOT_TOKEN.to_owned(),
            world.emulator.bot_token().to_owned(),
        ),
        (
            SLACK_APP_TOKEN.to_owned(),
            world.emulator.app_token().to_owned(),
        ),
        (SLACK_API_BASE_URL.to_owned(), world.emulator.api_url()),
    ]);
    let connector = SlackConnector::open(&config, &env)
        .await
        .map_err(|e| format!("opening the connector: {e}"))?;
    let subscription = connector
        .subscribe()
        .await
        .map_err(|e| format!("subscribe: {e}"))?;
    Ok(Listening {
        connector,
        subscription,
    })
}

async fn close(listening: Listening) -> Result<(), String> {
    drop(listening.subscription);
    listening
        .connector
        .close()
        .await
        .map_err(|e| format!("close: {e}"))
}

async fn measure(plan: Plan) -> Result<(Machine, Results), String> {
    let emulator = Emulator::start(Config::default()).map_err(|e| format!("the emulator: {e}"))?;
    let operator = emulator.add_user("operator");
    let world = World { emulator, operator };
    let machine = Machine::describe("slack-emulator in-process");
    println!("roundtrip: {}", machine.summary());
    let state = tempfile::tempdir().map_err(|e| format!("a temporary state directory: {e}"))?;

    // The connector brings reqwest with rustls but no crypto provider of its own choosing
    // (it hands reqwest its own config); a plain client in the same process needs one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| format!("the HTTP client: {e}"))?;
    let raw = RawBot {
        http,
        api: world.emulator.api_url(),
        bot_token: world.emulator.bot_token().to_owned(),
        app_token: world.emulator.app_token().to_owned(),
        channel: world.emulator.channel_id().to_owned(),
    };
    raw.call("auth.test", &raw.bot_token, &json!({})).await?;

    // Idle RSS: everything else is set up; the difference is the connector's.
    let before = Rss::read()?;
    let mut listening = open(&world, state.path()).await?;
    tokio::time::sleep(plan.idle).await;
    let after = Rss::read()?;
    let rss = Rss::increment(before, after);
    println!(
        "idle RSS: {} before, {} after (+{})",
        kib(before.vm),
        kib(after.vm),
        kib(rss.vm)
    );

    let (send_connector, send_raw) = sends(&listening.connector, &raw, plan).await?;
    println!(
        "send p50: connector {}, raw {}",
        ms(send_connector.p50()),
        ms(send_raw.p50())
    );

    let mut inbound_connector = Measured::new(plan.inbound);
    let mut inbound_raw = Measured::new(plan.inbound);
    let post = |text: &str| world.post(text);
    let block = plan.inbound.div_ceil(BLOCKS);
    for round in 0..BLOCKS {
        let samples = Samples {
            warmup: if round == 0 { plan.warmup } else { 0 },
            n: block.min(plan.inbound - round * block),
            give_up: GIVE_UP,
            settle: SETTLE,
        };
        let tag = format!("c{round}");
        inbound_block(
            &mut listening.subscription,
            &post,
            &tag,
            samples,
            &mut inbound_connector,
        )
        .await?;
        close(listening).await?;
        let mut reader = RawSocket::start(&raw).await?;
        inbound_block(
            &mut reader,
            &post,
            &format!("r{round}"),
            samples,
            &mut inbound_raw,
        )
        .await?;
        if round + 1 < BLOCKS {
            reader.stop().await;
            listening = open(&world, state.path()).await?;
            continue;
        }
        let burst_raw = burst(&mut reader, &post, "br", plan.burst, GIVE_UP * 3).await?;
        reader.stop().await;
        listening = open(&world, state.path()).await?;
        let burst_connector = burst(
            &mut listening.subscription,
            &post,
            "bc",
            plan.burst,
            GIVE_UP * 3,
        )
        .await?;
        println!(
            "inbound p50: connector {}, raw {}",
            ms(inbound_connector.p50()),
            ms(inbound_raw.p50())
        );
        println!(
            "burst: connector {:.0} msgs/s, raw {:.0} msgs/s",
            burst_connector.per_second(),
            burst_raw.per_second()
        );
        close(listening).await?;
        return Ok((
            machine,
            Results {
                rss,
                send_connector,
                send_raw,
                inbound_connector,
                inbound_raw,
                burst_connector,
                burst_raw,
            },
        ));
    }
    Err("no inbound block ran".to_owned())
}

/// The bot's roster, as a deployment would write it.
fn roster(world: &World, state_dir: &Path) -> Result<ConnectorConfig, String> {
    let yaml = format!(
        "connector:\n  kind: slack\n  allowed_senders: ['{}']\n  slack:\n    \
         channel_id: {}\n    state_dir: '{}'\n",
        world.operator.id,
        world.emulator.channel_id(),
        state_dir.display()
    );
    ConnectorConfig::from_roster_str(&yaml).map_err(|e| format!("roster: {e}"))
}

// ----------------------------------------------------------------------------------------------
// Sending.

/// The raw Web API side: reqwest, JSON bodies, bearer tokens.
struct RawBot {
    http: reqwest::Client,
    api: String,
    bot_token: String,
    app_token: String,
    channel: String,
}

impl RawBot {
    /// Calls `method` with `token` and a JSON body; answers the whole answer if `ok`.
    async fn call(&self, method: &str, token: &str, body: &Value) -> Result<Value, String> {
        let answer = self
            .http
            .post(format!("{}/{method}", self.api.trim_end_matches('/')))
            .bearer_auth(token)
            .header("Content-Type", "application/json; charset=utf-8")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| format!("raw {method}: {e}"))?;
        let value: Value = answer
            .json()
            .await
            .map_err(|e| format!("raw {method}: {e}"))?;
        if value["ok"] == true {
            Ok(value)
        } else {
            Err(format!("raw {method}: {value}"))
        }
    }

    /// Posts `text` to the channel; answers the message's `ts`.
    async fn send(&self, text: &str) -> Result<String, String> {
        let body = json!({ "channel": self.channel, "text": text });
        let answer = self
            .call("chat.postMessage", &self.bot_token, &body)
            .await?;
        answer["ts"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("raw send: no ts in {answer}"))
    }
}

/// N sends through each path, interleaved; every send must answer a message id, all distinct.
async fn sends(
    connector: &SlackConnector,
    raw: &RawBot,
    plan: Plan,
) -> Result<(Measured, Measured), String> {
    for i in 0..plan.warmup {
        connector
            .send(OutboundMessage::new(format!("send-c-warm-{i:06}")))
            .await
            .map_err(|e| format!("warm-up send: {e}"))?;
        raw.send(&format!("send-r-warm-{i:06}")).await?;
    }
    let mut via_connector = Measured::new(plan.sends);
    let mut via_raw = Measured::new(plan.sends);
    let mut ids = std::collections::HashSet::new();
    for i in 0..plan.sends {
        // Same length of text on both paths.
        let message = OutboundMessage::new(format!("send-c-{i:06}"));
        let sent = Instant::now();
        let receipt = connector.send(message).await;
        via_connector.latencies.push(sent.elapsed());
        if let Ok(receipt) = receipt
            && receipt.confirmed
            && let [id] = receipt.message_ids.as_slice()
            && ids.insert(id.as_str().to_owned())
        {
            via_connector.ok += 1;
        }

        let sent = Instant::now();
        let answer = raw.send(&format!("send-r-{i:06}")).await;
        via_raw.latencies.push(sent.elapsed());
        if answer.is_ok_and(|id| ids.insert(id)) {
            via_raw.ok += 1;
        }
    }
    Ok((via_connector, via_raw))
}

// ----------------------------------------------------------------------------------------------
// Inbound.

/// A plain Socket Mode client: `apps.connections.open`, `hello`, then every envelope acked by
/// its `envelope_id`; hands the text of every `message` event to the consumer through a
/// channel, as an app's own reader task would.
struct RawSocket {
    texts: mpsc::UnboundedReceiver<String>,
    task: tokio::task::JoinHandle<()>,
}

impl RawSocket {
    async fn start(bot: &RawBot) -> Result<Self, String> {
        let opened = bot
            .call("apps.connections.open", &bot.app_token, &json!({}))
            .await?;
        let url = opened["url"]
            .as_str()
            .ok_or_else(|| format!("raw apps.connections.open: no url in {opened}"))?;
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .map_err(|e| format!("raw socket: {e}"))?;
        let (mut sink, mut stream) = ws.split();
        loop {
            match tokio::time::timeout(GIVE_UP, stream.next()).await {
                Ok(Some(Ok(Frame::Text(text)))) => {
                    let frame: Value =
                        serde_json::from_str(&text).map_err(|e| format!("raw socket: {e}"))?;
                    if frame["type"] == "hello" {
                        break;
                    }
                }
                Ok(Some(Ok(_))) => {}
                other => return Err(format!("raw socket closed before hello: {other:?}")),
            }
        }
        let (tx, texts) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            while let Some(Ok(frame)) = stream.next().await {
                let Frame::Text(text) = frame else { continue };
                let Ok(envelope) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                if let Some(id) = envelope["envelope_id"].as_str() {
                    let ack = json!({ "envelope_id": id }).to_string();
                    if sink.send(Frame::text(ack)).await.is_err() {
                        return;
                    }
                }
                let event = &envelope["payload"]["event"];
                if event["type"] == "message"
                    && event["subtype"].is_null()
                    && let Some(text) = event["text"].as_str()
                {
                    let _ = tx.send(text.to_owned());
                }
            }
        });
        Ok(Self { texts, task })
    }

    /// Closes the connection (the emulator then hands envelopes to the other one).
    async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// The raw path, as a listener.
impl Listener for RawSocket {
    async fn next(&mut self, deadline: tokio::time::Instant) -> Option<String> {
        tokio::time::timeout_at(deadline, self.texts.recv())
            .await
            .ok()
            .flatten()
    }

    fn drain(&mut self) {
        while self.texts.try_recv().is_ok() {}
    }
}

// ----------------------------------------------------------------------------------------------
// Figures and the report.

/// The report's section: the table, the targets and how to read the figures.
fn markdown(run: &Run) -> String {
    let r = &run.results;
    let mut md = run.machine.heading(
        "Slack",
        "crates/connector-slack/benches/roundtrip.rs",
        Some(run.wall),
        run.quick,
    );
    let _ = writeln!(
        md,
        "The Slack connector (its own reqwest calls to the Web API, a tokio-tungstenite \
             Socket Mode connection) against the same work done plainly, on one \
             `slack-emulator` running in the bench's process (rate limits off), in one run. \
             **Send**: `OrchestratorConnector::send` vs a raw reqwest \
             `POST /api/chat.postMessage` (same token, channel and text length), {n} each, \
             interleaved, both connection pools warmed. **Inbound**: the emulator posts the \
             operator's message → it is on the connector's subscription, vs → a plain \
             tokio-tungstenite Socket Mode client (`apps.connections.open`, `hello`, an ack per \
             envelope) has parsed it and handed its text to the consumer through a channel; {m} \
             each. Slack hands each envelope to one of an app's connections, so the inbound \
             samples alternate in {blocks} blocks per path, the connector closed while the raw \
             reader listens. **Burst**: {b} messages posted back to back; msgs/s = delivered ÷ \
             (first post → last delivery). Warm-up: {w} per path, not counted. Ratio = \
             connector ÷ raw (for msgs/s, raw ÷ connector), so below 1 the connector is the \
             faster.\n",
        n = run.plan.sends,
        m = run.plan.inbound,
        b = run.plan.burst,
        w = run.plan.warmup,
        blocks = BLOCKS,
    );
    md.push_str(&r.table("raw"));
    let (bc, br) = (&r.burst_connector, &r.burst_raw);
    let _ = writeln!(
        md,
        "| … the emulator posting meanwhile, msgs/s | {:.0} | {:.0} | | |",
        bc.posted_per_second(),
        br.posted_per_second(),
    );
    md.push_str(&r.idle_memory("Socket Mode connected", run.plan.idle));
    md.push_str(&r.targets("a raw chat.postMessage POST", "a raw Socket Mode reader"));
    md.push('\n');
    md.push_str(&interpretation(run));
    md
}

/// How to read the figures of `run`.
fn interpretation(run: &Run) -> String {
    let r = &run.results;
    let send = ratio(r.send_connector.p50(), r.send_raw.p50());
    let extra = (r.send_connector.p50().as_secs_f64() - r.send_raw.p50().as_secs_f64()) * 1e6;
    let mut md = String::from("### Reading the figures\n\n");
    let _ = writeln!(
        md,
        "- **Send**: both paths are one HTTP request to the emulator on 127.0.0.1. The \
             connector adds `check_outbound`, converting the Markdown to escaped `mrkdwn` and \
             splitting it, its JSON body with the message's key in `metadata` (so a lost answer \
             can be checked in the channel instead of resent), `RetryPolicy`, and the \
             sent-message book: the key and the message's `ts` written to `slack-sent.json` (a \
             file renamed into place) before `send` returns, so the same message sent again, \
             even after a restart, is not posted twice. That write is most of the \
             {extra:+.0} µs at p50 in this run ({send:.2}×); against Slack over the internet \
             (tens of milliseconds a call) it is lost in the round trip."
    );
    let _ = writeln!(
        md,
        "- **Inbound**: both receive the same envelope over a WebSocket. The raw reader acks \
             it at once, parses it into a `serde_json::Value` and sends the text over a channel; \
             the connector parses it, checks the event id against its dedupe book, applies the \
             allow-list and hands the message to the inbox before it acks: {} vs {} at p50.",
        ms(r.inbound_connector.p50()),
        ms(r.inbound_raw.p50()),
    );
    let (bc, br) = (&r.burst_connector, &r.burst_raw);
    let _ = writeln!(
        md,
        "- **Burst**: the last message arrived {} (connector) and {} (raw) after the last \
             post returned. For each envelope the connector records the event id in its dedupe \
             book and its position on disk before it acks, so that neither a redelivery nor a \
             restart delivers a message twice; those writes are its cost per message in a \
             burst.",
        ms(bc.lag()),
        ms(br.lag()),
    );
    let _ = writeln!(
        md,
        "- **Memory**: the increment is the connector's reqwest client, its socket task, inbox \
             and state, plus the emulator's state for the extra traffic; much of it is code \
             paged in on first use (`RssAnon` is the heap)."
    );
    let _ = writeln!(
        md,
        "- Absolute times on this {}-core machine, shared by the bench, the emulator and the \
             connector, are noisy from run to run; the ratios of one run are the figures to \
             compare. A p99 of {} samples is set by the three slowest, so p50 is the figure for \
             the connector's own cost.",
        run.machine.cores, run.plan.inbound
    );
    md
}
