//! Threads, the two ways Telegram has them.
//!
//! * **Forum supergroups** (`getChat` says `is_forum`): a thread is a forum topic, named by
//!   its `message_thread_id` (the id of the service message that created it). A message in a
//!   topic arrives with that id; General (thread 1) is no thread. Sending into a thread that
//!   names a message of General starts a topic for it (`createForumTopic`, named after the
//!   message's first line) and answers the topic's id; later sends into either id land in that
//!   topic, never in General; so does a send into the thread of a message posted in a topic.
//!   Which topic was started for which message is kept in `threads.json`, so a restart does
//!   not start a second one.
//! * **Everywhere else** (a private chat, a group): a thread is a reply chain, named by the id
//!   of the message that started it. A message replying to another belongs to the thread of
//!   the one it replies to (or starts one at it); sending into thread `X` replies to `X`
//!   (`reply_parameters`). The chains are remembered for the most recent
//!   [`REMEMBERED`] messages; a reply to an older one starts its own thread at that message.
//!
//! The book also keeps the ids of the bot's latest messages (the last 1000 saved in
//! `threads.json`), so the operator's reactions on them are recognised after a restart too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use connector_core::state_file::{Durability, StateFile};
use connector_core::{Error, Result, ThreadId};
use tokio::task::spawn_blocking;

use crate::updates::Message;

/// How many messages the book remembers (chains, texts, own ids).
pub(crate) const REMEMBERED: usize = 10_000;

/// How many of the bot's latest message ids are saved (reactions on them are delivered after
/// a restart too).
const SAVED_OWN: usize = 1_000;

/// What `threads.json` holds.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Saved {
    /// Messages of General → the topic started for them.
    #[serde(default)]
    started: BTreeMap<i64, i64>,
    /// The bot's latest message ids.
    #[serde(default)]
    own: Vec<i64>,
}

/// The longest topic name Telegram takes (`createForumTopic`: 1-128 characters).
const TOPIC_NAME_MAX: usize = 128;

/// Where a send into a thread goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// Into this forum topic (`message_thread_id`).
    Topic(i64),
    /// A reply to this message, in a chat without topics (`reply_parameters`); the thread is
    /// named by it.
    ReplyTo(i64),
    /// A forum topic to start for this message of General, named `name`.
    Start {
        /// The message it is started for.
        root: i64,
        /// The topic's name.
        name: String,
    },
}

#[derive(Debug, Default)]
struct Book {
    /// Reply chains: message → the message that started its thread; in a forum, a message of
    /// a topic → the topic.
    roots: BTreeMap<i64, i64>,
    /// Forum topics seen or started.
    topics: BTreeSet<i64>,
    /// Messages of General → the topic started for them (saved).
    started: BTreeMap<i64, i64>,
    /// Texts of recent messages of General, to name a topic started for one.
    texts: BTreeMap<i64, String>,
    /// Ids of the bot's recent messages.
    own: BTreeSet<i64>,
}

/// The threads of the connector's chat.
#[derive(Debug)]
pub(crate) struct Threads {
    forum: bool,
    book: Mutex<Book>,
    file: StateFile,
}

fn trim<K: Ord + Copy, V>(map: &mut BTreeMap<K, V>) {
    while map.len() > REMEMBERED {
        map.pop_first();
    }
}

impl Threads {
    /// The threads of a forum (`forum`) or of a chat with reply chains, with the topics
    /// started before loaded from `path`.
    pub(crate) async fn load(forum: bool, path: PathBuf) -> Result<Self> {
        let file = StateFile::new(path)
            .holding("the forum topics started for messages and the bot's latest messages")
            .without_it(
                "a thread asked for again by its first message would get a new topic, and \
                 reactions on the bot's earlier messages would not be delivered",
            );
        let saved: Saved = file
            .on_blocking_pool(spawn_blocking, |file| {
                file.read_with(|bytes| serde_json::from_slice::<Saved>(bytes))
            })
            .await?
            .unwrap_or_default();
        let book = Book {
            topics: saved.started.values().copied().collect(),
            started: saved.started,
            own: saved.own.into_iter().collect(),
            ..Book::default()
        };
        Ok(Self {
            forum,
            book: Mutex::new(book),
            file,
        })
    }

    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the chat is a forum (threads are topics).
    pub(crate) fn is_forum(&self) -> bool {
        self.forum
    }

    /// The thread of an inbound message (see the module docs), remembered.
    pub(crate) fn inbound(&self, message: &Message) -> Option<i64> {
        let mut book = self.book();
        if self.forum {
            if let Some(topic) = message.topic() {
                book.topics.insert(topic);
                // A send into the thread of this message lands in its topic.
                book.roots.insert(message.message_id, topic);
                trim(&mut book.roots);
                return Some(topic);
            }
            if let Some(text) = message.text() {
                book.texts.insert(message.message_id, text.to_owned());
                trim(&mut book.texts);
            }
            return None;
        }
        let replied = message.reply_to_message.as_ref()?.message_id;
        let root = book.roots.get(&replied).copied().unwrap_or(replied);
        book.roots.insert(message.message_id, root);
        trim(&mut book.roots);
        Some(root)
    }

    /// A forum topic was created (its service message arrived).
    pub(crate) fn topic_created(&self, topic: i64) {
        self.book().topics.insert(topic);
    }

    /// The bot sent message `id` into `thread`: remembered, and saved (without fsync).
    pub(crate) async fn sent(&self, id: i64, thread: Option<i64>) {
        {
            let mut book = self.book();
            book.own.insert(id);
            while book.own.len() > REMEMBERED {
                book.own.pop_first();
            }
            if let Some(root) = thread {
                book.roots.insert(id, root);
                trim(&mut book.roots);
            }
        }
        if let Err(error) = self.save(Durability::Volatile).await {
            tracing::warn!(%error, "cannot save the bot's latest messages");
        }
    }

    /// Whether `id` is one of the bot's recent messages.
    pub(crate) fn is_own(&self, id: i64) -> bool {
        self.book().own.contains(&id)
    }

    /// Where a send into `thread` goes.
    pub(crate) fn target(&self, thread: &ThreadId) -> Result<Target> {
        let id = parse(thread)?;
        if !self.forum {
            return Ok(Target::ReplyTo(id));
        }
        let book = self.book();
        if let Some(topic) = book.started.get(&id).or_else(|| book.roots.get(&id)) {
            return Ok(Target::Topic(*topic));
        }
        match book.texts.get(&id) {
            Some(text) if !book.topics.contains(&id) => Ok(Target::Start {
                root: id,
                name: topic_name(text, id),
            }),
            _ => Ok(Target::Topic(id)),
        }
    }

    /// The name of a topic started for a message the connector never saw (its text unknown).
    pub(crate) fn unseen_topic_name(id: i64) -> String {
        topic_name("", id)
    }

    /// A topic was started for message `root`: remembered and saved.
    pub(crate) async fn started(&self, root: i64, topic: i64) -> Result<()> {
        {
            let mut book = self.book();
            book.topics.insert(topic);
            book.started.insert(root, topic);
        }
        self.save(Durability::Synced).await
    }

    async fn save(&self, durability: Durability) -> Result<()> {
        let text = {
            let book = self.book();
            let skip = book.own.len().saturating_sub(SAVED_OWN);
            let saved = Saved {
                started: book.started.clone(),
                own: book.own.iter().skip(skip).copied().collect(),
            };
            serde_json::to_string(&saved).unwrap_or_default()
        };
        self.file
            .on_blocking_pool(spawn_blocking, move |file| {
                file.write(text.as_bytes(), durability)
            })
            .await
    }
}

/// A thread id as Telegram's integer.
pub(crate) fn parse(thread: &ThreadId) -> Result<i64> {
    thread
        .as_str()
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| Error::InvalidInput {
            field: "thread_id",
            message: format!(
                "{:?} is not a Telegram thread: a message id or a forum topic id",
                thread.as_str()
            ),
        })
}

/// A topic's name for a message: its first line, shortened to Telegram's limit.
fn topic_name(text: &str, id: i64) -> String {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty());
    match line {
        Some(line) if line.chars().count() > TOPIC_NAME_MAX => {
            let mut name: String = line.chars().take(TOPIC_NAME_MAX - 1).collect();
            name.push('…');
            name
        }
        Some(line) => line.to_owned(),
        None => format!("Thread {id}"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn message(id: i64, reply_to: Option<i64>, topic: Option<i64>) -> Message {
        let mut value = json!({"message_id": id, "chat": {"id": 1, "type": "private"},
            "text": format!("text {id}")});
        if let Some(r) = reply_to {
            value["reply_to_message"] = json!({"message_id": r, "chat": {"id": 1}});
        }
        if let Some(t) = topic {
            value["message_thread_id"] = json!(t);
            value["is_topic_message"] = json!(true);
        }
        serde_json::from_value(value).unwrap()
    }

    #[tokio::test]
    async fn reply_chains_are_named_by_their_first_message() {
        let dir = tempfile::tempdir().unwrap();
        let threads = Threads::load(false, dir.path().join("t.json"))
            .await
            .unwrap();
        assert_eq!(threads.inbound(&message(1, None, None)), None);
        assert_eq!(threads.inbound(&message(2, Some(1), None)), Some(1));
        threads.sent(3, Some(1)).await;
        assert_eq!(threads.inbound(&message(4, Some(3), None)), Some(1));
        assert_eq!(
            threads.target(&ThreadId::new("1")).unwrap(),
            Target::ReplyTo(1)
        );
        assert!(threads.target(&ThreadId::new("x")).is_err());
    }

    #[tokio::test]
    async fn forum_threads_are_topics_started_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.json");
        let threads = Threads::load(true, path.clone()).await.unwrap();
        assert_eq!(threads.inbound(&message(10, None, None)), None);
        assert_eq!(
            threads.target(&ThreadId::new("10")).unwrap(),
            Target::Start {
                root: 10,
                name: "text 10".into()
            }
        );
        threads.started(10, 11).await.unwrap();
        assert_eq!(threads.inbound(&message(12, None, Some(11))), Some(11));
        assert_eq!(
            threads.target(&ThreadId::new("12")).unwrap(),
            Target::Topic(11),
            "a message of a topic names its topic"
        );
        threads.sent(13, Some(11)).await;
        let again = Threads::load(true, path).await.unwrap();
        assert!(again.is_own(13), "the bot's messages are saved");
        assert_eq!(
            again.target(&ThreadId::new("10")).unwrap(),
            Target::Topic(11)
        );
        assert_eq!(
            again.target(&ThreadId::new("11")).unwrap(),
            Target::Topic(11)
        );
        assert_eq!(topic_name(&"x".repeat(300), 1).chars().count(), 128);
    }
}
