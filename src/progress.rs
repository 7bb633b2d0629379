//! Progress reporting for long work (downloads, indexing, eval runs).
//!
//! Library code reports through this trait; the binary shows a terminal bar,
//! the server logs, tests pass [`NoProgress`].

/// Receives progress of one step at a time.
pub trait Progress {
    /// A step started (`total` units: packages, bytes, articles, cases).
    fn start(&mut self, what: &str, total: u64);
    /// `n` more units are done.
    fn advance(&mut self, n: u64);
    /// The step finished; `msg` says how it went.
    fn finish(&mut self, msg: &str);
}

/// Progress that reports nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&mut self, _: &str, _: u64) {}
    fn advance(&mut self, _: u64) {}
    fn finish(&mut self, _: &str) {}
}

/// Progress that writes `tracing` events (for the server and logs): the
/// start, every further 5% of the work, and the finish.
#[derive(Debug, Default)]
pub struct LogProgress {
    what: String,
    total: u64,
    done: u64,
    logged: u64,
}

impl Progress for LogProgress {
    fn start(&mut self, what: &str, total: u64) {
        *self = LogProgress {
            what: what.to_string(),
            total,
            ..LogProgress::default()
        };
        tracing::info!(total, "{what}");
    }
    fn advance(&mut self, n: u64) {
        self.done += n;
        if self.total > 0 && (self.done - self.logged) * 20 >= self.total {
            self.logged = self.done;
            tracing::info!(
                done = self.done,
                total = self.total,
                "{}: {}%",
                self.what,
                self.done * 100 / self.total
            );
        }
    }
    fn finish(&mut self, msg: &str) {
        tracing::info!("{msg}");
    }
}
