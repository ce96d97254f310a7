//! Round-trip benchmark: the tmux connector against one `tmux` process per operation, same run.
//!
//! `cargo xtask bench` runs it and writes its section of `docs/benchmarks.md`; by hand:
//! `cargo bench -p connector-tmux --bench roundtrip -- [--quick] [--write <path>]`
//! (a relative `--write` path is taken from the workspace root, not from the crate folder
//! cargo runs benches in). Run without cargo's `--bench` flag (`cargo test --benches`) it
//! does a `--quick` smoke run.
//!
//! Everything happens on a private tmux server (`tmux -L <unique> -f /dev/null`, killed when
//! the bench ends, panics included) with two panes: `cat` (shows what is typed into it) and
//! `cat <fifo>` (prints whatever the bench writes into the FIFO). For each path it sends N
//! messages one after another, each with a unique sequence number, and measures:
//!
//! * **outbound** (send → seen in the pane): the connector's `send` returns once its text is
//!   seen in the pane's output, so its latency is the call; the baseline runs
//!   `tmux send-keys -l -- text`, `tmux send-keys Enter`, then `tmux capture-pane -p` (one
//!   process each, polled without pause) until the text shows.
//! * **inbound** (printed in the pane → delivered): a line is written to the FIFO; the connector's
//!   latency ends when the line arrives on its `subscribe()` stream (every line must arrive
//!   exactly once), the baseline's when a `tmux capture-pane -p` poll shows it.
//!
//! Throughput is N over the wall time of the N sequential messages; p50 and p99 are
//! nearest-rank percentiles of the per-message latencies (monotonic clock), failures included
//! at the time they gave up. Absolute numbers are noisy; compare the ratios of one run.

// A benchmark reports to a person at a terminal: printing is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use bench_support::{Machine, Options, ms, percentile};
use connector_core::{OrchestratorConnector, OutboundMessage, SenderPolicy};
use connector_tmux::{Socket, TmuxConnector, TmuxSettings};

/// How long one message may take before it counts as failed.
const GIVE_UP: Duration = Duration::from_secs(2);

/// The session of the two panes; the console connector makes its own.
const SESSION: &str = "bench";
const CONSOLE_SESSION: &str = "bench-console";

/// This bench's section of the report.
const SECTION: &str = "tmux";

/// The `--help` text.
fn usage() -> String {
    bench_support::usage(
        "tmux connector vs one tmux process per operation",
        "connector-tmux",
        "a few seconds",
        "tmux",
        "",
    )
}

fn main() -> ExitCode {
    bench_support::run_main(&usage(), run)
}

/// How many messages each path gets.
#[derive(Clone, Copy)]
struct Plan {
    warmup: usize,
    connector: usize,
    /// The pane path with the default 50 ms `submit_delay`: 20 messages a second at best.
    delayed: usize,
    baseline: usize,
}

impl Plan {
    fn new(quick: bool) -> Self {
        if quick {
            Self {
                warmup: 3,
                connector: 30,
                delayed: 10,
                baseline: 15,
            }
        } else {
            Self {
                warmup: 20,
                connector: 1000,
                delayed: 100,
                baseline: 300,
            }
        }
    }
}

fn run(options: &Options) -> Result<(), String> {
    let plan = Plan::new(options.quick);
    let machine = describe_machine();
    println!(
        "roundtrip: {} mode, {}",
        if options.quick { "quick" } else { "full" },
        machine.summary()
    );

    let server = Server::start()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let mut fifo = server.open_fifo()?;

    let mut results = runtime.block_on(connector_runs(&server, &mut fifo, plan))?;
    // The connectors are closed by now: the baseline runs against a server with no client
    // attached, which is the most favourable setting for it.
    results.push(baseline_outbound(&server, plan)?);
    results.push(baseline_inbound(&server, &mut fifo, plan)?);
    drop(runtime);

    let report = Report {
        machine,
        plan,
        quick: options.quick,
        results,
    };
    bench_support::publish(options, SECTION, &report.markdown())?;
    let failures: usize = report.results.iter().map(|r| r.n - r.ok).sum();
    if failures > 0 {
        return Err(format!(
            "{failures} message(s) were not confirmed or not delivered exactly once"
        ));
    }
    Ok(())
}

// ----------------------------------------------------------------------------------------------
// The connector's paths.

async fn connector_runs(
    server: &Server,
    fifo: &mut File,
    plan: Plan,
) -> Result<Vec<Measured>, String> {
    let mut results = Vec::new();

    let settings = server.pane_settings(&server.echo_pane);
    let default_delay = settings.submit_delay;
    let connector = server.connector(settings).await?;
    results.push(
        connector_outbound(
            &connector,
            format!(
                "connector · pane, `submit_delay` {} ms (default)",
                default_delay.as_millis()
            ),
            "opd",
            plan.warmup.min(5),
            plan.delayed,
        )
        .await,
    );
    drop(connector);

    let mut settings = server.pane_settings(&server.echo_pane);
    settings.submit_delay = Duration::ZERO;
    let connector = server.connector(settings).await?;
    results.push(
        connector_outbound(
            &connector,
            "connector · pane, `submit_delay` 0".to_owned(),
            "op0",
            plan.warmup,
            plan.connector,
        )
        .await,
    );
    drop(connector);

    let mut settings = TmuxSettings::console(CONSOLE_SESSION);
    server.point_at(&mut settings);
    let connector = server.connector(settings).await?;
    results.push(
        connector_outbound(
            &connector,
            "connector · console".to_owned(),
            "oc",
            plan.warmup,
            plan.connector,
        )
        .await,
    );
    drop(connector);

    let connector = server
        .connector(server.pane_settings(&server.printer_pane))
        .await?;
    results.push(connector_inbound(&connector, fifo, plan).await?);
    Ok(results)
}

/// `send` N messages one after another; each must come back `confirmed` (seen in the pane).
///
/// The connector is subscribed (and its stream drained) first: a long-running connector sends
/// through its control client, which is what this measures. One that nobody subscribed to sends
/// through plain tmux clients, a process per command, like a one-shot `connector send`.
async fn connector_outbound(
    connector: &TmuxConnector,
    path: String,
    tag: &str,
    warmup: usize,
    n: usize,
) -> Measured {
    let drain = match connector.subscribe().await {
        Ok(mut inbound) => Some(tokio::spawn(async move {
            while inbound.recv().await.is_some() {}
        })),
        Err(_) => None,
    };
    let measured = connector_sends(connector, path, tag, warmup, n).await;
    if let Some(drain) = drain {
        drain.abort();
    }
    measured
}

async fn connector_sends(
    connector: &TmuxConnector,
    path: String,
    tag: &str,
    warmup: usize,
    n: usize,
) -> Measured {
    for i in 0..warmup {
        let _ = connector
            .send(OutboundMessage::new(format!("{tag}-warm-{i:06}.")))
            .await;
    }
    let mut measured = Measured::new(path, Direction::Outbound, n);
    let started = Instant::now();
    for i in 0..n {
        let message = OutboundMessage::new(format!("{tag}-{i:06}."));
        let sent = Instant::now();
        let receipt = connector.send(message).await;
        measured.latencies.push(sent.elapsed());
        if receipt.is_ok_and(|r| r.confirmed) {
            measured.ok += 1;
        }
    }
    measured.elapsed = started.elapsed();
    measured
}

/// Writes N lines into the printer pane's FIFO; each must arrive on the subscription once.
async fn connector_inbound(
    connector: &TmuxConnector,
    fifo: &mut File,
    plan: Plan,
) -> Result<Measured, String> {
    let mut inbox = connector
        .subscribe()
        .await
        .map_err(|e| format!("subscribe: {e}"))?;
    for i in 0..plan.warmup {
        let line = format!("ic-warm-{i:06}.");
        print_line(fifo, &line)?;
        let deadline = tokio::time::Instant::now() + GIVE_UP;
        while let Ok(Some(message)) = tokio::time::timeout_at(deadline, inbox.recv()).await {
            if message.text == line {
                break;
            }
        }
    }

    let n = plan.connector;
    let mut measured = Measured::new("connector · pane".to_owned(), Direction::Inbound, n);
    let mut arrivals = vec![0_u32; n];
    let mut strays = 0_usize;
    let mut count = |text: &str, arrivals: &mut [u32]| match sequence(text, "ic-") {
        Some(j) if j < n => {
            arrivals[j] += 1;
            Some(j)
        }
        _ => {
            strays += 1;
            None
        }
    };
    let started = Instant::now();
    for i in 0..n {
        let line = format!("ic-{i:06}.");
        let written = Instant::now();
        print_line(fifo, &line)?;
        let deadline = tokio::time::Instant::now() + GIVE_UP;
        loop {
            match tokio::time::timeout_at(deadline, inbox.recv()).await {
                Ok(Some(message)) => {
                    if count(&message.text, &mut arrivals) == Some(i) {
                        break;
                    }
                }
                Ok(None) => return Err("the connector closed its subscription".into()),
                Err(_) => break,
            }
        }
        measured.latencies.push(written.elapsed());
    }
    measured.elapsed = started.elapsed();
    // Anything arriving late, or twice, shows up now.
    let deadline = tokio::time::Instant::now() + Duration::from_millis(300);
    while let Ok(Some(message)) = tokio::time::timeout_at(deadline, inbox.recv()).await {
        count(&message.text, &mut arrivals);
    }
    measured.ok = arrivals.iter().filter(|&&c| c == 1).count();
    if strays > 0 {
        eprintln!("connector inbound: {strays} line(s) that the bench did not print");
        measured.ok = measured.ok.saturating_sub(strays);
    }
    Ok(measured)
}

// ----------------------------------------------------------------------------------------------
// The baseline: one tmux process per operation.

fn baseline_outbound(server: &Server, plan: Plan) -> Result<Measured, String> {
    let pane = server.echo_pane.as_str();
    let send = |text: &str, processes: &mut usize| -> Result<bool, String> {
        server.tmux(&["send-keys", "-t", pane, "-l", "--", text])?;
        server.tmux(&["send-keys", "-t", pane, "Enter"])?;
        *processes += 2;
        poll_screen(server, pane, processes, |line| line.contains(text))
    };
    let mut ignored = 0;
    for i in 0..plan.warmup {
        send(&format!("ob-warm-{i:06}."), &mut ignored)?;
    }
    let n = plan.baseline;
    let mut measured = Measured::new(
        "baseline · one `tmux` per op".to_owned(),
        Direction::Outbound,
        n,
    );
    let started = Instant::now();
    for i in 0..n {
        let text = format!("ob-{i:06}.");
        let sent = Instant::now();
        let seen = send(&text, &mut measured.processes)?;
        measured.latencies.push(sent.elapsed());
        measured.ok += usize::from(seen);
    }
    measured.elapsed = started.elapsed();
    Ok(measured)
}

fn baseline_inbound(server: &Server, fifo: &mut File, plan: Plan) -> Result<Measured, String> {
    let pane = server.printer_pane.as_str();
    let mut ignored = 0;
    for i in 0..plan.warmup {
        let line = format!("ib-warm-{i:06}.");
        print_line(fifo, &line)?;
        poll_screen(server, pane, &mut ignored, |l| l == line)?;
    }
    let n = plan.baseline;
    let mut measured = Measured::new(
        "baseline · one `tmux` per op".to_owned(),
        Direction::Inbound,
        n,
    );
    let started = Instant::now();
    for i in 0..n {
        let line = format!("ib-{i:06}.");
        let written = Instant::now();
        print_line(fifo, &line)?;
        let seen = poll_screen(server, pane, &mut measured.processes, |l| l == line)?;
        measured.latencies.push(written.elapsed());
        measured.ok += usize::from(seen);
    }
    measured.elapsed = started.elapsed();
    Ok(measured)
}

/// Runs `tmux capture-pane -p` (one process each time, no pause between) until a screen line
/// matches, or [`GIVE_UP`] passes.
fn poll_screen(
    server: &Server,
    pane: &str,
    processes: &mut usize,
    matches: impl Fn(&str) -> bool,
) -> Result<bool, String> {
    let started = Instant::now();
    loop {
        let screen = server.tmux(&["capture-pane", "-p", "-t", pane])?;
        *processes += 1;
        if screen.lines().any(|line| matches(line.trim_end())) {
            return Ok(true);
        }
        if started.elapsed() > GIVE_UP {
            return Ok(false);
        }
    }
}

// ----------------------------------------------------------------------------------------------
// The private server and its panes.

/// A tmux server of the bench's own; killed (and its socket removed) on drop, panics included.
struct Server {
    name: String,
    scratch: PathBuf,
    /// Runs `cat`: whatever is typed shows up (the tty's echo, then cat's copy).
    echo_pane: String,
    /// Runs `cat <fifo>`: prints the lines the bench writes.
    printer_pane: String,
}

impl Server {
    fn start() -> Result<Self, String> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!("roundtrip-{}-{nanos}", std::process::id());
        let scratch = std::env::temp_dir().join(&name);
        // The guard exists before anything is started, so a failure half-way cleans up too.
        let mut server = Self {
            name,
            scratch,
            echo_pane: String::new(),
            printer_pane: String::new(),
        };
        std::fs::create_dir_all(&server.scratch)
            .map_err(|e| format!("scratch dir {}: {e}", server.scratch.display()))?;
        let fifo = server.fifo_path();
        let fifo = fifo.to_str().ok_or("temp dir is not UTF-8")?.to_owned();
        run_tool(Command::new("mkfifo").arg(&fifo))?;
        let format = ["-P", "-F", "#{pane_id}"];
        let mut new_session = vec!["new-session", "-d", "-s", SESSION, "-x", "200", "-y", "50"];
        new_session.extend(format);
        new_session.push("cat");
        server.echo_pane = server.tmux(&new_session)?.trim().to_owned();
        let target = format!("{SESSION}:");
        let mut new_window = vec!["new-window", "-d", "-t", target.as_str()];
        new_window.extend(format);
        new_window.extend(["cat", fifo.as_str()]);
        server.printer_pane = server.tmux(&new_window)?.trim().to_owned();
        Ok(server)
    }

    /// Runs `tmux -L name -f /dev/null ARGS` — one process — and returns its stdout.
    fn tmux(&self, args: &[&str]) -> Result<String, String> {
        run_tool(
            Command::new("tmux")
                .args(["-L", &self.name, "-f", "/dev/null"])
                .args(args),
        )
    }

    fn fifo_path(&self) -> PathBuf {
        self.scratch.join("printer.fifo")
    }

    /// The FIFO's write end. Opened read-write so that it never blocks and never reaches EOF
    /// for `cat` while the bench runs (Linux allows this on a FIFO).
    fn open_fifo(&self) -> Result<File, String> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(self.fifo_path())
            .map_err(|e| format!("open FIFO: {e}"))
    }

    fn point_at(&self, settings: &mut TmuxSettings) {
        settings.socket = Socket::Name(self.name.clone());
        settings.config_file = Some("/dev/null".into());
    }

    fn pane_settings(&self, pane: &str) -> TmuxSettings {
        let mut settings = TmuxSettings::pane(pane);
        self.point_at(&mut settings);
        settings
    }

    async fn connector(&self, settings: TmuxSettings) -> Result<TmuxConnector, String> {
        TmuxConnector::with_settings(settings, SenderPolicy::allow_any(), 1024)
            .await
            .map_err(|e| format!("opening the connector: {e}"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
        if let Some(socket) = Socket::Name(self.name.clone()).path() {
            let _ = std::fs::remove_file(socket);
        }
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

/// Writes one line into the printer's FIFO.
fn print_line(fifo: &mut File, line: &str) -> Result<(), String> {
    fifo.write_all(format!("{line}\n").as_bytes())
        .map_err(|e| format!("write FIFO: {e}"))
}

/// The sequence number of a bench line `<prefix><number>.`.
fn sequence(text: &str, prefix: &str) -> Option<usize> {
    text.strip_prefix(prefix)?.strip_suffix('.')?.parse().ok()
}

fn run_tool(command: &mut Command) -> Result<String, String> {
    let out = command
        .output()
        .map_err(|e| format!("could not start {:?}: {e}", command.get_program()))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{:?} {:?} failed: {}",
            command.get_program(),
            command.get_args().collect::<Vec<_>>(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

// ----------------------------------------------------------------------------------------------
// Figures and the report.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Outbound,
    Inbound,
}

impl Direction {
    fn name(self) -> &'static str {
        match self {
            Self::Outbound => "outbound",
            Self::Inbound => "inbound",
        }
    }
}

/// One path's N sequential messages.
struct Measured {
    path: String,
    direction: Direction,
    n: usize,
    /// Confirmed (outbound) or delivered exactly once (inbound).
    ok: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    /// tmux processes started (baseline only).
    processes: usize,
}

impl Measured {
    fn new(path: String, direction: Direction, n: usize) -> Self {
        Self {
            path,
            direction,
            n,
            ok: 0,
            elapsed: Duration::ZERO,
            latencies: Vec::with_capacity(n),
            processes: 0,
        }
    }

    fn is_baseline(&self) -> bool {
        self.path.starts_with("baseline")
    }

    fn per_second(&self) -> f64 {
        self.n as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    fn p50(&self) -> Duration {
        percentile(&self.latencies, 0.50)
    }

    fn p99(&self) -> Duration {
        percentile(&self.latencies, 0.99)
    }
}

struct Report {
    machine: Machine,
    plan: Plan,
    quick: bool,
    results: Vec<Measured>,
}

impl Report {
    fn baseline(&self, direction: Direction) -> Option<&Measured> {
        self.results
            .iter()
            .find(|r| r.is_baseline() && r.direction == direction)
    }

    /// (throughput ratio, p50 ratio) of `run` against the baseline of its direction.
    fn ratios(&self, run: &Measured) -> Option<(f64, f64)> {
        let base = self.baseline(run.direction)?;
        let p50 = run.p50().as_secs_f64().max(f64::EPSILON);
        Some((
            run.per_second() / base.per_second(),
            base.p50().as_secs_f64() / p50,
        ))
    }

    fn find(&self, direction: Direction, path_starts: &str) -> Option<&Measured> {
        self.results
            .iter()
            .find(|r| r.direction == direction && r.path.starts_with(path_starts))
    }

    fn markdown(&self) -> String {
        let mut md = self.machine.heading(
            "tmux",
            "crates/connector-tmux/benches/roundtrip.rs",
            None,
            self.quick,
        );
        let _ = writeln!(
            md,
            "The tmux connector against the same work done with one `tmux` process per operation \
             (`tmux send-keys` / `tmux capture-pane` via `std::process`), on one private tmux \
             server, in one run. N messages are sent one after another, each waiting for the \
             previous; msgs/s = N ÷ wall time; p50/p99 are per-message latencies. **Outbound**: \
             send → text seen in the pane (a pane running `cat`). **Inbound**: line written to a \
             FIFO that the pane's `cat` prints → delivered (connector: on the `subscribe()` \
             stream; baseline: found by a `capture-pane` poll). Ratios compare with the baseline \
             of the same direction: throughput × and how many times lower p50 is. Verified = \
             messages confirmed (outbound) or delivered exactly once (inbound). Warm-up: {} \
             messages per path (5 for the 50 ms path), not counted.\n",
            self.plan.warmup
        );
        let _ = writeln!(
            md,
            "| path | direction | N | msgs/s | p50 | p99 | ratio vs baseline | verified |"
        );
        let _ = writeln!(md, "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: |");
        for direction in [Direction::Outbound, Direction::Inbound] {
            for run in self.results.iter().filter(|r| r.direction == direction) {
                let ratio = match (run.is_baseline(), self.ratios(run)) {
                    (true, _) => "1× (reference)".to_owned(),
                    (false, Some((throughput, p50))) => {
                        format!("{} msgs/s, {}", times(throughput), p50_against(p50))
                    }
                    (false, None) => "—".to_owned(),
                };
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {:.0} | {} | {} | {} | {}/{} |",
                    run.path,
                    direction.name(),
                    run.n,
                    run.per_second(),
                    ms(run.p50()),
                    ms(run.p99()),
                    ratio,
                    run.ok,
                    run.n
                );
            }
        }
        md.push('\n');
        md.push_str(&self.targets());
        md.push('\n');
        md.push_str(&self.interpretation());
        md
    }

    fn targets(&self) -> String {
        let mut md = String::from("### Targets\n\n");
        let verdict = |met: bool| if met { "**met**" } else { "**not met**" };
        for direction in [Direction::Outbound, Direction::Inbound] {
            let parts: Vec<String> = self
                .results
                .iter()
                .filter(|r| r.direction == direction && !r.is_baseline())
                .filter_map(|r| {
                    let (throughput, _) = self.ratios(r)?;
                    Some(format!(
                        "{} for {} ({})",
                        verdict(throughput >= 5.0),
                        r.path,
                        times(throughput)
                    ))
                })
                .collect();
            let _ = writeln!(
                md,
                "- ≥ 5× the baseline's throughput, {}: {}.",
                direction.name(),
                parts.join("; ")
            );
        }
        if let Some(inbound) = self.find(Direction::Inbound, "connector") {
            let p50 = inbound.p50();
            let _ = writeln!(
                md,
                "- Inbound p50 under 5 ms: {} ({}).",
                verdict(p50 < Duration::from_millis(5)),
                ms(p50)
            );
        }
        md
    }

    fn interpretation(&self) -> String {
        let mut md = String::from("### Reading the figures\n\n");
        let per_message =
            |run: Option<&Measured>| run.map_or(0.0, |r| r.processes as f64 / r.n.max(1) as f64);
        let out = self.baseline(Direction::Outbound);
        let inn = self.baseline(Direction::Inbound);
        let process_ms = out.map_or(0.0, |r| {
            r.elapsed.as_secs_f64() * 1000.0 / r.processes.max(1) as f64
        });
        let _ = writeln!(
            md,
            "- **Baseline**: every message costs whole `tmux` processes — {:.1} per outbound \
             message (two `send-keys`, then `capture-pane` polls) and {:.1} per inbound one \
             (polls) — each a fork/exec of the tmux client that connects to the server, runs one \
             command and exits, about {process_ms:.1} ms apiece here. Process start-up and the \
             poll granularity are its latency; the polls run back to back, which is the best \
             this approach can do (any sleep between polls only adds to it).",
            per_message(out),
            per_message(inn),
        );
        let _ = writeln!(
            md,
            "- **Connector, pane, outbound**: three commands on the one persistent control-mode \
             client (`set-buffer`, `paste-buffer`, `send-keys Enter`, each a line on its stdin \
             and a `%begin/%end` reply), then the wait for the text in the pane's `%output` \
             (the tty echoes the paste, so it is usually there by the time Enter is pressed). \
             Between paste and Enter it sleeps `TmuxSettings::submit_delay` (tokio's timer \
             rounds up to the next millisecond, so a zero delay skips the sleep altogether): \
             with the default 50 ms that sleep is nearly the whole latency and caps one pane at \
             20 messages/s, which is why that row is slower than the baseline, whose Enter \
             follows immediately; the like-for-like comparison is the `submit_delay` 0 row."
        );
        let _ = writeln!(
            md,
            "- **Why the default stays 50 ms**: raw-mode agent CLIs take an Enter that arrives \
             right after a paste as part of it (Codex's paste-burst detection swallows an Enter \
             within ~120 ms of fast input; Claude Code debounces pastes), so the message would sit \
             unsubmitted. A program reading through the kernel's line discipline (`cat`, a shell, \
             most REPLs) splits on the Enter whatever the timing, so 0 is safe there — set \
             it per endpoint with `connector.tmux.submit_delay_ms`; the bench's `cat` is such a \
             program."
        );
        let _ = writeln!(
            md,
            "- **Connector, console, outbound**: one `list-panes` round trip for the pane's tty, \
             one write to that tty, then the text seen in `%output`; no submit delay."
        );
        let _ = writeln!(
            md,
            "- **Connector, inbound**: the pane's output reaches us pushed, not polled: tmux \
             reads the pty and writes a `%output` line to the control client's stdout; the \
             connector parses it, strips escapes, assembles the line and hands it through the \
             inbox (dedupe, fan-out) to the subscriber. Its latency is the scheduling of the \
             processes and tasks on the way (bench, `cat`, tmux server, control client, tokio)."
        );
        let _ = writeln!(
            md,
            "- Absolute times on this {}-core machine are noisy from run to run; the ratios, \
             measured against the same server in the same run, are the figures to compare.",
            self.machine.cores
        );
        md
    }
}

/// A ratio as `20.9×`, or `0.05×` when below one.
fn times(ratio: f64) -> String {
    if ratio < 1.0 {
        format!("{ratio:.2}×")
    } else {
        format!("{ratio:.1}×")
    }
}

/// `p50 21.0× lower` (faster than the baseline) or `p50 8.8× higher` (slower).
fn p50_against(baseline_over_run: f64) -> String {
    if baseline_over_run >= 1.0 {
        format!("p50 {baseline_over_run:.1}× lower")
    } else {
        format!(
            "p50 {:.1}× higher",
            1.0 / baseline_over_run.max(f64::EPSILON)
        )
    }
}

/// What the figures were measured on: this machine, with tmux's version.
fn describe_machine() -> Machine {
    let tmux = run_tool(Command::new("tmux").arg("-V"))
        .map(|out| out.trim().to_owned())
        .unwrap_or_else(|_| "tmux: unknown version".to_owned());
    Machine::describe(tmux)
}
