//! Drawing the full-screen triage from an [`App`] (and nothing else): the
//! header with the group's totals and its `qsurgeon list` command, the
//! dashboard (queues, age histogram, top-N tables) or the message list with
//! its preview, the overlays, and the scan gauge. Every string from the
//! queue is escaped as `show` escapes it (`shown_key`, `for_terminal`)
//! before it reaches a cell. Colours only when [`App::color`]; the cursor
//! and the focus are shown by reverse video and bold, which `NO_COLOR`
//! allows.

use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Gauge, Paragraph, Row, Table};
use ratatui::Frame;

use query::snapshot::Live;
use query::{Dimension, Rank, Tally};

use super::app::{App, Overlay, View, AGE_BUCKETS, TABLES};
use super::view::{dimension_label, shorten, shown_key};
use crate::ui::fmt::{human_age, human_size};
use crate::ui::sanitize::for_terminal_str;

/// The background scan's progress: files done and files listed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScanState {
    pub done: u64,
    pub listed: u64,
}

fn paint(app: &App, color: Color) -> Style {
    if app.color {
        Style::default().fg(color)
    } else {
        Style::default()
    }
}

fn cursor_style() -> Style {
    Style::default().add_modifier(Modifier::REVERSED)
}

fn delta_text(delta: Option<i64>) -> String {
    match delta {
        Some(d) if d > 0 => format!("+{d}"),
        Some(d) if d < 0 => format!("{d}"),
        Some(_) => "=".into(),
        None => String::new(),
    }
}

/// The whole screen.
pub fn draw(frame: &mut Frame, app: &App, scan: Option<ScanState>) {
    let area = frame.area();
    let [header, path, body, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_header(frame, app, header);
    // One line: a key's newline or tab shown as \n, \t (ratatui would drop
    // the newline and send the tab raw); the regex the flag holds reads them
    // as the same characters.
    let command = for_terminal_str(&app.command())
        .replace('\n', "\\n")
        .replace('\t', "\\t");
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled("path: ", Style::default().add_modifier(Modifier::BOLD)),
            Span::styled(command, paint(app, Color::Cyan)),
        ])),
        path,
    );
    match app.view {
        View::Dashboard => draw_dashboard(frame, app, body),
        View::Messages => draw_messages(frame, app, body),
    }
    let line = match scan {
        Some(s) => format!("scanning: {}/{} queue files", s.done, s.listed),
        None if !app.status.is_empty() => app.status.clone(),
        None => match app.view {
            View::Dashboard => "Enter narrow  Bksp back  Tab table  l messages  o older  s rank  / filter  a act  r refresh  ? keys  q quit".into(),
            View::Messages => "m mark  M mark all/none  s sort  / filter  a act  Esc dashboard  r refresh  ? keys  q quit".into(),
        },
    };
    frame.render_widget(
        Paragraph::new(line).style(paint(app, Color::Yellow)),
        status,
    );
    match app.overlay {
        Overlay::Help => draw_help(frame, area),
        Overlay::ActMenu => draw_act_menu(frame, app, area),
        Overlay::Filter => draw_filter(frame, app, area),
        Overlay::None => {}
    }
}

fn draw_header(frame: &mut Frame, app: &App, area: Rect) {
    let snap = &app.snap;
    let bytes: u64 = app.set.iter().map(|&i| snap.facts(i).size).sum();
    let recipients: u64 = app
        .set
        .iter()
        .map(|&i| u64::from(snap.facts(i).recipients))
        .sum();
    let oldest = app.set.iter().map(|&i| snap.facts(i).arrival).min();
    let newest = app.set.iter().map(|&i| snap.facts(i).arrival).max();
    let mut text = format!(
        "qsurgeon triage: {} messages{}, {} recipients, {}",
        app.set.len(),
        match app.total_delta() {
            Some(d) => format!(" ({})", delta_text(Some(d))),
            None => String::new(),
        },
        recipients,
        human_size(bytes)
    );
    if let (Some(o), Some(n)) = (oldest, newest) {
        text.push_str(&format!(
            ", oldest {} ago, newest {} ago",
            human_age(snap.now - o),
            human_age(snap.now - n)
        ));
    }
    if !app.marks.is_empty() {
        text.push_str(&format!(", {} marked", app.marks.len()));
    }
    // How long the last narrowing, sort or filter took, before the memory
    // (a narrow terminal cuts the end of the line).
    text.push_str(&format!("  [{} ms]", app.last_compute.as_millis()));
    // The snapshot's own count (and the group's list beside it), and the
    // process as the kernel sees it (resident now, at most, and before the
    // scan): the difference is the program, the allocator's free lists and
    // the screen, not the queue.
    text.push_str(&format!(
        "  snapshot {} (+ list {})",
        human_size(snap.memory() as u64),
        human_size(app.group_memory() as u64)
    ));
    if let Some(p) = app.process {
        text.push_str(&format!(
            ", process RSS {}, peak {}, {} at start",
            human_size(p.rss),
            human_size(p.peak),
            human_size(p.before)
        ));
    }
    frame.render_widget(
        Paragraph::new(text).style(Style::default().add_modifier(Modifier::BOLD)),
        area,
    );
}

fn draw_dashboard(frame: &mut Frame, app: &App, area: Rect) {
    let [left, right] = Layout::horizontal([
        // Wider with the senders' table, for their addresses.
        Constraint::Length(if app.tables.len() > TABLES.len() {
            42
        } else {
            34
        }),
        Constraint::Min(20),
    ])
    .areas(area);
    // The nonexistent local senders, when the instance can tell, under
    // the histogram.
    let [queues, ages, local] = Layout::vertical([
        Constraint::Length(8),
        if app.tables.len() > TABLES.len() {
            Constraint::Length(AGE_BUCKETS.len() as u16 + 2)
        } else {
            Constraint::Min(3)
        },
        Constraint::Min(0),
    ])
    .areas(left);
    if app.tables.len() > TABLES.len() && local.height > 0 {
        draw_table(frame, app, TABLES.len(), local);
    }
    // Queues.
    let rows = app.queues.iter().map(|row| {
        Row::new(vec![
            Cell::from(shown_key(Dimension::Queue, app.snap.key(row.key))),
            Cell::from(row.messages.to_string()),
            Cell::from(row.recipients.to_string()),
            Cell::from(human_size(row.bytes)),
        ])
    });
    frame.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(8),
                Constraint::Length(7),
                Constraint::Length(7),
                Constraint::Length(7),
            ],
        )
        .header(Row::new(vec!["queue", "msgs", "rcpt", "bytes"]).style(bold()))
        .block(Block::default().borders(Borders::ALL).title("queues")),
        queues,
    );
    // Age histogram: one bar per bucket, scaled to the widest.
    let max = app.ages.iter().copied().max().unwrap_or(0).max(1);
    let bar_width = ages.width.saturating_sub(2 + 7 + 8) as u64;
    let lines: Vec<Line> = AGE_BUCKETS
        .iter()
        .zip(app.ages)
        .map(|((_, label), count)| {
            let bar = "#".repeat((count * bar_width).div_ceil(max) as usize);
            Line::from(vec![
                Span::raw(format!("{label:>6} {count:>7} ")),
                Span::styled(bar, paint(app, Color::Green)),
            ])
        })
        .collect();
    frame.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title("age")),
        ages,
    );
    // The tables, three by two on a wide screen, else two by three, so
    // that the keys keep room.
    let across: u32 = if right.width >= 150 { 3 } else { 2 };
    let down = TABLES.len() as u32 / across;
    let cells: Vec<Rect> = Layout::vertical(vec![Constraint::Ratio(1, down); down as usize])
        .split(right)
        .iter()
        .flat_map(|band| {
            Layout::default()
                .direction(Direction::Horizontal)
                .constraints(vec![Constraint::Ratio(1, across); across as usize])
                .split(*band)
                .to_vec()
        })
        .collect();
    for (t, cell) in cells.iter().enumerate().take(TABLES.len()) {
        draw_table(frame, app, t, *cell);
    }
}

fn bold() -> Style {
    Style::default().add_modifier(Modifier::BOLD)
}

fn draw_table(frame: &mut Frame, app: &App, t: usize, area: Rect) {
    let Some(table) = app.tables.get(t) else {
        return;
    };
    let focused = t == app.focus;
    let visible = area.height.saturating_sub(3) as usize;
    let cursor = app.cursors[t];
    let offset = (cursor + 1).saturating_sub(visible);
    // The key takes what the numbers leave.
    // Widths of the number columns and the six gaps between columns; a
    // narrow table (the left column's) shows messages and recipients only.
    let compact = area.width < 50;
    let numbers = if compact {
        7 + 7 + 2
    } else {
        6 + 5 + 6 + 6 + 4 + 4 + 6
    };
    let key_width = (area.width as usize).saturating_sub(numbers + 2).max(8);
    let rows = table
        .rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(visible)
        .map(|(r, row)| {
            let style = if focused && r == cursor {
                cursor_style()
            } else {
                Style::default()
            };
            let key = Cell::from(shorten(
                &shown_key(table.dim, app.snap.key(row.key)),
                key_width,
            ));
            if compact {
                return Row::new(vec![
                    key,
                    Cell::from(row.messages.to_string()),
                    Cell::from(row.recipients.to_string()),
                ])
                .style(style);
            }
            Row::new(vec![
                key,
                Cell::from(row.messages.to_string()),
                Cell::from(delta_text(app.delta(t, row))),
                Cell::from(row.recipients.to_string()),
                Cell::from(human_size(row.bytes)),
                Cell::from(human_age(app.snap.now - row.oldest)),
                Cell::from(human_age(app.snap.now - row.newest)),
            ])
            .style(style)
        });
    let title = format!(
        "{} ({}){}{}",
        table.title.unwrap_or(dimension_label(table.dim)),
        table.distinct,
        match app.rank {
            Rank::Messages => "",
            Rank::Recipients => " by recipients",
            Rank::Bytes => " by bytes",
        },
        if focused { " *" } else { "" }
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .title(title)
        .border_style(if focused {
            bold().patch(paint(app, Color::Cyan))
        } else {
            Style::default()
        });
    let (widths, header) = if compact {
        (
            vec![
                Constraint::Length(key_width as u16),
                Constraint::Length(7),
                Constraint::Length(7),
            ],
            vec!["", "msgs", "rcpt"],
        )
    } else {
        (
            vec![
                Constraint::Length(key_width as u16),
                Constraint::Length(6),
                Constraint::Length(5),
                Constraint::Length(6),
                Constraint::Length(6),
                Constraint::Length(4),
                Constraint::Length(4),
            ],
            vec!["", "msgs", "Δ", "rcpt", "bytes", "old", "new"],
        )
    };
    frame.render_widget(
        Table::new(rows, widths)
            .header(Row::new(header).style(bold()))
            .block(block),
        area,
    );
}

fn draw_messages(frame: &mut Frame, app: &App, area: Rect) {
    let list_height = (area.height / 2).max(3);
    let [list, preview] =
        Layout::vertical([Constraint::Length(list_height), Constraint::Min(3)]).areas(area);
    let snap = &app.snap;
    // Virtual scrolling: only the rows on screen are formatted.
    let rows = app
        .set
        .iter()
        .enumerate()
        .skip(app.list_offset)
        .take(list.height.saturating_sub(3) as usize)
        .map(|(r, &i)| {
            let f = snap.facts(i);
            let id = String::from_utf8_lossy(&crate::ui::sanitize::for_terminal(snap.id(i)))
                .into_owned();
            let style = if r == app.list_cursor {
                cursor_style()
            } else {
                Style::default()
            };
            Row::new(vec![
                Cell::from(if app.marks.contains(&i) { "*" } else { " " }),
                Cell::from(id),
                Cell::from(shown_key(
                    Dimension::Queue,
                    snap.single_key(i, Dimension::Queue).unwrap_or_default(),
                )),
                Cell::from(human_age(snap.now - f.arrival)),
                Cell::from(human_size(f.size)),
                Cell::from(f.recipients.to_string()),
                Cell::from(shown_key(
                    Dimension::SaslUser,
                    snap.single_key(i, Dimension::SaslUser).unwrap_or_default(),
                )),
                Cell::from(shown_key(
                    Dimension::Sender,
                    snap.single_key(i, Dimension::Sender).unwrap_or_default(),
                )),
            ])
            .style(style)
        });
    let title = format!(
        "messages {}-{} of {}, by {} (marked {})",
        (app.list_offset + 1).min(app.set.len()),
        (app.list_offset + list.height.saturating_sub(3) as usize).min(app.set.len()),
        app.set.len(),
        app.sort.label(),
        app.marks.len()
    );
    frame.render_widget(
        Table::new(
            rows,
            [
                Constraint::Length(1),
                Constraint::Length(18),
                Constraint::Length(9),
                Constraint::Length(5),
                Constraint::Length(7),
                Constraint::Length(6),
                Constraint::Length(20),
                Constraint::Min(10),
            ],
        )
        .header(
            Row::new(vec![
                "",
                "queue ID",
                "queue",
                "age",
                "size",
                "rcpt",
                "SASL user",
                "sender",
            ])
            .style(bold()),
        )
        .block(Block::default().borders(Borders::ALL).title(title)),
        list,
    );
    let text = match &app.preview {
        Some((i, text)) if Some(*i) == app.selected_message() => text.replace('\t', "    "),
        _ if app.set.is_empty() => "no messages in this group".into(),
        _ => "loading…".into(),
    };
    frame.render_widget(
        Paragraph::new(text).scroll((app.preview_scroll, 0)).block(
            Block::default()
                .borders(Borders::ALL)
                .title("envelope and headers (qsurgeon show -eh; J/K scroll)"),
        ),
        preview,
    );
}

/// A rectangle of `w` by `h` in the middle of `area`.
fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// The keys, for `?`.
pub const HELP: &str = "\
Dashboard
  Tab / Shift-Tab, ←/→   move between the tables
  ↑/↓ j/k PgUp/PgDn       move in a table
  Enter                   narrow the group to the row
  Backspace / Esc         one step back
  o                       narrow to older messages (one age bucket more)
  s                       rank the tables by messages, recipients, bytes
  l                       the group's messages
Messages
  ↑/↓ j/k PgUp/PgDn Home/End   move
  m / Space               mark or unmark (and move down)
  M                       mark all, or clear the marks
  s                       sort by age, size, recipients, sender
  J / K                   scroll the preview down / up
  Esc / Backspace / l     back to the dashboard
Everywhere
  /                       filter with a --where expression (queue, id,
                          sender, sender_domain, sasl_user, client, size,
                          age, arrival, recipients, null_sender), e.g.
                          recipients > 20; empty clears it
  a                       act on the marks (or the whole group):
                          h hold, u release, r requeue, d delete,
                          b delete with a backup, e expire
  r                       scan again (Δ shows the change per row)
  q / Ctrl-C              quit (the path is printed as a command)
  ?                       this help (any key closes it)";

fn draw_help(frame: &mut Frame, area: Rect) {
    let rect = centered(area, 70, HELP.lines().count() as u16 + 2);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(HELP).block(Block::default().borders(Borders::ALL).title("keys")),
        rect,
    );
}

fn draw_act_menu(frame: &mut Frame, app: &App, area: Rect) {
    let on = if app.marks.is_empty() {
        format!("the whole group: {} messages", app.set.len())
    } else {
        format!("the {} marked messages", app.marks.len())
    };
    let text = format!(
        "Act on {on}\n\n  h  hold\n  u  release\n  r  requeue\n  d  delete\n  b  delete, with a backup first\n  e  expire\n\n  Esc  nothing\n\nThe verb's preview and confirmation follow."
    );
    let rect = centered(area, 56, 15);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(text).block(Block::default().borders(Borders::ALL).title("act")),
        rect,
    );
}

/// The filter being typed, with the error under its column.
fn draw_filter(frame: &mut Frame, app: &App, area: Rect) {
    let input = for_terminal_str(&app.input).into_owned();
    let mut lines = vec![
        Line::from("--where expression over queue, id, sender, sender_domain, sasl_user, client,"),
        Line::from("size, age, arrival, recipients, null_sender (e.g. recipients > 20)"),
        Line::from("Enter applies, empty clears, Esc leaves"),
        Line::from(""),
        Line::from(vec![
            Span::styled("/ ", bold()),
            Span::raw(input),
            Span::styled("_", Style::default().add_modifier(Modifier::SLOW_BLINK)),
        ]),
    ];
    if let Some((column, message)) = &app.input_error {
        if *column > 0 {
            lines.push(Line::from(format!("  {}^", " ".repeat(column - 1))));
        }
        lines.push(Line::styled(
            format!(
                "{}{}",
                if *column > 0 {
                    format!("column {column}: ")
                } else {
                    String::new()
                },
                for_terminal_str(message)
            ),
            paint(app, Color::Red).add_modifier(Modifier::BOLD),
        ));
    }
    let rect = centered(area, area.width.saturating_sub(8).min(100), 10);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title("filter")),
        rect,
    );
}

/// The first scan's counts so far, copied out of [`query::snapshot::Live`]
/// (its lock is held only while copying).
#[derive(Default)]
pub struct LiveView {
    /// Every message counted so far.
    pub total: Tally,
    /// Per dimension: distinct keys so far and the top rows.
    pub tables: Vec<LiveTable>,
}

/// One table of [`LiveView`]: its dimension, distinct keys so far, and
/// the top rows (key, counts).
pub type LiveTable = (Dimension, usize, Vec<(Vec<u8>, Tally)>);

impl LiveView {
    /// The top `n` rows of each of `dims`, or None once the scan is over
    /// (its counts are cleared then: the last copy stays on screen).
    pub fn copy(live: &Live, dims: &[Dimension], n: usize) -> Option<LiveView> {
        live.read(|state| {
            (!state.done).then(|| LiveView {
                total: state.total,
                tables: dims
                    .iter()
                    .map(|&dim| {
                        let rows = state
                            .tables
                            .top_by(dim, n, Rank::Messages)
                            .into_iter()
                            .map(|(k, t)| (k.to_vec(), *t))
                            .collect();
                        (dim, state.tables.distinct(dim), rows)
                    })
                    .collect(),
            })
        })
    }
}

/// The first scan: the gauge, and the dashboard's tables as the counts
/// come in.
pub fn draw_scanning(frame: &mut Frame, scan: ScanState, live: &LiveView, now: i64) {
    let [gauge, totals, body] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(1),
        Constraint::Min(3),
    ])
    .areas(frame.area());
    draw_gauge(frame, scan, gauge);
    frame.render_widget(
        Paragraph::new(format!(
            "so far: {} messages, {} recipients, {} (counting; the tables are final when the scan ends)",
            live.total.messages,
            live.total.recipients,
            human_size(live.total.bytes)
        ))
        .style(bold()),
        totals,
    );
    let across: u32 = if body.width >= 180 { 3 } else { 2 };
    let count = live.tables.len() as u32;
    let down = count.div_ceil(across).max(1);
    let cells: Vec<Rect> = Layout::vertical(vec![Constraint::Ratio(1, down); down as usize])
        .split(body)
        .iter()
        .flat_map(|band| {
            Layout::horizontal(vec![Constraint::Ratio(1, across); across as usize])
                .split(*band)
                .to_vec()
        })
        .collect();
    for ((dim, distinct, rows), cell) in live.tables.iter().zip(cells) {
        let key_width = (cell.width as usize)
            .saturating_sub(6 + 6 + 6 + 4 + 4 + 5 + 2)
            .max(8);
        let shown = rows
            .iter()
            .take(cell.height.saturating_sub(3) as usize)
            .map(|(key, t)| {
                Row::new(vec![
                    Cell::from(shorten(&shown_key(*dim, key), key_width)),
                    Cell::from(t.messages.to_string()),
                    Cell::from(t.recipients.to_string()),
                    Cell::from(human_size(t.bytes)),
                    Cell::from(human_age(now - t.oldest)),
                    Cell::from(human_age(now - t.newest)),
                ])
            });
        frame.render_widget(
            Table::new(
                shown,
                [
                    Constraint::Length(key_width as u16),
                    Constraint::Length(6),
                    Constraint::Length(6),
                    Constraint::Length(6),
                    Constraint::Length(4),
                    Constraint::Length(4),
                ],
            )
            .header(Row::new(vec!["", "msgs", "rcpt", "bytes", "old", "new"]).style(bold()))
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(format!("{} ({distinct} so far)", dimension_label(*dim))),
            ),
            cell,
        );
    }
}

fn draw_gauge(frame: &mut Frame, scan: ScanState, area: Rect) {
    let ratio = if scan.listed == 0 {
        0.0
    } else {
        (scan.done as f64 / scan.listed as f64).clamp(0.0, 1.0)
    };
    frame.render_widget(
        Gauge::default()
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title("scanning the queue"),
            )
            .ratio(ratio)
            .label(format!("{}/{} queue files", scan.done, scan.listed)),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::triage::app::{App, Key};
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    fn screen(app: &App, w: u16, h: u16) -> String {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
        terminal.draw(|f| draw(f, app, None)).unwrap();
        let buffer = terminal.backend().buffer().clone();
        let mut text = String::new();
        for y in 0..h {
            for x in 0..w {
                text.push_str(buffer[(x, y)].symbol());
            }
            text.push('\n');
        }
        text
    }

    fn demo_app() -> App {
        crate::commands::triage::app::tests::demo_app()
    }

    /// The path line carries queue data: a newline or tab in a key is shown
    /// as `\n`/`\t` (in the regex the flag holds, the same character: the
    /// line pasted selects the same group), never sent to the terminal raw.
    #[test]
    fn the_path_line_escapes_newline_and_tab() {
        let mut app = demo_app();
        app.path.push(query::snapshot::Step::Key(
            query::Dimension::SaslUser,
            b"evil\tuser\nx".as_slice().into(),
        ));
        let mut terminal = Terminal::new(TestBackend::new(160, 40)).unwrap();
        terminal.draw(|f| draw(f, &app, None)).unwrap();
        let buffer = terminal.backend().buffer();
        assert!(
            buffer
                .content()
                .iter()
                .all(|c| !c.symbol().contains(char::is_control)),
            "a control character reached the screen"
        );
        let text = screen(&app, 160, 40);
        assert!(
            text.contains("path: qsurgeon list --sasl-user '/^evil\\tuser\\nx$/'"),
            "{text}"
        );
    }

    #[test]
    fn the_dashboard_shows_totals_the_path_and_the_spammer_on_top() {
        let app = demo_app();
        let text = screen(&app, 160, 40);
        assert!(text.contains("qsurgeon triage: 29 messages"), "{text}");
        assert!(text.contains("path: qsurgeon list "), "{text}");
        assert!(text.contains("SASL users ("), "{text}");
        let sasl = text
            .lines()
            .find(|l| l.contains("mallory"))
            .expect("mallory shown");
        let mallory = app.tables[0].rows[0].messages;
        assert!(sasl.contains("mallory"), "{sasl}");
        assert!(sasl.contains(&format!(" {mallory} ")), "{sasl}");
        assert!(text.contains("deferred"), "{text}");
    }

    #[test]
    fn the_list_shows_only_the_rows_that_fit_and_the_preview() {
        let mut app = demo_app();
        app.on_key(Key::Enter);
        app.on_key(Key::Char('l'));
        let first = app.set[0];
        app.preview = Some((first, "*** ENVELOPE RECORDS x ***\nsender: m@x".into()));
        let text = screen(&app, 120, 20);
        let id = String::from_utf8_lossy(app.snap.id(first)).into_owned();
        assert!(text.contains(&id), "{text}");
        assert!(text.contains("*** ENVELOPE RECORDS x ***"), "{text}");
        assert!(
            text.contains("path: qsurgeon list --sasl-user mallory"),
            "{text}"
        );
        // Twenty lines: the list has room for a few rows, not the group.
        let shown = app
            .set
            .iter()
            .filter(|&&i| text.contains(&*String::from_utf8_lossy(app.snap.id(i))))
            .count();
        assert!(shown < app.set.len() || app.set.len() <= 4, "{shown}");
    }

    #[test]
    fn help_and_act_menu_overlays() {
        let mut app = demo_app();
        app.on_key(Key::Char('?'));
        assert!(screen(&app, 120, 40).contains("mark or unmark"));
        app.on_key(Key::Char('x'));
        app.on_key(Key::Char('a'));
        let text = screen(&app, 120, 40);
        assert!(
            text.contains("Act on the whole group: 29 messages"),
            "{text}"
        );
    }

    /// The recipients column: per table row, per queue, per message, and
    /// the group's total in the header.
    #[test]
    fn recipients_are_shown_in_the_tables_and_the_list() {
        let mut app = demo_app();
        let text = screen(&app, 160, 40);
        let total: u64 = (0..app.snap.len() as u32)
            .map(|i| u64::from(app.snap.facts(i).recipients))
            .sum();
        assert!(text.contains(&format!(", {total} recipients, ")), "{text}");
        assert!(text.contains("rcpt"), "{text}");
        let top = app.tables[0].rows[0];
        let line = text.lines().find(|l| l.contains("mallory")).unwrap();
        assert!(
            line.contains(&format!(" {} ", top.messages))
                && line.contains(&format!(" {} ", top.recipients)),
            "{line}"
        );
        // The nonexistent local senders, when known, under the histogram.
        let forged: std::collections::HashSet<Box<[u8]>> =
            [Box::from(&b"AA@ourdomain.example"[..])]
                .into_iter()
                .collect();
        app.set_nonexistent(Some(forged));
        let text = screen(&app, 160, 40);
        assert!(text.contains("nonexistent local senders (1)"), "{text}");
        assert!(text.contains("AA@ourdomain.example"), "{text}");
        // Ranked by recipients, the title says so.
        app.on_key(Key::Char('s'));
        assert!(screen(&app, 160, 40).contains("SASL users ("));
        assert!(screen(&app, 160, 40).contains("by recipients"));
        // The list, by recipients: the first row shows the most.
        app.on_key(Key::Char('l'));
        app.on_key(Key::Char('s'));
        app.on_key(Key::Char('s'));
        let first = app.set[0];
        let most = app.snap.facts(first).recipients;
        let text = screen(&app, 120, 30);
        assert!(text.contains("by recipients"), "{text}");
        let id = String::from_utf8_lossy(app.snap.id(first)).into_owned();
        let row = text.lines().find(|l| l.contains(&id)).unwrap();
        assert!(row.contains(&format!(" {most} ")), "{row}");
    }

    /// The memory line names the snapshot's own count and the process's
    /// resident memory apart.
    #[test]
    fn the_memory_line_tells_the_snapshot_from_the_process() {
        let mut app = demo_app();
        let counted = human_size(app.snap.memory() as u64);
        let text = screen(&app, 240, 30);
        assert!(
            text.contains(&format!(
                "snapshot {counted} (+ list {})",
                human_size(app.group_memory() as u64)
            )),
            "{text}"
        );
        assert!(!text.contains("process"), "{text}");
        app.process = Some(crate::commands::triage::app::ProcessMemory {
            rss: 30 << 20,
            peak: 34 << 20,
            before: 7 << 20,
        });
        let text = screen(&app, 240, 30);
        assert!(
            text.contains("process RSS 30M, peak 34M, 7.0M at start"),
            "{text}"
        );
    }

    /// During the first scan: the gauge, the totals so far and the tables
    /// as the counts come in.
    #[test]
    fn the_first_scan_shows_the_counts_so_far() {
        let tally = |messages, recipients| Tally {
            messages,
            bytes: 1000 * messages,
            recipients,
            oldest: 1000,
            newest: 4000,
        };
        let live = LiveView {
            total: tally(12, 60),
            tables: vec![
                (
                    Dimension::Queue,
                    1,
                    vec![(b"deferred".to_vec(), tally(12, 60))],
                ),
                (
                    Dimension::SaslUser,
                    2,
                    vec![
                        (b"mallory".to_vec(), tally(10, 400)),
                        (Vec::new(), tally(2, 2)),
                    ],
                ),
            ],
        };
        let mut terminal = Terminal::new(TestBackend::new(120, 20)).unwrap();
        let scan = ScanState {
            done: 40,
            listed: 100,
        };
        terminal
            .draw(|f| draw_scanning(f, scan, &live, 7600))
            .unwrap();
        let buffer = terminal.backend().buffer().clone();
        let text: String = (0..20)
            .map(|y| {
                (0..120)
                    .map(|x| buffer[(x, y)].symbol())
                    .collect::<String>()
                    + "\n"
            })
            .collect();
        assert!(text.contains("40/100 queue files"), "{text}");
        assert!(
            text.contains("so far: 12 messages, 60 recipients"),
            "{text}"
        );
        assert!(text.contains("SASL users (2 so far)"), "{text}");
        let line = text.lines().find(|l| l.contains("mallory")).unwrap();
        assert!(
            line.contains(" 10 ") && line.contains(" 400 ") && line.contains("110m"),
            "{line}"
        );
        assert!(text.contains("(none)"), "{text}");
    }
}
