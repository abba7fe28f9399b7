//! qsurgeon: a power tool for Postfix mail queues.
//!
//! This binary only wires: `cli` parses (clap), `config` resolves the
//! instances the options name, each command in `commands` calls the
//! libraries (`crates/*`), `ui` shows, and `exit` decides the exit status
//! (0 done or selected, 1 nothing matched, 2 error, 3 refused, 130
//! interrupted; `check` exits as a monitoring plugin: 0 OK, 1 WARNING,
//! 2 CRITICAL, 3 UNKNOWN, bad flags included).

mod cli;
mod commands;
mod config;
mod demo;
mod exit;
mod selection;
mod ui;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use crate::cli::{ActArgs, Command, GenerateWhat, Opts};
use crate::commands::act::Verb;
use crate::commands::{
    act, check, fallback, generate, metrics, restore, show, summary, triage, watch,
};
use crate::config::{for_each_target, single_target};
use crate::exit::{ExitStatus, PluginState};
use crate::ui::sanitize;

fn main() -> ExitCode {
    let opts = match Opts::try_parse() {
        Ok(opts) => opts,
        // A monitoring system reads a bad flag of `check` as UNKNOWN (3),
        // never as clap's 2, which is CRITICAL there.
        Err(err) if err.exit_code() != 0 && invokes_check(std::env::args_os().skip(1)) => {
            let _ = err.print();
            let text = err.render().to_string();
            println!(
                "{}",
                check::unknown_line(text.trim_start_matches("error: "))
            );
            return ExitStatus::Plugin(PluginState::Unknown).into();
        }
        Err(err) => err.exit(),
    };
    match run(opts) {
        Ok(status) => status.into(),
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!(
                "qsurgeon: error: {}",
                sanitize::for_stderr(&format!("{err:#}"))
            );
            ExitStatus::Error.into()
        }
    }
}

/// True when the command on the command line is `check`: the first
/// argument that is neither an option nor the value of a global option
/// that takes one.
fn invokes_check(args: impl Iterator<Item = std::ffi::OsString>) -> bool {
    const TAKE_VALUE: [&str; 5] = [
        "-c",
        "--config-dir",
        "--queue-dir",
        "--instance",
        "--threads",
    ];
    let mut args = args;
    while let Some(arg) = args.next() {
        let arg = arg.to_string_lossy();
        if TAKE_VALUE.contains(&arg.as_ref()) {
            args.next();
        } else if !arg.starts_with('-') || arg == "-" {
            return arg == "check";
        } else if arg == "--" {
            return args.next().is_some_and(|a| a == "check");
        }
    }
    false
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run(mut opts: Opts) -> Result<ExitStatus> {
    // Lives until the command is done; dropping it removes the copy.
    let _demo = if opts.demo {
        Some(demo_copy(&mut opts)?)
    } else {
        None
    };
    queue_scan::set_threads(
        opts.threads
            .map_or_else(queue_scan::default_threads, usize::from),
    );
    match &opts.command {
        Command::Show(args) => show::run(&opts, args),
        Command::List(args) => for_each_target(&opts, |t| fallback::list(t, args)),
        Command::Summary(args) => for_each_target(&opts, |t| {
            fallback::ensure_readable(t, &args.select)?;
            summary::run(t, args)
        }),
        Command::Hold(args) => act_on(&opts, Verb::Hold, args, None),
        Command::Release(args) => act_on(&opts, Verb::Release, args, None),
        Command::Requeue(args) => act_on(&opts, Verb::Requeue, args, None),
        Command::Delete(args) => act_on(&opts, Verb::Delete, &args.act, args.backup.as_ref()),
        Command::Expire(args) => act_on(&opts, Verb::Expire, args, None),
        Command::Flush(args) => act_on(&opts, Verb::Flush, args, None),
        Command::Watch(args) => {
            anyhow::ensure!(
                !opts.all_instances,
                "watch works on one instance: use --instance NAME (one watch per instance)"
            );
            if opts.queue_dir.is_some() {
                anyhow::bail!("watch acts through postsuper, which needs the instance's configuration: use -c CONFIG_DIR or --instance NAME, not --queue-dir");
            }
            let target = single_target(&opts)?;
            fallback::ensure_readable(&target, &args.select)?;
            watch::run(&target, args)
        }
        Command::Triage(args) => {
            anyhow::ensure!(
                !opts.all_instances,
                "triage works on one instance: use --instance NAME"
            );
            let target = single_target(&opts)?;
            fallback::ensure_readable(&target, &args.select)?;
            triage::run(&target, args)
        }
        Command::Restore(args) => {
            let target = single_target(&opts)?;
            let Some(postfix) = &target.postfix else {
                anyhow::bail!("restore re-injects through postdrop, which needs the instance's configuration: use -c CONFIG_DIR or --instance NAME, not --queue-dir");
            };
            restore::run_restore(postfix, args)
        }
        Command::Metrics(args) => metrics::run(&opts, args),
        Command::Check(args) => Ok(check::run(&opts, args)),
        Command::Generate(args) => {
            match args.what {
                GenerateWhat::Man => generate::man::write_all(&args.dir)?,
                GenerateWhat::Completions => generate::completions::write_all(&args.dir)?,
            }
            Ok(ExitStatus::Success)
        }
    }
}

/// `--demo`: refuses the commands that change a queue (postsuper needs a real instance, and
/// the copy is gone at exit anyway), else writes the private copy and points `opts` at it.
fn demo_copy(opts: &mut Opts) -> Result<demo::Demo> {
    let changes = match &opts.command {
        Command::Hold(_) => Some("hold"),
        Command::Release(_) => Some("release"),
        Command::Requeue(_) => Some("requeue"),
        Command::Delete(_) => Some("delete"),
        Command::Expire(_) => Some("expire"),
        Command::Flush(_) => Some("flush"),
        Command::Restore(_) => Some("restore"),
        Command::Watch(_) => Some("watch"),
        _ => None,
    };
    if let Some(verb) = changes {
        anyhow::bail!(
            "--demo reads a private copy of the demo queue that is removed at exit: {verb} changes a queue through Postfix and needs a real instance (-c CONFIG_DIR or --instance NAME). Try `qsurgeon --demo summary`, `--demo list` or `--demo triage`"
        );
    }
    let demo = demo::Demo::create()?;
    opts.demo_instance = Some(demo.instance()?);
    Ok(demo)
}

/// Runs a verb that changes the queue.
fn act_on(opts: &Opts, verb: Verb, args: &ActArgs, backup: Option<&PathBuf>) -> Result<ExitStatus> {
    if opts.queue_dir.is_some() {
        anyhow::bail!(
            "{} acts through postsuper, which needs the instance's configuration: use -c CONFIG_DIR or --instance NAME, not --queue-dir",
            format!("{verb:?}").to_lowercase()
        );
    }
    for_each_target(opts, |t| {
        fallback::ensure_readable(t, &args.select)?;
        act::run(t, verb, args, backup)
    })
}

#[cfg(test)]
mod tests {
    use super::invokes_check;

    #[test]
    fn check_is_found_behind_global_options() {
        let is = |line: &str| invokes_check(line.split(' ').map(Into::into));
        assert!(is("check --warn-total x"));
        assert!(is("-c /etc/postfix-out check"));
        assert!(is("--threads 0 --all-instances check"));
        assert!(is("--instance=postfix-b check --bogus"));
        assert!(!is("--instance check list"));
        assert!(!is("list check"));
        assert!(!is("--bogus"));
    }
}
