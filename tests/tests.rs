//! The one integration-test binary (ripgrep's layout): each module below holds
//! the tests for one feature; shared helpers live in `util` and `postfix`.

// Real, isolated Postfix instances under a temp dir, built once per run.
mod postfix;
// Test-command helpers: the qsurgeon binary, golden files, diffs.
mod util;

// Sanity of the real-Postfix test bed itself (every queue populated, …).
mod bed;
// `list` and `summary` on the demo queue against real postqueue output.
mod list;
mod local_sender;
// Recipient counts (`recipients > N`, `--min-recipients`, the list columns, `summary
// --rank-by recipients`) against postcat's recipient records.
mod recipients;
// The verbs that change the queue, through real postsuper.
mod act;
// The prompt on a real terminal, and purges racing a running Postfix.
mod act_live;
// `watch`: a standing hold rule while a spammer's SMTP session keeps sending.
mod watch;
// `triage` driven in a pseudo-terminal.
mod triage;
// Multi-instance: --instance and --all-instances.
mod instances;
// `qsurgeon show` against postcat: samples, golden files, real queue files.
mod show;
// A copy of a real queue with symlinks, FIFOs, sparse files and symlinked hash directories
// planted everywhere: list and summary finish, name each, stay small.
mod hazards;
// `delete --backup` then `restore`: round trips through real Postfix, delivery included.
mod restore;
// Hostile queue data on a real pseudo-terminal: escaped there, exact in pipes and JSON.
mod terminal;
// As a user who cannot read the queue: one clear line, `list` through postqueue -j.
mod nonroot;
// Cron's environment and a hostile PATH: Postfix's programs are never taken from PATH.
mod environment;
// `metrics` (parsed by prometheus_client, against postqueue -j) and `check` (exit states).
mod monitor;
// `--demo`: the embedded demo queue on a private copy, removed at exit.
mod demo;
// The installed Debian package (scripts/deb.sh --install; QSURGEON_REQUIRE_PACKAGE=1).
mod package;
// The queue generator (crates/queue-gen) against real postcat, postsuper and postqueue.
mod gen;
