//! Terminal progress bars for long work (downloads, indexing, eval runs).

use indicatif::{ProgressBar, ProgressStyle};

/// An indicatif bar that implements the library's progress trait.
pub struct Bar {
    bar: Option<ProgressBar>,
}

impl Bar {
    pub fn new() -> Self {
        Bar { bar: None }
    }
}

impl Default for Bar {
    fn default() -> Self {
        Self::new()
    }
}

impl lawbrain::progress::Progress for Bar {
    fn start(&mut self, what: &str, total: u64) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
        let bar = ProgressBar::new(total);
        let style = if total > 1 << 20 {
            "{msg:30} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})"
        } else {
            "{msg:30} [{bar:30}] {pos}/{len} ({eta})"
        };
        if let Ok(s) = ProgressStyle::with_template(style) {
            bar.set_style(s.progress_chars("=> "));
        }
        bar.set_message(what.to_string());
        self.bar = Some(bar);
    }

    fn advance(&mut self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    fn finish(&mut self, msg: &str) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
        eprintln!("{msg}");
    }
}
