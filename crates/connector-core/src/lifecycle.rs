//! [`Lifecycle`]: the open/closed state every connector shares — the shutdown signal, the
//! background tasks, `ensure_open`, a bounded `close`, the end of the subscriptions and abort on
//! drop.
//!
//! A backend keeps one `Lifecycle` and adds only what is its own: stopping its platform's
//! client, releasing its state directory.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Poll;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::health::ConnectorHealth;
use crate::inbox::Inbox;
use crate::subscription::Subscription;

/// How long [`Lifecycle::close`] usually gives the background tasks to finish what they are
/// doing (a delivery, a batch, a position saved) before they are aborted.
pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// The lifecycle of one connector: open until [`close`](Self::close) (or drop), with the
/// background tasks that run while it is open and the [`Inbox`] its subscriptions read.
///
/// - Tasks that have something to finish watch the [`shutdown_signal`](Self::shutdown_signal)
///   and are started with [`spawn`](Self::spawn) (or [`adopt`](Self::adopt)ed when they run
///   elsewhere); tasks with nothing to finish use [`spawn_until_closed`](Self::spawn_until_closed).
/// - Every operation of the connector starts with [`ensure_open`](Self::ensure_open), which
///   answers [`Error::Closed`] once closing began; [`subscribe`](Self::subscribe) is the
///   inbox's subscription behind that check.
/// - [`close`](Self::close) raises the signal, waits for the tasks up to a bound, aborts those
///   still running, runs the backend's own steps, then ends the subscriptions — once, however
///   often it is called.
/// - Dropping it raises the signal, aborts the tasks and ends the subscriptions at once.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> connector_core::Result<()> {
/// use std::sync::Arc;
/// use std::time::Duration;
/// use connector_core::lifecycle::Lifecycle;
/// use connector_core::{Inbox, SenderPolicy};
///
/// let inbox = Arc::new(Inbox::new(SenderPolicy::allow_any()));
/// let lifecycle = Lifecycle::new("example", Arc::clone(&inbox));
/// let mut shutdown = lifecycle.shutdown_signal();
/// lifecycle.spawn("poller", async move {
///     // … poll the platform into the inbox until asked to stop, then save the position …
///     let _ = shutdown.wait_for(|closing| *closing).await;
/// });
/// let mut messages = lifecycle.subscribe()?;
///
/// lifecycle
///     .close(Duration::from_secs(5), async {
///         // … the backend's own steps: log the client off, release the state directory …
///     })
///     .await;
/// assert!(messages.recv().await.is_none(), "the subscription ended");
/// assert_eq!(
///     lifecycle.ensure_open().unwrap_err().to_string(),
///     "the example connector is closed"
/// );
/// # Ok(()) }
/// ```
pub struct Lifecycle {
    kind: &'static str,
    inbox: Arc<Inbox>,
    shutdown: watch::Sender<bool>,
    tasks: Mutex<Vec<Task>>,
    closed: AtomicBool,
}

/// A background task and the name it is logged under.
struct Task {
    name: &'static str,
    handle: JoinHandle<()>,
}

impl Lifecycle {
    /// An open lifecycle for a connector of `kind` (named in [`Error::Closed`]) whose
    /// subscriptions read `inbox`, with no task yet.
    pub fn new(kind: &'static str, inbox: Arc<Inbox>) -> Self {
        Self {
            kind,
            inbox,
            shutdown: watch::Sender::new(false),
            tasks: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
        }
    }

    /// The shutdown signal: `true` once closing began (or the lifecycle was dropped, when the
    /// receiver also sees the sender gone). A task waits for it with
    /// `signal.wait_for(|closing| *closing)`.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Runs `task` on the current tokio runtime as a background task of the connector, named
    /// `name` in logs. The task should end soon after the [shutdown
    /// signal](Self::shutdown_signal) is raised; [`close`](Self::close) aborts it otherwise.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, as [`tokio::spawn`].
    pub fn spawn<F>(&self, name: &'static str, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.adopt(name, tokio::spawn(task));
    }

    /// Runs `task` as [`spawn`](Self::spawn) does, and drops it at its next await once the
    /// shutdown signal is raised: for a task with nothing to finish (a reader, a supervisor).
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, as [`tokio::spawn`].
    pub fn spawn_until_closed<F>(&self, name: &'static str, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let mut shutdown = self.shutdown_signal();
        self.spawn(name, async move {
            let mut task = std::pin::pin!(task);
            let mut closing = std::pin::pin!(shutdown.wait_for(|closing| *closing));
            // The signal first: once it is raised the task is not polled again.
            std::future::poll_fn(|cx| {
                if closing.as_mut().poll(cx).is_ready() || task.as_mut().poll(cx).is_ready() {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            })
            .await;
        });
    }

    /// Makes a task started elsewhere (on a runtime of the backend's own, say) a background
    /// task of the connector: [`close`](Self::close) waits for it, drop aborts it. Adopted
    /// after closing began, it is aborted at once.
    pub fn adopt(&self, name: &'static str, handle: JoinHandle<()>) {
        let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        if self.is_closed() {
            handle.abort();
        } else {
            tasks.push(Task { name, handle });
        }
    }

    /// Whether closing began.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// `Ok` while the connector is open; [`Error::Closed`] naming its kind once closing began.
    pub fn ensure_open(&self) -> Result<()> {
        if self.is_closed() {
            Err(Error::Closed {
                kind: self.kind.into(),
            })
        } else {
            Ok(())
        }
    }

    /// A subscription to the inbox's messages, or [`Error::Closed`] once closing began.
    pub fn subscribe(&self) -> Result<Subscription> {
        self.ensure_open()?;
        Ok(self.inbox.subscribe())
    }

    /// What health reports once closing began (unreachable: "the connector is closed"), or
    /// `None` while the connector is open.
    pub fn closed_health(&self) -> Option<ConnectorHealth> {
        self.is_closed()
            .then(|| ConnectorHealth::unreachable("the connector is closed"))
    }

    /// Closes: marks the connector closed, raises the shutdown signal and waits for the
    /// background tasks, all of them within `timeout`; a task still running then is aborted
    /// (with a warning) and waited for until it is gone, so nothing it holds outlives `close`.
    /// Then runs `backend_steps` (stopping the platform's client, releasing a state directory)
    /// and ends the subscriptions.
    ///
    /// Only the first call does all this; a later or concurrent one returns at once, without
    /// running its `backend_steps`.
    pub async fn close(&self, timeout: Duration, backend_steps: impl Future<Output = ()>) {
        let tasks = {
            let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
            if self.closed.swap(true, Ordering::AcqRel) {
                return;
            }
            std::mem::take(&mut *tasks)
        };
        self.shutdown.send_replace(true);
        let deadline = tokio::time::Instant::now() + timeout;
        for Task { name, mut handle } in tasks {
            let finished = match tokio::time::timeout_at(deadline, &mut handle).await {
                Ok(finished) => finished,
                Err(_) => {
                    tracing::warn!(
                        kind = self.kind,
                        "the {name} did not stop within {timeout:?}; aborting it"
                    );
                    handle.abort();
                    handle.await
                }
            };
            if let Err(error) = finished
                && error.is_panic()
            {
                tracing::debug!(kind = self.kind, "the {name} had panicked: {error}");
            }
        }
        backend_steps.await;
        self.inbox.close();
    }

    /// Stops at once: marks the connector closed, raises the shutdown signal, aborts the
    /// background tasks without waiting for them and ends the subscriptions. What [`Drop`]
    /// does; a backend whose own `Drop` has steps that must come after the tasks are stopped
    /// calls it first.
    pub fn abort(&self) {
        let tasks = {
            let mut tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
            self.closed.store(true, Ordering::Release);
            std::mem::take(&mut *tasks)
        };
        self.shutdown.send_replace(true);
        for task in tasks {
            task.handle.abort();
        }
        self.inbox.close();
    }
}

impl Drop for Lifecycle {
    fn drop(&mut self) {
        self.abort();
    }
}

impl std::fmt::Debug for Lifecycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("Lifecycle")
            .field("kind", &self.kind)
            .field("closed", &self.is_closed())
            .field(
                "tasks",
                &tasks.iter().map(|task| task.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;
    use crate::allowlist::SenderPolicy;

    fn lifecycle() -> Lifecycle {
        Lifecycle::new("test", Arc::new(Inbox::new(SenderPolicy::allow_any())))
    }

    /// A task that never ends by itself and holds a clone of `held` while it lives.
    fn forever_holding(held: &Arc<()>) -> impl Future<Output = ()> + Send + 'static {
        let inside = Arc::clone(held);
        async move {
            let _held = inside;
            std::future::pending::<()>().await;
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn close_waits_for_a_task_that_finishes_after_the_signal() {
        let lifecycle = lifecycle();
        let saved = Arc::new(AtomicBool::new(false));
        let mut shutdown = lifecycle.shutdown_signal();
        let done = Arc::clone(&saved);
        lifecycle.spawn("pump", async move {
            let _ = shutdown.wait_for(|closing| *closing).await;
            tokio::task::yield_now().await;
            done.store(true, Ordering::SeqCst);
        });
        assert!(lifecycle.ensure_open().is_ok());
        assert!(lifecycle.closed_health().is_none());
        lifecycle.close(Duration::from_secs(5), async {}).await;
        assert!(saved.load(Ordering::SeqCst), "the task finished its work");
        assert!(lifecycle.is_closed());
        assert!(matches!(
            lifecycle.ensure_open(),
            Err(Error::Closed { kind }) if kind == "test"
        ));
        assert!(matches!(lifecycle.subscribe(), Err(Error::Closed { .. })));
        let health = lifecycle.closed_health().expect("closed");
        assert!(!health.reachable);
        assert_eq!(health.detail.as_deref(), Some("the connector is closed"));
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn close_aborts_a_task_that_ignores_the_signal_after_the_timeout() {
        let lifecycle = lifecycle();
        let held = Arc::new(());
        lifecycle.spawn("stubborn", forever_holding(&held));
        let started = tokio::time::Instant::now();
        lifecycle.close(Duration::from_secs(2), async {}).await;
        assert_eq!(started.elapsed(), Duration::from_secs(2));
        assert_eq!(
            Arc::strong_count(&held),
            1,
            "the aborted task is gone when close returns"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_backend_steps_run_once_after_the_tasks_and_before_the_subscriptions_end() {
        let lifecycle = lifecycle();
        let mut subscription = lifecycle.subscribe().expect("open");
        let steps = AtomicUsize::new(0);
        let mut shutdown = lifecycle.shutdown_signal();
        let stopped = Arc::new(AtomicBool::new(false));
        let task_stopped = Arc::clone(&stopped);
        lifecycle.spawn("pump", async move {
            let _ = shutdown.wait_for(|closing| *closing).await;
            task_stopped.store(true, Ordering::SeqCst);
        });
        let step = || async {
            assert!(stopped.load(Ordering::SeqCst), "after the tasks");
            assert!(!lifecycle.inbox.is_closed(), "before the subscriptions end");
            steps.fetch_add(1, Ordering::SeqCst);
        };
        lifecycle.close(Duration::ZERO, step()).await;
        lifecycle.close(Duration::ZERO, step()).await;
        assert_eq!(steps.load(Ordering::SeqCst), 1);
        assert!(
            subscription.recv().await.is_none(),
            "the subscription ended"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_task_spawned_until_closed_is_dropped_on_close() {
        let lifecycle = lifecycle();
        let held = Arc::new(());
        lifecycle.spawn_until_closed("reader", forever_holding(&held));
        tokio::task::yield_now().await;
        assert_eq!(Arc::strong_count(&held), 2);
        lifecycle.close(Duration::from_secs(3600), async {}).await;
        assert_eq!(Arc::strong_count(&held), 1);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_task_adopted_after_close_is_aborted() {
        let lifecycle = lifecycle();
        lifecycle.close(Duration::ZERO, async {}).await;
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&runs);
        let handle = tokio::spawn(async move {
            counted.fetch_add(1, Ordering::SeqCst);
        });
        lifecycle.adopt("late", handle);
        tokio::task::yield_now().await;
        assert_eq!(runs.load(Ordering::SeqCst), 0, "aborted before it ran");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn drop_raises_the_signal_aborts_the_tasks_and_ends_the_subscriptions() {
        let lifecycle = lifecycle();
        let mut subscription = lifecycle.subscribe().expect("open");
        let held = Arc::new(());
        let shutdown = lifecycle.shutdown_signal();
        lifecycle.spawn("stubborn", forever_holding(&held));
        tokio::task::yield_now().await;
        drop(lifecycle);
        assert!(*shutdown.borrow());
        tokio::task::yield_now().await;
        assert_eq!(Arc::strong_count(&held), 1);
        assert!(subscription.recv().await.is_none());
    }
}
