//! `qsurgeon show`: print queue files exactly as Postfix's `postcat` does,
//! or every record as JSON.
//!
//! The printers are `printer::postcat` and `printer::json`; this module
//! turns the flags into [`PostcatFlags`], reads the files safely (no FIFO,
//! no symbolic link for a queue ID, a size limit), escapes the output on a
//! terminal ([`Shown`]) and reports errors per file.

use std::ffi::OsStr;
use std::io::{self, IsTerminal, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use anyhow::{Context, Result};
use printer::postcat::{postcat, PostcatError, PostcatFlags};
use queue_scan::{is_valid_queue_id, InstanceConfig};

use crate::cli::{Opts, ShowArgs};
use crate::exit::ExitStatus;
use crate::ui::sanitize::{for_stderr, Terminal};

/// `Shown` hands output on in pieces of about this size.
const FLUSH_AT: usize = 64 * 1024;

/// The largest file `show` reads: queue files are limited by
/// `message_size_limit` (10 MB by default), so anything this big is not a
/// message Postfix wrote, and reading it whole would only exhaust memory.
pub const MAX_FILE_SIZE: u64 = 1 << 30;

/// Runs `show`: prints each file (or queue ID, with `-q`) as postcat
/// does, or as JSON with `--json`. A file that cannot be read or ends in
/// a read error is reported and the run goes on; the exit status is then
/// 2.
pub fn run(opts: &Opts, args: &ShowArgs) -> Result<ExitStatus> {
    let flags = PostcatFlags {
        envelope: args.envelope,
        header: args.header,
        body: args.body,
        offsets: args.offsets,
        decimal_types: args.decimal_types,
        verbose: args.verbose,
        raw: args.raw,
    }
    .with_defaults();
    let instance = if args.queue_ids {
        Some(crate::config::single_target(opts)?.instance)
    } else {
        None
    };
    let stdout = std::io::stdout();
    let term = Terminal::new(stdout.is_terminal());
    // Written as it is made, record by record; on a terminal escaped (JSON
    // the JSON way), elsewhere exact.
    let mut out = Shown::new(stdout.lock(), term, args.json);
    let mut failed = false;
    for arg in &args.files {
        let (path, bytes) = match read_show_target(arg, instance.as_ref()) {
            Ok(target) => target,
            Err(err) => {
                eprintln!("qsurgeon: error: {}", for_stderr(&format!("{err:#}")));
                failed = true;
                continue;
            }
        };
        let shown_path = String::from_utf8_lossy(&path).into_owned();
        let error = if args.json {
            printer::json::write_json(&mut out, &path, &bytes)?.map(|e| e.to_string())
        } else {
            let mut warn = |w: String| eprintln!("qsurgeon: warning: {}", for_stderr(&w));
            match postcat(&mut out, &path, &bytes, flags, &mut warn) {
                Ok(()) => None,
                Err(PostcatError::Write(e)) => return Err(e.into()),
                Err(err) => Some(err.to_string()),
            }
        };
        // What was printed before the error is out before the error is.
        out.flush()?;
        if let Some(err) = error {
            let text = format!("{shown_path}: {err}");
            eprintln!("qsurgeon: error: {}", for_stderr(&text));
            failed = true;
        }
    }
    out.flush()?;
    Ok(if failed {
        ExitStatus::Error
    } else {
        ExitStatus::Success
    })
}

/// A writer for `show`'s standard output: buffers, and on a terminal
/// escapes what it writes ([`Terminal::text`] or, for JSON,
/// [`Terminal::json`]) piece by piece. Pieces end where no UTF-8
/// character can span the cut, so the escaped output is byte for byte
/// what escaping the whole output at once gives.
pub struct Shown<W: Write> {
    inner: W,
    term: Terminal,
    json: bool,
    buf: Vec<u8>,
    flush_at: usize,
}

impl<W: Write> Shown<W> {
    /// Output to `inner`, shown as `term` says; `json` picks the escaping.
    pub fn new(inner: W, term: Terminal, json: bool) -> Shown<W> {
        Shown {
            inner,
            term,
            json,
            buf: Vec::new(),
            flush_at: FLUSH_AT,
        }
    }

    /// Writes `buf[..upto]` (escaped when the policy says so) and keeps
    /// the rest.
    fn write_out(&mut self, upto: usize) -> io::Result<()> {
        let part = &self.buf[..upto];
        let shown = if self.json {
            self.term.json(part)
        } else {
            self.term.text(part)
        };
        self.inner.write_all(&shown)?;
        self.buf.drain(..upto);
        Ok(())
    }
}

/// Where `bytes` can be cut so that no UTF-8 character spans the cut:
/// before a lead byte in the last three bytes (its character may go on in
/// the next piece), else at the end. Continuation bytes (`10xxxxxx`) are
/// never a character's start, and a character is at most four bytes.
fn utf8_safe_cut(bytes: &[u8]) -> usize {
    let tail = bytes.len().saturating_sub(3);
    match bytes[tail..].iter().rposition(|b| b & 0xc0 != 0x80) {
        Some(i) if bytes[tail + i] >= 0xc0 => tail + i,
        _ => bytes.len(),
    }
}

impl<W: Write> Write for Shown<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= self.flush_at {
            self.write_out(utf8_safe_cut(&self.buf))?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write_out(self.buf.len())?;
        self.inner.flush()
    }
}

/// Reads the file `show FILE` names (or, with `nofollow`, a queue file
/// found by ID, which is never a symbolic link) as Postfix's own readers
/// would find it safe to: opened without blocking, so a FIFO planted in
/// its place cannot hang the run; regular files only; and at most
/// [`MAX_FILE_SIZE`] bytes, read into a buffer that grows with what is
/// read (a sparse file's `st_size` is no size to allocate).
pub fn read_regular_file(path: &Path, nofollow: bool) -> anyhow::Result<Vec<u8>> {
    use rustix::fs::{FileType, Mode, OFlags};

    let shown = path.display();
    let mut flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
    if nofollow {
        flags |= OFlags::NOFOLLOW;
    }
    let fd = rustix::fs::open(path, flags, Mode::empty())
        .map_err(io::Error::from)
        .with_context(|| format!("open {shown}"))?;
    let stat = rustix::fs::fstat(&fd)
        .map_err(io::Error::from)
        .with_context(|| format!("stat {shown}"))?;
    let file_type = FileType::from_raw_mode(stat.st_mode);
    anyhow::ensure!(
        file_type == FileType::RegularFile,
        "{shown}: not a regular file ({}): show reads queue files only",
        describe_file_type(file_type)
    );
    let size = u64::try_from(stat.st_size).unwrap_or(0);
    anyhow::ensure!(
        size <= MAX_FILE_SIZE,
        "{shown}: {size} bytes, over show's limit of {MAX_FILE_SIZE} bytes (1 GiB): not a queue file Postfix wrote"
    );
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(size as usize)
        .with_context(|| format!("read {shown}: cannot allocate {size} bytes"))?;
    // The file may grow while it is read: the limit holds for what is
    // read, not only for what fstat said.
    std::fs::File::from(fd)
        .take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("read {shown}"))?;
    anyhow::ensure!(
        bytes.len() as u64 <= MAX_FILE_SIZE,
        "{shown}: grew over show's limit of {MAX_FILE_SIZE} bytes (1 GiB) while read"
    );
    Ok(bytes)
}

/// A file type as `ls -l` users know it.
fn describe_file_type(file_type: rustix::fs::FileType) -> &'static str {
    use rustix::fs::FileType;
    match file_type {
        FileType::Directory => "a directory",
        FileType::Fifo => "a FIFO",
        FileType::Socket => "a socket",
        FileType::CharacterDevice => "a character device",
        FileType::BlockDevice => "a block device",
        FileType::Symlink => "a symbolic link",
        _ => "not a regular file",
    }
}

/// Reads one `show` argument: a path, or with `-q` (`queue`: the instance)
/// a queue ID looked up in its queues. Returns the path to display and the
/// file's bytes. Either way only a regular file is read, without blocking
/// on a FIFO and within a size limit (a path: [`read_regular_file`];
/// a queue ID: `queue_scan::open` with the instance's `queue_file_limit`).
fn read_show_target(arg: &OsStr, queue: Option<&InstanceConfig>) -> Result<(Vec<u8>, Vec<u8>)> {
    let Some(instance) = queue else {
        let bytes = read_regular_file(std::path::Path::new(arg), false)?;
        return Ok((arg.as_bytes().to_vec(), bytes));
    };
    let id = arg.to_str().filter(|id| is_valid_queue_id(id));
    let id = id.with_context(|| format!("bad mail queue ID: {}", arg.to_string_lossy()))?;
    let layout = &instance.layout;
    // Found, opened and read through one descriptor (queue_scan::open): no
    // lookup-then-reopen race, no symlink followed, no FIFO waited on, at
    // most the instance's queue-file limit. A symlink, FIFO or directory
    // planted under the ID is refused by name.
    let found = queue_scan::open::find_queue_file_or_refusal(layout, id)
        .with_context(|| format!("queue file {id}"))?
        .with_context(|| format!("queue file {id}: not found in any queue"))?;
    let bytes = found
        .read(layout, instance.queue_file_limit)
        .with_context(|| format!("queue file {id}"))?;
    Ok((found.relative.as_os_str().as_bytes().to_vec(), bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// Escaping in pieces gives what escaping the whole output gives,
        /// wherever the writes and the flushes fall.
        #[test]
        fn shown_in_pieces_is_shown_whole(
            parts in prop::collection::vec(
                prop_oneof![
                    prop::collection::vec(any::<u8>(), 0..6),
                    "[a\u{e9}\u{202e}\u{200b}\u{9b}\u{1F600}\n\x1b\x7f]{0,4}"
                        .prop_map(String::into_bytes),
                ],
                0..40,
            ),
            flush_at in 1usize..16,
            json in any::<bool>(),
        ) {
            let whole: Vec<u8> = parts.concat();
            let term = Terminal { escape: true, color: false };
            let want = if json { term.json(&whole) } else { term.text(&whole) };
            let mut shown = Shown::new(Vec::new(), term, json);
            shown.flush_at = flush_at;
            for part in &parts {
                shown.write_all(part).unwrap();
            }
            shown.flush().unwrap();
            prop_assert_eq!(shown.inner, want.into_owned());
        }
    }
}
