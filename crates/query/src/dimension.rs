//! The dimensions messages are grouped by (`summary --by`, triage's
//! drill-downs, the act preview) and the keys of a message in each: one
//! place for what a "sender domain", a "client network" or a "delay
//! reason" is.
//!
//! Keys are written into a reusable [`KeyList`], so tallying a message
//! allocates nothing once the buffers have grown (summary's hot path).

use std::io::Write as _;
use std::net::{IpAddr, Ipv6Addr};

use crate::view::MessageView;

/// What messages can be grouped by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dimension {
    /// Queue name.
    Queue,
    /// SASL login (`sasl_username`).
    SaslUser,
    /// Envelope sender (empty for the null sender).
    Sender,
    /// Envelope sender's domain, lower-cased.
    SenderDomain,
    /// Client IP address.
    Client,
    /// Client network (/24 for IPv4, /64 for IPv6).
    ClientNet,
    /// Domains of the to-do recipients (a message counts once per domain).
    RecipientDomain,
    /// Delay reasons from the defer log, with addresses and numbers masked.
    Reason,
    /// DSN status codes from the defer log.
    DsnStatus,
}

impl Dimension {
    /// Every dimension, in the order tables are printed.
    pub const ALL: [Dimension; 9] = [
        Dimension::Queue,
        Dimension::SaslUser,
        Dimension::Sender,
        Dimension::SenderDomain,
        Dimension::Client,
        Dimension::ClientNet,
        Dimension::RecipientDomain,
        Dimension::Reason,
        Dimension::DsnStatus,
    ];

    /// The name used in JSON and headings (`sasl_user`).
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Queue => "queue",
            Dimension::SaslUser => "sasl_user",
            Dimension::Sender => "sender",
            Dimension::SenderDomain => "sender_domain",
            Dimension::Client => "client",
            Dimension::ClientNet => "client_net",
            Dimension::RecipientDomain => "recipient_domain",
            Dimension::Reason => "reason",
            Dimension::DsnStatus => "dsn_status",
        }
    }

    /// What the dimension is, in one line (for help texts).
    pub fn description(self) -> &'static str {
        match self {
            Dimension::Queue => "Queue name",
            Dimension::SaslUser => "SASL login (sasl_username)",
            Dimension::Sender => "Envelope sender",
            Dimension::SenderDomain => "Envelope sender's domain",
            Dimension::Client => "Client IP address",
            Dimension::ClientNet => "Client network (/24 for IPv4, /64 for IPv6)",
            Dimension::RecipientDomain => {
                "Domains of the to-do recipients (a message counts once per domain)"
            }
            Dimension::Reason => {
                "Delay reasons from the defer log, with addresses and numbers masked"
            }
            Dimension::DsnStatus => "DSN status codes from the defer log",
        }
    }

    /// True when a message has several keys in this dimension (recipient
    /// domains, reasons, DSN status); the others have exactly one.
    pub fn is_multi(self) -> bool {
        matches!(
            self,
            Dimension::RecipientDomain | Dimension::Reason | Dimension::DsnStatus
        )
    }

    /// True when the keys come from the defer log (which the read plan
    /// must then ask for).
    pub fn needs_defer_log(self) -> bool {
        matches!(self, Dimension::Reason | Dimension::DsnStatus)
    }

    /// Replaces `out` with the keys of `view` in this dimension: one for the
    /// single-valued dimensions (empty when the message has no value), none
    /// or several, deduplicated, for the others.
    pub fn keys(self, view: &MessageView<'_, '_>, out: &mut KeyList) {
        out.clear();
        let msg = view.msg;
        let env = msg.envelope;
        match self {
            Dimension::Queue => out.push(msg.queue.as_bytes()),
            Dimension::SaslUser => out.push(env.sasl_username().unwrap_or_default()),
            Dimension::Sender => out.push(env.sender.unwrap_or_default()),
            Dimension::SenderDomain => {
                out.push_with(|buf| push_domain(env.sender.unwrap_or_default(), buf))
            }
            Dimension::Client => out.push(env.client_address().unwrap_or_default()),
            Dimension::ClientNet => {
                out.push_with(|buf| push_client_net(env.client_address().unwrap_or_default(), buf))
            }
            Dimension::RecipientDomain => {
                for r in env.todo_recipients() {
                    out.push_with(|buf| push_domain(r.address, buf));
                }
            }
            Dimension::Reason => {
                view.any_reason(&mut |reason| {
                    out.push_with(|buf| push_normalized_reason(reason, buf));
                    false
                });
            }
            Dimension::DsnStatus => {
                view.any_dsn_status(&mut |status| {
                    out.push(status);
                    false
                });
            }
        }
    }
}

/// The keys of one message in one dimension, packed in one reusable
/// buffer and deduplicated. Filling it allocates nothing once warm.
#[derive(Clone, Debug, Default)]
pub struct KeyList {
    bytes: Vec<u8>,
    spans: Vec<(usize, usize)>,
}

impl KeyList {
    /// An empty list.
    pub fn new() -> KeyList {
        KeyList::default()
    }

    /// Removes every key (keeping the buffers).
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.spans.clear();
    }

    /// Appends what `write` writes as one key, unless it is already there.
    pub fn push_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        let start = self.bytes.len();
        write(&mut self.bytes);
        let new = &self.bytes[start..];
        if self.spans.iter().any(|&(s, e)| &self.bytes[s..e] == new) {
            self.bytes.truncate(start);
        } else {
            self.spans.push((start, self.bytes.len()));
        }
    }

    /// Appends `key`, unless it is already there.
    pub fn push(&mut self, key: &[u8]) {
        self.push_with(|out| out.extend_from_slice(key));
    }

    /// The keys, in the order first pushed.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        self.spans.iter().map(|&(s, e)| &self.bytes[s..e])
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True with no key.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

/// Appends the lower-cased domain of `address` (nothing for the null
/// sender or an address without `@`).
pub fn push_domain(address: &[u8], out: &mut Vec<u8>) {
    if let Some(at) = address.iter().rposition(|&b| b == b'@') {
        out.extend(address[at + 1..].iter().map(u8::to_ascii_lowercase));
    }
}

/// Appends the /24 (IPv4) or /64 (IPv6) network of a client address, or
/// the address itself when it is not one (`unknown`).
pub fn push_client_net(address: &[u8], out: &mut Vec<u8>) {
    let text = std::str::from_utf8(address).unwrap_or("");
    // Postfix writes IPv6 client addresses with this prefix
    // (src/global/mail_proto.h, the XCLIENT ADDR form).
    let bare = text.strip_prefix("IPv6:").unwrap_or(text);
    let _ = match bare.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => {
            let [a, b, c, _] = v4.octets();
            write!(out, "{a}.{b}.{c}.0/24")
        }
        Ok(IpAddr::V6(v6)) => {
            let s = v6.segments();
            let net = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            write!(out, "{net}/64")
        }
        Err(_) => out.write_all(address),
    };
}

/// The domain of an address, lower-cased; empty for the null sender and
/// for addresses without `@`.
pub fn domain_of(address: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    push_domain(address, &mut out);
    out
}

/// The /24 (IPv4) or /64 (IPv6) network of a client address.
pub fn client_net(address: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    push_client_net(address, &mut out);
    out
}

/// Masks what varies between instances of one delay reason: addresses in
/// angle brackets, IP addresses (also in `[…]`), and long numbers; keeps
/// SMTP replies (`450 4.7.1`) so reasons group by what the remote said.
pub fn push_normalized_reason(reason: &[u8], buf: &mut Vec<u8>) {
    // Borrowed (no copy) when the reason is UTF-8, as Postfix's are.
    let text = String::from_utf8_lossy(reason);
    let mut out = Appender {
        start: buf.len(),
        buf,
    };
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '<' => {
                if let Some(end) = text[i..].find('>') {
                    out.push_str("<*>");
                    while chars.peek().is_some_and(|&(j, _)| j <= i + end) {
                        chars.next();
                    }
                    continue;
                }
                out.push(c);
            }
            '[' => {
                if let Some(end) = text[i..].find(']') {
                    out.push_str("[*]");
                    while chars.peek().is_some_and(|&(j, _)| j <= i + end) {
                        chars.next();
                    }
                    continue;
                }
                out.push(c);
            }
            c if c.is_ascii_hexdigit() => {
                // A run of address-ish characters: an IP, a number, a hex ID.
                let start = i;
                let mut end = i + c.len_utf8();
                while let Some(&(j, d)) = chars.peek() {
                    if d.is_ascii_hexdigit() || d == '.' || d == ':' {
                        end = j + d.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                let run = &text[start..end];
                // Trailing dots and colons are punctuation, not part of it.
                let core = run.trim_end_matches(['.', ':']);
                let trail = &run[core.len()..];
                let is_port = out.ends_with("]:") && core.bytes().all(|b| b.is_ascii_digit());
                // Cheapest first: most runs are hex-looking letters of a
                // word ("deferred"), and an IP address has a dot or colon.
                let masked = is_port
                    || (!out
                        .last_char()
                        .is_some_and(|p| p.is_alphanumeric() || p == '-' || p == '_')
                        && (is_long_number(core)
                            || (core.contains(['.', ':'])
                                && core.parse::<std::net::IpAddr>().is_ok())));
                if masked {
                    out.push('*');
                    out.push_str(trail);
                } else {
                    out.push_str(run);
                }
            }
            c => out.push(c),
        }
    }
}

/// [`push_normalized_reason`] into a new buffer.
pub fn normalize_reason(reason: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    push_normalized_reason(reason, &mut out);
    out
}

/// The key being written at the end of a shared buffer, seen as text
/// (only `str` pieces are appended, so it stays UTF-8).
struct Appender<'b> {
    buf: &'b mut Vec<u8>,
    start: usize,
}

impl Appender<'_> {
    fn push(&mut self, c: char) {
        let mut utf8 = [0; 4];
        self.buf
            .extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
    }

    fn push_str(&mut self, s: &str) {
        self.buf.extend_from_slice(s.as_bytes());
    }

    fn ends_with(&self, s: &str) -> bool {
        self.buf[self.start..].ends_with(s.as_bytes())
    }

    fn last_char(&self) -> Option<char> {
        let key = &self.buf[self.start..];
        // The last char starts at the last byte that is not a UTF-8
        // continuation byte.
        let from = key.iter().rposition(|b| b & 0xc0 != 0x80)?;
        std::str::from_utf8(&key[from..]).ok()?.chars().next()
    }
}

/// A run of digits too long to be an SMTP code (ports, sizes, counters),
/// or a hex identifier of 8 or more characters.
fn is_long_number(run: &str) -> bool {
    let run = run.trim_end_matches(['.', ':']);
    (run.len() > 3 && run.bytes().all(|b| b.is_ascii_digit()))
        || (run.len() >= 8 && run.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! reason_cases {
        ($($name:ident: $input:expr => $want:expr,)*) => {$(
            #[test]
            fn $name() { assert_eq!(String::from_utf8(normalize_reason($input.as_bytes())).unwrap(), $want); }
        )*};
    }
    reason_cases! {
        reason_connect: "connect to 203.0.113.5[203.0.113.5]:25: Connection refused" => "connect to *[*]:*: Connection refused",
        reason_greylist: "host mx.example.net[198.51.100.7] said: 450 4.7.1 <a@b.example>: Recipient address rejected: Greylisted (in reply to RCPT TO command)"
            => "host mx.example.net[*] said: 450 4.7.1 <*>: Recipient address rejected: Greylisted (in reply to RCPT TO command)",
        reason_plain: "delivery temporarily suspended: connect to 127.0.0.1[127.0.0.1]:1: Connection refused"
            => "delivery temporarily suspended: connect to *[*]:*: Connection refused",
        reason_words_kept: "4.7.1 rate limited by mx2 example" => "4.7.1 rate limited by mx2 example",
        reason_after_non_ascii_word: "caf\u{e9}12345 and \u{e9} 12345" => "caf\u{e9}12345 and \u{e9} *",
    }

    #[test]
    fn reasons_append_to_what_is_there() {
        let mut buf = b"x1".to_vec();
        push_normalized_reason(b"1234 ok", &mut buf);
        // The number starts the key: masked, though the buffer held a word.
        assert_eq!(buf, b"x1* ok");
    }

    #[test]
    fn networks_and_domains() {
        assert_eq!(client_net(b"203.0.113.66"), b"203.0.113.0/24");
        assert_eq!(client_net(b"IPv6:2001:db8:1:2:3::4"), b"2001:db8:1:2::/64");
        assert_eq!(client_net(b"unknown"), b"unknown");
        assert_eq!(domain_of(b"Bob@Example.ORG"), b"example.org");
        assert_eq!(domain_of(b""), b"");
    }

    #[test]
    fn key_lists_deduplicate() {
        let mut keys = KeyList::new();
        keys.push(b"a");
        keys.push_with(|b| b.extend_from_slice(b"b"));
        keys.push(b"a");
        assert_eq!(keys.iter().collect::<Vec<_>>(), [&b"a"[..], b"b"]);
        keys.clear();
        assert!(keys.is_empty());
    }
}
