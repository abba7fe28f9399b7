//! The selection flags as a typed `query::SelectionSpec` (with the IDs of
//! `--ids-from` read), and the query a command runs.

use std::io::Read;

use anyhow::{Context, Result};
use query::{Query, SelectionSpec};
use queue_scan::ReadPlan;
use select::Selection;

use crate::cli::SelectArgs;
use crate::config::Target;

/// The selection flags as a typed [`SelectionSpec`], with the IDs of
/// `--ids-from` read (from the file, or standard input for `-`).
pub fn spec(args: &SelectArgs) -> Result<SelectionSpec> {
    let ids_from = match &args.ids_from {
        None => None,
        Some(path) => {
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
            Some(ids.into_iter().map(str::to_owned).collect())
        }
    };
    let a = args.clone();
    Ok(SelectionSpec {
        queues: a.queue,
        ids: a.id,
        ids_from,
        senders: a.sender,
        sender_domains: a.sender_domain,
        recipients: a.recipient,
        recipient_domains: a.recipient_domain,
        sasl_users: a.sasl_user,
        sasl_methods: a.sasl_method,
        clients: a.client,
        client_names: a.client_name,
        helos: a.helo,
        reasons: a.reason,
        dsn_statuses: a.dsn_status,
        headers: a.header,
        older_than: a.older_than,
        newer_than: a.newer_than,
        larger_than: a.larger_than,
        smaller_than: a.smaller_than,
        min_recipients: a.min_recipients,
        forced_expired: a.forced_expired,
        null_sender: a.null_sender,
        nonexistent_local_sender: a.nonexistent_local_sender,
        all_recipients: a.all_recipients,
        include_done: a.include_done,
        where_exprs: a.where_expr,
    })
}

/// The query of `args` on `target` (showq's queues unless `--queue`), with
/// the nonexistent-local-sender verdicts resolved when it needs them
/// (what was checked is said on stderr unless `quiet`).
pub fn query(
    target: &Target,
    args: &SelectArgs,
    output_needs: ReadPlan,
    quiet: bool,
) -> Result<Query> {
    query_in(target, args, query::DEFAULT_QUEUES, output_needs, quiet)
}

/// [`query`] over `default_queues` unless `--queue` (a verb scans only the
/// queues it can act on).
pub fn query_in(
    target: &Target,
    args: &SelectArgs,
    default_queues: &[&'static str],
    output_needs: ReadPlan,
    quiet: bool,
) -> Result<Query> {
    let mut query = Query::new(&spec(args)?, default_queues, output_needs)?;
    query.file_size_limit = target.instance.queue_file_limit;
    let checked = query.resolve_local_senders(&target.instance.layout, target.postfix.as_ref())?;
    if let (Some(senders), Some(check), false) = (checked, &query.local, quiet) {
        describe_local_check(senders, check);
    }
    Ok(query)
}

fn describe_local_check(senders: usize, check: &postfix::LocalSenderCheck) {
    eprintln!("qsurgeon: {senders} distinct senders in our domains checked against:");
    for line in check.describe() {
        eprintln!("qsurgeon:   {line}");
    }
}

/// Compiles the flags of `args` into one selection (all flags ANDed).
pub fn build(args: &SelectArgs) -> Result<Selection> {
    Ok(spec(args)?.build()?)
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
    Ok(query::spec::parse_queues(&args.queue).map(|q| {
        if q.is_empty() {
            query::DEFAULT_QUEUES.to_vec()
        } else {
            q
        }
    })?)
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
}
