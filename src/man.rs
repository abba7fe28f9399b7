//! The man page: generated from the clap definitions (so options never go
//! stale) plus the hand-written prose in `man/prose.roff`.

#![cfg_attr(not(test), allow(dead_code))]

use clap::CommandFactory;

use crate::cli::Opts;

/// Hand-written sections appended after the generated ones.
const PROSE: &str = include_str!("../man/prose.roff");

/// Renders `qsurgeon(1)`: name, synopsis, options, subcommands (each with
/// its own options), then the prose sections.
pub fn render() -> std::io::Result<Vec<u8>> {
    let cmd = Opts::command();
    let man = clap_mangen::Man::new(cmd.clone()).date("2026-11");
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    for sub in cmd.get_subcommands() {
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
    }
    out.extend_from_slice(PROSE.as_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    /// The committed page must be what the CLI definition renders today.
    /// Regenerate with `UPDATE_GOLDEN=1 cargo test --bin qsurgeon man`.
    #[test]
    fn committed_man_page_is_current() {
        let rendered = super::render().unwrap();
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/man/qsurgeon.1");
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(path, &rendered).unwrap();
        }
        let committed = std::fs::read(path).unwrap_or_default();
        assert!(
            committed == rendered,
            "man/qsurgeon.1 is stale: run UPDATE_GOLDEN=1 cargo test --bin qsurgeon man"
        );
    }
}
