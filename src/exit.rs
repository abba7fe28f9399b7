//! Exit statuses, in one place (as fd's `exit_codes.rs`): what each command
//! returns, and how the statuses of several runs (one per instance with
//! `--all-instances`) combine into one.

use std::process::ExitCode;

/// How a run ended, as the shell sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: something was shown, selected or acted on.
    Success,
    /// 1: nothing matched the selection (or nothing to restore).
    NoMatch,
    /// 2: an error: a bad flag, an unreadable file, an action postsuper did
    /// not carry out, a prompt answered no.
    Error,
    /// 3: refused by `--max`; nothing was done.
    Refused,
    /// 130 (128 + SIGINT): stopped by Ctrl-C.
    Interrupted,
    /// `check`'s state, in the monitoring-plugin convention (its own codes,
    /// 0 to 3).
    Plugin(PluginState),
}

/// A monitoring plugin's state (Nagios, Icinga, Naemon, Sensu…): the exit
/// code is the state. Ordered by severity for [`PluginState::worst`]:
/// UNKNOWN ranks below CRITICAL, so that a real CRITICAL is not hidden.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PluginState {
    /// 0: every value is within its thresholds.
    Ok,
    /// 1: a warning threshold is exceeded.
    Warning,
    /// 3: the check could not run (or not completely): a bad flag, an
    /// unreadable queue.
    Unknown,
    /// 2: a critical threshold is exceeded.
    Critical,
}

impl PluginState {
    /// The exit code and the word of the status line.
    pub fn code(self) -> u8 {
        match self {
            PluginState::Ok => 0,
            PluginState::Warning => 1,
            PluginState::Critical => 2,
            PluginState::Unknown => 3,
        }
    }

    /// The word of the status line (`OK`, `WARNING`, `CRITICAL`, `UNKNOWN`).
    pub fn word(self) -> &'static str {
        match self {
            PluginState::Ok => "OK",
            PluginState::Warning => "WARNING",
            PluginState::Critical => "CRITICAL",
            PluginState::Unknown => "UNKNOWN",
        }
    }

    /// The more severe of two states.
    pub fn worst(self, other: PluginState) -> PluginState {
        self.max(other)
    }
}

impl ExitStatus {
    /// The number the process exits with.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::NoMatch => 1,
            ExitStatus::Error => 2,
            ExitStatus::Refused => 3,
            ExitStatus::Interrupted => 130,
            ExitStatus::Plugin(state) => state.code(),
        }
    }

    /// The status of two runs together: an interruption wins (the user
    /// stopped everything), then an error, then a refusal, then success;
    /// "nothing matched" only when it holds for both. Two plugin states
    /// merge into the worse one (`check` runs on one instance, so a plugin
    /// state meets no other status).
    pub fn merge(self, other: ExitStatus) -> ExitStatus {
        fn rank(s: ExitStatus) -> u8 {
            match s {
                ExitStatus::NoMatch => 0,
                ExitStatus::Success | ExitStatus::Plugin(_) => 1,
                ExitStatus::Refused => 2,
                ExitStatus::Error => 3,
                ExitStatus::Interrupted => 4,
            }
        }
        if let (ExitStatus::Plugin(a), ExitStatus::Plugin(b)) = (self, other) {
            return ExitStatus::Plugin(a.worst(b));
        }
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }

    /// Success when `found`, else NoMatch.
    pub fn found(found: bool) -> ExitStatus {
        if found {
            ExitStatus::Success
        } else {
            ExitStatus::NoMatch
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> ExitCode {
        ExitCode::from(status.code())
    }
}

#[cfg(test)]
mod tests {
    use super::ExitStatus::{self, *};
    use super::PluginState;

    #[test]
    fn merge_ranks_interrupt_error_refused_success_nomatch() {
        let ranked = [NoMatch, Success, Refused, Error, Interrupted];
        for (i, a) in ranked.iter().enumerate() {
            for (j, b) in ranked.iter().enumerate() {
                assert_eq!(a.merge(*b), ranked[i.max(j)], "{a:?} + {b:?}");
            }
        }
        assert_eq!(ranked.map(ExitStatus::code), [1, 0, 3, 2, 130]);
        assert_eq!(ExitStatus::found(true), Success);
        assert_eq!(ExitStatus::found(false), NoMatch);
    }

    #[test]
    fn plugin_states_exit_with_their_codes_and_critical_is_worst() {
        use PluginState::*;
        let states = [Ok, Warning, Critical, Unknown];
        assert_eq!(states.map(|s| Plugin(s).code()), [0, 1, 2, 3]);
        assert_eq!(
            states.map(PluginState::word),
            ["OK", "WARNING", "CRITICAL", "UNKNOWN"]
        );
        assert_eq!(Ok.worst(Warning), Warning);
        assert_eq!(Warning.worst(Unknown), Unknown);
        assert_eq!(Unknown.worst(Critical), Critical);
        assert_eq!(Critical.worst(Ok), Critical);
        assert_eq!(Plugin(Warning).merge(Plugin(Critical)), Plugin(Critical));
        assert_eq!(Plugin(Ok).merge(Error), Error);
    }
}
