//! What triage shows: the overview of the current group, the lists to pick
//! from, and a message's envelope and headers. Everything from the queue is
//! escaped for the terminal.

use anyhow::{Context, Result};
use dialoguer::Select;
use query::snapshot::Snapshot;
use query::Dimension;

use crate::config::Target;
use crate::ui::fmt::{human_age, human_size};
use crate::ui::sanitize::for_terminal_str;

/// Shown keys: `(none)` for empty values, the null sender as `<>`.
pub(super) fn shown_key(dim: Dimension, key: &[u8]) -> String {
    if key.is_empty() {
        return match dim {
            Dimension::Sender | Dimension::SenderDomain => "<> (null sender)".into(),
            _ => "(none)".into(),
        };
    }
    // Escape the bytes themselves, so invalid UTF-8 shows as \xNN rather
    // than as replacement characters. A key is one cell of a one-line row:
    // a newline would cut it there (`alice@x\nANYTHING` shown as `alice@x`,
    // the real alice's twin) and a tab would move the terminal's cursor, so
    // both are escaped too.
    let escaped = String::from_utf8_lossy(&crate::ui::sanitize::for_terminal(key)).into_owned();
    if escaped.contains(['\n', '\t']) {
        escaped.replace('\n', "\\n").replace('\t', "\\t")
    } else {
        escaped
    }
}

/// `text` cut to `width` characters, with an ellipsis when cut.
pub(super) fn shorten(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    text.chars().take(width - 1).collect::<String>() + "…"
}

pub(super) fn dimension_label(dim: Dimension) -> &'static str {
    match dim {
        Dimension::Queue => "queues",
        Dimension::SaslUser => "SASL users",
        Dimension::Sender => "senders",
        Dimension::SenderDomain => "sender domains",
        Dimension::Client => "clients",
        Dimension::ClientNet => "client networks",
        Dimension::RecipientDomain => "recipient domains",
        Dimension::Reason => "delay reasons",
        Dimension::DsnStatus => "DSN status",
    }
}

/// The overview of the current group, on stderr.
pub(super) fn render_overview(snap: &Snapshot, set: &[u32], command: &str) -> String {
    let mut text = String::new();
    let bytes: u64 = set.iter().map(|&i| snap.facts(i).size).sum();
    let oldest = set.iter().map(|&i| snap.facts(i).arrival).min();
    let newest = set.iter().map(|&i| snap.facts(i).arrival).max();
    text.push_str(&format!("\n== {}\n", for_terminal_str(command)));
    text.push_str(&format!(
        "{} messages, {} bytes",
        set.len(),
        human_size(bytes)
    ));
    if let (Some(o), Some(n)) = (oldest, newest) {
        text.push_str(&format!(
            ", oldest {} ago, newest {} ago",
            human_age(snap.now - o),
            human_age(snap.now - n)
        ));
    }
    text.push('\n');
    for dim in [
        Dimension::Queue,
        Dimension::SaslUser,
        Dimension::Sender,
        Dimension::ClientNet,
        Dimension::RecipientDomain,
        Dimension::Reason,
    ] {
        let rows = snap.tally(set, dim);
        let shown: Vec<String> = rows
            .iter()
            .take(3)
            .map(|row| {
                format!(
                    "{} ({})",
                    shorten(&shown_key(dim, snap.key(row.key)), 48),
                    row.messages
                )
            })
            .collect();
        let more = if rows.len() > 3 {
            format!(", {} more", rows.len() - 3)
        } else {
            String::new()
        };
        text.push_str(&format!(
            "  {:<17} {}{more}\n",
            format!("{}:", dimension_label(dim)),
            shown.join(", ")
        ));
    }
    text
}

/// Shows one message's envelope and headers as `show -eh` would.
pub(super) fn show_message(target: &Target, snap: &Snapshot, index: u32) {
    let text = message_text(target, snap, index);
    let lines: Vec<&str> = text.lines().collect();
    for line in lines.iter().take(80) {
        eprintln!("{line}");
    }
    if lines.len() > 80 {
        let id = String::from_utf8_lossy(snap.id(index)).into_owned();
        eprintln!("… {} more lines (qsurgeon show -q {id})", lines.len() - 80);
    }
}

/// One message's envelope and headers as `show -eh` prints them on a
/// terminal (escaped: invalid UTF-8 as \xNN, controls and bidi characters
/// as escapes), or why it cannot be shown.
pub(super) fn message_text(target: &Target, snap: &Snapshot, index: u32) -> String {
    let id = String::from_utf8_lossy(snap.id(index)).into_owned();
    let layout = &target.instance.layout;
    // As `show -q` reads it: found, opened and read through one descriptor
    // (queue_scan::open), never a planted symlink or FIFO, bounded by the
    // instance's queue-file limit.
    let found = match queue_scan::open::find_queue_file_or_refusal(layout, &id) {
        Ok(Some(found)) => found,
        Ok(None) => return format!("{id}: no longer in the queue"),
        Err(e) => return format!("{id}: {}", for_terminal_str(&e.to_string())),
    };
    let bytes = match found.read(layout, target.instance.queue_file_limit) {
        Ok(bytes) => bytes,
        Err(e) => return format!("{id}: {}", for_terminal_str(&e.to_string())),
    };
    let relative = found.relative;
    let mut out = Vec::new();
    let flags = printer::postcat::PostcatFlags {
        envelope: true,
        header: true,
        ..Default::default()
    };
    let path = relative.to_string_lossy().into_owned();
    let mut warnings = Vec::new();
    let _ = printer::postcat::postcat(&mut out, path.as_bytes(), &bytes, flags, &mut |w| {
        warnings.push(format!("warning: {w}\n"))
    });
    for w in warnings {
        out.extend_from_slice(w.as_bytes());
    }
    // Escape the bytes (invalid UTF-8 as \xNN).
    let escaped = crate::ui::sanitize::for_terminal(&out);
    String::from_utf8_lossy(&escaped).into_owned()
}

pub(super) fn look_at_messages(
    target: &Target,
    snap: &Snapshot,
    set: &[u32],
    theme: &dyn dialoguer::theme::Theme,
) -> Result<()> {
    let mut sample: Vec<u32> = set.to_vec();
    sample.sort_by_key(|&i| snap.facts(i).arrival);
    sample.truncate(50);
    if sample.is_empty() {
        eprintln!("no messages in this group");
        return Ok(());
    }
    loop {
        let labels: Vec<String> = sample
            .iter()
            .map(|&i| {
                let f = snap.facts(i);
                format!(
                    "{:<17} {:>7} {:>5} ago  from {}",
                    String::from_utf8_lossy(snap.id(i)),
                    human_size(f.size),
                    human_age(snap.now - f.arrival),
                    shown_key(
                        Dimension::Sender,
                        snap.single_key(i, Dimension::Sender).unwrap_or_default()
                    )
                )
            })
            .collect();
        let picked = Select::with_theme(theme)
            .with_prompt(format!(
                "Oldest {} of {} messages (Esc to go back)",
                sample.len(),
                set.len()
            ))
            .items(&labels)
            .default(0)
            .interact_opt()
            .context("read the message choice")?;
        match picked {
            Some(i) => show_message(target, snap, sample[i]),
            None => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key drawn in a table row shows whole, on its one line: a stranger's
    /// `alice@x.example` + newline + anything must not look like alice's.
    #[test]
    fn keys_are_one_line_with_newlines_and_tabs_escaped() {
        use ratatui::backend::TestBackend;
        use ratatui::layout::Constraint;
        use ratatui::widgets::{Cell, Row, Table};
        let shown = shown_key(Dimension::Sender, b"alice@x.example\nmallory\tz");
        assert_eq!(shown, "alice@x.example\\nmallory\\tz");
        let mut term = ratatui::Terminal::new(TestBackend::new(40, 2)).unwrap();
        term.draw(|f| {
            let rows = [Row::new(vec![Cell::from(shown.clone())])];
            f.render_widget(Table::new(rows, [Constraint::Length(40)]), f.area());
        })
        .unwrap();
        let buffer = term.backend().buffer();
        let line: String = (0..40).map(|x| buffer[(x, 0)].symbol()).collect();
        assert_eq!(line.trim_end(), "alice@x.example\\nmallory\\tz");
        assert!(buffer
            .content()
            .iter()
            .all(|c| !c.symbol().contains(char::is_control)));
    }
}
