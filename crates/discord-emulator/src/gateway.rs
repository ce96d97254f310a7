//! The gateway WebSocket protocol: Hello, Identify, Ready, heartbeats, Resume, and the close
//! codes of the docs (opcodes and status codes, "Gateway Close Event Codes").

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::{
    WebSocketStream,
    tungstenite::{Message as Frame, protocol::CloseFrame},
};

use crate::{
    Shared,
    intents::Intents,
    objects,
    routes::query_pairs,
    sessions::{Outgoing, Session},
    state::World,
};

/// Gateway close codes (docs, "Gateway Close Event Codes").
pub mod close_code {
    /// Unknown error.
    pub const UNKNOWN_ERROR: u16 = 4000;
    /// Unknown opcode, or an invalid payload for an opcode.
    pub const UNKNOWN_OPCODE: u16 = 4001;
    /// A payload that is not JSON, or larger than 4096 bytes.
    pub const DECODE_ERROR: u16 = 4002;
    /// A payload other than a heartbeat before Identify.
    pub const NOT_AUTHENTICATED: u16 = 4003;
    /// Identify or Resume with a wrong token.
    pub const AUTHENTICATION_FAILED: u16 = 4004;
    /// A second Identify (or Resume) on an identified connection.
    pub const ALREADY_AUTHENTICATED: u16 = 4005;
    /// Resume with a sequence number the session never reached.
    pub const INVALID_SEQ: u16 = 4007;
    /// More than 120 payloads in 60 seconds.
    pub const RATE_LIMITED: u16 = 4008;
    /// No heartbeat in time.
    pub const SESSION_TIMED_OUT: u16 = 4009;
    /// An impossible `shard`.
    pub const INVALID_SHARD: u16 = 4010;
    /// A `v` other than 10.
    pub const INVALID_API_VERSION: u16 = 4012;
    /// Intent bits that are no intents.
    pub const INVALID_INTENTS: u16 = 4013;
    /// A privileged intent the app was not granted.
    pub const DISALLOWED_INTENTS: u16 = 4014;
}

/// Payloads an app may send per connection per minute (docs, gateway, "Rate Limiting").
const SEND_LIMIT: usize = 120;
const SEND_WINDOW: Duration = Duration::from_secs(60);
/// How long the answer to a client's close frame may take to go out.
const CLOSE_REPLY_WINDOW: Duration = Duration::from_secs(5);
/// Largest payload an app may send.
const MAX_PAYLOAD: usize = 4096;

/// Serves one gateway connection until either side ends it.
pub(crate) async fn run(
    ws: WebSocketStream<TokioIo<Upgraded>>,
    shared: Arc<Shared>,
    query: Option<String>,
    mut shutdown: watch::Receiver<bool>,
) {
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (conn, interval) = {
        let mut world = shared.lock();
        let conn = world.gateway.register(tx.clone());
        (conn, world.settings.heartbeat_interval)
    };
    if let Some((code, reason)) = check_query(query.as_deref()) {
        let _ = tx.send(Outgoing::Close(code, reason.to_owned()));
    } else {
        let hello = json!({
            "op": 10,
            "d": {"heartbeat_interval": u64::try_from(interval.as_millis()).unwrap_or(u64::MAX)},
            "s": null,
            "t": null,
        });
        let _ = tx.send(Outgoing::Text(hello.to_string()));
    }
    let timeout = interval + interval / 2;
    let mut deadline = tokio::time::Instant::now() + timeout;
    let mut sent: Vec<Instant> = Vec::new();
    loop {
        tokio::select! {
            biased;
            _ = shutdown.changed() => break,
            out = rx.recv() => match out {
                Some(Outgoing::Text(text)) => {
                    if sink.send(Frame::text(text)).await.is_err() {
                        break;
                    }
                }
                Some(Outgoing::Close(code, reason)) => {
                    let frame = CloseFrame { code: code.into(), reason: reason.into() };
                    let _ = sink.send(Frame::Close(Some(frame))).await;
                    break;
                }
                Some(Outgoing::Drop) | None => break,
            },
            frame = stream.next() => match frame {
                Some(Ok(Frame::Text(text))) => {
                    let now = Instant::now();
                    sent.retain(|t| now.duration_since(*t) < SEND_WINDOW);
                    sent.push(now);
                    let verdict = if sent.len() > SEND_LIMIT {
                        Err((close_code::RATE_LIMITED, "You are being rate limited."))
                    } else if text.len() > MAX_PAYLOAD {
                        Err((close_code::DECODE_ERROR, "Decode error."))
                    } else {
                        Ok(())
                    };
                    let mut world = shared.lock();
                    match verdict {
                        Err((code, reason)) => close(&world, conn, code, reason),
                        Ok(()) => {
                            if on_payload(&mut world, conn, text.as_str(), now) {
                                deadline = tokio::time::Instant::now() + timeout;
                            }
                        }
                    }
                }
                Some(Ok(Frame::Binary(_))) => {
                    close(&shared.lock(), conn, close_code::DECODE_ERROR, "Decode error.");
                }
                Some(Ok(Frame::Close(frame))) => {
                    // "Close code 1000 or 1001 ... your session will be invalidated."
                    let code = frame.map_or(1005, |f| u16::from(f.code));
                    if code == 1000 || code == 1001 {
                        shared.lock().gateway.detach(conn, false, Instant::now());
                    }
                    // Answer the close frame, as Discord (and RFC 6455, 5.5.1) does: tungstenite
                    // queued the echo on reading it, closing the sink sends it. A client that
                    // gets none logs an error (serenity: "error awaiting close frame").
                    let _ = tokio::time::timeout(CLOSE_REPLY_WINDOW, sink.close()).await;
                    break;
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            },
            () = tokio::time::sleep_until(deadline) => {
                close(&shared.lock(), conn, close_code::SESSION_TIMED_OUT, "Session timed out.");
                deadline = tokio::time::Instant::now() + Duration::from_secs(3600);
            }
        }
    }
    shared.lock().gateway.unregister(conn, Instant::now());
}

/// Checks the connection URL's `v`, `encoding` and `compress`.
fn check_query(query: Option<&str>) -> Option<(u16, &'static str)> {
    for (key, value) in query_pairs(query) {
        match key.as_str() {
            "v" if value != "10" => {
                return Some((close_code::INVALID_API_VERSION, "Invalid API version."));
            }
            "encoding" if value != "json" => {
                return Some((
                    close_code::UNKNOWN_ERROR,
                    "The emulator speaks encoding=json only.",
                ));
            }
            "compress" => {
                return Some((close_code::UNKNOWN_ERROR, "The emulator does not compress."));
            }
            _ => {}
        }
    }
    None
}

fn close(world: &World, conn: u64, code: u16, reason: &str) {
    if let Some(c) = world.gateway.conns.get(&conn) {
        c.send(Outgoing::Close(code, reason.to_owned()));
    }
}

fn send(world: &World, conn: u64, payload: &Value) {
    if let Some(c) = world.gateway.conns.get(&conn) {
        c.send(Outgoing::Text(payload.to_string()));
    }
}

/// Handles one payload from the app; returns whether it was a heartbeat.
fn on_payload(world: &mut World, conn: u64, text: &str, now: Instant) -> bool {
    let Ok(payload) = serde_json::from_str::<Value>(text) else {
        close(world, conn, close_code::DECODE_ERROR, "Decode error.");
        return false;
    };
    let Some(op) = payload.get("op").and_then(Value::as_u64) else {
        close(world, conn, close_code::DECODE_ERROR, "Decode error.");
        return false;
    };
    let identified = world
        .gateway
        .conns
        .get(&conn)
        .is_some_and(|c| c.session.is_some());
    let d = payload.get("d").unwrap_or(&Value::Null);
    match op {
        1 => {
            send(
                world,
                conn,
                &json!({"op": 11, "d": null, "s": null, "t": null}),
            );
            return true;
        }
        2 if identified => close(
            world,
            conn,
            close_code::ALREADY_AUTHENTICATED,
            "Already authenticated.",
        ),
        2 => identify(world, conn, d, now),
        6 if identified => close(
            world,
            conn,
            close_code::ALREADY_AUTHENTICATED,
            "Already authenticated.",
        ),
        6 => resume(world, conn, d, now),
        3 | 4 | 8 | 31 | 43 if !identified => {
            close(
                world,
                conn,
                close_code::NOT_AUTHENTICATED,
                "Not authenticated.",
            );
        }
        // Presence, voice state, member, soundboard and channel-info requests: accepted, ignored.
        3 | 4 | 8 | 31 | 43 => {}
        _ => close(world, conn, close_code::UNKNOWN_OPCODE, "Unknown opcode."),
    }
    false
}

fn identify(world: &mut World, conn: u64, d: &Value, now: Instant) {
    let (Some(token), Some(intents), true) = (
        d.get("token").and_then(Value::as_str),
        d.get("intents").and_then(Value::as_u64),
        d.get("properties").is_some_and(Value::is_object),
    ) else {
        close(
            world,
            conn,
            close_code::UNKNOWN_OPCODE,
            "Invalid payload for Identify.",
        );
        return;
    };
    if !world.is_bot_token(token) {
        close(
            world,
            conn,
            close_code::AUTHENTICATION_FAILED,
            "Authentication failed.",
        );
        return;
    }
    let intents = Intents::from_bits_retain(intents);
    if !Intents::ALL.contains(intents) {
        close(
            world,
            conn,
            close_code::INVALID_INTENTS,
            "Invalid intent(s).",
        );
        return;
    }
    if !world.granted.contains(intents & Intents::PRIVILEGED) {
        close(
            world,
            conn,
            close_code::DISALLOWED_INTENTS,
            "Disallowed intent(s).",
        );
        return;
    }
    let shard = match d.get("shard") {
        None | Some(Value::Null) => None,
        Some(shard) => match shard.as_array().map(|a| {
            (
                a.first().and_then(Value::as_u64),
                a.get(1).and_then(Value::as_u64),
                a.len(),
            )
        }) {
            Some((Some(id), Some(count), 2)) if count > 0 && id < count => Some((id, count)),
            _ => {
                close(world, conn, close_code::INVALID_SHARD, "Invalid shard.");
                return;
            }
        },
    };
    if world.settings.identify_limit
        && world
            .gateway
            .last_identify
            .is_some_and(|t| now.duration_since(t) < Duration::from_secs(5))
    {
        send(
            world,
            conn,
            &json!({"op": 9, "d": false, "s": null, "t": null}),
        );
        return;
    }
    let window = world.settings.resume_window;
    world.gateway.prune(window, now);
    world.gateway.identifies += 1;
    world.gateway.last_identify = Some(now);
    let id: String = std::iter::repeat_with(|| fastrand::digit(16))
        .take(32)
        .collect();
    let mut session = Session {
        id: id.clone(),
        intents,
        shard,
        seq: 0,
        log: Vec::new(),
        conn: Some(conn),
        disconnected_at: None,
        invalid: false,
    };
    let application_flags = objects::application_flags(world.granted);
    let guild_on_shard = session.receives_guild(world.guild.id.get());
    let mut ready = json!({
        "v": 10,
        "user": objects::current_user(world, world.bot_id),
        "guilds": if guild_on_shard { json!([{"id": world.guild.id, "unavailable": true}]) } else { json!([]) },
        "session_id": id,
        "resume_gateway_url": world.gateway_url(),
        "application": {"id": world.bot_id, "flags": application_flags},
    });
    if let Some((shard_id, count)) = shard {
        ready["shard"] = json!([shard_id, count]);
    }
    let guild =
        (guild_on_shard && intents.contains(Intents::GUILDS)).then(|| objects::guild_create(world));
    if let Some(c) = world.gateway.conns.get_mut(&conn) {
        c.session = Some(id.clone());
    }
    session.dispatch("READY", ready, &world.gateway.conns, true);
    if let Some(guild) = guild {
        session.dispatch("GUILD_CREATE", guild, &world.gateway.conns, true);
    }
    world.gateway.sessions.insert(id, session);
}

fn resume(world: &mut World, conn: u64, d: &Value, now: Instant) {
    let (Some(token), Some(session_id)) = (
        d.get("token").and_then(Value::as_str),
        d.get("session_id").and_then(Value::as_str),
    ) else {
        close(
            world,
            conn,
            close_code::UNKNOWN_OPCODE,
            "Invalid payload for Resume.",
        );
        return;
    };
    if !world.is_bot_token(token) {
        close(
            world,
            conn,
            close_code::AUTHENTICATION_FAILED,
            "Authentication failed.",
        );
        return;
    }
    let seq = d.get("seq").and_then(Value::as_u64).unwrap_or(0);
    let window = world.settings.resume_window;
    let invalid_session = json!({"op": 9, "d": false, "s": null, "t": null});
    let Some(session) = world.gateway.sessions.get_mut(session_id) else {
        send(world, conn, &invalid_session);
        return;
    };
    let expired = session
        .disconnected_at
        .is_some_and(|t| now.duration_since(t) > window);
    let trimmed = session.log.first().is_some_and(|(s, _)| *s > seq + 1);
    if session.invalid || expired || trimmed {
        session.invalid = true;
        send(world, conn, &invalid_session);
        return;
    }
    if seq > session.seq {
        close(world, conn, close_code::INVALID_SEQ, "Invalid seq.");
        return;
    }
    let previous = session.conn.replace(conn);
    session.disconnected_at = None;
    let replay: Vec<String> = session
        .log
        .iter()
        .filter(|(s, _)| *s > seq)
        .map(|(_, payload)| payload.clone())
        .collect();
    let session_id = session.id.clone();
    if let Some(old) = previous.filter(|old| *old != conn)
        && let Some(old_conn) = world.gateway.conns.get_mut(&old)
    {
        old_conn.session = None;
        old_conn.send(Outgoing::Drop);
    }
    if let Some(c) = world.gateway.conns.get_mut(&conn) {
        c.session = Some(session_id.clone());
        for payload in replay {
            c.send(Outgoing::Text(payload));
        }
    }
    let Some(session) = world.gateway.sessions.get_mut(&session_id) else {
        return;
    };
    // RESUMED ends the replay; it is not replayed itself.
    session.dispatch("RESUMED", json!({}), &world.gateway.conns, false);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_must_ask_for_v10_json() {
        assert_eq!(check_query(None), None);
        assert_eq!(check_query(Some("v=10&encoding=json")), None);
        assert_eq!(
            check_query(Some("v=9")).map(|c| c.0),
            Some(close_code::INVALID_API_VERSION)
        );
        assert!(check_query(Some("v=10&compress=zlib-stream")).is_some());
        assert!(check_query(Some("encoding=etf")).is_some());
    }
}
