//! Socket Mode delivery: envelopes queue until acked, go round-robin to the open connections and
//! are redelivered with `retry_attempt`/`retry_reason` when no ack comes in time.

use std::time::Instant;

use serde_json::{Value, json};

use crate::state::{Pending, SocketCommand, World};

/// Queues an envelope of `kind` (`events_api`, `interactive`) and sends it if a connection is
/// open; returns its `envelope_id`.
pub(crate) fn enqueue(world: &mut World, kind: &str, payload: Value) -> String {
    let envelope_id = world.ids.token();
    let frame = json!({
        "envelope_id": envelope_id,
        "type": kind,
        "payload": payload,
        "accepts_response_payload": false,
    });
    world.sockets.pending.push(Pending {
        envelope_id: envelope_id.clone(),
        frame,
        sends: 0,
        due: Instant::now(),
    });
    flush(world);
    envelope_id
}

/// Sends every envelope that is due (new, or unacked past its deadline) and drops those out of
/// retries.
pub(crate) fn flush(world: &mut World) {
    let now = Instant::now();
    let max_sends = world.max_retries + 1;
    world
        .sockets
        .pending
        .retain(|p| p.sends < max_sends || p.due > now);
    let mut i = 0;
    while i < world.sockets.pending.len() {
        if world.sockets.pending[i].due > now {
            i += 1;
            continue;
        }
        let sends = world.sockets.pending[i].sends;
        let mut frame = world.sockets.pending[i].frame.clone();
        frame["retry_attempt"] = json!(sends);
        frame["retry_reason"] = json!(if sends == 0 { "" } else { "timeout" });
        if !send_to_one(world, &frame) {
            break;
        }
        let deadline = now + world.ack_deadline;
        let pending = &mut world.sockets.pending[i];
        pending.sends += 1;
        pending.due = deadline;
        i += 1;
    }
}

/// Sends a frame to one open connection (round-robin); false when none is open.
fn send_to_one(world: &mut World, frame: &Value) -> bool {
    loop {
        let sockets = &mut world.sockets;
        if sockets.connections.is_empty() {
            return false;
        }
        let index = sockets.round_robin % sockets.connections.len();
        sockets.round_robin = sockets.round_robin.wrapping_add(1);
        let text = frame.to_string();
        if sockets.connections[index]
            .tx
            .send(SocketCommand::Frame(text))
            .is_ok()
        {
            sockets.sent.push(frame.clone());
            return true;
        }
        sockets.connections.remove(index);
    }
}

/// Takes an ack frame from the client; true when it settled a pending envelope.
pub(crate) fn ack(world: &mut World, frame: Value) -> bool {
    let envelope_id = frame
        .get("envelope_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    world.sockets.acks.push(frame);
    let Some(envelope_id) = envelope_id else {
        return false;
    };
    if world.faults.ignore_acks > 0 {
        world.faults.ignore_acks -= 1;
        return false;
    }
    let before = world.sockets.pending.len();
    world
        .sockets
        .pending
        .retain(|p| p.envelope_id != envelope_id);
    before != world.sockets.pending.len()
}
