//! Hosting a platform emulator (Discord, Telegram, Slack) for tests: a tokio runtime of its own,
//! so it works from sync tests and from any async runtime; a listener on 127.0.0.1 (a free port
//! unless one is asked for); and stop and restart on the same port, with the emulator's state
//! kept, as a server that dies and comes back.
//!
//! ```
//! use emulator_host::Host;
//!
//! # fn main() -> Result<(), emulator_host::HostError> {
//! let host = Host::bind("demo-emulator", 0)?;
//! host.serve(|listener, mut shutdown| async move {
//!     // accept connections on `listener` until `shutdown` turns true
//!     let _ = (listener, shutdown.wait_for(|stop| *stop).await);
//! });
//! let port = host.port();
//! host.stop();
//! host.restart()?; // the same port again
//! assert_eq!(host.port(), port);
//! # Ok(()) }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket};
use tokio::runtime::Runtime;
use tokio::sync::watch;

/// How long [`Host::stop`] waits for the server to wind down.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// How long [`Host::restart`] keeps trying to bind the port again.
const REBIND_ATTEMPTS: u32 = 50;

/// What can go wrong when hosting an emulator.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The listening socket could not be bound.
    #[error("cannot listen on 127.0.0.1:{port}")]
    Bind {
        /// The port asked for (0 for any free port).
        port: u16,
        /// Why binding failed.
        #[source]
        source: std::io::Error,
    },
    /// The emulator's own tokio runtime could not be built.
    #[error("cannot start the emulator's runtime")]
    Runtime(#[source] std::io::Error),
}

/// Serves connections from a listener until its shutdown signal turns `true`.
type ServeFn = Arc<
    dyn Fn(TcpListener, watch::Receiver<bool>) -> Pin<Box<dyn Future<Output = ()> + Send>>
        + Send
        + Sync,
>;

/// One serving: its shutdown signal, and word when it has wound down.
struct Serving {
    shutdown: watch::Sender<bool>,
    done: std_mpsc::Receiver<()>,
}

/// A runtime and a port for one emulator (see the crate docs).
pub struct Host {
    runtime: Option<Runtime>,
    port: u16,
    /// The listener bound by [`Host::bind`], until [`Host::serve`] takes it.
    listener: Mutex<Option<TcpListener>>,
    serve: Mutex<Option<ServeFn>>,
    serving: Mutex<Option<Serving>>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("port", &self.port)
            .field("running", &self.is_running())
            .finish_non_exhaustive()
    }
}

impl Host {
    /// A runtime whose threads are called `name`, and a listener on 127.0.0.1:`port` (0: any
    /// free port). Nothing is served until [`serve`](Self::serve).
    ///
    /// # Errors
    ///
    /// When the runtime cannot be built or the port cannot be bound.
    pub fn bind(name: &str, port: u16) -> Result<Host, HostError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(name)
            .enable_all()
            .build()
            .map_err(HostError::Runtime)?;
        let listener = listen(&runtime, port)?;
        let port = listener.local_addr().map_or(port, |a| a.port());
        Ok(Host {
            runtime: Some(runtime),
            port,
            listener: Mutex::new(Some(listener)),
            serve: Mutex::new(None),
            serving: Mutex::new(None),
        })
    }

    /// Starts serving the bound listener with `serve`, which runs until its shutdown signal
    /// turns `true`; [`restart`](Self::restart) calls it again with a new listener.
    pub fn serve<F, Fut>(&self, serve: F)
    where
        F: Fn(TcpListener, watch::Receiver<bool>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let serve: ServeFn =
            Arc::new(move |listener, shutdown| Box::pin(serve(listener, shutdown)));
        *lock(&self.serve) = Some(serve);
        if let Some(listener) = lock(&self.listener).take() {
            self.start(listener);
        }
    }

    fn start(&self, listener: TcpListener) {
        let Some(serve) = lock(&self.serve).clone() else {
            return;
        };
        let (shutdown, signal) = watch::channel(false);
        let (done_tx, done) = std_mpsc::channel();
        self.runtime().spawn(async move {
            serve(listener, signal).await;
            let _ = done_tx.send(());
        });
        *lock(&self.serving) = Some(Serving { shutdown, done });
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The emulator's runtime (to spawn work on it, or block on it from a sync test).
    ///
    /// # Panics
    ///
    /// Never while the host lives: the runtime is only taken when it is dropped.
    pub fn runtime(&self) -> &Runtime {
        self.runtime
            .as_ref()
            .expect("the runtime lives as long as the host")
    }

    /// Stops serving: the port is released and the server's connections are dropped without
    /// an answer, as when a server dies. The emulator's state is kept.
    pub fn stop(&self) {
        if let Some(serving) = lock(&self.serving).take() {
            let _ = serving.shutdown.send(true);
            let _ = serving.done.recv_timeout(STOP_TIMEOUT);
        }
    }

    /// Serves again on the same port after [`stop`](Self::stop) (stopping first if running).
    ///
    /// # Errors
    ///
    /// When the port cannot be bound again within a few seconds.
    pub fn restart(&self) -> Result<(), HostError> {
        self.stop();
        let mut attempts = 0;
        let listener = loop {
            match listen(self.runtime(), self.port) {
                Ok(listener) => break listener,
                Err(_) if attempts < REBIND_ATTEMPTS => {
                    attempts += 1;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => return Err(e),
            }
        };
        self.start(listener);
        Ok(())
    }

    /// Whether it is serving (not [`stop`](Self::stop)ped).
    pub fn is_running(&self) -> bool {
        lock(&self.serving).is_some()
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        if let Some(serving) = lock(&self.serving).take() {
            let _ = serving.shutdown.send(true);
        }
        if let Some(runtime) = self.runtime.take() {
            // Safe inside an async context, unlike dropping the runtime.
            runtime.shutdown_background();
        }
    }
}

/// A listener on 127.0.0.1:`port`, with `SO_REUSEADDR` so a restart can take the port again.
fn listen(runtime: &Runtime, port: u16) -> Result<TcpListener, HostError> {
    let _guard = runtime.enter();
    let bind_error = |source| HostError::Bind { port, source };
    let socket = TcpSocket::new_v4().map_err(bind_error)?;
    socket.set_reuseaddr(true).map_err(bind_error)?;
    socket
        .bind(std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        .map_err(bind_error)?;
    socket.listen(1024).map_err(bind_error)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
