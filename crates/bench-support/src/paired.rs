//! The shape the Matrix, Discord, Telegram and Slack benches share: the connector against a
//! raw client of the same server, for sends, inbound messages and bursts, plus the connector's
//! idle memory; and the runner of the emulator benches.

use std::fmt::Write as _;
use std::future::Future;
use std::time::{Duration, Instant};

use crate::cli::{Options, publish};
use crate::format::{kib, ms};
use crate::machine::Machine;
use crate::memory::Rss;
use crate::stats::{Burst, Measured, ratio};

/// How many samples each part gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Per path, not counted.
    pub warmup: usize,
    /// Sends per path.
    pub sends: usize,
    /// Inbound messages per path.
    pub inbound: usize,
    /// Messages in each burst.
    pub burst: usize,
    /// How long the connector idles before its RSS is read.
    pub idle: Duration,
}

impl Plan {
    /// The plan of the benches against an emulator in the bench's process (Discord, Telegram,
    /// Slack): a few seconds for `quick`, 300 samples a path and a burst of 1000 otherwise.
    pub fn emulated(quick: bool) -> Self {
        if quick {
            Plan {
                warmup: 3,
                sends: 30,
                inbound: 30,
                burst: 100,
                idle: Duration::from_secs(1),
            }
        } else {
            Plan {
                warmup: 20,
                sends: 300,
                inbound: 300,
                burst: 1000,
                idle: Duration::from_secs(3),
            }
        }
    }
}

/// Everything a run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    /// What the idle, listening connector added to the process's memory.
    pub rss: Rss,
    /// Sends through the connector.
    pub send_connector: Measured,
    /// The same sends made raw.
    pub send_raw: Measured,
    /// Inbound messages through the connector.
    pub inbound_connector: Measured,
    /// The same inbound messages read raw.
    pub inbound_raw: Measured,
    /// A burst delivered by the connector.
    pub burst_connector: Burst,
    /// A burst read raw.
    pub burst_raw: Burst,
}

impl Results {
    /// Messages not confirmed, or not delivered exactly once (in order, for bursts), on any path.
    pub fn failures(&self) -> usize {
        [
            &self.send_connector,
            &self.send_raw,
            &self.inbound_connector,
            &self.inbound_raw,
        ]
        .iter()
        .map(|m| m.n - m.ok)
        .sum::<usize>()
            + [&self.burst_connector, &self.burst_raw]
                .iter()
                .map(|b| b.n - b.ok)
                .sum::<usize>()
    }

    /// The table of the figures both paths have: send and inbound p50 and p99, the burst's
    /// msgs/s, with the ratio connector ÷ raw (raw ÷ connector for msgs/s) and what was verified;
    /// `raw` heads the raw path's column. A bench may add rows of its own below it.
    pub fn table(&self, raw: &str) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "| measure | connector | {raw} | ratio | verified |");
        let _ = writeln!(md, "| --- | ---: | ---: | ---: | --- |");
        let rows = [
            ("send p50", &self.send_connector, &self.send_raw, 0.5),
            ("send p99", &self.send_connector, &self.send_raw, 0.99),
            (
                "inbound p50",
                &self.inbound_connector,
                &self.inbound_raw,
                0.5,
            ),
            (
                "inbound p99",
                &self.inbound_connector,
                &self.inbound_raw,
                0.99,
            ),
        ];
        for (name, connector, raw, p) in rows {
            let (c, w) = (connector.percentile(p), raw.percentile(p));
            let _ = writeln!(
                md,
                "| {name} | {} | {} | {:.2} | {}/{} · {}/{} |",
                ms(c),
                ms(w),
                ratio(c, w),
                connector.ok,
                connector.n,
                raw.ok,
                raw.n
            );
        }
        let (bc, br) = (&self.burst_connector, &self.burst_raw);
        let _ = writeln!(
            md,
            "| burst of {}, msgs/s end to end | {:.0} | {:.0} | {:.2} | {}/{} · {}/{} in order, \
             once |",
            bc.n,
            bc.per_second(),
            br.per_second(),
            br.per_second() / bc.per_second().max(f64::EPSILON),
            bc.ok,
            bc.n,
            br.ok,
            br.n
        );
        md
    }

    /// The line on the idle connector's memory: what it added to the process's resident set
    /// after `idle` open, subscribed and `connected` (e.g. "gateway connected").
    pub fn idle_memory(&self, connected: &str, idle: Duration) -> String {
        format!(
            "\nIdle listening connector (open, subscribed, {connected}, {} s idle): **+{}** \
             resident ({} of it heap and stacks, `RssAnon`; the rest is code and mapped files); \
             the bench process in all, emulator included: {}.\n\n",
            idle.as_secs(),
            kib(self.rss.vm),
            kib(self.rss.anon),
            kib(self.rss.total)
        )
    }

    /// The report's targets: send and inbound p50 within 1.10× of the raw paths (`send_raw`
    /// and `inbound_raw` name them: "a raw HTTP POST"), and the connector's burst delivered
    /// exactly once, in order.
    pub fn targets(&self, send_raw: &str, inbound_raw: &str) -> String {
        let verdict = |met: bool| if met { "**met**" } else { "**not met**" };
        let send = ratio(self.send_connector.p50(), self.send_raw.p50());
        let inbound = ratio(self.inbound_connector.p50(), self.inbound_raw.p50());
        let bc = &self.burst_connector;
        let mut md = String::from("### Targets\n\n");
        let _ = writeln!(
            md,
            "- Send p50 within 1.10× of {send_raw}: {} ({send:.2}).",
            verdict(send <= 1.10)
        );
        let _ = writeln!(
            md,
            "- Inbound p50 within 1.10× of {inbound_raw}: {} ({inbound:.2}).",
            verdict(inbound <= 1.10)
        );
        let _ = writeln!(
            md,
            "- A burst of {} delivered exactly once, in order: {} ({}/{}; {:.0} msgs/s).",
            bc.n,
            verdict(bc.ok == bc.n),
            bc.ok,
            bc.n,
            bc.per_second(),
        );
        md
    }

    /// `Err` naming the [`failures`](Self::failures), if any: the bench then exits non-zero.
    pub fn check(&self) -> Result<(), String> {
        match self.failures() {
            0 => Ok(()),
            failures => Err(format!(
                "{failures} message(s) were not confirmed or not delivered exactly once (in order)"
            )),
        }
    }
}

/// One run of a paired bench, for its report.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// What it ran on.
    pub machine: Machine,
    /// The samples it took.
    pub plan: Plan,
    /// Whether it was a `--quick` smoke run.
    pub quick: bool,
    /// What it measured.
    pub results: Results,
    /// How long the whole run took.
    pub wall: Duration,
}

/// Runs a paired bench: `measure` with `plan` on a multi-threaded tokio runtime, then prints
/// (and with `--write` writes) the `section` that `report` makes of the run. Fails when the
/// measuring did, or when a message was not confirmed or not delivered exactly once.
pub fn run<Fut>(
    options: &Options,
    plan: Plan,
    section: &str,
    measure: impl FnOnce(Plan) -> Fut,
    report: impl FnOnce(&Run) -> String,
) -> Result<(), String>
where
    Fut: Future<Output = Result<(Machine, Results), String>>,
{
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let (machine, results) = runtime.block_on(measure(plan))?;
    drop(runtime);
    let run = Run {
        machine,
        plan,
        quick: options.quick,
        results,
        wall: started.elapsed(),
    };
    publish(options, section, &report(&run))?;
    run.results.check()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_count_every_path() {
        let measured = |n, ok| Measured {
            ok,
            ..Measured::new(n)
        };
        let burst = |n, ok| Burst {
            ok,
            ..Burst::new(n)
        };
        let mut results = Results {
            rss: Rss::default(),
            send_connector: measured(10, 10),
            send_raw: measured(10, 10),
            inbound_connector: measured(5, 5),
            inbound_raw: measured(5, 5),
            burst_connector: burst(50, 50),
            burst_raw: burst(50, 50),
        };
        assert_eq!(results.failures(), 0);
        results.send_connector.latencies = vec![Duration::from_millis(2); 10];
        results.send_raw.latencies = vec![Duration::from_millis(1); 10];
        results.burst_connector.elapsed = Duration::from_secs(1);
        results.burst_raw.elapsed = Duration::from_millis(500);
        assert_eq!(
            results.table("raw HTTP"),
            "| measure | connector | raw HTTP | ratio | verified |\n\
             | --- | ---: | ---: | ---: | --- |\n\
             | send p50 | 2.00 ms | 1.00 ms | 2.00 | 10/10 · 10/10 |\n\
             | send p99 | 2.00 ms | 1.00 ms | 2.00 | 10/10 · 10/10 |\n\
             | inbound p50 | 0.00 ms | 0.00 ms | 0.00 | 5/5 · 5/5 |\n\
             | inbound p99 | 0.00 ms | 0.00 ms | 0.00 | 5/5 · 5/5 |\n\
             | burst of 50, msgs/s end to end | 50 | 100 | 2.00 | 50/50 · 50/50 in order, once |\n"
        );
        assert_eq!(results.check(), Ok(()));
        results.send_raw.ok = 9;
        results.inbound_connector.ok = 3;
        results.burst_raw.ok = 49;
        assert_eq!(results.failures(), 4);
        assert_eq!(
            results.check(),
            Err(
                "4 message(s) were not confirmed or not delivered exactly once (in order)"
                    .to_owned()
            )
        );
    }
}
