//! The `/` filter: the `--where` language evaluated from the snapshot's
//! memory, not by reading the queue again. The snapshot keeps, per message,
//! its queue, ID, sender, SASL login, client address, size, arrival time
//! and envelope recipient count (`recipients`, Postfix's `nrcpt`: every
//! `R`, `D` and `/` record, as `MessageView::recipient_count` counts it for
//! `list --where`), so expressions over those (and what the language
//! derives from them: `sender_domain`, `null_sender`, `age`) are answered
//! exactly as `qsurgeon list --where` would answer them; an expression over
//! anything else (recipient addresses, `todo_recipients`, headers,
//! reasons…) is refused with the name of the attribute, rather than
//! answered wrongly.

use query::snapshot::Snapshot;
use query::Dimension;
use select::{Attribute, Expr, Field, Fields, Flag, Selection};

/// One message of a snapshot, as the selection sees it.
pub(super) struct InMemory<'a> {
    pub snap: &'a Snapshot,
    pub i: u32,
}

impl Fields for InMemory<'_> {
    fn any_text(&self, field: Field<'_>, visit: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        let single = |dim| self.snap.single_key(self.i, dim).unwrap_or_default();
        match field {
            Field::Queue => visit(single(Dimension::Queue)),
            Field::Id => visit(self.snap.id(self.i)),
            // The null sender is the empty value, as in the queue file.
            Field::Sender => visit(single(Dimension::Sender)),
            // An empty key stands for no such attribute in the queue file
            // (`Dimension::keys` writes an absent one as empty), which is
            // no value for the selection.
            Field::SaslUser => {
                let v = single(Dimension::SaslUser);
                !v.is_empty() && visit(v)
            }
            Field::Client => {
                let v = single(Dimension::Client);
                !v.is_empty() && visit(v)
            }
            _ => false,
        }
    }

    fn number(&self, field: Field<'_>) -> Option<i64> {
        let facts = self.snap.facts(self.i);
        match field {
            Field::Size => i64::try_from(facts.size).ok(),
            Field::Arrival => Some(facts.arrival),
            Field::Recipients => Some(i64::from(facts.recipients)),
            _ => None,
        }
    }

    fn flag(&self, _: Field<'_>) -> bool {
        false
    }
}

/// Whether the snapshot can answer a test on `attr` exactly.
fn kept(attr: &Attribute) -> bool {
    matches!(
        attr,
        Attribute::Queue
            | Attribute::Id
            | Attribute::Sender
            | Attribute::SenderDomain
            | Attribute::SaslUser
            | Attribute::Client
            | Attribute::Age
            | Attribute::Size
            | Attribute::Arrival
            | Attribute::Recipients
    )
}

/// The first attribute or flag the snapshot does not keep.
fn first_unkept(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Or(v) | Expr::And(v) => v.iter().find_map(first_unkept),
        Expr::Not(e) => first_unkept(e),
        Expr::Test(t) => {
            if let Some(attr) = t.attribute() {
                return (!kept(attr)).then(|| attr.name().into_owned());
            }
            match t.flag() {
                Some(Flag::NullSender) | None => None,
                Some(flag) => Some(flag.name().to_string()),
            }
        }
    }
}

/// Parses a filter: its canonical form (which reads back to itself, for
/// the command line) and its selection; or the column (1-based; 0 for the
/// whole expression) and why not.
pub(super) fn compile(text: &str) -> Result<(String, Selection), (usize, String)> {
    let expr = select::parse_expr(text).map_err(|e| (e.column(), e.message().to_string()))?;
    if let Some(name) = first_unkept(&expr) {
        return Err((
            0,
            format!("{name} is not kept in triage's memory: use qsurgeon list --where for it"),
        ));
    }
    Ok((expr.to_string(), Selection::new(expr)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::triage::app::tests::demo_snapshot;

    /// The filter selects, from memory, exactly what the same expression
    /// selects on the queue files (`Query` over the demo queue).
    #[test]
    fn filters_agree_with_the_scan() {
        let snap = demo_snapshot();
        let layout = queue_scan::QueueLayout::with_defaults(
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/demo-queue"),
        );
        for text in [
            "sasl_user = mallory",
            "sasl_user = mallory and size > 560B",
            "not sasl_user = mallory",
            "sender_domain = ourdomain.example and queue = deferred",
            "null_sender",
            "client = 203.0.113.0/24",
            "age > 1d",
            "sender ~ /^A[A-D]@/",
            // What Enter on "(none)" narrows to (flags.rs).
            "sasl_user = \"\"",
            "client = \"\"",
            "sender = <>",
            // Envelope recipient counts (a burst: few messages, many
            // recipients each).
            "recipients > 1",
            "recipients >= 3 and sasl_user = mallory",
            "not recipients = 1",
        ] {
            let (_, selection) = compile(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
            let ctx = select::Context::at(snap.now);
            let mut from_memory: Vec<String> = (0..snap.len() as u32)
                .filter(|&i| selection.matches(&InMemory { snap: &snap, i }, &ctx))
                .map(|i| String::from_utf8_lossy(snap.id(i)).into_owned())
                .collect();
            from_memory.sort();
            let spec = query::SelectionSpec {
                where_exprs: vec![text.to_string()],
                ..Default::default()
            };
            let query = query::Query::for_spec(&spec, queue_scan::ReadPlan::default()).unwrap();
            let snap2 = Snapshot::scan(&query, &layout, &queue_scan::ScanProgress::default());
            let mut scanned: Vec<String> = (0..snap2.len() as u32)
                .map(|i| String::from_utf8_lossy(snap2.id(i)).into_owned())
                .collect();
            scanned.sort();
            assert_eq!(from_memory, scanned, "{text}");
            assert!(
                !scanned.is_empty() || text == "null_sender" || text == "age > 1d",
                "{text}"
            );
        }
    }

    #[test]
    fn errors_name_their_column_and_unkept_attributes_are_refused() {
        let (column, message) = compile("size > > 3").unwrap_err();
        assert_eq!(column, 8, "{message}");
        let (column, message) =
            compile("sasl_user = mallory and recipient_domain = x").unwrap_err();
        assert_eq!(column, 0);
        assert!(message.contains("recipient_domain"), "{message}");
        assert!(compile("header.subject ~ /prize/").is_err());
        // Counted to do and done alike in memory; the to-do count is not kept.
        let (_, message) = compile("todo_recipients > 2").unwrap_err();
        assert!(message.contains("todo_recipients"), "{message}");
        assert_eq!(compile("nrcpt > 20").unwrap().0, "recipients > 20");
        let (canonical, _) = compile("sasl_user=mallory").unwrap();
        assert_eq!(compile(&canonical).unwrap().0, canonical, "reads back");
    }
}
