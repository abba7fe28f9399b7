//! One generated message: what it is (who sent it, to whom, which queue, how
//! big, how old) and its bytes: the queue file in cleanup's record layout and,
//! for deferred mail, the defer logfile the bounce daemon would have written.
//!
//! A message is planned first (`Message::plan`, from the seed and its index
//! only) and rendered once its queue ID is known (`Message::render`), because
//! Postfix puts the ID inside the file too (`log_ident`, `Received:`,
//! `Message-Id:`) and the defer log quotes the offsets of the `R` records.

use queue_file::rec_type::*;
use queue_file::RecordWriter;

use crate::rng::{Rng, Weighted};
use crate::world::{self, Trouble, World, MY_HOSTNAME, OUR_ADDRESS, OUR_DOMAIN};

/// The message queues the generator fills (maildrop is left empty: its
/// files never went through cleanup and no tool under test treats them
/// differently at scale).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Queue {
    Incoming,
    Active,
    Deferred,
    Hold,
}

impl Queue {
    pub const ALL: [Queue; 4] = [Queue::Incoming, Queue::Active, Queue::Deferred, Queue::Hold];

    /// The directory name under the queue directory.
    pub fn name(self) -> &'static str {
        match self {
            Queue::Incoming => "incoming",
            Queue::Active => "active",
            Queue::Deferred => "deferred",
            Queue::Hold => "hold",
        }
    }
}

/// Who sent a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The stolen SASL login, with a forged sender in our domain.
    Spam,
    /// A normal SASL user (index into `World::users`).
    User(usize),
    /// An unauthenticated client on our networks: relay index, sender index.
    Relay(usize, usize),
    /// A local submission (sendmail, picked up): cron and system mail.
    Local,
    /// A non-delivery notification: the null sender.
    Bounce,
}

/// One envelope recipient.
#[derive(Clone, Debug)]
pub struct Rcpt {
    pub address: String,
    /// The `O` record when it differs (virtual alias forwarding).
    pub original: Option<String>,
    /// Delivered already: written as `D`, not listed by postqueue.
    pub done: bool,
    /// Index into `World::domains`.
    pub domain: usize,
}

/// A planned message.
#[derive(Clone, Debug)]
pub struct Message {
    pub index: u64,
    pub kind: Kind,
    pub queue: Queue,
    /// False for the few files still being written (mode 0600, truncated).
    pub complete: bool,
    /// Mode 0710 (`postsuper -e`).
    pub forced_expire: bool,
    /// The microseconds part of the queue ID (and so its hash directory).
    pub usec: u32,
    pub arrival: i64,
    pub sender: String,
    pub recipients: Vec<Rcpt>,
    /// Content size aimed at (the `C` record's first field ends up close).
    pub target_size: usize,
    /// Bytes of attachment to add on top of the text (0: none).
    pub attachment: usize,
    pub defer_log: bool,
    /// The file's mtime (for deferred mail: the next retry time).
    pub mtime: i64,
    /// ORCPT given by the client (`A dsn_orig_rcpt` per recipient).
    pub orcpt: bool,
    rng: Rng,
    /// Seeds the defer log's choices (kept apart from the content's).
    log_seed: u64,
}

/// What the planner needs to know about the whole run.
#[derive(Clone, Debug)]
pub struct PlanConfig {
    pub seed: u64,
    pub now: i64,
    /// Ages of normal mail spread over this many seconds.
    pub spread_secs: i64,
    /// The spammer's burst: the last this many seconds.
    pub spam_secs: i64,
    pub spam_share: f64,
}

/// One in this many messages is a file still being written.
pub const IN_PROGRESS_EVERY: u64 = 2000;

const SPAM_SUBJECTS: &[&str] = &[
    "You have won a prize",
    "Your account will be suspended",
    "Invoice #{n} overdue - action required",
    "Re: your parcel could not be delivered",
    "Urgent: verify your mailbox",
    "Claim your refund of EUR {n}",
    "Cheap meds, no prescription",
    "Hot singles in your area",
    "Your password expires today",
    "Payment confirmation {n}",
];
const SUBJECTS: &[&str] = &[
    "Meeting notes",
    "Re: quarterly report",
    "Invoice {n}",
    "Your order {n} has shipped",
    "Fwd: photos from the weekend",
    "Re: Re: project plan",
    "Lunch tomorrow?",
    "Updated contract draft",
    "Ticket #{n}: status update",
    "Newsletter {n}",
    "Re: holiday schedule",
    "Question about your offer",
    "Cron <root@mx> /usr/local/bin/backup",
    "[monitor] PROBLEM: disk usage on web{n}",
    "Scan from office printer",
];
#[rustfmt::skip]
const WORDS: &[&str] = &[
    "the", "of", "and", "to", "in", "we", "please", "find", "attached", "report", "meeting",
    "next", "week", "thanks", "regards", "project", "update", "budget", "review", "draft",
    "customer", "order", "delivery", "invoice", "schedule", "team", "office", "question", "answer",
    "tomorrow", "morning", "afternoon", "call", "me", "when", "you", "have", "time", "let", "know",
    "if", "anything", "changes", "best", "wishes", "lorem", "ipsum", "dolor", "sit", "amet",
    "consectetur", "adipiscing", "elit", "sed", "do", "eiusmod", "tempor", "incididunt", "ut",
    "labore", "et", "dolore", "magna", "aliqua", "über", "naïve", "café",
];
const ATTACHMENTS: &[(&str, &str)] = &[
    ("application/pdf", "invoice.pdf"),
    ("application/pdf", "report-q3.pdf"),
    ("image/jpeg", "IMG_4711.jpg"),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "contract.docx",
    ),
    ("application/zip", "photos.zip"),
];

/// The recipients of a message of `kind`: how many, in which domains,
/// some forwarded (an `O` original recipient), some already delivered.
fn plan_recipients(world: &World, kind: Kind, queue: Queue, rng: &mut Rng) -> Vec<Rcpt> {
    let count = match kind {
        Kind::Bounce => 1,
        Kind::Spam => 1 + Weighted::new([30.0, 25.0, 20.0, 15.0, 10.0]).sample(rng),
        _ => 1 + Weighted::new([60.0, 20.0, 10.0, 6.0, 4.0]).sample(rng),
    };
    let domains = match kind {
        Kind::Spam => &world.spam_domains,
        _ => &world.normal_domains,
    };
    let forwarded = !matches!(kind, Kind::Spam | Kind::Bounce) && rng.chance(0.01);
    let mut recipients: Vec<Rcpt> = (0..count)
        .map(|i| {
            let domain = domains.sample(rng);
            let local = match kind {
                Kind::Spam if rng.chance(0.3) => rng
                    .pick(&["info", "contact", "sales", "admin", "office", "support"])
                    .to_string(),
                _ => world::local_part(rng),
            };
            let original = (forwarded && i == 0)
                .then(|| format!("{}@{OUR_DOMAIN}", rng.pick(&["info", "sales", "webmaster"])));
            Rcpt {
                address: format!("{local}@{}", world.domains[domain].name),
                original,
                done: false,
                domain,
            }
        })
        .collect();
    if recipients.len() >= 2 && queue != Queue::Incoming && rng.chance(0.15) {
        let done = rng.range(1, recipients.len() as u64 - 1) as usize;
        recipients.iter_mut().take(done).for_each(|r| r.done = true);
    }
    recipients
}

impl Message {
    /// Plans message `index`. `attachment` is the attachment size the size
    /// budget allows it (`attachment_plan` in lib.rs); spam ignores it.
    pub fn plan(world: &World, cfg: &PlanConfig, index: u64, attachment: usize) -> Message {
        let mut rng = Rng::new(cfg.seed, index);
        let kind = if rng.chance(cfg.spam_share) {
            Kind::Spam
        } else {
            match rng.below(100) {
                0..=59 => Kind::User(world.user_weights.sample(&mut rng)),
                60..=84 => {
                    let r = rng.below(world.relays.len() as u64) as usize;
                    let s = rng.below(world.relays[r].senders.len() as u64) as usize;
                    Kind::Relay(r, s)
                }
                85..=91 => Kind::Bounce,
                _ => Kind::Local,
            }
        };
        let complete = index % IN_PROGRESS_EVERY != IN_PROGRESS_EVERY / 2;
        let queue = if !complete {
            Queue::Incoming
        } else {
            match rng.below(100) {
                0..=1 => Queue::Incoming,
                2..=3 => Queue::Active,
                4..=5 => Queue::Hold,
                _ => Queue::Deferred,
            }
        };
        let age = match (queue, kind) {
            (Queue::Incoming, _) => rng.range(0, 120) as i64,
            (_, Kind::Spam) => rng.range(0, cfg.spam_secs.max(1) as u64) as i64,
            _ if rng.chance(0.5) => {
                // Log-uniform between a minute and the spread: qshape's
                // doubling buckets all get some mail.
                let hi = (cfg.spread_secs.max(61) as f64).ln();
                (60f64.ln() + rng.unit() * (hi - 60f64.ln())).exp() as i64
            }
            _ => rng.range(0, cfg.spread_secs.max(1) as u64) as i64,
        };
        let arrival = cfg.now - age;
        let sender = match kind {
            Kind::Spam => {
                let a = (b'A' + rng.below(26) as u8) as char;
                let b = (b'A' + rng.below(26) as u8) as char;
                format!("{a}{b}@{OUR_DOMAIN}")
            }
            Kind::User(u) => world.users[u].sender.clone(),
            Kind::Relay(r, s) => world.relays[r].senders[s].clone(),
            Kind::Local => rng
                .pick(&["root@mx.ourdomain.example", "logwatch@mx.ourdomain.example"])
                .to_string(),
            Kind::Bounce => String::new(),
        };
        let recipients = plan_recipients(world, kind, queue, &mut rng);
        let target_size = match kind {
            Kind::Spam => 900 + rng.lognormal(450.0, 0.35) as usize,
            Kind::Bounce => 2300 + rng.lognormal(600.0, 0.8) as usize,
            _ => 1000 + rng.lognormal(300.0, 1.0) as usize,
        };
        let attachment = match kind {
            Kind::Spam => 0,
            _ => attachment,
        };
        let defer_log = match queue {
            Queue::Deferred => true,
            // Held after a delivery attempt: the defer log stays.
            Queue::Hold => rng.chance(0.5),
            Queue::Incoming | Queue::Active => false,
        };
        let forced_expire = complete && queue == Queue::Deferred && rng.chance(0.002);
        let mtime = match queue {
            // qmgr sets a deferred file's mtime to its next retry time.
            Queue::Deferred => cfg.now + rng.range(60, 4000) as i64,
            Queue::Active => cfg.now - rng.range(0, 300) as i64,
            _ => arrival,
        };
        let orcpt = matches!(kind, Kind::User(_)) && rng.chance(0.2);
        Message {
            index,
            kind,
            queue,
            complete,
            forced_expire,
            usec: rng.below(1_000_000) as u32,
            arrival,
            sender,
            recipients,
            target_size,
            attachment,
            defer_log,
            mtime,
            orcpt,
            log_seed: rng.next_u64(),
            rng,
        }
    }

    /// True for the spammer's messages.
    pub fn is_spam(&self) -> bool {
        self.kind == Kind::Spam
    }

    /// The queue file and (if any) its defer log, for queue ID `id`.
    pub fn render(&self, world: &World, id: &str) -> Rendered {
        let mut rng = self.rng.clone();
        let mut w = RecordWriter::new();
        let size_at = w.record(REC_TYPE_SIZE, &[b' '; 95]);
        let arrival_usec = rng.below(1_000_000);
        w.record(
            REC_TYPE_TIME,
            format!("{} {arrival_usec}", self.arrival).as_bytes(),
        );
        let create = self.arrival - rng.below(2) as i64;
        attr(&mut w, "create_time", &create.to_string());
        let client = self.client(world, &mut rng);
        match self.kind {
            Kind::Bounce => {
                attr(&mut w, "log_message_origin", "local");
                attr(&mut w, "trace_flags", "0");
            }
            Kind::Local => {
                attr(&mut w, "log_ident", id);
                attr(&mut w, "rewrite_context", "local");
            }
            _ => {
                attr(&mut w, "log_ident", id);
                attr(&mut w, "rewrite_context", "remote");
            }
        }
        if let Some(c) = &client {
            if let Some((method, login)) = &c.sasl {
                attr(&mut w, "sasl_method", method);
                attr(&mut w, "sasl_username", login);
            }
        }
        w.record(REC_TYPE_FROM, self.sender.as_bytes());
        if let Some(c) = &client {
            let origin = format!("{}[{}]", c.name, c.addr);
            for (name, value) in [
                ("log_client_name", c.name.as_str()),
                ("log_client_address", c.addr.as_str()),
                ("log_client_port", &c.port.to_string()),
                ("log_message_origin", &origin),
                ("log_helo_name", &c.helo),
                ("log_protocol_name", c.protocol),
                ("client_name", &c.name),
                ("reverse_client_name", &c.name),
                ("client_address", &c.addr),
                ("client_port", &c.port.to_string()),
                ("server_address", OUR_ADDRESS),
                ("server_port", if c.sasl.is_some() { "587" } else { "25" }),
                ("helo_name", &c.helo),
                ("protocol_name", c.protocol),
                ("client_address_type", "2"),
            ] {
                attr(&mut w, name, value);
            }
        } else if self.kind == Kind::Local {
            attr(&mut w, "log_message_origin", "local");
        }
        let mut offsets = Vec::with_capacity(self.recipients.len());
        for r in &self.recipients {
            let original = r.original.as_deref().unwrap_or(&r.address);
            if self.orcpt || self.kind == Kind::Bounce {
                attr(&mut w, "dsn_orig_rcpt", &format!("rfc822;{original}"));
            }
            w.record(REC_TYPE_ORCP, original.as_bytes());
            let ty = if r.done { REC_TYPE_DONE } else { REC_TYPE_RCPT };
            offsets.push(w.record(ty, r.address.as_bytes()));
        }
        w.record(REC_TYPE_MESG, b"");
        let data_offset = w.position();
        let mut body = Body {
            w: &mut w,
            truncate_at: None,
        };
        self.content(world, &mut rng, id, client.as_ref(), &mut body, data_offset);
        let truncate_at = body.truncate_at;
        let data_size = w.position() - data_offset;
        w.record(REC_TYPE_XTRA, b"");
        w.record(REC_TYPE_END, b"");
        let rcpts = self.recipients.len();
        // cleanup writes zeros first and the real sizes when it finishes;
        // a file still being written has the zeros.
        let size = if self.complete {
            format!(
                "{data_size:15} {data_offset:15} {rcpts:15} {:15} {data_size:15} {:15}",
                0, 0
            )
        } else {
            format!("{0:15} {0:15} {0:15} {0:15} {0:15} {0:15}", 0)
        };
        w.overwrite(size_at + 2, size.as_bytes());
        let mut queue_file = w.into_bytes();
        if !self.complete {
            queue_file.truncate(truncate_at.unwrap_or(data_offset) as usize);
        }
        let defer_log = (self.defer_log && self.complete).then(|| self.defer_log(world, &offsets));
        Rendered {
            queue_file,
            defer_log,
            message_size: data_size,
        }
    }

    fn client(&self, world: &World, rng: &mut Rng) -> Option<Client> {
        let port = rng.range(1024, 65535) as u16;
        match self.kind {
            Kind::Spam => {
                let host = rng.range(1, 254);
                Some(Client {
                    name: format!("dsl-203-0-113-{host}.isp.example"),
                    addr: format!("203.0.113.{host}"),
                    port,
                    helo: format!(
                        "WIN-{:X}{:X}",
                        rng.range(0x1000, 0xFFFF),
                        rng.range(0x10, 0xFF)
                    ),
                    protocol: "ESMTPA",
                    sasl: Some(("LOGIN".into(), world.spammer.clone())),
                })
            }
            Kind::User(u) => {
                let user = &world.users[u];
                Some(Client {
                    name: user.client_name.clone(),
                    addr: user.client_addr.clone(),
                    port,
                    helo: user.helo.clone(),
                    protocol: "ESMTPSA",
                    sasl: Some((user.method.into(), user.login.clone())),
                })
            }
            Kind::Relay(r, _) => {
                let relay = &world.relays[r];
                Some(Client {
                    name: relay.client_name.clone(),
                    addr: relay.client_addr.clone(),
                    port,
                    helo: relay.helo.clone(),
                    protocol: "ESMTP",
                    sasl: None,
                })
            }
            Kind::Local | Kind::Bounce => None,
        }
    }

    /// Header and body lines, up to the target size.
    fn content(
        &self,
        world: &World,
        rng: &mut Rng,
        id: &str,
        client: Option<&Client>,
        body: &mut Body,
        data_offset: u64,
    ) {
        let date = rfc2822(self.arrival);
        let todo: Vec<&Rcpt> = self.recipients.iter().collect();
        self.received(id, client, &todo, &date, body);
        let to = todo
            .iter()
            .map(|r| r.original.as_deref().unwrap_or(&r.address))
            .collect::<Vec<_>>()
            .join(", ");
        let n = rng.range(1000, 99999);
        let message_id = format!("<{}.{id}@{MY_HOSTNAME}>", compact_date(self.arrival));
        match self.kind {
            Kind::Bounce => return self.bounce_content(rng, id, &date, body, data_offset),
            Kind::Spam => {
                let subject = rng.pick(SPAM_SUBJECTS).replace("{n}", &n.to_string());
                body.line(&format!(
                    "From: {} <{}>",
                    rng.pick(&["Account Security", "Prize Desk", "Billing", "Post Office"]),
                    self.sender
                ));
                body.line(&format!("To: {to}"));
                body.line(&format!("Subject: {subject}"));
                body.line(&format!("Date: {date}"));
                body.line(&format!("Message-ID: {message_id}"));
                body.line("MIME-Version: 1.0");
                body.line("Content-Type: text/plain; charset=utf-8");
                body.line("X-Mailer: PHPMailer 6.8.1");
                body.line("");
                body.line("Dear customer,");
                body.line("");
                body.line(&format!(
                    "{subject}. Please confirm your details within 24 hours at"
                ));
                body.line(&format!(
                    "http://{:x}.login-verify.example/account?id={n}",
                    rng.next_u64() >> 32
                ));
                body.line("");
            }
            _ => {
                let subject = rng.pick(SUBJECTS).replace("{n}", &n.to_string());
                let from = match self.kind {
                    Kind::User(u) => {
                        format!("{} <{}>", world.users[u].display, self.sender)
                    }
                    _ => self.sender.clone(),
                };
                body.line(&format!("From: {from}"));
                body.line(&format!("To: {to}"));
                body.line(&format!("Subject: {subject}"));
                body.line(&format!("Date: {date}"));
                match self.kind {
                    // Mail clients make their own Message-ID; cleanup adds
                    // one for the rest.
                    Kind::User(u) => {
                        body.line(&format!(
                            "Message-ID: <{:016x}@{}>",
                            rng.next_u64(),
                            world.users[u].helo.trim_matches(['[', ']'])
                        ));
                        body.line(&format!("User-Agent: {}", world.users[u].mailer));
                    }
                    _ => body.line(&format!("Message-Id: {message_id}")),
                }
                body.line("MIME-Version: 1.0");
            }
        }
        self.body_parts(rng, body, data_offset);
    }

    /// The `Received:` header Postfix's smtpd (or pickup) adds, with the
    /// truncation mark after its first line.
    fn received(
        &self,
        id: &str,
        client: Option<&Client>,
        todo: &[&Rcpt],
        date: &str,
        body: &mut Body,
    ) {
        match client {
            Some(c) => {
                body.line(&format!(
                    "Received: from {} ({} [{}])",
                    c.helo, c.name, c.addr
                ));
                body.mark_truncation();
                if todo.len() == 1 {
                    body.line(&format!(
                        "\tby {MY_HOSTNAME} (Postfix) with {} id {id}",
                        c.protocol
                    ));
                    body.line(&format!("\tfor <{}>; {date} (UTC)", todo[0].address));
                } else {
                    body.line(&format!(
                        "\tby {MY_HOSTNAME} (Postfix) with {} id {id};",
                        c.protocol
                    ));
                    body.line(&format!("\t{date} (UTC)"));
                }
            }
            None => {
                let by = if self.kind == Kind::Local {
                    format!("Received: by {MY_HOSTNAME} (Postfix, from userid 0)")
                } else {
                    format!("Received: by {MY_HOSTNAME} (Postfix)")
                };
                body.line(&by);
                body.mark_truncation();
                body.line(&format!("\tid {id}; {date} (UTC)"));
            }
        }
    }

    /// The body: text, or text and an attachment in a multipart message.
    fn body_parts(&self, rng: &mut Rng, body: &mut Body, data_offset: u64) {
        if self.attachment > 0 {
            let boundary = format!("=_b{:016x}", rng.next_u64());
            let (mime, name) = *rng.pick(ATTACHMENTS);
            body.line(&format!(
                "Content-Type: multipart/mixed; boundary=\"{boundary}\""
            ));
            body.line("");
            body.line("This is a multi-part message in MIME format.");
            body.line(&format!("--{boundary}"));
            body.line("Content-Type: text/plain; charset=utf-8");
            body.line("Content-Transfer-Encoding: 8bit");
            body.line("");
            body.text(rng, data_offset + (self.target_size as u64).min(1500));
            body.line(&format!("--{boundary}"));
            body.line(&format!("Content-Type: {mime}; name=\"{name}\""));
            body.line("Content-Transfer-Encoding: base64");
            body.line(&format!(
                "Content-Disposition: attachment; filename=\"{name}\""
            ));
            body.line("");
            let end = body.w.position() + self.attachment as u64;
            body.base64(rng, end);
            body.line(&format!("--{boundary}--"));
        } else {
            if self.kind != Kind::Spam {
                body.line("Content-Type: text/plain; charset=utf-8");
                body.line("Content-Transfer-Encoding: 8bit");
                body.line("");
            }
            body.text(rng, data_offset + self.target_size as u64);
        }
    }

    /// A Postfix-style non-delivery report for spam that came in with a
    /// forged sender (backscatter): the forged sender is our recipient.
    fn bounce_content(
        &self,
        rng: &mut Rng,
        id: &str,
        date: &str,
        body: &mut Body,
        data_offset: u64,
    ) {
        let rcpt = &self.recipients[0].address;
        let orig_id = format!(
            "{:05X}{:X}",
            rng.below(1_000_000),
            rng.range(0x100000, 0xFFFFFF)
        );
        let boundary = format!("{orig_id}.{}/{MY_HOSTNAME}", self.arrival);
        let victim = format!("{}@{OUR_DOMAIN}", world::local_part(rng));
        let message_id = format!("<{}.{id}@{MY_HOSTNAME}>", compact_date(self.arrival));
        for line in [
            format!("Date: {date} (UTC)"),
            format!("From: Mail Delivery System <MAILER-DAEMON@{MY_HOSTNAME}>"),
            "Subject: Undelivered Mail Returned to Sender".into(),
            format!("To: {rcpt}"),
            "Auto-Submitted: auto-replied".into(),
            "MIME-Version: 1.0".into(),
            "Content-Type: multipart/report; report-type=delivery-status;".into(),
            format!("\tboundary=\"{boundary}\""),
            "Content-Transfer-Encoding: 8bit".into(),
            format!("Message-Id: {message_id}"),
            String::new(),
            "This is a MIME-encapsulated message.".into(),
            String::new(),
            format!("--{boundary}"),
            "Content-Description: Notification".into(),
            "Content-Type: text/plain; charset=utf-8".into(),
            "Content-Transfer-Encoding: 8bit".into(),
            String::new(),
            format!("This is the mail system at host {MY_HOSTNAME}."),
            String::new(),
            "I'm sorry to have to inform you that your message could not".into(),
            "be delivered to one or more recipients. It's attached below.".into(),
            String::new(),
            "For further assistance, please send mail to postmaster.".into(),
            String::new(),
            "If you do so, please include this problem report. You can".into(),
            "delete your own text from the attached returned message.".into(),
            String::new(),
            "                   The mail system".into(),
            String::new(),
            format!(
                "<{victim}>: unknown user: \"{}\"",
                victim.split('@').next().unwrap_or("")
            ),
            String::new(),
            format!("--{boundary}"),
            "Content-Description: Delivery report".into(),
            "Content-Type: message/delivery-status".into(),
            String::new(),
            format!("Reporting-MTA: dns; {MY_HOSTNAME}"),
            format!("X-Postfix-Queue-ID: {orig_id}"),
            format!("X-Postfix-Sender: rfc822; {rcpt}"),
            format!("Arrival-Date: {date} (UTC)"),
            String::new(),
            format!("Final-Recipient: rfc822; {victim}"),
            "Action: failed".into(),
            "Status: 5.1.1".into(),
            "Diagnostic-Code: X-Postfix; unknown user".into(),
            String::new(),
            format!("--{boundary}"),
            "Content-Description: Undelivered Message".into(),
            "Content-Type: message/rfc822".into(),
            "Content-Transfer-Encoding: 8bit".into(),
            String::new(),
            format!("Return-Path: <{rcpt}>"),
            format!(
                "Received: from [203.0.113.{}] (unknown [203.0.113.{0}])",
                rng.range(1, 254)
            ),
            format!("\tby {MY_HOSTNAME} (Postfix) with ESMTP id {orig_id}"),
            format!("\tfor <{victim}>; {date} (UTC)"),
            format!("From: <{rcpt}>"),
            format!("To: <{victim}>"),
            format!("Subject: {}", rng.pick(SPAM_SUBJECTS).replace("{n}", "7")),
            String::new(),
        ] {
            body.line(&line);
        }
        let end = data_offset + self.target_size as u64 + self.attachment as u64;
        body.text(rng, end.saturating_sub(60));
        body.line("");
        body.line(&format!("--{boundary}--"));
    }

    /// The defer logfile: one entry per recipient still to do, in the
    /// format of Postfix's bounce daemon (postfix-queue-format.md §5.5).
    fn defer_log(&self, world: &World, offsets: &[u64]) -> Vec<u8> {
        let mut rng = Rng::new(self.log_seed, self.index);
        let mut entries: Vec<(usize, &Rcpt)> = self
            .recipients
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.done)
            .collect();
        // Agents append as destinations are tried, not in file order.
        if rng.chance(0.5) {
            entries.reverse();
        }
        let mut out = String::with_capacity(400 * entries.len());
        for (i, r) in entries {
            let domain = &world.domains[r.domain];
            let d = delay(domain, &r.address, &mut rng);
            out.push('\n');
            out.push_str(&format!("<{}>: {}\n", r.address, d.reason));
            out.push_str(&format!("recipient={}\n", r.address));
            if let Some(o) = &r.original {
                if !o.eq_ignore_ascii_case(&r.address) {
                    out.push_str(&format!("original_recipient={o}\n"));
                }
            }
            out.push_str(&format!("offset={}\n", offsets[i]));
            if self.orcpt || self.kind == Kind::Bounce {
                let o = r.original.as_deref().unwrap_or(&r.address);
                out.push_str(&format!("dsn_orig_rcpt=rfc822;{o}\n"));
            }
            out.push_str(&format!("status={}\naction=delayed\n", d.status));
            if let Some(text) = &d.diag {
                out.push_str(&format!("diag_type=smtp\ndiag_text={text}\n"));
                out.push_str(&format!("mta_type=dns\nmta_mname={}\n", domain.mx));
            }
            out.push_str(&format!("reason={}\n\n", d.reason));
        }
        out.into_bytes()
    }
}

/// The bytes of a rendered message.
pub struct Rendered {
    pub queue_file: Vec<u8>,
    pub defer_log: Option<Vec<u8>>,
    /// The content size (what postqueue reports as `message_size`).
    pub message_size: u64,
}

struct Client {
    name: String,
    addr: String,
    port: u16,
    helo: String,
    protocol: &'static str,
    sasl: Option<(String, String)>,
}

/// Appends content lines to the writer.
struct Body<'a> {
    w: &'a mut RecordWriter,
    /// Where a file still being written is cut (after the first line).
    truncate_at: Option<u64>,
}

impl Body<'_> {
    fn line(&mut self, line: &str) {
        // Lines longer than Postfix's line_length_limit become L…L N chunks.
        let bytes = line.as_bytes();
        let mut chunks = bytes.chunks(2048).peekable();
        if chunks.peek().is_none() {
            self.w.record(REC_TYPE_NORM, b"");
        }
        while let Some(chunk) = chunks.next() {
            let ty = if chunks.peek().is_some() {
                REC_TYPE_CONT
            } else {
                REC_TYPE_NORM
            };
            self.w.record(ty, chunk);
        }
    }

    fn mark_truncation(&mut self) {
        self.truncate_at = Some(self.w.position());
    }

    /// Prose lines until the writer reaches `end`.
    fn text(&mut self, rng: &mut Rng, end: u64) {
        let mut line = String::with_capacity(80);
        while self.w.position() < end {
            line.clear();
            while line.len() < 60 {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(rng.pick::<&str>(WORDS));
            }
            let room = (end - self.w.position()).saturating_sub(2) as usize;
            if room < line.len() {
                // The last line is cut to land near the target size.
                let mut cut = room.max(1);
                while !line.is_char_boundary(cut) {
                    cut -= 1;
                }
                line.truncate(cut);
            }
            self.line(&line);
        }
    }

    /// Base64-looking lines (76 characters) until the writer reaches `end`.
    fn base64(&mut self, rng: &mut Rng, end: u64) {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut line = [0u8; 76];
        while self.w.position() < end {
            for chunk in line.chunks_mut(8) {
                let mut bits = rng.next_u64();
                for c in chunk {
                    *c = ALPHABET[(bits & 63) as usize];
                    bits >>= 6;
                }
            }
            self.w.record(REC_TYPE_NORM, &line);
        }
    }
}

fn attr(w: &mut RecordWriter, name: &str, value: &str) {
    let mut payload = Vec::with_capacity(name.len() + 1 + value.len());
    payload.extend_from_slice(name.as_bytes());
    payload.push(b'=');
    payload.extend_from_slice(value.as_bytes());
    w.record(REC_TYPE_ATTR, &payload);
}

/// A delay: DSN status, reason text and, for "host said" replies, the SMTP
/// reply the bounce daemon stores as diag_text.
struct Delay {
    status: &'static str,
    reason: String,
    diag: Option<String>,
}

fn delay(d: &world::Domain, rcpt: &str, rng: &mut Rng) -> Delay {
    let host = format!("{}[{}]", d.mx, d.mx_addr);
    // After a failed connection, qmgr marks the destination dead for a while
    // and later messages get "delivery temporarily suspended: <old reason>".
    let suspended = |reason: String, rng: &mut Rng| {
        if rng.chance(0.4) {
            format!("delivery temporarily suspended: {reason}")
        } else {
            reason
        }
    };
    let said = |status: &'static str, reply: String, command: &str| Delay {
        status,
        reason: format!("host {host} said: {reply} (in reply to {command} command)"),
        diag: Some(reply),
    };
    match d.trouble {
        Trouble::Greylist => said(
            "4.7.1",
            format!(
                "450 4.7.1 <{rcpt}>: Recipient address rejected: Greylisted, see \
                 http://postgrey.schweikert.ch/help/{}.html",
                d.name
            ),
            "RCPT TO",
        ),
        Trouble::RateLimit => {
            if rng.chance(0.5) {
                said(
                    "4.7.0",
                    format!(
                        "421-4.7.0 [{OUR_ADDRESS}] Our system has detected an unusual rate of \
                         unsolicited mail originating from your IP address. To protect our \
                         users from spam, mail sent from your IP address has been temporarily \
                         rate limited."
                    ),
                    "end of DATA",
                )
            } else {
                said(
                    "4.7.0",
                    "451 4.7.0 Too many messages from this sender, slow down".into(),
                    "MAIL FROM",
                )
            }
        }
        Trouble::ConnectTimeout => Delay {
            status: "4.4.1",
            reason: suspended(format!("connect to {host}:25: Connection timed out"), rng),
            diag: None,
        },
        Trouble::ConnectRefused => Delay {
            status: "4.4.1",
            reason: suspended(format!("connect to {host}:25: Connection refused"), rng),
            diag: None,
        },
        Trouble::DnsFailure => Delay {
            status: "4.4.3",
            reason: format!(
                "Host or domain name not found. Name service error for name={} type=MX: \
                 Host not found, try again",
                d.name
            ),
            diag: None,
        },
        Trouble::MailboxFull => said(
            "4.2.2",
            format!("452 4.2.2 <{rcpt}>: Mailbox full, try again later"),
            "RCPT TO",
        ),
        Trouble::TlsMissing => Delay {
            status: "4.7.5",
            reason: format!("TLS is required, but was not offered by host {host}"),
            diag: None,
        },
        Trouble::LostConnection => Delay {
            status: "4.4.2",
            reason: suspended(
                format!("lost connection with {host} while receiving the initial server greeting"),
                rng,
            ),
            diag: None,
        },
        Trouble::Blocklisted => Delay {
            status: "4.7.1",
            reason: format!(
                "host {host} refused to talk to me: 421 4.7.1 Service unavailable; Client host \
                 [{OUR_ADDRESS}] blocked using bl.spamcop.example"
            ),
            diag: None,
        },
    }
}

/// `Sun, 22 Nov 2026 16:30:44 +0000` for epoch seconds (UTC).
pub fn rfc2822(t: i64) -> String {
    let (y, mo, d, h, mi, s, wd) = civil(t);
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {d} {} {y} {h:02}:{mi:02}:{s:02} +0000",
        DAYS[wd],
        MONTHS[mo as usize - 1]
    )
}

/// `20261122163044`, as in the Message-Ids cleanup makes for short IDs.
fn compact_date(t: i64) -> String {
    let (y, mo, d, h, mi, s, _) = civil(t);
    format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}")
}

/// Year, month, day, hour, minute, second, weekday (0 = Sunday) in UTC.
fn civil(t: i64) -> (i64, u32, u32, i64, i64, i64, usize) {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    let weekday = (days + 4).rem_euclid(7) as usize;
    (y, m, d, secs / 3600, secs % 3600 / 60, secs % 60, weekday)
}

#[cfg(test)]
mod tests {
    use super::*;
    use queue_file::{Envelope, FileView};

    #[test]
    fn dates_are_rfc2822() {
        assert_eq!(rfc2822(0), "Thu, 1 Jan 1970 00:00:00 +0000");
        assert_eq!(rfc2822(1_795_365_044), "Sun, 22 Nov 2026 16:30:44 +0000");
        assert_eq!(compact_date(1_795_365_044), "20261122163044");
    }

    fn config() -> PlanConfig {
        PlanConfig {
            seed: 42,
            now: 1_795_365_044,
            spread_secs: 4 * 86_400,
            spam_secs: 6 * 3600,
            spam_share: 0.3,
        }
    }

    #[test]
    fn rendered_files_decode_and_defer_offsets_point_at_r_records() {
        let world = World::new(42, "spammer");
        let cfg = config();
        for i in 0..300 {
            let attachment = if i % 50 == 7 { 20_000 } else { 0 };
            let m = Message::plan(&world, &cfg, i, attachment);
            let r = m.render(&world, "ABCDE123456");
            if !m.complete {
                continue;
            }
            let env = Envelope::decode(FileView::whole(&r.queue_file)).unwrap();
            assert_eq!(env.sender, Some(m.sender.as_bytes()));
            assert_eq!(
                env.todo_recipients().count(),
                m.recipients.iter().filter(|r| !r.done).count()
            );
            if m.is_spam() {
                assert_eq!(env.sasl_username(), Some(&b"spammer"[..]));
            }
            let size = r.message_size as usize;
            assert!(
                size + 200 >= m.target_size + m.attachment,
                "{i}: {size} vs {}",
                m.target_size
            );
            if let Some(log) = &r.defer_log {
                let text = String::from_utf8(log.clone()).unwrap();
                for line in text.lines().filter(|l| l.starts_with("offset=")) {
                    let at: usize = line[7..].parse().unwrap();
                    assert_eq!(r.queue_file[at], REC_TYPE_RCPT, "{i}: {line}");
                }
            }
        }
    }

    #[test]
    fn plans_are_reproducible() {
        let world = World::new(42, "spammer");
        let cfg = config();
        let a = Message::plan(&world, &cfg, 17, 0).render(&world, "ABCDE1");
        let b = Message::plan(&world, &cfg, 17, 0).render(&world, "ABCDE1");
        assert_eq!(a.queue_file, b.queue_file);
        assert_eq!(a.defer_log, b.defer_log);
    }
}
