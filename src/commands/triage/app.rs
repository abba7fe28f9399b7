//! The full-screen triage's state and keys, without a terminal: [`App`]
//! holds the snapshot, the path of narrowing steps, the dashboard's tables,
//! the message list, the marks and what is on screen, and
//! [`App::on_key`] turns one key into a state change and an [`Action`] for
//! the runner (`screen.rs`), which owns the terminal, the scans and the
//! verbs. Drawing (`draw.rs`) only reads an `App`, so both are testable
//! without a terminal.
//!
//! Memory: the group is one `Vec<u32>` of snapshot indices (4 bytes a
//! message), sorted in place for the list; the tables keep their top rows
//! only; the marks are a bit set (one bit a message, 125 KB for a
//! million). Nothing else is kept per message.

use std::collections::HashMap;

use query::snapshot::{Row, Snapshot, Step};
use query::{Dimension, Rank};

use crate::commands::act::Verb;

use super::flags::path_flags;

/// The dashboard's tables, in screen order (reading order of the grid).
pub const TABLES: [Dimension; 6] = [
    Dimension::SaslUser,
    Dimension::Sender,
    Dimension::Client,
    Dimension::ClientNet,
    Dimension::RecipientDomain,
    Dimension::Reason,
];

/// Table slots: [`TABLES`], then the nonexistent local senders when the
/// instance can tell them.
pub const SLOTS: usize = TABLES.len() + 1;

/// Rows kept per table (the screen shows what fits, scrolling to the
/// cursor).
pub const TOP_N: usize = 100;

/// The age histogram's buckets: upper bounds in seconds, and labels.
pub const AGE_BUCKETS: [(i64, &str); 7] = [
    (600, "<10m"),
    (3600, "10m-1h"),
    (6 * 3600, "1h-6h"),
    (86_400, "6h-1d"),
    (3 * 86_400, "1d-3d"),
    (7 * 86_400, "3d-7d"),
    (i64::MAX, ">7d"),
];

/// What the screen shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// Totals, histogram and the top-N tables of the group.
    Dashboard,
    /// The group's messages, one per row, with a preview of the selected one.
    Messages,
}

/// What is drawn over the view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overlay {
    /// Nothing.
    None,
    /// The keys.
    Help,
    /// Which verb to run (on the marks, or on the whole group).
    ActMenu,
    /// Typing a `--where` filter.
    Filter,
}

/// The message list's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sort {
    /// Oldest first.
    Age,
    /// Largest first.
    Size,
    /// Most envelope recipients first (a burst's many-recipient messages
    /// on top), then oldest first.
    Recipients,
    /// By sender address, then oldest first.
    Sender,
}

impl Sort {
    fn next(self) -> Sort {
        match self {
            Sort::Age => Sort::Size,
            Sort::Size => Sort::Recipients,
            Sort::Recipients => Sort::Sender,
            Sort::Sender => Sort::Age,
        }
    }

    /// The name shown in the list's title.
    pub fn label(self) -> &'static str {
        match self {
            Sort::Age => "age",
            Sort::Size => "size",
            Sort::Recipients => "recipients",
            Sort::Sender => "sender",
        }
    }
}

/// A key, as the terminal layer hands it over (crossterm's keys, reduced to
/// what triage uses, so tests need no terminal).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// A character key.
    Char(char),
    /// Ctrl and a character (Ctrl-C quits).
    Ctrl(char),
    Enter,
    Esc,
    Backspace,
    Up,
    Down,
    Left,
    Right,
    Tab,
    BackTab,
    PageUp,
    PageDown,
    Home,
    End,
}

/// What the runner must do after a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Redraw.
    None,
    /// Restore the terminal and exit.
    Quit,
    /// Scan the queue again in the background.
    Refresh,
    /// Run a verb (with its preview and confirmation, outside the full
    /// screen) on these snapshot indices; `backup` asks for a backup
    /// directory first (delete only).
    Act {
        verb: Verb,
        backup: bool,
        messages: Vec<u32>,
    },
}

/// Marked messages, by snapshot index: one bit each.
#[derive(Default)]
pub struct Marks {
    bits: Vec<u64>,
    count: usize,
}

impl Marks {
    pub fn len(&self) -> usize {
        self.count
    }

    /// Bytes held (the bit set's capacity).
    pub fn memory(&self) -> usize {
        self.bits.capacity() * 8
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn contains(&self, i: &u32) -> bool {
        let (word, bit) = (*i as usize / 64, *i % 64);
        self.bits.get(word).is_some_and(|w| w & (1 << bit) != 0)
    }

    /// Marks `i`; false when it already was.
    pub fn insert(&mut self, i: u32) -> bool {
        let (word, bit) = (i as usize / 64, i % 64);
        if word >= self.bits.len() {
            self.bits.resize(word + 1, 0);
        }
        let was = self.bits[word] & (1 << bit) != 0;
        self.bits[word] |= 1 << bit;
        self.count += usize::from(!was);
        !was
    }

    /// Unmarks `i`; false when it was not marked.
    pub fn remove(&mut self, i: &u32) -> bool {
        let was = self.contains(i);
        if was {
            self.bits[*i as usize / 64] &= !(1 << (*i % 64));
            self.count -= 1;
        }
        was
    }

    pub fn clear(&mut self) {
        self.bits = Vec::new();
        self.count = 0;
    }

    pub fn extend(&mut self, indices: impl IntoIterator<Item = u32>) {
        for i in indices {
            self.insert(i);
        }
    }

    /// The marked indices, in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.bits.iter().enumerate().flat_map(|(w, &word)| {
            (0..64u32)
                .filter(move |b| word & (1 << b) != 0)
                .map(move |b| w as u32 * 64 + b)
        })
    }
}

/// The process's memory as the kernel counts it (`/proc/self/status`),
/// beside the snapshot's own count, so that the screen does not pass the
/// one off as the other.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcessMemory {
    /// Resident now (VmRSS), bytes.
    pub rss: u64,
    /// The most resident so far (VmHWM), bytes.
    pub peak: u64,
    /// Resident before the first scan, bytes.
    pub before: u64,
}

impl ProcessMemory {
    /// Reads VmRSS and VmHWM; None where there is no `/proc` (the line
    /// then shows the snapshot's count only).
    pub fn read(before: u64) -> Option<ProcessMemory> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let kb = |name: &str| -> Option<u64> {
            let line = status.lines().find(|l| l.starts_with(name))?;
            let n: u64 = line[name.len()..]
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()?;
            Some(n * 1024)
        };
        Some(ProcessMemory {
            rss: kb("VmRSS:")?,
            peak: kb("VmHWM:")?,
            before,
        })
    }
}

/// One dashboard table: a dimension's top rows over the group.
pub struct Table {
    pub dim: Dimension,
    /// A title other than the dimension's (the nonexistent local senders).
    pub title: Option<&'static str>,
    pub rows: Vec<Row>,
    /// How many distinct keys the group has (rows beyond [`TOP_N`] are not kept).
    pub distinct: usize,
}

/// The full-screen triage's state.
pub struct App {
    /// The queue as the last scan saw it.
    pub snap: Snapshot,
    /// The session's own flags as a command line (`qsurgeon list …`).
    pub base: String,
    /// The narrowing steps.
    pub path: Vec<Step>,
    /// The group: the messages on the path, by snapshot index (sorted by
    /// [`App::sort`] once the list has been opened).
    pub set: Vec<u32>,
    /// Messages and bytes per queue over the group.
    pub queues: Vec<Row>,
    /// Messages per [`AGE_BUCKETS`] bucket over the group.
    pub ages: [u64; AGE_BUCKETS.len()],
    /// The top-N tables, in [`TABLES`] order.
    pub tables: Vec<Table>,
    /// The table with the cursor.
    pub focus: usize,
    /// The cursor's row in each table.
    pub cursors: [usize; SLOTS],
    /// Focus and cursors of the levels above, restored by Backspace.
    stack: Vec<(usize, [usize; SLOTS])>,
    /// The senders the instance would refuse as recipients though their
    /// domain is ours (`list --nonexistent-local-sender`), when it can
    /// tell: they get a table of their own.
    pub nonexistent: Option<std::collections::HashSet<Box<[u8]>>>,
    pub view: View,
    pub overlay: Overlay,
    pub sort: Sort,
    /// The dashboard tables' order (`s` on the dashboard cycles it): by
    /// recipients, a login sending few messages to many recipients each
    /// ranks above one with more single-recipient mail.
    pub rank: Rank,
    /// Whether `set` is in `sort` order.
    sorted: bool,
    /// The selected message in the list.
    pub list_cursor: usize,
    /// The first list row on screen.
    pub list_offset: usize,
    /// How many list rows fit (set by the runner from the terminal size).
    pub list_rows: usize,
    /// Marked messages (snapshot indices).
    pub marks: Marks,
    /// The preview pane: the message's index and its escaped text.
    pub preview: Option<(u32, String)>,
    /// The preview's first line on screen (`J`/`K` scroll it).
    pub preview_scroll: u16,
    /// How long the last narrowing, filtering or sorting took (answered
    /// from memory; shown in the header, for the latency a user feels).
    pub last_compute: std::time::Duration,
    /// A line for the user: what just happened, or why a key did nothing.
    pub status: String,
    /// The `/` filter: the expression (canonical form) and its selection.
    pub filter: Option<(String, select::Selection)>,
    /// The filter being typed.
    pub input: String,
    /// Why the typed filter was refused: the column (1-based, 0 when the
    /// whole expression is at fault) and the message.
    pub input_error: Option<(usize, String)>,
    /// The last scan's counts per (table, key) for `previous_command`, for
    /// the "+312" since the last scan.
    previous: HashMap<(usize, Box<[u8]>), u64>,
    previous_total: Option<u64>,
    previous_command: String,
    /// Colours (off with `NO_COLOR` or `TERM=dumb`).
    pub color: bool,
    /// The process's memory, refreshed by the runner before each frame.
    pub process: Option<ProcessMemory>,
}

impl App {
    /// A session over `snap`, at the top (no narrowing).
    #[cfg(test)]
    pub fn new(snap: Snapshot, base: String, color: bool) -> App {
        App::with_nonexistent(snap, base, color, None)
    }

    /// [`App::new`] with the nonexistent local senders (None: the
    /// instance cannot tell), the tables computed once.
    pub fn with_nonexistent(
        snap: Snapshot,
        base: String,
        color: bool,
        nonexistent: Option<std::collections::HashSet<Box<[u8]>>>,
    ) -> App {
        let mut app = App {
            snap,
            base,
            path: Vec::new(),
            set: Vec::new(),
            queues: Vec::new(),
            ages: [0; AGE_BUCKETS.len()],
            tables: Vec::new(),
            focus: 0,
            cursors: [0; SLOTS],
            stack: Vec::new(),
            nonexistent,
            view: View::Dashboard,
            overlay: Overlay::None,
            sort: Sort::Age,
            rank: Rank::Messages,
            sorted: false,
            list_cursor: 0,
            list_offset: 0,
            list_rows: 10,
            marks: Marks::default(),
            preview: None,
            preview_scroll: 0,
            last_compute: std::time::Duration::ZERO,
            status: String::new(),
            filter: None,
            input: String::new(),
            input_error: None,
            previous: HashMap::new(),
            previous_total: None,
            previous_command: String::new(),
            color,
            process: None,
        };
        app.recompute();
        app
    }

    /// Sets the nonexistent local senders (None: the instance cannot
    /// tell) and recomputes the tables.
    #[cfg(test)]
    pub fn set_nonexistent(&mut self, nonexistent: Option<std::collections::HashSet<Box<[u8]>>>) {
        self.nonexistent = nonexistent;
        self.recompute();
    }

    /// Bytes the session holds per message beside the snapshot: the
    /// group's list of indices and the marks (the tables keep their top
    /// rows only).
    pub fn group_memory(&self) -> usize {
        self.set.capacity() * std::mem::size_of::<u32>() + self.marks.memory()
    }

    /// The `qsurgeon list` command that selects exactly the group.
    pub fn command(&self) -> String {
        let mut line = self.base.clone();
        for flag in path_flags(&self.path) {
            line.push(' ');
            line.push_str(&flag);
        }
        if let Some((expr, _)) = &self.filter {
            // Typed by the user, but pasted into any shell: quoted as the path is.
            line.push_str(&format!(" --where {}", super::flags::shell_quote(expr)));
        }
        line
    }

    /// Replaces the snapshot by a new scan's, keeping the path, and
    /// remembers the old counts for the per-row change. Marks and the
    /// preview refer to the old snapshot's numbering: dropped.
    /// `nonexistent` is the new scan's nonexistent local senders (None:
    /// the instance cannot tell, no such table).
    pub fn replace_snapshot_with(
        &mut self,
        snap: Snapshot,
        nonexistent: Option<std::collections::HashSet<Box<[u8]>>>,
    ) {
        self.nonexistent = nonexistent;
        self.previous = self
            .tables
            .iter()
            .enumerate()
            .flat_map(|(t, table)| {
                let snap = &self.snap;
                table
                    .rows
                    .iter()
                    .map(move |row| ((t, Box::<[u8]>::from(snap.key(row.key))), row.messages))
            })
            .collect();
        self.previous_total = Some(self.set.len() as u64);
        self.previous_command = self.command();
        self.snap = snap;
        self.marks.clear();
        self.preview = None;
        self.recompute();
    }

    /// The change of a row's messages since the last scan, when the last
    /// scan showed the same group.
    pub fn delta(&self, table: usize, row: &Row) -> Option<i64> {
        if self.previous_total.is_none() || self.previous_command != self.command() {
            return None;
        }
        let before = self
            .previous
            .get(&(table, Box::<[u8]>::from(self.snap.key(row.key))))
            .copied()
            .unwrap_or(0);
        Some(row.messages as i64 - before as i64)
    }

    /// The change of the group's size since the last scan.
    pub fn total_delta(&self) -> Option<i64> {
        let before = self.previous_total?;
        (self.previous_command == self.command()).then(|| self.set.len() as i64 - before as i64)
    }

    /// The group, tables, totals and histogram for the current path.
    fn recompute(&mut self) {
        let started = std::time::Instant::now();
        self.set = self.snap.members(&self.path);
        if let Some((_, selection)) = &self.filter {
            let ctx = select::Context::at(self.snap.now);
            let snap = &self.snap;
            self.set
                .retain(|&i| selection.matches(&super::filter::InMemory { snap, i }, &ctx));
        }
        self.sorted = false;
        let snap = &self.snap;
        self.queues = snap.tally(&self.set, Dimension::Queue);
        self.ages = [0; AGE_BUCKETS.len()];
        for &i in &self.set {
            let age = snap.now - snap.facts(i).arrival;
            let bucket = AGE_BUCKETS
                .iter()
                .position(|(upper, _)| age < *upper)
                .unwrap_or(AGE_BUCKETS.len() - 1);
            self.ages[bucket] += 1;
        }
        // One pass over the group per table, the tables on their own
        // threads: on a million messages each pass is tens of milliseconds.
        let set = &self.set;
        let rank = self.rank;
        let nonexistent = self.nonexistent.as_ref();
        self.tables = std::thread::scope(|scope| {
            // The nonexistent local senders: the senders' tally, only
            // theirs kept.
            let local = nonexistent.map(|senders| {
                scope.spawn(move || {
                    let mut rows = snap.tally_ranked(set, Dimension::Sender, rank);
                    rows.retain(|row| senders.contains(snap.key(row.key)));
                    let distinct = rows.len();
                    rows.truncate(TOP_N);
                    rows.shrink_to_fit();
                    Table {
                        dim: Dimension::Sender,
                        title: Some("nonexistent local senders"),
                        rows,
                        distinct,
                    }
                })
            });
            let handles: Vec<_> = TABLES
                .iter()
                .map(|&dim| {
                    scope.spawn(move || {
                        let mut rows = snap.tally_ranked(set, dim, rank);
                        let distinct = rows.len();
                        rows.truncate(TOP_N);
                        rows.shrink_to_fit();
                        Table {
                            dim,
                            title: None,
                            rows,
                            distinct,
                        }
                    })
                })
                .collect();
            let empty = |dim| Table {
                dim,
                title: None,
                rows: Vec::new(),
                distinct: 0,
            };
            let mut tables: Vec<Table> = handles
                .into_iter()
                .zip(TABLES)
                .map(|(h, dim)| h.join().unwrap_or_else(|_| empty(dim)))
                .collect();
            if let Some(h) = local {
                tables.push(h.join().unwrap_or_else(|_| empty(Dimension::Sender)));
            }
            tables
        });
        self.focus = self.focus.min(self.tables.len().saturating_sub(1));
        for (cursor, table) in self.cursors.iter_mut().zip(&self.tables) {
            *cursor = (*cursor).min(table.rows.len().saturating_sub(1));
        }
        self.list_cursor = self.list_cursor.min(self.set.len().saturating_sub(1));
        self.list_offset = self.list_offset.min(self.list_cursor);
        if self.view == View::Messages {
            self.sort_list();
        }
        self.last_compute = started.elapsed();
    }

    /// Sorts the group for the list, once per path and order.
    fn sort_list(&mut self) {
        if self.sorted {
            return;
        }
        let snap = &self.snap;
        match self.sort {
            Sort::Age => self.set.sort_by_key(|&i| (snap.facts(i).arrival, i)),
            Sort::Size => self
                .set
                .sort_by_key(|&i| (std::cmp::Reverse(snap.facts(i).size), i)),
            Sort::Recipients => self.set.sort_by_key(|&i| {
                let f = snap.facts(i);
                (std::cmp::Reverse(f.recipients), f.arrival, i)
            }),
            Sort::Sender => self.set.sort_by(|&a, &b| {
                snap.single_key(a, Dimension::Sender)
                    .cmp(&snap.single_key(b, Dimension::Sender))
                    .then(snap.facts(a).arrival.cmp(&snap.facts(b).arrival))
                    .then(a.cmp(&b))
            }),
        }
        self.sorted = true;
    }

    /// The message under the list's cursor.
    pub fn selected_message(&self) -> Option<u32> {
        (self.view == View::Messages)
            .then(|| self.set.get(self.list_cursor).copied())
            .flatten()
    }

    /// The preview pane is out of date: the runner loads the selected
    /// message (file I/O stays out of the state machine).
    pub fn wants_preview(&self) -> Option<u32> {
        let selected = self.selected_message()?;
        match &self.preview {
            Some((shown, _)) if *shown == selected => None,
            _ => Some(selected),
        }
    }

    /// The list's page size changed (terminal resized).
    pub fn set_list_rows(&mut self, rows: usize) {
        self.list_rows = rows.max(1);
        self.scroll_list();
    }

    fn scroll_list(&mut self) {
        if self.list_cursor < self.list_offset {
            self.list_offset = self.list_cursor;
        } else if self.list_cursor >= self.list_offset + self.list_rows {
            self.list_offset = self.list_cursor + 1 - self.list_rows;
        }
    }

    /// The messages an action applies to: the marks, else the group.
    pub fn targets(&self) -> Vec<u32> {
        if self.marks.is_empty() {
            self.set.clone()
        } else {
            self.marks.iter().collect()
        }
    }

    /// One key.
    pub fn on_key(&mut self, key: Key) -> Action {
        if key == Key::Ctrl('c') {
            return Action::Quit;
        }
        match self.overlay {
            Overlay::Help => {
                self.overlay = Overlay::None;
                return Action::None;
            }
            Overlay::ActMenu => return self.on_act_key(key),
            Overlay::Filter => {
                self.on_filter_key(key);
                return Action::None;
            }
            Overlay::None => {}
        }
        self.status.clear();
        match key {
            Key::Char('q') => return Action::Quit,
            Key::Char('?') => self.overlay = Overlay::Help,
            Key::Char('/') => {
                self.input = self
                    .filter
                    .as_ref()
                    .map(|(expr, _)| expr.clone())
                    .unwrap_or_default();
                self.input_error = None;
                self.overlay = Overlay::Filter;
            }
            Key::Char('r') => {
                self.status = "rescanning…".into();
                return Action::Refresh;
            }
            Key::Char('a') => {
                if self.set.is_empty() {
                    self.status = "nothing to act on: the group is empty".into();
                } else {
                    self.overlay = Overlay::ActMenu;
                }
            }
            _ => match self.view {
                View::Dashboard => self.on_dashboard_key(key),
                View::Messages => self.on_list_key(key),
            },
        }
        Action::None
    }

    /// Typing the filter: Enter applies it (or clears it when empty), Esc
    /// leaves it as it was.
    fn on_filter_key(&mut self, key: Key) {
        match key {
            Key::Char(c) => {
                self.input.push(c);
                self.input_error = None;
            }
            Key::Backspace => {
                self.input.pop();
                self.input_error = None;
            }
            Key::Esc => {
                self.overlay = Overlay::None;
                self.input_error = None;
            }
            Key::Enter if self.input.trim().is_empty() => {
                self.overlay = Overlay::None;
                self.filter = None;
                self.status = "filter cleared".into();
                self.recompute();
            }
            Key::Enter => match super::filter::compile(&self.input) {
                Ok((canonical, selection)) => {
                    self.overlay = Overlay::None;
                    self.filter = Some((canonical, selection));
                    self.recompute();
                }
                Err(refused) => self.input_error = Some(refused),
            },
            _ => {}
        }
    }

    fn on_act_key(&mut self, key: Key) -> Action {
        self.overlay = Overlay::None;
        let (verb, backup) = match key {
            Key::Char('h') => (Verb::Hold, false),
            Key::Char('u') => (Verb::Release, false),
            Key::Char('r') => (Verb::Requeue, false),
            Key::Char('d') => (Verb::Delete, false),
            Key::Char('b') => (Verb::Delete, true),
            Key::Char('e') => (Verb::Expire, false),
            _ => return Action::None,
        };
        Action::Act {
            verb,
            backup,
            messages: self.targets(),
        }
    }

    fn on_dashboard_key(&mut self, key: Key) {
        let rows = self.tables.get(self.focus).map_or(0, |t| t.rows.len());
        let cursor = &mut self.cursors[self.focus];
        match key {
            Key::Up | Key::Char('k') => *cursor = cursor.saturating_sub(1),
            Key::Down | Key::Char('j') => *cursor = (*cursor + 1).min(rows.saturating_sub(1)),
            Key::PageUp => *cursor = cursor.saturating_sub(10),
            Key::PageDown => *cursor = (*cursor + 10).min(rows.saturating_sub(1)),
            Key::Home => *cursor = 0,
            Key::End => *cursor = rows.saturating_sub(1),
            Key::Tab | Key::Right => self.focus = (self.focus + 1) % self.tables.len().max(1),
            Key::BackTab | Key::Left => {
                let n = self.tables.len().max(1);
                self.focus = (self.focus + n - 1) % n;
            }
            Key::Enter => self.narrow(),
            Key::Backspace | Key::Esc => self.back(),
            Key::Char('l') => self.open_list(),
            Key::Char('o') => self.older_than_cursor_bucket(),
            Key::Char('s') => {
                self.rank = match self.rank {
                    Rank::Messages => Rank::Recipients,
                    Rank::Recipients => Rank::Bytes,
                    Rank::Bytes => Rank::Messages,
                };
                self.cursors = [0; SLOTS];
                self.recompute();
                self.status = format!("tables ranked by {}", self.rank.name());
            }
            _ => {}
        }
    }

    fn on_list_key(&mut self, key: Key) {
        let last = self.set.len().saturating_sub(1);
        let page = self.list_rows.max(1);
        match key {
            Key::Up | Key::Char('k') => self.list_cursor = self.list_cursor.saturating_sub(1),
            Key::Down | Key::Char('j') => self.list_cursor = (self.list_cursor + 1).min(last),
            Key::PageUp => self.list_cursor = self.list_cursor.saturating_sub(page),
            Key::PageDown => self.list_cursor = (self.list_cursor + page).min(last),
            Key::Home => self.list_cursor = 0,
            Key::End => self.list_cursor = last,
            Key::Char('J') => self.preview_scroll = self.preview_scroll.saturating_add(5),
            Key::Char('K') => self.preview_scroll = self.preview_scroll.saturating_sub(5),
            Key::Char('s') => {
                let started = std::time::Instant::now();
                self.sort = self.sort.next();
                self.sorted = false;
                self.sort_list();
                self.last_compute = started.elapsed();
                self.list_cursor = 0;
                self.status = format!("sorted by {}", self.sort.label());
            }
            Key::Char('m') | Key::Char(' ') => {
                if let Some(i) = self.set.get(self.list_cursor).copied() {
                    if !self.marks.remove(&i) {
                        self.marks.insert(i);
                    }
                    self.list_cursor = (self.list_cursor + 1).min(last);
                }
            }
            Key::Char('M') => {
                if self.marks.is_empty() {
                    self.marks.extend(self.set.iter().copied());
                } else {
                    self.marks.clear();
                }
            }
            Key::Esc | Key::Backspace | Key::Char('l') => self.view = View::Dashboard,
            _ => {}
        }
        if self.wants_preview().is_some() {
            self.preview_scroll = 0;
        }
        self.scroll_list();
    }

    /// Enter on a dashboard row: one more step on the path.
    fn narrow(&mut self) {
        let Some(table) = self.tables.get(self.focus) else {
            return;
        };
        let Some(row) = table.rows.get(self.cursors[self.focus]) else {
            self.status = "nothing to narrow to".into();
            return;
        };
        let step = Step::Key(table.dim, self.snap.key(row.key).into());
        self.stack.push((self.focus, self.cursors));
        self.path.push(step);
        self.cursors = [0; SLOTS];
        self.recompute();
    }

    /// `o`: narrow to the messages older than the lower bound of the age
    /// bucket that holds the oldest message not yet excluded, one bucket at
    /// a time (the histogram's bars from the top).
    fn older_than_cursor_bucket(&mut self) {
        let current = self
            .path
            .iter()
            .filter_map(|s| match s {
                Step::OlderThan(secs) => Some(*secs),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        let next = AGE_BUCKETS
            .iter()
            .map(|(upper, _)| *upper)
            .find(|upper| *upper > current && *upper != i64::MAX);
        match next {
            Some(secs) => {
                self.stack.push((self.focus, self.cursors));
                self.path.push(Step::OlderThan(secs));
                self.recompute();
            }
            None => self.status = "already at the oldest bucket".into(),
        }
    }

    /// Backspace: one step back up the path.
    fn back(&mut self) {
        if self.path.pop().is_some() {
            if let Some((focus, cursors)) = self.stack.pop() {
                self.focus = focus;
                self.cursors = cursors;
            }
            self.recompute();
        }
    }

    fn open_list(&mut self) {
        self.view = View::Messages;
        self.sort_list();
        self.scroll_list();
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::PathBuf;

    use query::{Query, SelectionSpec};
    use queue_scan::{QueueLayout, ReadPlan, ScanProgress};

    /// The demo queue (a real Postfix 3.7 instance's, testdata/README.md):
    /// 29 messages, mallory's spam among them.
    pub(crate) fn demo_snapshot() -> Snapshot {
        let layout = QueueLayout::with_defaults(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/demo-queue"),
        );
        let query = Query::for_spec(
            &SelectionSpec::default(),
            ReadPlan {
                headers: false,
                defer_log: true,
            },
        )
        .unwrap();
        Snapshot::scan(&query, &layout, &ScanProgress::default())
    }

    pub(crate) fn demo_app() -> App {
        App::new(demo_snapshot(), "qsurgeon list".into(), false)
    }

    fn count_with(snap: &Snapshot, dim: Dimension, key: &[u8]) -> usize {
        (0..snap.len() as u32)
            .filter(|&i| snap.single_key(i, dim) == Some(key))
            .count()
    }

    fn press(app: &mut App, keys: &[Key]) -> Vec<Action> {
        keys.iter().map(|k| app.on_key(*k)).collect()
    }

    #[test]
    fn the_dashboard_ranks_the_spammer_first_and_enter_narrows_to_it() {
        let mut app = demo_app();
        assert_eq!(app.set.len(), 29);
        let top = &app.tables[0].rows[0];
        assert_eq!(app.snap.key(top.key), b"mallory");
        let mallory = count_with(&app.snap, Dimension::SaslUser, b"mallory");
        assert_eq!(top.messages as usize, mallory);
        press(&mut app, &[Key::Enter]);
        assert_eq!(app.command(), "qsurgeon list --sasl-user mallory");
        assert_eq!(app.set.len(), mallory);
        // Backspace goes back, to the row the cursor was on.
        press(&mut app, &[Key::Down, Key::Backspace]);
        assert_eq!(app.command(), "qsurgeon list");
        assert_eq!(app.set.len(), 29);
        assert_eq!(app.cursors[0], 0);
    }

    /// Key sequences and what they leave: the command line, the group's
    /// size, the view.
    #[test]
    fn key_sequences() {
        let snap = demo_snapshot();
        let mallory = count_with(&snap, Dimension::SaslUser, b"mallory");
        drop(snap);
        #[rustfmt::skip]
        let cases: &[(&[Key], &str, Option<usize>, View)] = &[
            (&[], "qsurgeon list", Some(29), View::Dashboard),
            (&[Key::Enter], "qsurgeon list --sasl-user mallory", Some(mallory), View::Dashboard),
            (&[Key::Enter, Key::Esc], "qsurgeon list", Some(29), View::Dashboard),
            (&[Key::Backspace, Key::Backspace], "qsurgeon list", Some(29), View::Dashboard),
            (&[Key::Enter, Key::Char('l')], "qsurgeon list --sasl-user mallory", Some(mallory), View::Messages),
            (&[Key::Char('l'), Key::Esc], "qsurgeon list", Some(29), View::Dashboard),
            (&[Key::Tab, Key::Tab, Key::Tab, Key::BackTab, Key::BackTab, Key::BackTab, Key::Enter],
                "qsurgeon list --sasl-user mallory", Some(mallory), View::Dashboard),
            (&[Key::Char('o')], "qsurgeon list --older-than 10m", None, View::Dashboard),
            (&[Key::Char('o'), Key::Char('o')], "qsurgeon list --older-than 10m --older-than 1h", None, View::Dashboard),
            (&[Key::Char('?'), Key::Enter], "qsurgeon list", Some(29), View::Dashboard),
            (&[Key::Char('a'), Key::Esc, Key::Enter], "qsurgeon list --sasl-user mallory", Some(mallory), View::Dashboard),
        ];
        for (keys, command, size, view) in cases {
            let mut app = demo_app();
            let actions = press(&mut app, keys);
            assert!(actions.iter().all(|a| *a == Action::None), "{keys:?}");
            assert_eq!(app.command(), *command, "{keys:?}");
            if let Some(size) = size {
                assert_eq!(app.set.len(), *size, "{keys:?}");
            }
            assert_eq!(app.view, *view, "{keys:?}");
            assert_eq!(app.overlay, Overlay::None, "{keys:?}");
        }
    }

    #[test]
    fn quit_refresh_and_acting_on_the_group_or_the_marks() {
        let mut app = demo_app();
        assert_eq!(app.on_key(Key::Char('q')), Action::Quit);
        assert_eq!(app.on_key(Key::Ctrl('c')), Action::Quit);
        assert_eq!(app.on_key(Key::Char('r')), Action::Refresh);
        press(&mut app, &[Key::Enter]);
        let group = app.set.clone();
        // `a d` deletes the whole group when nothing is marked.
        let action = app.on_key(Key::Char('a'));
        assert_eq!((action, app.overlay), (Action::None, Overlay::ActMenu));
        assert_eq!(
            app.on_key(Key::Char('d')),
            Action::Act {
                verb: Verb::Delete,
                backup: false,
                messages: group.clone()
            }
        );
        // In the list, `m` marks the selected message and moves down; the
        // action then takes the marks only.
        press(
            &mut app,
            &[
                Key::Char('l'),
                Key::Char('m'),
                Key::Char('m'),
                Key::Char('k'),
                Key::Char('m'),
            ],
        );
        assert_eq!(app.marks.len(), 1);
        let marked = app.set[0];
        assert!(app.marks.contains(&marked));
        assert_eq!(
            press(&mut app, &[Key::Char('a'), Key::Char('b')]).pop(),
            Some(Action::Act {
                verb: Verb::Delete,
                backup: true,
                messages: vec![marked]
            })
        );
        // Esc in the menu does nothing.
        assert_eq!(
            press(&mut app, &[Key::Char('a'), Key::Esc]).pop(),
            Some(Action::None)
        );
        assert_eq!(app.overlay, Overlay::None);
    }

    #[test]
    fn marks_are_a_bit_set() {
        let mut marks = Marks::default();
        assert!(marks.insert(3) && marks.insert(200) && !marks.insert(3));
        assert_eq!(marks.len(), 2);
        assert!(marks.contains(&200) && !marks.contains(&4) && !marks.contains(&100_000));
        assert!(marks.remove(&3) && !marks.remove(&3) && !marks.remove(&9999));
        marks.extend([64, 63, 1]);
        assert_eq!(marks.iter().collect::<Vec<_>>(), [1, 63, 64, 200]);
        marks.clear();
        assert!(marks.is_empty() && marks.iter().next().is_none());
    }

    #[test]
    fn the_list_scrolls_over_the_group_and_sorts() {
        let mut app = demo_app();
        app.set_list_rows(5);
        press(&mut app, &[Key::Char('l')]);
        let ages: Vec<i64> = app.set.iter().map(|&i| app.snap.facts(i).arrival).collect();
        assert!(ages.windows(2).all(|w| w[0] <= w[1]), "oldest first");
        press(&mut app, &[Key::End]);
        assert_eq!(app.list_cursor, 28);
        assert_eq!(app.list_offset, 24, "the cursor's row is on screen");
        press(&mut app, &[Key::PageUp]);
        assert_eq!((app.list_cursor, app.list_offset), (23, 23));
        press(&mut app, &[Key::Home]);
        assert_eq!((app.list_cursor, app.list_offset), (0, 0));
        press(&mut app, &[Key::Char('s')]);
        assert_eq!(app.sort, Sort::Size);
        let sizes: Vec<u64> = app.set.iter().map(|&i| app.snap.facts(i).size).collect();
        assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "largest first");
        press(&mut app, &[Key::Char('s')]);
        assert_eq!(app.sort, Sort::Recipients);
        let counts: Vec<(u32, i64)> = app
            .set
            .iter()
            .map(|&i| (app.snap.facts(i).recipients, app.snap.facts(i).arrival))
            .collect();
        assert!(
            counts
                .windows(2)
                .all(|w| w[0].0 > w[1].0 || (w[0].0 == w[1].0 && w[0].1 <= w[1].1)),
            "most recipients first, then oldest: {counts:?}"
        );
        assert!(counts[0].0 > counts[counts.len() - 1].0, "{counts:?}");
        press(&mut app, &[Key::Char('s')]);
        let senders: Vec<&[u8]> = app
            .set
            .iter()
            .map(|&i| app.snap.single_key(i, Dimension::Sender).unwrap())
            .collect();
        assert!(senders.windows(2).all(|w| w[0] <= w[1]), "by sender");
        assert_eq!(app.wants_preview(), Some(app.set[0]));
        app.preview = Some((app.set[0], String::new()));
        assert_eq!(app.wants_preview(), None);
        press(&mut app, &[Key::Down]);
        assert_eq!(app.wants_preview(), Some(app.set[1]));
    }

    fn typed(text: &str) -> Vec<Key> {
        // `/` opens with the current filter: cleared first.
        let mut keys = vec![Key::Char('/')];
        keys.extend(std::iter::repeat_n(Key::Backspace, 30));
        keys.extend(text.chars().map(Key::Char));
        keys.push(Key::Enter);
        keys
    }

    #[test]
    fn the_filter_narrows_from_memory_and_joins_the_command() {
        let mut app = demo_app();
        press(&mut app, &[Key::Enter]);
        let mallory = app.set.len();
        press(&mut app, &typed("size > 560B"));
        assert_eq!(app.overlay, Overlay::None);
        assert_eq!(
            app.command(),
            "qsurgeon list --sasl-user mallory --where 'size > 560B'"
        );
        assert!(app.set.len() < mallory && !app.set.is_empty());
        assert!(app.set.iter().all(|&i| app.snap.facts(i).size > 560));
        // A mistake: the overlay stays, with the column; the filter as it was.
        press(&mut app, &typed("size > > 1B"));
        assert_eq!(app.overlay, Overlay::Filter);
        assert_eq!(app.input_error.as_ref().map(|e| e.0), Some(8));
        assert!(app.command().ends_with("--where 'size > 560B'"));
        // Esc leaves it; `/` and an empty line clear it.
        press(&mut app, &[Key::Esc]);
        assert!(app.command().ends_with("--where 'size > 560B'"));
        let mut clear = vec![Key::Char('/')];
        clear.extend(std::iter::repeat_n(Key::Backspace, 20));
        clear.push(Key::Enter);
        press(&mut app, &clear);
        assert_eq!(app.command(), "qsurgeon list --sasl-user mallory");
        assert_eq!(app.set.len(), mallory);
        // `q` typed in the filter is text, not quit.
        let actions = press(&mut app, &typed("sender ~ /q/"));
        assert!(actions.iter().all(|a| *a == Action::None));
    }

    #[test]
    fn a_refresh_shows_the_change_per_row() {
        let mut app = demo_app();
        press(&mut app, &[Key::Enter]);
        let before = app.set.len() as i64;
        app.replace_snapshot_with(demo_snapshot(), None);
        assert_eq!(app.total_delta(), Some(0));
        assert_eq!(app.delta(0, &app.tables[0].rows[0].clone()), Some(0));
        // An empty queue: the group is empty, every row went down.
        app.replace_snapshot_with(Snapshot::default(), None);
        assert!(app.set.is_empty());
        assert_eq!(app.total_delta(), Some(-before));
        // Another group: no change shown (the last scan counted another group).
        press(&mut app, &[Key::Backspace]);
        assert_eq!(app.total_delta(), None);
    }

    /// `s` on the dashboard ranks the tables by messages, recipients,
    /// bytes, as `summary --rank-by` does; each table's rows follow.
    #[test]
    fn the_dashboard_ranks_by_recipients() {
        #[rustfmt::skip]
        let cases: &[(&[Key], Rank)] = &[
            (&[], Rank::Messages),
            (&[Key::Char('s')], Rank::Recipients),
            (&[Key::Char('s'), Key::Char('s')], Rank::Bytes),
            (&[Key::Char('s'), Key::Char('s'), Key::Char('s')], Rank::Messages),
            // In the list, `s` sorts the list; the tables keep their rank.
            (&[Key::Char('l'), Key::Char('s'), Key::Esc], Rank::Messages),
            (&[Key::Char('s'), Key::Enter, Key::Backspace], Rank::Recipients),
        ];
        for (keys, rank) in cases {
            let mut app = demo_app();
            press(&mut app, keys);
            assert_eq!(app.rank, *rank, "{keys:?}");
            for table in &app.tables {
                let by = |r: &Row| match rank {
                    Rank::Messages => (r.messages, r.bytes),
                    Rank::Recipients => (r.recipients, r.messages),
                    Rank::Bytes => (r.bytes, r.messages),
                };
                assert!(
                    table.rows.windows(2).all(|w| by(&w[0]) >= by(&w[1])),
                    "{keys:?} {:?}",
                    table.dim
                );
            }
        }
        // Each row's recipients are its messages' envelope recipients.
        let app = demo_app();
        for row in &app.tables[0].rows {
            let sum: u64 = (0..app.snap.len() as u32)
                .filter(|&i| {
                    app.snap.single_key(i, Dimension::SaslUser) == Some(app.snap.key(row.key))
                })
                .map(|i| u64::from(app.snap.facts(i).recipients))
                .sum();
            assert_eq!(row.recipients, sum);
        }
    }

    /// The filter joins the command line quoted as the path's values are:
    /// a backslash before the closing quote would leave fish's quote open.
    #[test]
    fn a_typed_filter_is_quoted_for_every_shell() {
        let mut app = demo_app();
        press(&mut app, &typed(r"sender ~ /x\\/"));
        let (expr, _) = app.filter.as_ref().expect("the filter compiles");
        assert!(expr.contains(r"\\"), "{expr}");
        let command = app.command();
        assert_eq!(
            command,
            format!(
                "qsurgeon list --where {}",
                super::super::flags::shell_quote(expr)
            )
        );
        // Not `'…\\…'`, which fish reads as an escaped backslash.
        assert!(command.contains(r#"'"\\"'"#), "{command}");
    }

    /// A recipients filter narrows from memory and shows as the exact
    /// `--where` of `qsurgeon list`.
    #[test]
    fn the_filter_takes_recipient_counts() {
        let mut app = demo_app();
        let most = (0..app.snap.len() as u32)
            .map(|i| app.snap.facts(i).recipients)
            .max()
            .unwrap();
        assert!(most > 1, "the demo queue has a many-recipient message");
        press(&mut app, &typed("recipients > 1"));
        assert_eq!(app.command(), "qsurgeon list --where 'recipients > 1'");
        let expected = (0..app.snap.len() as u32)
            .filter(|&i| app.snap.facts(i).recipients > 1)
            .count();
        assert_eq!(app.set.len(), expected);
        assert!(expected > 0 && expected < app.snap.len());
        // The synonym reads back as the canonical name.
        press(&mut app, &typed(&format!("nrcpt >= {most}")));
        assert_eq!(
            app.command(),
            format!("qsurgeon list --where 'recipients >= {most}'")
        );
        assert!(app
            .set
            .iter()
            .all(|&i| app.snap.facts(i).recipients == most));
    }

    /// When the instance can tell the nonexistent local senders, they get
    /// a table of their own after the others: Tab reaches it, Enter narrows
    /// to the sender exactly.
    #[test]
    fn nonexistent_local_senders_get_a_table() {
        let mut app = demo_app();
        assert_eq!(app.tables.len(), TABLES.len(), "none without the check");
        let senders = app.snap.distinct_keys(Dimension::Sender);
        let forged: std::collections::HashSet<Box<[u8]>> = senders
            .iter()
            .filter(|s| s.len() == 20 && s.ends_with(b"@ourdomain.example") && s[0] == b'A')
            .map(|s| Box::from(*s))
            .collect();
        assert!(forged.len() >= 2, "{forged:?}");
        app.set_nonexistent(Some(forged.clone()));
        let table = &app.tables[TABLES.len()];
        assert_eq!(table.title, Some("nonexistent local senders"));
        assert_eq!(table.distinct, forged.len());
        assert!(table
            .rows
            .iter()
            .all(|r| forged.contains(app.snap.key(r.key))));
        let first = String::from_utf8_lossy(app.snap.key(table.rows[0].key)).into_owned();
        let n = table.rows[0].messages as usize;
        // Shift-Tab from the first table wraps to it.
        press(&mut app, &[Key::BackTab, Key::Enter]);
        assert_eq!(app.command(), format!("qsurgeon list --sender {first}"));
        assert_eq!(app.set.len(), n);
        press(&mut app, &[Key::Backspace]);
        assert_eq!(app.focus, TABLES.len());
        // A rescan where the instance cannot tell: the table goes.
        app.replace_snapshot_with(demo_snapshot(), None);
        assert_eq!(app.tables.len(), TABLES.len());
        assert!(app.focus < TABLES.len());
    }
}
