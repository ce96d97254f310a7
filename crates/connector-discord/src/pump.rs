//! The inbound pump: gateway events and REST backfill, in order, into the shared inbox.
//!
//! For each message in the channel or one of its threads the pump
//! 1. skips system notices (anything but DEFAULT and REPLY), the bot's own messages and ids at
//!    or below the conversation's saved position (already delivered before a restart);
//! 2. drops senders neither in `allowed_senders` nor holding an allowed role nor paired (the
//!    inbox decides and counts; with pairing on, such a sender is answered with a code, see
//!    `pairing`), and,
//!    with `require_mention`, messages that do not mention the bot (see `access`);
//! 3. hands it to the [`Inbox`] with [`Inbox::deliver_when_subscribed`], which drops repeats (a
//!    resumed session may replay events; backfill and live events overlap), waits while nobody
//!    is subscribed, and answers only once a subscription took the message — one dropped
//!    during the hand-over makes it wait for the next;
//! 4. only then records its id as the conversation's position and writes it to disk: after
//!    every message without fsync (atomic rename; it survives the process being killed), and
//!    durably (fsynced) once the pump has caught up with the gateway (no event waiting), at
//!    least every [`SAVE_EVERY`] messages, and when it stops — one fsync per batch rather than
//!    per message. A clean stop loses nothing and replays nothing; a killed process replays at
//!    most the message it was handing over; a power loss or kernel crash can replay the
//!    messages since the last fsync (at most [`SAVE_EVERY`]).
//!
//! A MESSAGE_REACTION_ADD on a message the bot wrote, by an allowed sender other than the bot,
//! becomes a reaction event (`InboundMessage::reaction`), and a MESSAGE_REACTION_REMOVE of one a
//! reaction taken back (`InboundMessage::reaction_removed`). Their ids are derived from the
//! message, the user, the emoji and how many times that reaction was given (see `reactions`), so
//! a replayed event is dropped while a reaction taken back and given again is reported again.
//!
//! After every READY (the first, and any new session after op 9) it backfills each known
//! conversation with `GET /channels/{id}/messages?after=<position>`, so nothing posted while
//! the connector was away or between sessions is skipped. A thread of the channel new to the
//! connector (THREAD_CREATE, or listed in GUILD_CREATE) is joined, so its messages arrive on the
//! gateway, and backfilled from its start (at the earliest from the connector's first start).
//!
//! Reactions given or taken back while the connector was away (closed, or a session lost and
//! identified anew instead of resumed) are caught up the same way. Every reaction seen on one of
//! the bot's messages — delivered, or a stranger's turned away — is saved in `reactions.json`
//! beside the positions (see `reaction_state`; atomically replaced, fsynced), and the ledger is
//! seeded from it at start. After every READY, once the messages are backfilled, the pump reads
//! the last [`PAGE`] (100) messages of each known conversation (`GET /channels/{id}/messages`);
//! for each of the bot's messages among them that is tracked (posted since `reactions.json` was
//! created, and not older than the [`TRACKED_MESSAGES`](crate::reaction_state::TRACKED_MESSAGES) (200) most recent messages with reactions) it
//! asks Get Reactions for the users of each emoji in `message.reactions` (normal and super
//! reactions, 100 a page, paged with `after`; skipped when only the bot reacted), compares them
//! with the saved reactions and hands each difference to the live path: allow-list, ledger ids,
//! inbox. So a reaction is reported once whether its live event or the catch-up comes first,
//! one still on is not reported again, and a stranger's is not reported at all. The cost per
//! READY is one request per conversation plus one per emoji (per 100 users) on the bot's
//! tracked messages among its last 100; reactions on older messages, or on messages older than
//! the state file, are not caught up (their live events still are delivered).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use connector_core::questions::{Answerer, Questions, told};
use connector_core::retry::RetryPolicy;
use connector_core::{InboundMessage, Inbox, MessageId, ThreadId, Timestamp};
use serde_json::Value;
use serenity::all::{Message, Reaction, ReactionType};
use serenity_reqwest::Method;
use tokio::sync::{mpsc, watch};

use crate::access::{Access, Verdict};
use crate::error::UNKNOWN_MEMBER;
use crate::gateway::GatewayEvent;
use crate::health::InboundStatus;
use crate::inbound::{content_withheld, convert, is_conversation};
use crate::position::Positions;
use crate::reaction_state::{Mark, ReactionState, Reactors, difference};
use crate::reactions::{ReactionKey, ReactionLedger};
use crate::rest::{Rest, percent_encode};
use crate::threads::{Place, Threads};

/// The position key holding when the connector first started (a snowflake): threads without a
/// position of their own are backfilled from there at the earliest.
pub(crate) const SINCE_KEY: u64 = 0;

/// The most messages delivered between two durable (fsynced) saves of the positions.
pub(crate) const SAVE_EVERY: usize = 256;

/// A REST page's size when backfilling.
const PAGE: usize = 100;

/// The pump's state; [`run`](Self::run) consumes it in a task of its own.
pub(crate) struct Pump {
    pub(crate) rest: Rest,
    pub(crate) retry: RetryPolicy,
    pub(crate) inbox: Arc<Inbox>,
    pub(crate) access: Arc<Access>,
    /// The guild of the channel (for member lookups).
    pub(crate) guild_id: u64,
    /// Roles of members seen or looked up, by user id.
    pub(crate) roles: HashMap<u64, Vec<u64>>,
    pub(crate) threads: Arc<Threads>,
    pub(crate) positions: Positions,
    pub(crate) own_id: u64,
    pub(crate) status: Arc<InboundStatus>,
    /// Becomes `true` when the connector closes.
    pub(crate) shutdown: watch::Receiver<bool>,
    /// Positions recorded since the last save.
    pub(crate) unsaved: usize,
    /// Which of the operator's reactions are on.
    pub(crate) reactions: ReactionLedger,
    /// The reactions on the bot's recent messages, on disk.
    pub(crate) saved_reactions: ReactionState,
    /// Whether `saved_reactions` changed since it was last written.
    pub(crate) reactions_unsaved: bool,
    /// The questions asked: an allowed sender's message may be a typed answer.
    pub(crate) questions: Questions,
}

impl Pump {
    /// Handles events until the connector closes or the gateway is gone.
    pub(crate) async fn run(mut self, mut events: mpsc::UnboundedReceiver<GatewayEvent>) {
        let mut shutdown = self.shutdown.clone();
        loop {
            let work = async {
                match events.recv().await {
                    Some(event) => {
                        self.handle(event).await;
                        true
                    }
                    None => false,
                }
            };
            let more = tokio::select! {
                biased;
                _ = shutdown.wait_for(|closing| *closing) => false,
                more = work => more,
            };
            if !more {
                self.save().await;
                return;
            }
            if self.unsaved > 0 && events.is_empty() {
                self.save().await;
            }
        }
    }

    /// Saves the recorded positions, if any changed.
    async fn save(&mut self) {
        if self.unsaved == 0 {
            return;
        }
        match self.positions.save().await {
            Ok(()) => self.unsaved = 0,
            Err(error) => {
                tracing::warn!(%error, "cannot save the delivery positions");
                self.status.set_problem(Some(error.to_string()));
            }
        }
    }

    async fn handle(&mut self, event: GatewayEvent) {
        match event {
            GatewayEvent::Ready => self.backfill().await,
            GatewayEvent::Thread(thread, parent) => {
                if self.threads.learn(thread, parent) {
                    self.join(thread).await;
                    // A thread new to us may hold messages posted while we were away.
                    let since = self.positions.get(SINCE_KEY).unwrap_or(0);
                    let after = self
                        .positions
                        .get(thread)
                        .unwrap_or_else(|| thread.max(since));
                    if let Err(error) = self.backfill_one(thread, after).await {
                        tracing::warn!(thread, %error, "backfill of a new thread failed");
                    }
                }
            }
            GatewayEvent::Message(message) => {
                // A round-trip probe of ours, back on the gateway: it ends the probe's wait and
                // goes no further (checked before own messages are dropped; live events only).
                if message.author.id.get() == self.own_id
                    && self.inbox.echoes().arrived(&message.content)
                {
                    return;
                }
                self.message(&message).await;
            }
            GatewayEvent::Reaction(reaction) => self.reaction(&reaction, false).await,
            GatewayEvent::ReactionRemoved(reaction) => self.reaction(&reaction, true).await,
        }
    }

    /// Where a channel id is: the channel, a thread of it (`Some(Some(thread))`), or elsewhere.
    async fn conversation(&self, channel: u64) -> Option<Option<u64>> {
        let place = match self.threads.place(channel) {
            Some(place) => place,
            None => self.look_up(channel).await,
        };
        match place {
            Place::Channel => Some(None),
            Place::Thread(thread) => Some(Some(thread)),
            Place::Elsewhere => None,
        }
    }

    /// The allow-list's verdict on `user`, whose roles are `roles` if the event said; looks
    /// the member up when only a role could admit them and the event did not say.
    async fn verdict(&mut self, user: u64, roles: Option<Vec<u64>>) -> Verdict {
        if let Some(roles) = roles {
            self.roles.insert(user, roles);
        }
        if self.access.needs_roles(user) && !self.roles.contains_key(&user) {
            let path = format!("/guilds/{}/members/{user}", self.guild_id);
            let looked_up = self
                .rest
                .call_retried(&self.retry, Method::GET, &path, None, "look up a member")
                .await;
            match looked_up {
                Ok(member) => {
                    self.roles
                        .insert(user, crate::permissions::member_roles(&member));
                }
                // Not (or no longer) a member: no roles.
                Err(refusal) if refusal.code == Some(UNKNOWN_MEMBER) => {
                    self.roles.insert(user, Vec::new());
                }
                Err(refusal) => {
                    let error = refusal.error;
                    tracing::warn!(user, %error, "cannot look up a member's roles");
                }
            }
        }
        self.access
            .check(&self.inbox, user, self.roles.get(&user).map(Vec::as_slice))
    }

    /// Delivers the operator's reaction to one of the bot's messages, or its removal (see the
    /// module docs).
    async fn reaction(&mut self, reaction: &Reaction, removed: bool) {
        let Some(user) = reaction.user_id.map(|u| u.get()) else {
            return;
        };
        if user == self.own_id {
            return;
        }
        let channel = reaction.channel_id.get();
        let Some(thread) = self.conversation(channel).await else {
            return;
        };
        let target = reaction.message_id.get();
        let ours = match reaction.message_author_id {
            Some(author) => author.get() == self.own_id,
            None => self.authored_by_us(channel, target).await,
        };
        if !ours {
            return;
        }
        let emoji = match &reaction.emoji {
            ReactionType::Unicode(emoji) => emoji.clone(),
            ReactionType::Custom { id, name, .. } => {
                format!("{}:{}", name.as_deref().unwrap_or_default(), id.get())
            }
            _ => return,
        };
        let roles = reaction
            .member
            .as_ref()
            .map(|m| m.roles.iter().map(|r| r.get()).collect());
        let key = ReactionKey {
            message: target,
            user,
            emoji,
        };
        self.reaction_changed(key, thread, removed, roles).await;
        self.save_reactions().await;
    }

    /// Delivers a reaction given (or, when `removed`, taken back) on one of the bot's messages by
    /// someone other than the bot — live or caught up — if the allow-list admits them and the
    /// ledger says it is news, and records it in the saved reactions (a stranger's too, so that
    /// the catch-up does not find it new again). `roles` are the sender's, when the event said.
    async fn reaction_changed(
        &mut self,
        key: ReactionKey,
        thread: Option<u64>,
        removed: bool,
        roles: Option<Vec<u64>>,
    ) {
        let (target, user) = (key.message, key.user);
        if self.saved_reactions.holds(&key, !removed) {
            // Known already: a live event the catch-up got ahead of, or a replay.
            tracing::debug!(target, user, removed, "a known reaction change: dropped");
            return;
        }
        if self.verdict(user, roles).await != Verdict::Allowed {
            self.remember(
                &key,
                Mark {
                    on: !removed,
                    generation: 0,
                },
            );
            return;
        }
        let news = if removed {
            self.reactions.remove(&key)
        } else {
            self.reactions.add(&key)
        };
        let Some(generation) = news else {
            tracing::debug!(target, user, removed, "a replayed reaction event: dropped");
            return;
        };
        let mut inbound = if removed {
            InboundMessage::reaction_removed(
                key.removed_id(generation),
                user.to_string(),
                target.to_string(),
                key.emoji.clone(),
                Timestamp::now(),
            )
        } else {
            InboundMessage::reaction(
                key.added_id(generation),
                user.to_string(),
                target.to_string(),
                key.emoji.clone(),
                Timestamp::now(),
            )
        };
        if let Some(thread) = thread {
            inbound = inbound.in_thread(thread.to_string());
        }
        let Ok(admission) = self.inbox.deliver_when_subscribed(inbound).await else {
            // Closing: not recorded, so the catch-up after the next start finds it again.
            return;
        };
        tracing::debug!(target, user, removed, ?admission, "inbound reaction");
        self.remember(
            &key,
            Mark {
                on: !removed,
                generation,
            },
        );
    }

    /// Records a reaction's state in the saved reactions (written by `save_reactions`).
    fn remember(&mut self, key: &ReactionKey, mark: Mark) {
        if self.saved_reactions.set(key, mark) {
            self.reactions_unsaved = true;
        }
    }

    /// Writes the saved reactions, if they changed.
    async fn save_reactions(&mut self) {
        if !self.reactions_unsaved {
            return;
        }
        match self.saved_reactions.save().await {
            Ok(()) => self.reactions_unsaved = false,
            Err(error) => {
                tracing::warn!(%error, "cannot save the reactions");
                self.status.set_problem(Some(error.to_string()));
            }
        }
    }

    /// Catches up the reactions given or taken back on the bot's messages while the connector
    /// was away: for each conversation, the bot's tracked messages among the last [`PAGE`],
    /// their reactions as Discord reports them against the saved ones (see the module docs).
    async fn catch_up_reactions(&mut self, conversations: &[u64]) -> connector_core::Result<()> {
        let channel = self.threads.channel();
        for &conversation in conversations {
            let path = format!("/channels/{conversation}/messages?limit={PAGE}");
            let page = self
                .rest
                .call_retried(&self.retry, Method::GET, &path, None, "catch up reactions")
                .await;
            let page = match page {
                Ok(page) => page,
                Err(refusal)
                    if refusal.status.is_some_and(|s| s == 403 || s == 404)
                        && conversation != channel =>
                {
                    continue;
                }
                Err(refusal) => return Err(refusal.error),
            };
            let own = self.own_id.to_string();
            let mut ours: Vec<(u64, Value)> = page
                .as_array()
                .into_iter()
                .flatten()
                .filter(|m| m["author"]["id"].as_str() == Some(own.as_str()))
                .filter_map(|m| Some((m["id"].as_str()?.parse::<u64>().ok()?, m.clone())))
                .filter(|(id, _)| self.saved_reactions.tracks(*id))
                .collect();
            ours.sort_by_key(|(id, _)| *id);
            let thread = (conversation != channel).then_some(conversation);
            for (id, message) in ours {
                let Some(now) = self.reactors(conversation, id, &message).await? else {
                    continue;
                };
                let changes = difference(&self.saved_reactions.on(id), &now);
                for (removed, changed) in [(false, changes.added), (true, changes.removed)] {
                    for (user, emoji) in changed {
                        let key = ReactionKey {
                            message: id,
                            user,
                            emoji,
                        };
                        self.reaction_changed(key, thread, removed, None).await;
                    }
                }
            }
        }
        self.save_reactions().await;
        Ok(())
    }

    /// Who other than the bot reacted to the bot's message `id` of `conversation` with what:
    /// the emojis of its `reactions`, then Get Reactions for their users (normal and super
    /// reactions, paged with `after`). `None` when the message is gone meanwhile.
    async fn reactors(
        &self,
        conversation: u64,
        id: u64,
        message: &Value,
    ) -> connector_core::Result<Option<Reactors>> {
        let mut now = Reactors::new();
        for reaction in message["reactions"].as_array().into_iter().flatten() {
            let Some(emoji) = emoji_key(&reaction["emoji"]) else {
                continue;
            };
            let count = reaction["count"].as_u64().unwrap_or(0);
            let details = &reaction["count_details"];
            let normal = details["normal"].as_u64().unwrap_or(count);
            let burst = details["burst"].as_u64().unwrap_or(0);
            let me = u64::from(reaction["me"].as_bool() == Some(true));
            let me_burst = u64::from(reaction["me_burst"].as_bool() == Some(true));
            // Reaction types (message.mdx, Get Reactions): 0 normal, 1 burst (super).
            for (kind, others) in [
                (0, normal.saturating_sub(me)),
                (1, burst.saturating_sub(me_burst)),
            ] {
                if others == 0 {
                    continue;
                }
                let mut after = 0u64;
                loop {
                    let mut path = format!(
                        "/channels/{conversation}/messages/{id}/reactions/{}?type={kind}\
                         &limit={PAGE}",
                        percent_encode(&emoji)
                    );
                    if after > 0 {
                        path.push_str(&format!("&after={after}"));
                    }
                    let answer = self
                        .rest
                        .call_retried(&self.retry, Method::GET, &path, None, "get reactions")
                        .await;
                    let users = match answer {
                        Ok(users) => users,
                        Err(refusal) if refusal.status == Some(404) => return Ok(None),
                        Err(refusal) => return Err(refusal.error),
                    };
                    let users: Vec<u64> = users
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|u| u["id"].as_str()?.parse().ok())
                        .collect();
                    for &user in &users {
                        after = after.max(user);
                        if user != self.own_id {
                            now.insert((user, emoji.clone()));
                        }
                    }
                    if users.len() < PAGE {
                        break;
                    }
                }
            }
        }
        Ok(Some(now))
    }
    /// Whether the bot wrote message `id` of `channel` (asked over REST when the event did not
    /// say).
    async fn authored_by_us(&self, channel: u64, id: u64) -> bool {
        let path = format!("/channels/{channel}/messages/{id}");
        match self
            .rest
            .call_retried(&self.retry, Method::GET, &path, None, "look up a message")
            .await
        {
            Ok(message) => {
                message["author"]["id"].as_str() == Some(self.own_id.to_string().as_str())
            }
            Err(_) => false,
        }
    }

    /// Delivers one message of the channel or its threads (see the module docs).
    async fn message(&mut self, message: &Message) {
        let channel = message.channel_id.get();
        let Some(thread) = self.conversation(channel).await else {
            return;
        };
        let id = message.id.get();
        if !is_conversation(message)
            || message.author.id.get() == self.own_id
            || self.positions.get(channel).is_some_and(|last| id <= last)
        {
            return;
        }
        if !message.author.bot {
            let withheld = content_withheld(message, self.own_id);
            if withheld {
                tracing::warn!(id, "{}", crate::gateway::MESSAGE_CONTENT_HINT);
            }
            self.status
                .content_withheld
                .store(withheld, Ordering::Relaxed);
        }
        let author = message.author.id.get();
        let roles = message
            .member
            .as_ref()
            .map(|m| m.roles.iter().map(|r| r.get()).collect());
        let mentions: Vec<u64> = message.mentions.iter().map(|u| u.id.get()).collect();
        let verdict = self.verdict(author, roles).await;
        if verdict == Verdict::Allowed {
            match self.access.addressed_text(&message.content, &mentions) {
                Some(text) if self.typed_answer(message, thread, &text).await => {}
                Some(text) => {
                    let mut inbound = convert(message, thread);
                    inbound.text = text;
                    let Ok(admission) = self.inbox.deliver_when_subscribed(inbound).await else {
                        // Closing: the position stays before it, so the next start delivers it.
                        return;
                    };
                    tracing::debug!(id, ?admission, "inbound message");
                }
                None => tracing::debug!(id, "inbound message skipped: the bot is not mentioned"),
            }
        } else if verdict == Verdict::NotAllowed
            && self
                .access
                .addressed_text(&message.content, &mentions)
                .is_some()
        {
            // Pairing, if on: the stranger is answered with a code (see `pairing`).
            crate::pairing::answer_stranger(&self.rest, &self.retry, &self.inbox, message).await;
        }
        if self.positions.record(channel, id) {
            self.unsaved += 1;
            if self.unsaved >= SAVE_EVERY {
                self.save().await;
            } else if let Err(error) = self.positions.save_volatile().await {
                tracing::warn!(%error, "cannot write the delivery positions");
                self.status.set_problem(Some(error.to_string()));
            }
        }
    }

    /// Whether an allowed sender's message answers a question (its number or label in the
    /// question's thread or as a reply to it, or `<choice> <question id>`): then it is taken as
    /// the answer, not delivered as a message, and a refusal is answered in the conversation.
    async fn typed_answer(&self, message: &Message, thread: Option<u64>, text: &str) -> bool {
        let thread = thread.map(|t| ThreadId::new(t.to_string()));
        let replied_to = message
            .message_reference
            .as_ref()
            .and_then(|r| r.message_id)
            .map(|id| MessageId::new(id.to_string()));
        let name = message
            .member
            .as_ref()
            .and_then(|m| m.nick.clone())
            .or_else(|| message.author.global_name.clone())
            .unwrap_or_else(|| message.author.name.clone());
        let by = Answerer::new(message.author.id.to_string(), Some(name));
        let Some(answered) = self
            .questions
            .typed(by, thread.as_ref(), replied_to.as_ref(), text)
            .await
        else {
            return false;
        };
        if let Some(reply) = told(&answered) {
            crate::outbound::reply_to(
                &self.rest,
                &self.retry,
                message,
                &reply,
                "tell the operator why an answer was not taken",
            )
            .await;
        }
        true
    }

    /// Asks Discord where an unknown channel is (a thread of ours created before we listened).
    async fn look_up(&self, channel: u64) -> Place {
        let path = format!("/channels/{channel}");
        let answer = self
            .rest
            .call_retried(&self.retry, Method::GET, &path, None, "look up a channel")
            .await;
        let parent = match answer {
            Ok(json) => json
                .get("parent_id")
                .and_then(Value::as_str)
                .and_then(|p| p.parse().ok()),
            Err(refusal) => {
                let error = refusal.error;
                tracing::debug!(channel, %error, "not a channel of ours");
                None
            }
        };
        self.threads.learn(channel, parent);
        self.threads.place(channel).unwrap_or(Place::Elsewhere)
    }

    /// Joins a thread of the channel, so its messages reach the gateway.
    async fn join(&self, thread: u64) {
        let path = format!("/channels/{thread}/thread-members/@me");
        let joined = self
            .rest
            .call_retried(&self.retry, Method::PUT, &path, None, "join a thread")
            .await;
        match joined {
            Ok(_) => tracing::debug!(thread, "joined thread"),
            Err(error) => {
                let error = error.error;
                tracing::warn!(thread, %error, "cannot join a thread of the channel");
                self.status
                    .set_problem(Some(format!("cannot join thread {thread}: {error}")));
            }
        }
    }

    /// Backfills every known conversation from its position.
    async fn backfill(&mut self) {
        let since = self.positions.get(SINCE_KEY).unwrap_or(0);
        let mut conversations: Vec<(u64, u64)> = self
            .positions
            .all()
            .into_iter()
            .filter(|(conversation, _)| *conversation != SINCE_KEY)
            .collect();
        for thread in self.threads.all() {
            if !conversations.iter().any(|(c, _)| *c == thread) {
                conversations.push((thread, thread.max(since)));
            }
        }
        let ids: Vec<u64> = conversations.iter().map(|(c, _)| *c).collect();
        for (conversation, after) in conversations {
            if conversation != self.threads.channel() {
                self.threads
                    .learn(conversation, Some(self.threads.channel()));
            }
            if let Err(error) = self.backfill_one(conversation, after).await {
                tracing::warn!(conversation, %error, "backfill failed");
                self.status
                    .set_problem(Some(format!("backfill of {conversation} failed: {error}")));
                return;
            }
        }
        if let Err(error) = self.catch_up_reactions(&ids).await {
            tracing::warn!(%error, "catching up reactions failed");
            self.status
                .set_problem(Some(format!("catching up reactions failed: {error}")));
            return;
        }
        self.status.set_problem(None);
    }

    async fn backfill_one(
        &mut self,
        conversation: u64,
        mut after: u64,
    ) -> connector_core::Result<()> {
        loop {
            let path = format!("/channels/{conversation}/messages?after={after}&limit={PAGE}");
            let page = self
                .rest
                .call_retried(&self.retry, Method::GET, &path, None, "backfill")
                .await;
            let page = match page {
                Ok(page) => page,
                // A thread deleted meanwhile, or one we may no longer see: nothing to backfill.
                Err(refusal)
                    if refusal.status.is_some_and(|s| s == 403 || s == 404)
                        && conversation != self.threads.channel() =>
                {
                    return Ok(());
                }
                Err(refusal) => return Err(refusal.error),
            };
            let mut messages: Vec<Message> = serde_json::from_value(page).map_err(|e| {
                connector_core::Error::backend(
                    crate::KIND,
                    "backfill: Discord answered with messages we cannot read",
                    e,
                )
            })?;
            messages.sort_by_key(|m| m.id.get());
            let full = messages.len() >= PAGE;
            for message in &messages {
                after = after.max(message.id.get());
                self.message(message).await;
            }
            if !full {
                return Ok(());
            }
        }
    }
}

/// The emoji of a reaction object as reaction events name it: the Unicode emoji, or `name:id`
/// for a custom one.
fn emoji_key(emoji: &Value) -> Option<String> {
    let name = emoji["name"].as_str();
    match emoji["id"].as_str() {
        Some(id) => Some(format!("{}:{id}", name.unwrap_or_default())),
        None => name.map(str::to_owned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn emojis_are_named_like_reaction_events() {
        assert_eq!(
            emoji_key(&json!({"id": null, "name": "👍"})).as_deref(),
            Some("👍")
        );
        assert_eq!(
            emoji_key(&json!({"id": "41771983429993937", "name": "LUL"})).as_deref(),
            Some("LUL:41771983429993937")
        );
        assert_eq!(emoji_key(&json!({"id": null, "name": null})), None);
    }
}
