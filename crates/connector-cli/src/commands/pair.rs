//! `connector pair`: the machine's side of pairing — list the codes strangers were sent and
//! the paired senders, approve or deny a code, revoke a sender (see `connector_core::pairing`).
//!
//! It changes `pairing.yaml` in the state directory of the roster's connector, under the
//! file's lock; the running connector reads it again when it changes, so no restart is
//! needed. Refusals are `connector_core::Error::PairingRefused`, with exit statuses of their
//! own (9 unknown, 10 expired, 11 used).

use std::time::Duration;

use connector_core::config::secrets::ProcessEnv;
use connector_core::pairing::{PairingCode, PairingState, PairingStore, Refusal, seconds};
use connector_core::{ConnectorConfig, SenderId, Timestamp};
use serde::Serialize;

use crate::cli::{Common, PairAction, PairArgs};
use crate::error::{Error, Exit};
use crate::output::{json_line, line_out};

/// Runs `connector pair`.
pub(crate) fn run(common: &Common, args: &PairArgs) -> Result<Exit, Error> {
    let config = super::config(common)?;
    let state_dir = config.state_dir(&ProcessEnv)?.ok_or_else(|| {
        Error::Refused(format!(
            "kind {}: no state directory is known for it, so it cannot pair",
            config.kind
        ))
    })?;
    let store = PairingStore::in_dir(&state_dir);
    let now = Timestamp::now();
    match &args.action {
        PairAction::List => list(common, &config, &store, now),
        PairAction::Approve { code } => {
            require_pairing(&config)?;
            let code = parse(code)?;
            let approved = store
                .update(|state| Ok(state.approve(&code, now)))?
                .map_err(|refusal| refused_code(&code, refusal))?;
            report(
                common,
                "approved",
                approved.sender.as_str(),
                Some(&code),
                &format!(
                    "approved sender {} (code {code}): the running connector delivers their next \
                     message, no restart needed",
                    approved.sender
                ),
            )
        }
        PairAction::Deny { code } => {
            let code = parse(code)?;
            let denied = store
                .update(|state| Ok(state.deny(&code, now)))?
                .map_err(|refusal| refused_code(&code, refusal))?;
            report(
                common,
                "denied",
                denied.sender.as_str(),
                Some(&code),
                &format!(
                    "denied code {code} of sender {}: they stay out (writing again gets them a \
                     new code)",
                    denied.sender
                ),
            )
        }
        PairAction::Revoke { sender } => {
            let sender = SenderId::new(sender.trim());
            let revoked = store
                .update(|state| Ok(state.revoke(&sender)))?
                .map_err(|refusal| connector_core::Error::PairingRefused {
                    subject: format!("sender {sender}"),
                    refusal,
                })?;
            report(
                common,
                "revoked",
                revoked.sender.as_str(),
                None,
                &format!(
                    "revoked sender {}: the running connector refuses their next message",
                    revoked.sender
                ),
            )
        }
    }
}

/// Approving needs pairing on: otherwise the connector would not admit the sender anyway.
fn require_pairing(config: &ConnectorConfig) -> Result<(), Error> {
    if config.pairing_enabled().is_some() {
        return Ok(());
    }
    Err(Error::Refused(format!(
        "pairing is off for this connector (kind {}): add `pairing: {{enabled: true}}` to the \
         roster's connector block and restart the connector{}",
        config.kind,
        if config.kind.as_str() == "tmux" {
            "; tmux needs none: whoever reaches the tmux server is the operator"
        } else {
            ""
        }
    )))
}

/// The code as typed; one that cannot be a code is unknown.
fn parse(typed: &str) -> Result<PairingCode, Error> {
    PairingCode::parse(typed).ok_or_else(|| {
        connector_core::Error::PairingRefused {
            subject: format!("pairing code {:?}", typed.trim()),
            refusal: Refusal::UnknownCode,
        }
        .into()
    })
}

fn refused_code(code: &PairingCode, refusal: Refusal) -> Error {
    connector_core::Error::PairingRefused {
        subject: format!("pairing code {code}"),
        refusal,
    }
    .into()
}

#[derive(Serialize)]
struct Done<'a> {
    action: &'a str,
    sender: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'a str>,
}

fn report(
    common: &Common,
    action: &str,
    sender: &str,
    code: Option<&PairingCode>,
    text: &str,
) -> Result<Exit, Error> {
    if common.json {
        json_line(&Done {
            action,
            sender,
            code: code.map(PairingCode::as_str),
        })?;
    } else {
        line_out(text)?;
    }
    Ok(Exit::Ok)
}

#[derive(Serialize)]
struct Listing<'a> {
    enabled: bool,
    store: &'a std::path::Path,
    pending: Vec<&'a connector_core::pairing::PendingCode>,
    approved: &'a [connector_core::pairing::ApprovedSender],
}

fn list(
    common: &Common,
    config: &ConnectorConfig,
    store: &PairingStore,
    now: Timestamp,
) -> Result<Exit, Error> {
    let state: PairingState = store.read()?;
    let pending: Vec<_> = state.live_codes(now).collect();
    if common.json {
        json_line(&Listing {
            enabled: config.pairing_enabled().is_some(),
            store: store.path(),
            pending,
            approved: &state.approved,
        })?;
        return Ok(Exit::Ok);
    }
    let header = match config.pairing_enabled() {
        Some(pairing) => format!(
            "pairing is on: codes last {} minutes, at most {} pending ({})",
            pairing.code_lifetime().as_secs() / 60,
            pairing.max_pending(),
            store.path().display()
        ),
        None => format!(
            "pairing is off: strangers get no code ({})",
            store.path().display()
        ),
    };
    line_out(&header)?;
    line_out("pending codes:")?;
    if pending.is_empty() {
        line_out("  none")?;
    }
    for code in pending {
        let age = now.duration_since(code.issued_at).unsigned_abs();
        let left = code.expires_at.duration_since(now).unsigned_abs();
        line_out(&format!(
            "  {}  sender {}  sent {} ago, expires in {}",
            code.code,
            code.sender,
            minutes(age, false),
            minutes(left, true)
        ))?;
    }
    line_out("paired senders:")?;
    if state.approved.is_empty() {
        line_out("  none")?;
    }
    for approved in &state.approved {
        line_out(&format!(
            "  {}  since {} (code {})",
            approved.sender,
            seconds(approved.approved_at),
            approved.code
        ))?;
    }
    Ok(Exit::Ok)
}

/// `5 min`: whole minutes, rounded up or down.
fn minutes(duration: Duration, up: bool) -> String {
    let secs = duration.as_secs();
    let minutes = if up { secs.div_ceil(60) } else { secs / 60 };
    format!("{minutes} min")
}
