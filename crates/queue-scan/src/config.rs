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

/// The queue layout of the instance whose configuration is in `config_dir`
/// (the default instance when `None`).
pub fn layout_from_postconf(config_dir: Option<&Path>) -> Result<QueueLayout, ConfigError> {
    let values = postconf(
        config_dir,
        &["queue_directory", "hash_queue_names", "hash_queue_depth"],
    )?;
    let depth = values[2].trim().parse().map_err(|_| ConfigError {
        message: format!("hash_queue_depth is not a number: {:?}", values[2]),
    })?;
    Ok(QueueLayout::new(
        PathBuf::from(&values[0]),
        &values[1],
        depth,
    ))
}
