//! Reading the queue the way any user may: `postqueue -j`, which asks Postfix's showq daemon
//! (root is needed to read queue files directly; postqueue is setgid postdrop). One JSON
//! object per line (`src/postqueue/showq_json.c`): queue, ID, arrival time, size, forced-expiry
//! mark, sender, and the to-do recipients with their delay reasons. Nothing more: no SASL
//! login, no client, no headers.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::thread::JoinHandle;

use queue_file::showq::{Reason, ReasonKind};
use queue_file::{ShowqMessage, ShowqRecipient};
use serde_json::Value;

use crate::{command_text, Error, Postfix};

/// One line of `postqueue -j`: the line itself (for `--json`) and what it says, as showq sent
/// it (the same type the mailq formatter takes).
#[derive(Debug)]
pub struct Record {
    /// The line, without its newline.
    pub raw: Vec<u8>,
    /// The message.
    pub msg: ShowqMessage,
    /// The sender was `empty_address_recipient` (postqueue's spelling of the null sender,
    /// `MAILER-DAEMON` by default).
    pub null_sender: bool,
}

impl Record {
    /// The sender as the empty address when it is the null sender.
    pub fn sender(&self) -> &[u8] {
        if self.null_sender {
            b""
        } else {
            &self.msg.sender
        }
    }
}

/// Parses one `postqueue -j` line. Bytes that are not UTF-8 (postqueue passes some through)
/// become U+FFFD in the parsed fields; `raw` keeps them. The error says what is missing.
pub fn parse_line(line: &[u8], empty_address: &str) -> Result<Record, String> {
    let text = String::from_utf8_lossy(line);
    let v: Value = serde_json::from_str(&text).map_err(|_| "not a JSON object".to_string())?;
    let string = |v: &Value, key: &str| -> Result<String, String> {
        v.get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| format!("no string member {key:?}"))
    };
    let number = |key: &str| -> Result<i64, String> {
        v.get(key)
            .and_then(Value::as_i64)
            .ok_or_else(|| format!("no number member {key:?}"))
    };
    let mut recipients = Vec::new();
    for r in v
        .get("recipients")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let reason = |key: &str, kind: ReasonKind| {
            r.get(key).and_then(Value::as_str).map(|text| Reason {
                kind,
                text: text.as_bytes().to_vec(),
                status: Vec::new(),
            })
        };
        recipients.push(ShowqRecipient {
            address: string(r, "address")?.into_bytes(),
            orig_address: r
                .get("orig_address")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .as_bytes()
                .to_vec(),
            reason: reason("delay_reason", ReasonKind::Defer)
                .or_else(|| reason("bounce_reason", ReasonKind::Bounce)),
        });
    }
    let sender = string(&v, "sender")?;
    Ok(Record {
        raw: line.to_vec(),
        null_sender: sender == empty_address,
        msg: ShowqMessage {
            queue_name: string(&v, "queue_name")?,
            queue_id: string(&v, "queue_id")?,
            arrival_time: number("arrival_time")?,
            message_size: number("message_size")?,
            // Absent before Postfix 3.5.
            forced_expire: v
                .get("forced_expire")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            sender: sender.into_bytes(),
            recipients,
        },
    })
}

/// A running `postqueue [-c DIR] -j`, read record by record.
pub struct PostqueueJson {
    command: String,
    child: Child,
    lines: std::io::Split<BufReader<ChildStdout>>,
    stderr: Option<JoinHandle<Vec<u8>>>,
    empty_address: String,
    listed: u64,
}

impl Postfix {
    /// Starts `postqueue [-c DIR] -j`; `empty_address` is the instance's
    /// `empty_address_recipient` (how postqueue spells the null sender).
    pub fn postqueue_json(&self, empty_address: &str) -> Result<PostqueueJson, Error> {
        let program = self.postqueue();
        let mut args = self.config_args();
        args.push(OsString::from("-j"));
        let command = command_text(&program, &args);
        let spawn_error = |source| Error::Spawn {
            command: command.clone(),
            source,
        };
        let mut child = Command::new(&program)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_error)?;
        // Drained on the side, so a chatty stderr cannot block postqueue.
        let mut child_stderr = child.stderr.take();
        let stderr = std::thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(err) = child_stderr.as_mut() {
                let _ = err.read_to_end(&mut text);
            }
            text
        });
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| spawn_error(std::io::ErrorKind::BrokenPipe.into()))?;
        Ok(PostqueueJson {
            command,
            child,
            lines: BufReader::new(stdout).split(b'\n'),
            stderr: Some(stderr),
            empty_address: empty_address.to_string(),
            listed: 0,
        })
    }
}

impl PostqueueJson {
    /// Records read so far.
    pub fn listed(&self) -> u64 {
        self.listed
    }

    /// Waits for postqueue to exit: an error when it failed, else the lines it wrote on stderr
    /// (warnings). Read every record first, so postqueue is not cut off mid-write.
    pub fn finish(mut self) -> Result<Vec<String>, Error> {
        let status = self.child.wait().map_err(|source| Error::Spawn {
            command: self.command.clone(),
            source,
        })?;
        let text = self
            .stderr
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&text);
        if !status.success() {
            return Err(Error::Failed {
                command: self.command,
                detail: format!("{status}: {}", text.trim()),
            });
        }
        Ok(text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect())
    }
}

impl Iterator for PostqueueJson {
    type Item = Result<Record, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let line = match self.lines.next()? {
                Ok(line) => line,
                Err(source) => {
                    return Some(Err(Error::Spawn {
                        command: self.command.clone(),
                        source,
                    }))
                }
            };
            if line.is_empty() {
                continue;
            }
            self.listed += 1;
            return Some(
                parse_line(&line, &self.empty_address).map_err(|detail| Error::Output {
                    command: self.command.clone(),
                    detail: format!(
                        "line {}: {detail}: {}",
                        self.listed,
                        String::from_utf8_lossy(&line)
                    ),
                }),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_parses_311_members_and_keeps_the_raw_line() {
        let line = br#"{"queue_name": "deferred", "queue_id": "ABC123", "arrival_time": 5, "message_size": 10, "forced_expire": true, "sender": "MAILER-DAEMON", "recipients": [{"orig_address": "o@x", "address": "a@x", "bounce_reason": "gone"}, {"orig_address": "", "address": "b@x"}]}"#;
        let r = parse_line(line, "MAILER-DAEMON").unwrap();
        assert!(r.null_sender && r.msg.forced_expire);
        assert_eq!(r.raw, line);
        assert_eq!(r.msg.recipients[0].orig_address, b"o@x");
        assert_eq!(
            r.msg.recipients[0].reason.as_ref().map(|r| r.kind),
            Some(ReasonKind::Bounce)
        );
        assert!(r.msg.recipients[1].reason.is_none());
        assert!(parse_line(b"{\"queue_name\": 1}", "MAILER-DAEMON").is_err());
    }
}
