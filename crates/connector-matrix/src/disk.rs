//! Running the state directory's file work (a `connector_core::state_file::StateFile`) off the
//! async threads.

use connector_core::{Error, Result};

use crate::KIND;

/// Runs the file work `job` on tokio's blocking pool.
pub(crate) async fn on_disk<T, F>(job: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| Error::Backend {
            kind: KIND.into(),
            message: "the task reading or writing the state directory failed".into(),
            source: Some(Box::new(e)),
        })?
}
