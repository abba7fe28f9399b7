//! Holds every queued message sent by one SASL login, through the library alone: the
//! `postfix` handle, a scan with a `select` selection, an `act` plan and its executor.
//!
//! ```text
//! cargo run -p qsurgeon-act --example hold_by_sasl_user -- /etc/postfix mallory
//! ```
//!
//! Prints one line per queue ID and a summary; exits 1 when something was not held.

use std::path::PathBuf;
use std::process::ExitCode;

use act::{Event, Executor, Sink, Verb};
use queue_scan::{ReadPlan, ScanOptions, ScanProgress};

/// Prints what happened to each ID.
struct Print;

impl Sink for Print {
    fn event(&mut self, event: &Event<'_>) -> Result<(), act::Error> {
        match event {
            Event::Done { id, queue, action } => println!("{id}\t{queue}\t{}", action.word()),
            Event::AlreadyGone { id, queue } => println!("{id}\t{queue}\talready gone"),
            Event::Reused { id, queue } => println!("{id}\t{queue}\tskipped: ID reused"),
            Event::NotActed { id, queue, .. } => println!("{id}\t{queue}\tnot held"),
            Event::Failed {
                id, queue, text, ..
            } => println!("{id}\t{queue}\tfailed: {text}"),
            Event::BatchAborted { error, .. } => eprintln!("postsuper stopped: {error}"),
            _ => {}
        }
        Ok(())
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, config_dir, login] = &args[..] else {
        eprintln!("usage: hold_by_sasl_user CONFIG_DIR SASL_USER");
        return ExitCode::from(2);
    };
    match hold(&PathBuf::from(config_dir), login) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn hold(config_dir: &std::path::Path, login: &str) -> Result<bool, Box<dyn std::error::Error>> {
    // The instance: postconf at its absolute path, postsuper from command_directory.
    let postfix = postfix::Postfix::new(Some(config_dir))?;
    let instance = postfix.instance_config()?;
    let layout = instance.layout;

    // The selection, typed: `sasl_user = LOGIN`.
    let selection = select::Selection::builder()
        .flag("--sasl-user", Some(login))?
        .build();
    let ctx = select::Context::now();

    // The plan: every message of the queues hold can act on that the selection accepts.
    let verb = Verb::Hold;
    let options = ScanOptions {
        queues: verb.default_queues().to_vec(),
        read: ReadPlan::default(),
        file_size_limit: instance.queue_file_limit,
    };
    let plan = act::plan::scan(
        &layout,
        &options,
        &ScanProgress::default(),
        ctx.now,
        |msg| selection.matches(&query::MessageView { msg, local: None }, &ctx),
    )
    .finish(verb);
    eprintln!("{} messages of {login} to hold", plan.len());

    // Act: re-check, batch, postsuper -h, one event per ID.
    let mut executor = Executor::new(&postfix, layout);
    let outcome = executor.run(&plan, &mut Print);
    eprintln!("{}", outcome.summary());
    Ok(outcome.clean())
}
