//! Table-driven tests of the selection language over a fake message: every
//! grammar production, operator, field, flag and error.

mod common;

use common::{msg, Msg, NOW};
use select::{flag_test, parse_expr, Context, Data, Scope, Selection, TraceNode};

fn ctx() -> Context {
    Context::at(NOW)
}

/// Parses, checks the round trip through Display, and evaluates every way
/// the crate offers; all must agree.
fn check(expr: &str, m: &Msg, want: bool) {
    let e = parse_expr(expr).unwrap_or_else(|err| panic!("{expr:?} does not parse:\n{err}"));
    let printed = e.to_string();
    let again =
        parse_expr(&printed).unwrap_or_else(|err| panic!("{printed:?} does not parse:\n{err}"));
    assert_eq!(again, e, "round trip of {expr:?} through {printed:?}");
    let sel = Selection::new(e);
    assert_eq!(
        sel.matches(m, &ctx()),
        want,
        "{expr:?} (printed {printed:?})"
    );
    assert_eq!(sel.explain(m, &ctx()).matched, want, "explain of {expr:?}");
    assert_eq!(
        sel.decide(m, &ctx(), Data::ALL),
        Some(want),
        "decide of {expr:?}"
    );
}

/// Each row `name: "expr" => want;` (optionally `with |m| change;`) is a test
/// of the expression on [`msg`].
macro_rules! matches {
    ($($name:ident: $expr:expr $(, with |$m:ident| $change:expr)? => $want:expr;)*) => {$(
        #[test]
        fn $name() {
            #[allow(unused_mut)]
            let mut m = msg();
            $( let $m = &mut m; $change; )?
            check($expr, &m, $want);
        }
    )*};
}

matches! {
    // Precedence: not > and > or; parentheses.
    or_is_looser_than_and: "sasl_user = bob or sasl_user = x and sasl_user = y" => true;
    not_binds_tighter_than_and: "not sasl_user = bob and sasl_user = x" => false;
    not_binds_tighter_than_or: "not sasl_user = bob or sasl_user = bob" => true;
    parentheses_group: "(sasl_user = bob or sasl_user = x) and sasl_user = y" => false;
    parenthesized_test: "not (sasl_user = x)" => true;
    double_not: "not not sasl_user = bob" => true;
    nested_groups: "((sasl_user = bob) and ((queue = deferred)))" => true;
    keywords_ignore_case: "sasl_user = bob AND NOT sasl_user = x Or queue = hold" => true;
    no_spaces_needed: "(sasl_user=bob)and(age>2d)" => true;
    newlines_are_spaces: "sasl_user = bob\n\tand age > 2d" => true;

    // Operators on text.
    eq_exact: "sasl_user = bob" => true;
    ne_exact: "sasl_user != bob" => false;
    eq_is_case_sensitive_for_sasl_user: "sasl_user = Bob" => false;
    eq_regex_with_flag: "sasl_user = /^BOB$/i" => true;
    eq_regex_is_a_search: "sasl_user = /o/" => true;
    match_bare_regex: "sasl_user ~ o" => true;
    match_is_unanchored_but_anchors_work: "sasl_user ~ ^o" => false;
    not_match: "sasl_user !~ o" => false;
    perl_match_operator: "sasl_user =~ ^b" => true;
    double_equals: "sasl_user == bob" => true;
    glob_star: "sasl_user = b*" => true;
    glob_question: "sasl_user = b?b" => true;
    glob_question_is_one_char: "sasl_user = b?" => false;
    glob_escape_is_literal: r"sasl_user = b\*b" => false;
    glob_escape_matches_literal: r"sasl_user = b\*b", with |m| m.sasl_user = Some("b*b") => true;
    quoted_value: "header.subject = \"Invoice 42\"" => true;
    single_quoted_value: "header.subject = 'Invoice 42'" => true;
    quoted_glob: "header.subject = \"Invoice *\"" => true;
    quoted_regex_keeps_backslashes: r#"reason ~ "4\.7\.1""# => true;
    slashed_regex_with_escaped_slash: r"client_name ~ /\/|mail/" => true;

    // Numbers with units.
    age_gt: "age > 3d" => true;
    age_gt_false: "age > 4d" => false;
    age_ge_compound: "age >= 3d1h" => true;
    age_eq: "age = 3d1h" => true;
    age_ne: "age != 3d1h" => false;
    age_lt_week: "age < 1w" => true;
    age_le: "age <= 3d" => false;
    age_hours_strict: "age > 73h" => false;
    age_hours: "age >= 73h" => true;
    age_minutes: "age > 4379m" => true;
    age_seconds: "age >= 262800s" => true;
    age_zero_needs_no_unit: "age > 0" => true;
    age_zero_with_unit: "age > 0s" => true;
    age_seconds_strict: "age > 262800s" => false;
    age_without_arrival_is_false: "age > 0", with |m| m.arrival = None => false;
    age_ne_without_arrival_is_true: "age != 0", with |m| m.arrival = None => true;
    size_gt_mega: "size > 1M" => true;
    size_ge_mega: "size >= 2M" => false;
    size_lt_mega: "size < 2M" => true;
    size_kilo: "size > 1953K" => true;
    size_kilo_strict: "size > 1954K" => false;
    size_lowercase_unit: "size > 10kb" => true;
    size_bytes: "size = 2000000B" => true;
    size_bytes_lowercase: "size = 2000000b" => true;
    size_kib: "size > 1953KiB" => true;
    size_zero_needs_no_unit: "size > 0" => true;
    size_zero_with_unit: "size > 0K" => true;
    size_giga: "size > 1G" => false;
    arrival_lt: "arrival < 1700000000" => true;
    // Every comparison at and beside its boundary (the message is exactly
    // 3d1h old and 2000000 bytes): a cap off by one selects a message too many.
    age_le_below: "age <= 4d" => true;
    age_le_at: "age <= 3d1h" => true;
    age_lt_at: "age < 3d1h" => false;
    age_ge_above: "age >= 3d" => true;
    age_ge_below: "age >= 3d2h" => false;
    size_le_at: "size <= 2000000B" => true;
    size_le_above: "size <= 3M" => true;
    size_lt_at: "size < 2000000B" => false;
    size_gt_at: "size > 2000000B" => false;
    size_ge_at: "size >= 2000000B" => true;
    size_ge_below: "size >= 1M" => true;
    arrival_eq: "arrival = 1699737200" => true;

    // Recipient counts: `recipients` counts to do, done and canceled
    // (Postfix's nrcpt), `todo_recipients` the to-do ones only. The message
    // has 2 to do and 1 done.
    recipients_eq: "recipients = 3" => true;
    recipients_gt_at: "recipients > 3" => false;
    recipients_gt_below: "recipients > 2" => true;
    recipients_ge_at: "recipients >= 3" => true;
    recipients_ge_above: "recipients >= 4" => false;
    recipients_lt_at: "recipients < 3" => false;
    recipients_lt_above: "recipients < 4" => true;
    recipients_le_at: "recipients <= 3" => true;
    recipients_le_below: "recipients <= 2" => false;
    recipients_ne: "recipients != 3" => false;
    recipients_count_canceled: "recipients = 5", with |m| m.canceled = 2 => true;
    recipients_zero: "recipients = 0", with |m| { m.todo.clear(); m.done.clear() } => true;
    todo_recipients_eq: "todo_recipients = 2" => true;
    todo_recipients_not_done: "todo_recipients > 2" => false;
    todo_recipients_ignore_canceled: "todo_recipients = 2", with |m| m.canceled = 7 => true;
    todo_recipients_hyphen: "todo-recipients >= 2" => true;
    todo_recipients_case: "TODO_RECIPIENTS < 3" => true;
    recipients_alias_nrcpt: "nrcpt = 3" => true;
    recipients_alias_rcpt_count: "rcpt_count > 100" => false;
    recipients_alias_recipient_count: "recipient_count >= 3" => true;
    recipients_and_text: "recipients > 2 and recipient = alice@example.org" => true;
    // `recipient` (an address) is still the to-do address field.
    recipient_address_unchanged: "todo_recipient = alice@example.org" => true;

    // Addresses: local part exact, domain folded.
    sender_domain_case_folded: "sender = Bob.Smith@example.com" => true;
    sender_local_case_exact: "sender = bob.smith@example.com" => false;
    sender_in_angle_brackets: "sender = <Bob.Smith@EXAMPLE.com>" => true;
    sender_glob_domain_folded: "sender = *@example.com" => true;
    sender_glob_local_exact: "sender = bob*" => false;
    sender_glob_local: "sender = Bob*" => true;
    // A glob's local part stays exact up to its last unescaped `@`, to the
    // character: `BOB*` must not select Bob's mail.
    sender_glob_local_case_exact_before_at: "sender = BOB*@example.com" => false;
    sender_glob_local_last_char_exact: "sender = Bob.SmitH@*" => false;
    sender_glob_domain_folded_after_at: "sender = Bob.Smith@EXAMPLE.*" => true;
    sender_glob_escaped_at_is_local: r"sender = Bob\@x*", with |m| m.sender = Some("Bob@X@example.com") => false;
    sender_glob_escaped_at_matches_exactly: r"sender = Bob\@X*", with |m| m.sender = Some("Bob@X@example.com") => true;
    sender_regex_as_written: "sender ~ example" => false;
    sender_regex_ignoring_case: "sender ~ /example/i" => true;
    sender_without_at: "sender = MAILER-DAEMON", with |m| m.sender = Some("MAILER-DAEMON") => true;
    sender_domain_exact: "sender_domain = example.com" => true;
    sender_domain_upper: "sender_domain = EXAMPLE.COM" => true;
    sender_domain_with_at: "sender_domain = @example.com" => true;
    sender_domain_glob: "sender_domain = *.com" => true;
    sender_domain_regex_folded: "sender_domain ~ ^exa" => true;
    sender_domain_other: "sender_domain = example.org" => false;
    client_name_folded: "client_name = MAIL.example.COM" => true;
    helo_folded: "helo = ehlo.example.com" => true;
    sasl_method_folded: "sasl_method = plain" => true;
    queue_exact: "queue = deferred" => true;
    queue_case: "queue = Deferred" => false;
    queue_in: "queue in (hold, deferred)" => true;
    queue_in_without_commas: "queue in (hold active)" => false;
    id_exact: "id = 4BkX1z2Qr5z9abc" => true;
    id_case: "id = 4bkx1z2qr5z9abc" => false;
    id_in: "id in (A, 4BkX1z2Qr5z9abc)" => true;

    // The null sender.
    null_sender_angle: "sender = <>", with |m| m.sender = Some("") => true;
    null_sender_empty: "sender = \"\"", with |m| m.sender = Some("") => true;
    null_sender_flag: "null_sender", with |m| m.sender = Some("") => true;
    null_sender_domain: "sender_domain = \"\"", with |m| m.sender = Some("") => true;
    null_sender_not: "null_sender" => false;
    null_sender_angle_not: "sender = <>" => false;
    null_sender_absent: "null_sender", with |m| m.sender = None => true;

    // Absent single values are tested as empty.
    absent_sasl_user_is_empty: "sasl_user = \"\"", with |m| m.sasl_user = None => true;
    absent_sasl_user_no_regex: "sasl_user ~ /./", with |m| m.sasl_user = None => false;
    absent_sasl_user_ne: "sasl_user != bob", with |m| m.sasl_user = None => true;
    present_sasl_user_regex: "sasl_user ~ /./" => true;

    // Client addresses and networks.
    client_address: "client = 203.0.113.7" => true;
    client_cidr: "client = 203.0.113.0/24" => true;
    client_cidr_other: "client = 198.51.100.0/24" => false;
    client_text_glob: "client = 203.0.113.*" => true;
    client_regex: r"client ~ /^203\.0\.113\./" => true;
    client_in_networks: "client in (192.0.2.0/24, 203.0.113.0/28)" => true;
    client_everything: "client = 0.0.0.0/0" => true;
    client_v6_cidr: "client = 2001:db8::/32", with |m| m.client = Some("2001:db8:0:1::25") => true;
    client_v6_spelled_out: "client = 2001:DB8:0:1:0:0:0:25", with |m| m.client = Some("2001:db8:0:1::25") => true;
    client_v6_other: "client = 2001:db9::/32", with |m| m.client = Some("2001:db8:0:1::25") => false;
    client_v6_not_v4: "client = 203.0.113.0/24", with |m| m.client = Some("2001:db8:0:1::25") => false;
    client_v4_mapped: "client = 203.0.113.0/24", with |m| m.client = Some("::ffff:203.0.113.7") => true;
    client_v4_not_v6: "client = 2001:db8::/32" => false;
    client_unknown_text: "client = unknown", with |m| m.client = Some("unknown") => true;
    client_unknown_any_case: "client = UNKNOWN", with |m| m.client = Some("unknown") => true;
    client_empty_is_local: "client = \"\"", with |m| m.client = None => true;
    client_empty_not_remote: "client = \"\"" => false;
    client_slashed_regex_eq: r"client = /^203\.0\./" => true;
    client_bare_regex_partial: "client ~ 203.0.113" => true;
    client_glob_question: "client = 203.0.113.?" => true;
    client_in_mixed: "client in (192.0.2.0/24, 203.0.113.*)" => true;
    client_v6_loopback: "client = ::1", with |m| m.client = Some("::1") => true;
    client_ne_address: "client != 192.0.2.1" => true;
    client_alias_spelling: "client-address = 203.0.113.7" => true;

    // Recipients: scopes and quantifiers.
    recipient_any_todo: "recipient = alice@example.org" => true;
    recipient_done_not_todo: "recipient = dave@example.org" => false;
    recipient_done: "done_recipient = dave@example.org" => true;
    recipient_todo_or_done: "todo_or_done_recipient = dave@example.org" => true;
    recipient_todo_or_done_folded: "todo_or_done_recipient = alice@EXAMPLE.org" => true;
    recipient_todo_spelled: "todo_recipient = alice@example.org" => true;
    recipient_any_explicit: "any recipient = carol@example.net" => true;
    recipient_rcpt_alias: "rcpt = alice@example.org" => true;
    recipient_domain_folded: "recipient_domain = example.net" => true;
    recipient_all_domain: "all recipient_domain = example.org" => false;
    recipient_all_domain_in: "all recipient_domain in (example.org, example.net)" => true;
    recipient_all_glob: "all recipient = *@example.*" => true;
    recipient_all_done_domain: "all done_recipient_domain = example.org" => true;
    recipient_all_todo_or_done: "all todo_or_done_recipient_domain = example.org" => false;
    recipient_ne_negates_whole_test: "recipient != alice@example.org" => false;
    recipient_ne_absent: "recipient != zed@example.org" => true;
    recipient_all_ne: "all recipient != alice@example.org" => true;
    recipient_all_needs_one: "all recipient = *", with |m| m.todo.clear() => false;
    recipient_any_of_none: "recipient = *", with |m| m.todo.clear() => false;
    recipient_none_left: "not recipient = *", with |m| m.todo.clear() => true;
    recipient_flag_spelling: "done-recipient-domain = example.org" => true;

    // Defer log.
    reason_quoted_regex: "reason ~ \"timed out\"" => true;
    reason_regex_flag: "reason ~ /TIMED/i" => true;
    reason_case_sensitive: "reason ~ TIMED" => false;
    reason_all: r#"all reason ~ "4\.7\.1|timed out""# => true;
    reason_all_false: "all reason ~ timed" => false;
    reason_alias: "delay_reason ~ Greylisted" => true;
    dsn_glob: "dsn_status = 4.7.*" => true;
    dsn_class_glob: "dsn_status = 5.*" => false;
    dsn_class_four: "dsn_status = 4.*" => true;
    dsn_all: "all dsn_status = 4.*" => true;
    dsn_exact: "dsn_status = 4.4.1" => true;
    dsn_in: "dsn_status in (5.1.1, 4.4.1)" => true;

    // Headers.
    header_regex_case: "header.subject ~ invoice" => false;
    header_regex_i: "header.Subject ~ /invoice/i" => true;
    header_name_case: "header.SUBJECT = \"Invoice 42\"" => true;
    header_with_space: "header subject = Invoice*" => true;
    header_all: "all header.received ~ ^from" => true;
    header_any_of_many: "header.received = \"from b\"" => true;
    header_non_utf8_glob: "header.x-bytes = *" => true;
    header_non_utf8_question: "header.x-bytes = ??" => true;
    header_missing: "header.missing = x" => false;
    header_missing_ne: "header.missing != x" => true;
    header_missing_all: "all header.missing = *" => false;
    header_missing_not_empty: "header.missing = \"\"" => false;

    // Named attributes.
    attr_by_name: "attr.log_client_name = mail.example.com" => true;
    attr_other: "attr.rewrite_context = remote" => true;
    attr_name_exact: "attr.Rewrite_context = remote" => false;
    attr_absent_is_empty: "attr.missing = \"\"" => true;

    // Exact values are whole values, never prefixes: in each row the message's value and the
    // written one share a prefix (`bob`/`bobby`), both ways round, for every case rule.
    prefix_sasl_user_longer_value: "sasl_user = bob", with |m| m.sasl_user = Some("bobby") => false;
    prefix_sasl_user_shorter_value: "sasl_user = bobby" => false;
    prefix_sasl_user_in_set: "sasl_user in (bob, x)", with |m| m.sasl_user = Some("bobby") => false;
    prefix_sasl_user_in_set_shorter: "sasl_user in (bobby, x)" => false;
    prefix_sasl_user_ne: "sasl_user != bob", with |m| m.sasl_user = Some("bobby") => true;
    prefix_id_longer_value: "id = 4BkX1z2Qr5z9ab" => false;
    prefix_id_shorter_value: "id = 4BkX1z2Qr5z9abcd" => false;
    prefix_id_in_set: "id in (4BkX1z2Qr5z9ab, 4BkX1z2Qr5z9)" => false;
    prefix_queue: "queue = defer" => false;
    prefix_sender_local: "sender = Bob.Smit@Example.COM" => false;
    prefix_sender_local_longer: "sender = Bob.Smithy@Example.COM" => false;
    prefix_sender_domain_in_address: "sender = Bob.Smith@Example.CO" => false;
    prefix_sender_without_at: "sender = MAILER", with |m| m.sender = Some("MAILER-DAEMON") => false;
    prefix_sender_domain: "sender_domain = example.co" => false;
    prefix_sender_domain_longer: "sender_domain = example.community" => false;
    prefix_sender_domain_in_set: "sender_domain in (example.co, example.c)" => false;
    prefix_recipient: "recipient = alice@example.or" => false;
    prefix_recipient_domain: "recipient_domain = example.ne" => false;
    prefix_client_name: "client_name = mail.example.co" => false;
    prefix_helo: "helo = ehlo.example" => false;
    prefix_attr_value: "attr.rewrite_context = remot" => false;
    prefix_attr_value_longer: "attr.rewrite_context = remoteX" => false;
    prefix_attr_name: "attr.rewrite = remote" => false;
    prefix_header_value: "header.subject = Invoice" => false;
    prefix_header_name: "header.subj = \"Invoice 42\"" => false;
    prefix_dsn: "dsn_status = 4.4" => false;
    prefix_sasl_method: "sasl_method = plai" => false;

    // Flags.
    forced_expired_no: "forced_expired" => false;
    forced_expired_not: "not forced_expired" => true;
    forced_expired_yes: "forced_expired", with |m| m.forced_expired = true => true;
    forced_expired_alias: "expired", with |m| m.forced_expired = true => true;
    nonexistent_local_sender_no: "nonexistent_local_sender" => false;
    nonexistent_local_sender_yes: "nonexistent_local_sender", with |m| m.nonexistent_local_sender = true => true;

    // Field names: aliases and flag spellings.
    alias_sasl_username: "sasl_username = bob" => true;
    alias_uppercase: "SASL_USER = bob" => true;
    alias_flag_spelling: "sasl-username = bob" => true;
    alias_status: "status = 4.4.1" => true;

    // The issue's example.
    issue_example: r"age > 2d and (sasl_user = bob or client ~ /^203\.0\.113\./)" => true;
}

/// Each row `name: "expr" => (column, "message start");` is an expression
/// that must fail with that message at that 1-based column.
macro_rules! errors {
    ($($name:ident: $expr:expr => ($col:expr, $msg:expr);)*) => {$(
        #[test]
        fn $name() {
            let err = parse_expr($expr).expect_err($expr);
            assert!(
                err.message().starts_with($msg),
                "{:?}: message {:?} does not start with {:?}", $expr, err.message(), $msg
            );
            assert_eq!(err.column(), $col, "{:?}:\n{}", $expr, err);
            // The caret line puts the caret under the column.
            let shown = err.to_string();
            let caret = shown.lines().last().unwrap();
            assert_eq!(caret.len() - 2, $expr[..err.offset()].chars().count() + 1, "{shown}");
        }
    )*};
}

errors! {
    err_empty: "" => (1, "empty expression");
    err_blank: "   " => (4, "empty expression");
    err_missing_value: "age > 2d and sasl_user =" => (25, "expected a value after '='");
    err_arrival_with_unit: "arrival < 5d" => (12, "expected a plain number without a unit");
    err_recipients_with_unit: "recipients > 100K" => (17, "expected a plain number without a unit");
    err_recipients_not_a_number: "recipients > many" => (14, "expected a number");
    err_recipients_regex: "recipients ~ /1/" => (12, "'~' does not apply to recipients, a number");
    err_done_recipients_unknown: "done_recipients > 1" => (1, "unknown field 'done_recipients'");
    err_unknown_field: "sasl_usr = bob" => (1, "unknown field 'sasl_usr'; did you mean 'sasl_user'?");
    err_unknown_field_no_hint: "frobnicate = 1" => (1, "unknown field 'frobnicate'");
    err_bad_duration_unit: "age > 2x" => (8, "unknown duration unit 'x'");
    err_duration_upper: "age > 2D" => (8, "unknown duration unit 'D'");
    err_bad_size_unit: "size > 1Q" => (9, "unknown size unit 'Q'");
    err_number_too_large: "size > 99999999999999999999" => (8, "number too large");
    err_number_expected: "age > soon" => (7, "expected a duration");
    err_unclosed_paren: "(sasl_user = bob" => (17, "missing ')' to close the '(' at column 1");
    err_unmatched_paren: "sasl_user = bob)" => (16, "unmatched ')'");
    err_trailing_garbage: "sasl_user = bob sasl_user = x" => (17, "unexpected 'sasl_user' after a complete test");
    err_unquoted_space: "header.subject = Invoice 42" => (26, "unexpected '42'");
    err_bad_regex: "reason ~ /(unclosed/" => (11, "invalid regex: unclosed group");
    err_bad_regex_inside: "reason ~ /ab[/" => (13, "invalid regex: unclosed character class");
    err_bad_quoted_regex: "reason ~ \"a(b\"" => (12, "invalid regex: unclosed group");
    err_paren_in_bare_value: "reason ~ a(b" => (11, "unexpected '(b'");
    err_bad_regex_flag: "reason ~ /a/q" => (13, "unknown regex flag 'q'");
    err_ordering_on_text: "sender < x" => (8, "'<' compares numbers; sender is text");
    err_match_on_number: "age ~ 2d" => (5, "'~' does not apply to age");
    err_in_on_number: "size in (1, 2)" => (6, "'in' does not apply to size");
    err_regex_on_number: "age > /2d/" => (7, "age is a number");
    err_all_single_valued: "all sender = x" => (1, "'all' applies to fields with many values");
    err_all_flag: "all forced_expired" => (1, "'all' does not apply to a yes/no test");
    err_all_alone: "all" => (4, "expected a field name after 'all'");
    err_flag_with_operator: "forced_expired = yes" => (16, "forced_expired is a yes/no test");
    err_dangling_and: "sender = bob and" => (17, "expected a test after 'and'");
    err_double_or: "sender = bob or or x" => (17, "expected a test after 'or'");
    err_leading_and: "and sender = x" => (1, "expected a test");
    err_not_alone: "not" => (4, "expected a test after 'not'");
    err_empty_parens: "()" => (2, "expected a test after '('");
    err_missing_operator: "sender bob" => (8, "expected an operator after 'sender'");
    err_bang_alone: "sender ! x" => (8, "expected an operator after 'sender'");
    err_host_bits: "client = 192.0.2.1/24" => (10, "192.0.2.1/24 has host bits set");
    err_prefix_too_long: "client = 192.0.2.0/40" => (20, "prefix length must be 0 to 32");
    err_not_an_address: "client = foo/24" => (10, "'foo' is not an IP address");
    err_age_bare_number: "age > 5" => (8, "a duration needs a unit: s, m, h, d or w");
    err_age_bare_number_later: "sasl_user = bob and age >= 90" => (30, "a duration needs a unit: s, m, h, d or w");
    err_age_bare_number_eq: "age = 3600" => (11, "a duration needs a unit");
    err_size_bare_number: "size > 30" => (10, "a size needs a unit: B, K, M or G");
    err_size_bare_number_ne: "not size != 512" => (16, "a size needs a unit: B, K, M or G");
    err_message_size_bare: "message_size < 1024" => (20, "a size needs a unit");
    err_client_octet_too_big: "client = 192.0.2.300" => (10, "'192.0.2.300' is not an IP address or CIDR block");
    err_client_word: "client = not-an-ip" => (10, "'not-an-ip' is not an IP address or CIDR block");
    err_client_three_octets: "client = 203.0.113" => (10, "'203.0.113' is not an IP address or CIDR block");
    err_client_ne: "client != 10.0.0.256" => (11, "'10.0.0.256' is not an IP address");
    err_client_in_list: "client in (192.0.2.0/24, 203.0.113)" => (26, "'203.0.113' is not an IP address or CIDR block");
    err_client_bracketed: "client = \"[203.0.113.7]\"" => (11, "'[203.0.113.7]' is not an IP address");
    err_client_alias: "client_ip = 2001:db8::g" => (13, "'2001:db8::g' is not an IP address");
    err_unterminated_string: "sender = \"abc" => (10, "unterminated string");
    err_unterminated_regex: "reason ~ /abc" => (10, "unterminated regex");
    err_junk_after_quote: "sender = \"a\"b" => (13, "unexpected 'b' right after the value");
    err_in_without_paren: "queue in deferred" => (10, "expected '(' after 'in'");
    err_in_unclosed: "queue in (deferred" => (19, "missing ')' to close the list at column 10");
    err_in_empty: "queue in ()" => (11, "expected a value after '('");
    err_in_trailing_comma: "queue in (a,)" => (13, "expected a value after ','");
    err_value_paren: "sender = (x)" => (10, "expected a value after '=' (quote");
    err_operator_first: "= x" => (1, "expected a field name before '='");
    err_number_first: "1 = x" => (1, "expected a field name, 'not' or '(' but found '1'");
    err_header_without_name: "header = x" => (8, "expected a header name after 'header'");
    err_attr_without_name: "attr. = x" => (1, "unknown field 'attr.'");
    err_scope_on_sender: "done_sender = x" => (1, "unknown field 'done_sender'");
    err_non_ascii_column: "header.subject = \"é\" é" => (23, "unexpected 'é'");
}

#[test]
fn err_nested_too_deeply() {
    let deep = format!("{}sender = x{}", "(".repeat(150), ")".repeat(150));
    let err = parse_expr(&deep).unwrap_err();
    assert_eq!(err.message(), "expression nested too deeply");
    assert_eq!(err.column(), 101);
    let nots = format!("{}sender = x", "not ".repeat(150));
    assert_eq!(
        parse_expr(&nots).unwrap_err().message(),
        "expression nested too deeply"
    );
    let fine = format!("{}sender = x{}", "(".repeat(50), ")".repeat(50));
    assert!(parse_expr(&fine).is_ok());
}

#[test]
fn error_display_shows_caret() {
    let err = parse_expr("age > 2d and sasl_user =").unwrap_err();
    assert_eq!(
        err.to_string(),
        "expected a value after '=' at column 25\n  age > 2d and sasl_user =\n                          ^"
    );
}

/// Each row `name: (flag, value) => ("printed", matches msg());` turns a
/// flag into a test.
macro_rules! flags {
    ($($name:ident: ($flag:expr, $value:expr) => ($printed:expr, $want:expr);)*) => {$(
        #[test]
        fn $name() {
            let e = flag_test($flag, $value).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(e.to_string(), $printed);
            assert_eq!(parse_expr($printed).unwrap(), e, "flag test prints as parseable text");
            assert_eq!(Selection::new(e).matches(&msg(), &ctx()), $want);
        }
    )*};
}

flags! {
    flag_sender: ("--sender", Some("Bob.Smith@example.com")) => ("sender = Bob.Smith@example.com", true);
    flag_sender_regex: ("--sender", Some("/^bob/i")) => ("sender = /^bob/i", true);
    flag_sender_null: ("--sender", Some("")) => ("sender = <>", false);
    flag_sender_null_angle: ("--sender", Some("<>")) => ("sender = <>", false);
    flag_sender_domain: ("--sender-domain", Some("example.com")) => ("sender_domain = example.com", true);
    flag_recipient: ("--recipient", Some("carol@example.net")) => ("recipient = carol@example.net", true);
    flag_recipient_domain: ("--recipient-domain", Some("example.org")) => ("recipient_domain = example.org", true);
    flag_done_recipient: ("--done-recipient", Some("dave@example.org")) => ("done_recipient = dave@example.org", true);
    flag_sasl_user: ("--sasl-user", Some("bob")) => ("sasl_user = bob", true);
    flag_sasl_user_not_prefix: ("--sasl-user", Some("bo")) => ("sasl_user = bo", false);
    flag_sender_not_prefix: ("--sender", Some("Bob.Smith@example.co")) => ("sender = Bob.Smith@example.co", false);
    flag_sender_domain_not_prefix: ("--sender-domain", Some("example.c")) => ("sender_domain = example.c", false);
    flag_sasl_username: ("--sasl-username", Some("bob")) => ("sasl_user = bob", true);
    flag_sasl_method: ("--sasl-method", Some("plain")) => ("sasl_method = plain", true);
    flag_client_cidr: ("--client", Some("203.0.113.0/24")) => ("client = 203.0.113.0/24", true);
    flag_client_v6: ("--client", Some("2001:DB8::/32")) => ("client = 2001:db8::/32", false);
    flag_client_address: ("--client", Some("203.0.113.7")) => ("client = 203.0.113.7", true);
    flag_client_v6_address: ("--client", Some("2001:db8::25")) => ("client = 2001:db8::25", false);
    flag_client_glob: ("--client", Some("203.0.113.*")) => ("client = 203.0.113.*", true);
    flag_client_regex: ("--client", Some(r"/^203\.0\.113\./")) => (r"client = /^203\.0\.113\./", true);
    flag_client_unknown: ("--client", Some("unknown")) => ("client = unknown", false);
    flag_client_name: ("--client-name", Some("*.example.com")) => ("client_name = *.example.com", true);
    flag_helo: ("--helo", Some("ehlo.example.com")) => ("helo = ehlo.example.com", true);
    flag_older_than: ("--older-than", Some("2d")) => ("age > 2d", true);
    flag_min_recipients_at: ("--min-recipients", Some("3")) => ("recipients >= 3", true);
    flag_min_recipients_above: ("--min-recipients", Some("4")) => ("recipients >= 4", false);
    flag_min_recipients_underscore: ("min_recipients", Some("0")) => ("recipients >= 0", true);
    flag_newer_than: ("--newer-than", Some("2d")) => ("age < 2d", false);
    flag_older_than_compound: ("older_than", Some("36h")) => ("age > 1d12h", true);
    flag_larger_than: ("--larger-than", Some("1M")) => ("size > 1M", true);
    flag_smaller_than: ("--smaller-than", Some("1024k")) => ("size < 1M", false);
    flag_larger_than_bytes: ("--larger-than", Some("1500B")) => ("size > 1500B", true);
    flag_larger_than_bytes_lowercase: ("--larger-than", Some("1500b")) => ("size > 1500B", true);
    flag_smaller_than_mib: ("--smaller-than", Some("2MiB")) => ("size < 2M", true);
    flag_larger_than_zero: ("--larger-than", Some("0")) => ("size > 0", true);
    flag_older_than_zero: ("--older-than", Some("0")) => ("age > 0s", true);
    flag_newer_than_seconds: ("--newer-than", Some("90s")) => ("age < 1m30s", false);
    flag_reason: ("--reason", Some("timed out")) => ("reason ~ \"timed out\"".replace('"', "/").as_str(), true);
    flag_reason_flags: ("--reason", Some("/TIMED/i")) => ("reason ~ /TIMED/i", true);
    flag_reason_slash: ("--reason", Some("a/b")) => (r"reason ~ /a\/b/", false);
    flag_dsn_status: ("--dsn-status", Some("4.7.*")) => ("dsn_status = 4.7.*", true);
    flag_dsn_class: ("--dsn-status", Some("5.*")) => ("dsn_status = 5.*", false);
    flag_header_match: ("--header", Some("Subject~^Invoice")) => ("header.subject ~ /^Invoice/", true);
    flag_header_eq: ("--header", Some("X-Mailer=foo")) => ("header.x-mailer = foo", false);
    flag_header_not_match: ("--header", Some("Subject!~spam")) => ("header.subject !~ /spam/", true);
    flag_header_spaces: ("--header", Some("Subject = Invoice *")) => ("header.subject = \"Invoice *\"", true);
    flag_queue: ("--queue", Some("deferred")) => ("queue = deferred", true);
    flag_queues: ("--queue", Some("hold, deferred")) => ("queue in (hold, deferred)", true);
    flag_id: ("--id", Some("4BkX1z2Qr5z9abc")) => ("id = 4BkX1z2Qr5z9abc", true);
    flag_forced_expired: ("--forced-expired", None) => ("forced_expired", false);
    flag_null_sender: ("--null-sender", None) => ("null_sender", false);
    flag_nonexistent_local_sender: ("--nonexistent-local-sender", None) => ("nonexistent_local_sender", false);
    flag_where: ("--where", Some("sender = <> or age > 1d")) => ("sender = <> or age > 1d", true);
    flag_value_with_parens: ("--header", Some("Subject=(no subject)")) => ("header.subject = \"(no subject)\"", false);
}

/// Each row `name: (flag, value) => (column, "message start");` is a flag
/// value that must be refused.
macro_rules! flag_errors {
    ($($name:ident: ($flag:expr, $value:expr) => ($col:expr, $msg:expr);)*) => {$(
        #[test]
        fn $name() {
            let err = flag_test($flag, $value).expect_err("must fail");
            assert!(err.message().starts_with($msg), "{:?} vs {:?}", err.message(), $msg);
            assert_eq!(err.column(), $col, "{err}");
            assert!(err.flag().is_some_and(|f| f.starts_with("--")), "{err}");
        }
    )*};
}

flag_errors! {
    flag_err_unit: ("--older-than", Some("2x")) => (2, "unknown duration unit 'x'");
    flag_err_size: ("--larger-than", Some("big")) => (1, "expected a size");
    flag_err_missing_value: ("--sender", None) => (1, "this flag needs a value");
    flag_err_value_on_flag: ("--forced-expired", Some("x")) => (1, "this flag takes no value");
    flag_err_header_form: ("--header", Some("Subject")) => (1, "expected NAME~REGEX or NAME=VALUE");
    flag_err_header_name: ("--header", Some("Sub ject~x")) => (1, "'Sub ject' is not a header name");
    flag_err_header_regex: ("--header", Some("Subject~(")) => (9, "invalid regex: unclosed group");
    flag_err_client: ("--client", Some("192.0.2.0/33")) => (11, "prefix length must be 0 to 32");
    flag_err_client_octet: ("--client", Some("192.0.2.300")) => (1, "'192.0.2.300' is not an IP address or CIDR block");
    flag_err_client_word: ("--client", Some("not-an-ip")) => (1, "'not-an-ip' is not an IP address or CIDR block");
    flag_err_client_three_octets: ("--client", Some("203.0.113")) => (1, "'203.0.113' is not an IP address or CIDR block");
    flag_err_client_host_bits: ("--client", Some("203.0.113.7/24")) => (1, "203.0.113.7/24 has host bits set");
    flag_err_where_client: ("--where", Some("client = 203.0.113")) => (10, "'203.0.113' is not an IP address or CIDR block");
    flag_err_older_than_bare: ("--older-than", Some("5")) => (2, "a duration needs a unit: s, m, h, d or w");
    flag_err_min_recipients_word: ("--min-recipients", Some("lots")) => (1, "expected a number");
    flag_err_min_recipients_missing: ("--min-recipients", None) => (1, "this flag needs a value");
    flag_err_newer_than_bare: ("--newer-than", Some("90")) => (3, "a duration needs a unit: s, m, h, d or w");
    flag_err_larger_than_bare: ("--larger-than", Some("30")) => (3, "a size needs a unit: B, K, M or G");
    flag_err_smaller_than_bare: ("--smaller-than", Some("1024")) => (5, "a size needs a unit: B, K, M or G");
    flag_err_where_age_bare: ("--where", Some("age > 5")) => (8, "a duration needs a unit: s, m, h, d or w");
    flag_err_where_size_bare: ("--where", Some("size < 30")) => (10, "a size needs a unit: B, K, M or G");
    flag_err_duration_unit_missing_later: ("--older-than", Some("1d12")) => (5, "missing unit after the number");
    flag_err_queue: ("--queue", Some(" , ")) => (1, "expected one or more queue names");
    flag_err_queue_second: ("--queue", Some("hold,/(/")) => (7, "invalid regex: unclosed group");
    flag_err_reason: ("--reason", Some("/(x/")) => (2, "invalid regex: unclosed group");
    flag_err_where: ("--where", Some("age >")) => (6, "expected a value after '>'");
    // The column of a bad regex flag, first and later, also in a list.
    flag_err_regex_flag: ("--reason", Some("/x/q")) => (4, "unknown regex flag 'q'");
    flag_err_regex_second_flag: ("--reason", Some("/x/iq")) => (5, "unknown regex flag 'q'");
    flag_err_queue_second_regex_flag: ("--queue", Some("hold,/x/q")) => (9, "unknown regex flag 'q'");
    // The caret of a regex error: the pattern's own `^` is not the caret,
    // and a flag's `(?i)` prefix does not shift it.
    flag_err_reason_anchor: ("--reason", Some("/^(x/")) => (3, "invalid regex: unclosed group");
    flag_err_reason_with_flag: ("--reason", Some("/(x/i")) => (2, "invalid regex: unclosed group");
    flag_err_domain_regex: ("--sender-domain", Some("/(x/")) => (2, "invalid regex: unclosed group");
}

#[test]
fn flag_error_display_names_flag() {
    let err = flag_test("--older-than", Some("2x")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "--older-than: unknown duration unit 'x' (use s, m, h, d or w) at column 2\n  2x\n   ^"
    );
}

#[test]
fn bare_number_error_names_the_units_under_a_caret() {
    let err = flag_test("--older-than", Some("5")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "--older-than: a duration needs a unit: s, m, h, d or w (seconds, minutes, hours, \
         days, weeks; e.g. 5d for 5 days) at column 2\n  5\n   ^"
    );
    let err = parse_expr("size > 30").unwrap_err();
    assert_eq!(
        err.to_string(),
        "a size needs a unit: B, K, M or G (bytes, or 1024-based kilo-, mega-, gigabytes; \
         e.g. 30K for 30 kilobytes) at column 10\n  size > 30\n           ^"
    );
}

#[test]
fn unknown_flag() {
    let err = flag_test("--bogus", Some("x")).unwrap_err();
    assert_eq!(err.message(), "unknown selection flag");
    assert!(
        flag_test("--age", Some("2d")).is_err(),
        "age is a field, not a flag"
    );
}

#[test]
fn builder_ands_flags_and_where() {
    let sel = Selection::builder()
        .sasl_user("bob")
        .and_then(|b| b.older_than("2d"))
        .and_then(|b| b.where_expr("sender = <> or recipient_domain = example.org"))
        .unwrap()
        .forced_expired()
        .build();
    assert_eq!(
        sel.to_string(),
        "sasl_user = bob and age > 2d and (sender = <> or recipient_domain = example.org) and forced_expired"
    );
    assert!(!sel.matches(&msg(), &ctx()));
    let mut m = msg();
    m.forced_expired = true;
    assert!(sel.matches(&m, &ctx()));
}

#[test]
fn builder_every_flag_method() -> Result<(), select::ParseError> {
    let sel = Selection::builder()
        .queues("deferred,hold")?
        .id("4BkX1z2Qr5z9abc")?
        .sender("*@example.com")?
        .sender_domain("example.com")?
        .recipient("alice@example.org")?
        .recipient_domain("example.net")?
        .sasl_user("bob")?
        .sasl_method("PLAIN")?
        .client("203.0.113.0/24")?
        .client_name("mail.example.com")?
        .helo("ehlo.example.com")?
        .older_than("3d")?
        .newer_than("4d")?
        .larger_than("1M")?
        .smaller_than("2M")?
        .reason("timed out")?
        .dsn_status("4.*")?
        .header("Subject~Invoice")?
        .flag("--sasl-username", Some("bob"))?
        .null_sender()
        .build();
    let mut m = msg();
    assert!(!sel.matches(&m, &ctx()), "not a null sender");
    let without_null = Selection::new(match sel.expr().unwrap().clone() {
        select::Expr::And(mut v) => {
            v.pop();
            select::Expr::And(v)
        }
        _ => unreachable!(),
    });
    assert!(without_null.matches(&m, &ctx()));
    m.sasl_user = Some("eve");
    assert!(!without_null.matches(&m, &ctx()));
    Ok(())
}

#[test]
fn builder_recipient_quantifier_and_scope() -> Result<(), select::ParseError> {
    let any = Selection::builder()
        .recipient_domain("example.org")?
        .build();
    assert_eq!(any.to_string(), "recipient_domain = example.org");
    assert!(any.matches(&msg(), &ctx()));

    let all = Selection::builder()
        .recipient_domain("example.org")?
        .all_recipients()
        .build();
    assert_eq!(all.to_string(), "all recipient_domain = example.org");
    assert!(!all.matches(&msg(), &ctx()));

    let done = Selection::builder()
        .all_recipients()
        .recipient_scope(Scope::Done)
        .recipient_domain("example.org")?
        .recipient("dave@example.org")?
        .where_expr("recipient = carol@example.net")?
        .build();
    assert_eq!(
        done.to_string(),
        "all done_recipient_domain = example.org and all done_recipient = dave@example.org \
         and recipient = carol@example.net",
        "scope applies to recipient flags, not to --where"
    );
    assert!(done.matches(&msg(), &ctx()));

    let both = Selection::builder()
        .recipient_scope(Scope::TodoOrDone)
        .recipient("dave@example.org")?
        .build();
    assert_eq!(
        both.to_string(),
        "todo_or_done_recipient = dave@example.org"
    );
    assert!(both.matches(&msg(), &ctx()));
    Ok(())
}

#[test]
fn builder_id_set() {
    let ids: Vec<String> = (0..10_000).map(|i| format!("ID{i:05}")).collect();
    let sel = Selection::builder()
        .ids(ids.iter().chain([&"4BkX1z2Qr5z9abc".to_owned()]))
        .build();
    assert!(sel.matches(&msg(), &ctx()));
    let mut m = msg();
    m.id = "ID09999";
    assert!(sel.matches(&m, &ctx()));
    m.id = "ID10000";
    assert!(!sel.matches(&m, &ctx()));
    assert!(
        sel.needs().data.is_empty(),
        "IDs come from the file's location"
    );

    // IDs from a file are literal: a '*' in the file is no glob.
    let literal = Selection::builder().ids(["*"]).build();
    assert!(!literal.matches(&msg(), &ctx()));

    let none = Selection::builder().ids(Vec::<String>::new()).build();
    assert!(
        !none.matches(&msg(), &ctx()),
        "an empty ID set selects nothing"
    );
}

#[test]
fn empty_builder_selects_everything() {
    let sel = Selection::builder().build();
    assert_eq!(sel.to_string(), "");
    assert!(sel.expr().is_none());
    assert!(sel.matches(&msg(), &ctx()));
    assert_eq!(sel.decide(&msg(), &ctx(), Data::NONE), Some(true));
    let t = sel.explain(&msg(), &ctx());
    assert!(t.matched);
    assert_eq!(t.node, TraceNode::Everything);
    assert!(sel.needs().data.is_empty());
}

fn needs(expr: &str) -> select::Needs {
    Selection::parse(expr).unwrap().needs().clone()
}

#[test]
fn needs_recipient_counts_read_the_extracted_segment() {
    // `sendmail -t` mail keeps its recipients after the content: a count
    // that read only the envelope segment would be 0 for it.
    for expr in ["recipients > 100", "todo_recipients = 0", "nrcpt >= 1"] {
        let n = needs(expr);
        assert!(n.contains(Data::RECIPIENTS), "{expr}: {n:?}");
        assert!(n.contains(Data::ENVELOPE), "{expr}: {n:?}");
        assert!(!n.contains(Data::DEFER_LOG), "{expr}: {n:?}");
    }
    let sel = Selection::builder().min_recipients("40").unwrap().build();
    assert!(sel.needs().contains(Data::RECIPIENTS));
}

#[test]
fn needs_sasl_user_is_envelope_only() {
    let n = needs("sasl_user = x");
    assert_eq!(n.data, Data::ENVELOPE);
    assert!(!n.contains(Data::DEFER_LOG));
    assert!(!n.contains(Data::HEADERS));
    assert!(n.headers.is_empty());
}

#[test]
fn needs_reason_reads_defer_log() {
    assert!(needs("reason ~ x").contains(Data::DEFER_LOG));
    assert!(needs("dsn_status = 4.*").contains(Data::DEFER_LOG));
    assert!(!needs("reason ~ x").contains(Data::HEADERS));
}

#[test]
fn needs_header_names() {
    let n = needs("header Subject ~ x");
    assert!(n.contains(Data::HEADERS));
    assert_eq!(n.headers, ["subject"]);
    assert!(n.wants_header(b"SUBJECT"));
    assert!(!n.wants_header(b"From"));
    let n = needs("header.subject ~ x and header.From = y or not header.SUBJECT = z");
    assert_eq!(n.headers, ["from", "subject"]);
}

#[test]
fn needs_other_sources() {
    assert!(needs("queue = deferred and id = X").data.is_empty());
    assert_eq!(needs("forced_expired").data, Data::STAT);
    assert_eq!(
        needs("nonexistent_local_sender").data,
        Data::ENVELOPE | Data::LOCAL_SENDER_CHECK
    );
    assert_eq!(
        needs("recipient = x").data,
        Data::ENVELOPE | Data::RECIPIENTS
    );
    assert_eq!(
        needs("done_recipient_domain = x").data,
        Data::ENVELOPE | Data::RECIPIENTS
    );
    assert_eq!(
        needs("age > 1d and size > 1M and null_sender").data,
        Data::ENVELOPE
    );
    assert_eq!(needs("attr.rewrite_context = local").data, Data::ENVELOPE);
    assert_eq!(
        needs("sender = x or reason ~ y or header.subject ~ z").data,
        Data::ENVELOPE | Data::DEFER_LOG | Data::HEADERS
    );
}

#[test]
fn regex_errors_over_lines_point_at_the_value() {
    // The regex crate numbers the lines of a multi-line pattern, so its
    // caret column is not a position in the value: the error points at the
    // value's start instead of a wrong character.
    let err = parse_expr("reason ~ \"a\nbcd(\"").unwrap_err();
    assert!(err.message().starts_with("invalid regex"), "{err}");
    assert_eq!(err.column(), 11, "{err}");
}

#[test]
fn a_regex_too_big_says_so() {
    let err = flag_test("--reason", Some(r"/\w{1000}{1000}/")).unwrap_err();
    assert_eq!(err.message(), "regex too big", "{err}");
}

fn order(expr: &str) -> String {
    Selection::parse(expr)
        .unwrap()
        .evaluation_order()
        .unwrap()
        .to_string()
}

#[test]
fn cheap_tests_run_first() {
    assert_eq!(
        order("header.subject ~ x and reason ~ y and sasl_user = bob and queue = deferred"),
        "queue = deferred and sasl_user = bob and reason ~ /y/ and header.subject ~ /x/"
    );
    assert_eq!(
        order("reason ~ y and (sasl_user = bob and header.subject = x)"),
        "sasl_user = bob and reason ~ /y/ and header.subject = x",
        "nested ands are flattened"
    );
    assert_eq!(
        order("(sasl_user = a or sasl_user = b*) and sasl_user = c*"),
        "sasl_user = c* and (sasl_user = a or sasl_user = b*)",
        "a group weighs the sum of its tests (1 + 2 > 2)"
    );
    assert_eq!(
        order("reason ~ y or sasl_user = bob"),
        "sasl_user = bob or reason ~ /y/"
    );
    assert_eq!(
        order("sender ~ x and sender = y"),
        "sender = y and sender ~ /x/"
    );
    assert_eq!(
        order("nonexistent_local_sender and header.a = b and forced_expired"),
        "forced_expired and header.a = b and nonexistent_local_sender"
    );
    assert_eq!(
        order("(reason ~ a or header.b = c) and not not sasl_user = d"),
        "sasl_user = d and (reason ~ /a/ or header.b = c)"
    );
    assert_eq!(
        order("sender = a and sender = b"),
        "sender = a and sender = b",
        "stable"
    );
}

#[test]
fn expensive_test_is_skipped_when_cheap_one_decides() {
    let sel =
        Selection::parse("reason ~ timed and header.subject ~ x and sasl_user = alice").unwrap();
    let m = msg();
    assert!(!sel.matches(&m, &ctx()));
    assert_eq!(*m.asked.borrow(), ["SaslUser"]);

    // explain shows every test, in written order.
    let m = msg();
    let t = sel.explain(&m, &ctx());
    assert!(!t.matched);
    assert_eq!(
        *m.asked.borrow(),
        ["Reason", "Header(\"subject\")", "SaslUser"]
    );
}

#[test]
fn decide_from_partial_data() {
    let m = msg();
    let c = ctx();
    let d = |e: &str, have| Selection::parse(e).unwrap().decide(&m, &c, have);
    assert_eq!(
        d("sasl_user = x and reason ~ timed", Data::ENVELOPE),
        Some(false)
    );
    assert_eq!(
        d("sasl_user = bob and reason ~ timed", Data::ENVELOPE),
        None
    );
    assert_eq!(
        d(
            "sasl_user = bob and reason ~ timed",
            Data::ENVELOPE | Data::DEFER_LOG
        ),
        Some(true)
    );
    assert_eq!(
        d("sasl_user = bob or reason ~ zzz", Data::ENVELOPE),
        Some(true)
    );
    assert_eq!(d("sasl_user = x or reason ~ zzz", Data::ENVELOPE), None);
    assert_eq!(d("not reason ~ x", Data::ENVELOPE), None);
    assert_eq!(
        d("queue = hold and sasl_user = bob", Data::NONE),
        Some(false)
    );
    assert_eq!(d("header.subject ~ Inv", Data::ALL), Some(true));
}

#[test]
fn explain_trace_text() {
    let sel = Selection::parse(
        r"age > 2d and (sasl_user = bob or client ~ /^198\./) and not forced_expired",
    )
    .unwrap();
    let t = sel.explain(&msg(), &ctx());
    assert!(t.matched);
    assert_eq!(
        t.to_string(),
        "yes  and\n\
         yes    age > 2d  saw 3d1h (262800s) (match)\n\
         yes    or\n\
         yes      sasl_user = bob  saw \"bob\" (match)\n\
         no       client ~ /^198\\./  saw \"203.0.113.7\" (no match)\n\
         yes    not\n\
         no       forced_expired  saw no (no match)\n"
    );
}

#[test]
fn explain_shows_a_future_arrival_as_a_negative_age() {
    // A clock set back, or a queue file copied from a host ahead in time:
    // the trace must show the age it compared, not an empty string.
    let mut m = msg();
    m.arrival = Some(NOW + 3_600);
    let t = Selection::parse("age > 0").unwrap().explain(&m, &ctx());
    assert!(!t.matched);
    assert_eq!(
        t.to_string(),
        "no   age > 0s  saw -1h (-3600s) (no match)\n"
    );
}

#[test]
fn explain_shows_values_and_absence() {
    let mut m = msg();
    m.sasl_user = None;
    m.size = None;
    let sel = Selection::parse(
        "all recipient_domain = example.org or sasl_user = x or size > 1K or header.none = x",
    )
    .unwrap();
    let t = sel.explain(&m, &ctx());
    assert!(!t.matched);
    assert_eq!(
        t.to_string(),
        "no   or\n\
         no     all recipient_domain = example.org  saw \"alice@example.org\" (match), \"carol@Example.NET\" (no match)\n\
         no     sasl_user = x  saw (absent) (no match)\n\
         no     size > 1K  saw (absent) (no match)\n\
         no     header.none = x  (no values)\n"
    );
}

#[test]
fn explain_caps_long_lists() {
    let mut m = msg();
    let many: Vec<&'static str> = (0..30)
        .map(|i| &*Box::leak(format!("r{i}@example.org").into_boxed_str()))
        .collect();
    m.todo = many;
    let sel = Selection::parse("recipient = nobody@example.org").unwrap();
    match sel.explain(&m, &ctx()).node {
        TraceNode::Test { seen, more, .. } => {
            assert_eq!(seen.len(), 20);
            assert_eq!(more, 10);
        }
        other => panic!("{other:?}"),
    }
    let ids: Vec<String> = (0..100).map(|i| format!("ID{i}")).collect();
    let sel = Selection::builder().ids(&ids).build();
    match sel.explain(&msg(), &ctx()).node {
        TraceNode::Test { text, .. } => {
            assert_eq!(
                text,
                "id in (ID0, ID1, ID2, ID3, ID4, ID5, ID6, ID7, … 92 more)"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn display_is_canonical() {
    let p = |s: &str| parse_expr(s).unwrap().to_string();
    assert_eq!(p("SENDER=<bob@x>"), "sender = bob@x");
    assert_eq!(p("sender = \"\""), "sender = <>");
    assert_eq!(p("reason ~ timed"), "reason ~ /timed/");
    assert_eq!(p("reason ~ /x/ixi"), "reason ~ /x/ix");
    assert_eq!(p("age > 48h"), "age > 2d");
    assert_eq!(p("size > 1048576B"), "size > 1M");
    assert_eq!(p("size > 1536b"), "size > 1536B");
    assert_eq!(p("size > 0"), "size > 0");
    assert_eq!(p("age > 0"), "age > 0s");
    assert_eq!(p("client = 2001:DB8:0::1"), "client = 2001:db8::1");
    assert_eq!(
        p("(attr.a = 1 or attr.b = 2) and attr.c = 3"),
        "(attr.a = 1 or attr.b = 2) and attr.c = 3"
    );
    assert_eq!(
        p("attr.a = 1 or (attr.b = 2 and attr.c = 3)"),
        "attr.a = 1 or attr.b = 2 and attr.c = 3"
    );
    assert_eq!(
        p("not (attr.a = 1 or attr.b = 2)"),
        "not (attr.a = 1 or attr.b = 2)"
    );
    assert_eq!(
        p("header.subject = 'say \"hi\"'"),
        r#"header.subject = "say \"hi\"""#
    );
    assert_eq!(p("queue in (\"a,b\" c)"), "queue in (\"a,b\", c)");
    assert_eq!(p("header Subject ~ x"), "header.subject ~ /x/");
    assert_eq!(p("Any rcpt = x"), "recipient = x");
}
