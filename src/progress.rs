//! How long-running library work (a search's evaluations, training and scoring) reports progress: through a
//! [`Progress`] observer the caller passes in. The library never writes to the terminal itself; the command
//! line shows progress bars and messages on stderr (`cli::progress`), tests and benchmarks pass [`Quiet`].

use std::sync::Arc;

/// Receives progress reports. Implementations must tolerate calls from several threads at once.
pub trait Progress: Send + Sync + std::fmt::Debug {
    /// A one-line message (a training epoch, a cache hit, a warning that does not stop the work).
    fn message(&self, text: &str);
    /// Work of `total` units (e.g. design points) begins.
    fn begin(&self, total: u64);
    /// `n` more units are done.
    fn advance(&self, n: u64);
    /// The work begun last is over (finished or stopped).
    fn end(&self);
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl Progress for Quiet {
    fn message(&self, _text: &str) {}
    fn begin(&self, _total: u64) {}
    fn advance(&self, _n: u64) {}
    fn end(&self) {}
}

/// A shared [`Quiet`] observer.
pub fn quiet() -> Arc<dyn Progress> {
    Arc::new(Quiet)
}
