//! `qsurgeon show` against postcat: the golden outputs of real postcat on
//! the sample files, real postcat on every file of real instances, and
//! bad input (truncated, corrupt, missing).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::postfix::{require_postfix, IdStyle, Instance};
use crate::util::{assert_bytes_eq, assert_exit, assert_golden, qsurgeon, run, testdata};

/// The sample queue files made by Postfix 3.7.11 (testdata/postfix-samples).
const SAMPLES: &[&str] = &[
    "24D1398E021.smtputf8-sender",
    "4jXXK158vnz1SY32.nullsender-done-rcpt-dummyptr",
    "4jXXKF5Ppxz6lcx.maildrop-sendmail",
    "538D798E0FA.milter-edited-ptr-chains",
    "77F7198EC3E.requeued-by-postsuper-r",
    "A45E798E3F5.smtp-sasl-dsn-longheader",
    "synthetic-last-line-unterminated.qf",
];

/// Flag sets with a golden postcat output: (golden tag, arguments).
const FLAG_SETS: &[(&str, &[&str])] = &[
    ("default", &[]),
    ("-e", &["-e"]),
    ("-h", &["-h"]),
    ("-b", &["-b"]),
    ("-bh", &["-bh"]),
    ("-o", &["-o"]),
    ("-o-b", &["-o", "-b"]),
    ("-o-h", &["-o", "-h"]),
    ("-d", &["-d"]),
    ("-v", &["-v"]),
    ("-v-o", &["-v", "-o"]),
    ("-r", &["-r"]),
    ("-v-r", &["-v", "-r"]),
];

/// Runs `qsurgeon show ARGS FILE` in the samples folder (so the file name in
/// the markers is the bare name, as in the goldens).
fn show_sample(args: &[&str], files: &[&str]) -> std::process::Output {
    run(qsurgeon()
        .current_dir(testdata("postfix-samples"))
        .arg("show")
        .args(args)
        .args(files))
}

/// The flag sets the synthetic sample has goldens for (it was made for the lost-newline
/// difference, and `-b`/`-bh` are compared in the test of that difference below).
const SYNTHETIC_FLAG_SETS: &[&str] = &["default", "-e", "-h", "-o"];

#[test]
fn samples_match_real_postcat_golden_output() {
    let mut compared = 0;
    for sample in SAMPLES {
        for (tag, args) in FLAG_SETS {
            if sample.starts_with("synthetic") && !SYNTHETIC_FLAG_SETS.contains(tag) {
                continue;
            }
            let golden =
                testdata("postfix-samples/golden").join(format!("{sample}.postcat{tag}.out"));
            // A missing golden is an error, never a comparison quietly skipped.
            let expected = std::fs::read(&golden)
                .unwrap_or_else(|e| panic!("golden {}: {e}", golden.display()));
            let output = show_sample(args, &[sample]);
            assert_bytes_eq(
                &expected,
                &output.stdout,
                &format!("show {args:?} {sample}"),
            );
            compared += 1;
        }
    }
    // Every real sample with every flag set, and the synthetic one with its four.
    assert_eq!(
        compared,
        (SAMPLES.len() - 1) * FLAG_SETS.len() + SYNTHETIC_FLAG_SETS.len()
    );
    assert_eq!(compared, 82);
}

#[test]
fn a_postcat_read_error_is_an_error_naming_file_offset_and_record() {
    // postcat -v -r on a Milter-edited file reads the heap linearly and dies
    // (golden …postcat-v-r.err); show prints the same records, then says
    // where and why it stopped.
    let output = show_sample(&["-v", "-r"], &["538D798E0FA.milter-edited-ptr-chains"]);
    assert_exit(&output, 2, "show -v -r on an edited file");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("538D798E0FA.milter-edited-ptr-chains: record 'e' (errors_to) at byte")
            && stderr.contains("unexpected end of file in record data (length 100)"),
        "stderr: {stderr}"
    );
}

/// postcat loses the newline it writes before `X` when the content ends in
/// an `L` record and `-e` is off, because it exits without flushing
/// (postfix-queue-format.md §4.3 quirk 11). show prints it; the man page
/// says so. This pins the difference to exactly that newline.
#[test]
fn show_keeps_the_newline_postcat_loses_after_an_unterminated_last_line() {
    let sample = "synthetic-last-line-unterminated.qf";
    for tag in ["-b", "-bh"] {
        let postcat = std::fs::read(
            testdata("postfix-samples/golden").join(format!("{sample}.postcat{tag}.out")),
        )
        .unwrap();
        let output = show_sample(&[tag], &[sample]);
        let mut expected = postcat.clone();
        expected.push(b'\n');
        assert_bytes_eq(&expected, &output.stdout, &format!("show {tag} {sample}"));
    }
    // With the file given twice, postcat's lost newline shows up at the
    // start of the second file's output; show puts it where it belongs.
    let twice = std::fs::read(
        testdata("postfix-samples/golden").join(format!("{sample}.postcat-b.twice.out")),
    )
    .unwrap();
    let output = show_sample(&["-b"], &[sample, sample]);
    let mut expected = twice.clone();
    expected.push(b'\n');
    assert_bytes_eq(&expected, &output.stdout, "show -b twice");
}

#[test]
fn queue_ids_are_found_in_a_queue_directory_without_postfix() {
    let dir = tempfile::tempdir().unwrap();
    let place = |queue_path: &str, sample: &str| {
        let dest = dir.path().join(queue_path);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(testdata("postfix-samples").join(sample), dest).unwrap();
    };
    place(
        "deferred/A/A45E798E3F5",
        "A45E798E3F5.smtp-sasl-dsn-longheader",
    );
    place("hold/77F7198EC3E", "77F7198EC3E.requeued-by-postsuper-r");
    place(
        "deferred/B/4jXXK158vnz1SY32",
        "4jXXK158vnz1SY32.nullsender-done-rcpt-dummyptr",
    );
    let cases = [
        (
            "A45E798E3F5",
            "deferred/A/A45E798E3F5",
            "A45E798E3F5.smtp-sasl-dsn-longheader",
        ),
        (
            "77F7198EC3E",
            "hold/77F7198EC3E",
            "77F7198EC3E.requeued-by-postsuper-r",
        ),
        (
            "4jXXK158vnz1SY32",
            "deferred/B/4jXXK158vnz1SY32",
            "4jXXK158vnz1SY32.nullsender-done-rcpt-dummyptr",
        ),
    ];
    for (id, queue_path, sample) in cases {
        let output = run(qsurgeon()
            .arg("--queue-dir")
            .arg(dir.path())
            .args(["show", "-q", id]));
        assert_exit(&output, 0, id);
        let golden = std::fs::read(
            testdata("postfix-samples/golden").join(format!("{sample}.postcatdefault.out")),
        )
        .unwrap();
        let expected = String::from_utf8(golden)
            .unwrap()
            .replace(sample, queue_path);
        assert_bytes_eq(expected.as_bytes(), &output.stdout, id);
    }
    let output = run(qsurgeon().arg("--queue-dir").arg(dir.path()).args([
        "show",
        "-q",
        "NOSUCHID",
        "bad/id",
        "A45E798E3F5",
    ]));
    assert_exit(&output, 2, "missing and bad IDs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("queue file NOSUCHID: not found"),
        "{stderr}"
    );
    assert!(stderr.contains("bad mail queue ID: bad/id"), "{stderr}");
    assert!(
        output
            .stdout
            .starts_with(b"*** ENVELOPE RECORDS deferred/A/A45E798E3F5 ***\n"),
        "later IDs still shown"
    );
}

#[test]
fn truncated_and_corrupt_files_name_file_offset_and_record_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let sample = std::fs::read(testdata(
        "postfix-samples/A45E798E3F5.smtp-sasl-dsn-longheader",
    ))
    .unwrap();
    // Cut inside the sender record's payload (the S record is at 202).
    let sender_at = sample
        .windows(2)
        .position(|w| w == b"S\x12")
        .expect("sender record");
    std::fs::write(dir.path().join("truncated"), &sample[..sender_at + 5]).unwrap();
    std::fs::write(dir.path().join("notqueue"), b"hello world\n").unwrap();
    std::fs::write(dir.path().join("fivebytes"), b"T\x80\x80\x80\x80\x01x").unwrap();
    let output = run(qsurgeon().current_dir(dir.path()).args([
        "show",
        "truncated",
        "notqueue",
        "fivebytes",
        "missing",
    ]));
    assert_exit(&output, 2, "bad files");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let want = [
        format!("truncated: record 'S' (sender) at byte {sender_at}: unexpected end of file in record data (length 18)"),
        "notqueue: input is not a valid queue file".to_string(),
        "fivebytes: record 'T' (message_arrival_time) at byte 0: record length has more than 4 bytes".to_string(),
        "open missing: No such file or directory".to_string(),
    ];
    for line in want {
        assert!(
            stderr.contains(&line),
            "missing {line:?} in stderr:\n{stderr}"
        );
    }
    // The records before the bad one were printed.
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("named_attribute: sasl_username=alice@example.org\n"),
        "{stdout}"
    );
}

#[test]
fn json_is_lossless_and_decodes_records() {
    let output = show_sample(
        &["--json"],
        &[
            "24D1398E021.smtputf8-sender",
            "A45E798E3F5.smtp-sasl-dsn-longheader",
        ],
    );
    assert_exit(&output, 0, "show --json");
    let docs: Vec<serde_json::Value> = output
        .stdout
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    assert_eq!(docs.len(), 2);
    let utf8 = &docs[0];
    let sender = utf8["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "S")
        .unwrap();
    assert_eq!(sender["data"]["text"], "jos\u{e9}@sender.example");
    let records = docs[1]["records"].as_array().unwrap();
    let sasl = records
        .iter()
        .find(|r| r["attribute"]["name"]["text"] == "sasl_username")
        .unwrap();
    assert_eq!(sasl["attribute"]["value"]["text"], "alice@example.org");
    assert_eq!(records[0]["size"]["data_offset"], 936);
    // The 5008-byte header is three records: L, L, N in the content.
    let names: Vec<&str> = records
        .iter()
        .filter(|r| r["segment"] == "content")
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    let long = names
        .windows(3)
        .position(|w| w == ["unterminated_text", "unterminated_text", "regular_text"]);
    assert!(long.is_some(), "{names:?}");
    assert!(records
        .iter()
        .any(|r| r["type"] == "M" && r["segment"] == "envelope"));

    // Non-UTF-8 payloads come out as base64 bytes, exactly.
    let dir = tempfile::tempdir().unwrap();
    let file = queue_file::QueueFileBuilder::new(b"caf\xe9@example.org", 1_700_000_000)
        .recipient(b"r@example.org")
        .line(b"Subject: x")
        .build();
    std::fs::write(dir.path().join("latin1"), file).unwrap();
    let output = run(qsurgeon()
        .current_dir(dir.path())
        .args(["show", "--json", "latin1"]));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let sender = doc["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "S")
        .unwrap();
    assert_eq!(sender["data"]["bytes"], "Y2Fm6UBleGFtcGxlLm9yZw==");
}

/// Compares show with real postcat on `rel` (relative to the queue
/// directory, from which both run), for each flag set.
fn compare_with_postcat(instance: &Instance, rel: &Path, flag_sets: &[&[&str]]) {
    for flags in flag_sets {
        let postcat = instance.run(
            instance
                .postcat()
                .current_dir(&instance.queue_dir)
                .args(*flags)
                .arg(rel),
            None,
        );
        assert!(
            postcat.status.success(),
            "postcat {flags:?} {}: {}",
            rel.display(),
            String::from_utf8_lossy(&postcat.stderr)
        );
        let ours = run(qsurgeon()
            .current_dir(&instance.queue_dir)
            .arg("show")
            .args(*flags)
            .arg(rel));
        assert_exit(&ours, 0, &format!("show {flags:?} {}", rel.display()));
        assert_bytes_eq(
            &postcat.stdout,
            &ours.stdout,
            &format!("show {flags:?} {} vs postcat", rel.display()),
        );
    }
}

const REAL_FLAG_SETS: &[&[&str]] = &[
    &[],
    &["-e"],
    &["-h"],
    &["-b"],
    &["-bh"],
    &["-o"],
    &["-o", "-h"],
    &["-d"],
    &["-v"],
];

fn every_real_file_matches_postcat(ids: IdStyle) {
    if !require_postfix() {
        return;
    }
    let instance = Instance::shared(ids);
    let files = instance.message_files();
    let queues: std::collections::BTreeSet<&str> = files.iter().map(|f| f.queue.as_str()).collect();
    assert!(queues.len() >= 5, "queues populated: {queues:?}");
    // Including the records only a few messages have (content filter, redirect, VERP).
    for label in crate::postfix::label::RARE_RECORDS {
        let id = instance.id_of(label);
        let file = files.iter().find(|f| f.id == id);
        let file = file.unwrap_or_else(|| panic!("{label} ({id}) not in the spool"));
        // And in the modes that print these records differently (raw, offsets, types).
        let more: &[&[&str]] = &[&["-r"], &["-v", "-r"], &["-v", "-o"], &["-d", "-e"]];
        compare_with_postcat(instance, &file.rel_path, more);
    }
    for file in &files {
        compare_with_postcat(instance, &file.rel_path, REAL_FLAG_SETS);
    }
    // And by queue ID, through the instance's own configuration.
    for file in files.iter().step_by(3) {
        for flags in [&[][..], &["-e"][..], &["-bh"][..]] {
            let postcat =
                instance.run(instance.postcat().args(flags).arg("-q").arg(&file.id), None);
            let ours = run(qsurgeon()
                .arg("-c")
                .arg(&instance.config_dir)
                .arg("show")
                .args(flags)
                .arg("-q")
                .arg(&file.id));
            assert_exit(&ours, 0, &file.id);
            assert_bytes_eq(
                &postcat.stdout,
                &ours.stdout,
                &format!("show -q {flags:?} {}", file.id),
            );
        }
    }
}

#[test]
fn every_real_queue_file_matches_postcat_short_ids() {
    every_real_file_matches_postcat(IdStyle::Short);
}

#[test]
fn every_real_queue_file_matches_postcat_long_ids() {
    every_real_file_matches_postcat(IdStyle::Long);
}

#[test]
fn golden_json_of_a_sample_is_stable() {
    let output = show_sample(&["--json"], &["538D798E0FA.milter-edited-ptr-chains"]);
    assert_exit(&output, 0, "show --json");
    assert_golden(&testdata("golden/538D798E0FA.show.json"), &output.stdout);
}

/// Runs `qsurgeon ARGS` under GNU time with stdout to `out`; returns the
/// exit status and the peak resident set size in kB.
fn run_measured(args: &[&std::ffi::OsStr], out: &Path) -> (std::process::ExitStatus, u64) {
    let rss_file = out.with_extension("rss");
    let status = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss_file)
        .arg(qsurgeon().get_program())
        .args(args)
        .env("TZ", "UTC")
        .stdout(std::fs::File::create(out).unwrap())
        .status()
        .expect("GNU time (/usr/bin/time, Debian package time) runs");
    let rss = std::fs::read_to_string(&rss_file).unwrap();
    let rss = rss
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak RSS in {rss:?}"));
    (status, rss)
}

/// A queue file of `lines` blank lines (two bytes each in the file) after
/// a subject, as cleanup writes it; returns its path.
fn blank_lines_message(dir: &Path, lines: usize) -> std::path::PathBuf {
    let mut message = queue_file::QueueFileBuilder::new(b"anyone@example.net", 1_700_000_000)
        .recipient(b"victim@example.org")
        .line(b"Subject: blank lines");
    for _ in 0..lines {
        message = message.line(b"");
    }
    let file = dir.join(format!("blank-lines-{lines}"));
    std::fs::write(&file, message.build()).unwrap();
    file
}

/// Issue 10 item 3: `show --json` of 4 million blank lines (an 8 MB
/// message anyone can send) took 12.5 GB and 50 s: a JSON tree of every
/// record; postcat takes 7 MB. Both of show's printers now stream, so
/// memory does not grow with the number of records. One million lines
/// keep this test fast in a debug build (before the fix they took 3 GB).
#[test]
fn a_million_blank_lines_stream_in_constant_memory() {
    const LINES: usize = 1_000_000;
    let dir = tempfile::tempdir().unwrap();
    let small = blank_lines_message(dir.path(), 1_000);
    let big = blank_lines_message(dir.path(), LINES);
    let growth_kb = (std::fs::metadata(&big).unwrap().len() / 1024) as u64;

    let json = dir.path().join("out.json");
    let (status, small_kb) =
        run_measured(&["show".as_ref(), "--json".as_ref(), small.as_ref()], &json);
    assert!(status.success(), "show --json (small): {status}");
    let (status, rss_kb) = run_measured(&["show".as_ref(), "--json".as_ref(), big.as_ref()], &json);
    assert!(status.success(), "show --json: {status}");
    // The file is read whole (pointer records jump around in it); beyond
    // that, a thousand times the records may cost only buffers.
    assert!(
        rss_kb < 100_000 && rss_kb < small_kb + growth_kb + 8_000,
        "show --json of {LINES} blank lines peaked at {rss_kb} kB (1000 lines: {small_kb} kB)"
    );
    // One valid JSON document (checked without building it in memory)…
    let output = std::fs::read(&json).unwrap();
    serde_json::from_slice::<serde::de::IgnoredAny>(&output).expect("show --json is JSON");
    // …with every record: `{"` starts an object, never a string's text
    // (its quote would be escaped), and a record starts with its first
    // key, "attribute" or "data".
    let objects = || output.split(|&b| b == b'{');
    let records = objects()
        .filter(|o| o.starts_with(br#""data":"#) || o.starts_with(br#""attribute":"#))
        .count();
    // C T A A S O R M, the subject, the blank lines, X E.
    assert_eq!(records, LINES + 11);
    let blank = objects()
        .filter(|o| o.starts_with(br#""text":""},"name":"regular_text","offset":"#))
        .count();
    assert_eq!(blank, LINES);

    // The postcat printer with offsets (output 7 times the file): the
    // same bytes as real postcat, in constant memory too.
    let text = dir.path().join("out.txt");
    let (status, rss_kb) = run_measured(&["show".as_ref(), "-o".as_ref(), big.as_ref()], &text);
    assert!(status.success(), "show -o: {status}");
    assert!(
        rss_kb < small_kb + growth_kb + 8_000,
        "show -o peaked at {rss_kb} kB"
    );
    if require_postfix() {
        let instance = Instance::shared(IdStyle::Short);
        let postcat = instance.run(instance.postcat().arg("-o").arg(&big), None);
        assert!(postcat.status.success(), "real postcat reads the file");
        let ours = std::fs::read(&text).unwrap();
        assert!(postcat.stdout == ours, "show -o differs from postcat -o");
    }
}

/// A FIFO planted where a file is expected (anyone can `mkfifo` in /tmp;
/// the postfix user can in the queue) is refused at once, by name: opening
/// it does not wait for a writer.
#[test]
fn a_fifo_is_refused_at_once_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("planted-fifo");
    let made = run(Command::new("mkfifo").arg(&fifo));
    assert!(made.status.success(), "mkfifo");
    // Also by queue ID, in a queue directory.
    std::fs::create_dir_all(dir.path().join("hold")).unwrap();
    let made = run(Command::new("mkfifo").arg(dir.path().join("hold/A1B2C3D4E5F")));
    assert!(made.status.success(), "mkfifo in hold");
    let refused = format!("{}: not a regular file (a FIFO)", fifo.display());
    // By ID too: found through the same safe open as the scan, and named
    // (not "not found": something is there, and it is not a message).
    let not_found = format!(
        "queue file A1B2C3D4E5F: {}: a FIFO, not a regular file; not read",
        dir.path().join("hold/A1B2C3D4E5F").display()
    );
    for (args, want) in [
        (
            vec!["--json".into(), fifo.clone().into_os_string()],
            &refused,
        ),
        (vec![fifo.clone().into_os_string()], &refused),
        (vec!["-q".into(), "A1B2C3D4E5F".into()], &not_found),
    ] {
        let mut child = qsurgeon()
            .arg("--queue-dir")
            .arg(dir.path())
            .arg("show")
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > Duration::from_secs(10) {
                child.kill().unwrap();
                child.wait().unwrap();
                panic!("show {args:?} still waiting on the FIFO after 10 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let output = child.wait_with_output().unwrap();
        assert_exit(&output, 2, &format!("show {args:?}"));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(want.as_str()), "show {args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "show {args:?} printed something");
    }
}

/// A sparse file far over any message size and a device are refused by
/// name, before anything is allocated for them.
#[test]
fn huge_sparse_files_and_devices_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let sparse = dir.path().join("sparse-200g");
    std::fs::File::create(&sparse)
        .unwrap()
        .set_len(200 << 30)
        .unwrap();
    let output = run(qsurgeon()
        .arg("show")
        .arg(&sparse)
        .arg("/dev/zero")
        .arg(testdata("postfix-samples/24D1398E021.smtputf8-sender")));
    assert_exit(&output, 2, "show on a sparse file and /dev/zero");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "{}: 214748364800 bytes, over show's limit of 1073741824 bytes (1 GiB)",
            sparse.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("/dev/zero: not a regular file (a character device)"),
        "{stderr}"
    );
    // The good file after them is still shown.
    assert!(
        output.stdout.starts_with(b"*** ENVELOPE RECORDS "),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

/// `show -q ID` on what the postfix user can plant under a queue ID: a
/// symlink to `/etc/shadow` or `/dev/zero`, a directory, a sparse file far
/// over the queue-file limit. Each is refused by path, nothing of it is
/// printed, and the real message given after them is still shown.
#[test]
fn show_q_refuses_symlinks_directories_and_huge_files_planted_under_an_id() {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path();
    for sub in ["deferred/A", "deferred/B", "deferred/E", "hold", "active"] {
        std::fs::create_dir_all(q.join(sub)).unwrap();
    }
    std::fs::copy(
        testdata("postfix-samples/A45E798E3F5.smtp-sasl-dsn-longheader"),
        q.join("deferred/A/A45E798E3F5"),
    )
    .unwrap();
    std::os::unix::fs::symlink("/etc/shadow", q.join("deferred/B/B1B2C3D4E5F")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", q.join("hold/C1B2C3D4E5F")).unwrap();
    std::fs::create_dir(q.join("active/D1B2C3D4E5F")).unwrap();
    std::fs::File::create(q.join("deferred/E/E1B2C3D4E5F"))
        .unwrap()
        .set_len(200 << 30)
        .unwrap();
    let cases = [
        (
            "B1B2C3D4E5F",
            "deferred/B/B1B2C3D4E5F",
            "a symbolic link, not a regular file; not read",
        ),
        (
            "C1B2C3D4E5F",
            "hold/C1B2C3D4E5F",
            "a symbolic link, not a regular file; not read",
        ),
        (
            "D1B2C3D4E5F",
            "active/D1B2C3D4E5F",
            "a directory, not a regular file; not read",
        ),
        (
            "E1B2C3D4E5F",
            "deferred/E/E1B2C3D4E5F",
            "214748364800 bytes, larger than the",
        ),
    ];
    let mut args: Vec<&str> = vec!["show", "-q"];
    args.extend(cases.iter().map(|(id, _, _)| *id));
    args.push("A45E798E3F5");
    let started = Instant::now();
    let output = run(qsurgeon().arg("--queue-dir").arg(q).args(&args));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "show -q took {:?}",
        started.elapsed()
    );
    assert_exit(&output, 2, "show -q on planted files");
    let stderr = String::from_utf8_lossy(&output.stderr);
    for (id, rel, problem) in cases {
        let want = format!("queue file {id}: {}: {problem}", q.join(rel).display());
        assert!(stderr.contains(&want), "{id}: want {want:?} in {stderr}");
    }
    // Only the real message is printed: one envelope, its own.
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        stdout.matches("*** ENVELOPE RECORDS").count(),
        1,
        "{stdout}"
    );
    assert!(
        stdout.starts_with("*** ENVELOPE RECORDS deferred/A/A45E798E3F5 ***\n"),
        "{stdout}"
    );
    if let Ok(shadow) = std::fs::read_to_string("/etc/shadow") {
        let root_line = shadow
            .lines()
            .find(|l| l.starts_with("root:"))
            .unwrap_or("root:");
        assert!(!stdout.contains(root_line), "/etc/shadow printed");
    }
}
