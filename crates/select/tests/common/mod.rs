//! A fake message for the tests: every field the trait can ask for, with
//! a log of which fields were asked (to check evaluation order).

#![allow(dead_code)]

use std::cell::RefCell;

use select::{Field, Fields, RecipientState};

pub const NOW: i64 = 1_700_000_000;

#[derive(Clone, Debug, Default)]
pub struct Msg {
    pub queue: &'static str,
    pub id: &'static str,
    pub sender: Option<&'static str>,
    pub todo: Vec<&'static str>,
    pub done: Vec<&'static str>,
    /// Recipients removed by a Milter (`/` records): counted by
    /// `recipients`, never listed.
    pub canceled: usize,
    pub sasl_user: Option<&'static str>,
    pub sasl_method: Option<&'static str>,
    pub client: Option<&'static str>,
    pub client_name: Option<&'static str>,
    pub helo: Option<&'static str>,
    pub reasons: Vec<&'static str>,
    pub dsn: Vec<&'static str>,
    pub headers: Vec<(&'static str, &'static [u8])>,
    pub attrs: Vec<(&'static str, &'static str)>,
    pub size: Option<i64>,
    pub arrival: Option<i64>,
    pub forced_expired: bool,
    pub nonexistent_local_sender: bool,
    /// The fields asked for, in order.
    pub asked: RefCell<Vec<String>>,
}

/// The message most tests run on.
pub fn msg() -> Msg {
    Msg {
        queue: "deferred",
        id: "4BkX1z2Qr5z9abc",
        sender: Some("Bob.Smith@Example.COM"),
        todo: vec!["alice@example.org", "carol@Example.NET"],
        done: vec!["dave@example.org"],
        canceled: 0,
        sasl_user: Some("bob"),
        sasl_method: Some("PLAIN"),
        client: Some("203.0.113.7"),
        client_name: Some("mail.Example.com"),
        helo: Some("EHLO.example.com"),
        reasons: vec![
            "connect to mx.example.org[192.0.2.1]:25: Connection timed out",
            "host mx.example.net said: 450 4.7.1 Greylisted",
        ],
        dsn: vec!["4.4.1", "4.7.1"],
        headers: vec![
            ("Subject", b"Invoice 42"),
            ("Received", b"from a"),
            ("Received", b"from b"),
            ("X-Bytes", b"\xff\xfe"),
        ],
        attrs: vec![
            ("log_client_name", "mail.example.com"),
            ("rewrite_context", "remote"),
        ],
        size: Some(2_000_000),
        // 3d1h ago.
        arrival: Some(NOW - 3 * 86_400 - 3_600),
        forced_expired: false,
        nonexistent_local_sender: false,
        asked: RefCell::default(),
    }
}

fn one(v: Option<&str>, visit: &mut dyn FnMut(&[u8]) -> bool) -> bool {
    v.is_some_and(|v| visit(v.as_bytes()))
}

fn many(v: &[&str], visit: &mut dyn FnMut(&[u8]) -> bool) -> bool {
    v.iter().any(|v| visit(v.as_bytes()))
}

impl Fields for Msg {
    fn any_text(&self, field: Field<'_>, visit: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        self.asked.borrow_mut().push(format!("{field:?}"));
        match field {
            Field::Queue => visit(self.queue.as_bytes()),
            Field::Id => visit(self.id.as_bytes()),
            Field::Sender => one(self.sender, visit),
            Field::Recipient(RecipientState::Todo) => many(&self.todo, visit),
            Field::Recipient(RecipientState::Done) => many(&self.done, visit),
            Field::SaslUser => one(self.sasl_user, visit),
            Field::SaslMethod => one(self.sasl_method, visit),
            Field::Client => one(self.client, visit),
            Field::ClientName => one(self.client_name, visit),
            Field::Helo => one(self.helo, visit),
            Field::Reason => many(&self.reasons, visit),
            Field::DsnStatus => many(&self.dsn, visit),
            Field::Header(name) => self
                .headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .any(|(_, v)| visit(v)),
            Field::Attr(name) => self
                .attrs
                .iter()
                .filter(|(n, _)| *n == name)
                .any(|(_, v)| visit(v.as_bytes())),
            _ => false,
        }
    }

    fn number(&self, field: Field<'_>) -> Option<i64> {
        self.asked.borrow_mut().push(format!("{field:?}"));
        match field {
            Field::Size => self.size,
            Field::Arrival => self.arrival,
            Field::Recipients => Some((self.todo.len() + self.done.len() + self.canceled) as i64),
            Field::TodoRecipients => Some(self.todo.len() as i64),
            _ => None,
        }
    }

    fn flag(&self, field: Field<'_>) -> bool {
        self.asked.borrow_mut().push(format!("{field:?}"));
        match field {
            Field::ForcedExpired => self.forced_expired,
            Field::NonexistentLocalSender => self.nonexistent_local_sender,
            _ => false,
        }
    }
}

/// A message that does not log the fields asked (logging allocates).
pub struct Quiet(pub Msg);

impl Fields for Quiet {
    fn any_text(&self, field: Field<'_>, visit: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        let m = &self.0;
        match field {
            Field::Queue => visit(m.queue.as_bytes()),
            Field::Id => visit(m.id.as_bytes()),
            Field::Sender => one(m.sender, visit),
            Field::Recipient(RecipientState::Todo) => many(&m.todo, visit),
            Field::Recipient(RecipientState::Done) => many(&m.done, visit),
            Field::SaslUser => one(m.sasl_user, visit),
            Field::SaslMethod => one(m.sasl_method, visit),
            Field::Client => one(m.client, visit),
            Field::ClientName => one(m.client_name, visit),
            Field::Helo => one(m.helo, visit),
            Field::Reason => many(&m.reasons, visit),
            Field::DsnStatus => many(&m.dsn, visit),
            Field::Header(name) => m
                .headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .any(|(_, v)| visit(v)),
            Field::Attr(name) => m
                .attrs
                .iter()
                .filter(|(n, _)| *n == name)
                .any(|(_, v)| visit(v.as_bytes())),
            _ => false,
        }
    }

    fn number(&self, field: Field<'_>) -> Option<i64> {
        match field {
            Field::Size => self.0.size,
            Field::Arrival => self.0.arrival,
            _ => None,
        }
    }

    fn flag(&self, field: Field<'_>) -> bool {
        match field {
            Field::ForcedExpired => self.0.forced_expired,
            Field::NonexistentLocalSender => self.0.nonexistent_local_sender,
            _ => false,
        }
    }
}
