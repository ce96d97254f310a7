//! Sending a long message as ordered parts, each with its own idempotency key.

use std::future::Future;

use crate::chunking::Chunker;
use crate::error::{Error, Result};
use crate::ids::{IdempotencyKey, MessageId};

/// Splits `text` with `chunker` and sends the parts in order with `send_part(index, text, key)`.
///
/// Part `i` is sent with `key.for_part(i)`, so retrying the whole message re-sends no part
/// twice on platforms with idempotent sends. Answers the ids of the parts; a failure on the
/// first part answers its error, a later failure [`Error::PartialSend`] saying how many parts
/// went out.
pub async fn send_in_parts<F, Fut>(
    chunker: &Chunker,
    text: &str,
    key: &IdempotencyKey,
    mut send_part: F,
) -> Result<Vec<MessageId>>
where
    F: FnMut(usize, String, IdempotencyKey) -> Fut,
    Fut: Future<Output = Result<MessageId>>,
{
    let parts = chunker.split_text(text);
    let total = parts.len();
    let mut ids = Vec::with_capacity(total);
    for (index, part) in parts.into_iter().enumerate() {
        match send_part(index, part, key.for_part(index)).await {
            Ok(id) => ids.push(id),
            Err(error) if index == 0 => return Err(error),
            Err(error) => {
                return Err(Error::PartialSend {
                    sent: index,
                    total,
                    source: Box::new(error),
                });
            }
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunking::LengthUnit;

    #[tokio::test]
    async fn reports_partial_failure() {
        let chunker = Chunker::new(32, LengthUnit::Chars).unwrap();
        let text = "word ".repeat(40);
        let key = IdempotencyKey::random();
        let result = send_in_parts(&chunker, &text, &key, |index, _, _| async move {
            if index < 2 {
                Ok(MessageId::new(index.to_string()))
            } else {
                Err(Error::Rejected {
                    kind: "x".into(),
                    reason: "no".into(),
                })
            }
        })
        .await;
        match result {
            Err(Error::PartialSend { sent: 2, total, .. }) => {
                assert_eq!(total, chunker.split(&text).len())
            }
            other => panic!("expected PartialSend, got {other:?}"),
        }
    }
}
