//! Reading the queue layout from Postfix's own configuration through
//! `postconf`, so qsurgeon sees the queue exactly as Postfix does.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::layout::QueueLayout;

/// Why the configuration could not be read.
#[derive(Debug)]
pub struct ConfigError {
    message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Runs `postconf [-c DIR] -h NAME…` and returns the values in order.
pub fn postconf(config_dir: Option<&Path>, names: &[&str]) -> Result<Vec<String>, ConfigError> {
    let mut cmd = Command::new("postconf");
    if let Some(dir) = config_dir {
        cmd.arg("-c").arg(dir);
    }
    cmd.arg("-h").args(names);
    let output = cmd.output().map_err(|e| ConfigError {
        message: format!(
            "cannot run postconf (is Postfix installed? use --queue-dir otherwise): {e}"
        ),
    })?;
    if !output.status.success() {
        return Err(ConfigError {
            message: format!(
                "postconf {} failed: {}",
                config_dir
                    .map(|d| format!("-c {}", d.display()))
                    .unwrap_or_default(),
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        });
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let values: Vec<String> = text.lines().map(str::to_string).collect();
    if values.len() != names.len() {
        return Err(ConfigError {
            message: format!("postconf printed {} values for {:?}", values.len(), names),
        });
    }
    Ok(values)
}

/// What qsurgeon needs to know about a Postfix instance: where its queue
/// is, and the settings that change how showq and postqueue print it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceConfig {
    /// Queue directory and hashing.
    pub layout: QueueLayout,
    /// `enable_long_queue_ids`: selects mailq's wide layout.
    pub long_queue_ids: bool,
    /// `smtputf8_enable`: what `printable()` keeps.
    pub smtputf8: bool,
    /// `empty_address_recipient`: how the null sender is shown.
    pub empty_address_recipient: String,
    /// `duplicate_filter_limit`: showq's logfile duplicate filter size.
    pub duplicate_filter_limit: usize,
}

impl InstanceConfig {
    /// Postfix's defaults for a queue directory read without Postfix.
    pub fn with_defaults(queue_dir: impl Into<PathBuf>) -> InstanceConfig {
        InstanceConfig {
            layout: QueueLayout::with_defaults(queue_dir),
            long_queue_ids: false,
            smtputf8: true,
            empty_address_recipient: "MAILER-DAEMON".into(),
            duplicate_filter_limit: 1000,
        }
    }

    /// Reads the instance whose configuration is in `config_dir` (the
    /// default instance when `None`) with one `postconf` call.
    pub fn from_postconf(config_dir: Option<&Path>) -> Result<InstanceConfig, ConfigError> {
        let names = [
            "queue_directory",
            "hash_queue_names",
            "hash_queue_depth",
            "enable_long_queue_ids",
            "smtputf8_enable",
            "empty_address_recipient",
            "duplicate_filter_limit",
        ];
        let values = postconf(config_dir, &names)?;
        let number = |i: usize| {
            values[i].trim().parse::<usize>().map_err(|_| ConfigError {
                message: format!("{} is not a number: {:?}", names[i], values[i]),
            })
        };
        let yes = |i: usize| {
            matches!(
                values[i].trim().to_ascii_lowercase().as_str(),
                "yes" | "true" | "1"
            )
        };
        Ok(InstanceConfig {
            layout: QueueLayout::new(PathBuf::from(&values[0]), &values[1], number(2)?),
            long_queue_ids: yes(3),
            smtputf8: yes(4),
            empty_address_recipient: values[5].trim().to_string(),
            duplicate_filter_limit: number(6)?,
        })
    }
}

/// The queue layout of the instance whose configuration is in `config_dir`
/// (the default instance when `None`).
pub fn layout_from_postconf(config_dir: Option<&Path>) -> Result<QueueLayout, ConfigError> {
    Ok(InstanceConfig::from_postconf(config_dir)?.layout)
}
