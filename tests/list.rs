//! `qsurgeon list` and `summary` on the demo queue (real queue files made
//! by real Postfix): every selection flag and expression form checked
//! against what real `postqueue -j` printed for the same queue, and the
//! exit codes.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::util::{assert_exit, qsurgeon, run, testdata};

/// `postqueue -j` over the demo queue, as real Postfix printed it.
fn postqueue_j() -> Vec<Value> {
    let text = std::fs::read_to_string(testdata("demo-queue.postqueue-j.out")).unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// IDs of the postqueue -j messages for which `pred` holds.
fn ids_where(pred: impl Fn(&Value) -> bool) -> BTreeSet<String> {
    postqueue_j()
        .iter()
        .filter(|m| pred(m))
        .map(|m| m["queue_id"].as_str().unwrap().to_string())
        .collect()
}

fn sender(m: &Value) -> &str {
    m["sender"].as_str().unwrap()
}

fn recipients(m: &Value) -> impl Iterator<Item = &Value> {
    m["recipients"].as_array().unwrap().iter()
}

/// `qsurgeon --queue-dir demo list ARGS --ids` as a set, with the exit code.
fn list_ids(args: &[&str]) -> (BTreeSet<String>, Option<i32>) {
    let output = run(qsurgeon()
        .arg("--queue-dir")
        .arg(crate::util::demo_queue())
        .arg("list")
        .args(args)
        .arg("--ids"));
    let stdout = String::from_utf8(output.stdout).unwrap();
    (
        stdout.lines().map(str::to_string).collect(),
        output.status.code(),
    )
}

/// One row: selection arguments, and which postqueue -j messages they must
/// select. `forged` = mallory's messages (forged A?@ourdomain.example senders).
macro_rules! selects {
    ($($name:ident: [$($arg:expr),*] => $pred:expr,)*) => {$(
        #[test]
        fn $name() {
            let args: &[&str] = &[$($arg),*];
            let want = ids_where($pred);
            let (got, code) = list_ids(args);
            assert_eq!(got, want, "list {args:?}");
            assert_eq!(code, Some(if want.is_empty() { 1 } else { 0 }), "exit code of list {args:?}");
        }
    )*};
}

fn forged(m: &Value) -> bool {
    let s = sender(m);
    s.len() == "AA@ourdomain.example".len()
        && s.starts_with('A')
        && s.ends_with("@ourdomain.example")
}

selects! {
    select_everything: [] => |_| true,
    select_sasl_user: ["--sasl-user", "mallory"] => forged,
    select_sasl_user_is_exact: ["--sasl-user", "MALLORY"] => |_| false,
    select_sasl_user_regex_ignoring_case: ["--sasl-user", "/^MALLORY$/i"] => forged,
    select_sender_glob: ["--sender", "A?@ourdomain.example"] => forged,
    select_sender_domain_ignores_case: ["--sender-domain", "OurDomain.Example"] => |m| sender(m).ends_with("@ourdomain.example"),
    select_null_sender_flag: ["--null-sender"] => |m| sender(m) == "MAILER-DAEMON",
    select_null_sender_value: ["--sender", "<>"] => |m| sender(m) == "MAILER-DAEMON",
    select_queue: ["--queue", "hold"] => |m| m["queue_name"] == "hold",
    select_queues: ["--queue", "active,hold"] => |m| m["queue_name"] == "hold" || m["queue_name"] == "active",
    select_recipient_domain: ["--recipient-domain", "greylist.example"] => |m| recipients(m).any(|r| r["address"].as_str().unwrap().ends_with("@greylist.example")),
    select_recipient_regex: ["--recipient", "/^victim1[0-9]@/"] => |m| recipients(m).any(|r| r["address"].as_str().unwrap().starts_with("victim1") && r["address"].as_str().unwrap().as_bytes()[7].is_ascii_digit() && r["address"].as_str().unwrap().as_bytes()[8] == b'@'),
    select_all_recipients: ["--recipient-domain", "greylist.example", "--all-recipients"] => |m| recipients(m).all(|r| r["address"].as_str().unwrap().ends_with("@greylist.example")),
    select_client_cidr: ["--client", "203.0.113.0/24"] => forged,
    // The forged mail comes from 203.0.113.66, alice's from 192.0.2.10, bob's from .11, dave's
    // from .12 (and the bounce from no client): a network holding only some of them.
    select_client_outside_cidr: ["--client", "192.0.2.0/24"] => |m| ["alice@ourdomain.example", "bob@ourdomain.example", "dave@ourdomain.example"].contains(&sender(m)),
    select_client_cidr_boundary: ["--client", "192.0.2.10/31"] => |m| sender(m) == "alice@ourdomain.example" || sender(m) == "bob@ourdomain.example",
    select_client_unused_cidr: ["--client", "198.51.100.0/24"] => |_| false,
    select_client_address: ["--client", "203.0.113.66"] => forged,
    select_client_glob: ["--client", "203.0.113.*"] => forged,
    select_client_regex: ["--where", r"client ~ /^203\.0\.113\./"] => forged,
    select_reason: ["--reason", "Greylisted"] => |m| recipients(m).any(|r| r["delay_reason"].as_str().unwrap_or("").contains("Greylisted")),
    select_reason_and_sasl: ["--reason", "slow down", "--sasl-user", "mallory"] => |m| forged(m) && recipients(m).any(|r| r["delay_reason"].as_str().unwrap_or("").contains("slow down")),
    select_newer_than_nothing: ["--newer-than", "1s"] => |_| false,
    select_larger_than: ["--larger-than", "1K"] => |m| m["message_size"].as_u64().unwrap() > 1024,
    select_smaller_than: ["--smaller-than", "500B"] => |m| m["message_size"].as_u64().unwrap() < 500,
    select_larger_than_zero_needs_no_unit: ["--larger-than", "0"] => |_| true,
    select_where_size_in_bytes: ["--where", "size >= 550b"] => |m| m["message_size"].as_u64().unwrap() >= 550,
    select_where_age_zero: ["--where", "age > 0"] => |_| true,
    select_id: ["--id", "D079698C534"] => |m| m["queue_id"] == "D079698C534",
    select_repeated_id_is_any: ["--id", "D079698C534", "--id", "0B83398C545"] => |m| m["queue_id"] == "D079698C534" || m["queue_id"] == "0B83398C545",
    select_repeated_flag_is_any: ["--sender", "AA@ourdomain.example", "--sender", "<>"] => |m| sender(m) == "AA@ourdomain.example" || sender(m) == "MAILER-DAEMON",
    select_repeated_flag_and_other_flag: ["--sender", "AA@ourdomain.example", "--sender", "<>", "--queue", "deferred"] => |m| (sender(m) == "AA@ourdomain.example" || sender(m) == "MAILER-DAEMON") && m["queue_name"] == "deferred",
    select_where_or: ["--where", "sasl_user = mallory or queue = hold"] => |m| forged(m) || m["queue_name"] == "hold",
    select_where_not: ["--where", "not sender_domain = ourdomain.example"] => |m| !sender(m).ends_with("@ourdomain.example"),
    select_where_parens: ["--where", "(queue = active or queue = hold) and not sasl_user = mallory"] => |m| m["queue_name"] == "active" || m["queue_name"] == "hold",
    // Most deferred mail is mallory's: here the `not` decides.
    select_where_parens_not_matters: ["--where", "(queue = deferred or queue = hold) and not sasl_user = mallory"] => |m| (m["queue_name"] == "deferred" || m["queue_name"] == "hold") && !forged(m),
    // Exact values are whole values: `mal` is not mallory, `A@…` not `AA@…`, a short ID not a
    // longer one (each beside a value that does select, so that the row is not empty).
    select_sasl_user_prefix_is_not_mallory: ["--where", "sasl_user = mal or sasl_user = alice"] => |m| sender(m) == "alice@ourdomain.example",
    select_sender_prefix_is_not_forged: ["--where", "sender = A@ourdomain.example or sender = <>"] => |m| sender(m) == "MAILER-DAEMON",
    select_id_prefix_is_not_the_id: ["--where", "id = D079698C53 or id = 0B83398C545"] => |m| m["queue_id"] == "0B83398C545",
    select_where_attribute: ["--where", "attr.log_client_address = 203.0.113.66"] => forged,
    select_flags_and_where_and_together: ["--sasl-user", "mallory", "--where", "recipient_domain = ratelimit.example"] => |m| forged(m) && recipients(m).any(|r| r["address"].as_str().unwrap().ends_with("@ratelimit.example")),
}

/// The demo queue's youngest and oldest ages in seconds, from real postqueue -j.
fn age_range() -> (i64, i64) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let arrivals: Vec<i64> = postqueue_j()
        .iter()
        .map(|m| m["arrival_time"].as_i64().unwrap())
        .collect();
    let youngest = now - arrivals.iter().max().unwrap();
    let oldest = now - arrivals.iter().min().unwrap();
    assert!(youngest > 7200, "the demo queue is hours old: {youngest}s");
    (youngest, oldest)
}

/// `--older-than` just under the youngest age selects everything, just over the oldest age
/// nothing: the flag is neither ignored nor always empty. (The demo mail arrived within one
/// second, so no threshold splits it.)
#[test]
fn select_older_than() {
    let (youngest, oldest) = age_range();
    let all = ids_where(|_| true);
    assert!(!all.is_empty());
    let under = format!("{}s", youngest - 3600);
    assert_eq!(list_ids(&["--older-than", &under]), (all, Some(0)));
    let over = format!("{}s", oldest + 3600);
    assert_eq!(
        list_ids(&["--older-than", &over]),
        (BTreeSet::new(), Some(1))
    );
}

/// `--newer-than` just over the oldest age selects everything, just under the youngest age
/// nothing.
#[test]
fn select_newer_than() {
    let (youngest, oldest) = age_range();
    let all = ids_where(|_| true);
    let over = format!("{}s", oldest + 3600);
    assert_eq!(list_ids(&["--newer-than", &over]), (all, Some(0)));
    let under = format!("{}s", youngest - 3600);
    assert_eq!(
        list_ids(&["--newer-than", &under]),
        (BTreeSet::new(), Some(1))
    );
}

#[test]
fn a_bad_expression_points_at_its_column_and_exits_2() {
    let output = run(qsurgeon()
        .arg("--queue-dir")
        .arg(crate::util::demo_queue())
        .args(["list", "--where", "age > 2d and sasl_user ="]));
    assert_exit(&output, 2, "bad --where");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("age > 2d and sasl_user ="), "{stderr}");
    assert!(stderr.contains('^'), "a caret under the column: {stderr}");
    let output = run(qsurgeon()
        .arg("--queue-dir")
        .arg(crate::util::demo_queue())
        .args(["list", "--older-than", "2 days"]));
    assert_exit(&output, 2, "bad duration");
    let output = run(qsurgeon()
        .arg("--queue-dir")
        .arg(crate::util::demo_queue())
        .args(["list", "--queue", "nosuchqueue"]));
    assert_exit(&output, 2, "bad queue");
}

/// `qsurgeon --queue-dir demo list ARGS` that must be refused with exit 2;
/// returns its standard error.
fn refused(args: &[&str]) -> String {
    let output = run(qsurgeon()
        .arg("--queue-dir")
        .arg(crate::util::demo_queue())
        .arg("list")
        .args(args));
    assert_exit(&output, 2, &format!("list {args:?}"));
    assert!(output.stdout.is_empty(), "list {args:?} printed messages");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_number_without_a_unit_is_refused_naming_the_units() {
    // It once meant seconds (bytes for sizes): `--older-than 5` selected
    // the whole demo queue.
    let stderr = refused(&["--older-than", "5"]);
    assert!(stderr.contains("--older-than"), "{stderr}");
    assert!(stderr.contains("s, m, h, d or w"), "{stderr}");
    assert!(
        stderr.contains("\n  5\n   ^"),
        "caret under the spot: {stderr}"
    );
    let stderr = refused(&["--newer-than", "90"]);
    assert!(
        stderr.contains("--newer-than") && stderr.contains("s, m, h, d or w"),
        "{stderr}"
    );
    for flag in ["--larger-than", "--smaller-than"] {
        let stderr = refused(&[flag, "30"]);
        assert!(
            stderr.contains(flag) && stderr.contains("B, K, M or G"),
            "{stderr}"
        );
    }
    let stderr = refused(&["--where", "sasl_user = mallory and age > 5"]);
    assert!(
        stderr.contains("s, m, h, d or w") && stderr.contains("column 32"),
        "{stderr}"
    );
    let stderr = refused(&["--where", "size < 30"]);
    assert!(stderr.contains("B, K, M or G"), "{stderr}");
}

#[test]
fn a_client_that_is_not_an_address_is_refused() {
    for bad in ["192.0.2.300", "not-an-ip", "203.0.113"] {
        let stderr = refused(&["--client", bad]);
        assert!(
            stderr.contains("--client")
                && stderr.contains(&format!("'{bad}' is not an IP address or CIDR block")),
            "{stderr}"
        );
        let stderr = refused(&["--where", &format!("client = {bad}")]);
        assert!(
            stderr.contains("is not an IP address or CIDR block"),
            "{stderr}"
        );
    }
}

#[test]
fn a_malformed_id_is_refused_even_alone() {
    let stderr = refused(&["--id", "not an id"]);
    assert!(stderr.contains("\"not an id\": not a queue ID"), "{stderr}");
    // mailq's marker copied along must not turn into a glob.
    let stderr = refused(&["--id", "D079698C534*"]);
    assert!(
        stderr.contains("\"D079698C534*\"") && stderr.contains("markers"),
        "{stderr}"
    );
}

/// An ID that is well formed but in no queue is named as such, next to
/// the ones that are there; a selection that matches nothing in a full
/// queue does not claim the queue is empty.
#[test]
fn ids_not_in_the_queue_are_named_and_a_full_queue_is_not_called_empty() {
    let present = postqueue_j()[0]["queue_id"].as_str().unwrap().to_string();
    let out = run(qsurgeon()
        .arg("--queue-dir")
        .arg(crate::util::demo_queue())
        .args([
            "list",
            "--ids",
            "--id",
            "0123456789A",
            "--id",
            &present,
            "--id",
            "0123456789A",
        ]));
    assert_exit(&out, 0, "one of the two IDs is there");
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{present}\n"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("0123456789A: not in the queue").count(),
        1,
        "named once: {stderr}"
    );
    assert!(!stderr.contains(&format!("{present}: not in")), "{stderr}");

    // Through --ids-from too, and with nothing there at all: exit 1.
    let out = ids_from_stdin("0123456789A\n");
    assert_exit(&out, 1, "only an absent ID");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("0123456789A: not in the queue"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // mailq text of a selection that matched nothing: no "Mail queue is
    // empty" (the queue holds 29 messages), just exit 1.
    let out = run(qsurgeon()
        .arg("--queue-dir")
        .arg(crate::util::demo_queue())
        .args(["list", "--sender", "nobody@nowhere.example"]));
    assert_exit(&out, 1, "nothing matched");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // `--count` still counts: 0.
    let count = run(qsurgeon()
        .arg("--queue-dir")
        .arg(crate::util::demo_queue())
        .args(["list", "--count", "--sender", "nobody@nowhere.example"]));
    assert_exit(&count, 1, "nothing matched");
    assert_eq!(String::from_utf8_lossy(&count.stdout), "0\n");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("scanned"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A mistyped `--queue-dir` (a missing directory, or one that holds no
/// queue) is an error naming it, not "Mail queue is empty".
#[test]
fn a_queue_dir_that_is_not_a_queue_is_an_error() {
    let scratch = tempfile::tempdir().unwrap();
    let not_a_queue = scratch.path().join("etc");
    std::fs::create_dir(&not_a_queue).unwrap();
    std::fs::write(not_a_queue.join("main.cf"), "").unwrap();
    for dir in [not_a_queue.clone(), scratch.path().join("missing")] {
        for command in [&["list"][..], &["summary"], &["list", "--ids"]] {
            let out = run(qsurgeon().arg("--queue-dir").arg(&dir).args(command));
            assert_exit(&out, 2, &format!("{command:?} on {}", dir.display()));
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                stderr.contains(&dir.display().to_string()),
                "names the directory: {stderr}"
            );
            assert!(
                !String::from_utf8_lossy(&out.stdout).contains("Mail queue is empty"),
                "{command:?}"
            );
        }
    }
}

/// `list --ids --ids-from -` fed `input` on standard input.
fn ids_from_stdin(input: &str) -> std::process::Output {
    use std::io::Write as _;
    use std::process::Stdio;
    let mut child = qsurgeon()
        .arg("--queue-dir")
        .arg(crate::util::demo_queue())
        .args(["list", "--ids", "--ids-from", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start qsurgeon");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input.as_bytes()).expect("write stdin");
    drop(stdin);
    child.wait_with_output().expect("wait for qsurgeon")
}

#[test]
fn ids_from_reads_real_postqueue_p_output() {
    // What `postqueue -p | qsurgeon … --ids-from -` feeds in: the heading,
    // IDs with their `*` (active) and `!` (hold) markers, recipient and
    // reason lines, the trailer.
    let text = std::fs::read_to_string(testdata("demo-queue.postqueue-p.out")).unwrap();
    assert!(text.contains("D079698C534*") && text.contains("BAFBF98C52C!"));
    let output = ids_from_stdin(&text);
    assert_exit(&output, 0, "--ids-from postqueue -p");
    let got: BTreeSet<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(
        got,
        ids_where(|_| true),
        "every message of the queue, no other"
    );

    // Part of it: the held ones, by their mailq lines alone (header-less).
    let held: String = text
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|t| t.ends_with('!'))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let output = ids_from_stdin(&held);
    assert_exit(&output, 0, "--ids-from held lines");
    let got: BTreeSet<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(got, ids_where(|m| m["queue_name"] == "hold"));
}

#[test]
fn ids_from_names_the_line_it_cannot_read() {
    // Recipient lines without mailq's heading: a grep of mailq output by
    // recipient would select nothing of what was meant; refuse.
    let output = ids_from_stdin("D079698C534*     488 Sun Nov 22 16:30:43  dave@ourdomain.example\n                                         a1@slow.example\n");
    assert_exit(&output, 2, "recipient line without heading");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("standard input, line 2") && stderr.contains("a1@slow.example"),
        "{stderr}"
    );
    let output = ids_from_stdin("D079698C534\nplease delete these\n");
    assert_exit(&output, 2, "prose in an ID list");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 2"), "{stderr}");
}

#[test]
fn count_csv_and_nul_separated_ids() {
    let dir = crate::util::demo_queue();
    let output = run(qsurgeon().arg("--queue-dir").arg(dir).args([
        "list",
        "--sasl-user",
        "mallory",
        "--count",
    ]));
    assert_exit(&output, 0, "count");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("{}\n", ids_where(forged).len())
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("29 messages scanned") && stderr.contains("20 selected"),
        "{stderr}"
    );

    let output = run(qsurgeon()
        .arg("--queue-dir")
        .arg(dir)
        .args(["list", "--queue", "hold", "--ids", "-0"]));
    let ids: BTreeSet<String> = output
        .stdout
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8(s.to_vec()).unwrap())
        .collect();
    assert_eq!(ids, ids_where(|m| m["queue_name"] == "hold"));
    assert_eq!(output.stdout.last(), Some(&0));

    let output = run(qsurgeon()
        .arg("--queue-dir")
        .arg(dir)
        .args(["list", "--csv", "--sort", "id"]));
    let text = String::from_utf8(output.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("queue,queue_id,arrival_time,message_size,sender,sasl_username,client_address,recipients,recipient_count,todo_recipient_count"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 29);
    let ids: Vec<&str> = rows.iter().map(|r| r.split(',').nth(1).unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "--sort id");
    for m in postqueue_j() {
        let id = m["queue_id"].as_str().unwrap();
        let row = rows
            .iter()
            .find(|r| r.split(',').nth(1) == Some(id))
            .unwrap();
        let fields: Vec<&str> = row.split(',').collect();
        assert_eq!(fields[0], m["queue_name"].as_str().unwrap());
        assert_eq!(fields[2], m["arrival_time"].to_string());
        assert_eq!(fields[3], m["message_size"].to_string());
    }
}

#[test]
fn limit_stops_after_n_messages() {
    let (ids, code) = list_ids(&["--limit", "5"]);
    assert_eq!(ids.len(), 5);
    assert_eq!(code, Some(0));
    assert!(ids.is_subset(&ids_where(|_| true)));
}

#[test]
fn explain_shows_each_test_and_the_verdict() {
    let forged_id = ids_where(forged).into_iter().next().unwrap();
    let output = run(qsurgeon()
        .arg("--queue-dir")
        .arg(crate::util::demo_queue())
        .args([
            "list",
            "--explain",
            &forged_id,
            "--sasl-user",
            "mallory",
            "--queue",
            "hold",
        ]));
    assert_exit(&output, 1, "explain a non-match");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("mallory"),
        "the SASL user value seen: {stdout}"
    );
    assert!(
        stdout.contains("deferred"),
        "the queue value seen: {stdout}"
    );
    assert!(
        stdout
            .trim_end()
            .ends_with(&format!("deferred/{forged_id}: not selected")),
        "{stdout}"
    );
    let output = run(qsurgeon()
        .arg("--queue-dir")
        .arg(crate::util::demo_queue())
        .args(["list", "--explain", &forged_id, "--sasl-user", "mallory"]));
    assert_exit(&output, 0, "explain a match");
}

#[test]
fn summary_finds_the_spammer() {
    let output = run(qsurgeon()
        .arg("--queue-dir")
        .arg(crate::util::demo_queue())
        .args(["summary", "--json", "--top", "3"]));
    assert_exit(&output, 0, "summary --json");
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    let all = postqueue_j();
    assert_eq!(doc["total"]["messages"], all.len());
    let bytes: u64 = all
        .iter()
        .map(|m| m["message_size"].as_u64().unwrap())
        .sum();
    assert_eq!(doc["total"]["bytes"], bytes);
    let top_sasl = &doc["by"]["sasl_user"]["top"][0];
    assert_eq!(top_sasl["key"], "mallory");
    assert_eq!(top_sasl["messages"], ids_where(forged).len());
    assert_eq!(doc["by"]["client_net"]["top"][0]["key"], "203.0.113.0/24");
    let queues = &doc["by"]["queue"]["top"];
    let deferred = queues
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "deferred")
        .unwrap();
    assert_eq!(
        deferred["messages"],
        ids_where(|m| m["queue_name"] == "deferred").len()
    );

    let output = run(qsurgeon()
        .arg("--queue-dir")
        .arg(crate::util::demo_queue())
        .args([
            "summary",
            "--by",
            "sasl-user",
            "--matrix",
            "recipient-domain",
        ]));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("By sasl user (5 distinct)"), "{text}");
    assert!(text.contains("Age (minutes) by recipient domain"), "{text}");
    let output = run(qsurgeon()
        .arg("--queue-dir")
        .arg(crate::util::demo_queue())
        .args(["summary", "--sasl-user", "nobody"]));
    assert_exit(&output, 1, "summary of nothing");
}

/// Splits mailq output into (heading, message blocks keyed by ID, footer).
fn mailq_blocks(text: &str) -> (String, std::collections::BTreeMap<String, String>, String) {
    let mut lines = text.split_inclusive('\n');
    let heading = lines.next().unwrap_or_default().to_string();
    let rest: String = lines.collect();
    let (body, footer) = match rest.rfind("\n-- ") {
        Some(at) => (&rest[..at + 1], rest[at + 1..].to_string()),
        None => (&rest[..], String::new()),
    };
    let blocks = body
        .split("\n\n")
        .filter(|b| !b.trim().is_empty())
        .map(|b| {
            let id = b
                .split_whitespace()
                .next()
                .unwrap()
                .trim_end_matches(['*', '!', '#'])
                .to_string();
            (id, b.trim_end_matches('\n').to_string())
        })
        .collect();
    (heading, blocks, footer)
}

/// `list` prints what `postqueue -p` printed. Message order aside: both
/// follow the directories' order, but this recording was made on another
/// filesystem (the order on real queues is checked in
/// `list_matches_postqueue_on` and `gen::list_is_postqueue_p_byte_for_byte_on_100k_messages`).
#[test]
fn list_text_equals_postqueue_p() {
    let expected = std::fs::read_to_string(testdata("demo-queue.postqueue-p.out")).unwrap();
    let output = run(qsurgeon()
        .arg("--queue-dir")
        .arg(crate::util::demo_queue())
        .arg("list"));
    assert_exit(&output, 0, "list");
    let actual = String::from_utf8(output.stdout).unwrap();
    assert_eq!(actual.len(), expected.len(), "same length\n{actual}");
    assert_eq!(mailq_blocks(&actual), mailq_blocks(&expected));
}

/// `list --json` starts every line with exactly postqueue -j's members and
/// values, then adds its own.
#[test]
fn list_json_extends_postqueue_j_line_for_line() {
    let expected = std::fs::read_to_string(testdata("demo-queue.postqueue-j.out")).unwrap();
    let output = run(qsurgeon()
        .arg("--queue-dir")
        .arg(crate::util::demo_queue())
        .args(["list", "--json", "--with-headers"]));
    assert_exit(&output, 0, "list --json");
    let actual = String::from_utf8(output.stdout).unwrap();
    assert_eq!(actual.lines().count(), expected.lines().count());
    for want in expected.lines() {
        let id = serde_json::from_str::<Value>(want).unwrap()["queue_id"]
            .as_str()
            .unwrap()
            .to_string();
        let got = actual
            .lines()
            .find(|l| l.contains(&format!("\"queue_id\": \"{id}\"")))
            .unwrap();
        let prefix = &want[..want.len() - 1]; // without the closing brace
        assert!(
            got.starts_with(prefix) && got[prefix.len()..].starts_with(", \"sender_raw\""),
            "{id}:\n{want}\n{got}"
        );
        let doc: Value = serde_json::from_str(got).unwrap();
        assert!(
            doc.get("sasl_username").is_some() && doc.get("subject").is_some(),
            "{got}"
        );
    }
    let mallory = actual
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|d| d["sasl_username"] == "mallory")
        .count();
    assert_eq!(mallory, ids_where(forged).len());
}

/// On real instances (every queue populated, delay reasons, forced expiry,
/// short and long IDs): `list` equals `postqueue -p`, and `list --json`
/// equals `postqueue -j` member for member, for the same messages.
fn list_matches_postqueue_on(ids: crate::postfix::IdStyle) {
    use crate::postfix::{require_postfix, Instance};
    if !require_postfix() {
        return;
    }
    let instance = Instance::shared(ids);
    let postqueue_j = instance.run(instance.postqueue().arg("-j"), None);
    let expected = String::from_utf8(postqueue_j.stdout).unwrap();
    let queues: BTreeSet<String> = expected
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["queue_name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(queues.len(), 5, "every queue populated: {queues:?}");
    // Including the records only a few messages have (content filter, redirect, VERP).
    for label in crate::postfix::label::RARE_RECORDS {
        let id = instance.id_of(label);
        assert!(
            expected.contains(&format!("\"queue_id\": \"{id}\"")),
            "{label} ({id}) compared"
        );
    }
    let ours = run(qsurgeon()
        .arg("-c")
        .arg(&instance.config_dir)
        .args(["list", "--json"]));
    assert_exit(&ours, 0, "list --json");
    let actual = String::from_utf8(ours.stdout).unwrap();
    assert_eq!(
        actual.lines().count(),
        expected.lines().count(),
        "same messages\n{actual}\n---\n{expected}"
    );
    // Line for line, in showq's order (the instance is stopped: nothing moves).
    for (want, got) in expected.lines().zip(actual.lines()) {
        let prefix = &want[..want.len() - 1];
        assert!(
            got.starts_with(prefix),
            "line for line:\npostqueue: {want}\nqsurgeon:  {got}"
        );
    }

    let postqueue_p = instance.run(instance.postqueue().arg("-p"), None);
    let expected = String::from_utf8(postqueue_p.stdout).unwrap();
    let ours = run(qsurgeon().arg("-c").arg(&instance.config_dir).arg("list"));
    assert_exit(&ours, 0, "list");
    let actual = String::from_utf8(ours.stdout).unwrap();
    assert_eq!(mailq_blocks(&actual), mailq_blocks(&expected));
    assert!(
        actual == expected,
        "byte for byte, in postqueue -p's order:\n{actual}\n---\n{expected}"
    );
}

/// `--recipient` matches the envelope's recipients (`R` records), never a header_checks
/// REDIRECT target, although postqueue lists that target too, once qmgr has tried it: showq
/// prints the defer log's recipients first (the redirect target, with the original as
/// orig_address), then the file's `R` records (showq.c, showq_report). Deliberate: a selection
/// reads the envelope, so it does not change with delivery attempts, and `delete --recipient`
/// never takes mail that its sender did not address to that recipient (a quarantine address
/// would take every redirected message). The redirected mail is selected by its real
/// recipient, or by `--reason` from the defer log.
#[test]
fn recipient_matches_the_envelope_not_a_redirect_target() {
    use crate::postfix::{label, require_postfix, IdStyle, Instance, REDIRECT_TARGET};
    if !require_postfix() {
        return;
    }
    let instance = Instance::shared(IdStyle::Short);
    let redirected = instance.id_of(label::REDIRECT);
    // postqueue -j lists the target as an address of the redirected message.
    let listed = instance.postqueue_json();
    let entry = listed
        .iter()
        .find(|m| m["queue_id"] == redirected)
        .expect("the redirected message in postqueue -j");
    assert!(
        recipients(entry).any(|r| r["address"] == REDIRECT_TARGET),
        "{entry}"
    );
    let select = |flag: &str, value: &str| {
        let output = run(qsurgeon()
            .arg("-c")
            .arg(&instance.config_dir)
            .args(["list", flag, value, "--ids"]));
        let ids: BTreeSet<String> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        (ids, output.status.code())
    };
    let only_it = (BTreeSet::from([redirected.to_string()]), Some(0));
    assert_eq!(select("--recipient", "intended@other.example"), only_it);
    assert_eq!(
        select("--recipient", REDIRECT_TARGET),
        (BTreeSet::new(), Some(1))
    );
    assert!(!select("--recipient-domain", "remote.example")
        .0
        .contains(redirected));
}

#[test]
fn list_matches_postqueue_on_a_real_instance_short_ids() {
    list_matches_postqueue_on(crate::postfix::IdStyle::Short);
}

#[test]
fn list_matches_postqueue_on_a_real_instance_long_ids() {
    list_matches_postqueue_on(crate::postfix::IdStyle::Long);
}
