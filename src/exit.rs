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
        }
    }

    /// The status of two runs together: an interruption wins (the user
    /// stopped everything), then an error, then a refusal, then success;
    /// "nothing matched" only when it holds for both.
    pub fn merge(self, other: ExitStatus) -> ExitStatus {
        fn rank(s: ExitStatus) -> u8 {
            match s {
                ExitStatus::NoMatch => 0,
                ExitStatus::Success => 1,
                ExitStatus::Refused => 2,
                ExitStatus::Error => 3,
                ExitStatus::Interrupted => 4,
            }
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
}
