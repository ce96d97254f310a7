//! The checks of the conformance suite, one public function each.

use std::time::Duration;

use connector_core::{Capability, Error, InboundMessage, OutboundMessage, Subscription, ThreadId};

use crate::peer::{Fixture, Posted};

/// A text no other run can have posted.
pub(crate) fn unique(label: &str) -> String {
    format!("{label} {:08x}", rand_u32())
}

fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    hasher.finish() as u32
}

pub(crate) async fn recv(
    fixture: &Fixture,
    subscription: &mut Subscription,
    what: &str,
) -> InboundMessage {
    match tokio::time::timeout(fixture.patience, subscription.recv()).await {
        Ok(Some(message)) => message,
        Ok(None) => panic!("subscription closed while waiting for {what}"),
        Err(_) => panic!("{what} did not arrive within {:?}", fixture.patience),
    }
}

pub(crate) async fn posted(fixture: &Fixture, what: &str) -> Posted {
    match fixture.peer.next_posted(fixture.patience).await {
        Ok(Some(posted)) => posted,
        Ok(None) => panic!(
            "{what} was not seen at the peer within {:?}",
            fixture.patience
        ),
        Err(e) => panic!("peer failed while waiting for {what}: {e}"),
    }
}

pub(crate) async fn post(fixture: &Fixture, text: &str, thread: Option<&ThreadId>) {
    fixture
        .peer
        .post_as_operator(text, thread)
        .await
        .unwrap_or_else(|e| panic!("operator post {text:?}: {e}"));
}

/// A sent message is seen at the peer, with its text and no thread.
pub async fn send_then_observe_at_peer(fixture: &Fixture) {
    let text = unique("conformance send");
    let receipt = fixture
        .connector
        .send(OutboundMessage::new(&text))
        .await
        .expect("send");
    assert_eq!(
        receipt.thread_id, None,
        "a send without thread_id must not land in a thread"
    );
    let seen = posted(fixture, "the sent message").await;
    assert_eq!(seen.text.trim(), text, "text at the peer");
    assert_eq!(seen.thread_id, None);
}

/// Every subscriber gets every operator message exactly once, in order.
pub async fn operator_post_reaches_each_subscriber_once(fixture: &Fixture) {
    let mut first = fixture.connector.subscribe().await.expect("subscribe");
    let mut second = fixture.connector.subscribe().await.expect("subscribe");
    let texts: Vec<String> = (0..3)
        .map(|i| unique(&format!("operator says {i}")))
        .collect();
    for text in &texts {
        post(fixture, text, None).await;
    }
    let sentinel = unique("sentinel");
    post(fixture, &sentinel, None).await;
    for subscription in [&mut first, &mut second] {
        let mut ids = Vec::new();
        for text in &texts {
            let message = recv(fixture, subscription, text).await;
            assert_eq!(
                message.text.trim(),
                text,
                "messages arrive in order, once each"
            );
            assert_eq!(message.thread_id, None);
            assert!(
                !message.sender.as_str().is_empty(),
                "inbound messages name their sender"
            );
            assert!(
                !message.message_id.as_str().is_empty(),
                "inbound messages carry the platform id"
            );
            ids.push(message.message_id);
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), texts.len(), "message ids are distinct");
        let next = recv(fixture, subscription, "the sentinel").await;
        assert_eq!(next.text.trim(), sentinel, "nothing is delivered twice");
    }
}

/// A reply into a thread started from an operator's message lands in that thread, and the
/// operator's answer in the thread comes back with its thread id.
pub async fn thread_round_trip(fixture: &Fixture) {
    let connector = &fixture.connector;
    let mut subscription = connector.subscribe().await.expect("subscribe");
    if !connector.capabilities().supports(Capability::Threads) {
        let result = connector
            .send(OutboundMessage::new("x").in_thread("t"))
            .await;
        assert!(
            matches!(
                result,
                Err(Error::Unsupported {
                    capability: Capability::Threads,
                    ..
                })
            ),
            "a connector without threads must refuse thread_id with Unsupported, got {result:?}"
        );
        return;
    }
    let root_text = unique("thread root");
    post(fixture, &root_text, None).await;
    let root = recv(fixture, &mut subscription, "the thread root").await;
    let reply = unique("reply in thread");
    let receipt = connector
        .send(OutboundMessage::new(&reply).in_thread(root.message_id.as_str()))
        .await
        .expect("send into a thread");
    let thread = receipt
        .thread_id
        .clone()
        .expect("the receipt names the thread");
    let seen = posted(fixture, "the thread reply").await;
    assert_eq!(seen.text.trim(), reply);
    assert_eq!(
        seen.thread_id.as_ref(),
        Some(&thread),
        "the reply lands in the thread"
    );

    let again = unique("second reply in thread");
    let receipt = connector
        .send(OutboundMessage::new(&again).in_thread(thread.clone()))
        .await
        .expect("send");
    assert_eq!(
        receipt.thread_id.as_ref(),
        Some(&thread),
        "later sends reuse the thread"
    );
    let seen = posted(fixture, "the second thread reply").await;
    assert_eq!(
        (seen.text.trim(), seen.thread_id.as_ref()),
        (again.as_str(), Some(&thread))
    );

    let answer = unique("operator answers in thread");
    post(fixture, &answer, Some(&thread)).await;
    let message = recv(fixture, &mut subscription, "the answer in the thread").await;
    assert_eq!(message.text.trim(), answer);
    assert_eq!(
        message.thread_id.as_ref(),
        Some(&thread),
        "inbound carries its thread id"
    );
}

/// The connector's own messages never come back to its subscribers.
pub async fn own_messages_are_filtered(fixture: &Fixture) {
    let mut subscription = fixture.connector.subscribe().await.expect("subscribe");
    let own = unique("own message");
    fixture
        .connector
        .send(OutboundMessage::new(&own))
        .await
        .expect("send");
    posted(fixture, "our own message").await;
    let sentinel = unique("sentinel after own");
    post(fixture, &sentinel, None).await;
    let next = recv(fixture, &mut subscription, "the sentinel").await;
    assert_eq!(
        next.text.trim(),
        sentinel,
        "our own message was delivered back to us"
    );
}

/// Messages from senders off the allow-list are dropped and counted in health.
pub async fn allow_list_is_enforced(fixture: &Fixture) {
    let mut subscription = fixture.connector.subscribe().await.expect("subscribe");
    let before = fixture.connector.health().await.rejected_senders;
    let stranger = unique("stranger says");
    match fixture.peer.post_as_stranger(&stranger).await {
        Ok(()) => {}
        Err(Error::Unsupported { .. }) => {
            return single_sender_allow_list(fixture, &mut subscription).await;
        }
        Err(e) => panic!("stranger post: {e}"),
    }
    let sentinel = unique("sentinel after stranger");
    post(fixture, &sentinel, None).await;
    let next = recv(fixture, &mut subscription, "the sentinel").await;
    assert_eq!(
        next.text.trim(),
        sentinel,
        "a stranger's message was delivered"
    );
    let health = fixture.connector.health().await;
    assert!(
        health.rejected_senders > before,
        "the dropped message is counted in health: {health:?}"
    );
    assert!(
        health
            .detail
            .unwrap_or_default()
            .contains("allowed_senders"),
        "and named in the detail"
    );
}

/// On a single-sender platform: the strict connector, whose allow-list leaves the operator
/// out, drops and counts what the operator posts, while the normal connector receives it.
async fn single_sender_allow_list(fixture: &Fixture, subscription: &mut Subscription) {
    let strict = fixture
        .strict
        .as_ref()
        .expect("a peer without strangers must come with Fixture::strict");
    let mut strict_subscription = strict.subscribe().await.expect("subscribe");
    let before = strict.health().await.rejected_senders;
    let text = unique("operator to both");
    post(fixture, &text, None).await;
    assert_eq!(
        recv(fixture, subscription, "the message").await.text.trim(),
        text
    );
    let counted = eventually(fixture.patience, || async {
        let health = strict.health().await;
        (health.rejected_senders > before).then_some(health)
    })
    .await
    .expect("the strict connector counts the operator's message as rejected");
    assert!(
        counted
            .detail
            .unwrap_or_default()
            .contains("allowed_senders"),
        "and names it in the detail"
    );
    assert!(
        strict_subscription.try_recv().is_none(),
        "the strict connector delivered a sender off its list"
    );
}

/// Text over the platform's limit arrives as several parts, each within the limit, in order,
/// with nothing lost.
pub async fn long_text_arrives_chunked_in_order(fixture: &Fixture) {
    let limit = fixture.connector.capabilities().max_message_len();
    let target = limit.map_or(6000, |l| l * 5 / 2);
    let tag = unique("long");
    let mut lines = Vec::new();
    let mut len = 0;
    while len < target {
        let line = format!("{tag} line {:05} of the long message", lines.len());
        len += line.len() + 1;
        lines.push(line);
    }
    let text = lines.join("\n");
    let receipt = fixture
        .connector
        .send(OutboundMessage::new(&text))
        .await
        .expect("send long text");
    let mut received = String::new();
    let mut parts = 0;
    let last = lines.last().expect("lines");
    while !received.contains(last.as_str()) {
        let part = posted(fixture, &format!("part {} of the long message", parts + 1)).await;
        if let Some(limit) = limit {
            assert!(
                part.text.chars().count() <= limit,
                "part {} is over the limit {limit}",
                parts + 1
            );
        }
        received.push_str(part.text.trim_end());
        received.push('\n');
        parts += 1;
    }
    let got: Vec<&str> = received
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    assert_eq!(got, lines, "every line arrives once, in order");
    if limit.is_some() {
        assert!(
            parts >= 3,
            "{target} characters over a limit of {limit:?} need several parts"
        );
        assert!(
            receipt.message_ids.is_empty() || receipt.message_ids.len() == parts,
            "one id per part"
        );
    }
}

/// A closed or dropped subscription receives nothing more, and does not hold the others up.
pub async fn unsubscribe_stops_delivery(fixture: &Fixture) {
    let mut closed = fixture.connector.subscribe().await.expect("subscribe");
    let dropped = fixture.connector.subscribe().await.expect("subscribe");
    let mut live = fixture.connector.subscribe().await.expect("subscribe");
    closed.close();
    drop(dropped);
    let text = unique("after unsubscribe");
    post(fixture, &text, None).await;
    assert_eq!(
        recv(fixture, &mut live, "the message").await.text.trim(),
        text
    );
    assert!(
        closed.recv().await.is_none(),
        "a closed subscription receives nothing"
    );
}

/// Health is true while the peer is up, false with a reason while it is down (and sends fail
/// within a bounded time), and true again once it is back.
pub async fn health_tracks_the_peer(fixture: &Fixture) {
    let connector = &fixture.connector;
    let health = connector.health().await;
    assert!(health.is_healthy(), "healthy at start: {health:?}");
    fixture.peer.take_down().await.expect("take the peer down");
    let down = eventually(fixture.patience, || async {
        let health = connector.health().await;
        (!health.is_healthy()).then_some(health)
    })
    .await
    .expect("health turns false while the peer is down");
    assert!(
        down.detail.as_deref().is_some_and(|d| !d.is_empty()),
        "with a reason: {down:?}"
    );
    let send = tokio::time::timeout(
        fixture.patience,
        connector.send(OutboundMessage::new("while down")),
    )
    .await;
    assert!(
        matches!(send, Ok(Err(_))),
        "a send while down fails within the time bound: {send:?}"
    );
    fixture.peer.bring_up().await.expect("bring the peer back");
    let last = std::sync::Mutex::new(None);
    let recovered = eventually(fixture.patience, || async {
        let health = connector.health().await;
        let healthy = health.is_healthy();
        *last.lock().unwrap() = Some(health);
        healthy.then_some(())
    })
    .await;
    assert!(
        recovered.is_some(),
        "health recovers once the peer is back; last report: {:?}",
        last.lock().unwrap()
    );
    let text = unique("after recovery");
    eventually(fixture.patience, || async {
        connector.send(OutboundMessage::new(&text)).await.ok()
    })
    .await
    .expect("sends work again");
    loop {
        let seen = posted(fixture, "the message sent after recovery").await;
        if seen.text.trim() == text {
            break;
        }
    }
}

/// Polls `probe` every 100 ms until it answers `Some`, for at most `patience`.
pub(crate) async fn eventually<T, F, Fut>(patience: Duration, mut probe: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        if let Some(value) = probe().await {
            return Some(value);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
