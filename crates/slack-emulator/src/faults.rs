//! Arming faults on a running emulator: failed calls, calls that take effect but lose their
//! response, dropped sockets, lost acks and `disconnect` frames.

use std::sync::Arc;

use crate::{
    fault_plan::Failure,
    state::{Shared, SocketCommand},
};

/// Arms faults; get one from [`crate::Emulator::faults`].
#[derive(Debug, Clone)]
pub struct Faults {
    pub(crate) shared: Arc<Shared>,
}

impl Faults {
    /// The next `times` calls of `method` (e.g. `"chat.postMessage"`) fail with `failure`
    /// without taking effect.
    pub fn fail_next(&self, method: &str, times: u32, failure: Failure) {
        if times > 0 {
            self.shared
                .lock()
                .faults
                .fail_next
                .insert(method.to_owned(), (times, failure));
        }
    }

    /// The next `times` calls of `method` take effect, then the HTTP connection is dropped
    /// before the answer is written — the client cannot know it succeeded.
    pub fn lose_response(&self, method: &str, times: u32) {
        if times > 0 {
            self.shared
                .lock()
                .faults
                .lose_response
                .insert(method.to_owned(), times);
        }
    }

    /// The next `times` acks from the app are ignored, so those envelopes are redelivered.
    pub fn ignore_acks(&self, times: u32) {
        self.shared.lock().faults.ignore_acks = times;
    }

    /// Drops every Socket Mode connection without a close frame.
    pub fn drop_sockets(&self) {
        self.command_all(|| SocketCommand::Drop);
    }

    /// Sends `{"type":"disconnect","reason":"refresh_requested"}` on every connection, then
    /// closes them.
    pub fn disconnect_refresh_requested(&self) {
        self.command_all(|| SocketCommand::Disconnect(crate::disconnect_reason::REFRESH_REQUESTED));
    }

    /// Sends `{"type":"disconnect","reason":"link_disabled"}` on every connection, then closes
    /// them.
    pub fn disconnect_link_disabled(&self) {
        self.command_all(|| SocketCommand::Disconnect(crate::disconnect_reason::LINK_DISABLED));
    }

    /// Sends `{"type":"disconnect","reason":"warning"}` on every connection and keeps them open.
    pub fn disconnect_warning(&self) {
        self.command_all(|| SocketCommand::Warn);
    }

    fn command_all(&self, command: impl Fn() -> SocketCommand) {
        let mut world = self.shared.lock();
        let connections = std::mem::take(&mut world.sockets.connections);
        for connection in connections {
            let keep = matches!(command(), SocketCommand::Warn);
            let sent = connection.tx.send(command()).is_ok();
            if keep && sent {
                world.sockets.connections.push(connection);
            }
        }
    }
}
