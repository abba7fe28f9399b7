//! Recipient counts against a real Postfix instance: `--where 'recipients > N'`,
//! `todo_recipients`, `--min-recipients`, the `list --csv`/`--json` columns and `summary
//! --rank-by recipients`, each checked against what real `postcat -e` prints of the
//! recipient records (`recipient`, `done_recipient`, `canceled_recipient`: Postfix's
//! `nrcpt`, as qmgr counts them).
//!
//! The instance gets, over SMTP: a burst login (2 messages, 150 and 80 recipients), a chatty
//! login (6 messages, 1 recipient each), a message with one recipient at `discard.example`
//! (delivered: a `D` record) and two still to do, and an unauthenticated message of exactly
//! 100 recipients; with `sendmail -t`, so that cleanup writes the recipients in the
//! extracted segment after the content: one message of 101 recipients and one of 2.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::Value;

use crate::postfix::smtp::{self, Mail, Session};
use crate::postfix::{require_postfix, IdStyle, Instance};
use crate::util::{assert_exit, qsurgeon, run};

struct Bed {
    instance: Instance,
    /// Label → queue ID.
    ids: BTreeMap<&'static str, String>,
}

/// The counts postcat shows for one queue file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counted {
    /// `recipient`, `done_recipient` and `canceled_recipient` records.
    all: usize,
    /// `recipient` records only.
    todo: usize,
    /// Recipient records after the `HEADER EXTRACTED` marker.
    extracted: usize,
}

fn rcpts(n: usize, tag: &str) -> Vec<String> {
    (0..n)
        .map(|i| format!("{tag}{i}@list{}.example", i % 5))
        .collect()
}

fn mail(from: &str, to: &[String], subject: &str) -> Mail {
    Mail {
        from: from.to_string(),
        from_params: String::new(),
        rcpts: to.iter().map(|r| (r.clone(), String::new())).collect(),
        content: format!(
            "From: <{from}>\nTo: undisclosed-recipients:;\nSubject: {subject}\n\nHello.\n"
        ),
    }
}

/// A session logged in as `login` with XCLIENT (as the bed's other SASL users are).
fn session(login: Option<&str>, host: u8, mails: Vec<Mail>) -> Session {
    let mut xclient = vec![("ADDR", format!("192.0.2.{host}"))];
    if let Some(login) = login {
        xclient.push(("LOGIN", login.to_string()));
    }
    Session {
        xclient,
        mails,
        ..Session::default()
    }
}

fn bed() -> Option<&'static Bed> {
    if !require_postfix() {
        return None;
    }
    static BED: OnceLock<Bed> = OnceLock::new();
    Some(BED.get_or_init(Bed::build))
}

impl Bed {
    fn build() -> Bed {
        let instance = Instance::new_empty(IdStyle::Short);
        instance.start();
        let mut ids = BTreeMap::new();
        let mut send = |labels: &[&'static str], s: Session| {
            let got = smtp::send(instance.smtp_port, &s)
                .unwrap_or_else(|e| panic!("SMTP: {e}\n{}", instance.maillog_tail(30)));
            assert_eq!(got.len(), labels.len(), "{got:?}");
            ids.extend(labels.iter().copied().zip(got));
        };
        send(
            &["burst-150", "burst-80"],
            session(
                Some("burst"),
                50,
                vec![
                    mail("burst@ourdomain.example", &rcpts(150, "a"), "Offer"),
                    mail("burst@ourdomain.example", &rcpts(80, "b"), "Offer"),
                ],
            ),
        );
        let chatty: Vec<&'static str> = vec![
            "chatty-0", "chatty-1", "chatty-2", "chatty-3", "chatty-4", "chatty-5",
        ];
        send(
            &chatty,
            session(
                Some("chatty"),
                51,
                (0..6)
                    .map(|i| {
                        mail(
                            "chatty@ourdomain.example",
                            &[format!("friend{i}@remote.example")],
                            "Hi",
                        )
                    })
                    .collect(),
            ),
        );
        let partial = [
            "gone@discard.example".to_string(),
            "x@remote.example".to_string(),
            "y@other.example".to_string(),
        ];
        send(
            &["partial"],
            session(
                Some("partial"),
                52,
                vec![mail("partial@ourdomain.example", &partial, "Partly")],
            ),
        );
        send(
            &["edge-100"],
            session(
                None,
                53,
                vec![mail("edge@ourdomain.example", &rcpts(100, "c"), "Edge")],
            ),
        );
        // `sendmail -t`: the recipients come from the To: header; cleanup writes them in
        // the extracted segment (cleanup_extracted.c).
        for (label, n) in [("tee-101", 101), ("tee-2", 2)] {
            let to = rcpts(n, "t").join(",\n ");
            let text = format!("From: tee@ourdomain.example\nTo: {to}\nSubject: {label}\n\nHi.\n");
            let before: BTreeSet<String> =
                instance.message_files().into_iter().map(|f| f.id).collect();
            instance.run(
                instance
                    .sendmail()
                    .args(["-t", "-f", "tee@ourdomain.example"]),
                Some(text.as_bytes()),
            );
            // Wait until pickup has handed it to cleanup and qmgr (a new ID in deferred).
            let id = wait_new_deferred(&instance, &before);
            ids.insert(label, id);
        }
        instance.wait_for_deferred(ids.len());
        instance.stop();
        Bed { instance, ids }
    }

    fn id(&self, label: &str) -> &str {
        &self.ids[label]
    }

    /// `postcat -e -q ID`: envelope and extracted records, no content.
    fn counted(&self, id: &str) -> Counted {
        let text = self.instance.postcat_q(&["-e"], id);
        let mut c = Counted::default();
        let mut extracted = false;
        for line in text.lines() {
            if line.starts_with("*** HEADER EXTRACTED") {
                extracted = true;
            }
            let todo = line.starts_with("recipient: ");
            if todo
                || line.starts_with("done_recipient: ")
                || line.starts_with("canceled_recipient: ")
            {
                c.all += 1;
                c.todo += usize::from(todo);
                c.extracted += usize::from(extracted);
            }
        }
        c
    }

    fn all_counted(&self) -> BTreeMap<String, Counted> {
        self.ids
            .values()
            .map(|id| (id.clone(), self.counted(id)))
            .collect()
    }

    fn qsurgeon(&self, args: &[&str]) -> std::process::Output {
        run(qsurgeon()
            .arg("-c")
            .arg(&self.instance.config_dir)
            .args(args))
    }

    fn ids_of(&self, args: &[&str]) -> BTreeSet<String> {
        let mut all = vec!["list"];
        all.extend(args);
        all.push("--ids");
        let out = self.qsurgeon(&all);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{all:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// Polls (60 s at most) for a deferred message whose ID is not in `before`.
fn wait_new_deferred(instance: &Instance, before: &BTreeSet<String>) -> String {
    for _ in 0..600 {
        let new: Vec<String> = instance
            .files_in("deferred")
            .into_iter()
            .map(|f| f.id)
            .filter(|id| !before.contains(id))
            .collect();
        if let [id] = new.as_slice() {
            if instance.log_file("defer", id).is_some() {
                return id.clone();
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!(
        "sendmail -t: no new deferred message\n{}",
        instance.maillog_tail(30)
    );
}

#[test]
fn the_bed_holds_what_the_tests_assume() {
    let Some(bed) = bed() else { return };
    let c = |label: &str| bed.counted(bed.id(label));
    assert_eq!(c("burst-150").all, 150);
    assert_eq!(c("edge-100").all, 100);
    // sendmail -t: every recipient in the extracted segment.
    assert_eq!(
        c("tee-101"),
        Counted {
            all: 101,
            todo: 101,
            extracted: 101
        }
    );
    assert_eq!(c("tee-2").extracted, 2);
    // The discard.example recipient was delivered: a done_recipient record.
    assert_eq!(
        c("partial"),
        Counted {
            all: 3,
            todo: 2,
            extracted: 0
        }
    );
}

#[test]
fn where_recipients_selects_by_postcats_recipient_records() {
    let Some(bed) = bed() else { return };
    let counted = bed.all_counted();
    let want = |f: &dyn Fn(&Counted) -> bool| -> BTreeSet<String> {
        counted
            .iter()
            .filter(|(_, c)| f(c))
            .map(|(id, _)| id.clone())
            .collect()
    };
    // The done's acceptance test: exactly the messages with more than 100 records.
    let over_100 = want(&|c| c.all > 100);
    assert_eq!(
        over_100,
        [bed.id("burst-150"), bed.id("tee-101")]
            .into_iter()
            .map(str::to_owned)
            .collect(),
        "the bed: one SMTP and one sendmail -t message over 100"
    );
    assert_eq!(bed.ids_of(&["--where", "recipients > 100"]), over_100);
    for (expr, f) in [
        (
            "recipients >= 100",
            &(|c: &Counted| c.all >= 100) as &dyn Fn(&Counted) -> bool,
        ),
        ("recipients < 3", &|c: &Counted| c.all < 3),
        ("recipients <= 3", &|c: &Counted| c.all <= 3),
        ("recipients = 3", &|c: &Counted| c.all == 3),
        ("recipients != 1", &|c: &Counted| c.all != 1),
        ("todo_recipients = 2", &|c: &Counted| c.todo == 2),
        ("recipients = 3 and todo_recipients = 2", &|c: &Counted| {
            c.all == 3 && c.todo == 2
        }),
        ("nrcpt > 1", &|c: &Counted| c.all > 1),
    ] {
        let want = want(f);
        assert!(!want.is_empty(), "{expr}: the bed has such messages");
        assert_eq!(bed.ids_of(&["--where", expr]), want, "{expr}");
    }
    // The done recipient counts in `recipients`, not in `todo_recipients`.
    assert_eq!(
        bed.ids_of(&["--where", "recipients = 3 and todo_recipients = 2"]),
        [bed.id("partial").to_owned()].into()
    );
    // --min-recipients N is `recipients >= N`.
    assert_eq!(
        bed.ids_of(&["--min-recipients", "80"]),
        want(&|c| c.all >= 80)
    );
    assert_eq!(bed.ids_of(&["--min-recipients", "80"]).len(), 4);
    assert_eq!(
        bed.ids_of(&["--min-recipients", "101", "--sasl-user", "burst"]),
        [bed.id("burst-150").to_owned()].into()
    );
    let out = bed.qsurgeon(&["list", "--min-recipients", "many"]);
    assert_exit(&out, 2, "--min-recipients many");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--min-recipients"), "{stderr}");
}

#[test]
fn csv_and_json_carry_the_counts() {
    let Some(bed) = bed() else { return };
    let counted = bed.all_counted();

    let out = bed.qsurgeon(&["list", "--csv"]);
    assert_exit(&out, 0, "list --csv");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "queue,queue_id,arrival_time,message_size,sender,sasl_username,client_address,\
             recipients,recipient_count,todo_recipient_count"
        )
    );
    let mut seen = 0;
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        let c = counted[fields[1]];
        let n = fields.len();
        assert_eq!(fields[n - 2], c.all.to_string(), "{line}");
        assert_eq!(fields[n - 1], c.todo.to_string(), "{line}");
        // The address column lists the to-do recipients.
        assert_eq!(fields[n - 3].split(' ').count(), c.todo, "{line}");
        seen += 1;
    }
    assert_eq!(seen, counted.len());

    let out = bed.qsurgeon(&["list", "--json"]);
    assert_exit(&out, 0, "list --json");
    let postqueue: BTreeMap<String, Value> = bed
        .instance
        .postqueue_json()
        .into_iter()
        .map(|m| (m["queue_id"].as_str().unwrap().to_owned(), m))
        .collect();
    let mut seen = 0;
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let doc: Value = serde_json::from_str(line).unwrap();
        let id = doc["queue_id"].as_str().unwrap();
        let c = counted[id];
        assert_eq!(doc["recipient_count"], c.all, "{id}");
        assert_eq!(doc["todo_recipient_count"], c.todo, "{id}");
        // postqueue -j's members stay exactly as postqueue prints them, first.
        let theirs = postqueue[id].as_object().unwrap();
        for (key, value) in theirs {
            assert_eq!(&doc[key], value, "{id}: postqueue -j member {key}");
        }
        let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
        assert!(
            !theirs.contains_key("recipient_count"),
            "postqueue has no such member"
        );
        assert_eq!(
            theirs["recipients"].as_array().unwrap().len(),
            c.todo,
            "{id}"
        );
        assert!(keys.contains(&&"recipient_count".to_owned()));
        seen += 1;
    }
    assert_eq!(seen, counted.len());
}

#[test]
fn summary_ranks_the_burst_login_first_by_recipients() {
    let Some(bed) = bed() else { return };
    let summary = |rank: Option<&str>| -> Value {
        let mut args = vec!["summary", "--json", "--by", "sasl-user", "--top", "3"];
        if let Some(rank) = rank {
            args.extend(["--rank-by", rank]);
        }
        let out = bed.qsurgeon(&args);
        assert_exit(&out, 0, "summary");
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let keys = |doc: &Value| -> Vec<Value> {
        doc["by"]["sasl_user"]["top"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["key"].clone())
            .collect()
    };
    // By messages (the default), the chatty login's 6 single-recipient messages come first.
    let by_messages = summary(None);
    assert_eq!(by_messages["rank_by"], "messages");
    assert_eq!(keys(&by_messages)[0], "chatty");
    assert_eq!(keys(&summary(Some("messages"))), keys(&by_messages));
    // By recipients, the burst login's 2 messages of 230 recipients.
    let by_recipients = summary(Some("recipients"));
    assert_eq!(by_recipients["rank_by"], "recipients");
    assert_eq!(keys(&by_recipients)[0], "burst");
    let burst = &by_recipients["by"]["sasl_user"]["top"][0];
    let counted = bed.all_counted();
    let burst_rcpts = counted[bed.id("burst-150")].all + counted[bed.id("burst-80")].all;
    assert_eq!(burst["recipients"], burst_rcpts);
    assert_eq!(burst["messages"], 2);
    let total: usize = counted.values().map(|c| c.all).sum();
    assert_eq!(by_recipients["total"]["recipients"], total);
    // By bytes: a different order again is allowed; the flag is accepted.
    assert_eq!(summary(Some("bytes"))["rank_by"], "bytes");

    // The text tables show recipients per row.
    let out = bed.qsurgeon(&[
        "summary",
        "--by",
        "sasl-user",
        "--rank-by",
        "recipients",
        "--top",
        "1",
    ]);
    assert_exit(&out, 0, "summary text");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("{total} recipients")), "{text}");
    assert!(text.contains("recipients"), "{text}");
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with("burst "))
        .unwrap_or_else(|| panic!("{text}"));
    let numbers: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(numbers[1..3], ["2", &burst_rcpts.to_string()], "{row}");
    assert!(text.contains(", by recipients)"), "{text}");

    let out = bed.qsurgeon(&["summary", "--rank-by", "size"]);
    assert_exit(&out, 2, "--rank-by size is not a ranking");
}
