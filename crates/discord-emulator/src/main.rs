//! `discord-emulator --port N --token T [--user NAME]...`: runs the emulator until killed and
//! prints one JSON line saying where it is and what it holds.

use std::{io::Write, process::ExitCode};

use discord_emulator::{Config, Emulator};
use serde_json::json;

const USAGE: &str = "usage: discord-emulator [--port N] [--token T] [--user NAME]...

Serves Discord's REST API (under /api/v10) and gateway (/gateway) on 127.0.0.1 for offline
tests, then prints one JSON line: base_url, gateway_url, bot_token, guild_id, channel_id,
hidden_channel_id and the users added with --user (with their tokens).";

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
    let info = json!({
        "base_url": emulator.base_url(),
        "gateway_url": emulator.gateway_url(),
        "bot_token": emulator.bot_token(),
        "bot_user_id": emulator.bot_user_id().to_string(),
        "guild_id": emulator.guild_id().to_string(),
        "channel_id": emulator.channel_id().to_string(),
        "hidden_channel_id": emulator.hidden_channel_id().to_string(),
        "users": users,
    });
    let _ = writeln!(std::io::stdout(), "{info}");
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}
