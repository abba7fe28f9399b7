//! `queue-gen`: the command line of the queue generator (a dev tool for
//! tests and benchmarks; see the library docs for what it generates).
//! Arguments are parsed by hand to keep the crate's dependencies to rayon
//! and the project's own queue-file crate.

use std::path::PathBuf;
use std::process::ExitCode;

use queue_gen::{generate, Options};

const USAGE: &str = "\
queue-gen: generate a realistic Postfix queue directory (dev tool)

Usage: queue-gen --out DIR [-n N] [OPTIONS]

  -o, --out DIR              queue directory to create (must not exist, or be empty)
  -n, --messages N           number of queue files [default: 10000]; 10k, 100k, 1M (suffix k/M ok)
      --seed N               random seed [default: 1]; same seed + --now + N = same queue
                             (queue IDs aside: they encode inode numbers)
      --spam-share F         share of messages from the spammer [default: 0.05]
      --spammer NAME         the spammer's SASL login [default: spammer]
      --now EPOCH            'now' for ages, epoch seconds [default: the current time]
      --days D               normal mail arrived over the last D days [default: 4.5]
      --spam-hours H         the spam burst covers the last H hours [default: 6]
      --max-total-size SIZE  approximate cap on the sum of message sizes [default: 8G]
      --max-message-size SIZE  largest message [default: 4M]
      --postfix-config DIR   also write main.cf/master.cf there (queue_directory = --out),
                             so that postqueue/postsuper/postcat/qshape -c DIR work; the
                             data directory and maillog go to DIR.data/ and DIR.log/
      --manifest FILE        where to write the counts [default: DIR/manifest.json]
  -j, --threads N            worker threads [default: one per core]
  -q, --quiet                no progress on stderr
  -h, --help                 this help

Prints the spammer's SASL login and message count at the end.
";

fn main() -> ExitCode {
    let opts = match parse(std::env::args().skip(1).collect()) {
        Ok(Some(opts)) => opts,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("queue-gen: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match generate(&opts) {
        Ok(report) => {
            let c = &report.counts;
            let queues: Vec<String> = c.queues.iter().map(|(q, n)| format!("{q} {n}")).collect();
            println!(
                "generated {} queue files in {} in {:.1} s ({:.0} files/s): {} complete ({}), \
                 {} in progress",
                opts.messages,
                opts.out.display(),
                report.seconds,
                opts.messages as f64 / report.seconds.max(1e-9),
                c.messages(),
                queues.join(", "),
                c.in_progress
            );
            println!(
                "{} defer logs, {} bounces, {} forced to expire, {} with attachments; \
                 {} MB of messages, {} MB written",
                c.defer_logs,
                c.bounces,
                c.forced_expired,
                c.with_attachment,
                c.message_bytes >> 20,
                c.file_bytes >> 20
            );
            for note in &report.notes {
                println!("note: {note}");
            }
            println!("manifest: {}", report.manifest.display());
            println!(
                "spammer: sasl_username={} sent {} messages (forged senders [A-Z][A-Z]@{}, \
                 clients 203.0.113.0/24; {} more in progress)",
                opts.spammer,
                c.spam_messages(),
                queue_gen::world::OUR_DOMAIN,
                c.spam_in_progress
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("queue-gen: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `Ok(None)` for --help.
fn parse(args: Vec<String>) -> Result<Option<Options>, String> {
    let mut out = None;
    let mut opts = Options::new(PathBuf::new(), 10_000);
    opts.progress = true;
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "-q" | "--quiet" => opts.progress = false,
            "-o" | "--out" => out = Some(PathBuf::from(value()?)),
            "-n" | "--messages" => opts.messages = size(&value()?, 1000)?,
            "--seed" => opts.seed = number(&value()?)?,
            "--spam-share" => opts.spam_share = float(&value()?)?,
            "--spammer" => opts.spammer = value()?,
            "--now" => opts.now = number(&value()?)? as i64,
            "--days" => opts.days = float(&value()?)?,
            "--spam-hours" => opts.spam_hours = float(&value()?)?,
            "--max-total-size" => opts.max_total_size = size(&value()?, 1024)?,
            "--max-message-size" => opts.max_message_size = size(&value()?, 1024)?,
            "--postfix-config" => opts.postfix_config = Some(PathBuf::from(value()?)),
            "--manifest" => opts.manifest = Some(PathBuf::from(value()?)),
            "-j" | "--threads" => opts.threads = number(&value()?)? as usize,
            _ => return Err(format!("unknown argument {arg:?}")),
        }
    }
    opts.out = out.ok_or("--out DIR is required")?;
    if opts.spammer.is_empty() || !opts.spammer.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("--spammer must be a printable login without spaces".into());
    }
    Ok(Some(opts))
}

fn number(s: &str) -> Result<u64, String> {
    s.parse().map_err(|_| format!("not a number: {s:?}"))
}

fn float(s: &str) -> Result<f64, String> {
    s.parse().map_err(|_| format!("not a number: {s:?}"))
}

/// `100k`, `1M`, `8G` (`unit` is 1000 for counts, 1024 for bytes).
fn size(s: &str, unit: u64) -> Result<u64, String> {
    let (digits, mult) = match s.char_indices().last() {
        Some((i, 'k' | 'K')) => (&s[..i], unit),
        Some((i, 'm' | 'M')) => (&s[..i], unit * unit),
        Some((i, 'g' | 'G')) => (&s[..i], unit * unit * unit),
        _ => (s, 1),
    };
    Ok(number(digits)? * mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_flags_parse() {
        assert_eq!(size("100k", 1000), Ok(100_000));
        assert_eq!(size("1M", 1000), Ok(1_000_000));
        assert_eq!(size("8G", 1024), Ok(8 << 30));
        let args = |a: &[&str]| parse(a.iter().map(|s| s.to_string()).collect());
        let o = args(&["--out", "/tmp/q", "-n", "2k", "--seed=9"])
            .unwrap()
            .unwrap();
        assert_eq!((o.messages, o.seed), (2000, 9));
        assert!(args(&["-n", "5"]).is_err(), "--out is required");
        assert!(args(&["--out", "x", "--bogus"]).is_err());
        assert!(args(&["--help"]).unwrap().is_none());
    }
}
