//! Running the state directory's file work (a `connector_core::state_file::StateFile`) off the
//! async threads.

use connector_core::Result;
use connector_core::state_file::StateFile;

/// Runs `job` on `file` on tokio's blocking pool.
pub(crate) async fn on_disk<T: Send + 'static>(
    file: &StateFile,
    job: impl FnOnce(&StateFile) -> Result<T> + Send + 'static,
) -> Result<T> {
    file.on_blocking_pool(tokio::task::spawn_blocking, job)
        .await
}
