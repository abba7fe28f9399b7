//! Real, isolated Postfix instances for the integration tests: each one has its own config,
//! queue, data and log directories under a temp dir, its own loopback ports, and is filled
//! with real mail by real Postfix (SMTP injection, `sendmail -C`, `postsuper`). The facts this
//! relies on are in `shared/docs/postfix-test-instance.md`; what goes into the queue is in
//! `plan.rs`. The machine's own Postfix instance is never touched: every command gets
//! `-c config_dir` (`sendmail -C`).
//!
//! Instances are left stopped after building. Dropping one stops Postfix; a watchdog process
//! stops it if the test process is killed instead (`spawn_watchdog`). A shared instance lives
//! in a `static` and so is never dropped: its temp dir is removed by the next test process
//! (`sweep_stale_instances`).

// Not every test module uses every helper.
#![allow(dead_code)]

mod plan;
pub mod smtp;

pub use plan::{
    label, Fate, Profile, AUTH_USER, FILTER_NEXTHOP, NORMAL_USERS, OUR_DOMAIN, REDIRECT_TARGET,
    SPAMMER,
};

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::{chown, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use plan::{Listener, Plan, Submission};

/// The message queues, in the order `message_files` sorts them (showq's order, except that
/// showq reads maildrop first and then active before incoming; see postfix-queue-format.md §7.1).
pub const MESSAGE_QUEUES: [&str; 5] = ["maildrop", "incoming", "active", "deferred", "hold"];

/// Prefix of every instance's temp dir; `sweep_stale_instances` looks for it.
const DIR_PREFIX: &str = "qsurgeon-postfix-";

/// Tools the bed runs. Postfix's own are looked up in PATH and in Debian's command_directory.
const REQUIRED_TOOLS: [&str; 7] = [
    "postconf",
    "postfix",
    "postsuper",
    "postqueue",
    "postcat",
    "sendmail",
    "saslpasswd2",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdStyle {
    /// `enable_long_queue_ids = no`: hex microseconds + hex inode, e.g. `A45E798E3F5`.
    Short,
    /// `enable_long_queue_ids = yes`, e.g. `4jXXK158vnz1SY32`.
    Long,
}

/// A complete (mode `rwx` for the owner) message file in one of the `MESSAGE_QUEUES`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct QueueFile {
    pub queue: String,
    pub id: String,
    /// Relative to `queue_dir`, e.g. `deferred/A/A45E798E3F5`.
    pub rel_path: PathBuf,
}

/// How to build an instance (`Instance::build`).
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub ids: IdStyle,
    /// `None`: configured, checked and stopped, with empty queues.
    pub profile: Option<Profile>,
    /// Postfix's `hash_queue_depth` (default 1).
    pub hash_queue_depth: u32,
}

impl Options {
    pub fn new(ids: IdStyle, profile: Option<Profile>) -> Options {
        Options {
            ids,
            profile,
            hash_queue_depth: 1,
        }
    }
}

/// One isolated Postfix instance. Dropping it stops Postfix and removes its directories.
pub struct Instance {
    pub config_dir: PathBuf,
    pub queue_dir: PathBuf,
    pub ids: IdStyle,
    /// The temp dir holding everything (config, spool, data, log, sasl).
    pub root: PathBuf,
    /// `maillog_file` (Postfix logs here, no syslog).
    pub maillog: PathBuf,
    /// smtpd on 127.0.0.1, plain.
    pub smtp_port: u16,
    /// smtpd on 127.0.0.1 with an unreachable Milter configured.
    pub milter_smtp_port: u16,
    /// smtpd on 127.0.0.1 with `content_filter` set and a cleanup that writes delay warning
    /// times (`plan::Listener::Filter`).
    pub filter_smtp_port: u16,
    /// Queue IDs of notable messages, by label (`label::*`), as assigned while building.
    pub labels: BTreeMap<String, String>,
    /// PIDs of the watchdogs `start` spawned (see `spawn_watchdog`).
    watchdogs: Mutex<Vec<u32>>,
    _dir: tempfile::TempDir,
}

impl Instance {
    /// The populated instance (`Profile::Full`) for `ids`, built once per test process and
    /// left stopped. For read-only use: tests that change the queue use `new_populated`.
    pub fn shared(ids: IdStyle) -> &'static Instance {
        static SHORT: OnceLock<Result<Instance, String>> = OnceLock::new();
        static LONG: OnceLock<Result<Instance, String>> = OnceLock::new();
        let cell = match ids {
            IdStyle::Short => &SHORT,
            IdStyle::Long => &LONG,
        };
        // A failed build is remembered, so that the other tests fail at once instead of
        // each rebuilding and failing the same way (with the same long log in the output).
        let built = cell.get_or_init(|| {
            std::panic::catch_unwind(|| Instance::new_populated(ids)).map_err(|e| {
                e.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            })
        });
        match built {
            Ok(instance) => instance,
            Err(msg) => panic!("building the shared {ids:?}-ID Postfix instance failed: {msg}"),
        }
    }

    /// A fresh `Profile::Full` instance that the caller owns (may change its queue); stopped.
    pub fn new_populated(ids: IdStyle) -> Instance {
        Instance::build(Options::new(ids, Some(Profile::Full)))
    }

    /// A configured instance with empty queues; stopped.
    pub fn new_empty(ids: IdStyle) -> Instance {
        Instance::build(Options::new(ids, None))
    }

    /// Builds an instance as `options` say; stopped when it returns. Prints how long it took.
    pub fn build(options: Options) -> Instance {
        let started = Instant::now();
        sweep_stale_instances();
        // The listener that makes messages stay in `active` must exist before main.cf and the
        // transport map can name its port.
        let silent = SilentListener::start();
        let mut instance = Instance::configure(&options, silent.port);
        if let Some(profile) = options.profile {
            instance.populate(&plan::plan(profile), silent);
        }
        eprintln!(
            "postfix bed: built {:?}-ID instance ({:?}) in {:.1} s at {}",
            options.ids,
            options.profile,
            started.elapsed().as_secs_f64(),
            instance.root.display()
        );
        instance
    }

    /// `postcat -c config_dir`, TZ=UTC.
    pub fn postcat(&self) -> Command {
        self.tool("postcat", "-c")
    }
    /// `postqueue -c config_dir`, TZ=UTC.
    pub fn postqueue(&self) -> Command {
        self.tool("postqueue", "-c")
    }
    /// `postsuper -c config_dir`, TZ=UTC.
    pub fn postsuper(&self) -> Command {
        self.tool("postsuper", "-c")
    }
    /// `postconf -c config_dir`, TZ=UTC.
    pub fn postconf(&self) -> Command {
        self.tool("postconf", "-c")
    }
    /// `postfix -c config_dir`, TZ=UTC.
    pub fn postfix(&self) -> Command {
        self.tool("postfix", "-c")
    }
    /// `sendmail -C config_dir`, TZ=UTC.
    pub fn sendmail(&self) -> Command {
        self.tool("sendmail", "-C")
    }

    /// Starts Postfix (if not running) and waits until smtpd accepts connections.
    pub fn start(&self) {
        if self.is_running() {
            return;
        }
        self.run(self.postfix().arg("start"), None);
        self.wait_for("smtpd to listen", Duration::from_secs(30), || {
            TcpStream::connect(("127.0.0.1", self.smtp_port)).is_ok()
        });
        self.spawn_watchdog();
    }

    /// Starts a detached `sh` loop that runs `postfix stop` if the test process dies while
    /// this instance runs (a CI timeout's SIGKILL skips `Drop`). It runs in its own session
    /// (`setsid`), so a Ctrl-C of `cargo test` does not take it down first, and `stop` kills
    /// its process group (the loop and its `sleep`) by PID; otherwise it exits within a second
    /// of Postfix stopping or the test process ending. It is detached (`&` in an outer shell we
    /// wait for), so it leaves no zombie, and has no `MAIL_CONFIG`, so `postfix_processes`
    /// does not count it.
    fn spawn_watchdog(&self) {
        const SCRIPT: &str = r#"
            while kill -0 "$1" 2>/dev/null; do
                kill -0 $(sed 1q "$2" 2>/dev/null) 2>/dev/null || exit 0
                sleep 1
            done
            "$3" -c "$4" stop >/dev/null 2>&1
        "#;
        let postfix = find_tool("postfix").unwrap_or_else(|| "postfix".into());
        let pid_file = self.queue_dir.join("pid/master.pid");
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(r#"setsid sh -c "$0" watchdog "$@" </dev/null >/dev/null 2>&1 & echo $!"#)
            .arg(SCRIPT)
            .arg(std::process::id().to_string())
            .args([&pid_file, &postfix, &self.config_dir]);
        let out = self.run(&mut cmd, None);
        let pid = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("watchdog PID");
        self.watchdogs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(pid);
    }

    /// Stops Postfix and this instance's watchdogs.
    fn shut_down(&self) -> Result<(), String> {
        let stopped = stop_postfix(&self.config_dir);
        for pid in self
            .watchdogs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            // Its process group (setsid made it the leader); it may be gone already.
            kill("TERM", &format!("-{pid}"));
        }
        stopped
    }

    /// Stops Postfix (if running) and waits until none of its processes is left.
    pub fn stop(&self) {
        if let Err(e) = self.shut_down() {
            panic!("{e}\n{}", self.maillog_tail(30));
        }
    }

    /// True while this instance's master process runs.
    pub fn is_running(&self) -> bool {
        postfix_processes(&self.config_dir)
            .iter()
            .any(|(_, comm)| comm == "master")
    }

    /// Every complete message file in maildrop, incoming, active, deferred and hold, sorted by
    /// queue (in `MESSAGE_QUEUES` order) and then by ID.
    pub fn message_files(&self) -> Vec<QueueFile> {
        message_files_in(&self.queue_dir)
    }

    /// The message files of one queue.
    pub fn files_in(&self, queue: &str) -> Vec<QueueFile> {
        self.message_files()
            .into_iter()
            .filter(|f| f.queue == queue)
            .collect()
    }

    /// The queue ID a labelled message got while building (see `label`).
    pub fn id_of(&self, label: &str) -> &str {
        match self.labels.get(label) {
            Some(id) => id,
            None => panic!(
                "no message labelled {label:?}; known: {:?}",
                self.labels.keys()
            ),
        }
    }

    /// Where a message's log of kind `defer`, `bounce` or `trace` is, if it exists. Log
    /// directories are searched like showq scans queues: one-character names are hash dirs.
    pub fn log_file(&self, kind: &str, id: &str) -> Option<PathBuf> {
        let mut found = Vec::new();
        collect_message_files(&self.queue_dir, kind, Path::new(kind), &mut found);
        found
            .into_iter()
            .find(|f| f.id == id)
            .map(|f| self.queue_dir.join(f.rel_path))
    }

    /// `postcat FLAGS -q ID`, stdout as (lossy) text; panics on failure.
    pub fn postcat_q(&self, flags: &[&str], id: &str) -> String {
        let out = self.run(self.postcat().args(flags).arg("-q").arg(id), None);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `postqueue -j`, one `serde_json::Value` per message (order as showq read the dirs).
    pub fn postqueue_json(&self) -> Vec<serde_json::Value> {
        let out = self.run(self.postqueue().arg("-j"), None);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| panic!("postqueue -j line {l:?}: {e}"))
            })
            .collect()
    }

    /// The whole maillog (empty if it cannot be read).
    pub fn maillog_text(&self) -> String {
        fs::read(&self.maillog)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// The last `n` lines of the maillog, headed, for failure messages.
    pub fn maillog_tail(&self, n: usize) -> String {
        let text = self.maillog_text();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(n)..].join("\n");
        format!(
            "--- last {n} lines of {} ---\n{tail}",
            self.maillog.display()
        )
    }

    /// Runs a command (feeding `stdin` if given), panicking with its output and the maillog
    /// tail if it cannot be run or exits non-zero.
    pub fn run(&self, cmd: &mut Command, stdin: Option<&[u8]>) -> Output {
        match run_command(cmd, stdin) {
            Ok(out) => out,
            Err(e) => panic!("{e}\n{}", self.maillog_tail(30)),
        }
    }

    /// Copies the spool's message files and their defer/bounce/trace logs to `dest` (same
    /// relative paths; `fs::copy` keeps the mode bits). Call while stopped.
    pub fn copy_queue(&self, dest: &Path) {
        let mut files = self.message_files();
        for kind in ["defer", "bounce", "trace"] {
            collect_message_files(&self.queue_dir, kind, Path::new(kind), &mut files);
        }
        for file in files {
            let to = dest.join(&file.rel_path);
            let parent = to.parent().expect("a queue file path has a parent");
            fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("mkdir {}: {e}", parent.display()));
            fs::copy(self.queue_dir.join(&file.rel_path), &to).unwrap_or_else(|e| {
                panic!("copy {} to {}: {e}", file.rel_path.display(), to.display())
            });
        }
    }

    fn tool(&self, name: &str, config_flag: &str) -> Command {
        let mut cmd = Command::new(find_tool(name).unwrap_or_else(|| PathBuf::from(name)));
        cmd.arg(config_flag).arg(&self.config_dir).env("TZ", "UTC");
        cmd
    }

    /// Creates the directories and configuration and runs `postfix check`, which creates the
    /// queue directories with Postfix's owners and modes.
    fn configure(options: &Options, slow_port: u16) -> Instance {
        let dir = tempfile::Builder::new()
            .prefix(DIR_PREFIX)
            .tempdir_in(traversable_temp_base())
            .expect("create a temp dir for a Postfix instance");
        let root = dir.path().to_path_buf();
        fs::write(root.join("owner.pid"), std::process::id().to_string())
            .expect("write owner.pid into the instance dir");
        let (uid, gid) = postfix_ids();
        // Postfix processes run as user postfix: the dir (0700 from mktemp) must be traversable.
        set_mode(&root, 0o755);
        let config_dir = root.join("config");
        let queue_dir = root.join("spool");
        let data_dir = root.join("data");
        let log_dir = root.join("log");
        let sasl_dir = config_dir.join("sasl");
        for d in [&config_dir, &queue_dir, &data_dir, &log_dir, &sasl_dir] {
            fs::create_dir_all(d).unwrap_or_else(|e| panic!("mkdir {}: {e}", d.display()));
            set_mode(d, 0o755);
        }
        // data_directory must belong to postfix; the maillog too, or postsuper (which logs
        // itself while the master is stopped, after dropping privileges) dies on it.
        let maillog = log_dir.join("maillog");
        fs::write(&maillog, "").expect("create the maillog file");
        for p in [&data_dir, &log_dir, &maillog] {
            chown(p, Some(uid), Some(gid)).unwrap_or_else(|e| panic!("chown {}: {e}", p.display()));
        }
        let instance = Instance {
            config_dir,
            queue_dir,
            ids: options.ids,
            root,
            maillog,
            smtp_port: free_port(),
            milter_smtp_port: free_port(),
            filter_smtp_port: free_port(),
            labels: BTreeMap::new(),
            watchdogs: Mutex::new(Vec::new()),
            _dir: dir,
        };
        instance.write_main_cf(options);
        instance.write_master_cf(true);
        instance.write_maps(slow_port);
        instance.write_sasl_config(gid);
        instance.run(instance.postfix().arg("check"), None);
        instance
    }

    fn write_main_cf(&self, options: &Options) {
        let cfg = self.config_dir.display();
        let yes_no = |b: bool| if b { "yes" } else { "no" };
        let settings: Vec<(&str, String)> = vec![
            ("compatibility_level", "3.6".into()),
            ("queue_directory", self.queue_dir.display().to_string()),
            (
                "data_directory",
                self.root.join("data").display().to_string(),
            ),
            ("mail_owner", "postfix".into()),
            ("setgid_group", "postdrop".into()),
            // No syslog: log to a file (both settings are needed, and the postlog service).
            ("maillog_file", self.maillog.display().to_string()),
            (
                "maillog_file_prefixes",
                self.root.join("log").display().to_string(),
            ),
            ("myhostname", format!("mx.{OUR_DOMAIN}")),
            ("mydomain", OUR_DOMAIN.into()),
            ("myorigin", "$mydomain".into()),
            // Nothing is local: every recipient is relayed (and so deferred or bounced).
            ("mydestination", String::new()),
            ("local_recipient_maps", String::new()),
            ("alias_maps", String::new()),
            ("alias_database", String::new()),
            ("smtpd_reject_unlisted_recipient", "no".into()),
            ("inet_interfaces", "loopback-only".into()),
            ("inet_protocols", "ipv4".into()),
            // 192.0.2.0/24 holds the XCLIENT addresses of clients without SASL login.
            ("mynetworks", "127.0.0.0/8 192.0.2.0/24".into()),
            ("smtputf8_enable", "yes".into()),
            ("message_size_limit", "20000000".into()),
            (
                "enable_long_queue_ids",
                yes_no(options.ids == IdStyle::Long).into(),
            ),
            ("hash_queue_depth", options.hash_queue_depth.to_string()),
            // A closed port: "connect to 127.0.0.1[127.0.0.1]:1: Connection refused".
            ("relayhost", "[127.0.0.1]:1".into()),
            ("transport_maps", format!("texthash:{cfg}/transport")),
            ("virtual_alias_maps", format!("texthash:{cfg}/virtual")),
            ("header_checks", format!("regexp:{cfg}/header_checks")),
            // Keep the queue quiet: no retry within the life of a test run.
            ("queue_run_delay", "3600s".into()),
            ("minimal_backoff_time", "3600s".into()),
            ("maximal_backoff_time", "7200s".into()),
            ("smtp_dns_support_level", "disabled".into()),
            ("smtpd_authorized_xclient_hosts", "127.0.0.0/8".into()),
            ("smtpd_authorized_xforward_hosts", "127.0.0.0/8".into()),
            // XVERP (plan's `label::VERP`); the default is nobody. Changes only the EHLO reply.
            ("smtpd_authorized_verp_clients", "127.0.0.0/8".into()),
            // XCLIENT LOGIN only sticks when SASL is enabled; AUTH PLAIN uses a Cyrus sasldb.
            ("smtpd_sasl_auth_enable", "yes".into()),
            ("smtpd_sasl_type", "cyrus".into()),
            ("smtpd_sasl_path", "smtpd".into()),
            ("cyrus_sasl_config_path", format!("{cfg}/sasl")),
            ("smtpd_sasl_local_domain", OUR_DOMAIN.into()),
        ];
        let text: String = settings
            .iter()
            .map(|(k, v)| format!("{k} = {v}\n"))
            .collect();
        self.write_config("main.cf", &text);
    }

    /// master.cf: every service unchrooted, smtpd only on loopback ports. Without `qmgr`,
    /// cleanup's files stay in `incoming` (the phase that fills that queue).
    fn write_master_cf(&self, with_qmgr: bool) {
        let mut services = vec![
            format!("127.0.0.1:{} inet n - n - - smtpd", self.smtp_port),
            format!(
                "127.0.0.1:{} inet n - n - - smtpd\n  -o smtpd_milters=inet:127.0.0.1:1\n  \
                 -o milter_default_action=accept",
                self.milter_smtp_port
            ),
            // smtpd writes the envelope content_filter record itself (smtpd.c); the W record
            // comes from cleanup (cleanup_envelope.c), so this listener has its own cleanup.
            format!(
                "127.0.0.1:{} inet n - n - - smtpd\n  -o content_filter={}\n  \
                 -o cleanup_service_name=cleanup_warn",
                self.filter_smtp_port,
                plan::FILTER_NEXTHOP
            ),
            "cleanup_warn unix n - n - 0 cleanup\n  -o delay_warning_time=4h".into(),
            "pickup unix n - n 60 1 pickup".into(),
            "cleanup unix n - n - 0 cleanup".into(),
            "tlsmgr unix - - n 1000? 1 tlsmgr".into(),
            "rewrite unix - - n - - trivial-rewrite".into(),
            "bounce unix - - n - 0 bounce".into(),
            "defer unix - - n - 0 bounce".into(),
            "trace unix - - n - 0 bounce".into(),
            "verify unix - - n - 1 verify".into(),
            "flush unix n - n 1000? 0 flush".into(),
            "proxymap unix - - n - - proxymap".into(),
            "smtp unix - - n - - smtp".into(),
            "relay unix - - n - - smtp".into(),
            // The content filter's transport (plan::FILTER_NEXTHOP: a closed port).
            "scan unix - - n - - smtp".into(),
            // Talks to the silent listener: wait (nearly) forever for its greeting.
            "slow unix - - n - - smtp\n  -o smtp_helo_timeout=3600s".into(),
            "showq unix n - n - - showq".into(),
            "error unix - - n - - error".into(),
            "retry unix - - n - - error".into(),
            "discard unix - - n - - discard".into(),
            "anvil unix - - n - 1 anvil".into(),
            "scache unix - - n - 1 scache".into(),
            "postlog unix-dgram n - n - 1 postlogd".into(),
        ];
        if with_qmgr {
            services.push("qmgr unix n - n 300 1 qmgr".into());
        }
        self.write_config("master.cf", &(services.join("\n") + "\n"));
    }

    fn write_maps(&self, slow_port: u16) {
        self.write_config("transport", &plan::transport_map(slow_port));
        self.write_config("virtual", &plan::virtual_map());
        self.write_config("header_checks", &plan::header_checks());
    }

    /// Cyrus SASL for smtpd: a sasldb with one user for real AUTH PLAIN (readable by group
    /// postfix, which smtpd runs as; postfix-test-instance.md, "SASL user").
    fn write_sasl_config(&self, gid: u32) {
        let sasldb = self.config_dir.join("sasl/sasldb2");
        let conf = format!(
            "pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\n\
             sasldb_path: {}\n",
            sasldb.display()
        );
        self.write_config("sasl/smtpd.conf", &conf);
        let (user, password) = AUTH_USER;
        let mut cmd =
            Command::new(find_tool("saslpasswd2").unwrap_or_else(|| "saslpasswd2".into()));
        cmd.args(["-p", "-c", "-f"])
            .arg(&sasldb)
            .args(["-u", OUR_DOMAIN, user]);
        self.run(&mut cmd, Some(password.as_bytes()));
        chown(&sasldb, None, Some(gid)).expect("chgrp postfix on the sasldb");
        set_mode(&sasldb, 0o640);
    }

    fn write_config(&self, name: &str, text: &str) {
        let path = self.config_dir.join(name);
        fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// Fills the queues, phase by phase (see `plan::Plan`), and leaves Postfix stopped.
    fn populate(&mut self, plan: &Plan, silent: SilentListener) {
        // Phase 1: everything running: deferred, hold and active.
        self.start();
        for submission in &plan.smtp {
            self.inject_smtp(submission);
        }
        let mut expected = expected_counts(&plan.smtp, Counts::default());
        self.wait_until_settled(&expected);
        self.stop();
        // smtp(8) clients waiting on it are gone with Postfix; the active files stay.
        drop(silent);
        if plan
            .smtp
            .iter()
            .flat_map(|s| &s.expected)
            .any(|e| e.makes_ndr)
        {
            let ndr = self.ndr_id();
            self.labels.insert(label::NDR.to_string(), ndr);
        }

        // Phase 2: no qmgr, so new mail stays in incoming.
        if !plan.incoming.is_empty() {
            self.write_master_cf(false);
            self.start();
            for submission in &plan.incoming {
                self.inject_smtp(submission);
            }
            expected = expected_counts(&plan.incoming, expected);
            self.wait_until_settled(&expected);
            self.stop();
            self.write_master_cf(true);
        }

        // Phase 3: stopped, so sendmail's files stay in maildrop.
        for (label, mail, options) in &plan.maildrop {
            let id = self.inject_sendmail(mail, options);
            self.labels.insert(label.clone(), id);
        }

        // Phase 4: postsuper on messages that are in the queue by now.
        for label in &plan.hold {
            self.postsuper_one("-h", label, "placed on hold");
        }
        for label in &plan.expire {
            self.postsuper_one("-e", label, "expired");
        }
    }

    /// Sends one SMTP session to the listener it names and records the labels.
    fn inject_smtp(&mut self, submission: &Submission) {
        let port = match submission.listener {
            Listener::Plain => self.smtp_port,
            Listener::Milter => self.milter_smtp_port,
            Listener::Filter => self.filter_smtp_port,
        };
        let ids = match smtp::send(port, &submission.session) {
            Ok(ids) => ids,
            Err(e) => panic!(
                "SMTP injection into 127.0.0.1:{port} failed: {e}\n{}",
                self.maillog_tail(30)
            ),
        };
        for (expected, id) in submission.expected.iter().zip(ids) {
            self.labels.insert(expected.label.clone(), id);
        }
    }

    /// `sendmail -C` with the instance stopped: postdrop leaves the file in maildrop. sendmail
    /// does not print the queue ID, so the new file name is it.
    fn inject_sendmail(&self, mail: &smtp::Mail, options: &[&str]) -> String {
        let before = self.files_in("maildrop");
        let mut cmd = self.sendmail();
        cmd.arg("-i")
            .args(options)
            .arg("-f")
            .arg(&mail.from)
            .arg("--");
        cmd.args(mail.rcpts.iter().map(|(r, _)| r));
        self.run(&mut cmd, Some(mail.content.as_bytes()));
        let new: Vec<QueueFile> = self
            .files_in("maildrop")
            .into_iter()
            .filter(|f| !before.contains(f))
            .collect();
        match new.as_slice() {
            [one] => one.id.clone(),
            _ => panic!("expected one new maildrop file after sendmail, found {new:?}"),
        }
    }

    /// `postsuper FLAG ID` for a labelled message, checking the per-ID success line (postsuper
    /// exits 0 even when it did nothing; postfix-queue-format.md §8.2).
    fn postsuper_one(&self, flag: &str, label: &str, verb: &str) {
        let id = self.id_of(label).to_string();
        let out = self.run(self.postsuper().arg(flag).arg(&id), None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("{id}: {verb}")),
            "postsuper {flag} {id} ({label}) did not report \"{verb}\": {stderr}\n{}",
            self.maillog_tail(20)
        );
    }

    /// The ID of the bounce message, from the bounce daemon's log line
    /// `ID: sender non-delivery notification: NDRID`.
    fn ndr_id(&self) -> String {
        let log = self.maillog_text();
        let marker = "sender non-delivery notification: ";
        let found = log
            .lines()
            .rev()
            .find_map(|l| l.split_once(marker))
            .map(|(_, id)| id.trim());
        match found {
            Some(id) => id.to_string(),
            None => panic!(
                "no \"{marker}\" line in the maillog\n{}",
                self.maillog_tail(40)
            ),
        }
    }

    /// Waits until the queues hold exactly the expected numbers of messages and every deferred
    /// message has its defer log (the bounce daemon writes it before qmgr moves the file).
    fn wait_until_settled(&self, want: &Counts) {
        let mut last = Counts::default();
        let settled = poll(Duration::from_secs(60), || {
            last = Counts::of(self);
            last == *want
                && self
                    .files_in("deferred")
                    .iter()
                    .all(|f| self.log_file("defer", &f.id).is_some())
        });
        assert!(
            settled,
            "the queue did not settle in 60 s: expected {want:?}, have {last:?}\n{}",
            self.maillog_tail(40)
        );
    }

    fn wait_for(&self, what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) {
        if !poll(timeout, &mut ready) {
            panic!(
                "timed out after {timeout:?} waiting for {what}\n{}",
                self.maillog_tail(30)
            );
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // Never panic here (a panic while unwinding aborts the test binary).
        if let Err(e) = self.shut_down() {
            eprintln!(
                "postfix bed: stopping {} on drop: {e}",
                self.config_dir.display()
            );
        }
    }
}

/// Message counts per queue.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Counts {
    maildrop: usize,
    incoming: usize,
    active: usize,
    deferred: usize,
    hold: usize,
}

impl Counts {
    fn of(instance: &Instance) -> Counts {
        let mut c = Counts::default();
        for f in instance.message_files() {
            match f.queue.as_str() {
                "maildrop" => c.maildrop += 1,
                "incoming" => c.incoming += 1,
                "active" => c.active += 1,
                "deferred" => c.deferred += 1,
                _ => c.hold += 1,
            }
        }
        c
    }
}

/// What the queues hold once `submissions` are processed, on top of what they held `before`:
/// each NDR is one more deferred message.
fn expected_counts(submissions: &[Submission], before: Counts) -> Counts {
    let mut c = before;
    for expected in submissions.iter().flat_map(|s| &s.expected) {
        match expected.fate {
            Fate::Deferred => c.deferred += 1,
            Fate::Hold => c.hold += 1,
            Fate::Active => c.active += 1,
            Fate::Incoming => c.incoming += 1,
        }
        c.deferred += usize::from(expected.makes_ndr);
    }
    c
}

/// True when Postfix's binaries (and saslpasswd2) are installed and we are root. Otherwise
/// prints "skipped: …" and returns false, or panics if `QSURGEON_REQUIRE_POSTFIX=1` (CI).
pub fn require_postfix() -> bool {
    let missing: Vec<&str> = REQUIRED_TOOLS
        .into_iter()
        .filter(|t| find_tool(t).is_none())
        .collect();
    let problem = if !missing.is_empty() {
        format!(
            "not installed: {} (run scripts/install-test-deps.sh as root)",
            missing.join(", ")
        )
    } else if !is_root() {
        "the Postfix test bed needs root (postsuper, postfix start)".to_string()
    } else {
        return true;
    };
    if std::env::var("QSURGEON_REQUIRE_POSTFIX").as_deref() == Ok("1") {
        panic!("QSURGEON_REQUIRE_POSTFIX=1 but the Postfix test bed cannot run: {problem}");
    }
    eprintln!("skipped: {problem}");
    false
}

/// A TCP listener on 127.0.0.1 that accepts connections and never says a word, so smtp(8)
/// waits for the greeting and its messages stay in `active`. Dropping it closes everything.
struct SilentListener {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SilentListener {
    fn start() -> SilentListener {
        let listener =
            TcpListener::bind("127.0.0.1:0").expect("bind the silent listener on 127.0.0.1");
        let port = listener
            .local_addr()
            .expect("silent listener address")
            .port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            let mut held = Vec::new();
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    break;
                }
                held.extend(conn.ok());
            }
        });
        SilentListener {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for SilentListener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept so that the thread sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// `postfix stop` if this config's master runs, then waits for all its processes to exit and
/// kills (by PID) any that are left after 10 s. Postfix's processes are recognised by
/// `MAIL_CONFIG=config_dir` in their environment (postfix(1) exports it, master passes it on
/// through `import_environment`).
fn stop_postfix(config_dir: &Path) -> Result<(), String> {
    if postfix_processes(config_dir)
        .iter()
        .any(|(_, comm)| comm == "master")
    {
        let mut cmd = Command::new(find_tool("postfix").unwrap_or_else(|| "postfix".into()));
        cmd.arg("-c").arg(config_dir).arg("stop");
        run_command(&mut cmd, None)?;
    }
    if poll(Duration::from_secs(10), || {
        postfix_processes(config_dir).is_empty()
    }) {
        return Ok(());
    }
    let left = postfix_processes(config_dir);
    for (pid, _) in &left {
        kill("KILL", &pid.to_string());
    }
    Err(format!(
        "Postfix processes still running 10 s after stop, killed: {left:?}"
    ))
}

/// Sends `signal` to a PID (or `-PGID`) that the bed started. std has no kill(2), and
/// /bin/kill (procps) is not on a minimal Debian, so this uses sh's builtin.
fn kill(signal: &str, target: &str) {
    let _ = Command::new("sh")
        .args([
            "-c",
            r#"kill -s "$1" -- "$2" 2>/dev/null"#,
            "kill",
            signal,
            target,
        ])
        .status();
}

/// `(pid, comm)` of every process whose environment has `MAIL_CONFIG=config_dir`.
pub fn postfix_processes(config_dir: &Path) -> Vec<(u32, String)> {
    let wanted = format!("MAIL_CONFIG={}", config_dir.display());
    let me = std::process::id();
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != me)
        .filter(|pid| {
            // Processes may exit while we look: unreadable means "not ours".
            fs::read(format!("/proc/{pid}/environ"))
                .map(|env| env.split(|b| *b == 0).any(|var| var == wanted.as_bytes()))
                .unwrap_or(false)
        })
        .map(|pid| {
            let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            (pid, comm.trim().to_string())
        })
        .collect()
}

/// Removes instance dirs left by earlier test processes that have exited (shared instances
/// are never dropped; a killed test run leaves everything), stopping any Postfix still running
/// there. Dirs of live processes (a concurrent `cargo test`) are left alone. Once per process.
fn sweep_stale_instances() {
    static SWEPT: OnceLock<()> = OnceLock::new();
    SWEPT.get_or_init(|| {
        let base = traversable_temp_base();
        let Ok(entries) = fs::read_dir(&base) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let ours = entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(DIR_PREFIX));
            let owner = fs::read_to_string(path.join("owner.pid")).ok();
            let owner_alive = owner
                .as_deref()
                .map(|pid| Path::new("/proc").join(pid.trim()).exists())
                // No owner.pid yet: being created right now, unless it is old.
                .unwrap_or_else(|| modified_ago(&path) < Duration::from_secs(3600));
            if ours && !owner_alive {
                if let Err(e) = stop_postfix(&path.join("config")) {
                    eprintln!("postfix bed: stale instance {}: {e}", path.display());
                }
                let _ = fs::remove_dir_all(&path);
            }
        }
    });
}

fn modified_ago(path: &Path) -> Duration {
    fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .unwrap_or_default()
}

/// Every complete message file under a queue directory (an instance's spool or a copy of
/// it), sorted by queue (in `MESSAGE_QUEUES` order) and then by ID.
pub fn message_files_in(queue_dir: &Path) -> Vec<QueueFile> {
    let mut files = Vec::new();
    for queue in MESSAGE_QUEUES {
        collect_message_files(queue_dir, queue, Path::new(queue), &mut files);
    }
    let rank = |q: &str| MESSAGE_QUEUES.iter().position(|m| *m == q);
    files.sort_by(|a, b| (rank(&a.queue), &a.id).cmp(&(rank(&b.queue), &b.id)));
    files
}

/// Adds the message files under `queue_dir/rel` to `out`. Like Postfix's `mail_scan_dir`,
/// one-character names are hash subdirectories; other names count only if they are valid queue
/// IDs and the file is complete (owner bits `rwx`, postfix-queue-format.md §5.3/§5.4).
fn collect_message_files(queue_dir: &Path, queue: &str, rel: &Path, out: &mut Vec<QueueFile>) {
    let Ok(entries) = fs::read_dir(queue_dir.join(rel)) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(meta) = entry.metadata() else { continue };
        let rel_path = rel.join(&name);
        if name.len() == 1 && meta.is_dir() {
            collect_message_files(queue_dir, queue, &rel_path, out);
        } else if meta.is_file() && is_queue_id(&name) && is_complete(queue, meta.mode()) {
            out.push(QueueFile {
                queue: queue.to_string(),
                id: name,
                rel_path,
            });
        }
    }
}

/// Log files are complete as soon as they exist; message files once their owner bits are rwx.
fn is_complete(queue: &str, mode: u32) -> bool {
    !MESSAGE_QUEUES.contains(&queue) || mode & 0o700 == 0o700
}

/// Postfix's `mail_queue_id_ok`: non-empty, `[A-Za-z0-9_]` only.
pub fn is_queue_id(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Runs a command; Err carries the command line, status, stdout and stderr.
fn run_command(cmd: &mut Command, stdin: Option<&[u8]>) -> Result<Output, String> {
    let line = format!("{cmd:?}");
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("cannot run {line}: {e}"))?;
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin was piped");
        pipe.write_all(input)
            .map_err(|e| format!("writing stdin of {line}: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("waiting for {line}: {e}"))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!(
            "{line} failed ({})\n--- stdout ---\n{}\n--- stderr ---\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Polls `ready` every 50 ms until it is true (returns true) or `timeout` passes (false).
fn poll(timeout: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if ready() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// A Postfix tool (or saslpasswd2): in PATH, or in Debian's command_directory `/usr/sbin`
/// (which a non-login PATH may lack).
fn find_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn is_root() -> bool {
    // std has no geteuid(); /proc/self/status has "Uid: real effective saved fs".
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.to_string())
        })
        .and_then(|l| l.split_whitespace().nth(2).map(|uid| uid == "0"))
        .unwrap_or(false)
}

/// uid and gid of user `postfix` (from /etc/passwd; Debian's package creates it).
fn postfix_ids() -> (u32, u32) {
    let passwd = fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.first() == Some(&"postfix") && f.len() > 3)
        .and_then(|f| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
        .expect("user postfix in /etc/passwd (is Postfix installed? scripts/install-test-deps.sh)")
}

/// The temp base: `std::env::temp_dir()` if user postfix can traverse it and its parents,
/// else `/tmp` (a TMPDIR under a 0700 home would lock Postfix out of its own spool).
fn traversable_temp_base() -> PathBuf {
    let base = std::env::temp_dir();
    let traversable = base.ancestors().all(|d| {
        fs::metadata(d)
            .map(|m| m.mode() & 0o001 != 0)
            .unwrap_or(false)
    });
    if traversable {
        base
    } else {
        PathBuf::from("/tmp")
    }
}

fn set_mode(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {mode:o} {}: {e}", path.display()));
}

/// A free TCP port on 127.0.0.1 for smtpd (bound, then released for Postfix to take). It is
/// taken from 10000–29999, below Linux's ephemeral range (32768–60999), so that no outgoing
/// connection (Postfix's own, to the closed relayhost) can grab it before master binds it.
fn free_port() -> u16 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
        ^ (u64::from(std::process::id()) << 20);
    for _ in 0..1000 {
        // A cheap spread (splitmix64 step) over the range; collisions just try again.
        let mut x = seed.wrapping_add(
            COUNTER
                .fetch_add(1, Ordering::SeqCst)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        let port = 10_000 + ((x ^ (x >> 31)) % 20_000) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free TCP port on 127.0.0.1 in 10000-29999 after 1000 tries");
}

// ---- Plain SMTP injection for feature tests (tests/local_sender.rs) ----

impl Instance {
    /// `postmap -c config_dir`, TZ=UTC.
    pub fn postmap(&self) -> Command {
        self.tool("postmap", "-c")
    }
    /// `postalias -c config_dir`, TZ=UTC.
    pub fn postalias(&self) -> Command {
        self.tool("postalias", "-c")
    }

    /// Sends one mail per `(sender, recipient)` in one SMTP session to the plain listener,
    /// from 127.0.0.1 (in `mynetworks`, so any recipient is relayed), and returns the queue
    /// IDs in order. `""` is the null sender; a non-ASCII sender gets `SMTPUTF8`. Postfix must
    /// be running.
    pub fn send_mails(&self, mails: &[(&str, &str)]) -> Vec<String> {
        self.send_session(Vec::new(), mails)
    }

    /// [`Instance::send_mails`] as SASL user `login` on client address `addr`, as the bed's
    /// own users send (XCLIENT NAME/ADDR/HELO/LOGIN; smtpd records LOGIN as sasl_username).
    pub fn send_mails_as(&self, login: &str, addr: &str, mails: &[(&str, &str)]) -> Vec<String> {
        let xclient = vec![
            ("NAME", "client.example".to_string()),
            ("ADDR", addr.to_string()),
            ("HELO", "client.example".to_string()),
            ("LOGIN", login.to_string()),
        ];
        self.send_session(xclient, mails)
    }

    fn send_session(
        &self,
        xclient: Vec<(&'static str, String)>,
        mails: &[(&str, &str)],
    ) -> Vec<String> {
        let session = smtp::Session {
            xclient,
            mails: mails
                .iter()
                .map(|(from, rcpt)| smtp::Mail {
                    from: from.to_string(),
                    from_params: if from.is_ascii() { "" } else { "SMTPUTF8" }.to_string(),
                    rcpts: vec![(rcpt.to_string(), String::new())],
                    content: format!(
                        "From: <{from}>\nTo: <{rcpt}>\nSubject: test\n\nA test message.\n"
                    ),
                })
                .collect(),
            ..smtp::Session::default()
        };
        smtp::send(self.smtp_port, &session).unwrap_or_else(|e| {
            panic!(
                "SMTP injection into 127.0.0.1:{} failed: {e}\n{}",
                self.smtp_port,
                self.maillog_tail(30)
            )
        })
    }

    /// Waits (up to 60 s) until the deferred queue holds exactly `n` messages, each with its
    /// defer log, and nothing is left in incoming or active.
    pub fn wait_for_deferred(&self, n: usize) {
        self.wait_for(
            &format!("{n} deferred messages"),
            Duration::from_secs(60),
            || {
                let files = self.message_files();
                files.iter().filter(|f| f.queue == "deferred").count() == n
                    && files
                        .iter()
                        .all(|f| f.queue != "incoming" && f.queue != "active")
                    && self
                        .files_in("deferred")
                        .iter()
                        .all(|f| self.log_file("defer", &f.id).is_some())
            },
        );
    }
}
