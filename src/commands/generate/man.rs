//! The man pages, generated from the clap definitions (so options never go
//! stale) plus the hand-written prose in `man/prose.roff`:
//!
//! - `qsurgeon(1)`: every command with its options and examples, then all
//!   the prose;
//! - `qsurgeon-<command>(1)`, one per command: its synopsis, options
//!   (global ones included) and examples, then the prose sections that
//!   concern it (selection language, acting on the queue, exit status…).
//!
//! The examples are each command's `after_help`, the same text `--help`
//! prints. Unit tests fail when a committed page is stale;
//! `UPDATE_GOLDEN=1 cargo test --bin qsurgeon man` rewrites them, and
//! `qsurgeon generate man DIR` writes them for packagers.

use std::path::Path;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::cli::Opts;

/// Hand-written sections appended after the generated ones.
const PROSE: &str = include_str!("../../../man/prose.roff");

/// The date in every page's title line (fixed, so pages are reproducible).
const DATE: &str = "2026-11";

/// The commands that get a page: every visible subcommand (not the `help`
/// that building the command adds).
fn commands(root: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    root.get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
}

/// Escapes plain text for roff: backslashes, minus signs (so they can be
/// copied), and a leading `.` or `'` (which would start a request).
fn roff_text(line: &str) -> String {
    let escaped = line.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

/// A command's `after_help` (its examples) as a no-fill block, so the
/// columns line up as in `--help`; the "Examples:" line becomes the
/// heading. Empty when the command has none.
fn examples(cmd: &clap::Command, heading: &str) -> String {
    let Some(text) = cmd.get_after_help().map(|t| t.to_string()) else {
        return String::new();
    };
    let body = text.strip_prefix("Examples:\n").unwrap_or(&text);
    let mut out = format!("{heading} EXAMPLES\n.nf\n");
    for line in body.lines() {
        out.push_str(&roff_text(line));
        out.push('\n');
    }
    out.push_str(".fi\n");
    out
}

/// The prose split into its `.SH` sections: (title without quotes, text).
fn prose_sections() -> Vec<(&'static str, &'static str)> {
    let mut sections = Vec::new();
    let mut rest = PROSE;
    while let Some(start) = rest.find(".SH ") {
        let from = &rest[start..];
        let end = from[4..].find("\n.SH ").map_or(from.len(), |i| i + 5);
        let section = &from[..end];
        let title = section[4..]
            .lines()
            .next()
            .unwrap_or_default()
            .trim_matches('"');
        sections.push((title, section));
        rest = &from[end..];
    }
    sections
}

/// The prose sections a command's own page carries, in page order.
fn prose_for(command: &str) -> &'static [&'static str] {
    match command {
        "show" => &[
            "DIFFERENCES FROM POSTCAT",
            "TERMINAL OUTPUT",
            "EXIT STATUS",
            "FILES",
        ],
        "list" => &[
            "SELECTION",
            "TERMINAL OUTPUT",
            "NOT ROOT",
            "SECURITY",
            "EXIT STATUS",
            "FILES",
        ],
        "summary" | "triage" => &["SELECTION", "TERMINAL OUTPUT", "EXIT STATUS", "FILES"],
        "delete" => &[
            "SELECTION",
            "ACTING ON THE QUEUE",
            "CRON",
            "SECURITY",
            "EXIT STATUS",
            "FILES",
        ],
        "hold" | "release" | "requeue" | "expire" | "flush" => {
            &["SELECTION", "ACTING ON THE QUEUE", "EXIT STATUS", "FILES"]
        }
        "metrics" | "check" => &["MONITORING", "EXIT STATUS", "FILES"],
        _ => &["EXIT STATUS", "FILES"],
    }
}

/// Renders `qsurgeon(1)`: name, synopsis, options, subcommands (each with
/// its own options and examples), then the prose sections, then the list
/// of per-command pages.
pub fn render() -> std::io::Result<Vec<u8>> {
    let cmd = Opts::command();
    let man = clap_mangen::Man::new(cmd.clone()).date(DATE);
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    for sub in commands(&cmd) {
        let sub_man =
            clap_mangen::Man::new(sub.clone().name(format!("qsurgeon {}", sub.get_name())));
        out.extend_from_slice(
            format!(".SH \"QSURGEON {}\"\n", sub.get_name().to_uppercase()).as_bytes(),
        );
        let mut section = Vec::new();
        sub_man.render_synopsis_section(&mut section)?;
        sub_man.render_description_section(&mut section)?;
        sub_man.render_options_section(&mut section)?;
        // Demote the subcommand's sections to subsections of its own.
        let text = String::from_utf8_lossy(&section).replace(".SH ", ".SS ");
        out.extend_from_slice(text.as_bytes());
        out.extend_from_slice(examples(sub, ".SS").as_bytes());
    }
    out.extend_from_slice(PROSE.as_bytes());
    // PROSE ends with SEE ALSO: name the per-command pages there too.
    let pages: Vec<String> = commands(&cmd)
        .map(|c| format!("\\fBqsurgeon\\-{}\\fR(1)", c.get_name()))
        .collect();
    out.extend_from_slice(format!(".PP\nOne page per command: {}.\n", pages.join(", ")).as_bytes());
    Ok(out)
}

/// Renders `qsurgeon-<command>(1)` for one subcommand of the built root
/// command (building gives it the `qsurgeon list` synopsis name, the
/// `qsurgeon-list` page name and the global options).
fn render_command(sub: &clap::Command) -> std::io::Result<Vec<u8>> {
    let version = Opts::command()
        .get_version()
        .unwrap_or_default()
        .to_string();
    let man = clap_mangen::Man::new(sub.clone())
        .date(DATE)
        .source(format!("qsurgeon {version}"));
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    out.extend_from_slice(examples(sub, ".SH").as_bytes());
    let sections = prose_sections();
    for wanted in prose_for(sub.get_name()) {
        if let Some((_, text)) = sections.iter().find(|(title, _)| title == wanted) {
            out.extend_from_slice(text.as_bytes());
        }
    }
    let postfix_tools = sections
        .iter()
        .find(|(title, _)| *title == "SEE ALSO")
        .and_then(|(_, text)| text.split_once('\n'))
        .map_or("", |(_, body)| body);
    out.extend_from_slice(
        format!(".SH \"SEE ALSO\"\n\\fBqsurgeon\\fR(1), {postfix_tools}").as_bytes(),
    );
    Ok(out)
}

/// Every page: (file name, content), `qsurgeon.1` first.
pub fn pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut pages = vec![("qsurgeon.1".to_string(), render()?)];
    let mut root = Opts::command();
    root.build();
    for sub in commands(&root) {
        pages.push((
            format!("qsurgeon-{}.1", sub.get_name()),
            render_command(sub)?,
        ));
    }
    Ok(pages)
}

/// `qsurgeon generate man DIR`: writes every page into `dir`.
pub fn write_all(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    for (name, text) in pages().context("render the man pages")? {
        let path = dir.join(&name);
        std::fs::write(&path, text).with_context(|| format!("write {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Every committed page must be what the CLI definition renders today,
    /// and no page may be left over from a removed command. Regenerate with
    /// `UPDATE_GOLDEN=1 cargo test --bin qsurgeon man`.
    #[test]
    fn committed_man_pages_are_current() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
        let pages = super::pages().unwrap();
        let update = std::env::var_os("UPDATE_GOLDEN").is_some();
        let mut stale = Vec::new();
        for (name, rendered) in &pages {
            let path = dir.join(name);
            if update {
                std::fs::write(&path, rendered).unwrap();
            }
            if std::fs::read(&path).unwrap_or_default() != *rendered {
                stale.push(name.clone());
            }
        }
        for entry in std::fs::read_dir(&dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if name.ends_with(".1") && !pages.iter().any(|(n, _)| *n == name) {
                if update {
                    std::fs::remove_file(dir.join(&name)).unwrap();
                } else {
                    stale.push(format!("{name} (no such command)"));
                }
            }
        }
        assert!(
            stale.is_empty(),
            "stale man pages {stale:?}: run UPDATE_GOLDEN=1 cargo test --bin qsurgeon man"
        );
    }

    #[test]
    fn man_every_command_page_has_examples_and_its_prose() {
        for (name, text) in super::pages().unwrap() {
            let text = String::from_utf8(text).unwrap();
            assert!(text.contains("EXAMPLES\n.nf\n"), "{name}: no examples");
            assert!(
                text.contains(".SH \"EXIT STATUS\""),
                "{name}: no exit status"
            );
            // Unescaped minus signs in examples could not be copied.
            assert!(!text.contains("\n  qsurgeon --"), "{name}");
        }
        let pages = super::pages().unwrap();
        let delete = pages
            .iter()
            .find(|(n, _)| n == "qsurgeon-delete.1")
            .unwrap();
        let delete = String::from_utf8_lossy(&delete.1);
        for section in [
            "SELECTION",
            "\"ACTING ON THE QUEUE\"",
            "CRON",
            "\"SEE ALSO\"",
        ] {
            assert!(delete.contains(&format!(".SH {section}\n")), "{section}");
        }
        assert!(delete.contains("qsurgeon delete"));
        assert!(delete.contains("\\-\\-config\\-dir"), "global options");
    }

    #[test]
    fn man_roff_escaping() {
        assert_eq!(super::roff_text("a -b \\d"), "a \\-b \\ed");
        assert_eq!(super::roff_text(".x"), "\\&.x");
    }
}
