//! From options to what the commands work on (fd's `Opts` -> `Config`):
//! the Postfix instance or instances that the global options name, each
//! resolved once through its own postconf, and its queue directory checked.

use anyhow::Result;
use postfix::Postfix;
use queue_scan::InstanceConfig;

use crate::cli::Opts;
use crate::exit::ExitStatus;

/// The Postfix instance a command works on.
pub struct Target {
    /// Its queue layout and settings.
    pub instance: queue_scan::InstanceConfig,
    /// The instance's Postfix programs; `None` with `--queue-dir`: there is
    /// no Postfix configuration to ask.
    pub postfix: Option<postfix::Postfix>,
    /// The instance's name when several are worked on (`--all-instances`):
    /// every output line that names a message names it too.
    pub label: Option<String>,
}

/// The instances to work on: every one with `--all-instances` (labelled by
/// name), the named one with `--instance`, else the one `-c` or
/// `--queue-dir` names (or the default instance).
pub fn targets(opts: &Opts) -> Result<Vec<Target>> {
    if !opts.all_instances {
        return Ok(vec![single_target(opts)?]);
    }
    Postfix::new(None)?
        .instances()?
        .into_iter()
        .map(|i| {
            let postfix = Postfix::new(Some(&i.config_dir))?;
            Ok(Target {
                instance: postfix.instance_config()?,
                postfix: Some(postfix),
                label: Some(i.name),
            })
        })
        .collect()
}

/// The one instance the options name (the demo copy with `--demo`).
pub fn single_target(opts: &Opts) -> Result<Target> {
    anyhow::ensure!(
        !opts.all_instances,
        "this command works on one instance: use --instance NAME"
    );
    if let Some(instance) = &opts.demo_instance {
        return Ok(Target {
            instance: instance.clone(),
            postfix: None,
            label: None,
        });
    }
    if let Some(dir) = &opts.queue_dir {
        let instance = InstanceConfig::with_defaults(dir);
        instance.layout.check()?;
        return Ok(Target {
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
    Ok(Target {
        instance,
        postfix: Some(postfix),
        label: None,
    })
}

/// Runs `command` on every instance the options name, one after the other,
/// and merges the exit statuses ([`ExitStatus::merge`]). With several
/// instances an error on one is reported and the others still run.
pub fn for_each_target(
    opts: &Opts,
    mut command: impl FnMut(&Target) -> Result<ExitStatus>,
) -> Result<ExitStatus> {
    let targets = targets(opts)?;
    if targets.len() == 1 {
        return command(&targets[0]);
    }
    let mut status = ExitStatus::NoMatch;
    for target in &targets {
        let name = target.label.as_deref().unwrap_or("-");
        eprintln!("qsurgeon: instance {name}");
        let this = command(target).unwrap_or_else(|err| {
            eprintln!("qsurgeon: error: instance {name}: {err:#}");
            ExitStatus::Error
        });
        status = status.merge(this);
    }
    Ok(status)
}
