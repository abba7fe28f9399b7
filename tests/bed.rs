//! Sanity of the real-Postfix test bed (`tests/postfix`): what the other tests rely on,
//! checked with Postfix's own tools (postqueue, postcat), never with our decoder. Also holds
//! the `#[ignore]`d generator of `testdata/demo-queue` and a Postfix-free check of it.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::postfix::{
    label, message_files_in, postfix_processes, require_postfix, IdStyle, Instance, Options,
    Profile, AUTH_USER, FILTER_NEXTHOP, MESSAGE_QUEUES, NORMAL_USERS, OUR_DOMAIN, REDIRECT_TARGET,
    SPAMMER,
};

const BOTH: [IdStyle; 2] = [IdStyle::Short, IdStyle::Long];

#[test]
fn every_queue_holds_mail_for_both_id_styles() {
    if !require_postfix() {
        return;
    }
    for ids in BOTH {
        let bed = Instance::shared(ids);
        assert!(
            !bed.is_running(),
            "{ids:?}: the shared instance must be left stopped"
        );
        for queue in MESSAGE_QUEUES {
            assert!(
                !bed.files_in(queue).is_empty(),
                "{ids:?}: no message in {queue}"
            );
        }
        for file in bed.files_in("deferred") {
            assert!(
                bed.log_file("defer", &file.id).is_some(),
                "{ids:?}: no defer log for {file:?}"
            );
        }
    }
}

#[test]
fn labelled_messages_sit_in_their_queues() {
    if !require_postfix() {
        return;
    }
    let expected_queue = [
        (format!("{}-1", label::INCOMING), "incoming"),
        (format!("{}-2", label::INCOMING), "incoming"),
        (format!("{}-1", label::ACTIVE), "active"),
        (format!("{}-2", label::ACTIVE), "active"),
        (format!("{}-1", label::MAILDROP), "maildrop"),
        (format!("{}-2", label::MAILDROP), "maildrop"),
        (label::HELD_BY_HEADER.to_string(), "hold"),
        (label::HELD_BY_POSTSUPER.to_string(), "hold"),
        (label::NDR.to_string(), "deferred"),
        (label::EXPIRED.to_string(), "deferred"),
        (label::BIG.to_string(), "deferred"),
        (label::CONTENT_FILTER.to_string(), "deferred"),
        (label::HEADER_FILTER.to_string(), "deferred"),
        (label::REDIRECT.to_string(), "deferred"),
        (label::VERP.to_string(), "deferred"),
        (label::VERP_MAILDROP.to_string(), "maildrop"),
    ];
    for ids in BOTH {
        let bed = Instance::shared(ids);
        let queue_of: BTreeMap<String, String> = bed
            .message_files()
            .into_iter()
            .map(|f| (f.id, f.queue))
            .collect();
        for (label, queue) in &expected_queue {
            let id = bed.id_of(label);
            assert_eq!(
                queue_of.get(id).map(String::as_str),
                Some(*queue),
                "{ids:?}: {label} ({id})"
            );
        }
    }
}

#[test]
fn postqueue_lists_every_message_and_the_expected_senders() {
    if !require_postfix() {
        return;
    }
    for ids in BOTH {
        let bed = Instance::shared(ids);
        let listed = bed.postqueue_json();
        let listed_ids: BTreeSet<(String, String)> = listed
            .iter()
            .map(|m| (text(m, "queue_name"), text(m, "queue_id")))
            .collect();
        let files: BTreeSet<(String, String)> = bed
            .message_files()
            .into_iter()
            .map(|f| (f.queue, f.id))
            .collect();
        assert_eq!(listed_ids, files, "{ids:?}: postqueue -j vs the spool");

        let senders: BTreeSet<String> = listed.iter().map(|m| text(m, "sender")).collect();
        let mut wanted: Vec<String> = NORMAL_USERS
            .iter()
            .map(|u| format!("{u}@{OUR_DOMAIN}"))
            .collect();
        wanted.extend(
            [
                "MAILER-DAEMON",
                "dävé@ourdomain.example",
                "AA@ourdomain.example",
            ]
            .map(String::from),
        );
        wanted.push(format!("{}@{OUR_DOMAIN}", AUTH_USER.0));
        for sender in wanted {
            assert!(
                senders.contains(&sender),
                "{ids:?}: no message from {sender}: {senders:?}"
            );
        }
        let expired: Vec<String> = listed
            .iter()
            .filter(|m| m["forced_expire"] == Value::Bool(true))
            .map(|m| text(m, "queue_id"))
            .collect();
        assert_eq!(
            expired,
            [bed.id_of(label::EXPIRED)],
            "{ids:?}: force-expired messages"
        );
    }
}

#[test]
fn postcat_reads_every_message() {
    if !require_postfix() {
        return;
    }
    for ids in BOTH {
        let bed = Instance::shared(ids);
        let files = bed.message_files();
        assert!(
            files.len() >= 20,
            "{ids:?}: only {} message files",
            files.len()
        );
        for file in files {
            let out = bed.postcat_q(&["-e"], &file.id);
            let path = file.rel_path.display();
            assert!(
                out.starts_with(&format!("*** ENVELOPE RECORDS {path} ***\n")),
                "{out}"
            );
            assert!(
                out.contains(&format!("*** MESSAGE FILE END {path} ***\n")),
                "{out}"
            );
        }
    }
}

#[test]
fn big_and_many_recipient_messages_exist() {
    if !require_postfix() {
        return;
    }
    for ids in BOTH {
        let bed = Instance::shared(ids);
        let listed = bed.postqueue_json();
        let by_id = |id: &str| listed.iter().find(|m| m["queue_id"] == id).cloned();
        let big = by_id(bed.id_of(label::BIG)).expect("the big message in postqueue -j");
        let size = big["message_size"].as_u64().unwrap_or(0);
        assert!(
            size >= 5 * 1024 * 1024,
            "{ids:?}: big message is only {size} bytes"
        );

        let many = by_id(bed.id_of(label::MANY_RCPTS)).expect("the 150-recipient message");
        let rcpts = many["recipients"].as_array().cloned().unwrap_or_default();
        assert_eq!(
            rcpts.len(),
            150,
            "{ids:?}: recipients of the many-recipient message"
        );
        let domains: BTreeSet<String> = rcpts
            .iter()
            .filter_map(|r| text(r, "address").split_once('@').map(|d| d.1.to_string()))
            .collect();
        assert_eq!(domains.len(), 5, "{ids:?}: {domains:?}");
        assert!(
            rcpts.iter().all(|r| r.get("delay_reason").is_some()),
            "{ids:?}: reasons from the defer log"
        );
    }
}

#[test]
fn defer_logs_give_varied_reasons() {
    if !require_postfix() {
        return;
    }
    let bed = Instance::shared(IdStyle::Short);
    let reasons: BTreeSet<String> = bed
        .postqueue_json()
        .iter()
        .flat_map(|m| m["recipients"].as_array().cloned().unwrap_or_default())
        .filter_map(|r| r["delay_reason"].as_str().map(String::from))
        .collect();
    for wanted in [
        "Connection refused",
        "Greylisted, please try again later",
        "Too many messages",
    ] {
        assert!(
            reasons.iter().any(|r| r.contains(wanted)),
            "no reason with {wanted:?}: {reasons:?}"
        );
    }
}

#[test]
fn queue_files_carry_sasl_and_client_data() {
    if !require_postfix() {
        return;
    }
    for ids in BOTH {
        let bed = Instance::shared(ids);
        let env = |label: &str| bed.postcat_q(&["-e"], bed.id_of(label));
        let has = |label: &str, lines: &[&str]| {
            let out = env(label);
            for line in lines {
                assert!(
                    out.lines().any(|l| l == *line),
                    "{ids:?}: {label} lacks {line:?}:\n{out}"
                );
            }
        };
        has(
            "alice-1",
            &[
                "named_attribute: sasl_method=XCLIENT",
                "named_attribute: sasl_username=alice",
            ],
        );
        has(
            "alice-1",
            &[
                "named_attribute: client_address=192.0.2.10",
                "named_attribute: helo_name=alice-pc",
            ],
        );
        has(label::AUTH_PLAIN, &["named_attribute: sasl_method=PLAIN"]);
        has(
            label::AUTH_PLAIN,
            &[&format!(
                "named_attribute: sasl_username={}@{OUR_DOMAIN}",
                AUTH_USER.0
            )],
        );
        has(
            label::XCLIENT_NO_LOGIN,
            &["named_attribute: client_name=mail.partner.example"],
        );
        assert!(
            !env(label::XCLIENT_NO_LOGIN).contains("sasl_username="),
            "{ids:?}: no login"
        );
        has(
            label::XFORWARD,
            &[
                "named_attribute: log_ident=FILTER123",
                "named_attribute: log_client_address=198.51.100.23",
                "named_attribute: log_helo_name=helo.filter-client.example",
                "named_attribute: client_address=127.0.0.1",
            ],
        );

        // The spammer: many messages, forged senders in our own domain.
        let spam: Vec<&String> = bed
            .labels
            .iter()
            .filter(|(l, _)| l.starts_with(label::SPAM_PREFIX))
            .map(|(_, id)| id)
            .collect();
        assert!(
            spam.len() >= 20,
            "{ids:?}: only {} spam messages",
            spam.len()
        );
        let mut forged = BTreeSet::new();
        for id in spam {
            let out = bed.postcat_q(&["-e"], id);
            assert!(
                out.contains(&format!("named_attribute: sasl_username={SPAMMER}\n")),
                "{out}"
            );
            let sender = out
                .lines()
                .find_map(|l| l.strip_prefix("sender: "))
                .unwrap_or_default();
            assert!(
                sender.ends_with(&format!("@{OUR_DOMAIN}")),
                "{ids:?}: spam sender {sender}"
            );
            forged.insert(sender.to_string());
        }
        assert!(forged.len() >= 20, "{ids:?}: forged senders {forged:?}");
    }
}

#[test]
fn queue_files_carry_the_envelope_features() {
    if !require_postfix() {
        return;
    }
    for ids in BOTH {
        let bed = Instance::shared(ids);
        let has = |label: &str, flags: &[&str], lines: &[&str]| {
            let out = bed.postcat_q(flags, bed.id_of(label));
            for line in lines {
                assert!(
                    out.lines().any(|l| l == *line),
                    "{ids:?}: {label} lacks {line:?}:\n{out}"
                );
            }
        };
        let e = &["-e"][..];
        has(
            label::DSN,
            e,
            &[
                "named_attribute: envelope_id=QS-ENVID-0001",
                "named_attribute: ret_flags=2",
                "named_attribute: notify_flags=6",
                "named_attribute: dsn_orig_rcpt=rfc822;partner@remote.example",
                "named_attribute: notify_flags=8",
            ],
        );
        has(
            label::SMTPUTF8,
            e,
            &[
                "sender: dävé@ourdomain.example",
                "recipient: jörg@bücher.example",
            ],
        );
        has(label::EIGHT_BIT, e, &["named_attribute: encoding=8bit"]);
        has(
            label::QUOTED_LOCAL_PART,
            e,
            &["recipient: odd user@remote.example"],
        );
        has(
            label::PARTLY_DELIVERED,
            e,
            &[
                "done_recipient: gone@discard.example",
                "recipient: stays@remote.example",
            ],
        );
        has(
            label::VIRTUAL_ALIAS,
            e,
            &[
                "original_recipient: sales@alias.example",
                "recipient: alice.sales@remote.example",
            ],
        );
        has(label::NULL_SENDER, e, &["sender: "]);
        has(
            label::NDR,
            e,
            &["sender: ", "named_attribute: log_message_origin=local"],
        );
        has(
            label::BOUNCE_SOURCE,
            e,
            &["done_recipient: nobody@bounce.example"],
        );
        // An unreachable Milter still makes cleanup write padding and dummy pointers.
        let milter = format!("{}-1", label::MILTER);
        let verbose = bed.postcat_q(&["-v"], bed.id_of(&milter));
        assert!(
            verbose.contains("\npointer_record: "),
            "{ids:?}: no p record:\n{verbose}"
        );
        assert!(
            verbose.contains("\npadding: "),
            "{ids:?}: no w record:\n{verbose}"
        );
        let plain = bed.postcat_q(&["-v"], bed.id_of("alice-1"));
        assert!(
            !plain.contains("\npointer_record: "),
            "{ids:?}: p record without a Milter"
        );

        let headers = bed.postcat_q(&["-h"], bed.id_of(label::LONG_HEADERS));
        let long = headers
            .lines()
            .find(|l| l.starts_with("X-Long-Header: "))
            .unwrap_or_default();
        assert!(
            long.len() > 5000,
            "{ids:?}: long header is {} bytes",
            long.len()
        );
        let folded_start = headers
            .find("X-Folded-Header: ")
            .expect("the folded header");
        let folded: usize = headers[folded_start..]
            .lines()
            .enumerate()
            .take_while(|(i, l)| *i == 0 || l.starts_with('\t'))
            .map(|(_, l)| l.len() + 1)
            .sum();
        assert!(folded > 6000, "{ids:?}: folded header is {folded} bytes");
    }
}

/// The records real servers write that the rest of the bed lacks (issue 13): each is in its
/// message, in the segment Postfix puts it in, as real `postcat -e` prints it, and in no other
/// message of the bed (so that adding them changed nothing else).
#[test]
fn queue_files_carry_filter_redirect_verp_and_warning_records() {
    if !require_postfix() {
        return;
    }
    // (label, record line, in the extracted segment?)
    let filter = format!("content_filter: {FILTER_NEXTHOP}");
    let redirect = format!("redirect_to: {REDIRECT_TARGET}");
    let expected: [(&str, &str, bool); 5] = [
        (label::CONTENT_FILTER, &filter, false),
        (label::HEADER_FILTER, &filter, true),
        (label::REDIRECT, &redirect, true),
        (label::VERP, "verp_delimiters: -=", false),
        (label::VERP_MAILDROP, "verp_delimiters: +=", false),
    ];
    for ids in BOTH {
        let bed = Instance::shared(ids);
        for (label, line, extracted) in expected {
            let out = bed.postcat_q(&["-e"], bed.id_of(label));
            let at = out.lines().position(|l| l == line);
            let xtra = out
                .lines()
                .position(|l| l.starts_with("*** HEADER EXTRACTED "));
            let (Some(at), Some(xtra)) = (at, xtra) else {
                panic!("{ids:?}: {label} lacks {line:?}:\n{out}");
            };
            assert_eq!(at > xtra, extracted, "{ids:?}: segment of {line:?}:\n{out}");
        }
        // cleanup_warn (delay_warning_time = 4h) gives the filtered mail a W record 4 h after
        // its arrival; postcat prints both with asctime().
        let out = bed.postcat_q(&["-e"], bed.id_of(label::CONTENT_FILTER));
        let time_of = |name: &str| {
            out.lines()
                .find_map(|l| l.strip_prefix(name))
                .unwrap_or_else(|| panic!("{ids:?}: no {name:?}:\n{out}"))
                .to_string()
        };
        let (arrival, warning) = (
            time_of("message_arrival_time: "),
            time_of("warning_message_time: "),
        );
        // asctime: "Fri Dec  4 22:31:04 2026"; 4 h later, same minutes and seconds.
        let clock = |t: &str| -> (u32, String) {
            let hms = t.split_whitespace().nth(3).unwrap_or_default();
            let (h, ms) = hms.split_once(':').unwrap_or_default();
            (h.parse().unwrap_or(99), ms.to_string())
        };
        let ((ha, msa), (hw, msw)) = (clock(&arrival), clock(&warning));
        assert!(
            ha < 24 && hw == (ha + 4) % 24 && msa == msw,
            "{ids:?}: arrival {arrival:?}, warning {warning:?}"
        );

        // No other message has any of these records.
        let special: BTreeSet<&str> = expected.iter().map(|(l, _, _)| *l).collect();
        let mut others = 0;
        for file in bed.message_files() {
            if bed
                .labels
                .iter()
                .any(|(l, id)| *id == file.id && special.contains(l.as_str()))
            {
                continue;
            }
            others += 1;
            let out = bed.postcat_q(&["-e"], &file.id);
            for prefix in [
                "content_filter: ",
                "redirect_to: ",
                "verp_delimiters: ",
                "warning_message_time: ",
            ] {
                assert!(
                    !out.lines().any(|l| l.starts_with(prefix)),
                    "{ids:?}: {} has a {prefix:?} record:\n{out}",
                    file.id
                );
            }
        }
        assert!(
            others >= 20,
            "{ids:?}: only {others} ordinary messages checked"
        );
        // postqueue lists the redirected message with two recipients: first the redirect
        // target, from the defer log (qmgr delivered to it and bounce(8) logged it, with the
        // original as orig_address), then the `R` record, which showq's duplicate filter
        // (keyed on the logged address) does not catch (showq.c, showq_report).
        let listed = bed.postqueue_json();
        let redirected = listed
            .iter()
            .find(|m| m["queue_id"] == bed.id_of(label::REDIRECT))
            .expect("the redirected message in postqueue -j");
        let rcpts: Vec<(String, bool)> = redirected["recipients"]
            .as_array()
            .expect("recipients")
            .iter()
            .map(|r| (text(r, "address"), r.get("delay_reason").is_some()))
            .collect();
        assert_eq!(
            rcpts,
            [
                (REDIRECT_TARGET.to_string(), true),
                ("intended@other.example".to_string(), false)
            ],
            "{ids:?}: {redirected}"
        );
    }
}

#[test]
fn queue_ids_follow_the_configured_style() {
    if !require_postfix() {
        return;
    }
    for ids in BOTH {
        let bed = Instance::shared(ids);
        let files = bed.message_files();
        assert!(
            files.len() >= 20,
            "{ids:?}: only {} message files",
            files.len()
        );
        for file in files {
            let ok = match ids {
                IdStyle::Short => is_short_id(&file.id),
                IdStyle::Long => is_long_id(&file.id),
            };
            assert!(
                ok,
                "{ids:?}: {} does not look like a {ids:?} queue ID",
                file.id
            );
        }
    }
}

#[test]
fn an_instance_starts_stops_and_cleans_up() {
    if !require_postfix() {
        return;
    }
    let bed = Instance::new_empty(IdStyle::Long);
    assert!(bed.message_files().is_empty());
    bed.start();
    assert!(bed.is_running());
    let status = bed
        .postfix()
        .arg("status")
        .status()
        .expect("run postfix status");
    assert!(status.success(), "postfix status after start");
    bed.stop();
    assert!(
        postfix_processes(&bed.config_dir).is_empty(),
        "processes left after stop"
    );

    // Dropping a running instance stops it and removes its directory.
    bed.start();
    let (config_dir, root) = (bed.config_dir.clone(), bed.root.clone());
    drop(bed);
    assert!(
        postfix_processes(&config_dir).is_empty(),
        "processes left after drop"
    );
    assert!(!root.exists(), "{} left after drop", root.display());
}

#[test]
fn hash_queue_depth_two_nests_deferred_files() {
    if !require_postfix() {
        return;
    }
    let options = Options {
        hash_queue_depth: 2,
        ..Options::new(IdStyle::Long, Some(Profile::Demo))
    };
    let bed = Instance::build(options);
    let deferred = bed.files_in("deferred");
    assert!(!deferred.is_empty());
    for file in &deferred {
        // deferred/<h1>/<h2>/<ID>; showq skips files at the wrong depth, so it must list them.
        assert_eq!(
            file.rel_path.components().count(),
            4,
            "{}",
            file.rel_path.display()
        );
        assert!(
            bed.log_file("defer", &file.id).is_some(),
            "defer log of {}",
            file.id
        );
    }
    let listed = bed.postqueue_json();
    assert_eq!(
        listed.len(),
        bed.message_files().len(),
        "postqueue -j vs the spool"
    );
}

/// `^[0-9A-F]{6,}$` (postfix-queue-format.md §6.2).
fn is_short_id(id: &str) -> bool {
    id.len() >= 6
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
}

/// Base-52 time (≥ 6 + 4 characters), `z`, base-51 inode (§6.3): split at the last `z`.
fn is_long_id(id: &str) -> bool {
    const BASE52: &str = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";
    let Some(z) = id.rfind('z') else { return false };
    let (time, inode) = (&id[..z], &id[z + 1..]);
    z >= 10
        && !inode.is_empty()
        && time.chars().all(|c| BASE52.contains(c))
        && inode.chars().all(|c| BASE52[..51].contains(c))
}

fn text(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap_or_default().to_string()
}

// ---------------------------------------------------------------------------------------------
// The demo queue in testdata/ (see testdata/README.md).

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

/// Regenerates `testdata/demo-queue` and the postqueue outputs that go with it:
/// `cargo test --test integration make_demo_queue -- --ignored`.
#[test]
#[ignore = "regenerates testdata/demo-queue; run on purpose"]
fn make_demo_queue() {
    assert!(
        require_postfix(),
        "make_demo_queue needs Postfix (scripts/install-test-deps.sh)"
    );
    let bed = Instance::build(Options::new(IdStyle::Short, Some(Profile::Demo)));
    let dest = testdata().join("demo-queue");
    if dest.exists() {
        fs::remove_dir_all(&dest).expect("remove the old testdata/demo-queue");
    }
    bed.copy_queue(&dest);
    for flag in ["-j", "-p"] {
        // Stopped: postqueue runs showq itself and warns "Mail system is down" on stderr.
        let out = bed.run(bed.postqueue().arg(flag), None);
        let name = format!("demo-queue.postqueue{flag}.out");
        fs::write(testdata().join(name), out.stdout).expect("write the postqueue output");
    }
    let settings = bed.run(bed.postconf().arg("-n"), None);
    let settings = String::from_utf8_lossy(&settings.stdout)
        .replace(&*bed.root.to_string_lossy(), "<instance>");
    fs::write(testdata().join("demo-queue.main.cf"), settings).expect("write demo-queue.main.cf");
    let size: u64 = walk(&dest)
        .iter()
        .map(|p| fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum();
    eprintln!(
        "demo queue: {} files, {size} bytes, labels {:?}",
        walk(&dest).len(),
        bed.labels
    );
    assert!(size < 300_000, "the demo queue grew to {size} bytes");
}

/// The committed demo queue agrees with its `postqueue -j` output, has defer logs for its
/// deferred mail, and message files keep their x bit (what git stores of 0700). No Postfix needed.
#[test]
fn demo_queue_matches_its_postqueue_output() {
    let dir = testdata().join("demo-queue");
    let listing = fs::read_to_string(testdata().join("demo-queue.postqueue-j.out"))
        .expect("read testdata/demo-queue.postqueue-j.out");
    let listed: Vec<Value> = listing
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect();
    let listed_ids: BTreeSet<(String, String)> = listed
        .iter()
        .map(|m| (text(m, "queue_name"), text(m, "queue_id")))
        .collect();
    let files = message_files_in(&dir);
    let file_ids: BTreeSet<(String, String)> = files
        .iter()
        .map(|f| (f.queue.clone(), f.id.clone()))
        .collect();
    assert_eq!(listed_ids, file_ids);
    for queue in ["deferred", "hold", "active"] {
        assert!(
            files.iter().any(|f| f.queue == queue),
            "no demo message in {queue}"
        );
    }
    for file in files.iter().filter(|f| f.queue == "deferred") {
        let log = dir
            .join("defer")
            .join(file.rel_path.strip_prefix("deferred").expect("deferred/…"));
        assert!(log.is_file(), "no defer log {}", log.display());
    }
    for file in &files {
        let mode = fs::metadata(dir.join(&file.rel_path))
            .expect("stat")
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o100,
            0o100,
            "{} lost its x bit",
            file.rel_path.display()
        );
    }
    let senders: Vec<String> = listed.iter().map(|m| text(m, "sender")).collect();
    let forged = senders
        .iter()
        .filter(|s| s.len() == 2 + 1 + OUR_DOMAIN.len())
        .count();
    assert!(
        forged >= 15,
        "expected the spammer's two-letter senders: {senders:?}"
    );
    assert!(
        senders.iter().any(|s| s == "MAILER-DAEMON"),
        "no bounce in the demo queue"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
