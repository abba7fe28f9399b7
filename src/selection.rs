//! Turning the selection flags into a compiled `select::Selection`, and the
//! scan plan that follows from what the selection needs.

use std::io::Read;

use anyhow::{Context, Result};
use queue_scan::ReadPlan;
use select::{Data, Scope, Selection};

use crate::cli::SelectArgs;

/// The queues showq lists, in its order; `corrupt` only when asked for.
pub const DEFAULT_QUEUES: &[&str] = &["maildrop", "active", "incoming", "deferred", "hold"];

/// Compiles the flags of `args` into one selection (all flags ANDed).
pub fn build(args: &SelectArgs) -> Result<Selection> {
    let mut builder = Selection::builder();
    // A flag given several times means any of its values (`--id A --id B`,
    // `--sender x --sender y`); different flags AND together.
    let flags = args.valued_flags();
    let mut names: Vec<&str> = flags.iter().map(|(name, _)| *name).collect();
    names.dedup();
    for name in names {
        let values: Vec<&str> = flags
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .collect();
        let always_and = matches!(
            name,
            "--where" | "--older-than" | "--newer-than" | "--larger-than" | "--smaller-than"
        );
        if name == "--id" {
            // Checked here whether given once or many times: a mistyped ID
            // would otherwise select nothing and say only that.
            if let Some(bad) = values.iter().find(|id| !queue_scan::is_valid_queue_id(id)) {
                anyhow::bail!("--id {bad:?}: {}", not_an_id_why(bad));
            }
            builder = match values.as_slice() {
                [one] => builder
                    .flag(name, Some(one))
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
                _ => builder.ids(values),
            };
        } else if values.len() == 1 || always_and {
            for value in values {
                builder = builder
                    .flag(name, Some(value))
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
        } else {
            let tests = values
                .iter()
                .map(|v| select::flag_test(name, Some(v)))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            builder = builder.expr(select::Expr::Or(tests));
        }
    }
    if let Some(path) = &args.ids_from {
        let mut text = String::new();
        if path.as_os_str() == "-" {
            std::io::stdin()
                .read_to_string(&mut text)
                .context("read IDs from standard input")?;
        } else {
            text = std::fs::read_to_string(path)
                .with_context(|| format!("read IDs from {}", path.display()))?;
        }
        let ids = parse_id_list(&text).map_err(|(line, message)| {
            let source = if path.as_os_str() == "-" {
                "standard input".to_owned()
            } else {
                path.display().to_string()
            };
            anyhow::anyhow!("--ids-from {source}, line {line}: {message}")
        })?;
        builder = builder.ids(ids);
    }
    if args.forced_expired {
        builder = builder.forced_expired();
    }
    if args.null_sender {
        builder = builder.null_sender();
    }
    if args.nonexistent_local_sender {
        builder = builder.nonexistent_local_sender();
    }
    if args.all_recipients {
        builder = builder.all_recipients();
    }
    if args.include_done {
        builder = builder.recipient_scope(Scope::TodoOrDone);
    }
    Ok(builder.build())
}

/// Why `id` is not a queue ID, for an `--id` error.
fn not_an_id_why(id: &str) -> String {
    let mut why = "not a queue ID (letters, digits and _ only".to_owned();
    if id.ends_with(['*', '!', '#']) {
        // A glob such as `A45*` must not silently become the ID `A45`.
        why.push_str("; mailq's * ! # markers are not part of the ID");
    }
    why.push_str("; --where 'id = GLOB' matches a pattern)");
    why
}

/// The queue IDs of an `--ids-from` list: one ID per line, or the output of
/// `postqueue -p` / `mailq` as is. Errors are (1-based line number, message).
///
/// Each line's first word is an ID, with the markers mailq appends taken off
/// (`*` active, `!` on hold, then `#` forced to expire; Postfix's
/// src/postqueue/showq_compat.c). mailq's heading, its `-- N Kbytes in M
/// Requests.` trailer and `Mail queue is empty` are skipped; after a heading,
/// so are the recipient lines (indented) and the `(reason)` lines. Anything
/// else that is not an ID is an error, not a line quietly dropped: an ID list
/// is used to delete mail, and a half-read one would select too little
/// without saying so.
fn parse_id_list(text: &str) -> Result<Vec<&str>, (usize, String)> {
    let mut ids = Vec::new();
    let mut mailq = false;
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        if line.trim().is_empty() || is_mailq_summary(line) {
            continue;
        }
        // The short and the long heading (S_HEADINGS, L_HEADINGS).
        if line.starts_with("-Queue ID-") || line.starts_with("----Queue ID-----") {
            mailq = true;
            continue;
        }
        if mailq && line.starts_with([' ', '\t', '(']) {
            continue;
        }
        let mut words = line.split_whitespace();
        let token = words.next().unwrap_or_default();
        let id = token.strip_suffix('#').unwrap_or(token);
        let id = id.strip_suffix(['*', '!']).unwrap_or(id);
        // After the ID, nothing, or mailq's size column: so that a line of
        // prose ("not an id") is not read as the ID "not".
        let rest_ok = match words.next() {
            None => true,
            Some(size) => size.bytes().all(|b| b.is_ascii_digit()),
        };
        if !queue_scan::is_valid_queue_id(id) || !rest_ok {
            let hint = if mailq {
                ""
            } else if line.starts_with([' ', '\t', '(']) {
                " (a recipient or reason line of mailq output without its heading line?)"
            } else {
                " (expected one ID per line, or postqueue -p output)"
            };
            let what = if rest_ok {
                format!("not a queue ID: {token:?}")
            } else {
                format!("not a queue ID line: {:?}", line.trim())
            };
            return Err((n, format!("{what}{hint}")));
        }
        ids.push(id);
    }
    Ok(ids)
}

/// mailq's last line: `-- 23 Kbytes in 45 Requests.` (or `1 Request.`), or
/// `Mail queue is empty` (src/postqueue/showq_compat.c).
fn is_mailq_summary(line: &str) -> bool {
    if line == "Mail queue is empty" {
        return true;
    }
    let Some(rest) = line.strip_prefix("-- ") else {
        return false;
    };
    let words: Vec<&str> = rest.split(' ').collect();
    let number = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit());
    matches!(
        words.as_slice(),
        [kb, "Kbytes", "in", count, "Request." | "Requests."] if number(kb) && number(count)
    )
}

/// The queues to scan: those named by `--queue`, else showq's five.
pub fn queues(args: &SelectArgs) -> Result<Vec<&'static str>> {
    if args.queue.is_empty() {
        return Ok(DEFAULT_QUEUES.to_vec());
    }
    let mut queues = Vec::new();
    for name in args.queue.iter().flat_map(|q| q.split(',')).map(str::trim) {
        let queue = queue_scan::MESSAGE_QUEUES
            .iter()
            .find(|q| **q == name)
            .with_context(|| {
                format!(
                    "--queue {name}: not a message queue (one of {})",
                    queue_scan::MESSAGE_QUEUES.join(", ")
                )
            })?;
        if !queues.contains(queue) {
            queues.push(*queue);
        }
    }
    Ok(queues)
}

/// What to read per message so that `selection` (and the output) can be
/// decided.
pub fn read_plan(selection: &Selection, output_needs: ReadPlan) -> ReadPlan {
    let needs = selection.needs();
    ReadPlan {
        headers: output_needs.headers || needs.contains(Data::HEADERS),
        defer_log: output_needs.defer_log || needs.contains(Data::DEFER_LOG),
    }
}

/// The Postfix instance a command works on.
pub struct Target {
    /// Its queue layout and settings.
    pub instance: queue_scan::InstanceConfig,
    /// The instance's Postfix programs; `None` with `--queue-dir`: there is
    /// no Postfix configuration to ask.
    pub postfix: Option<postfix::Postfix>,
    /// The instance's name when several are worked on (`--all-instances`):
    /// every output line that names a message names it too.
    pub label: Option<String>,
}

/// Resolves the nonexistent-local-sender verdicts when `selection` needs
/// them: a first, envelope-only scan collects the distinct senders in our
/// domains, and each is looked up once, in batches, with Postfix's own
/// tools.
pub fn local_sender_check(
    target: &Target,
    queues: &[&'static str],
    selection: &Selection,
    quiet: bool,
) -> Result<Option<postfix::LocalSenderCheck>> {
    if !selection.needs().contains(Data::LOCAL_SENDER_CHECK) {
        return Ok(None);
    }
    let Some(postfix) = &target.postfix else {
        anyhow::bail!("--nonexistent-local-sender asks Postfix which addresses exist: use -c CONFIG_DIR (or the default instance), not --queue-dir");
    };
    let mut check = postfix::LocalSenderCheck::from_postfix(postfix)?;
    struct Senders<'c, 'm> {
        check: &'c postfix::LocalSenderCheck,
        found: std::collections::HashSet<Vec<u8>>,
        all: &'m std::sync::Mutex<std::collections::HashSet<Vec<u8>>>,
    }
    impl queue_scan::Visitor for Senders<'_, '_> {
        fn message(&mut self, msg: &queue_scan::Message<'_>) {
            if let Some(sender) = msg.envelope.sender {
                let domain = crate::summary::domain_of(sender);
                if !domain.is_empty()
                    && !self.found.contains(sender)
                    && self.check.is_local_domain(&domain)
                {
                    self.found.insert(sender.to_vec());
                }
            }
        }
        fn error(&mut self, _: queue_scan::ScanError) {}
    }
    impl Drop for Senders<'_, '_> {
        fn drop(&mut self) {
            self.all
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend(self.found.drain());
        }
    }
    let all = std::sync::Mutex::new(std::collections::HashSet::new());
    let options = queue_scan::ScanOptions {
        queues: queues.to_vec(),
        file_size_limit: queue_scan::DEFAULT_QUEUE_FILE_LIMIT,
        read: ReadPlan::default(),
    };
    queue_scan::scan(
        &target.instance.layout,
        &options,
        &queue_scan::ScanProgress::default(),
        || Senders {
            check: &check,
            found: Default::default(),
            all: &all,
        },
    );
    let senders = all.into_inner().unwrap_or_else(|e| e.into_inner());
    check.resolve(senders.iter().map(Vec::as_slice))?;
    if !quiet {
        eprintln!(
            "qsurgeon: {} distinct senders in our domains checked against:",
            senders.len()
        );
        for line in check.describe() {
            eprintln!("qsurgeon:   {line}");
        }
    }
    Ok(Some(check))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_list_one_per_line() {
        let ids = parse_id_list("A45E798E3F5\n\n  3FA9298C54E  \n4Wbc5L1Zz8z9vWl\n").unwrap();
        assert_eq!(ids, ["A45E798E3F5", "3FA9298C54E", "4Wbc5L1Zz8z9vWl"]);
    }

    #[test]
    fn id_list_strips_mailq_markers() {
        let ids =
            parse_id_list("A45E798E3F5*\nB45E798E3F5!\nC45E798E3F5#\nD45E798E3F5*#\n").unwrap();
        assert_eq!(
            ids,
            ["A45E798E3F5", "B45E798E3F5", "C45E798E3F5", "D45E798E3F5"]
        );
    }

    #[test]
    fn id_list_reads_mailq_output() {
        let out = "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n\
                   D079698C534*     488 Sun Nov 22 16:30:43  dave@ourdomain.example\n\
                   \x20                                        a1@slow.example\n\
                   \n\
                   3532198C54B!    564 Sun Nov 22 16:30:44  AI@ourdomain.example\n\
                   \x20                                         (Greylisted, please try again later)\n\
                   \x20                                        victim81@greylist.example\n\
                   (delivery temporarily suspended: connect to 127.0.0.1[127.0.0.1]:1: Connection refused)\n\
                   \x20                                        victim80@list1.example\n\
                   \n\
                   -- 1 Kbytes in 2 Requests.\n";
        assert_eq!(parse_id_list(out).unwrap(), ["D079698C534", "3532198C54B"]);
        assert_eq!(
            parse_id_list("Mail queue is empty\n").unwrap(),
            Vec::<&str>::new()
        );
        assert_eq!(
            parse_id_list("-- 0 Kbytes in 1 Request.\n").unwrap(),
            Vec::<&str>::new()
        );
    }

    #[test]
    fn id_list_long_ids_heading() {
        let out = "----Queue ID----- --Size-- ---Arrival Time---- --Sender/Recipient------\n\
                   4Wbc5L1Zz8z9vWl*      488 Sun Nov 22 16:30:43 dave@example.com\n\
                   \x20                                              bob@example.net\n";
        assert_eq!(parse_id_list(out).unwrap(), ["4Wbc5L1Zz8z9vWl"]);
    }

    #[test]
    fn id_list_errors_name_the_line() {
        let e = parse_id_list("A45E798E3F5\nnot an id\n").unwrap_err();
        assert_eq!(e.0, 2);
        assert!(e.1.contains("\"not an id\""), "{}", e.1);
        assert_eq!(parse_id_list("A45E798E3F5 x\n").unwrap_err().0, 1);
        // Recipient lines are only known as such after mailq's heading.
        let e =
            parse_id_list("A45E798E3F5*  488 Sun Nov 22 16:30:43  a@b\n      bob@example.net\n")
                .unwrap_err();
        assert_eq!(e.0, 2);
        assert!(e.1.contains("heading"), "{}", e.1);
        // After the heading, a line at column 0 must still be an ID.
        let e =
            parse_id_list("-Queue ID-  --Size--\nA45E798E3F5* 1 x\nbob@example.net\n").unwrap_err();
        assert_eq!(e.0, 3);
        // A trailer that is not mailq's is not skipped.
        assert_eq!(parse_id_list("-- 1 Kbytes\n").unwrap_err().0, 1);
        assert_eq!(parse_id_list("A45E798E3F5**\n").unwrap_err().0, 1);
        assert_eq!(parse_id_list("*\n").unwrap_err().0, 1);
    }

    #[test]
    fn id_why_mentions_markers_only_when_present() {
        assert!(not_an_id_why("A45*").contains("markers"));
        assert!(!not_an_id_why("not an id").contains("markers"));
    }
}
