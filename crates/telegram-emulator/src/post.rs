//! [`Post`]: what a user sends in a test — text, the forum topic, the message it replies to, a
//! document.

/// A message a user sends with [`Emulator::post`](crate::Emulator::post).
///
/// ```
/// let post = telegram_emulator::Post::text("/status").in_topic(42).reply_to(7);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Post {
    pub(crate) text: String,
    pub(crate) thread_id: Option<i64>,
    pub(crate) reply_to: Option<i64>,
    pub(crate) document: Option<(String, Vec<u8>)>,
}

impl Post {
    /// A text message (the caption when a document is attached).
    #[must_use]
    pub fn text(text: impl Into<String>) -> Post {
        Post {
            text: text.into(),
            ..Post::default()
        }
    }

    /// Sends it in this forum topic (`message_thread_id`; 1 is General).
    #[must_use]
    pub fn in_topic(mut self, thread_id: i64) -> Post {
        self.thread_id = Some(thread_id);
        self
    }

    /// Replies to this message of the same chat; without [`in_topic`](Self::in_topic) the
    /// post lands in that message's topic.
    #[must_use]
    pub fn reply_to(mut self, message_id: i64) -> Post {
        self.reply_to = Some(message_id);
        self
    }

    /// Attaches a document; the text becomes its caption.
    #[must_use]
    pub fn document(mut self, file_name: impl Into<String>, data: impl Into<Vec<u8>>) -> Post {
        self.document = Some((file_name.into(), data.into()));
        self
    }
}
