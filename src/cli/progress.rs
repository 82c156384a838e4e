//! The terminal's [`Progress`] observer: a progress bar with rate and ETA on stderr for counted work, and
//! messages on stderr printed above the bar (the bar is hidden when stderr is not a terminal); `-q` silences
//! both.

use crate::progress::Progress;
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::{Arc, Mutex};

/// Progress on stderr.
#[derive(Debug, Default)]
pub struct Terminal {
    bar: Mutex<Option<ProgressBar>>,
}

/// A shared terminal observer.
pub fn terminal() -> Arc<dyn Progress> {
    Arc::new(Terminal::default())
}

impl Progress for Terminal {
    fn message(&self, text: &str) {
        if super::output::verbosity() == super::output::Verbosity::Quiet {
            return;
        }
        match self.bar.lock().expect("progress bar lock").as_ref() {
            Some(bar) => bar.suspend(|| eprintln!("{text}")),
            None => eprintln!("{text}"),
        }
    }

    fn begin(&self, total: u64) {
        if super::output::verbosity() == super::output::Verbosity::Quiet {
            return;
        }
        let bar = ProgressBar::new(total);
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} points, {per_sec}, ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        *self.bar.lock().expect("progress bar lock") = Some(bar);
    }

    fn advance(&self, n: u64) {
        if let Some(bar) = self.bar.lock().expect("progress bar lock").as_ref() {
            bar.inc(n);
        }
    }

    fn end(&self) {
        if let Some(bar) = self.bar.lock().expect("progress bar lock").take() {
            bar.finish_and_clear();
        }
    }
}
