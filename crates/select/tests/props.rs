//! Property tests: the parser never panics, printing parses back to the same
//! expression, and every way of evaluating agrees (so reordering tests by
//! cost never changes a result).

mod common;

use common::{msg, Msg, NOW};
use proptest::prelude::*;
use select::{flag_test, parse_expr, Context, Data, Selection};

/// Tests that parse, covering every field kind, operator and value form.
const LEAVES: &[&str] = &[
    "sasl_user = bob",
    "sasl_user != bob",
    "sasl_user = \"\"",
    "sasl_user ~ /^B/i",
    "sender = <>",
    "sender = *@example.com",
    "sender = <Bob.Smith@EXAMPLE.com>",
    "sender !~ example",
    "sender_domain = @example.com",
    "recipient = alice@example.org",
    "all recipient_domain in (example.org, example.net)",
    "done_recipient = dave@example.org",
    "all todo_or_done_recipient ~ /@example\\./",
    "client = 203.0.113.0/24",
    "client = 2001:db8::/32",
    "client = 203.0.113.*",
    "client_name = *.example.com",
    "helo ~ ehlo",
    "sasl_method = plain",
    "queue in (deferred hold)",
    "id = 4BkX1z2Qr5z9abc",
    "age > 2d",
    "age <= 1d12h",
    "size >= 1M",
    "size < 10K",
    "arrival != 0",
    "recipients > 100",
    "todo_recipients <= 2",
    "reason ~ \"timed out\"",
    "all reason ~ /4\\.7\\.1|timed/",
    "dsn_status = 4.7.*",
    "dsn_status = 5.*",
    "header.subject ~ /invoice/i",
    "header Received = \"from *\"",
    "all header.received !~ x",
    "attr.log_client_name = mail.example.com",
    "attr.missing = \"\"",
    "forced_expired",
    "null_sender",
    "nonexistent_local_sender",
];

/// A leaf: one of the fixed tests, or a test with an arbitrary quoted value.
fn leaf() -> impl Strategy<Value = String> {
    let fixed = proptest::sample::select(LEAVES).prop_map(str::to_owned);
    let field = proptest::sample::select(
        &[
            "sender",
            "recipient",
            "sender_domain",
            "header.subject",
            "sasl_user",
            "client",
            "queue",
        ][..],
    );
    let op = proptest::sample::select(&["=", "!="][..]);
    let value = "[a-zA-Z0-9 *?\\\\\"'(),/@<>.é-]{0,12}";
    let quoted = (field, op, value).prop_map(|(f, op, v)| {
        // On `client`, a `/` makes the value a network, which must be valid,
        // and text that is not an address must be a glob (or empty).
        let v = if f == "client" && !v.is_empty() {
            format!("{}*", v.replace('/', ""))
        } else {
            v
        };
        let escaped = v.replace('\\', "\\\\").replace('"', "\\\"");
        format!("{f} {op} \"{escaped}\"")
    });
    // Durations and sizes need a unit; arrival is epoch seconds.
    let number = (
        proptest::sample::select(
            &[
                "age 0", "age s", "age m", "age h", "age d", "age w", "size 0", "size B", "size K",
                "size M", "size G", "arrival ",
            ][..],
        ),
        0u32..5_000_000,
    )
        .prop_map(|(fu, n)| match fu.split_once(' ') {
            Some((f, "0")) => format!("{f} > 0"),
            Some((f, unit)) => format!("{f} > {n}{unit}"),
            None => unreachable!(),
        });
    prop_oneof![4 => fixed, 2 => quoted, 1 => number]
}

/// An expression built from leaves with `and`, `or`, `not` and parentheses.
fn expr() -> impl Strategy<Value = String> {
    leaf().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} and {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} or {b}")),
            inner.clone().prop_map(|a| format!("not {a}")),
            inner.prop_map(|a| format!("({a})")),
        ]
    })
}

fn messages() -> Vec<Msg> {
    let mut null = msg();
    null.sender = Some("");
    null.todo.clear();
    null.sasl_user = None;
    null.forced_expired = true;
    let mut v6 = msg();
    v6.client = Some("2001:db8::25");
    v6.reasons = vec!["timed out"];
    v6.headers.clear();
    v6.size = None;
    vec![msg(), null, v6]
}

/// Parses back what the expression prints, and checks that matching,
/// tracing and (partial) deciding agree on a few messages.
fn check_consistent(src: &str) -> Result<(), TestCaseError> {
    let Ok(e) = parse_expr(src) else {
        return Ok(());
    };
    let printed = e.to_string();
    let again = parse_expr(&printed)
        .map_err(|err| TestCaseError::fail(format!("{printed:?} from {src:?}:\n{err}")))?;
    prop_assert_eq!(&again, &e, "{:?} printed as {:?}", src, printed);
    prop_assert_eq!(again.to_string(), printed);
    let sel = Selection::new(e);
    let ctx = Context::at(NOW);
    for m in messages() {
        let want = sel.matches(&m, &ctx);
        prop_assert_eq!(sel.explain(&m, &ctx).matched, want, "explain of {:?}", src);
        prop_assert_eq!(sel.decide(&m, &ctx, Data::ALL), Some(want));
        for have in [Data::NONE, Data::ENVELOPE, Data::ENVELOPE | Data::DEFER_LOG] {
            if let Some(b) = sel.decide(&m, &ctx, have) {
                prop_assert_eq!(b, want, "partial decide of {:?} with {:?}", src, have);
            }
        }
        let order = sel.evaluation_order().expect("not empty");
        prop_assert_eq!(
            Selection::new(order).matches(&m, &ctx),
            want,
            "reordered {:?}",
            src
        );
    }
    Ok(())
}

proptest! {
    // 512 cases by default; PROPTEST_CASES asks for more (a longer run).
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(512)
    ))]

    #[test]
    fn generated_expressions_round_trip(src in expr()) {
        prop_assert!(parse_expr(&src).is_ok(), "{:?}: {}", src, parse_expr(&src).unwrap_err());
        check_consistent(&src)?;
    }

    #[test]
    fn parser_never_panics_on_any_text(src in "\\PC{0,60}") {
        if let Err(e) = parse_expr(&src) {
            prop_assert!(e.offset() <= src.len());
            let _ = e.to_string();
        }
        check_consistent(&src)?;
    }

    #[test]
    fn parser_never_panics_on_near_grammar(
        src in "([a-z_.]{1,12}|and|or|not|all|in|[()=!~<>,]{1,2}|\"[^\"]{0,5}\"?|/[^/]{0,5}/?[a-z]?|[0-9]{1,4}[smhdwKMG]?|[ \t]){0,14}"
    ) {
        if let Err(e) = parse_expr(&src) {
            prop_assert!(e.offset() <= src.len());
            let _ = e.to_string();
        }
        check_consistent(&src)?;
    }

    #[test]
    fn flag_values_print_as_parseable_tests(
        flag in proptest::sample::select(&[
            "--sender", "--sender-domain", "--recipient", "--recipient-domain", "--sasl-user",
            "--sasl-method", "--client", "--client-name", "--helo", "--older-than",
            "--newer-than", "--larger-than", "--smaller-than", "--reason", "--dsn-status",
            "--header", "--queue", "--id",
        ][..]),
        value in "\\PC{0,20}",
    ) {
        match flag_test(flag, Some(&value)) {
            Ok(e) => {
                let printed = e.to_string();
                let again = parse_expr(&printed)
                    .map_err(|err| TestCaseError::fail(format!("{printed:?}:\n{err}")))?;
                prop_assert_eq!(again, e);
            }
            Err(e) => {
                prop_assert!(e.offset() <= value.len(), "{}", e);
                let _ = e.to_string();
            }
        }
    }
}
