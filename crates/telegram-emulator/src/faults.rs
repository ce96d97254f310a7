//! Fault injection: failed calls (429 with `retry_after`, 5xx), calls that take effect but
//! lose their response, and delayed answers. Stopping and restarting the server is on
//! [`Emulator`](crate::Emulator).

use std::{sync::Arc, time::Duration};

use crate::{
    errors::Error,
    fault_state::{FaultState, Injected},
    method_params::METHODS,
    state::Shared,
};

/// Injects faults into a running emulator; get one from
/// [`Emulator::faults`](crate::Emulator::faults). Methods are named as the spec spells them
/// (matched case-insensitively); `*` in [`delay`](Self::delay) means every method.
///
/// ```no_run
/// # fn main() -> Result<(), telegram_emulator::Error> {
/// let emulator = telegram_emulator::Emulator::start(telegram_emulator::Config::default())?;
/// let faults = emulator.faults();
/// faults.fail_next_rate_limited("sendMessage", 1, 3)?;
/// faults.fail_next("getUpdates", 2, 502)?;
/// faults.lose_next_response("sendMessage")?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Faults {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Faults").finish_non_exhaustive()
    }
}

/// The method's name in lower case, when the emulator serves it.
fn known(method: &str) -> Result<String, Error> {
    let lower = method.to_ascii_lowercase();
    if lower == "*" || METHODS.iter().any(|m| m.name.eq_ignore_ascii_case(method)) {
        Ok(lower)
    } else {
        Err(Error::Fault {
            method: method.to_owned(),
            reason: "the emulator serves no such method",
        })
    }
}

impl Faults {
    /// Answers the next `n` calls of `method` with `status` instead of serving them: 429 with
    /// `retry_after` 1, a JSON error for other statuses, nginx's HTML page for 502 and 504 (what
    /// clients meet in front of the real API).
    ///
    /// # Errors
    ///
    /// When the method is unknown or `status` is not 4xx/5xx.
    pub fn fail_next(&self, method: &str, n: u32, status: u16) -> Result<(), Error> {
        if !(400..=599).contains(&status) {
            return Err(Error::Fault {
                method: method.to_owned(),
                reason: "the injected status must be 4xx or 5xx",
            });
        }
        let answer = if status == 429 {
            Injected::RateLimited(1)
        } else {
            Injected::Status(status)
        };
        self.push(method, n, answer)
    }

    /// Answers the next `n` calls of `method` with 429 `Too Many Requests: retry after N`
    /// and `parameters.retry_after` = `retry_after` seconds.
    ///
    /// # Errors
    ///
    /// When the method is unknown.
    pub fn fail_next_rate_limited(
        &self,
        method: &str,
        n: u32,
        retry_after: u64,
    ) -> Result<(), Error> {
        self.push(method, n, Injected::RateLimited(retry_after))
    }

    fn push(&self, method: &str, n: u32, answer: Injected) -> Result<(), Error> {
        let method = known(method)?;
        self.shared.lock().faults.failures.push((method, n, answer));
        Ok(())
    }

    /// Serves the next call of `method` — it takes effect — but drops the connection before
    /// answering: the client sees a transport error although, say, the message was sent. The
    /// fault behind "no silent doubles".
    ///
    /// # Errors
    ///
    /// When the method is unknown.
    pub fn lose_next_response(&self, method: &str) -> Result<(), Error> {
        let method = known(method)?;
        self.shared.lock().faults.losses.push((method, 1, ()));
        Ok(())
    }

    /// Holds every answer of `method` (`*`: of every method) for `delay` after the call took
    /// effect; zero removes the delay.
    ///
    /// # Errors
    ///
    /// When the method is unknown.
    pub fn delay(&self, method: &str, delay: Duration) -> Result<(), Error> {
        let method = known(method)?;
        let mut world = self.shared.lock();
        if delay.is_zero() {
            world.faults.delays.remove(&method);
        } else {
            world.faults.delays.insert(method, delay);
        }
        Ok(())
    }

    /// Forgets every pending fault.
    pub fn clear(&self) {
        self.shared.lock().faults = FaultState::default();
    }
}
