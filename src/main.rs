//! qsurgeon: a power tool for Postfix mail queues.
//!
//! This binary only wires the libraries together: `cli` parses, the
//! command functions here resolve options and call `queue-file` and
//! `queue-scan`, and exit codes are decided in one place (0 done or
//! selected, 1 nothing matched, 2 error).

mod act;
mod cli;
mod commands;
mod completions;
mod fallback;
mod fmt;
mod list;
mod man;
mod output;
mod progress;
mod restore;
mod sanitize;
mod selection;
mod summary;
mod triage;
mod ui;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use postfix::Postfix;
use queue_scan::{is_valid_queue_id, InstanceConfig};

use crate::act::Verb;
use crate::cli::{ActArgs, Command, Opts};
use crate::commands::show;

/// Exit status when an error occurred (an unreadable file, a bad flag).
pub const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let opts = Opts::parse();
    match run(opts) {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!(
                "qsurgeon: error: {}",
                sanitize::for_stderr(&format!("{err:#}"))
            );
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run(opts: Opts) -> Result<ExitCode> {
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
        Command::Generate(args) => {
            match args.what {
                cli::GenerateWhat::Man => man::write_all(&args.dir)?,
                cli::GenerateWhat::Completions => completions::write_all(&args.dir)?,
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Runs a verb that changes the queue.
fn act_on(
    opts: &Opts,
    verb: Verb,
    args: &ActArgs,
    backup: Option<&std::path::PathBuf>,
) -> Result<ExitCode> {
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

/// Runs `command` on every instance the options name, one after the other,
/// and merges the exit statuses: an error (2) wins, then "refused" (3),
/// then "done" (0); "nothing matched" (1) only when it holds everywhere.
fn for_each_target(
    opts: &Opts,
    mut command: impl FnMut(&selection::Target) -> Result<ExitCode>,
) -> Result<ExitCode> {
    let targets = targets(opts)?;
    if targets.len() == 1 {
        return command(&targets[0]);
    }
    let mut codes = Vec::new();
    for target in &targets {
        eprintln!(
            "qsurgeon: instance {}",
            target.label.as_deref().unwrap_or("-")
        );
        codes.push(match command(target) {
            Ok(code) => code,
            Err(err) => {
                eprintln!(
                    "qsurgeon: error: instance {}: {err:#}",
                    target.label.as_deref().unwrap_or("-")
                );
                ExitCode::from(EXIT_ERROR)
            }
        });
    }
    let rank = |code: &ExitCode| match *code {
        c if c == ExitCode::from(EXIT_ERROR) => 4,
        c if c == ExitCode::from(act::EXIT_REFUSED) => 3,
        c if c == ExitCode::SUCCESS => 2,
        c if c == ExitCode::from(act::EXIT_INTERRUPTED) => 5,
        _ => 1,
    };
    Ok(codes
        .into_iter()
        .max_by_key(rank)
        .unwrap_or(ExitCode::SUCCESS))
}

/// The instances to work on: every one with `--all-instances` (labelled by
/// name), the named one with `--instance`, else the one `-c` or
/// `--queue-dir` names (or the default instance).
fn targets(opts: &Opts) -> Result<Vec<selection::Target>> {
    if !opts.all_instances {
        return Ok(vec![single_target(opts)?]);
    }
    Postfix::new(None)?
        .instances()?
        .into_iter()
        .map(|i| {
            let postfix = Postfix::new(Some(&i.config_dir))?;
            Ok(selection::Target {
                instance: postfix.instance_config()?,
                postfix: Some(postfix),
                label: Some(i.name),
            })
        })
        .collect()
}

/// The one instance the options name.
fn single_target(opts: &Opts) -> Result<selection::Target> {
    anyhow::ensure!(
        !opts.all_instances,
        "this command works on one instance: use --instance NAME"
    );
    if let Some(dir) = &opts.queue_dir {
        let instance = InstanceConfig::with_defaults(dir);
        instance.layout.check()?;
        return Ok(selection::Target {
            instance,
            postfix: None,
            label: None,
        });
    }
    let config_dir = match &opts.instance {
        Some(name) => Some(Postfix::new(None)?.find_instance(name)?.config_dir),
        None => opts.config_dir.clone(),
    };
    let postfix = Postfix::new(config_dir.as_deref())?;
    let instance = postfix.instance_config()?;
    instance.layout.check()?;
    Ok(selection::Target {
        instance,
        postfix: Some(postfix),
        label: None,
    })
}

/// Reads one `show` argument: a path, or with `-q` (`queue`: the instance)
/// a queue ID looked up in its queues. Returns the path to display and the
/// file's bytes. Either way only a regular file is read, without blocking
/// on a FIFO and within a size limit (a path: [`show::read_regular_file`];
/// a queue ID: `queue_scan::open` with the instance's `queue_file_limit`).
fn read_show_target(arg: &OsStr, queue: Option<&InstanceConfig>) -> Result<(Vec<u8>, Vec<u8>)> {
    let Some(instance) = queue else {
        let bytes = show::read_regular_file(std::path::Path::new(arg), false)?;
        return Ok((arg.as_bytes().to_vec(), bytes));
    };
    let id = arg.to_str().filter(|id| is_valid_queue_id(id));
    let id = id.with_context(|| format!("bad mail queue ID: {}", arg.to_string_lossy()))?;
    let layout = &instance.layout;
    // Found, opened and read through one descriptor (queue_scan::open): no
    // lookup-then-reopen race, no symlink followed, no FIFO waited on, at
    // most the instance's queue-file limit. A symlink, FIFO or directory
    // planted under the ID is refused by name.
    let found = queue_scan::open::find_queue_file_or_refusal(layout, id)
        .with_context(|| format!("queue file {id}"))?
        .with_context(|| format!("queue file {id}: not found in any queue"))?;
    let bytes = found
        .read(layout, instance.queue_file_limit)
        .with_context(|| format!("queue file {id}"))?;
    Ok((found.relative.as_os_str().as_bytes().to_vec(), bytes))
}
