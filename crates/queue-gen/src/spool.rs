//! The queue directory on disk: Postfix's directories with Postfix's owners
//! and modes, message files named by valid short queue IDs, defer logs, and
//! (optionally) a configuration directory so that `postqueue -c`,
//! `postsuper -c`, `postcat -c` and `qshape -c` work on the generated queue.
//!
//! Queue IDs are made the way Postfix makes them (postfix-queue-format.md
//! §5.4, §6.2): the file is created under a temporary name that contains a
//! dot (so no scanner ever takes it for a queue file), its inode number is
//! read with `fstat`, and it is renamed to `%05X` microseconds + `%X` inode.
//! The name therefore matches the inode, so `postsuper -s` and `postfix
//! start` have nothing to rename, and IDs are unique without any lookup.

use std::fs::{self, File, FileTimes, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{fchown, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

use crate::message::{Message, Queue, Rendered};
use crate::world::{World, MY_HOSTNAME, OUR_DOMAIN};

/// uid and gids a real Postfix instance would own its files with.
#[derive(Clone, Copy, Debug)]
pub struct Owner {
    pub postfix_uid: u32,
    pub postfix_gid: u32,
    pub postdrop_gid: u32,
}

impl Owner {
    /// User `postfix` and group `postdrop` from /etc/passwd and /etc/group,
    /// if they exist and we are root (only root can give files away).
    pub fn lookup() -> Option<Owner> {
        if !is_root() {
            return None;
        }
        let field = |file: &str, name: &str, index: usize| -> Option<u32> {
            fs::read_to_string(file)
                .ok()?
                .lines()
                .map(|l| l.split(':').collect::<Vec<_>>())
                .find(|f| f.first() == Some(&name))
                .and_then(|f| f.get(index)?.parse().ok())
        };
        Some(Owner {
            postfix_uid: field("/etc/passwd", "postfix", 2)?,
            postfix_gid: field("/etc/passwd", "postfix", 3)?,
            postdrop_gid: field("/etc/group", "postdrop", 2)?,
        })
    }
}

/// A queue directory being filled.
pub struct Spool {
    root: PathBuf,
    owner: Option<Owner>,
}

/// What writing one message produced.
pub struct Written {
    pub rendered: Rendered,
}

/// Directories of a queue directory, with owner (`None`: root), group
/// (`None`: root) and mode, as Debian's `postfix-files` has them.
const DIRS: &[(&str, Who, Who, u32)] = &[
    ("incoming", Who::Postfix, Who::Root, 0o700),
    ("active", Who::Postfix, Who::Root, 0o700),
    ("deferred", Who::Postfix, Who::Root, 0o700),
    ("hold", Who::Postfix, Who::Root, 0o700),
    ("corrupt", Who::Postfix, Who::Root, 0o700),
    ("defer", Who::Postfix, Who::Root, 0o700),
    ("bounce", Who::Postfix, Who::Root, 0o700),
    ("trace", Who::Postfix, Who::Root, 0o700),
    ("flush", Who::Postfix, Who::Root, 0o700),
    ("saved", Who::Postfix, Who::Root, 0o700),
    ("private", Who::Postfix, Who::Root, 0o700),
    ("maildrop", Who::Postfix, Who::Postdrop, 0o730),
    ("public", Who::Postfix, Who::Postdrop, 0o710),
    ("pid", Who::Root, Who::Root, 0o755),
];

#[derive(Clone, Copy)]
enum Who {
    Root,
    Postfix,
    Postdrop,
}

/// The hashed queues (Postfix's default `hash_queue_names`), depth 1.
const HASHED: [&str; 2] = ["deferred", "defer"];
const HEX: &[u8; 16] = b"0123456789ABCDEF";

impl Spool {
    /// Creates the queue directory `root` (which must not exist or be
    /// empty: the generator never writes into a live spool) and its
    /// subdirectories, including the 16 hash directories of `deferred` and
    /// `defer`.
    pub fn create(root: &Path, owner: Option<Owner>) -> io::Result<Spool> {
        if root.exists() && fs::read_dir(root)?.next().is_some() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "{} exists and is not empty (refusing to write into an existing queue)",
                    root.display()
                ),
            ));
        }
        fs::create_dir_all(root).map_err(|e| at(root, e))?;
        set_mode(root, 0o755)?;
        let spool = Spool {
            root: root.to_path_buf(),
            owner,
        };
        for (name, user, group, mode) in DIRS {
            let dir = root.join(name);
            fs::create_dir(&dir).map_err(|e| at(&dir, e))?;
            set_mode(&dir, *mode)?;
            spool.chown(&dir, *user, *group)?;
        }
        for queue in HASHED {
            for h in HEX {
                let dir = root.join(queue).join((*h as char).to_string());
                fs::create_dir(&dir).map_err(|e| at(&dir, e))?;
                set_mode(&dir, 0o700)?;
                // Postfix's daemons make hash directories as postfix:postfix.
                spool.chown(&dir, Who::Postfix, Who::Postfix)?;
            }
        }
        Ok(spool)
    }

    fn chown(&self, path: &Path, user: Who, group: Who) -> io::Result<()> {
        let Some(o) = self.owner else { return Ok(()) };
        let id = |w: Who, postfix: u32| match w {
            Who::Root => 0,
            Who::Postfix => postfix,
            Who::Postdrop => o.postdrop_gid,
        };
        std::os::unix::fs::chown(
            path,
            Some(id(user, o.postfix_uid)),
            Some(id(group, o.postfix_gid)),
        )
        .map_err(|e| at(path, e))
    }

    /// Writes one message (and its defer log) under a fresh queue ID.
    pub fn write(&self, world: &World, m: &Message) -> io::Result<Written> {
        let hash = HEX[(m.usec >> 16) as usize & 15] as char;
        let dir = match m.queue {
            Queue::Deferred => self.root.join("deferred").join(hash.to_string()),
            q => self.root.join(q.name()),
        };
        let tmp = dir.join(format!("{:05X}.{}", m.usec, m.index));
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| at(&tmp, e))?;
        let inode = file.metadata().map_err(|e| at(&tmp, e))?.ino();
        let id = format!("{:05X}{inode:X}", m.usec);
        let rendered = m.render(world, &id);
        file.write_all(&rendered.queue_file)
            .map_err(|e| at(&tmp, e))?;
        if let Some(o) = self.owner {
            fchown(&file, Some(o.postfix_uid), Some(o.postfix_gid)).map_err(|e| at(&tmp, e))?;
        }
        if m.complete {
            // Complete: owner rwx; group execute marks a forced expiry.
            let mode = if m.forced_expire { 0o710 } else { 0o700 };
            file.set_permissions(Permissions::from_mode(mode))
                .map_err(|e| at(&tmp, e))?;
        }
        let t = UNIX_EPOCH + Duration::from_secs(m.mtime.max(0) as u64);
        file.set_times(FileTimes::new().set_accessed(t).set_modified(t))
            .map_err(|e| at(&tmp, e))?;
        drop(file);
        let path = dir.join(&id);
        fs::rename(&tmp, &path).map_err(|e| at(&path, e))?;
        if let Some(log) = &rendered.defer_log {
            let path = self.root.join("defer").join(hash.to_string()).join(&id);
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(|e| at(&path, e))?;
            file.write_all(log).map_err(|e| at(&path, e))?;
            if let Some(o) = self.owner {
                fchown(&file, Some(o.postfix_uid), Some(o.postfix_gid))
                    .map_err(|e| at(&path, e))?;
            }
        }
        Ok(Written { rendered })
    }
}

/// Writes a minimal Postfix configuration directory for the queue at
/// `queue_dir` (as the test bed does: own data and log directories, logging
/// to a file, nothing listening but loopback) and runs `postfix check` on it
/// when Postfix is installed. Returns a note for the user, if any.
pub fn write_config(
    config_dir: &Path,
    queue_dir: &Path,
    owner: Option<Owner>,
    local_users: &[String],
) -> io::Result<Option<String>> {
    let config_dir = absolute(config_dir)?;
    let queue_dir = absolute(queue_dir)?;
    fs::create_dir_all(&config_dir).map_err(|e| at(&config_dir, e))?;
    set_mode(&config_dir, 0o755)?;
    // Beside the config directory, not in it: postfix check wants every
    // file under config_directory owned by root, and these by postfix.
    let sibling = |suffix: &str| {
        let mut name = config_dir.file_name().unwrap_or_default().to_os_string();
        name.push(suffix);
        config_dir.with_file_name(name)
    };
    let data_dir = sibling(".data");
    let log_dir = sibling(".log");
    for d in [&data_dir, &log_dir] {
        fs::create_dir_all(d).map_err(|e| at(d, e))?;
    }
    let maillog = log_dir.join("maillog");
    File::create(&maillog).map_err(|e| at(&maillog, e))?;
    // Postfix wants its data directory; postsuper, logging by itself while
    // the master is stopped, must be able to append to the maillog.
    if let Some(o) = owner {
        for p in [&data_dir, &log_dir, &maillog] {
            std::os::unix::fs::chown(p, Some(o.postfix_uid), Some(o.postfix_gid))
                .map_err(|e| at(p, e))?;
        }
    }
    let main_cf = format!(
        "# Written by queue-gen for a generated queue; see crates/queue-gen.\n\
         compatibility_level = 3.6\n\
         queue_directory = {queue}\n\
         data_directory = {data}\n\
         mail_owner = postfix\n\
         setgid_group = postdrop\n\
         maillog_file = {maillog}\n\
         maillog_file_prefixes = {logdir}\n\
         myhostname = {MY_HOSTNAME}\n\
         mydomain = {OUR_DOMAIN}\n\
         myorigin = $mydomain\n\
         mydestination = $myhostname, localhost.$mydomain, localhost, $mydomain\n\
         local_recipient_maps = unix:passwd.byname texthash:{config}/local_recipients\n\
         alias_maps =\n\
         alias_database =\n\
         inet_interfaces = loopback-only\n\
         inet_protocols = ipv4\n\
         mynetworks = 127.0.0.0/8 192.0.2.0/24\n\
         smtputf8_enable = yes\n\
         message_size_limit = 20000000\n\
         enable_long_queue_ids = no\n\
         hash_queue_names = deferred, defer\n\
         hash_queue_depth = 1\n\
         relayhost = [127.0.0.1]:1\n\
         queue_run_delay = 3600s\n\
         minimal_backoff_time = 3600s\n\
         maximal_backoff_time = 7200s\n\
         smtp_dns_support_level = disabled\n",
        queue = queue_dir.display(),
        data = data_dir.display(),
        maillog = maillog.display(),
        logdir = log_dir.display(),
        config = config_dir.display(),
    );
    // Our users exist; the spammer's forged senders (AA@…) do not, which is
    // what `qsurgeon list --nonexistent-local-sender` finds.
    let users: String = local_users.iter().map(|u| format!("{u} ok\n")).collect();
    fs::write(config_dir.join("local_recipients"), users).map_err(|e| at(&config_dir, e))?;
    fs::write(config_dir.join("main.cf"), main_cf).map_err(|e| at(&config_dir, e))?;
    let master_cf = MASTER_CF.join("\n") + "\n";
    fs::write(config_dir.join("master.cf"), master_cf).map_err(|e| at(&config_dir, e))?;
    let notes = check_config(&config_dir, &queue_dir)?;
    Ok((!notes.is_empty()).then(|| notes.join("; ")))
}

/// What Postfix could not do with the written configuration: reach the
/// queue (a parent directory others cannot search), or pass `postfix check`.
fn check_config(config_dir: &Path, queue_dir: &Path) -> io::Result<Vec<String>> {
    let mut notes = Vec::new();
    if let Some(dir) = queue_dir.ancestors().skip(1).find(|d| {
        fs::metadata(d)
            .map(|m| m.mode() & 0o001 == 0)
            .unwrap_or(false)
    }) {
        notes.push(format!(
            "{} is not searchable by others: Postfix (user postfix) cannot reach the queue",
            dir.display()
        ));
    }
    match find_tool("postfix") {
        Some(postfix) => {
            let out = Command::new(postfix)
                .arg("-c")
                .arg(config_dir)
                .arg("check")
                .output()
                .map_err(|e| at(config_dir, e))?;
            if !out.status.success() {
                notes.push(format!(
                    "postfix -c {} check failed: {}",
                    config_dir.display(),
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
        }
        None => notes.push("postfix is not installed: config written, not checked".into()),
    }
    Ok(notes)
}

/// master.cf of a generated queue: the services postqueue, postsuper and a
/// started Postfix need, nothing listening on the network.
const MASTER_CF: &[&str] = &[
    "pickup unix n - n 60 1 pickup",
    "cleanup unix n - n - 0 cleanup",
    "qmgr unix n - n 300 1 qmgr",
    "rewrite unix - - n - - trivial-rewrite",
    "bounce unix - - n - 0 bounce",
    "defer unix - - n - 0 bounce",
    "trace unix - - n - 0 bounce",
    "verify unix - - n - 1 verify",
    "flush unix n - n 1000? 0 flush",
    "proxymap unix - - n - - proxymap",
    "smtp unix - - n - - smtp",
    "relay unix - - n - - smtp",
    "showq unix n - n - - showq",
    "error unix - - n - - error",
    "retry unix - - n - - error",
    "discard unix - - n - - discard",
    "anvil unix - - n - 1 anvil",
    "scache unix - - n - 1 scache",
    "postlog unix-dgram n - n - 1 postlogd",
];

/// A Postfix tool in PATH or in Debian's command_directory.
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn absolute(p: &Path) -> io::Result<PathBuf> {
    if p.is_absolute() {
        Ok(p.to_path_buf())
    } else {
        Ok(std::env::current_dir()?.join(p))
    }
}

fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    fs::set_permissions(path, Permissions::from_mode(mode)).map_err(|e| at(path, e))
}

/// An I/O error that names its path.
fn at(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

fn is_root() -> bool {
    // std has no geteuid(); the effective uid is the second field.
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))?
                .split_whitespace()
                .nth(2)
                .map(|uid| uid == "0")
        })
        .unwrap_or(false)
}
