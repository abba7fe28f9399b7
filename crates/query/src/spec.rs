//! The typed selection spec: what the selection flags asked for, as values
//! a program fills in (the binary from clap, a library user by hand), and
//! the selection, queues and read plan that follow from it.
//!
//! Each field becomes its test through `select`'s typed builder methods;
//! the string parser is used for `where_exprs` only.

use queue_scan::ReadPlan;
use select::{Data, Scope, Selection};

use crate::error::Error;

/// The queues showq lists, in its order; `corrupt` only when asked for
/// (src/showq/showq.c, `queue_names`).
pub const DEFAULT_QUEUES: &[&str] = &["maildrop", "active", "incoming", "deferred", "hold"];

/// Which messages, as the selection flags say. Every field narrows the
/// selection (all are ANDed); the values of one many-valued field are
/// alternatives (`--sender a --sender b`: either).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SelectionSpec {
    /// `--queue Q[,Q…]`: in one of these queues.
    pub queues: Vec<String>,
    /// `--id ID`: these queue IDs.
    pub ids: Vec<String>,
    /// `--ids-from FILE`: the IDs read from it (`None`: not given; an
    /// empty list selects nothing).
    pub ids_from: Option<Vec<String>>,
    /// `--sender ADDR`.
    pub senders: Vec<String>,
    /// `--sender-domain DOMAIN`.
    pub sender_domains: Vec<String>,
    /// `--recipient ADDR`.
    pub recipients: Vec<String>,
    /// `--recipient-domain DOMAIN`.
    pub recipient_domains: Vec<String>,
    /// `--sasl-user NAME`.
    pub sasl_users: Vec<String>,
    /// `--sasl-method MECH`.
    pub sasl_methods: Vec<String>,
    /// `--client ADDR|CIDR`.
    pub clients: Vec<String>,
    /// `--client-name HOST`.
    pub client_names: Vec<String>,
    /// `--helo NAME`.
    pub helos: Vec<String>,
    /// `--reason REGEX`.
    pub reasons: Vec<String>,
    /// `--dsn-status STATUS`.
    pub dsn_statuses: Vec<String>,
    /// `--header 'NAME~REGEX'`.
    pub headers: Vec<String>,
    /// `--older-than DURATION`.
    pub older_than: Option<String>,
    /// `--newer-than DURATION`.
    pub newer_than: Option<String>,
    /// `--larger-than SIZE`.
    pub larger_than: Option<String>,
    /// `--smaller-than SIZE`.
    pub smaller_than: Option<String>,
    /// `--min-recipients N`.
    pub min_recipients: Option<String>,
    /// `--forced-expired`.
    pub forced_expired: bool,
    /// `--null-sender`.
    pub null_sender: bool,
    /// `--nonexistent-local-sender`.
    pub nonexistent_local_sender: bool,
    /// `--all-recipients`: recipient tests need every recipient in scope.
    pub all_recipients: bool,
    /// `--include-done`: recipient tests look at done recipients too.
    pub include_done: bool,
    /// `--where EXPR`.
    pub where_exprs: Vec<String>,
}

type TextFlag = fn(select::Builder, &str) -> Result<select::Builder, select::ParseError>;

impl SelectionSpec {
    /// The many-valued text flags, in the order their tests are ANDed (the
    /// order `--explain` shows them in).
    fn text_flags(&self) -> [(&'static str, &[String], TextFlag); 14] {
        use select::Builder as B;
        [
            ("--queue", &self.queues, B::queues),
            ("--id", &self.ids, B::id),
            ("--sender", &self.senders, B::sender),
            ("--sender-domain", &self.sender_domains, B::sender_domain),
            ("--recipient", &self.recipients, B::recipient),
            (
                "--recipient-domain",
                &self.recipient_domains,
                B::recipient_domain,
            ),
            ("--sasl-user", &self.sasl_users, B::sasl_user),
            ("--sasl-method", &self.sasl_methods, B::sasl_method),
            ("--client", &self.clients, B::client),
            ("--client-name", &self.client_names, B::client_name),
            ("--helo", &self.helos, B::helo),
            ("--reason", &self.reasons, B::reason),
            ("--dsn-status", &self.dsn_statuses, B::dsn_status),
            ("--header", &self.headers, B::header),
        ]
    }

    /// Compiles the spec into one selection.
    pub fn build(&self) -> Result<Selection, Error> {
        let mut b = Selection::builder();
        if let Some(bad) = self
            .ids
            .iter()
            .find(|id| !queue_scan::is_valid_queue_id(id))
        {
            // Checked given once or many times: a mistyped ID would
            // otherwise select nothing and say only that.
            return Err(Error::BadId {
                value: bad.clone(),
                why: not_an_id_why(bad),
            });
        }
        for (name, values, one) in self.text_flags() {
            b = match values {
                [] => b,
                [value] => one(b, value)?,
                // Several IDs: one literal set test.
                _ if name == "--id" => b.ids(values),
                _ => {
                    let tests = values
                        .iter()
                        .map(|v| select::flag_test(name, Some(v)))
                        .collect::<Result<Vec<_>, _>>()?;
                    b.expr(select::Expr::Or(tests))
                }
            };
        }
        let bounds: [(&Option<String>, TextFlag); 5] = [
            (&self.older_than, select::Builder::older_than),
            (&self.newer_than, select::Builder::newer_than),
            (&self.larger_than, select::Builder::larger_than),
            (&self.smaller_than, select::Builder::smaller_than),
            (&self.min_recipients, select::Builder::min_recipients),
        ];
        for (value, test) in bounds {
            if let Some(value) = value {
                b = test(b, value)?;
            }
        }
        for expr in &self.where_exprs {
            b = b.flag("--where", Some(expr))?;
        }
        if let Some(ids) = &self.ids_from {
            b = b.ids(ids);
        }
        if self.forced_expired {
            b = b.forced_expired();
        }
        if self.null_sender {
            b = b.null_sender();
        }
        if self.nonexistent_local_sender {
            b = b.nonexistent_local_sender();
        }
        if self.all_recipients {
            b = b.all_recipients();
        }
        if self.include_done {
            b = b.recipient_scope(Scope::TodoOrDone);
        }
        Ok(b.build())
    }

    /// The queues to scan: those named by `queues`, else `default`.
    pub fn scan_queues(&self, default: &[&'static str]) -> Result<Vec<&'static str>, Error> {
        if self.queues.is_empty() {
            return Ok(default.to_vec());
        }
        parse_queues(&self.queues)
    }
}

/// The message queues named by `--queue` values (each a name or a comma
/// list), in the order named, each once.
pub fn parse_queues<S: AsRef<str>>(values: &[S]) -> Result<Vec<&'static str>, Error> {
    let mut queues = Vec::new();
    for name in values
        .iter()
        .flat_map(|q| q.as_ref().split(','))
        .map(str::trim)
    {
        let queue = queue_scan::MESSAGE_QUEUES
            .iter()
            .find(|q| **q == name)
            .ok_or_else(|| Error::BadQueue {
                name: name.to_owned(),
            })?;
        if !queues.contains(queue) {
            queues.push(*queue);
        }
    }
    Ok(queues)
}

/// What to read per message so that `selection` (and the output, which
/// needs `output_needs`) can be decided.
pub fn read_plan(selection: &Selection, output_needs: ReadPlan) -> ReadPlan {
    let needs = selection.needs();
    ReadPlan {
        headers: output_needs.headers || needs.contains(Data::HEADERS),
        defer_log: output_needs.defer_log || needs.contains(Data::DEFER_LOG),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> SelectionSpec {
        SelectionSpec::default()
    }

    #[test]
    fn fields_become_tests_in_flag_order() {
        let s = SelectionSpec {
            sasl_users: vec!["bob".into()],
            senders: vec!["a@x.example".into(), "b@x.example".into()],
            older_than: Some("2d".into()),
            min_recipients: Some("40".into()),
            where_exprs: vec!["not forced_expired".into()],
            null_sender: true,
            ..spec()
        };
        assert_eq!(
            s.build().unwrap().to_string(),
            "(sender = a@x.example or sender = b@x.example) and sasl_user = bob and age > 2d and recipients >= 40 and not forced_expired and null_sender"
        );
        assert_eq!(
            spec().build().unwrap().to_string(),
            Selection::everything().to_string()
        );
    }

    #[test]
    fn bad_values_are_errors_naming_the_flag() {
        let e = SelectionSpec {
            ids: vec!["A45*".into()],
            ..spec()
        }
        .build()
        .unwrap_err();
        assert!(
            matches!(&e, Error::BadId { value, .. } if value == "A45*"),
            "{e}"
        );
        assert!(e.to_string().contains("markers"), "{e}");
        let e = SelectionSpec {
            older_than: Some("2x".into()),
            ..spec()
        }
        .build()
        .unwrap_err();
        assert!(matches!(e, Error::Selection(_)), "{e}");
        // Named as typed on the command line, not as the field.
        assert!(e.to_string().contains("--older-than:"), "{e}");
        let e = SelectionSpec {
            sasl_users: vec!["/(/".into()],
            ..spec()
        }
        .build()
        .unwrap_err();
        assert!(e.to_string().contains("--sasl-user"), "{e}");
    }

    #[test]
    fn queues_parse_in_order_once() {
        let s = SelectionSpec {
            queues: vec!["hold, deferred".into(), "hold".into()],
            ..spec()
        };
        assert_eq!(s.scan_queues(DEFAULT_QUEUES).unwrap(), ["hold", "deferred"]);
        assert_eq!(spec().scan_queues(DEFAULT_QUEUES).unwrap(), DEFAULT_QUEUES);
        let e = parse_queues(&["bounce"]).unwrap_err();
        assert!(matches!(&e, Error::BadQueue { name } if name == "bounce"));
    }

    #[test]
    fn the_read_plan_follows_the_selection() {
        let none = ReadPlan::default();
        let reason = SelectionSpec {
            reasons: vec!["refused".into()],
            ..spec()
        }
        .build()
        .unwrap();
        assert!(read_plan(&reason, none).defer_log);
        assert!(!read_plan(&reason, none).headers);
        let header = SelectionSpec {
            headers: vec!["Subject~x".into()],
            ..spec()
        }
        .build()
        .unwrap();
        assert!(read_plan(&header, none).headers);
        assert!(!read_plan(&spec().build().unwrap(), none).defer_log);
    }
}
