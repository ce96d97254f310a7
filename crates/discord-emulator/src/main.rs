//! `discord-emulator [--port N] [--token T] [--rate-limits discord|unlimited] [--user NAME]...`:
//! runs the emulator until killed and prints one JSON line saying where it is and what it holds.

use std::{io::Write, process::ExitCode};

use discord_emulator::{Config, Emulator, RateLimits};
use serde_json::json;

const USAGE: &str = "usage: discord-emulator [--port N] [--token T] [--rate-limits discord|unlimited] [--user NAME]...

Serves Discord's REST API (under /api/v10) and gateway (/gateway) on 127.0.0.1 for offline
tests, then prints one JSON line: base_url, gateway_url, control_url, bot_token, bot_user_id,
guild_id, channel_id, hidden_channel_id and the users added with --user (with their tokens).

  --port N          the port (default: a free one)
  --token T         the bot token (default: a fresh one shaped like Discord's)
  --rate-limits R   `discord` (default: Discord-like buckets and 429s) or `unlimited`
  --user NAME       add a human guild member (repeatable)

The control API under control_url (/_emulator) does what the library's handle does: add users
and channels, post and react as a user, inject faults, change the rate limits (see README).";

fn main() -> ExitCode {
    let mut config = Config::default();
    let mut users = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        let parsed = match arg.as_str() {
            "--port" => value("--port").and_then(|v| {
                v.parse::<u16>()
                    .map(|port| config = config.clone().port(port))
                    .map_err(|_| format!("--port: `{v}` is not a port number"))
            }),
            "--token" => value("--token").map(|t| config = config.clone().token(t)),
            "--rate-limits" => value("--rate-limits").and_then(|v| {
                let limits = match v.as_str() {
                    "discord" => RateLimits::discord_like(),
                    "unlimited" => RateLimits::unlimited(),
                    _ => {
                        return Err(format!(
                            "--rate-limits: `{v}` is not a preset: use `discord` or `unlimited`"
                        ));
                    }
                };
                config = config.clone().rate_limits(limits);
                Ok(())
            }),
            "--user" => value("--user").map(|u| users.push(u)),
            "-h" | "--help" => {
                let _ = writeln!(std::io::stdout(), "{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => Err(format!("unknown argument `{other}`")),
        };
        if let Err(message) = parsed {
            let _ = writeln!(std::io::stderr(), "discord-emulator: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    let emulator = match Emulator::start(config) {
        Ok(emulator) => emulator,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "discord-emulator: {error}");
            return ExitCode::FAILURE;
        }
    };
    let users: Vec<_> = users
        .iter()
        .map(|name| {
            let user = emulator.add_user(name);
            json!({"name": user.name, "id": user.id.to_string(), "token": user.token})
        })
        .collect();
    let mut info = emulator.info();
    info["users"] = users.into();
    let _ = writeln!(std::io::stdout(), "{info}");
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}
