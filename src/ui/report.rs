//! The per-ID report of a run on the terminal: one line per queue ID on stdout (escaped for
//! the terminal), batch trouble on stderr. A [`Sink`] next to the journal and syslog.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use act::{Action, Event, Sink};

use crate::ui::sanitize::for_terminal_str;

/// One line per queue ID on stdout (escaped for the terminal), errors on stderr.
pub struct Terminal<'l> {
    /// The instance's name, first on every line (`--all-instances`).
    pub label: Option<&'l str>,
    /// Only errors.
    pub quiet: bool,
    /// Standard output.
    pub out: std::io::StdoutLock<'static>,
}

impl Sink for Terminal<'_> {
    fn event(&mut self, event: &Event<'_>) -> Result<(), act::Error> {
        let line = match event {
            Event::Done {
                id,
                action: Action::Flush,
                ..
            } => format!("{id}\tflushed"),
            Event::Done { id, queue, action } => format!("{id}\t{queue}\t{}", action.word()),
            Event::AlreadyGone { id, queue } => format!("{id}\t{queue}\talready gone"),
            Event::AlreadyExpired { id, queue } => format!("{id}\t{queue}\talready expired"),
            Event::Reused { id, queue } => {
                format!("{id}\t{queue}\tskipped: the queue ID now names another message")
            }
            Event::NotActed { id, queue, action } => format!(
                "{id}\t{queue}\tnot {}: postsuper did not act on it",
                action.word()
            ),
            Event::Failed {
                id,
                action: Action::Flush,
                text,
                ..
            } => format!("{id}\tnot flushed: {text}"),
            Event::Failed {
                id, queue, text, ..
            } => format!("{id}\t{queue}\tfailed: {text}"),
            Event::BackupFailed { id, error, .. } => {
                eprintln!(
                    "{}",
                    for_terminal_str(&format!(
                        "qsurgeon: error: backup of {id} failed, not deleting it: {error}"
                    ))
                );
                return Ok(());
            }
            Event::BackupLogRefused { id, detail, .. } => {
                eprintln!(
                    "{}",
                    for_terminal_str(&format!("qsurgeon: warning: backup of {id}: {detail}"))
                );
                return Ok(());
            }
            Event::BatchAborted {
                action,
                error,
                partial,
                unconfirmed,
            } => {
                let text = format!("qsurgeon: error: postsuper ({}) stopped: {error}\nqsurgeon: it had reported {} IDs done (listed above); {} IDs sent to it are unconfirmed", action.word(), partial.len(), unconfirmed.len());
                eprintln!("{}", for_terminal_str(&text));
                return Ok(());
            }
            Event::BatchEnd { .. } => {
                let _ = self.out.flush();
                return Ok(());
            }
            _ => return Ok(()),
        };
        if !self.quiet {
            let line = match self.label {
                Some(name) => format!("{name}\t{line}\n"),
                None => format!("{line}\n"),
            };
            let _ = self.out.write_all(for_terminal_str(&line).as_bytes());
        }
        Ok(())
    }
}

/// The Ctrl-C flag: the handler is installed once per process (triage acts many times) and
/// the flag is cleared for every run. The executor stops feeding IDs when it is set.
pub fn stop_flag() -> Arc<AtomicBool> {
    static STOP: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    let stop = STOP.get_or_init(|| {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
        stop
    });
    stop.store(false, Ordering::SeqCst);
    Arc::clone(stop)
}
