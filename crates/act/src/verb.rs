//! The verbs that change the queue and what each means to postsuper.

use postfix::Op;

/// The queues showq lists, in its order: what delete, requeue and expire scan by default.
pub const SHOWQ_QUEUES: &[&str] = &["maildrop", "active", "incoming", "deferred", "hold"];

/// What the user asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verb {
    /// postsuper -h
    Hold,
    /// postsuper -H
    Release,
    /// postsuper -r
    Requeue,
    /// postsuper -d
    Delete,
    /// postsuper -e (and -f for held mail)
    Expire,
    /// postqueue -i
    Flush,
}

impl Verb {
    /// Every verb.
    pub const ALL: [Verb; 6] = [
        Verb::Hold,
        Verb::Release,
        Verb::Requeue,
        Verb::Delete,
        Verb::Expire,
        Verb::Flush,
    ];

    /// The verb as the command is named (`delete`).
    pub fn name(self) -> &'static str {
        match self {
            Verb::Hold => "hold",
            Verb::Release => "release",
            Verb::Requeue => "requeue",
            Verb::Delete => "delete",
            Verb::Expire => "expire",
            Verb::Flush => "flush",
        }
    }

    /// The postsuper operation for a message now in `queue`; `None` for flush, which is
    /// `postqueue -i`, one process per ID.
    pub fn op(self, queue: &str) -> Option<Op> {
        match self {
            Verb::Hold => Some(Op::Hold),
            Verb::Release => Some(Op::Release),
            Verb::Requeue => Some(Op::Requeue),
            Verb::Delete => Some(Op::Delete),
            // postsuper -e skips nothing but does not release: a held message would stay
            // held and expired; -f expires and releases it (postsuper.c, exp_rel_one).
            Verb::Expire if queue == "hold" => Some(Op::ExpireRelease),
            Verb::Expire => Some(Op::Expire),
            Verb::Flush => None,
        }
    }

    /// The queues worth scanning when the user named none: a held message cannot be held
    /// again, only held messages can be released, and the flush daemon only moves mail out
    /// of `deferred` (and nudges incoming/active).
    pub fn default_queues(self) -> &'static [&'static str] {
        match self {
            Verb::Hold => &["incoming", "active", "deferred"],
            Verb::Release => &["hold"],
            Verb::Flush => &["incoming", "active", "deferred"],
            Verb::Delete | Verb::Requeue | Verb::Expire => SHOWQ_QUEUES,
        }
    }

    /// Whether `--rate` paces this verb (release, requeue and flush send mail back to the
    /// queue manager, which is what a rate protects; hold and delete are local renames).
    pub fn paced(self) -> bool {
        matches!(self, Verb::Release | Verb::Requeue | Verb::Flush)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expire_releases_held_mail_and_flush_has_no_postsuper_op() {
        assert_eq!(Verb::Expire.op("hold"), Some(Op::ExpireRelease));
        assert_eq!(Verb::Expire.op("deferred"), Some(Op::Expire));
        assert_eq!(Verb::Flush.op("deferred"), None);
        assert_eq!(Verb::Release.default_queues(), ["hold"]);
        assert!(!Verb::Hold.default_queues().contains(&"hold"));
        for verb in Verb::ALL {
            assert!(!verb.name().is_empty());
        }
    }
}
