//! A small SMTP client over `std::net::TcpStream`, just enough to inject test mail into a
//! Postfix smtpd: EHLO, XCLIENT, XFORWARD, AUTH PLAIN, DSN/SMTPUTF8 parameters, DATA.
//!
//! Errors come back as `Err(String)` holding the conversation so far, so that the caller can
//! add the Postfix log and panic with everything a CI failure needs.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::net::TcpStream;
use std::thread;
use std::time::Duration;

/// One SMTP connection's worth of mail: optional client attributes, then transactions.
#[derive(Clone, Debug, Default)]
pub struct Session {
    /// `XCLIENT` attributes (NAME, ADDR, HELO, LOGIN, …), sent once after the first EHLO.
    /// smtpd then answers with a new greeting and wants EHLO again (smtpd_xclient.c).
    pub xclient: Vec<(&'static str, String)>,
    /// `AUTH PLAIN` user and password (real Cyrus SASL authentication).
    pub auth: Option<(String, String)>,
    /// `XFORWARD` attributes, sent before every `MAIL FROM`: smtpd forgets them after each
    /// transaction.
    pub xforward: Vec<(&'static str, String)>,
    pub mails: Vec<Mail>,
    /// Pause before each mail but the first. Spreads queue IDs: their first hex digit (the
    /// microseconds) picks the hash subdirectory (postfix-queue-format.md §5.2).
    pub pause: Duration,
}

/// One mail transaction.
#[derive(Clone, Debug, Default)]
pub struct Mail {
    pub from: String,
    /// Parameters after `MAIL FROM:<…>`, e.g. `RET=HDRS ENVID=x SMTPUTF8 BODY=8BITMIME`.
    pub from_params: String,
    /// Recipients, each with its `RCPT TO` parameters (`NOTIFY=…`, `ORCPT=…`) or "".
    pub rcpts: Vec<(String, String)>,
    /// The message (header and body), lines separated by `\n`; sent with CRLF, dot-stuffed.
    pub content: String,
}

/// Sends every mail of `session` to `127.0.0.1:port`; returns the queue IDs smtpd reported
/// (`250 2.0.0 Ok: queued as ID`), in order.
pub fn send(port: u16, session: &Session) -> Result<Vec<String>, String> {
    let mut conn = Conn::open(port)?;
    let result = conn.run(session);
    match result {
        Ok(ids) => Ok(ids),
        Err(e) => Err(format!(
            "{e}\n--- SMTP conversation (last lines) ---\n{}",
            conn.tail()
        )),
    }
}

struct Conn {
    reader: BufReader<TcpStream>,
    writer: BufWriter<TcpStream>,
    transcript: Vec<String>,
}

impl Conn {
    fn open(port: u16) -> Result<Conn, String> {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .map_err(|e| format!("connect to smtpd on 127.0.0.1:{port}: {e}"))?;
        // Generous: a 5 MB DATA and a busy 2-core CI machine.
        let timeout = Some(Duration::from_secs(120));
        stream
            .set_read_timeout(timeout)
            .map_err(|e| e.to_string())?;
        stream
            .set_write_timeout(timeout)
            .map_err(|e| e.to_string())?;
        let clone = stream.try_clone().map_err(|e| e.to_string())?;
        Ok(Conn {
            reader: BufReader::new(clone),
            writer: BufWriter::new(stream),
            transcript: Vec::new(),
        })
    }

    fn run(&mut self, session: &Session) -> Result<Vec<String>, String> {
        self.expect(220)?;
        self.command("EHLO client.test.example", 250)?;
        if !session.xclient.is_empty() {
            self.command(&format!("XCLIENT {}", attributes(&session.xclient)), 220)?;
            // The new EHLO argument replaces XCLIENT's HELO, so repeat that value, as a proxy
            // forwarding its client's EHLO would.
            let helo = session.xclient.iter().find(|(k, _)| *k == "HELO");
            let helo = helo.map_or("client.test.example", |(_, v)| v.as_str());
            self.command(&format!("EHLO {helo}"), 250)?;
        }
        if let Some((user, password)) = &session.auth {
            let token = base64(format!("\0{user}\0{password}").as_bytes());
            self.command(&format!("AUTH PLAIN {token}"), 235)?;
        }
        let mut ids = Vec::new();
        for (i, mail) in session.mails.iter().enumerate() {
            if i > 0 {
                thread::sleep(session.pause);
            }
            if !session.xforward.is_empty() {
                self.command(&format!("XFORWARD {}", attributes(&session.xforward)), 250)?;
            }
            ids.push(self.transaction(mail)?);
        }
        self.command("QUIT", 221)?;
        Ok(ids)
    }

    fn transaction(&mut self, mail: &Mail) -> Result<String, String> {
        let from = format!("MAIL FROM:<{}> {}", mail.from, mail.from_params);
        self.command(from.trim_end(), 250)?;
        for (rcpt, params) in &mail.rcpts {
            self.command(format!("RCPT TO:<{rcpt}> {params}").trim_end(), 250)?;
        }
        self.command("DATA", 354)?;
        for line in mail.content.lines() {
            // RFC 5321 4.5.2 transparency.
            if line.starts_with('.') {
                self.writer.write_all(b".").map_err(io_err)?;
            }
            self.writer.write_all(line.as_bytes()).map_err(io_err)?;
            self.writer.write_all(b"\r\n").map_err(io_err)?;
        }
        self.transcript
            .push(format!("> ({} bytes of content)", mail.content.len()));
        let reply = self.command(".", 250)?;
        reply
            .rsplit_once("queued as ")
            .map(|(_, id)| id.trim().to_string())
            .ok_or_else(|| format!("no queue ID in the reply to DATA: {reply}"))
    }

    /// Sends one command line and checks the reply code; returns the reply's last line.
    fn command(&mut self, line: &str, want: u16) -> Result<String, String> {
        self.transcript.push(format!("> {line}"));
        self.writer.write_all(line.as_bytes()).map_err(io_err)?;
        self.writer.write_all(b"\r\n").map_err(io_err)?;
        self.writer.flush().map_err(io_err)?;
        self.expect(want)
    }

    /// Reads a (multi-line) reply and checks its code.
    fn expect(&mut self, want: u16) -> Result<String, String> {
        loop {
            let mut line = String::new();
            let n = self.reader.read_line(&mut line).map_err(io_err)?;
            if n == 0 {
                return Err(format!("smtpd closed the connection, expected {want}"));
            }
            let line = line.trim_end().to_string();
            self.transcript.push(format!("< {line}"));
            if line.as_bytes().get(3) == Some(&b'-') {
                continue;
            }
            let code: u16 = line.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
            return if code == want {
                Ok(line)
            } else {
                Err(format!("expected SMTP reply {want}, got: {line}"))
            };
        }
    }

    fn tail(&self) -> String {
        let start = self.transcript.len().saturating_sub(30);
        self.transcript[start..].join("\n")
    }
}

fn io_err(e: std::io::Error) -> String {
    format!("SMTP I/O error: {e}")
}

/// `NAME=value …` with values xtext-encoded (RFC 3461 4), as XCLIENT and XFORWARD want.
fn attributes(attrs: &[(&str, String)]) -> String {
    let xtext = |v: &str| -> String {
        v.bytes()
            .map(|b| match b {
                b'!'..=b'~' if b != b'+' && b != b'=' => (b as char).to_string(),
                _ => format!("+{b:02X}"),
            })
            .collect()
    };
    attrs
        .iter()
        .map(|(k, v)| format!("{k}={}", xtext(v)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Standard base64 with padding (RFC 4648), for AUTH PLAIN.
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn base64_matches_rfc4648_vectors() {
    let cases = [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
    ];
    for (plain, encoded) in cases {
        assert_eq!(base64(plain.as_bytes()), encoded);
    }
}

#[test]
fn xtext_encodes_plus_equals_and_spaces() {
    let attrs = [("NAME", "a+b=c d".to_string())];
    assert_eq!(attributes(&attrs), "NAME=a+2Bb+3Dc+20d");
}
