//! `list --nonexistent-local-sender` against a real Postfix instance. One instance gets
//! forged and real senders (over SMTP, all deferred), and real lookup tables: a `hash` alias
//! map built with postalias, `hash` virtual mailbox and domain tables built with postmap, a
//! `texthash` virtual alias map, `proxy:unix:passwd.byname` (users `root` and `postfix`
//! exist, `nosuchuser123` does not), `recipient_delimiter = +`.
//!
//! Each [`Variant`] rewrites main.cf (`postconf -e`), and for each the same table of
//! expected verdicts ([`SENDERS`]) is checked twice:
//!
//! - against Postfix itself: smtpd with `smtpd_reject_unlisted_sender = yes` must reject
//!   exactly the senders the table calls nonexistent (the definition of the check is "Postfix
//!   would not accept this address as a recipient", and smtpd's sender check is its recipient
//!   check, `check_rcpt_maps` in `src/smtpd/smtpd_check.c`);
//! - against qsurgeon: `qsurgeon -c CONFIG list --nonexistent-local-sender --ids` must print
//!   exactly the queue IDs of those senders (exit 0), or nothing with exit 1 when there are
//!   none.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use crate::postfix::{require_postfix, IdStyle, Instance};
use crate::util::{qsurgeon, run};

/// The main.cf settings under test; the verdict table refers to them by number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    /// 1: local, virtual alias and virtual mailbox domains with their tables.
    Base = 1,
    /// 2: `recipient_delimiter =` (empty): `root+tag` is no longer `root`.
    NoDelimiter = 2,
    /// 3: `local_recipient_maps =` (empty): every local address is accepted.
    EmptyLocalMaps = 3,
    /// 4: `local_recipient_maps = texthash:ls_local` (`AA`, `postfix` only).
    TexthashLocalMaps = 4,
    /// 5: no local domains at all.
    NoLocalDomains = 5,
}

const VARIANTS: [Variant; 5] = [
    Variant::Base,
    Variant::NoDelimiter,
    Variant::EmptyLocalMaps,
    Variant::TexthashLocalMaps,
    Variant::NoLocalDomains,
];

/// Every injected sender (as given in `MAIL FROM`), and the variants (digits) under which
/// Postfix would not accept it as a recipient.
const SENDERS: &[(&str, &str)] = &[
    ("", ""),
    ("root@ourdomain.example", "4"),
    ("ROOT@OurDomain.Example", "4"),
    ("postfix@ourdomain.example", ""),
    ("root+tag@ourdomain.example", "24"),
    ("nosuchuser123@ourdomain.example", "124"),
    ("AA@ourdomain.example", "12"),
    ("AB@ourdomain.example", "124"),
    ("ZC@ourdomain.example", "124"),
    // An alias (alias_maps), also with an extension.
    ("sales@ourdomain.example", "4"),
    ("sales+news@ourdomain.example", "24"),
    ("webmaster@ourdomain.example", "4"),
    // Always accepted in local domains, table or not.
    ("postmaster@ourdomain.example", ""),
    ("MAILER-DAEMON@ourdomain.example", ""),
    // $myhostname and localhost are in mydestination.
    ("nosuchuser123@mx.ourdomain.example", "124"),
    ("root@localhost", "4"),
    // In virtual_alias_maps: accepted in every class.
    ("info@ourdomain.example", ""),
    // Virtual mailbox domains: a literal one, one from a hash table, one with an @domain
    // catch-all in virtual_alias_maps.
    ("alice@vmail.example", ""),
    ("carol@vmail.example", "1234"),
    ("bob@vmail2.example", ""),
    ("zed@VMAIL2.example", "1234"),
    ("anyone@vcatch.example", ""),
    // Virtual alias domain.
    ("sales@valias.example", ""),
    ("nobody@valias.example", "1234"),
    // Not ours.
    ("nosuchuser123@remote.example", ""),
    // A relay domain (relay_domains): not ours either.
    ("nosuchuser123@relayed.example", ""),
    // Quoted local parts: queued in internal form (`odd user@…`, `root@…`).
    ("\"odd user\"@ourdomain.example", "124"),
    ("\"root\"@ourdomain.example", "4"),
    // SMTPUTF8.
    ("jos\u{e9}@ourdomain.example", "124"),
];

/// Where every test message goes (relayed to a closed port: deferred).
const RECIPIENT: &str = "someone@remote.example";

fn nonexistent_in(variant: Variant) -> BTreeSet<&'static str> {
    let digit = char::from(b'0' + variant as u8);
    SENDERS
        .iter()
        .filter(|(_, variants)| variants.contains(digit))
        .map(|(sender, _)| *sender)
        .collect()
}

/// The instance and the queue ID of each `SENDERS` entry.
struct Bed {
    instance: Instance,
    ids: Vec<String>,
}

/// The one instance these tests share (they change main.cf, so one at a time). None when
/// the Postfix test bed cannot run here (`require_postfix` says why, or panics in CI).
fn bed() -> Option<MutexGuard<'static, Bed>> {
    if !require_postfix() {
        return None;
    }
    static BED: OnceLock<Mutex<Bed>> = OnceLock::new();
    let bed = BED.get_or_init(|| Mutex::new(Bed::build()));
    // A failed test leaves nothing half-done that the next one does not redo.
    Some(bed.lock().unwrap_or_else(|e| e.into_inner()))
}

impl Bed {
    fn build() -> Bed {
        let instance = Instance::new_empty(IdStyle::Short);
        let cfg = instance.config_dir.clone();
        let write = |name: &str, text: &str| {
            let path = cfg.join(name);
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()))
        };
        write(
            "ls_aliases",
            "postmaster: root\nsales: root\nWebMaster: root\n",
        );
        write(
            "ls_vmailbox",
            "alice@vmail.example OK\nBob@VMail2.example OK\n",
        );
        write("ls_vdomains", "vmail2.example OK\n");
        write(
            "ls_virtual",
            "sales@valias.example x@remote.example\n\
             @vcatch.example x@remote.example\n\
             info@ourdomain.example root\n",
        );
        write("ls_local", "AA OK\npostfix OK\n");
        let c = cfg.display();
        instance.run(
            instance.postalias().arg(format!("hash:{c}/ls_aliases")),
            None,
        );
        for map in ["ls_vmailbox", "ls_vdomains"] {
            instance.run(instance.postmap().arg(format!("hash:{c}/{map}")), None);
        }
        let bed = Bed {
            instance,
            ids: Vec::new(),
        };
        bed.configure(Variant::Base, false);
        bed.instance.start();
        let mails: Vec<(&str, &str)> = SENDERS.iter().map(|(s, _)| (*s, RECIPIENT)).collect();
        let ids = bed.instance.send_mails(&mails);
        bed.instance.wait_for_deferred(SENDERS.len());
        bed.instance.stop();
        assert_eq!(
            ids.iter().collect::<BTreeSet<_>>().len(),
            SENDERS.len(),
            "one queue ID per sender: {ids:?}"
        );
        Bed { ids, ..bed }
    }

    /// Stops Postfix and rewrites main.cf for `variant`. `reject_unlisted`: smtpd rejects
    /// senders that it would not accept as recipients (for the probes; off while injecting).
    fn configure(&self, variant: Variant, reject_unlisted: bool) {
        self.instance.stop();
        let c = self.instance.config_dir.display();
        let mut settings: BTreeMap<&str, String> = [
            (
                "mydestination",
                "$myhostname, localhost.$mydomain, localhost, $mydomain".to_string(),
            ),
            ("alias_maps", format!("hash:{c}/ls_aliases")),
            ("alias_database", format!("hash:{c}/ls_aliases")),
            // Postfix's default, which the bed's main.cf empties.
            (
                "local_recipient_maps",
                "proxy:unix:passwd.byname $alias_maps".to_string(),
            ),
            ("recipient_delimiter", "+".to_string()),
            (
                "virtual_mailbox_domains",
                format!("vmail.example, hash:{c}/ls_vdomains, vcatch.example"),
            ),
            ("virtual_mailbox_maps", format!("hash:{c}/ls_vmailbox")),
            ("virtual_alias_domains", "valias.example".to_string()),
            ("virtual_alias_maps", format!("texthash:{c}/ls_virtual")),
            ("relay_domains", "relayed.example".to_string()),
            (
                "smtpd_reject_unlisted_sender",
                if reject_unlisted { "yes" } else { "no" }.to_string(),
            ),
        ]
        .into_iter()
        .collect();
        let overrides: Vec<(&str, String)> = match variant {
            Variant::Base => vec![],
            Variant::NoDelimiter => vec![("recipient_delimiter", String::new())],
            Variant::EmptyLocalMaps => vec![("local_recipient_maps", String::new())],
            Variant::TexthashLocalMaps => {
                vec![("local_recipient_maps", format!("texthash:{c}/ls_local"))]
            }
            Variant::NoLocalDomains => vec![
                ("mydestination", String::new()),
                ("virtual_mailbox_domains", String::new()),
                ("virtual_alias_domains", String::new()),
            ],
        };
        settings.extend(overrides);
        let args: Vec<String> = settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
        self.instance
            .run(self.instance.postconf().arg("-e").args(&args), None);
    }

    fn ids_of(&self, senders: &BTreeSet<&str>) -> BTreeSet<String> {
        SENDERS
            .iter()
            .zip(&self.ids)
            .filter(|((sender, _), _)| senders.contains(sender))
            .map(|(_, id)| id.clone())
            .collect()
    }

    /// Whether smtpd rejects `sender` in `MAIL FROM` as an unlisted sender. With
    /// `smtpd_delay_reject` (the default) the verdict comes at `RCPT TO`; the session ends
    /// before DATA, so nothing is queued.
    fn smtpd_rejects(&self, sender: &str) -> bool {
        let port = self.instance.smtp_port;
        let stream = TcpStream::connect(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("connect to smtpd on 127.0.0.1:{port}: {e}"));
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("set a read timeout");
        let mut reader = BufReader::new(stream.try_clone().expect("clone the stream"));
        let mut writer = stream;
        let mut transcript = Vec::new();
        let mut reply = |command: Option<String>| -> String {
            if let Some(line) = command {
                transcript.push(format!("> {line}"));
                writer
                    .write_all(format!("{line}\r\n").as_bytes())
                    .expect("write to smtpd");
            }
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).expect("read from smtpd");
                transcript.push(format!("< {}", line.trim_end()));
                if line.as_bytes().get(3) != Some(&b'-') {
                    return line.trim_end().to_string();
                }
            }
        };
        let params = if sender.is_ascii() { "" } else { " SMTPUTF8" };
        let greeting = reply(None);
        let ehlo = reply(Some("EHLO probe.test.example".into()));
        let mail = reply(Some(format!("MAIL FROM:<{sender}>{params}")));
        let rcpt = reply(Some(format!("RCPT TO:<{RECIPIENT}>")));
        let _ = reply(Some("QUIT".into()));
        let shown = format!("{greeting}\n{ehlo}\n{mail}\n{rcpt}");
        assert!(mail.starts_with("250"), "MAIL FROM not accepted:\n{shown}");
        if rcpt.starts_with("250") {
            false
        } else if rcpt.starts_with('5') && rcpt.contains("Sender address rejected") {
            true
        } else {
            panic!(
                "unexpected reply for sender {sender:?}:\n{}\n{}",
                transcript.join("\n"),
                self.instance.maillog_tail(20)
            );
        }
    }
}

#[test]
fn smtpd_rejects_exactly_the_senders_the_table_calls_nonexistent() {
    let Some(bed) = bed() else { return };
    let mut failures = Vec::new();
    for variant in VARIANTS {
        bed.configure(variant, true);
        bed.instance.start();
        let rejected: BTreeSet<&str> = SENDERS
            .iter()
            .map(|(sender, _)| *sender)
            .filter(|sender| bed.smtpd_rejects(sender))
            .collect();
        bed.instance.stop();
        let want = nonexistent_in(variant);
        if rejected != want {
            failures.push(format!(
                "{variant:?}: smtpd rejects {rejected:?}\n  the table says {want:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn list_selects_exactly_the_nonexistent_local_senders() {
    let Some(bed) = bed() else { return };
    let mut failures = Vec::new();
    for variant in VARIANTS {
        bed.configure(variant, false);
        let output = run(qsurgeon().arg("-c").arg(&bed.instance.config_dir).args([
            "list",
            "--nonexistent-local-sender",
            "--ids",
        ]));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let lines: Vec<&str> = stdout.lines().collect();
        let got: BTreeSet<String> = lines.iter().map(|l| l.to_string()).collect();
        let want_senders = nonexistent_in(variant);
        let want = bed.ids_of(&want_senders);
        let want_code = if want.is_empty() { 1 } else { 0 };
        if got != want || lines.len() != got.len() || output.status.code() != Some(want_code) {
            failures.push(format!(
                "{variant:?}: exit {:?} (want {want_code}), IDs {lines:?}\n  want {want:?} \
                 (senders {want_senders:?})\n  stderr: {}",
                output.status.code(),
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `list --explain ID --nonexistent-local-sender` on a sender: (exit code, stdout).
fn explain(bed: &Bed, sender: &str) -> (Option<i32>, String) {
    let id = SENDERS
        .iter()
        .zip(&bed.ids)
        .find(|((s, _), _)| *s == sender)
        .map(|(_, id)| id.clone())
        .unwrap_or_else(|| panic!("{sender} is not in SENDERS"));
    let output = run(qsurgeon().arg("-c").arg(&bed.instance.config_dir).args([
        "list",
        "--explain",
        &id,
        "--nonexistent-local-sender",
    ]));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        stdout.contains(&format!("deferred/{id}: ")),
        "{sender}: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), stdout)
}

#[test]
fn explain_shows_the_address_its_class_and_the_table_that_answered() {
    let Some(bed) = bed() else { return };
    bed.configure(Variant::Base, false);
    let c = bed.instance.config_dir.display().to_string();

    // Nonexistent: local class, and every table that could have accepted it, with the keys
    // mail_addr_find() tries, none found.
    let (code, text) = explain(&bed, "nosuchuser123@ourdomain.example");
    assert_eq!(code, Some(0), "selected: {text}");
    for want in [
        "yes  nonexistent_local_sender  saw yes (match)",
        "nonexistent_local_sender: sender \"nosuchuser123@ourdomain.example\": nonexistent \
         (selected by nonexistent_local_sender)",
        "  address tested: \"nosuchuser123@ourdomain.example\"",
        "  class: local (mydestination: \"ourdomain.example\")",
        "  answer: in no table that accepts the address:",
        &format!(
            "    virtual_alias_maps \"texthash:{c}/ls_virtual\" (\"postmap -c {c} -q - \
             texthash:{c}/ls_virtual\"): none of \"nosuchuser123@ourdomain.example\""
        ),
        "    local_recipient_maps \"proxy:unix:passwd.byname\" (\"getent passwd\"): none of \
         \"nosuchuser123@ourdomain.example\"",
        &format!("    local_recipient_maps \"hash:{c}/ls_aliases\""),
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    assert!(text.contains(", \"nosuchuser123\""), "{text}");

    // Exists: getpwnam found the local part (through the extension: root+tag is root).
    let (code, text) = explain(&bed, "root+tag@ourdomain.example");
    assert_eq!(code, Some(1), "not selected: {text}");
    assert!(
        text.contains(
            "  answer: found: local_recipient_maps \"proxy:unix:passwd.byname\" \
             (\"getent passwd\") has key \"root\""
        ),
        "{text}"
    );
    assert!(text.contains(": not nonexistent\n"), "{text}");

    // Exists in an alias map, looked up with postmap.
    let (_, text) = explain(&bed, "sales@ourdomain.example");
    assert!(
        text.contains(&format!(
            "found: local_recipient_maps \"hash:{c}/ls_aliases\" (\"postmap -c {c} -q - \
             hash:{c}/ls_aliases\") has key \"sales\""
        )),
        "{text}"
    );

    // The other classes.
    let (_, text) = explain(&bed, "bob@vmail2.example");
    assert!(
        text.contains(&format!(
            "class: virtual mailbox (virtual_mailbox_domains: \"hash:{c}/ls_vdomains\")"
        )),
        "{text}"
    );
    assert!(text.contains("has key \"bob@vmail2.example\""), "{text}");
    let (code, text) = explain(&bed, "nobody@valias.example");
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("class: virtual alias (virtual_alias_domains: \"valias.example\")"),
        "{text}"
    );
    let (code, text) = explain(&bed, "nosuchuser123@relayed.example");
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("class: relay (relay_domains: \"relayed.example\")")
            && text.contains("answer: relay domains are not ours: never nonexistent"),
        "{text}"
    );
    let (_, text) = explain(&bed, "nosuchuser123@remote.example");
    assert!(
        text.contains("class: other (in none of mydestination")
            && text.contains("answer: other domains are not ours"),
        "{text}"
    );
    let (_, text) = explain(&bed, "postmaster@ourdomain.example");
    assert!(
        text.contains("\"postmaster\" is accepted in a local domain without a lookup"),
        "{text}"
    );
    let (_, text) = explain(&bed, "");
    assert!(
        text.contains("answer: the null sender is never nonexistent"),
        "{text}"
    );

    // With an empty local_recipient_maps, every local address is accepted.
    bed.configure(Variant::EmptyLocalMaps, false);
    let (code, text) = explain(&bed, "nosuchuser123@ourdomain.example");
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(
            "answer: local_recipient_maps is empty: every address of the class is accepted"
        ),
        "{text}"
    );
    bed.configure(Variant::Base, false);
}
