//! `qsurgeon restore DIR`: ask, then re-inject what `delete --backup DIR`
//! saved, through the library's [`act::backup::RestorePlan`].

use std::io::{self, IsTerminal, Write};

use act::backup::{RestoreEvent, RestorePlan};
use anyhow::{bail, Result};

use crate::cli::RestoreArgs;
use crate::exit::ExitStatus;

/// `qsurgeon restore DIR [--dry-run] [--yes]`. Exit status: 0 restored, 1
/// nothing to restore, 2 an error (some message could not be restored).
pub fn run_restore(postfix: &postfix::Postfix, args: &RestoreArgs) -> Result<ExitStatus> {
    let plan = RestorePlan::load(&args.dir, postfix)?;
    if !plan.is_empty() && !args.dry_run && !args.yes {
        let question = format!(
            "Re-inject {} message{} from {} through postdrop?",
            plan.len(),
            if plan.len() == 1 { "" } else { "s" },
            args.dir.display()
        );
        if !confirm(&question)? {
            eprintln!("qsurgeon: nothing restored");
            return Ok(ExitStatus::NoMatch);
        }
    }
    let stdout = io::stdout();
    let terminal = stdout.is_terminal();
    let mut stdout = stdout.lock();
    let mut write_error = None;
    let report = plan.execute(args.dry_run, &mut |event| match event {
        RestoreEvent::Message(line) => {
            let line = if terminal {
                crate::ui::sanitize::for_terminal_str(&line).into_owned()
            } else {
                line
            };
            if let Err(e) = writeln!(stdout, "{line}") {
                write_error.get_or_insert(e);
            }
        }
        RestoreEvent::Skipped(text) => {
            eprintln!("qsurgeon: {}", crate::ui::sanitize::for_terminal_str(&text))
        }
        RestoreEvent::Failed(text) => {
            eprintln!(
                "qsurgeon: error: {}",
                crate::ui::sanitize::for_terminal_str(&text)
            )
        }
        RestoreEvent::Warning(text) => {
            eprintln!(
                "qsurgeon: postdrop said: {}",
                crate::ui::sanitize::for_terminal_str(&text)
            )
        }
    })?;
    stdout.flush()?;
    if let Some(e) = write_error {
        return Err(e.into());
    }
    let verb = if args.dry_run {
        "would restore"
    } else {
        "restored"
    };
    eprintln!(
        "qsurgeon: {verb} {} message{}, skipped {}, failed {}",
        report.restored.len(),
        if report.restored.len() == 1 { "" } else { "s" },
        report.skipped.len(),
        report.failed.len()
    );
    if !report.failed.is_empty() {
        Ok(ExitStatus::Error)
    } else if report.restored.is_empty() {
        Ok(ExitStatus::NoMatch)
    } else {
        Ok(ExitStatus::Success)
    }
}

/// Asks on the terminal; without one, refuses (use `--yes`).
fn confirm(question: &str) -> Result<bool> {
    if !(io::stdin().is_terminal() && io::stderr().is_terminal()) {
        bail!("{question} Not on a terminal, so not asking: add --yes (or see --dry-run first)");
    }
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}
