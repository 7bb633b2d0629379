//! The `lawbrain` binary: parses flags (see `cli.rs`) and hands each command
//! to its runner in `cmd/`. All real work lives in the library.

mod cli;
mod cmd;

use clap::Parser;

fn main() -> std::process::ExitCode {
    pin_thread_count();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LAWBRAIN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = cli::Cli::parse();
    match cmd::run(cli.command) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}` prints the whole cause chain on one line, without a backtrace.
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// candle looks up its thread count on every tensor op and, unless
/// RAYON_NUM_THREADS is set, reads /proc/cpuinfo to count physical cores each
/// time (dozens of reads per generated token, ~10% of generation speed). Set
/// it once, here, while the process has one thread (`--threads` sets candle's
/// own CANDLE_NUM_THREADS later, before the model loads).
fn pin_thread_count() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        let n = std::thread::available_parallelism().map_or(1, |n| n.get());
        std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    }
}
