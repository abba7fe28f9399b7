//! The boundary between qsurgeon and Postfix's own programs.
//!
//! qsurgeon reads queue files itself, but everything else that concerns Postfix goes through
//! Postfix's programs, and every one of them is started here:
//!
//! - [`Postfix`]: one instance's handle. Its `postconf` runs at an absolute path
//!   ([`POSTCONF`]); every other program is taken from the instance's own
//!   `command_directory`, as `postconf` reports it. Nothing is ever looked up on `$PATH`:
//!   qsurgeon runs as root, often from cron (`PATH=/usr/bin:/bin`), and a `PATH` it did not
//!   choose must not decide which `postsuper` root runs.
//! - [`postsuper`]: batches of queue IDs on postsuper's stdin, per-ID outcomes from its stderr.
//! - [`postdrop`]: re-injecting a saved queue file as `sendmail` would (`restore`).
//! - [`postmulti`]: the instances of a multi-instance Postfix.
//! - [`postqueue`]: `postqueue -j`, the queue as any user may see it.
//! - [`local_sender`]: Postfix's address classes and map lookups (`postmap -q`), for
//!   `--nonexistent-local-sender`.
//!
//! Nothing here prints, prompts or retries; the caller decides.

#![warn(missing_docs)]

mod error;
pub mod local_sender;
pub mod postdrop;
pub mod postmulti;
pub mod postqueue;
pub mod postsuper;

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use queue_scan::{InstanceConfig, QueueLayout};

pub use error::Error;
pub use local_sender::{AddressClass, Answer, LocalSenderCheck, Lookup, SenderExplanation};
pub use postmulti::PostfixInstance;
pub use postsuper::{BatchReport, IdOutcome, Op, Postsuper, PostsuperError};

/// Where `postconf` is: the one program found without asking Postfix. Debian, Red Hat, SUSE
/// and Postfix's own `make install` put it in `/usr/sbin`; a build for another layout sets
/// `QSURGEON_POSTCONF_PATH` at compile time.
pub const POSTCONF: &str = match option_env!("QSURGEON_POSTCONF_PATH") {
    Some(path) => path,
    None => "/usr/sbin/postconf",
};

/// One Postfix instance: its configuration directory and where its programs are.
#[derive(Clone, Debug)]
pub struct Postfix {
    /// `-c DIR` for every program, made absolute (postsuper and postqueue refuse a relative
    /// one: "-c requires absolute pathname"); `None` for the default instance.
    config_dir: Option<PathBuf>,
    postconf: PathBuf,
    /// `command_directory`: postsuper, postqueue, postdrop, postmap, postmulti.
    command_directory: PathBuf,
}

impl Postfix {
    /// The instance whose configuration is in `config_dir` (`None`: the default instance):
    /// asks [`POSTCONF`] for its `command_directory`.
    pub fn new(config_dir: Option<&Path>) -> Result<Postfix, Error> {
        Postfix::with_postconf(PathBuf::from(POSTCONF), config_dir)
    }

    /// As [`Postfix::new`] with another postconf program (tests, unusual installs).
    pub fn with_postconf(postconf: PathBuf, config_dir: Option<&Path>) -> Result<Postfix, Error> {
        let mut postfix = Postfix {
            config_dir: config_dir.map(absolute),
            postconf,
            command_directory: PathBuf::new(),
        };
        let values = postfix.postconf(&["command_directory"])?;
        let dir = PathBuf::from(values[0].trim());
        if !dir.is_absolute() {
            return Err(Error::Config {
                param: "command_directory".into(),
                detail: format!("not an absolute path: {:?}", values[0]),
            });
        }
        postfix.command_directory = dir;
        Ok(postfix)
    }

    /// A handle with every directory given (tests).
    pub fn with_directories(
        postconf: PathBuf,
        command_directory: PathBuf,
        config_dir: Option<&Path>,
    ) -> Postfix {
        Postfix {
            config_dir: config_dir.map(absolute),
            postconf,
            command_directory,
        }
    }

    /// The configuration directory (`-c`), absolute; `None` for the default instance.
    pub fn config_dir(&self) -> Option<&Path> {
        self.config_dir.as_deref()
    }

    /// The `postconf` program.
    pub fn postconf_program(&self) -> &Path {
        &self.postconf
    }

    /// A program of this instance: `command_directory/NAME`.
    pub fn program(&self, name: &str) -> PathBuf {
        self.command_directory.join(name)
    }

    /// `-c DIR` when the instance is not the default one.
    pub fn config_args(&self) -> Vec<OsString> {
        match &self.config_dir {
            Some(dir) => vec!["-c".into(), dir.clone().into_os_string()],
            None => Vec::new(),
        }
    }

    /// `postconf [-c DIR] -x -h NAME…`: the values, `$name` expanded, in order.
    pub fn postconf(&self, names: &[&str]) -> Result<Vec<String>, Error> {
        let mut args = self.config_args();
        args.extend(["-x", "-h"].map(OsString::from));
        args.extend(names.iter().map(OsString::from));
        let text = self.run_postconf(&args)?;
        let values: Vec<String> = text.lines().map(str::to_string).collect();
        if values.len() != names.len() {
            return Err(Error::Output {
                command: command_text(&self.postconf, &args),
                detail: format!("{} values for {} names", values.len(), names.len()),
            });
        }
        Ok(values)
    }

    /// `postconf [-c DIR] -x NAME…`: name → value, `$name` expanded; every name must be there.
    pub fn postconf_map(&self, names: &[&str]) -> Result<HashMap<String, String>, Error> {
        let mut args = self.config_args();
        args.push("-x".into());
        args.extend(names.iter().map(OsString::from));
        let text = self.run_postconf(&args)?;
        let values = parse_postconf_output(&text);
        if let Some(missing) = names.iter().find(|p| !values.contains_key(**p)) {
            return Err(Error::Output {
                command: command_text(&self.postconf, &args),
                detail: format!("no value for {missing}"),
            });
        }
        Ok(values)
    }

    fn run_postconf(&self, args: &[OsString]) -> Result<String, Error> {
        run_for_output(&self.postconf, args)
    }

    /// The queue directory, its hashing, and the settings that change how showq and postqueue
    /// print the queue, in one postconf call.
    pub fn instance_config(&self) -> Result<InstanceConfig, Error> {
        let names = [
            "queue_directory",
            "hash_queue_names",
            "hash_queue_depth",
            "enable_long_queue_ids",
            "smtputf8_enable",
            "empty_address_recipient",
            "duplicate_filter_limit",
            "message_size_limit",
        ];
        let values = self.postconf(&names)?;
        let number = |i: usize| {
            values[i]
                .trim()
                .parse::<usize>()
                .map_err(|_| Error::Config {
                    param: names[i].into(),
                    detail: format!("not a number: {:?}", values[i]),
                })
        };
        Ok(InstanceConfig {
            layout: QueueLayout::new(PathBuf::from(&values[0]), &values[1], number(2)?),
            long_queue_ids: postfix_bool(&values[3]),
            smtputf8: postfix_bool(&values[4]),
            empty_address_recipient: values[5].trim().to_string(),
            duplicate_filter_limit: number(6)?,
            queue_file_limit: queue_scan::open::queue_file_limit(number(7)? as u64),
        })
    }

    /// The postsuper runner of this instance.
    pub fn postsuper(&self) -> Postsuper {
        Postsuper::with_programs(
            self.program("postsuper"),
            self.postconf.clone(),
            self.config_dir(),
        )
    }

    /// This instance's `postqueue`.
    pub fn postqueue(&self) -> PathBuf {
        self.program("postqueue")
    }
}

/// main.cf booleans are `yes`/`no` (`mail_conf_bool.c`, case-insensitive).
pub(crate) fn postfix_bool(value: &str) -> bool {
    value.trim().eq_ignore_ascii_case("yes")
}

/// `name = value` lines (an empty value prints as `name =`).
pub(crate) fn parse_postconf_output(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|line| {
            let (name, value) = line.split_once(" =")?;
            Some((
                name.to_string(),
                value.strip_prefix(' ').unwrap_or(value).to_string(),
            ))
        })
        .collect()
}

/// Runs `program` with `args` (no stdin) and returns its standard output; a
/// program that cannot start or exits non-zero is an error quoting its stderr.
pub(crate) fn run_for_output(program: &Path, args: &[OsString]) -> Result<String, Error> {
    let command = command_text(program, args);
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| Error::Spawn {
            command: command.clone(),
            source,
        })?;
    if !output.status.success() {
        return Err(Error::Failed {
            command,
            detail: format!(
                "{}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The absolute form of a `-c` directory.
pub(crate) fn absolute(dir: &Path) -> PathBuf {
    std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// A command line as a person would type it, for messages.
pub(crate) fn command_text(program: &Path, args: &[OsString]) -> String {
    let mut text = program.display().to_string();
    for arg in args {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postconf_output_parsing() {
        let values = parse_postconf_output("a = x, y\nb =\nc = $d\n");
        assert_eq!(values["a"], "x, y");
        assert_eq!(values["b"], "");
        assert_eq!(values["c"], "$d");
    }
}
