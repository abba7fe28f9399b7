//! queue-scan's promises, on queue directories built here: the layout and
//! its hash paths, the listing rules Postfix applies (hash directories,
//! invalid names, temporary names, wrong hash depth, readiness), the safe
//! open against every hazard the postfix user can plant (symlinks to real
//! files, `/dev/zero` and `/etc/shadow`, FIFOs, a 200 GB sparse file,
//! directories, sockets, device nodes) in every queue and in the defer log
//! directory, and bounded memory while scanning them.

use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use queue_scan::open::{self, OpenErrorKind};
use queue_scan::{
    scan_reduce, LayoutError, Message, QueueLayout, ReadPlan, ScanError, ScanOptions, ScanProgress,
    ScanStats, Visitor,
};

/// A scratch queue directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("qs-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const QUEUES: &[&str] = &["maildrop", "incoming", "active", "deferred", "hold"];

fn make_queue(dir: &Path) -> QueueLayout {
    for q in QUEUES
        .iter()
        .chain(&["defer", "bounce", "trace", "corrupt"])
    {
        std::fs::create_dir_all(dir.join(q)).unwrap();
    }
    QueueLayout::with_defaults(dir)
}

/// A sound queue file, as Postfix's cleanup lays it out.
fn good_bytes(id: &str) -> Vec<u8> {
    queue_file::QueueFileBuilder::new(b"sender@example.com", 1_700_000_000)
        .recipient(b"rcpt@example.org")
        .line(format!("Subject: {id}").as_bytes())
        .line(b"")
        .line(b"body")
        .build()
}

fn write_mode(path: &Path, bytes: &[u8], mode: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn put_good(layout: &QueueLayout, queue: &str, id: &str) -> PathBuf {
    let path = layout.path(queue, id);
    write_mode(&path, &good_bytes(id), 0o700);
    path
}

#[derive(Default)]
struct Seen {
    /// (queue, id, defer log)
    messages: Vec<(String, String, Option<Vec<u8>>)>,
    errors: Vec<String>,
}

impl Visitor for Seen {
    fn message(&mut self, m: &Message<'_>) {
        self.messages.push((
            m.queue.to_string(),
            m.id.to_string(),
            m.defer_log.map(<[u8]>::to_vec),
        ));
    }
    fn error(&mut self, e: ScanError) {
        self.errors.push(e.to_string());
    }
}

/// Scans on another thread and fails if that takes more than 10 s (a FIFO
/// opened without O_NONBLOCK blocks forever).
fn scan_guarded(layout: &QueueLayout, read: ReadPlan, limit: u64) -> (Seen, ScanStats) {
    let layout = layout.clone();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut options = ScanOptions::new(queue_scan::MESSAGE_QUEUES.to_vec(), read);
        options.file_size_limit = limit;
        let progress = ScanProgress::default();
        let seen = scan_reduce(&layout, &options, &progress, Seen::default, |mut a, b| {
            a.messages.extend(b.messages);
            a.errors.extend(b.errors);
            a
        });
        let _ = tx.send((seen, progress.stats()));
    });
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(mut result) => {
            result.0.messages.sort();
            result.0.errors.sort();
            result
        }
        Err(_) => panic!("the scan did not finish within 10 s"),
    }
}

/// Peak resident memory of this process (`VmHWM`), in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

#[test]
fn hash_paths_and_listing_follow_postfix() {
    let scratch = Scratch::new("listing");
    let layout = make_queue(&scratch.0);
    // deferred is hashed (depth 1): deferred/A/A45E798E3F5.
    assert_eq!(
        layout.relative_path("deferred", "A45E798E3F5"),
        Path::new("deferred/A/A45E798E3F5")
    );
    put_good(&layout, "deferred", "A45E798E3F5");
    put_good(&layout, "deferred", "4jXXK158vnz1SY32"); // long ID: deferred/B/
    assert!(scratch.0.join("deferred/B/4jXXK158vnz1SY32").is_file());
    put_good(&layout, "hold", "B45E798E3F6");
    put_good(&layout, "active", "C45E798E3F7");
    // Invalid names are not messages, and are not errors.
    write_mode(&scratch.0.join("hold/not-an-id"), b"x", 0o700);
    write_mode(&scratch.0.join("hold/.hidden"), b"x", 0o700);
    // `<usec>.<pid>`: mail_queue_enter() still creating it.
    write_mode(&scratch.0.join("incoming/123456.789"), b"", 0o600);
    // Owner bits not rwx: still being written (mail_open_ok()).
    write_mode(
        &layout.path("incoming", "D45E798E3F8"),
        &good_bytes("x"),
        0o600,
    );
    // Wrong hash depth or directory: invisible to Postfix, misplaced.
    write_mode(
        &scratch.0.join("deferred/E45E798E3F9"),
        &good_bytes("x"),
        0o700,
    );
    write_mode(
        &scratch.0.join("deferred/F/A45E798E3FA"),
        &good_bytes("x"),
        0o700,
    );
    write_mode(
        &scratch.0.join("deferred/A/4/A45E798E3FB"),
        &good_bytes("x"),
        0o700,
    );
    // A hash directory that is a symlink is not entered (no Postfix
    // program creates one; it can only be planted), nor are the files it
    // points at read; it is named as an error.
    std::fs::create_dir_all(scratch.0.join("elsewhere")).unwrap();
    write_mode(
        &scratch.0.join("elsewhere/C45E798E3FC"),
        &good_bytes("x"),
        0o700,
    );
    symlink(scratch.0.join("elsewhere"), scratch.0.join("deferred/C")).unwrap();

    let (seen, stats) = scan_guarded(&layout, ReadPlan::default(), 0);
    let ids: Vec<(&str, &str)> = seen
        .messages
        .iter()
        .map(|(q, id, _)| (q.as_str(), id.as_str()))
        .collect();
    assert_eq!(
        ids,
        vec![
            ("active", "C45E798E3F7"),
            ("deferred", "4jXXK158vnz1SY32"),
            ("deferred", "A45E798E3F5"),
            ("hold", "B45E798E3F6"),
        ]
    );
    assert_eq!(
        seen.errors,
        vec![format!(
            "{}: a symbolic link, not a regular file; not read",
            scratch.0.join("deferred/C").display()
        )]
    );
    assert_eq!(stats.scanned, 4);
    assert_eq!(stats.in_progress, 2);
    assert_eq!(stats.misplaced, 3);
    assert_eq!(stats.unreadable, 1);
}

#[test]
fn queue_directory_check() {
    let scratch = Scratch::new("check");
    let layout = QueueLayout::with_defaults(&scratch.0);
    let err = layout.check().unwrap_err();
    assert!(matches!(err, LayoutError::NotAQueueDirectory { .. }));
    assert!(
        err.to_string().contains("not a Postfix queue directory"),
        "{err}"
    );
    let missing = QueueLayout::with_defaults(scratch.0.join("nope"));
    assert!(matches!(missing.check(), Err(LayoutError::Io { .. })));
    std::fs::create_dir(scratch.0.join("hold")).unwrap();
    layout.check().unwrap();
}

/// Plants in `queue` every kind of file that is not a queue file but is
/// named like one: symlinks (to a real queue file, /dev/zero, a secret), a
/// FIFO, a 200 GB sparse file, a directory, a socket and, as root, a
/// character device. Returns their paths.
fn plant_queue_hazards(
    layout: &QueueLayout,
    queue: &str,
    target_good: &Path,
    secret: &str,
    next_id: &mut impl FnMut(char) -> String,
) -> Vec<PathBuf> {
    let mut hazards = Vec::new();
    let plant = |path: &Path| std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    // Symlinks: to a real queue file, to /dev/zero, to a secret.
    for target in [target_good, Path::new("/dev/zero"), Path::new(secret)] {
        let path = layout.path(queue, &next_id('B'));
        plant(&path);
        symlink(target, &path).unwrap();
        hazards.push(path);
    }
    // A FIFO.
    let path = layout.path(queue, &next_id('C'));
    plant(&path);
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &path,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o700),
        0,
    )
    .unwrap();
    hazards.push(path);
    // A 200 GB sparse file, complete-looking (0700).
    let path = layout.path(queue, &next_id('D'));
    plant(&path);
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(200 << 30).expect("sparse files");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).unwrap();
    hazards.push(path);
    // A directory named like an ID.
    let path = layout.path(queue, &next_id('F'));
    std::fs::create_dir_all(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).unwrap();
    hazards.push(path);
    // A socket.
    let path = layout.path(queue, &next_id('G'));
    plant(&path);
    let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    std::mem::forget(_listener);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).unwrap();
    hazards.push(path);
    // A character device (/dev/null's numbers), when allowed (root).
    let path = layout.path(queue, &next_id('H'));
    plant(&path);
    if rustix::fs::mknodat(
        rustix::fs::CWD,
        &path,
        rustix::fs::FileType::CharacterDevice,
        rustix::fs::Mode::from_raw_mode(0o700),
        rustix::fs::makedev(1, 3),
    )
    .is_ok()
    {
        hazards.push(path);
    }
    hazards
}

/// Eight good deferred messages (added to `good`) with defer logs: the first
/// sound, the others each a hazard. Returns the hazard logs' paths and the
/// messages' IDs, the sound one first.
fn plant_defer_logs(
    layout: &QueueLayout,
    secret: &str,
    next_id: &mut impl FnMut(char) -> String,
    good: &mut Vec<(String, String)>,
) -> (Vec<PathBuf>, Vec<String>) {
    let mut log_hazards = Vec::new();
    let mut deferred_good = Vec::new();
    for i in 0..8 {
        let id = next_id('K');
        put_good(layout, "deferred", &id);
        good.push(("deferred".to_string(), id.clone()));
        deferred_good.push(id.clone());
        let log = layout.path("defer", &id);
        std::fs::create_dir_all(log.parent().unwrap()).unwrap();
        match i {
            0 => std::fs::write(&log, b"recipient=rcpt@example.org\nreason=try later\n\n").unwrap(),
            1 => symlink("/dev/zero", &log).unwrap(),
            2 => symlink(secret, &log).unwrap(),
            3 => symlink(layout.path("deferred", &id), &log).unwrap(),
            4 => rustix::fs::mknodat(
                rustix::fs::CWD,
                &log,
                rustix::fs::FileType::Fifo,
                rustix::fs::Mode::from_raw_mode(0o600),
                0,
            )
            .unwrap(),
            5 => std::fs::File::create(&log)
                .unwrap()
                .set_len(200 << 30)
                .unwrap(),
            6 => std::fs::create_dir(&log).unwrap(),
            // Larger than the log cap, though not sparse.
            _ => std::fs::write(&log, vec![b'x'; open::LOG_FILE_LIMIT as usize + 1]).unwrap(),
        }
        if i > 0 {
            log_hazards.push(log);
        }
    }
    (log_hazards, deferred_good)
}

/// Every hazard the postfix user can plant, under a queue-file name in
/// every queue and under a defer log name, next to good messages.
#[test]
fn planted_hazards_are_named_and_the_scan_goes_on() {
    let scratch = Scratch::new("hazards");
    let layout = make_queue(&scratch.0);
    let secret = if Path::new("/etc/shadow").exists() {
        "/etc/shadow"
    } else {
        "/etc/passwd"
    };
    let mut good = Vec::new();
    let mut hazards: Vec<PathBuf> = Vec::new();
    let mut n = 0u32;
    let mut next_id = |prefix: char| {
        n += 1;
        format!("{prefix}{n:010X}")
    };
    for &queue in QUEUES {
        for _ in 0..3 {
            let id = next_id('A');
            put_good(&layout, queue, &id);
            good.push((queue.to_string(), id));
        }
        let target_good = layout.path(queue, &good.last().unwrap().1);
        hazards.extend(plant_queue_hazards(
            &layout,
            queue,
            &target_good,
            secret,
            &mut next_id,
        ));
    }

    // Defer logs of good deferred messages: one sound, the others hazards.
    let (log_hazards, deferred_good) = plant_defer_logs(&layout, secret, &mut next_id, &mut good);
    good.sort();

    let before = peak_rss();
    let read = ReadPlan {
        headers: true,
        defer_log: true,
    };
    let (seen, stats) = scan_guarded(&layout, read, queue_scan::DEFAULT_QUEUE_FILE_LIMIT);
    let ids: Vec<(String, String)> = seen
        .messages
        .iter()
        .map(|(q, id, _)| (q.clone(), id.clone()))
        .collect();
    assert_eq!(ids, good, "every good message, once");
    for path in hazards.iter().chain(&log_hazards) {
        let name = path.display().to_string();
        assert!(
            seen.errors
                .iter()
                .any(|e| e.starts_with(&format!("{name}: "))),
            "no error names {name}: {:#?}",
            seen.errors
        );
    }
    assert_eq!(
        seen.errors.len(),
        hazards.len() + log_hazards.len(),
        "{:#?}",
        seen.errors
    );
    assert!(seen
        .errors
        .iter()
        .any(|e| e.contains("larger than the 16777216-byte limit")));
    assert!(seen
        .errors
        .iter()
        .any(|e| e.contains("214748364800 bytes, larger than the")));
    assert!(seen
        .errors
        .iter()
        .any(|e| e.contains("a FIFO, not a regular file")));
    assert!(seen.errors.iter().any(|e| e.contains("a symbolic link")));
    assert_eq!(stats.unreadable as usize, hazards.len());
    // Only the sound log was read; the others gave no bytes at all.
    for (_, id, log) in &seen.messages {
        if id == &deferred_good[0] {
            assert_eq!(
                log.as_deref(),
                Some(&b"recipient=rcpt@example.org\nreason=try later\n\n"[..])
            );
        } else {
            assert_eq!(log, &None, "{id}");
        }
    }
    let peak = peak_rss();
    assert!(peak < 100 << 20, "peak RSS {peak} bytes (was {before})");
}

/// A queue file larger than the caller's limit is named with the limit,
/// and the public reader refuses it the same way.
#[test]
fn queue_files_over_the_limit_are_refused_by_size() {
    let scratch = Scratch::new("limit");
    let layout = make_queue(&scratch.0);
    let big = put_good(&layout, "hold", "A45E798E3F5");
    let size = std::fs::metadata(&big).unwrap().len();
    put_good(&layout, "hold", "B45E798E3F6");
    let (seen, _) = scan_guarded(&layout, ReadPlan::default(), size - 1);
    assert!(seen.messages.is_empty());
    assert_eq!(seen.errors.len(), 2);
    let limit = size - 1;
    assert!(
        seen.errors[0].contains(&format!("larger than the {limit}-byte limit")),
        "{:?}",
        seen.errors
    );
    let (seen, _) = scan_guarded(&layout, ReadPlan::default(), size);
    assert_eq!(seen.messages.len(), 2);

    let err = open::read_queue_file(&layout, "hold", "A45E798E3F5", size - 1).unwrap_err();
    assert!(matches!(err.kind, OpenErrorKind::TooLarge { .. }), "{err}");
    assert_eq!(err.path, big);
    let (bytes, info) = open::read_queue_file(&layout, "hold", "A45E798E3F5", size).unwrap();
    assert_eq!(bytes, std::fs::read(&big).unwrap());
    assert_eq!(info.size, size);
    assert_eq!(info.mode & 0o777, 0o700);
}

/// The public API: read_queue_file, read_log, find and read_one go
/// through the safe open.
#[test]
fn public_readers_refuse_hazards() {
    let scratch = Scratch::new("api");
    let layout = make_queue(&scratch.0);
    let good = put_good(&layout, "deferred", "A45E798E3F5");
    symlink(&good, layout.path("hold", "B45E798E3F6")).unwrap();
    let log = layout.path("defer", "A45E798E3F5");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    symlink("/dev/zero", &log).unwrap();
    // A symlinked hash directory: the log below it is not read either.
    std::fs::create_dir_all(scratch.0.join("elsewhere")).unwrap();
    std::fs::write(scratch.0.join("elsewhere/C45E798E3F7"), b"secret").unwrap();
    symlink(scratch.0.join("elsewhere"), scratch.0.join("defer/C")).unwrap();

    let (bytes, info) = open::read_queue_file(&layout, "deferred", "A45E798E3F5", 0).unwrap();
    assert_eq!(bytes, good_bytes("A45E798E3F5"));
    assert_eq!(
        info.inode,
        std::fs::metadata(&good)
            .map(|m| {
                use std::os::unix::fs::MetadataExt;
                m.ino()
            })
            .unwrap()
    );
    let err = open::read_queue_file(&layout, "hold", "B45E798E3F6", 0).unwrap_err();
    assert!(
        matches!(err.kind, OpenErrorKind::NotRegular(open::FileKind::Symlink)),
        "{err}"
    );
    assert_eq!(err.path, layout.path("hold", "B45E798E3F6"));

    let mut buf = Vec::new();
    let err = open::read_log(&layout, "defer", "A45E798E3F5", &mut buf).unwrap_err();
    assert!(err.to_string().contains("a symbolic link"), "{err}");
    assert!(buf.is_empty());
    let err = open::read_log(&layout, "defer", "C45E798E3F7", &mut buf).unwrap_err();
    assert!(!err.is_not_found(), "{err}");
    assert!(buf.is_empty());
    assert!(open::read_log(&layout, "bounce", "A45E798E3F5", &mut buf)
        .unwrap_err()
        .is_not_found());

    // find skips the symlink in hold and finds the real file.
    assert_eq!(
        layout.find("A45E798E3F5").unwrap(),
        Some(("deferred", PathBuf::from("deferred/A/A45E798E3F5")))
    );
    assert_eq!(layout.find("B45E798E3F6").unwrap(), None);

    let read = ReadPlan {
        headers: false,
        defer_log: true,
    };
    let r = queue_scan::read_one(&layout, "hold", "B45E798E3F6", read, |m| {
        m.map(|_| ()).map_err(|e| e.to_string())
    });
    let err = r.unwrap().unwrap_err();
    assert!(err.contains("a symbolic link"), "{err}");
    let r = queue_scan::read_one(&layout, "deferred", "A45E798E3F5", read, |m| {
        m.map(|m| m.defer_log.is_none()).map_err(|e| e.to_string())
    });
    // The message, without the refused defer log.
    assert_eq!(r, Some(Ok(true)));
    assert_eq!(
        queue_scan::read_one(&layout, "active", "A45E798E3F5", read, |_| ()),
        None
    );
}
