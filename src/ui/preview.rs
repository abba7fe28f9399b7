//! The preview shown before acting (on stderr) and the `--dry-run` listing (on stdout).

use std::path::Path;

use act::{Plan, Top, Verb};

use crate::ui::fmt::{human_age, human_size};
use crate::ui::sanitize::for_terminal_str;

/// `qsurgeon: delete 12 messages (40K bytes):` with the queues, the top SASL users and
/// senders and a few samples, escaped for the terminal.
pub fn render(plan: &Plan, now: i64) -> String {
    let preview = &plan.preview;
    let mut text = format!(
        "qsurgeon: {} {} messages ({} bytes):\n",
        plan.verb.name(),
        plan.len(),
        human_size(plan.bytes())
    );
    let queues: Vec<String> = preview
        .by_queue
        .iter()
        .map(|(q, n)| format!("{q} ({n})"))
        .collect();
    text.push_str(&format!("  queues:     {}\n", queues.join(", ")));
    text.push_str(&format!(
        "  SASL users: {}\n",
        top(&preview.sasl_users, "(none)")
    ));
    text.push_str(&format!("  senders:    {}\n", top(&preview.senders, "<>")));
    text.push_str("  for example:\n");
    for s in &preview.samples {
        text.push_str(&format!(
            "    {}/{}  {} ago  {}  from <{}> to <{}>{}\n",
            s.queue,
            s.id,
            human_age(now - s.arrival),
            human_size(s.size),
            String::from_utf8_lossy(&s.sender),
            s.first_recipient
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default(),
            match s.recipients {
                0 | 1 => String::new(),
                n => format!(" and {} more", n - 1),
            }
        ));
    }
    for_terminal_str(&text).into_owned()
}

/// `mallory (20), bob (3), 4 more`.
fn top(top: &Top, empty: &str) -> String {
    let mut parts: Vec<String> = top
        .rows
        .iter()
        .map(|(k, n)| {
            let key = if k.is_empty() {
                empty.to_string()
            } else {
                String::from_utf8_lossy(k).into_owned()
            };
            format!("{key} ({n})")
        })
        .collect();
    if top.distinct > top.rows.len() {
        parts.push(format!("{} more", top.distinct - top.rows.len()));
    }
    parts.join(", ")
}

/// `--dry-run`: the postsuper commands and the IDs each would get.
pub fn print_dry_run(plan: &Plan, config_dir: Option<&Path>) {
    let config = config_dir
        .map(|d| format!(" -c {}", d.display()))
        .unwrap_or_default();
    for (op, ids) in plan.groups() {
        match op {
            Some(op) => println!(
                "# would run: postsuper{config} {} - {} <<< {} IDs:",
                op.flag(),
                op.queues().join(" "),
                ids.len()
            ),
            None => println!(
                "# would run: postqueue{config} -i ID, for {} IDs:",
                ids.len()
            ),
        }
        for id in ids {
            println!("{id}");
        }
    }
    eprintln!("qsurgeon: dry run: nothing changed");
}

/// `Delete these 12 messages? [y/N]`: true only for yes.
pub fn confirm(verb: Verb, count: usize) -> bool {
    let name = verb.name();
    let question = format!(
        "{}{} these {count} messages?",
        name[..1].to_uppercase(),
        &name[1..]
    );
    dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact()
        .unwrap_or(false)
}
