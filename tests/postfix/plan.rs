//! What the test bed puts into a queue, and the lookup tables that decide where each message
//! ends up (deferred, hold, active, incoming, maildrop). Kept apart from the machinery in
//! `mod.rs` so that the content can be read (and extended) in one place.
//!
//! Domains and what Postfix does with them (see `transport_map`; postfix-test-instance.md,
//! "Keeping mail in each queue"):
//!
//! | domain | transport | result |
//! |---|---|---|
//! | `greylist.example`, `ratelimit.example` | `retry:4.7.x text` | deferred with that text |
//! | `discard.example` | `discard:` | recipient done (`D` record) |
//! | `bounce.example` | `error:5.1.1 …` | bounced: a null-sender NDR, itself deferred |
//! | `slow.example` | `slow:` to a listener that never greets | stays in `active` |
//! | `sales@alias.example` | virtual alias | two recipients with `O` = the alias |
//! | any other domain | relayhost `[127.0.0.1]:1` (closed) | deferred, "Connection refused" |
//!
//! Mail with a content filter (`content_filter` on the filter listener, or a header_checks
//! `FILTER`) goes to the `scan:` transport, an smtp(8) client for the same closed port, so it is
//! deferred like the rest. A header_checks `REDIRECT` sends every recipient to `REDIRECT_TARGET`,
//! also deferred.

use std::time::Duration;

use super::smtp::{Mail, Session};

/// Our own domain (`mydomain`): the spammer forges senders in it.
pub const OUR_DOMAIN: &str = "ourdomain.example";

/// Labels of notable messages; `Instance::id_of(label)` gives their queue IDs.
pub mod label {
    /// The 5 MB message.
    pub const BIG: &str = "big-5mb";
    /// 150 recipients in 5 domains (`list1.example` … `list5.example`).
    pub const MANY_RCPTS: &str = "many-rcpts";
    /// `MAIL FROM:<>`.
    pub const NULL_SENDER: &str = "null-sender";
    /// The bounce (NDR) Postfix made for `BOUNCE_SOURCE`; null sender, deferred.
    pub const NDR: &str = "ndr";
    /// One recipient at `bounce.example` (bounced), one still deferred.
    pub const BOUNCE_SOURCE: &str = "bounce-source";
    /// One recipient at `discard.example` (`D` record), one deferred.
    pub const PARTLY_DELIVERED: &str = "partly-delivered";
    /// Sent to `sales@alias.example`, expanded by `virtual_alias_maps`.
    pub const VIRTUAL_ALIAS: &str = "virtual-alias";
    /// DSN: `RET=HDRS ENVID=QS-ENVID-0001`, `NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;…`.
    pub const DSN: &str = "dsn";
    /// SMTPUTF8 sender and recipient, `BODY=8BITMIME`.
    pub const SMTPUTF8: &str = "smtputf8";
    /// `BODY=8BITMIME` with Latin-1-range UTF-8 text, ASCII addresses.
    pub const EIGHT_BIT: &str = "8bitmime";
    /// Recipient `"odd user"@remote.example`.
    pub const QUOTED_LOCAL_PART: &str = "quoted-local-part";
    /// A 5.5 kB header line and a folded 6 kB header.
    pub const LONG_HEADERS: &str = "long-headers";
    /// XFORWARD NAME/ADDR/HELO/IDENT/PROTO (a content filter re-injecting).
    pub const XFORWARD: &str = "xforward";
    /// XCLIENT NAME/ADDR/HELO without LOGIN (no SASL).
    pub const XCLIENT_NO_LOGIN: &str = "xclient-no-login";
    /// Real `AUTH PLAIN` against the instance's sasldb (user `carol`).
    pub const AUTH_PLAIN: &str = "auth-plain";
    /// Written while an unreachable Milter was configured: `p`/`w` padding records.
    pub const MILTER: &str = "milter";
    /// Force-expired with `postsuper -e` (mode 0710).
    pub const EXPIRED: &str = "expired";
    /// Put on hold by a `header_checks` HOLD rule.
    pub const HELD_BY_HEADER: &str = "held-by-header";
    /// Put on hold by `postsuper -h`.
    pub const HELD_BY_POSTSUPER: &str = "held-by-postsuper";
    /// Sitting in `active` (delivery to a listener that never answers).
    pub const ACTIVE: &str = "active";
    /// Left in `incoming` (no qmgr).
    pub const INCOMING: &str = "incoming";
    /// Submitted with `sendmail` while stopped.
    pub const MAILDROP: &str = "maildrop";
    /// Prefix of the spammer's messages: `spam-00`, `spam-01`, …
    pub const SPAM_PREFIX: &str = "spam-";
    /// Sent to the filter listener (`-o content_filter=…`): smtpd writes an envelope `L`
    /// (content_filter) record; that listener's cleanup (`delay_warning_time = 4h`) a `W`
    /// (warning_message_time) record. No other message has either.
    pub const CONTENT_FILTER: &str = "content-filter";
    /// Subject `[FILTER]`: header_checks `FILTER` makes cleanup write an `L` (content_filter)
    /// record in the extracted segment (cleanup_extracted.c).
    pub const HEADER_FILTER: &str = "header-filter";
    /// Subject `[REDIRECT]`: header_checks `REDIRECT` makes cleanup write a `>` (redirect_to)
    /// record in the extracted segment; the `R` recipient stays the original one.
    pub const REDIRECT: &str = "redirect";
    /// `MAIL FROM:<…> XVERP=-=` over SMTP: a `V` (verp_delimiters) record `-=` in a deferred
    /// message (smtpd.c, cleanup_envelope.c).
    pub const VERP: &str = "verp";
    /// `sendmail -XV` while stopped: a `V` record `+=` (default_verp_delimiters) in maildrop,
    /// written by sendmail itself (sendmail.c).
    pub const VERP_MAILDROP: &str = "maildrop-verp";
    /// The labels above, whose records the rest of the bed lacks.
    pub const RARE_RECORDS: [&str; 5] =
        [CONTENT_FILTER, HEADER_FILTER, REDIRECT, VERP, VERP_MAILDROP];
}

/// Where header_checks `REDIRECT` sends `label::REDIRECT`'s recipient.
pub const REDIRECT_TARGET: &str = "quarantine@remote.example";
/// The content filter both `label::CONTENT_FILTER` and `label::HEADER_FILTER` get: the `scan`
/// transport (an smtp(8) in master.cf) to a closed port.
pub const FILTER_NEXTHOP: &str = "scan:[127.0.0.1]:1";

/// The SASL user who sends many messages with forged senders.
pub const SPAMMER: &str = "mallory";
/// The SASL users who send normal mail (XCLIENT LOGIN), and the one with a real password.
pub const NORMAL_USERS: [&str; 3] = ["alice", "bob", "dave"];
pub const AUTH_USER: (&str, &str) = ("carol", "carol-secret");

/// Which populated queue to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Profile {
    /// Every case listed in `label`, in every queue, including the 5 MB message.
    Full,
    /// A small realistic queue for `testdata/demo-queue`: deferred (varied reasons), hold,
    /// active, a few SASL users, a spammer, a bounce. No big messages.
    Demo,
}

/// Where a message is expected to be once its phase is over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    Deferred,
    Hold,
    Active,
    Incoming,
}

/// Which smtpd listener of the instance a session talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listener {
    Plain,
    /// `smtpd_milters` = a closed port, `milter_default_action = accept`.
    Milter,
    /// `content_filter = FILTER_NEXTHOP`, and its own cleanup with `delay_warning_time = 4h`.
    Filter,
}

/// One SMTP session and, for each of its mails, what should become of it.
pub struct Submission {
    pub listener: Listener,
    pub session: Session,
    /// `expected[i]` is about `session.mails[i]`.
    pub expected: Vec<Expected>,
}

/// What should become of one mail.
pub struct Expected {
    pub label: String,
    pub fate: Fate,
    /// A recipient bounces (`bounce.example`), so Postfix makes a (deferred) NDR.
    pub makes_ndr: bool,
}

impl Submission {
    fn new(listener: Listener, xclient: Vec<(&'static str, String)>) -> Submission {
        let session = Session {
            xclient,
            ..Session::default()
        };
        Submission {
            listener,
            session,
            expected: Vec::new(),
        }
    }

    fn mail(mut self, label: &str, fate: Fate, mail: Mail) -> Submission {
        let makes_ndr = mail
            .rcpts
            .iter()
            .any(|(r, _)| r.ends_with("@bounce.example"));
        self.session.mails.push(mail);
        let label = label.to_string();
        self.expected.push(Expected {
            label,
            fate,
            makes_ndr,
        });
        self
    }
}

/// Everything one build injects, phase by phase (see `Instance::populate`).
pub struct Plan {
    /// Phase 1, full Postfix running: ends in deferred, hold (header_checks) and active.
    pub smtp: Vec<Submission>,
    /// Phase 2, qmgr left out of master.cf: stays in incoming.
    pub incoming: Vec<Submission>,
    /// Phase 3, stopped: `sendmail` into maildrop; `(label, mail, extra sendmail options)`.
    pub maildrop: Vec<(String, Mail, Vec<&'static str>)>,
    /// Phase 4, stopped: labels to `postsuper -h`, then to `postsuper -e`.
    pub hold: Vec<&'static str>,
    pub expire: Vec<&'static str>,
}

pub fn plan(profile: Profile) -> Plan {
    match profile {
        Profile::Full => full_plan(),
        Profile::Demo => demo_plan(),
    }
}

/// `transport_maps` (texthash): per-domain fates; `slow_port` is the silent listener.
pub fn transport_map(slow_port: u16) -> String {
    format!(
        "greylist.example   retry:4.7.1 Greylisted, please try again later\n\
         ratelimit.example  retry:4.7.0 Too many messages from this sender, slow down\n\
         discard.example    discard:\n\
         bounce.example     error:5.1.1 Recipient address rejected: User unknown\n\
         slow.example       slow:[127.0.0.1]:{slow_port}\n"
    )
}

/// `virtual_alias_maps` (texthash).
pub fn virtual_map() -> String {
    "sales@alias.example  alice.sales@remote.example, bob.sales@other.example\n".to_string()
}

/// `header_checks` (regexp). Each rule matches a Subject tag only its own bed message has.
pub fn header_checks() -> String {
    format!(
        "/^Subject:.*\\[HOLD\\]/ HOLD held by header_checks\n\
         /^Subject:.*\\[FILTER\\]/ FILTER {FILTER_NEXTHOP}\n\
         /^Subject:.*\\[REDIRECT\\]/ REDIRECT {REDIRECT_TARGET}\n"
    )
}

/// The whole bed. The SMTP sessions run in the order listed here (other tests count on the
/// labels and counts this makes), so each helper returns its submissions in that order.
fn full_plan() -> Plan {
    use label::*;
    let mut smtp = people();
    smtp.extend(other_clients());
    smtp.extend(server_records());
    smtp.push(spammer(30));
    Plan {
        smtp,
        incoming: incoming(),
        maildrop: maildrop(),
        hold: vec![HELD_BY_POSTSUPER],
        expire: vec![EXPIRED],
    }
}

/// Authenticated users (by XCLIENT LOGIN or AUTH PLAIN): alice, bob, dave, carol.
fn people() -> Vec<Submission> {
    use label::*;
    let alice = Submission::new(Listener::Plain, xclient_user("alice", 10))
        .mail(
            "alice-1",
            Fate::Deferred,
            mail("alice", "friend@remote.example", "Lunch"),
        )
        .mail(DSN, Fate::Deferred, dsn_mail())
        .mail(
            QUOTED_LOCAL_PART,
            Fate::Deferred,
            mail("alice", "\"odd user\"@remote.example", "Hi"),
        )
        .mail(
            EXPIRED,
            Fate::Deferred,
            mail("alice", "late@other.example", "Too late"),
        )
        .mail(
            HELD_BY_POSTSUPER,
            Fate::Deferred,
            mail("alice", "ops@other.example", "Hold me"),
        );
    let bob = Submission::new(Listener::Plain, xclient_user("bob", 11))
        .mail(
            PARTLY_DELIVERED,
            Fate::Deferred,
            mail("bob", "gone@discard.example,stays@remote.example", "Partly"),
        )
        .mail(
            BOUNCE_SOURCE,
            Fate::Deferred,
            mail(
                "bob",
                "nobody@bounce.example,somebody@remote.example",
                "Bounce",
            ),
        )
        .mail(
            VIRTUAL_ALIAS,
            Fate::Deferred,
            mail("bob", "sales@alias.example", "Offer"),
        )
        .mail(
            HELD_BY_HEADER,
            Fate::Hold,
            mail("bob", "boss@remote.example", "[HOLD] Review"),
        );
    let dave = Submission::new(Listener::Plain, xclient_user("dave", 12))
        .mail(SMTPUTF8, Fate::Deferred, smtputf8_mail())
        .mail(EIGHT_BIT, Fate::Deferred, eight_bit_mail())
        .mail(LONG_HEADERS, Fate::Deferred, long_headers_mail())
        .mail(
            "greylisted",
            Fate::Deferred,
            mail("dave", "x@greylist.example", "Grey"),
        )
        .mail(
            "ratelimited",
            Fate::Deferred,
            mail("dave", "y@ratelimit.example", "Rate"),
        );
    let mut carol = Submission::new(Listener::Plain, Vec::new()).mail(
        AUTH_PLAIN,
        Fate::Deferred,
        mail("carol", "peer@other.example", "Authenticated"),
    );
    carol.session.auth = Some((AUTH_USER.0.to_string(), AUTH_USER.1.to_string()));
    vec![alice, bob, dave, carol]
}

/// Clients without a login: XCLIENT without LOGIN, XFORWARD, and plain local SMTP.
fn other_clients() -> Vec<Submission> {
    use label::*;
    let xclient_only = Submission::new(
        Listener::Plain,
        vec![
            ("NAME", "mail.partner.example".to_string()),
            ("ADDR", "192.0.2.20".to_string()),
            ("HELO", "helo.partner.example".to_string()),
        ],
    )
    .mail(
        XCLIENT_NO_LOGIN,
        Fate::Deferred,
        mail("partner", "contact@remote.example", "Hello"),
    );
    let mut xforward = Submission::new(Listener::Plain, Vec::new()).mail(
        XFORWARD,
        Fate::Deferred,
        mail("filtered", "inbox@remote.example", "Filtered"),
    );
    xforward.session.xforward = vec![
        ("NAME", "filter-client.example".to_string()),
        ("ADDR", "198.51.100.23".to_string()),
        ("HELO", "helo.filter-client.example".to_string()),
        ("IDENT", "FILTER123".to_string()),
        ("PROTO", "ESMTP".to_string()),
    ];
    let local = Submission::new(Listener::Plain, Vec::new())
        .mail(NULL_SENDER, Fate::Deferred, null_sender_mail())
        .mail(MANY_RCPTS, Fate::Deferred, many_recipients_mail())
        .mail(BIG, Fate::Deferred, big_mail())
        .mail(
            &format!("{ACTIVE}-1"),
            Fate::Active,
            mail("alice", "a1@slow.example", "Slow 1"),
        )
        .mail(
            &format!("{ACTIVE}-2"),
            Fate::Active,
            mail("bob", "a2@slow.example", "Slow 2"),
        );
    vec![xclient_only, xforward, local]
}

/// Milter, content filter, header_checks FILTER/REDIRECT and VERP.
fn server_records() -> Vec<Submission> {
    use label::*;
    // The records real servers write and the rest of the bed lacks: content filter, redirect,
    // VERP, delay warning time (issue 13). All deferred, none from the spammer.
    let filter = Submission::new(Listener::Filter, xclient_user("alice", 10)).mail(
        CONTENT_FILTER,
        Fate::Deferred,
        mail("alice", "scanned@remote.example", "Through the filter"),
    );
    let mut verp = mail("lists", "subscriber@remote.example", "Digest");
    verp.from_params = "XVERP=-=".to_string();
    let header_actions = Submission::new(Listener::Plain, xclient_user("dave", 12))
        .mail(
            HEADER_FILTER,
            Fate::Deferred,
            mail("dave", "filtered@other.example", "[FILTER] Scan me"),
        )
        .mail(
            REDIRECT,
            Fate::Deferred,
            mail("dave", "intended@other.example", "[REDIRECT] Divert me"),
        );
    // XVERP is for `smtpd_authorized_verp_clients` (127.0.0.0/8 in main.cf): no XCLIENT.
    let verp = Submission::new(Listener::Plain, Vec::new()).mail(VERP, Fate::Deferred, verp);
    let milter = Submission::new(Listener::Milter, xclient_user("alice", 10))
        .mail(&format!("{MILTER}-1"), Fate::Deferred, short_header_mail())
        .mail(&format!("{MILTER}-2"), Fate::Deferred, null_sender_mail());
    vec![milter, filter, header_actions, verp]
}

/// Phase 2: messages left in incoming.
fn incoming() -> Vec<Submission> {
    use label::*;
    vec![Submission::new(Listener::Plain, xclient_user("bob", 11))
        .mail(
            &format!("{INCOMING}-1"),
            Fate::Incoming,
            mail("bob", "i1@remote.example", "In 1"),
        )
        .mail(
            &format!("{INCOMING}-2"),
            Fate::Incoming,
            mail("bob", "i2@other.example", "In 2"),
        )]
}

/// Phase 3: `sendmail` submissions left in maildrop, with their extra flags.
fn maildrop() -> Vec<(String, Mail, Vec<&'static str>)> {
    use label::*;
    vec![
        (
            format!("{MAILDROP}-1"),
            mail("alice", "md1@remote.example", "Local 1"),
            Vec::new(),
        ),
        (
            format!("{MAILDROP}-2"),
            mail("root", "md2@other.example", "Local 2"),
            Vec::new(),
        ),
        (
            VERP_MAILDROP.to_string(),
            mail("lists", "md3@remote.example", "Local digest"),
            vec!["-XV"],
        ),
    ]
}

fn demo_plan() -> Plan {
    use label::*;
    let alice = Submission::new(Listener::Plain, xclient_user("alice", 10))
        .mail(
            "alice-1",
            Fate::Deferred,
            mail("alice", "friend@remote.example", "Lunch on Friday"),
        )
        .mail(
            "alice-2",
            Fate::Deferred,
            mail("alice", "x@greylist.example", "Quarterly report"),
        )
        .mail(
            HELD_BY_POSTSUPER,
            Fate::Deferred,
            mail("alice", "ops@other.example", "Invoice"),
        );
    let bob = Submission::new(Listener::Plain, xclient_user("bob", 11))
        .mail(
            BOUNCE_SOURCE,
            Fate::Deferred,
            mail(
                "bob",
                "nobody@bounce.example,somebody@remote.example",
                "Meeting notes",
            ),
        )
        .mail(
            HELD_BY_HEADER,
            Fate::Hold,
            mail("bob", "boss@remote.example", "[HOLD] Contract"),
        )
        .mail(
            "bob-2",
            Fate::Deferred,
            mail("bob", "y@ratelimit.example", "Newsletter"),
        );
    let dave = Submission::new(Listener::Plain, xclient_user("dave", 12))
        .mail(
            "dave-1",
            Fate::Deferred,
            mail("dave", "team@other.example,z@greylist.example", "Plan"),
        )
        .mail(
            &format!("{ACTIVE}-1"),
            Fate::Active,
            mail("dave", "a1@slow.example", "Slow one"),
        );
    let mut smtp = vec![alice, bob, dave, spammer(20)];
    for submission in &mut smtp {
        // About 1.2 s in all, so that the IDs (and hash dirs) do not all start with 0–2.
        submission.session.pause = Duration::from_millis(40);
    }
    Plan {
        smtp,
        incoming: Vec::new(),
        maildrop: Vec::new(),
        hold: vec![HELD_BY_POSTSUPER],
        expire: Vec::new(),
    }
}

/// XCLIENT attributes of an authenticated user on address `192.0.2.<host>` (TEST-NET-1).
/// LOGIN sticks only with `smtpd_sasl_auth_enable = yes` (postfix-test-instance.md).
fn xclient_user(login: &str, host: u8) -> Vec<(&'static str, String)> {
    vec![
        ("NAME", format!("{login}-pc.clients.example")),
        ("ADDR", format!("192.0.2.{host}")),
        ("HELO", format!("{login}-pc")),
        ("LOGIN", login.to_string()),
    ]
}

/// The spammer: `count` messages with forged senders `AA@ourdomain.example`, `AB@…`, …, to
/// 1–3 recipients each, spread over several domains (and so several defer reasons).
fn spammer(count: usize) -> Submission {
    const DOMAINS: [&str; 6] = [
        "remote.example",
        "other.example",
        "list1.example",
        "greylist.example",
        "list2.example",
        "ratelimit.example",
    ];
    let xclient = vec![
        ("NAME", "dsl-203-0-113-66.isp.example".to_string()),
        ("ADDR", "203.0.113.66".to_string()),
        ("HELO", "WIN-7F3K2".to_string()),
        ("LOGIN", SPAMMER.to_string()),
    ];
    let mut submission = Submission::new(Listener::Plain, xclient);
    for i in 0..count {
        let letters = [b'A' + (i / 26) as u8, b'A' + (i % 26) as u8];
        let local = String::from_utf8_lossy(&letters).into_owned();
        let rcpts: Vec<String> = (0..1 + i % 3)
            .map(|j| format!("victim{i}{j}@{}", DOMAINS[(i + j) % DOMAINS.len()]))
            .collect();
        let mut m = mail(&local, &rcpts.join(","), "You have won a prize");
        m.content = m.content.replace(
            &format!("{local}@{OUR_DOMAIN}"),
            "Prize Desk <prize@winner.example>",
        );
        submission = submission.mail(&format!("{}{i:02}", label::SPAM_PREFIX), Fate::Deferred, m);
    }
    submission
}

/// A plain message from `user@ourdomain.example` (or `user@…` as given) to the
/// comma-separated recipients.
fn mail(user: &str, rcpts: &str, subject: &str) -> Mail {
    let from = if user.contains('@') {
        user.to_string()
    } else {
        format!("{user}@{OUR_DOMAIN}")
    };
    let body = format!("Hello,\n\nthis is a test message about \"{subject}\".\n\n-- \n{user}\n");
    Mail {
        content: message(&from, rcpts, subject, "", &body),
        from,
        from_params: String::new(),
        rcpts: rcpts
            .split(',')
            .map(|r| (r.to_string(), String::new()))
            .collect(),
    }
}

/// A message: the usual headers, `extra` header lines (each ending in `\n`), a blank line, body.
fn message(from: &str, to: &str, subject: &str, extra: &str, body: &str) -> String {
    format!(
        "From: {from}\nTo: {to}\nSubject: {subject}\nDate: Sun, 22 Nov 2026 10:00:00 +0000\n\
         MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n{extra}\n{body}"
    )
}

fn dsn_mail() -> Mail {
    let mut m = mail(
        "alice",
        "partner@remote.example,watcher@other.example",
        "DSN please",
    );
    m.from_params = "RET=HDRS ENVID=QS-ENVID-0001".to_string();
    m.rcpts[0].1 = "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;partner@remote.example".to_string();
    m.rcpts[1].1 = "NOTIFY=DELAY".to_string();
    m
}

fn smtputf8_mail() -> Mail {
    let mut m = mail(
        "dävé@ourdomain.example",
        "jörg@bücher.example",
        "Grüße aus Köln",
    );
    m.from_params = "SMTPUTF8 BODY=8BITMIME".to_string();
    m
}

fn eight_bit_mail() -> Mail {
    let mut m = mail("dave", "francois@remote.example", "Crème brûlée");
    m.content
        .push_str("Voilà: déjà vu, naïve façade, smörgåsbord.\n");
    m.from_params = "BODY=8BITMIME".to_string();
    m
}

/// One 5.5 kB header line (stored as `L` chunks by cleanup) and one folded 6 kB header.
fn long_headers_mail() -> Mail {
    let long = format!("X-Long-Header: {}\n", "0123456789abcdef".repeat(344));
    let folded: String = (0..180)
        .map(|i| format!("\tfolded-word-{i:03} continued text here\n"))
        .collect();
    let extra = format!("{long}X-Folded-Header: start\n{folded}");
    let mut m = mail("dave", "headers@remote.example", "Long headers");
    m.content = message(
        &m.from,
        "headers@remote.example",
        "Long headers",
        &extra,
        "Body.\n",
    );
    m
}

/// Headers shorter than 15 bytes: with a Milter configured, cleanup pads each with a `w`
/// record (postfix-queue-format.md §1.4).
fn short_header_mail() -> Mail {
    let mut m = mail("alice", "m1@remote.example", "Milter");
    m.content = message(
        &m.from,
        "m1@remote.example",
        "Milter",
        "X-Tag: m1\n",
        "Short.\n",
    );
    m
}

fn null_sender_mail() -> Mail {
    let body = "This is the mail system at host mx.elsewhere.example.\n\n\
                Your message could not be delivered.\n";
    Mail {
        from: String::new(),
        from_params: String::new(),
        rcpts: vec![("postmaster@remote.example".to_string(), String::new())],
        content: message(
            "MAILER-DAEMON@mx.elsewhere.example",
            "postmaster@remote.example",
            "Undelivered Mail Returned to Sender",
            "",
            body,
        ),
    }
}

/// 150 recipients, 30 in each of `list1.example` … `list5.example`.
fn many_recipients_mail() -> Mail {
    let rcpts: Vec<String> = (0..150)
        .map(|i| format!("member{i:03}@list{}.example", i % 5 + 1))
        .collect();
    let mut m = mail("alice", &rcpts.join(","), "Newsletter to everyone");
    m.content = message(
        &m.from,
        "undisclosed-recipients:;",
        "Newsletter to everyone",
        "",
        "News.\n",
    );
    m
}

/// A message a bit over 5 MiB (`message_size_limit` is raised in main.cf).
fn big_mail() -> Mail {
    let mut body = String::with_capacity(5_300_000);
    let mut n = 0;
    while body.len() < 5 * 1024 * 1024 {
        body.push_str(&format!(
            "{n:07} ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/\n"
        ));
        n += 1;
    }
    let mut m = mail("bob", "archive@remote.example", "Big attachment");
    m.content = message(
        &m.from,
        "archive@remote.example",
        "Big attachment",
        "",
        &body,
    );
    m
}
