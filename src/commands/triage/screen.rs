//! The full-screen triage's runner: owns the terminal (raw mode and the
//! alternate screen, restored on every way out: a normal exit, an error, a
//! panic through the panic hook, and Ctrl-C, which raw mode delivers as a
//! key), the background scans with their gauge, the preview's file reads,
//! and the verbs. A verb leaves the full screen for the plain terminal and
//! runs exactly as `qsurgeon delete` would (preview, confirmation, one line
//! per queue ID, the journal), then triage comes back and scans again.

use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use query::snapshot::{Live, Snapshot};
use query::Dimension;
use queue_scan::{ReadPlan, ScanProgress};
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers, MouseEventKind};
use ratatui::crossterm::{cursor, execute, terminal};
use ratatui::Terminal;

use crate::cli::TriageArgs;
use crate::config::Target;
use crate::selection;

use super::app::{Action, App, Key, ProcessMemory};
use super::draw::{draw, draw_scanning, LiveView, ScanState};
use super::flags::command_line;
use super::view::message_text;

type Term = Terminal<CrosstermBackend<std::io::Stdout>>;

/// What the first scan's dashboard counts: the queues and the dashboard's
/// tables.
const LIVE_DIMS: [Dimension; 7] = [
    Dimension::Queue,
    Dimension::SaslUser,
    Dimension::Sender,
    Dimension::Client,
    Dimension::ClientNet,
    Dimension::RecipientDomain,
    Dimension::Reason,
];

/// How often the first scan's counts are copied for the screen (each copy
/// sorts every table under the scan's lock: not every frame).
const LIVE_EVERY: Duration = Duration::from_millis(300);

/// Rows copied per table.
const LIVE_ROWS: usize = 30;

/// True when the full screen can run: stdin and stdout are terminals and
/// `TERM` names one that can address the cursor (not `dumb`).
pub fn available() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal()
        && std::io::stdout().is_terminal()
        && std::env::var_os("TERM").is_some_and(|t| !t.is_empty() && t != "dumb")
}

/// Raw mode and the alternate screen.
fn enter() -> Result<Term> {
    terminal::enable_raw_mode().context("switch the terminal to raw mode")?;
    execute!(
        std::io::stdout(),
        terminal::EnterAlternateScreen,
        cursor::Hide
    )
    .context("enter the alternate screen")?;
    let mut term = Terminal::new(CrosstermBackend::new(std::io::stdout()))?;
    term.clear()?;
    Ok(term)
}

/// Back to the terminal as it was; safe to call twice.
fn leave() {
    let _ = execute!(
        std::io::stdout(),
        terminal::LeaveAlternateScreen,
        cursor::Show
    );
    let _ = terminal::disable_raw_mode();
}

/// A panic restores the terminal before the message is printed, so the
/// message is readable and the shell usable.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        leave();
        previous(info);
    }));
}

fn to_key(code: KeyCode, modifiers: KeyModifiers) -> Option<Key> {
    Some(match code {
        KeyCode::Char(c) if modifiers.contains(KeyModifiers::CONTROL) => Key::Ctrl(c),
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        KeyCode::Tab => Key::Tab,
        KeyCode::BackTab => Key::BackTab,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        KeyCode::Home => Key::Home,
        KeyCode::End => Key::End,
        _ => return None,
    })
}

/// Senders, as the snapshot's keys.
type Senders = HashSet<Box<[u8]>>;

/// The snapshot's senders that the instance would refuse as recipients
/// though their domain is ours, as `list --nonexistent-local-sender`
/// decides (`postfix::LocalSenderCheck`: one `postmap -q -` per table for
/// all the distinct senders at once, no process per message). None when
/// the instance cannot tell (no configuration directory, or a lookup
/// failed): the table is then not shown, rather than shown empty.
fn nonexistent_senders(target: &Target, snap: &Snapshot) -> Option<Senders> {
    let postfix = target.postfix.as_ref()?;
    let mut check = postfix::LocalSenderCheck::from_postfix(postfix).ok()?;
    let senders = snap.distinct_keys(Dimension::Sender);
    check.resolve(senders.iter().copied()).ok()?;
    Some(
        senders
            .into_iter()
            .filter(|s| check.is_nonexistent(s))
            .map(Box::from)
            .collect(),
    )
}

/// Returns the allocator's free pages to the kernel (glibc's
/// `malloc_trim`, which also trims the worker threads' arenas): after a
/// scan, the workers' freed shares would otherwise stay resident, and the
/// process would look to hold twice what the snapshot does.
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: malloc_trim takes no pointers and is safe to call from
        // any thread at any time (glibc's malloc(3)).
        unsafe {
            malloc_trim(0);
        }
    }
}

/// Runs the full-screen session; prints the path's command line on exit.
pub fn run(target: &Target, args: &TriageArgs) -> Result<()> {
    install_panic_hook();
    let mut term = enter()?;
    let result = session(&mut term, target, args);
    leave();
    let command = result?;
    // The command line carries queue data (a SASL login, a sender):
    // escaped on a terminal like everything else.
    println!("{}", crate::ui::sanitize::for_terminal_str(&command));
    Ok(())
}

/// A scan under way on its own thread.
struct Pending<'s> {
    handle: std::thread::ScopedJoinHandle<'s, (Snapshot, Option<Senders>)>,
    progress: Arc<ScanProgress>,
    /// The counts so far, for the dashboard shown during the first scan.
    live: Arc<Live>,
}

impl Pending<'_> {
    fn state(&self) -> ScanState {
        ScanState {
            done: self.progress.done.load(Ordering::Relaxed),
            listed: self.progress.listed.load(Ordering::Relaxed),
        }
    }
}

fn session(term: &mut Term, target: &Target, args: &TriageArgs) -> Result<String> {
    let base = command_line(&args.select, &[]);
    let color = !std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let layout = &target.instance.layout;
    let before = ProcessMemory::read(0).map_or(0, |p| p.rss);
    std::thread::scope(|s| -> Result<String> {
        let start = move || -> Result<Pending<'_>> {
            let query = selection::query(
                target,
                &args.select,
                ReadPlan {
                    headers: false,
                    defer_log: true,
                },
                true,
            )?;
            let progress = Arc::new(ScanProgress::default());
            let shared = Arc::clone(&progress);
            let live = Live::new(&LIVE_DIMS);
            let publish = Arc::clone(&live);
            let handle = s.spawn(move || {
                let snap = Snapshot::scan_live(&query, layout, &shared, Some(&publish));
                let nonexistent = nonexistent_senders(target, &snap);
                (snap, nonexistent)
            });
            Ok(Pending {
                handle,
                progress,
                live,
            })
        };
        let mut pending = Some(start()?);
        let mut app: Option<App> = None;
        // The first scan's counts, copied out a few times a second.
        let mut live_view = LiveView::default();
        let mut live_copied: Option<Instant> = None;
        let mut last_scan = Instant::now();
        // Raw mode turns Ctrl-C into a key; a SIGINT sent from elsewhere
        // (kill -INT) sets this flag, and the session ends as by `q`.
        let interrupted = crate::ui::report::stop_flag();
        loop {
            if interrupted.load(Ordering::Relaxed) {
                if let Some(p) = &pending {
                    p.progress.stop.store(true, Ordering::Relaxed);
                }
                return Ok(app.as_ref().map_or_else(|| base.clone(), App::command));
            }
            if pending.as_ref().is_some_and(|p| p.handle.is_finished()) {
                let done = pending.take().expect("checked above");
                let (snap, nonexistent) = done
                    .handle
                    .join()
                    .map_err(|_| anyhow!("the scan stopped on an internal error"))?;
                let errors = snap.error_count;
                match &mut app {
                    Some(app) => app.replace_snapshot_with(snap, nonexistent),
                    None => {
                        app = Some(App::with_nonexistent(
                            snap,
                            base.clone(),
                            color,
                            nonexistent,
                        ))
                    }
                }
                // The workers' shares and the tables' tallies are freed
                // by now; give their pages back so that the process's
                // resident memory is the snapshot's, not the allocator's
                // free lists.
                release_free_memory();
                let app = app.as_mut().expect("set above");
                app.status = if errors > 0 {
                    format!(
                        "scanned; {errors} queue files could not be read (qsurgeon list shows why)"
                    )
                } else {
                    "scanned".into()
                };
                last_scan = Instant::now();
            }
            let scan = pending.as_ref().map(Pending::state);
            let size = term.size()?;
            match &mut app {
                Some(app) => {
                    app.process = ProcessMemory::read(before);
                    // The list takes half the body, less its border and header.
                    app.set_list_rows(
                        (size.height.saturating_sub(3) / 2).saturating_sub(3) as usize
                    );
                    if let Some(i) = app.wants_preview() {
                        app.preview = Some((i, message_text(target, &app.snap, i)));
                    }
                    term.draw(|f| draw(f, app, scan))?;
                }
                None => {
                    if let Some(p) = &pending {
                        if !live_copied.is_some_and(|t| t.elapsed() < LIVE_EVERY) {
                            if let Some(view) = LiveView::copy(&p.live, &LIVE_DIMS, LIVE_ROWS) {
                                live_view = view;
                            }
                            live_copied = Some(Instant::now());
                        }
                    }
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs() as i64);
                    term.draw(|f| draw_scanning(f, scan.unwrap_or_default(), &live_view, now))?;
                }
            }
            if !event::poll(Duration::from_millis(100))? {
                if let (Some(every), None) = (args.refresh, &pending) {
                    if last_scan.elapsed() >= every {
                        pending = Some(start()?);
                    }
                }
                continue;
            }
            let key = match event::read()? {
                Event::Key(k) if k.kind != KeyEventKind::Release => to_key(k.code, k.modifiers),
                // The wheel moves the cursor, as the arrow keys do.
                Event::Mouse(m) => match m.kind {
                    MouseEventKind::ScrollUp => Some(Key::Up),
                    MouseEventKind::ScrollDown => Some(Key::Down),
                    _ => None,
                },
                // Resize: drawn again on the next turn.
                _ => None,
            };
            let Some(key) = key else { continue };
            let Some(app) = &mut app else {
                // Still on the first scan: only quitting makes sense.
                if matches!(key, Key::Char('q') | Key::Ctrl('c')) {
                    if let Some(p) = &pending {
                        p.progress.stop.store(true, Ordering::Relaxed);
                    }
                    return Ok(base);
                }
                continue;
            };
            let action = app.on_key(key);
            // A narrowing, sort or filter freed its tallies (on the
            // tables' threads, whose arenas glibc keeps otherwise).
            if !app.last_compute.is_zero() {
                release_free_memory();
            }
            match action {
                Action::None => {}
                Action::Quit => {
                    if let Some(p) = &pending {
                        p.progress.stop.store(true, Ordering::Relaxed);
                    }
                    return Ok(app.command());
                }
                Action::Refresh => {
                    if pending.is_none() {
                        pending = Some(start()?);
                    }
                }
                Action::Act {
                    verb,
                    backup,
                    messages,
                } => {
                    leave();
                    let outcome = act_outside(target, args, app, verb, backup, &messages);
                    if let Err(e) = outcome {
                        eprintln!("qsurgeon: error: {e:#}");
                    }
                    eprint!("press Enter to return to triage ");
                    let _ = std::io::stderr().flush();
                    let mut line = String::new();
                    let _ = std::io::stdin().lock().read_line(&mut line);
                    *term = enter()?;
                    // A Ctrl-C during the verb stopped the verb, not triage.
                    interrupted.store(false, Ordering::SeqCst);
                    if pending.is_none() {
                        pending = Some(start()?);
                    }
                }
            }
        }
    })
}

/// Runs `verb` on the messages shown, on the plain terminal, through the
/// same flow as the verbs: only these queue IDs, and only while they still
/// match the session's own flags; previewed, confirmed, journaled.
fn act_outside(
    target: &Target,
    args: &TriageArgs,
    app: &App,
    verb: crate::commands::act::Verb,
    backup: bool,
    messages: &[u32],
) -> Result<()> {
    let ids: HashSet<Box<str>> = messages
        .iter()
        .map(|&i| String::from_utf8_lossy(app.snap.id(i)).into())
        .collect();
    eprintln!(
        "qsurgeon triage: {} {} messages of {}",
        verb.name(),
        ids.len(),
        crate::ui::sanitize::for_terminal_str(&app.command())
    );
    let backup = if backup {
        eprint!("backup directory (empty for none): ");
        std::io::stderr().flush()?;
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let dir = line.trim();
        if dir.is_empty() {
            eprintln!("qsurgeon: no backup directory given; nothing done");
            return Ok(());
        }
        Some(PathBuf::from(dir))
    } else {
        None
    };
    super::act_on_ids(target, args, verb, &ids, &app.path, backup)
}
