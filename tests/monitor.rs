//! `metrics` and `check` (issue 12) against real Postfix.
//!
//! `metrics`' output is read back by a real Prometheus text parser (Debian's
//! python3-prometheus-client, `prometheus_client.parser`, which
//! `scripts/install-test-deps.sh` installs), and its numbers are compared
//! with `postqueue -j` on the same instance. Label values a stranger chose
//! (a SASL login with `"`, `\`, a newline, bytes that are not UTF-8) must
//! come back exactly. `check` runs on an instance into which one SASL user
//! injected a burst through real smtpd: each exit status (OK, WARNING,
//! CRITICAL, UNKNOWN) is reached, the culprit is named, the perfdata parses.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output, Stdio};

use queue_file::QueueFileBuilder;
use serde_json::Value;

use crate::postfix::{label, require_postfix, IdStyle, Instance, REDIRECT_TARGET, SPAMMER};
use crate::util::{assert_exit, qsurgeon, run};

/// Debian's Python, which sees Debian's python3-prometheus-client (a pyenv
/// or venv `python3` earlier in PATH would not).
const PYTHON: &str = "/usr/bin/python3";

/// Reads an exposition on stdin with prometheus_client's parser; prints
/// every sample as JSON (family, type, sample name, labels, value).
const PARSE: &str = r#"
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        out.append({"family": fam.name, "type": fam.type, "name": s.name,
                    "labels": s.labels, "value": s.value})
json.dump(out, sys.stdout)
"#;

/// True when the parser can run; otherwise "skipped" (or a panic when the
/// real-Postfix tests are required, as in CI).
fn require_parser() -> bool {
    let found = Command::new(PYTHON)
        .args(["-c", "import prometheus_client.parser"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if found {
        return true;
    }
    let why =
        "python3-prometheus-client is not installed (scripts/install-test-deps.sh installs it)";
    if std::env::var("QSURGEON_REQUIRE_POSTFIX").as_deref() == Ok("1") {
        panic!("{why}");
    }
    eprintln!("skipped: {why}");
    false
}

/// One parsed sample.
#[derive(Debug, Clone)]
struct Sample {
    family: String,
    kind: String,
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses an exposition with the real parser (panics if it refuses it) and
/// checks that no two samples have the same name and labels.
fn parse(text: &[u8]) -> Vec<Sample> {
    let mut child = Command::new(PYTHON)
        .args(["-c", PARSE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python3");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(text).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "prometheus_client refused the exposition: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(text)
    );
    let json: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let samples: Vec<Sample> = json
        .into_iter()
        .map(|v| Sample {
            family: v["family"].as_str().unwrap().to_string(),
            kind: v["type"].as_str().unwrap().to_string(),
            name: v["name"].as_str().unwrap().to_string(),
            labels: v["labels"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect(),
            value: v["value"].as_f64().unwrap(),
        })
        .collect();
    let mut seen = BTreeSet::new();
    for s in &samples {
        assert!(
            seen.insert((s.name.clone(), s.labels.clone())),
            "duplicate sample {s:?}"
        );
    }
    samples
}

/// The value of the one sample `name` with exactly these labels.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let want: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let found: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.name == name && s.labels == want)
        .collect();
    assert_eq!(found.len(), 1, "{name} {labels:?}: {found:?}");
    found[0].value
}

/// The top rows of `dimension` as (key, messages, recipients), in file order.
fn top_rows(samples: &[Sample], dimension: &str) -> Vec<(String, u64, u64)> {
    samples
        .iter()
        .filter(|s| s.name == "qsurgeon_top_messages" && s.labels["dimension"] == dimension)
        .map(|s| {
            let key = s.labels["key"].clone();
            let rcpts = value(
                samples,
                "qsurgeon_top_recipients",
                &[("dimension", dimension), ("key", &key)],
            );
            (key, s.value as u64, rcpts as u64)
        })
        .collect()
}

fn domain(address: &str) -> String {
    address
        .rsplit_once('@')
        .map(|(_, d)| d.to_lowercase())
        .unwrap_or_default()
}

/// Per key: (messages, recipients), counted the documented way from
/// `postqueue -j` records: `keys` gives a record's keys with the recipients
/// each carries.
fn expected_table(
    records: &[Value],
    keys: impl Fn(&Value) -> Vec<(String, u64)>,
) -> BTreeMap<String, (u64, u64)> {
    let mut table: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for r in records {
        for (key, rcpts) in keys(r) {
            let e = table.entry(key).or_default();
            e.0 += 1;
            e.1 += rcpts;
        }
    }
    table
}

/// A top table's rows (key, messages, recipients), then the (messages,
/// recipients) of the other keys and of the empty key.
type Ranked = (Vec<(String, u64, u64)>, (u64, u64), (u64, u64));

/// The documented ranking: most messages, then most recipients, then key;
/// the first `n` rows, and the sum of the others. The empty key is apart.
fn ranked(mut table: BTreeMap<String, (u64, u64)>, n: usize) -> Ranked {
    let none = table.remove("").unwrap_or_default();
    let mut rows: Vec<(String, u64, u64)> =
        table.into_iter().map(|(k, (m, r))| (k, m, r)).collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
    let other = rows[n.min(rows.len())..]
        .iter()
        .fold((0, 0), |acc, r| (acc.0 + r.1, acc.1 + r.2));
    rows.truncate(n);
    (rows, other, none)
}

/// Checks a dimension's rows, other and none samples against `table`.
fn assert_top(samples: &[Sample], dimension: &str, table: BTreeMap<String, (u64, u64)>, n: usize) {
    let distinct = table.keys().filter(|k| !k.is_empty()).count();
    let (rows, other, none) = ranked(table, n);
    assert_eq!(top_rows(samples, dimension), rows, "{dimension}: top rows");
    let dim = [("dimension", dimension)];
    let got = |name: &str| value(samples, name, &dim) as u64;
    assert_eq!(
        (
            got("qsurgeon_top_other_messages"),
            got("qsurgeon_top_other_recipients")
        ),
        other,
        "{dimension}: other"
    );
    assert_eq!(
        (
            got("qsurgeon_top_none_messages"),
            got("qsurgeon_top_none_recipients")
        ),
        none,
        "{dimension}: none"
    );
    assert_eq!(
        got("qsurgeon_top_distinct_keys"),
        distinct as u64,
        "{dimension}: distinct"
    );
}

const QUEUES: [&str; 5] = ["maildrop", "incoming", "active", "deferred", "hold"];
/// The histogram's bounds (qshape's columns, in seconds).
const BOUNDS: [i64; 9] = [300, 600, 1200, 2400, 4800, 9600, 19_200, 38_400, 76_800];

/// `metrics` on the bed (every queue populated, the spammer's 30 messages):
/// parsed by prometheus_client, per-queue numbers as `postqueue -j` gives
/// them, the histogram and the top tables recomputed from postqueue's
/// records.
#[test]
fn metrics_of_the_bed_parse_and_agree_with_postqueue() {
    if !require_postfix() || !require_parser() {
        return;
    }
    let bed = Instance::shared(IdStyle::Short);
    let output = run(qsurgeon()
        .arg("-c")
        .arg(&bed.config_dir)
        .args(["metrics", "--top", "3"]));
    assert_exit(&output, 0, "metrics");
    let samples = parse(&output.stdout);
    // postqueue lists, besides a message's envelope recipients, every recipient of its
    // defer log (showq.c): for the header_checks REDIRECT message that is the redirect
    // target, which is not a recipient of the envelope; metrics counts the envelope's
    // to-do recipients (what postsuper would act on), so the target is left out here.
    let mut records = bed.postqueue_json();
    assert!(records.len() > 50, "the bed is populated");
    let redirected = bed.id_of(label::REDIRECT);
    for r in &mut records {
        if r["queue_id"] == redirected {
            let rcpts = r["recipients"].as_array_mut().unwrap();
            let before = rcpts.len();
            rcpts.retain(|x| x["address"] != REDIRECT_TARGET);
            assert_eq!(rcpts.len(), before - 1, "{r}");
        }
    }

    let kinds: BTreeMap<&str, &str> = samples
        .iter()
        .map(|s| (s.family.as_str(), s.kind.as_str()))
        .collect();
    assert_eq!(kinds["qsurgeon_message_age_seconds"], "histogram");
    assert_eq!(kinds["qsurgeon_queue_messages"], "gauge");
    assert_eq!(value(&samples, "qsurgeon_scan_errors", &[]), 0.0);
    assert_eq!(value(&samples, "qsurgeon_scan_success", &[]), 1.0);
    assert!(value(&samples, "qsurgeon_scan_duration_seconds", &[]) > 0.0);
    let scanned_at = value(&samples, "qsurgeon_scan_timestamp_seconds", &[]) as i64;

    for queue in QUEUES {
        let mine: Vec<&Value> = records
            .iter()
            .filter(|r| r["queue_name"] == queue)
            .collect();
        let q = [("queue", queue)];
        let messages = mine.len() as f64;
        let bytes: u64 = mine
            .iter()
            .map(|r| r["message_size"].as_u64().unwrap())
            .sum();
        let rcpts: usize = mine
            .iter()
            .map(|r| r["recipients"].as_array().unwrap().len())
            .sum();
        assert_eq!(
            value(&samples, "qsurgeon_queue_messages", &q),
            messages,
            "{queue}"
        );
        assert_eq!(
            value(&samples, "qsurgeon_queue_bytes", &q),
            bytes as f64,
            "{queue}"
        );
        assert_eq!(
            value(&samples, "qsurgeon_queue_recipients", &q),
            rcpts as f64,
            "{queue}"
        );
        let arrivals: Vec<i64> = mine
            .iter()
            .map(|r| r["arrival_time"].as_i64().unwrap())
            .collect();
        let oldest = value(&samples, "qsurgeon_queue_oldest_age_seconds", &q) as i64;
        let want = arrivals.iter().min().map_or(0, |a| scanned_at - a);
        assert!(
            (oldest - want).abs() <= 2,
            "{queue}: oldest {oldest}, postqueue {want}"
        );
        // The histogram: cumulative, +Inf = _count = messages, and each bucket as the
        // arrival times say (unless a message sits within 2 s of a bound).
        let name = "qsurgeon_message_age_seconds";
        assert_eq!(value(&samples, &format!("{name}_count"), &q), messages);
        assert_eq!(
            value(
                &samples,
                &format!("{name}_bucket"),
                &[("queue", queue), ("le", "+Inf")]
            ),
            messages
        );
        let near_a_bound = arrivals
            .iter()
            .any(|a| BOUNDS.iter().any(|b| ((scanned_at - a) - b).abs() <= 2));
        let mut previous = 0.0;
        for bound in BOUNDS {
            let le = bound.to_string();
            let got = value(
                &samples,
                &format!("{name}_bucket"),
                &[("queue", queue), ("le", &le)],
            );
            assert!(got >= previous, "{queue}: buckets are cumulative");
            previous = got;
            if !near_a_bound {
                let want = arrivals.iter().filter(|a| scanned_at - *a <= bound).count();
                assert_eq!(got, want as f64, "{queue} le={bound}");
            }
        }
    }

    // The top tables, recomputed from postqueue's records.
    let todo = |r: &Value| r["recipients"].as_array().unwrap().len() as u64;
    assert_top(
        &samples,
        "sender_domain",
        expected_table(&records, |r| {
            vec![(domain(r["sender"].as_str().unwrap()), todo(r))]
        }),
        3,
    );
    assert_top(
        &samples,
        "recipient_domain",
        expected_table(&records, |r| {
            let mut per: BTreeMap<String, u64> = BTreeMap::new();
            for rcpt in r["recipients"].as_array().unwrap() {
                *per.entry(domain(rcpt["address"].as_str().unwrap()))
                    .or_default() += 1;
            }
            if per.is_empty() {
                per.insert(String::new(), 0);
            }
            per.into_iter().collect()
        }),
        3,
    );
    // postqueue does not show SASL logins: the spammer's messages are the bed's `spam-*`.
    let spam: BTreeSet<&str> = bed
        .labels
        .iter()
        .filter(|(label, _)| label.starts_with("spam-"))
        .map(|(_, id)| id.as_str())
        .collect();
    assert_eq!(spam.len(), 30);
    let spam_rcpts: u64 = records
        .iter()
        .filter(|r| spam.contains(r["queue_id"].as_str().unwrap()))
        .map(todo)
        .sum();
    let sasl = top_rows(&samples, "sasl_user");
    assert_eq!(sasl[0], (SPAMMER.to_string(), 30, spam_rcpts), "{sasl:?}");
    // A single-valued dimension accounts for every message once.
    for dim in ["sasl_user", "sender_domain", "client_net"] {
        let d = [("dimension", dim)];
        let sum = top_rows(&samples, dim).iter().map(|r| r.1).sum::<u64>() as f64
            + value(&samples, "qsurgeon_top_other_messages", &d)
            + value(&samples, "qsurgeon_top_none_messages", &d);
        assert_eq!(sum, records.len() as f64, "{dim}");
    }
}

/// A queue (`--queue-dir`) whose SASL logins, sender domains, client
/// addresses and recipient domains hold `"`, `\`, newlines and bytes that
/// are not UTF-8: the exposition stays valid and every label value comes
/// back as it was; two logins that differ only in invalid bytes become one
/// sample, not two with the same labels.
#[test]
fn hostile_label_values_stay_valid() {
    if !require_parser() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let hostile_user: &[u8] = b"mal\"lory\\\nx{y=\"z\"} 1";
    let place = |id: &str, user: &[u8], sender: &[u8], client: &[u8], rcpt: &[u8]| {
        let file = QueueFileBuilder::new(sender, now - 600)
            .attr_before_sender("sasl_username", user)
            .attr("client_address", client)
            .recipient(rcpt)
            .line(b"Subject: x")
            .line(b"")
            .line(b"body")
            .build();
        let path = dir.path().join("deferred").join(&id[..1]).join(id);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, file).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).unwrap();
    };
    place(
        "A1B2C3D4E51",
        hostile_user,
        b"x@ev\"il\\.example",
        b"un\"kn\nown",
        b"v@quo\"te\\d.example",
    );
    place(
        "A1B2C3D4E52",
        hostile_user,
        b"y@plain.example",
        b"192.0.2.7",
        b"w@plain.example",
    );
    place(
        "A1B2C3D4E53",
        b"bad\xff",
        b"z@plain.example",
        b"192.0.2.8",
        b"w@plain.example",
    );
    place(
        "A1B2C3D4E54",
        b"bad\xfe",
        b"z@plain.example",
        b"192.0.2.9",
        b"w@plain.example",
    );
    let output = run(qsurgeon().arg("--queue-dir").arg(dir.path()).arg("metrics"));
    assert_exit(&output, 0, "metrics on the hostile queue");
    let samples = parse(&output.stdout);
    let user = String::from_utf8(hostile_user.to_vec()).unwrap();
    assert_eq!(
        top_rows(&samples, "sasl_user"),
        // Equal counts: by key.
        [("bad\u{fffd}".to_string(), 2, 2), (user, 2, 2)]
    );
    assert!(top_rows(&samples, "sender_domain").contains(&("ev\"il\\.example".to_string(), 1, 1)));
    let nets = top_rows(&samples, "client_net");
    assert!(
        nets.contains(&("un\"kn\nown".to_string(), 1, 1)),
        "{nets:?}"
    );
    assert!(top_rows(&samples, "recipient_domain").contains(&(
        "quo\"te\\d.example".to_string(),
        1,
        1
    )));
    assert_eq!(
        value(
            &samples,
            "qsurgeon_queue_messages",
            &[("queue", "deferred")]
        ),
        4.0
    );
}

/// `metrics --output FILE`: the file is replaced whole, mode 0644 under
/// umask 077, no temporary file is left, and it parses.
#[test]
fn metrics_output_file_is_replaced_atomically() {
    if !require_postfix() || !require_parser() {
        return;
    }
    let bed = Instance::shared(IdStyle::Short);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("qsurgeon.prom");
    std::fs::write(&file, "stale\n").unwrap();
    for _ in 0..2 {
        let output = run(Command::new("sh")
            .arg("-c")
            .arg("umask 077; exec \"$0\" -c \"$1\" metrics --output \"$2\"")
            .arg(env!("CARGO_BIN_EXE_qsurgeon"))
            .arg(&bed.config_dir)
            .arg(&file));
        assert_exit(&output, 0, "metrics --output");
        assert!(output.stdout.is_empty());
    }
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o644);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["qsurgeon.prom"]);
    let samples = parse(&std::fs::read(&file).unwrap());
    let total: f64 = QUEUES
        .iter()
        .map(|q| value(&samples, "qsurgeon_queue_messages", &[("queue", q)]))
        .sum();
    assert_eq!(total, bed.postqueue_json().len() as f64);
}

/// `--all-instances`: one exposition, every sample labelled with its
/// postmulti instance, each instance's numbers its own.
#[test]
fn metrics_of_all_instances_carry_the_instance_label() {
    if !require_postfix() || !require_parser() {
        return;
    }
    let (primary, second, shared_ids) = crate::instances::twin_instances();
    let output = crate::instances::qsurgeon_in_namespace(
        &primary.config_dir,
        &["--all-instances", "metrics", "--top", "2"],
    );
    assert_exit(&output, 0, "metrics --all-instances");
    let samples = parse(&output.stdout);
    for s in &samples {
        let instance = s.labels.get("postfix_instance").map(String::as_str);
        assert!(matches!(instance, Some("-" | "postfix-b")), "{s:?}");
    }
    for (name, instance) in [("-", &primary), ("postfix-b", &second)] {
        let records = instance.postqueue_json();
        for queue in QUEUES {
            let want = records.iter().filter(|r| r["queue_name"] == queue).count();
            let labels = [("postfix_instance", name), ("queue", queue)];
            assert_eq!(
                value(&samples, "qsurgeon_queue_messages", &labels),
                want as f64,
                "{name} {queue}"
            );
        }
    }
    let labels = [("postfix_instance", "postfix-b"), ("queue", "deferred")];
    assert_eq!(
        value(&samples, "qsurgeon_queue_messages", &labels),
        shared_ids.len() as f64
    );
}

/// Runs `qsurgeon -c CONFIG check ARGS`.
fn check(instance: &Instance, args: &[&str]) -> Output {
    run(qsurgeon()
        .arg("-c")
        .arg(&instance.config_dir)
        .arg("check")
        .args(args))
}

/// The status line and the perfdata of a check's output, with its checks:
/// exactly one line, one ` | `, every perfdata item
/// `label=value[UOM];[warn];[crit];0`.
fn status_and_perf(output: &Output) -> (String, BTreeMap<String, (u64, String, String)>) {
    let text = String::from_utf8(output.stdout.clone()).expect("UTF-8 status line");
    assert_eq!(text.lines().count(), 1, "one line: {text:?}");
    assert!(!text.trim_end().chars().any(char::is_control), "{text:?}");
    let (status, perf) = text
        .trim_end()
        .split_once(" | ")
        .unwrap_or_else(|| panic!("no perfdata: {text}"));
    assert!(!perf.contains('|'), "{text}");
    let mut items = BTreeMap::new();
    for item in perf.split(' ') {
        let (label, rest) = item.split_once('=').expect("label=value");
        let fields: Vec<&str> = rest.split(';').collect();
        assert_eq!(fields.len(), 4, "{item}");
        let number = fields[0].trim_end_matches(['s', 'B']);
        let unit = &fields[0][number.len()..];
        assert!(["", "s", "B"].contains(&unit), "{item}");
        let v: u64 = number.parse().unwrap_or_else(|_| panic!("{item}"));
        for t in &fields[1..3] {
            assert!(t.is_empty() || t.parse::<u64>().is_ok(), "{item}");
        }
        assert_eq!(fields[3], "0", "{item}");
        items.insert(
            label.to_string(),
            (v, fields[1].to_string(), fields[2].to_string()),
        );
    }
    (status.to_string(), items)
}

/// `check` on an instance where one SASL login (with `"`, `\` and `|` in
/// it) injected a burst through smtpd: OK, WARNING, CRITICAL and UNKNOWN
/// each by its exit status, the culprit named, the perfdata parseable; and
/// `metrics` gives the same login back exactly as Postfix stored it.
#[test]
fn check_states_on_a_burst_from_one_sasl_user() {
    if !require_postfix() {
        return;
    }
    let inst = Instance::new_empty(IdStyle::Short);
    let empty = check(&inst, &["--warn-total", "0"]);
    assert_exit(&empty, 0, "check on an empty queue");
    let (status, perf) = status_and_perf(&empty);
    assert!(status.starts_with("QSURGEON OK - 0 messages"), "{status}");
    assert_eq!(perf["queue"], (0, "0".to_string(), String::new()));

    inst.start();
    let login = "mal\"lo\\ry|x";
    let burst: Vec<(&str, &str)> = (0..12)
        .map(|_| ("spam@ourdomain.example", "victim@remote.example"))
        .collect();
    let ids = inst.send_mails_as(login, "198.51.100.7", &burst);
    inst.send_mails_as(
        "alice",
        "192.0.2.1",
        &[("alice@ourdomain.example", "bob@remote.example")],
    );
    inst.wait_for_deferred(13);
    inst.stop();
    // What Postfix stored as the login (smtpd masks non-printable characters).
    let envelope = inst.postcat_q(&["-e"], &ids[0]);
    let stored = envelope
        .lines()
        .find_map(|l| l.strip_prefix("named_attribute: sasl_username="))
        .unwrap_or_else(|| panic!("no sasl_username in\n{envelope}"));
    assert_eq!(stored, login);
    let shown = "mal\"lo\\ry\\x7cx";

    let critical = check(&inst, &["--warn-per-user", "5", "--crit-per-user", "10"]);
    assert_exit(&critical, 2, "CRITICAL");
    let (status, perf) = status_and_perf(&critical);
    assert!(
        status.starts_with(&format!(
            "QSURGEON CRITICAL - SASL user {shown} has 12 messages from the last 15m (> 10); 13 messages"
        )),
        "{status}"
    );
    assert_eq!(perf["sasl_user_max"], (12, "5".into(), "10".into()));
    assert_eq!(perf["queue"].0, 13);
    assert_eq!(perf["recent"].0, 13);
    assert_eq!(perf["client_max"].0, 12);
    assert_eq!(perf["unreadable"].0, 0);

    let warning = check(&inst, &["--warn-per-user", "5", "--crit-per-user", "100"]);
    assert_exit(&warning, 1, "WARNING");
    let (status, _) = status_and_perf(&warning);
    assert!(
        status.starts_with(&format!("QSURGEON WARNING - SASL user {shown} has 12")),
        "{status}"
    );

    let sender = check(
        &inst,
        &["--warn-per-sender", "11", "--crit-per-client", "11"],
    );
    assert_exit(&sender, 2, "per sender and client");
    let (status, _) = status_and_perf(&sender);
    assert!(
        status.starts_with(
            "QSURGEON CRITICAL - client 198.51.100.7 has 12 messages from the last 15m (> 11); sender spam@ourdomain.example has 12 messages from the last 15m (> 11); "
        ),
        "{status}"
    );

    let ok = check(&inst, &["--warn-per-user", "100", "--warn-total", "13"]);
    assert_exit(&ok, 0, "OK");
    let (status, _) = status_and_perf(&ok);
    assert!(
        status.starts_with("QSURGEON OK - 13 messages, oldest "),
        "{status}"
    );
    assert!(
        status.contains(&format!("most: SASL user {shown} (12)")),
        "{status}"
    );

    let total = check(&inst, &["--warn-total", "12", "--crit-total", "13"]);
    assert_exit(&total, 1, "total");

    // Outside the window, the burst no longer counts; the oldest age does.
    std::thread::sleep(std::time::Duration::from_secs(3));
    let later = check(
        &inst,
        &["--window", "2s", "--crit-per-user", "1", "--crit-age", "1s"],
    );
    assert_exit(&later, 2, "age");
    let (status, perf) = status_and_perf(&later);
    assert!(
        status.starts_with("QSURGEON CRITICAL - oldest message "),
        "{status}"
    );
    assert!(!status.contains("SASL user"), "{status}");
    assert_eq!(perf["sasl_user_max"].0, 0);
    assert!(perf["oldest"].0 >= 3, "{perf:?}");

    // Once the burst is on hold, it is contained: no longer a burst, still in the queue.
    inst.run(
        inst.postsuper().args(["-h", "-"]),
        Some(ids.join("\n").as_bytes()),
    );
    let held = check(&inst, &["--crit-per-user", "10", "--crit-total", "12"]);
    assert_exit(&held, 2, "held burst");
    let (status, perf) = status_and_perf(&held);
    assert!(
        status.starts_with("QSURGEON CRITICAL - 13 messages in the queue (> 12); 13 messages"),
        "{status}"
    );
    assert_eq!(perf["sasl_user_max"].0, 1, "alice's message only");

    // UNKNOWN: bad flags (clap's and ours), a queue that cannot be read.
    for args in [
        &["--bogus"][..],
        &["--warn-total", "many"],
        &["--window", "15"],
        &["--crit-age", "2x"],
    ] {
        let out = check(&inst, args);
        assert_exit(&out, 3, &format!("check {args:?}"));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.starts_with("QSURGEON UNKNOWN - "), "{args:?}: {text}");
        assert_eq!(text.lines().count(), 1, "{text}");
    }
    let out = run(qsurgeon().args(["--threads", "0", "check"]));
    assert_exit(&out, 3, "bad global flag");
    let missing = inst.root.join("no-such-config");
    let out = run(qsurgeon().arg("-c").arg(&missing).arg("check"));
    assert_exit(&out, 3, "no such instance");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("QSURGEON UNKNOWN - "));

    // metrics reads the same login back exactly.
    if require_parser() {
        let output = run(qsurgeon().arg("-c").arg(&inst.config_dir).arg("metrics"));
        assert_exit(&output, 0, "metrics");
        let samples = parse(&output.stdout);
        assert_eq!(
            top_rows(&samples, "sasl_user"),
            [(login.to_string(), 12, 12), ("alice".to_string(), 1, 1)]
        );
    }
}

/// An unreadable queue file makes `check` UNKNOWN (it did not see the
/// whole queue) and `metrics` count it in `qsurgeon_scan_errors`.
#[test]
fn a_corrupt_file_is_unknown_and_counted() {
    if !require_parser() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let good = QueueFileBuilder::new(b"a@example.org", 1_700_000_000)
        .recipient(b"b@example.net")
        .line(b"x")
        .build();
    for (id, bytes) in [
        ("B1B2C3D4E51", &good[..]),
        ("B1B2C3D4E52", &good[..good.len() / 2]),
    ] {
        let path = dir.path().join("deferred/B").join(id);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let queue = |args: &[&str]| run(qsurgeon().arg("--queue-dir").arg(dir.path()).args(args));
    let out = queue(&["check"]);
    assert_exit(&out, 3, "check with a corrupt file");
    let (status, perf) = status_and_perf(&out);
    assert!(
        status.starts_with("QSURGEON UNKNOWN - 1 queue files could not be read"),
        "{status}"
    );
    assert_eq!(perf["unreadable"].0, 1);
    assert_eq!(perf["queue"].0, 1);
    // A CRITICAL threshold is not hidden behind it.
    assert_exit(&queue(&["check", "--crit-total", "0"]), 2, "critical wins");
    let out = queue(&["metrics"]);
    assert_exit(&out, 2, "metrics with a corrupt file");
    let samples = parse(&out.stdout);
    assert_eq!(value(&samples, "qsurgeon_scan_errors", &[]), 1.0);
    assert!(!out.stderr.is_empty());
}
