//! Running a scan with a progress bar on stderr (only on a terminal, and
//! only once the scan has taken a moment), and the closing stats line.

use std::io::IsTerminal;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use queue_scan::{ScanProgress, ScanStats};

/// How long a scan runs before a progress bar appears.
const QUIET_PERIOD: Duration = Duration::from_millis(400);

/// Runs `scan` (which scans with `progress`), showing progress on a
/// terminal; returns its result, the final counters and the elapsed time.
pub fn with_progress<T>(
    progress: &ScanProgress,
    scan: impl FnOnce() -> T,
) -> (T, ScanStats, Duration) {
    let started = Instant::now();
    let show = std::io::stderr().is_terminal();
    let finished = std::sync::atomic::AtomicBool::new(false);
    let result = std::thread::scope(|s| {
        if show {
            s.spawn(|| {
                let deadline = Instant::now() + QUIET_PERIOD;
                while Instant::now() < deadline {
                    if finished.load(Ordering::Relaxed) {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                let bar = indicatif::ProgressBar::new(progress.listed.load(Ordering::Relaxed));
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                if let Ok(style) = indicatif::ProgressStyle::with_template(
                    "{spinner} scanning {pos}/{len} queue files ({per_sec}, eta {eta}) {wide_bar}",
                ) {
                    bar.set_style(style);
                }
                while !finished.load(Ordering::Relaxed) {
                    bar.set_length(progress.listed.load(Ordering::Relaxed));
                    bar.set_position(progress.done.load(Ordering::Relaxed));
                    std::thread::sleep(Duration::from_millis(100));
                }
                bar.finish_and_clear();
            });
        }
        let result = scan();
        finished.store(true, Ordering::Relaxed);
        result
    });
    (result, progress.stats(), started.elapsed())
}

/// The last line on stderr: what was scanned and what came of it.
pub fn stats_line(stats: &ScanStats, matched: u64, elapsed: Duration) -> String {
    let mut line = format!(
        "qsurgeon: {} messages scanned in {:.2}s, {} selected",
        stats.scanned,
        elapsed.as_secs_f64(),
        matched
    );
    for (count, what) in [
        (stats.in_progress, "in progress"),
        (stats.vanished, "vanished"),
        (stats.unreadable, "unreadable"),
        (stats.misplaced, "at a wrong hash depth"),
    ] {
        if count > 0 {
            line.push_str(&format!(", {count} {what}"));
        }
    }
    line
}
