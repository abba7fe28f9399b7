//! `--demo`: the demo queue of `testdata/` (real queue files made by Postfix 3.7, see
//! `testdata/README.md`), embedded in the binary by `build.rs` and written, for one run, to a
//! private copy, so that a newcomer can try every read-only command without a Postfix queue,
//! without root and without fixing file modes first.
//!
//! Why a copy and not the checkout: git keeps only the executable bit, so checked-out message
//! files are 0755, and the group-execute bit is Postfix's "forced to expire"
//! (`MAIL_QUEUE_STAT_EXPIRE`, `src/global/mail_queue.h`). The copy gets the modes Postfix
//! gives its files: message files 0700 once complete (`MAIL_QUEUE_STAT_READY`; cleanup
//! creates them 0600 and `fchmod`s them when done, `src/global/mail_stream.c`), logfiles
//! 0600 (`src/bounce/bounce_append_service.c`), directories 0700 (`mail_queue_mkdirs()` in
//! `src/global/mail_queue.c`), all under a fresh 0700 directory in `$TMPDIR` that nobody
//! else can enter (in a `$TMPDIR` where no other user can rename it away: see
//! [`private_tmpdir`]). The copy is removed when the run ends, on Ctrl-C too.
//!
//! The instance settings are those of the instance that made the queue
//! (`testdata/demo-queue.main.cf`, its `postconf -n`), read here as postconf would give them:
//! no Postfix is asked.

use std::fs::{DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context, Result};
use queue_scan::{InstanceConfig, QueueLayout};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/demo_queue.rs"));
}

/// `postconf -n` of the instance that made the demo queue.
const MAIN_CF: &str = include_str!("../testdata/demo-queue.main.cf");

/// The queues whose files are logfiles (mode 0600) rather than queue files (0700):
/// `src/global/mail_queue.h`, `MAIL_QUEUE_DEFER` … `MAIL_QUEUE_FLUSH`.
const LOGFILE_QUEUES: [&str; 4] = ["defer", "bounce", "trace", "flush"];

/// The private copy of the demo queue; removed when dropped.
pub struct Demo {
    dir: tempfile::TempDir,
}

impl Demo {
    /// Writes the demo queue into a fresh private directory (mode 0700) under `$TMPDIR`, and
    /// arranges for Ctrl-C to remove it before the process exits (status 130).
    pub fn create() -> Result<Demo> {
        // tempfile makes the directory with mkdir(2) (fails rather than reuse an existing
        // name) and mode 0700; in a $TMPDIR that is safe to make it in.
        let dir = private_tmpdir()
            .and_then(|tmp| {
                tempfile::Builder::new()
                    .prefix("qsurgeon-demo-")
                    .tempdir_in(&tmp)
                    .with_context(|| format!("mkdir in {}", tmp.display()))
            })
            .context("create a private directory for the demo queue")?;
        let demo = Demo { dir };
        // A directory mode cannot be more open than asked, but a umask can take the owner's
        // bits: say exactly what it is.
        std::fs::set_permissions(demo.dir.path(), std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("chmod {}", demo.dir.path().display()))?;
        let root = demo.dir.path().to_path_buf();
        // The only handler a demo run sets: the verbs (which set their own) are refused
        // under --demo. Without it, Ctrl-C would leave the copy behind.
        let _ = ctrlc::set_handler(move || {
            let _ = std::fs::remove_dir_all(&root);
            std::process::exit(130);
        });
        for (rel, bytes) in embedded::FILES {
            demo.write(rel, bytes)?;
        }
        Ok(demo)
    }

    /// The directory that holds the copy (the queue is [`Demo::queue_dir`]).
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The copy's queue directory.
    pub fn queue_dir(&self) -> PathBuf {
        self.dir.path().join("spool")
    }

    /// The instance settings of the copy: the demo instance's own, with the copy's queue
    /// directory.
    pub fn instance(&self) -> Result<InstanceConfig> {
        instance_config(MAIN_CF, self.queue_dir())
    }

    /// Writes one file of the queue with the mode Postfix gives it.
    fn write(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        let rel = Path::new(rel);
        let mut parts = rel.components();
        let queue = match parts.next() {
            Some(Component::Normal(q)) => q.to_str().unwrap_or_default(),
            _ => bail!("demo queue: unexpected path {}", rel.display()),
        };
        if !parts.all(|c| matches!(c, Component::Normal(_))) {
            bail!("demo queue: unexpected path {}", rel.display());
        }
        let path = self.queue_dir().join(rel);
        let parent = path.parent().unwrap_or(self.root());
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)
            .with_context(|| format!("mkdir {}", parent.display()))?;
        let mode = if LOGFILE_QUEUES.contains(&queue) {
            0o600
        } else {
            0o700
        };
        // As cleanup does: created 0600, written, then given its final mode.
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("create {}", path.display()))?;
        file.write_all(bytes)
            .with_context(|| format!("write {}", path.display()))?;
        file.set_permissions(std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("chmod {}", path.display()))?;
        Ok(())
    }
}

/// `$TMPDIR` (or `/tmp`) resolved, once its symbolic links are followed, and checked
/// directory by directory up to `/`: each owned by root or the user running qsurgeon, and
/// writable by group or others only when sticky (as `/tmp`). The copy is written and removed
/// by name, possibly as root: in a directory another user may rename entries of, they could
/// swap the copy's directory for a symbolic link between two of those steps and have the
/// files written, or removed, elsewhere.
fn private_tmpdir() -> Result<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let tmp = std::env::temp_dir();
    let real = std::fs::canonicalize(&tmp).with_context(|| format!("resolve {}", tmp.display()))?;
    let me = rustix::process::geteuid().as_raw();
    for dir in real.ancestors() {
        let meta = std::fs::metadata(dir).with_context(|| format!("stat {}", dir.display()))?;
        if meta.uid() != 0 && meta.uid() != me {
            bail!(
                "{} is owned by uid {}: another user could replace the copy (set TMPDIR)",
                dir.display(),
                meta.uid()
            );
        }
        if meta.mode() & 0o022 != 0 && meta.mode() & 0o1000 == 0 {
            bail!(
                "{} is writable by group or others and not sticky (mode {:04o}): another user \
                 could replace the copy (set TMPDIR)",
                dir.display(),
                meta.mode() & 0o7777
            );
        }
    }
    Ok(real)
}

/// The settings of `main_cf` (`postconf -n` output) that qsurgeon reads through postconf,
/// with Postfix's defaults for those it does not name (`postconf -d`).
fn instance_config(main_cf: &str, queue_dir: PathBuf) -> Result<InstanceConfig> {
    let value = |name: &str| {
        main_cf.lines().find_map(|line| {
            let (key, value) = line.split_once('=')?;
            (key.trim() == name).then(|| value.trim())
        })
    };
    let number = |name: &str, default: u64| -> Result<u64> {
        value(name).map_or(Ok(default), |v| {
            v.parse()
                .with_context(|| format!("demo main.cf: {name} = {v}: not a number"))
        })
    };
    let yes =
        |name: &str, default: bool| value(name).map_or(default, |v| v.eq_ignore_ascii_case("yes"));
    let depth = number("hash_queue_depth", 1)?;
    Ok(InstanceConfig {
        layout: QueueLayout::new(
            queue_dir,
            value("hash_queue_names").unwrap_or("deferred, defer"),
            usize::try_from(depth).unwrap_or(1),
        ),
        long_queue_ids: yes("enable_long_queue_ids", false),
        smtputf8: yes("smtputf8_enable", true),
        empty_address_recipient: value("empty_address_recipient")
            .unwrap_or("MAILER-DAEMON")
            .to_string(),
        duplicate_filter_limit: usize::try_from(number("duplicate_filter_limit", 1000)?)
            .unwrap_or(1000),
        queue_file_limit: queue_scan::open::queue_file_limit(number(
            "message_size_limit",
            10_240_000,
        )?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    /// Every file and directory of `dir`, with its mode, relative to `dir`.
    fn modes(dir: &Path) -> Vec<(PathBuf, bool, u32)> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                let meta = std::fs::symlink_metadata(&path).unwrap();
                if meta.is_dir() {
                    stack.push(path.clone());
                }
                let rel = path.strip_prefix(dir).unwrap().to_path_buf();
                out.push((rel, meta.is_dir(), meta.mode() & 0o7777));
            }
        }
        out.sort();
        out
    }

    #[test]
    fn the_copy_has_postfixs_modes_and_is_removed() {
        let demo = Demo::create().unwrap();
        let root = demo.root().to_path_buf();
        let meta = std::fs::metadata(&root).unwrap();
        assert_eq!(meta.mode() & 0o7777, 0o700, "the private directory");
        assert_eq!(meta.uid(), rustix::process::geteuid().as_raw());
        let all = modes(&demo.queue_dir());
        let files: Vec<_> = all.iter().filter(|(_, dir, _)| !dir).collect();
        assert_eq!(files.len(), embedded::FILES.len());
        let mut messages = 0;
        let mut logs = 0;
        for (rel, is_dir, mode) in &all {
            let queue = rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_str()
                .unwrap();
            let want = if *is_dir || !LOGFILE_QUEUES.contains(&queue) {
                0o700
            } else {
                0o600
            };
            assert_eq!(*mode, want, "{}", rel.display());
            if !is_dir {
                if want == 0o700 {
                    messages += 1;
                } else {
                    logs += 1;
                }
                // The bytes are the checkout's.
                let original = Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("testdata/demo-queue")
                    .join(rel);
                assert_eq!(
                    std::fs::read(demo.queue_dir().join(rel)).unwrap(),
                    std::fs::read(&original).unwrap(),
                    "{}",
                    rel.display()
                );
            }
        }
        // testdata/README.md: 29 messages (deferred, hold, active), each deferred one and one
        // held one with a defer log.
        assert_eq!(messages, 29);
        assert!(logs >= 20, "{logs} defer logs");
        drop(demo);
        assert!(!root.exists(), "{} left behind", root.display());
    }

    #[test]
    fn the_settings_are_the_demo_instances() {
        let config = instance_config(MAIN_CF, PathBuf::from("/q")).unwrap();
        // testdata/demo-queue.main.cf: short IDs, depth 1, SMTPUTF8 on, 20 MB messages.
        assert_eq!(config.layout, QueueLayout::new("/q", "deferred, defer", 1));
        assert!(!config.long_queue_ids);
        assert!(config.smtputf8);
        assert_eq!(config.empty_address_recipient, "MAILER-DAEMON");
        assert_eq!(
            config.queue_file_limit,
            queue_scan::open::queue_file_limit(20_000_000)
        );
        let other = instance_config(
            "enable_long_queue_ids = yes\nhash_queue_depth = 2\nhash_queue_names = deferred\n",
            PathBuf::from("/q"),
        )
        .unwrap();
        assert!(other.long_queue_ids);
        assert_eq!(other.layout, QueueLayout::new("/q", "deferred", 2));
        assert!(instance_config("hash_queue_depth = two\n", PathBuf::from("/q")).is_err());
    }
}
