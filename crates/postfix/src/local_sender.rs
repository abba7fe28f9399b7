//! The "nonexistent local sender" check: is a message's envelope sender an address in one of
//! our own domains that Postfix would nevertheless refuse as a recipient? Spammers who got
//! hold of a SASL login forge senders such as `AA@ourdomain.example`, `AB@ourdomain.example`
//! …; no such mailbox exists, so the bounces of that mail are undeliverable too.
//!
//! The decision mirrors what smtpd does for `RCPT TO` (postfix `src/smtpd/smtpd_check.c`,
//! `check_rcpt_maps`, and `proto/ADDRESS_CLASS_README.html`,
//! `proto/LOCAL_RECIPIENT_README.html`):
//!
//! 1. The domain decides the address class, in trivial-rewrite's order
//!    (`src/trivial-rewrite/resolve.c`): local (`mydestination`), then virtual alias
//!    (`virtual_alias_domains`), then virtual mailbox (`virtual_mailbox_domains`). Any other
//!    domain is not ours, and its senders are never "nonexistent".
//! 2. An address found in `recipient_canonical_maps`, `canonical_maps` or
//!    `virtual_alias_maps` is accepted whatever its class.
//! 3. Local class: accepted when found in `local_recipient_maps`, when that parameter is empty,
//!    or when the local part is `postmaster`, `MAILER-DAEMON` or `$double_bounce_sender`.
//!    Virtual mailbox class: accepted when found in `virtual_mailbox_maps`, or when that
//!    parameter is empty. Virtual alias class: nothing else accepts it.
//!
//! Every table is read with Postfix's own code: `postmap -q - TYPE:NAME` (one process per
//! table, all keys on its stdin), and `getent passwd` for `unix:passwd.byname`. The keys are
//! those `mail_addr_find()` tries (`src/global/mail_addr_find.c`); see [`Keys`].
//!
//! When in doubt the check answers "exists": a sender it cannot decide (no `@`, an address
//! Postfix's resolver would reject, bytes a lookup cannot carry) is never selected, because
//! the selection may be purged.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use crate::error::{Context, Error};
use crate::{postfix_bool, Postfix};

type Result<T, E = Error> = std::result::Result<T, E>;
use queue_file::quote::{quote_822_local_flags, QuoteFlags};

/// The main.cf parameters the check reads (`postconf -x`, so `$name` references arrive
/// expanded).
const PARAMS: [&str; 15] = [
    "mydestination",
    "virtual_alias_domains",
    "virtual_mailbox_domains",
    "relay_domains",
    "local_recipient_maps",
    "virtual_alias_maps",
    "virtual_mailbox_maps",
    "canonical_maps",
    "recipient_canonical_maps",
    "recipient_delimiter",
    "owner_request_special",
    "double_bounce_sender",
    "myorigin",
    "smtputf8_enable",
    "command_directory",
];

/// Map types whose dictionaries are `DICT_FLAG_PATTERN`: `maps_find()` skips them for the
/// partial keys of `mail_addr_find()` (user@domain without extension, user, @domain), so only
/// the full address is looked up in them. ldap/mysql/pgsql/sqlite/memcache are pattern tables
/// only with some query settings; they are treated as fixed-key tables, which can only make
/// more addresses "found" (the safe direction).
const PATTERN_TYPES: [&str; 7] = [
    "regexp",
    "pcre",
    "cidr",
    "tcp",
    "socketmap",
    "randmap",
    "fail",
];

/// Upper bound for the argument bytes of one `getent` run (ARG_MAX is far larger).
const GETENT_ARG_BYTES: usize = 64 * 1024;

/// The address class of a domain (trivial-rewrite's `RESOLVE_CLASS_*` that have a recipient
/// table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Local,
    VirtualAlias,
    VirtualMailbox,
}

/// The address class of a sender's domain, in trivial-rewrite's order
/// (`src/trivial-rewrite/resolve.c`; `proto/ADDRESS_CLASS_README.html`), for
/// [`LocalSenderCheck::explain`]. Only the first three are "ours": the check looks up
/// senders of those classes only.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressClass {
    /// `mydestination`: the local class (`local_recipient_maps`).
    Local,
    /// `virtual_alias_domains`: every address must be an alias.
    VirtualAlias,
    /// `virtual_mailbox_domains` (`virtual_mailbox_maps`).
    VirtualMailbox,
    /// `relay_domains`: mail we relay; not ours, never nonexistent.
    Relay,
    /// Any other domain (the default class), or no domain Postfix would resolve.
    Other,
}

impl AddressClass {
    /// The class as Postfix's documentation names it.
    pub fn name(self) -> &'static str {
        match self {
            AddressClass::Local => "local",
            AddressClass::VirtualAlias => "virtual alias",
            AddressClass::VirtualMailbox => "virtual mailbox",
            AddressClass::Relay => "relay",
            AddressClass::Other => "other",
        }
    }
}

impl From<Class> for AddressClass {
    fn from(class: Class) -> AddressClass {
        match class {
            Class::Local => AddressClass::Local,
            Class::VirtualAlias => AddressClass::VirtualAlias,
            Class::VirtualMailbox => AddressClass::VirtualMailbox,
        }
    }
}

/// One table a sender was looked up in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lookup {
    /// The parameter (`local_recipient_maps`, `virtual_alias_maps`…).
    pub param: &'static str,
    /// The table as configured (`unix:passwd.byname`, `proxy:hash:/etc/aliases`).
    pub table: String,
    /// How it was read: `getent passwd`, or the `postmap -q` command.
    pub how: String,
    /// The keys looked up, in `mail_addr_find()`'s order.
    pub keys: Vec<Vec<u8>>,
}

/// What decided the verdict on one sender ([`LocalSenderCheck::explain`]).
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The null sender: never nonexistent.
    NullSender,
    /// Postfix's resolver would give the address no class (no `@`, an empty domain, bytes
    /// the resolver rejects): never selected.
    Unresolvable,
    /// Not one of our domains: never nonexistent.
    NotOurDomain,
    /// A local part smtpd accepts in a local domain without a lookup (`postmaster`,
    /// `MAILER-DAEMON`, `$double_bounce_sender`; `src/smtpd/smtpd_check.c`).
    Special(String),
    /// The class's table parameter is empty, which accepts every address of the class.
    EmptyTable(&'static str),
    /// Bytes a lookup cannot carry (NUL, newline, TAB): never selected.
    NotQueryable,
    /// Not looked up (the scan that collects senders did not see it).
    NotLookedUp,
    /// This table has this key: the address exists.
    Found {
        /// The table.
        lookup: Lookup,
        /// The key it had.
        key: Vec<u8>,
    },
    /// No table that could accept the address has any of its keys: nonexistent.
    NotFound(Vec<Lookup>),
}

/// Why the check says what it says about one sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SenderExplanation {
    /// The envelope sender, as in the queue file.
    pub sender: Vec<u8>,
    /// The address tested: the sender with one trailing dot of its domain stripped (None
    /// when it was not tested).
    pub address: Option<Vec<u8>>,
    /// The class of its domain.
    pub class: AddressClass,
    /// The domain list parameter and the entry that gave the class
    /// (`("mydestination", "ourdomain.example")`, or a `type:name` table).
    pub class_source: Option<(&'static str, String)>,
    /// The verdict: selected by `nonexistent_local_sender`.
    pub nonexistent: bool,
    /// What decided it.
    pub answer: Answer,
}

/// One entry of a domain list (`mydestination` and the virtual domain lists), as
/// `match_list_parse()` (`src/util/match_list.c`) sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct DomainPattern {
    /// `!pattern`: a match means "not in the list" (and ends the search).
    negate: bool,
    kind: PatternKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum PatternKind {
    /// A domain name, casefolded: exact match only (`match_string`).
    Literal(Vec<u8>),
    /// A `type:name` table, queried with the casefolded domain: index into `domain_tables`.
    Table(usize),
}

/// A domain list parameter.
#[derive(Debug)]
struct DomainList {
    param: &'static str,
    value: String,
    patterns: Vec<DomainPattern>,
}

/// A `type:name` table used as a domain list entry.
#[derive(Debug)]
struct DomainTable {
    /// As configured (may start with `proxy:`).
    spec: String,
    /// What `postmap` queries (`proxy:` stripped).
    map: String,
}

/// How one address table is queried.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Query {
    /// `unix:passwd.byname`: `getent passwd KEY…` (getpwnam, as Postfix's `dict_unix`).
    Getent,
    /// `postmap -q - MAP`; `pattern`: only the full address is looked up.
    Postmap { map: String, pattern: bool },
}

/// One table of an address-table parameter.
#[derive(Debug)]
struct Source {
    /// As configured (may start with `proxy:`).
    spec: String,
    query: Query,
}

/// An address-table parameter (`local_recipient_maps`, …).
#[derive(Debug)]
struct MapParam {
    param: &'static str,
    sources: Vec<Source>,
}

impl MapParam {
    fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }
}

/// Counters for `describe`.
#[derive(Clone, Debug, Default)]
struct Stats {
    runs: usize,
    keys: usize,
    found: usize,
}

/// The lookup keys `mail_addr_find()` (`src/global/mail_addr_find.c`, default strategy,
/// external form first, then internal form) tries for one address. Which of them reach a
/// table depends on the table: pattern tables see only `full`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Keys {
    /// `user+ext@domain` (MA_FIND_FULL), quoted then unquoted.
    full: Vec<Vec<u8>>,
    /// `user@domain` (MA_FIND_NOEXT), `user+ext` and `user` (MA_FIND_LOCALPART_IF_LOCAL),
    /// `@domain` (MA_FIND_AT_DOMAIN).
    partial: Vec<Vec<u8>>,
}

/// A sender waiting for its lookups in `resolve`.
struct Pending {
    sender: Vec<u8>,
    class: Class,
    keys: Keys,
}

/// Reads Postfix's idea of "our domains" and "existing recipients", and answers, per
/// envelope sender, whether it is a forged address in one of our domains.
pub struct LocalSenderCheck {
    config_dir: Option<PathBuf>,
    postmap: PathBuf,
    smtputf8: bool,
    /// `recipient_delimiter`: each byte is a delimiter.
    delimiters: Vec<u8>,
    owner_request_special: bool,
    double_bounce_sender: Vec<u8>,
    /// `myorigin`, casefolded (`mail_addr_find` treats it like a local domain).
    myorigin: Option<Vec<u8>>,
    local_domains: DomainList,
    alias_domains: DomainList,
    mailbox_domains: DomainList,
    /// `relay_domains`: only [`explain`](Self::explain) reads it (a relay domain is not
    /// ours, like any other).
    relay_domains: DomainList,
    domain_tables: Vec<DomainTable>,
    /// How many of `domain_tables` the three classes of ours use (the first ones); the
    /// rest are `relay_domains`' and are not prefetched.
    class_tables: usize,
    /// `recipient_canonical_maps`, `canonical_maps`, `virtual_alias_maps`: a match accepts
    /// the address in every class.
    accept_maps: Vec<MapParam>,
    local_maps: MapParam,
    mailbox_maps: MapParam,
    /// `(table index, casefolded domain)` → found. Filled by `resolve` in batches, and on a
    /// miss by `is_local_domain` itself.
    domain_cache: Mutex<HashMap<(usize, Vec<u8>), bool>>,
    domain_stats: Mutex<Vec<Stats>>,
    /// Domain lookups that failed inside `is_local_domain` (which cannot return an error);
    /// the next `resolve` reports them.
    domain_errors: Mutex<Vec<Error>>,
    /// Per distinct address table: the keys asked and found so far, and counters.
    asked: HashMap<Query, HashSet<Vec<u8>>>,
    found: HashMap<Query, HashSet<Vec<u8>>>,
    stats: HashMap<Query, Stats>,
    /// Sender → nonexistent, for every sender `resolve` has seen.
    verdicts: HashMap<Vec<u8>, bool>,
}

impl LocalSenderCheck {
    /// Reads the instance's domain classes and maps through its postconf.
    pub fn from_postfix(postfix: &Postfix) -> Result<LocalSenderCheck> {
        let values = postfix.postconf_map(&PARAMS)?;
        let get = |name: &str| values.get(name).map(String::as_str).unwrap_or("");
        let smtputf8 = postfix_bool(get("smtputf8_enable"));
        let mut domain_tables = Vec::new();
        let mut domain_list = |param: &'static str| -> Result<DomainList> {
            let value = get(param).to_string();
            let mut patterns = Vec::new();
            parse_domain_list(
                param,
                &value,
                false,
                smtputf8,
                &mut domain_tables,
                &mut patterns,
                0,
            )?;
            Ok(DomainList {
                param,
                value,
                patterns,
            })
        };
        let local_domains = domain_list("mydestination")?;
        let alias_domains = domain_list("virtual_alias_domains")?;
        let mailbox_domains = domain_list("virtual_mailbox_domains")?;
        let relay_domains = domain_list("relay_domains")?;
        let map_param = |param: &'static str| MapParam {
            param,
            sources: parse_map_list(get(param)),
        };
        let accept_maps = [
            "recipient_canonical_maps",
            "canonical_maps",
            "virtual_alias_maps",
        ]
        .into_iter()
        .map(map_param)
        .filter(|m| !m.is_empty())
        .collect();
        let postmap = postfix.program("postmap");
        let table_count = domain_tables.len();
        let class_tables = domain_tables
            .iter()
            .enumerate()
            .filter(|(i, _)| {
                [&local_domains, &alias_domains, &mailbox_domains]
                    .iter()
                    .any(|l| l.patterns.iter().any(|p| p.kind == PatternKind::Table(*i)))
            })
            .map(|(i, _)| i + 1)
            .max()
            .unwrap_or(0);
        Ok(LocalSenderCheck {
            config_dir: postfix.config_dir().map(Path::to_path_buf),
            postmap,
            smtputf8,
            delimiters: get("recipient_delimiter").as_bytes().to_vec(),
            owner_request_special: postfix_bool(get("owner_request_special")),
            double_bounce_sender: get("double_bounce_sender").as_bytes().to_vec(),
            myorigin: myorigin_domain(get("myorigin"), smtputf8),
            local_domains,
            alias_domains,
            mailbox_domains,
            relay_domains,
            domain_tables,
            class_tables,
            accept_maps,
            local_maps: map_param("local_recipient_maps"),
            mailbox_maps: map_param("virtual_mailbox_maps"),
            domain_cache: Mutex::new(HashMap::new()),
            domain_stats: Mutex::new(vec![Stats::default(); table_count]),
            domain_errors: Mutex::new(Vec::new()),
            asked: HashMap::new(),
            found: HashMap::new(),
            stats: HashMap::new(),
            verdicts: HashMap::new(),
        })
    }

    /// True when the address's domain is one of ours (cheap, no process).
    ///
    /// `domain` is as in the address (any case, maybe a trailing dot). Literal list entries
    /// need no process; a `type:name` entry is answered from the cache that `resolve` fills
    /// for its senders' domains, and for any other domain costs one `postmap` run (then
    /// cached). A failed lookup counts as "not ours" and is reported by the next `resolve`.
    pub fn is_local_domain(&self, domain: &[u8]) -> bool {
        self.class_of_domain(domain).is_some()
    }

    /// Looks up each distinct sender once (batched per map); call before is_nonexistent.
    pub fn resolve<'s>(&mut self, senders: impl IntoIterator<Item = &'s [u8]>) -> Result<()> {
        let mut fresh: Vec<&[u8]> = Vec::new();
        let mut seen = HashSet::new();
        for sender in senders {
            if !self.verdicts.contains_key(sender) && seen.insert(sender) {
                fresh.push(sender);
            }
        }
        // The domain tables first, one batch per table, so that classifying is cache hits.
        let domains: Vec<Vec<u8>> = fresh
            .iter()
            .filter_map(|s| self.normalize(s))
            .map(|(_, domain)| domain)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        self.prefetch_domains(&domains)?;
        self.take_domain_errors()?;

        let mut pending = Vec::new();
        for sender in fresh {
            match self.plan(sender) {
                Some((class, keys)) => pending.push(Pending {
                    sender: sender.to_vec(),
                    class,
                    keys,
                }),
                None => {
                    self.verdicts.insert(sender.to_vec(), false);
                }
            }
        }
        self.take_domain_errors()?;

        // Every distinct table once, with the union of the keys its parameters need.
        let mut wanted: HashMap<Query, (String, HashSet<Vec<u8>>)> = HashMap::new();
        for p in &pending {
            for param in self.params_for(p.class) {
                for source in &param.sources {
                    let entry = wanted.entry(source.query.clone()).or_insert_with(|| {
                        (format!("{} ({})", param.param, source.spec), HashSet::new())
                    });
                    let asked = self.asked.get(&source.query);
                    for key in keys_for(&source.query, &p.keys, self.smtputf8) {
                        if !asked.is_some_and(|a| a.contains(&key)) {
                            entry.1.insert(key);
                        }
                    }
                }
            }
        }
        for (query, (what, keys)) in wanted {
            if keys.is_empty() {
                continue;
            }
            let mut keys: Vec<Vec<u8>> = keys.into_iter().collect();
            keys.sort();
            let found = match &query {
                Query::Getent => run_getent(&keys, self.smtputf8)
                    .with_context(|| format!("looking up senders in {what}"))?,
                Query::Postmap { map, .. } => self
                    .run_postmap(map, &keys)
                    .with_context(|| format!("looking up senders in {what}"))?,
            };
            let stats = self.stats.entry(query.clone()).or_default();
            stats.runs += 1;
            stats.keys += keys.len();
            stats.found += found.len();
            self.found.entry(query.clone()).or_default().extend(found);
            self.asked.entry(query).or_default().extend(keys);
        }

        for p in pending {
            let accepted = self.params_for(p.class).any(|param| {
                param.sources.iter().any(|source| {
                    keys_for(&source.query, &p.keys, self.smtputf8)
                        .iter()
                        .any(|key| self.found_has(&source.query, key))
                })
            });
            self.verdicts.insert(p.sender, !accepted);
        }
        Ok(())
    }

    /// True when `sender` is in a local domain and Postfix would not accept it as a
    /// recipient. The null sender is never nonexistent.
    ///
    /// A sender `resolve` has not seen is not nonexistent (never select what was not
    /// checked).
    pub fn is_nonexistent(&self, sender: &[u8]) -> bool {
        self.verdicts.get(sender).copied().unwrap_or(false)
    }

    /// Why `sender` is (or is not) a nonexistent local sender: the address tested, its
    /// class, and the table and key that answered (or every table that did not). Reads
    /// what [`resolve`](Self::resolve) looked up; it looks nothing up itself but a domain
    /// table entry not cached yet.
    pub fn explain(&self, sender: &[u8]) -> SenderExplanation {
        let mut e = SenderExplanation {
            sender: sender.to_vec(),
            address: None,
            class: AddressClass::Other,
            class_source: None,
            nonexistent: self.is_nonexistent(sender),
            answer: Answer::NotOurDomain,
        };
        if sender.is_empty() {
            e.answer = Answer::NullSender;
            return e;
        }
        let Some((address, folded_domain)) = self.normalize(sender) else {
            e.answer = Answer::Unresolvable;
            return e;
        };
        e.address = Some(address.clone());
        let lists = [
            (&self.local_domains, AddressClass::Local),
            (&self.alias_domains, AddressClass::VirtualAlias),
            (&self.mailbox_domains, AddressClass::VirtualMailbox),
            (&self.relay_domains, AddressClass::Relay),
        ];
        let Some((list, class, entry)) = lists.into_iter().find_map(|(list, class)| {
            self.list_match_entry(list, &folded_domain)
                .map(|entry| (list, class, entry))
        }) else {
            return e;
        };
        e.class = class;
        e.class_source = Some((list.param, entry));
        let class = match class {
            AddressClass::Local => Class::Local,
            AddressClass::VirtualAlias => Class::VirtualAlias,
            AddressClass::VirtualMailbox => Class::VirtualMailbox,
            _ => return e,
        };
        if !is_queryable(&address) {
            e.answer = Answer::NotQueryable;
            return e;
        }
        let local = split_address(&address).map_or(&address[..], |(l, _)| l);
        // The same order of decisions as `plan`.
        if class == Class::Local
            && (local.eq_ignore_ascii_case(b"postmaster")
                || local.eq_ignore_ascii_case(b"MAILER-DAEMON")
                || eq_ignore_case(local, &self.double_bounce_sender, self.smtputf8))
        {
            e.answer = Answer::Special(String::from_utf8_lossy(local).into_owned());
            return e;
        }
        match class {
            Class::Local if self.local_maps.is_empty() => {
                e.answer = Answer::EmptyTable(self.local_maps.param);
                return e;
            }
            Class::VirtualMailbox if self.mailbox_maps.is_empty() => {
                e.answer = Answer::EmptyTable(self.mailbox_maps.param);
                return e;
            }
            _ => {}
        }
        if !self.verdicts.contains_key(sender) {
            e.answer = Answer::NotLookedUp;
            return e;
        }
        let local_keys = class == Class::Local || self.myorigin.as_deref() == Some(&folded_domain);
        let keys = lookup_keys(
            &address,
            &self.delimiters,
            self.owner_request_special,
            &self.double_bounce_sender,
            local_keys,
        );
        let mut consulted = Vec::new();
        for param in self.params_for(class) {
            for source in &param.sources {
                let keys = keys_for(&source.query, &keys, self.smtputf8);
                let lookup = Lookup {
                    param: param.param,
                    table: source.spec.clone(),
                    how: match &source.query {
                        Query::Getent => "getent passwd".to_string(),
                        Query::Postmap { map, .. } => self.postmap_line(map),
                    },
                    keys: Vec::new(),
                };
                // The first key found answers, as in `resolve`.
                if let Some(key) = keys.iter().find(|k| self.found_has(&source.query, k)) {
                    e.answer = Answer::Found {
                        key: key.clone(),
                        lookup,
                    };
                    return e;
                }
                consulted.push(Lookup { keys, ..lookup });
            }
        }
        e.answer = Answer::NotFound(consulted);
        e
    }

    /// One line per consulted source: which maps (and getent) were queried, for the user.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let domain_stats = self
            .domain_stats
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for list in [
            &self.local_domains,
            &self.alias_domains,
            &self.mailbox_domains,
        ] {
            let class = match list.param {
                "mydestination" => "local",
                "virtual_alias_domains" => "virtual alias",
                _ => "virtual mailbox",
            };
            if list.patterns.is_empty() {
                lines.push(format!("{} ({class} domains): empty", list.param));
                continue;
            }
            lines.push(format!(
                "{} ({class} domains): {}",
                list.param,
                list.value.split_whitespace().collect::<Vec<_>>().join(" ")
            ));
            for (i, table) in self.domain_tables.iter().enumerate() {
                let used = list
                    .patterns
                    .iter()
                    .any(|p| p.kind == PatternKind::Table(i));
                if used {
                    let s = domain_stats.get(i).cloned().unwrap_or_default();
                    lines.push(format!(
                        "{} domain table {}: {}; {} domains looked up, {} found",
                        list.param,
                        table.spec,
                        self.postmap_line(&table.map),
                        s.keys,
                        s.found
                    ));
                }
            }
        }
        let mut params: Vec<&MapParam> = self.accept_maps.iter().collect();
        params.push(&self.local_maps);
        params.push(&self.mailbox_maps);
        for param in params {
            let scope = match param.param {
                "local_recipient_maps" => "local domains",
                "virtual_mailbox_maps" => "virtual mailbox domains",
                _ => "every class of our domains",
            };
            if param.is_empty() {
                lines.push(match param.param {
                    "local_recipient_maps" => "local_recipient_maps: empty: every address in a \
                                               local domain is accepted"
                        .to_string(),
                    "virtual_mailbox_maps" => "virtual_mailbox_maps: empty: every address in a \
                                               virtual mailbox domain is accepted"
                        .to_string(),
                    other => format!("{other}: empty"),
                });
                continue;
            }
            for source in &param.sources {
                let how = match &source.query {
                    Query::Getent => "getent passwd".to_string(),
                    Query::Postmap { map, pattern } => format!(
                        "{}{}",
                        self.postmap_line(map),
                        if *pattern { " (full address only)" } else { "" }
                    ),
                };
                let s = self.stats.get(&source.query).cloned().unwrap_or_default();
                lines.push(format!(
                    "{} {} ({scope}): {how}; {} keys looked up, {} found",
                    param.param, source.spec, s.keys, s.found
                ));
            }
        }
        lines
    }

    // ---- internals ----

    /// `postmap [-c DIR] -q - MAP`, for messages.
    fn postmap_line(&self, map: &str) -> String {
        match &self.config_dir {
            Some(dir) => format!("postmap -c {} -q - {map}", dir.display()),
            None => format!("postmap -q - {map}"),
        }
    }

    /// The parameters whose tables can accept an address of `class`, in smtpd's order.
    fn params_for(&self, class: Class) -> impl Iterator<Item = &MapParam> {
        let own = match class {
            Class::Local => Some(&self.local_maps),
            Class::VirtualMailbox => Some(&self.mailbox_maps),
            Class::VirtualAlias => None,
        };
        self.accept_maps.iter().chain(own)
    }

    fn found_has(&self, query: &Query, key: &[u8]) -> bool {
        self.found.get(query).is_some_and(|keys| keys.contains(key))
    }

    /// `(address, casefolded domain)` as trivial-rewrite would resolve it: the domain after the
    /// last `@`, one trailing dot stripped (`resolve_local`). None when Postfix's resolver
    /// would not give the address a class (no `@`, empty or dot-dot domain, bad UTF-8 with
    /// SMTPUTF8 on, non-ASCII domain with it off; `resolve.c`).
    fn normalize(&self, sender: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
        let (local, domain) = split_address(sender)?;
        let domain = strip_trailing_dot(domain)?;
        if self.smtputf8 {
            std::str::from_utf8(sender).ok()?;
        } else if !domain.is_ascii() {
            return None;
        }
        let mut address = local.to_vec();
        address.push(b'@');
        address.extend_from_slice(domain);
        Some((address, casefold(domain, self.smtputf8)))
    }

    fn class_of_domain(&self, domain: &[u8]) -> Option<Class> {
        let domain = strip_trailing_dot(domain)?;
        if !self.smtputf8 && !domain.is_ascii() {
            return None;
        }
        if self.smtputf8 && std::str::from_utf8(domain).is_err() {
            return None;
        }
        self.class_of_folded(&casefold(domain, self.smtputf8))
    }

    /// trivial-rewrite's order: `resolve_local` (mydestination), then virtual alias, then
    /// virtual mailbox domains.
    fn class_of_folded(&self, folded: &[u8]) -> Option<Class> {
        [
            (&self.local_domains, Class::Local),
            (&self.alias_domains, Class::VirtualAlias),
            (&self.mailbox_domains, Class::VirtualMailbox),
        ]
        .into_iter()
        .find(|(list, _)| self.list_matches(list, folded))
        .map(|(_, class)| class)
    }

    /// The entry of `list` that puts `folded` in it (a domain, or a `type:name` table), or
    /// None when the list does not hold it (`list_matches`, saying which entry).
    fn list_match_entry(&self, list: &DomainList, folded: &[u8]) -> Option<String> {
        for pattern in &list.patterns {
            let (hit, entry) = match &pattern.kind {
                PatternKind::Literal(name) => {
                    (name == folded, String::from_utf8_lossy(name).into_owned())
                }
                PatternKind::Table(i) => (
                    self.table_has(*i, folded),
                    self.domain_tables
                        .get(*i)
                        .map_or_else(String::new, |t| t.spec.clone()),
                ),
            };
            if hit {
                return (!pattern.negate).then_some(entry);
            }
        }
        None
    }

    /// `match_list_match`: the first pattern that matches decides (`!` inverts).
    fn list_matches(&self, list: &DomainList, folded: &[u8]) -> bool {
        for pattern in &list.patterns {
            let hit = match &pattern.kind {
                PatternKind::Literal(name) => name == folded,
                PatternKind::Table(i) => self.table_has(*i, folded),
            };
            if hit {
                return !pattern.negate;
            }
        }
        false
    }

    fn table_has(&self, table: usize, folded: &[u8]) -> bool {
        let cache_key = (table, folded.to_vec());
        if let Some(hit) = self
            .domain_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&cache_key)
        {
            return *hit;
        }
        let hit = match self.lookup_domains(table, &[folded.to_vec()]) {
            Ok(found) => found.contains(folded),
            Err(e) => {
                self.domain_errors
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(e);
                false
            }
        };
        self.domain_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(cache_key, hit);
        hit
    }

    /// Looks up every domain not yet cached in every domain table, one `postmap` per table.
    fn prefetch_domains(&self, domains: &[Vec<u8>]) -> Result<()> {
        for table in 0..self.class_tables.min(self.domain_tables.len()) {
            let missing: Vec<Vec<u8>> = {
                let cache = self.domain_cache.lock().unwrap_or_else(|e| e.into_inner());
                domains
                    .iter()
                    .filter(|d| !cache.contains_key(&(table, d.to_vec())))
                    .cloned()
                    .collect()
            };
            if missing.is_empty() {
                continue;
            }
            let found = self.lookup_domains(table, &missing)?;
            let mut cache = self.domain_cache.lock().unwrap_or_else(|e| e.into_inner());
            for domain in missing {
                let hit = found.contains(&domain);
                cache.insert((table, domain), hit);
            }
        }
        Ok(())
    }

    fn lookup_domains(&self, table: usize, domains: &[Vec<u8>]) -> Result<HashSet<Vec<u8>>> {
        let t = &self.domain_tables[table];
        let param = [
            &self.local_domains,
            &self.alias_domains,
            &self.mailbox_domains,
            &self.relay_domains,
        ]
        .into_iter()
        .find(|l| {
            l.patterns
                .iter()
                .any(|p| p.kind == PatternKind::Table(table))
        })
        .map_or("domain list", |l| l.param);
        // A domain that a lookup cannot carry is simply not in the table.
        let keys: Vec<Vec<u8>> = domains
            .iter()
            .filter(|d| is_queryable(d))
            .cloned()
            .collect();
        let found = if keys.is_empty() {
            HashSet::new()
        } else {
            self.run_postmap(&t.map, &keys)
                .with_context(|| format!("looking up domains in {param} ({})", t.spec))?
        };
        let mut stats = self.domain_stats.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = stats.get_mut(table) {
            s.runs += 1;
            s.keys += keys.len();
            s.found += found.len();
        }
        Ok(found)
    }

    fn take_domain_errors(&self) -> Result<()> {
        let errors =
            std::mem::take(&mut *self.domain_errors.lock().unwrap_or_else(|e| e.into_inner()));
        match errors.into_iter().next() {
            Some(first) => Err(first),
            None => Ok(()),
        }
    }

    /// What `resolve` must look up for `sender`: its class and keys, or None when its verdict
    /// is already known to be "not nonexistent".
    fn plan(&self, sender: &[u8]) -> Option<(Class, Keys)> {
        if sender.is_empty() {
            return None;
        }
        let (address, folded_domain) = self.normalize(sender)?;
        let class = self.class_of_folded(&folded_domain)?;
        // A key with these bytes cannot go through postmap's line protocol or a command
        // line; rather than guess, such a sender is never selected.
        if !is_queryable(&address) {
            return None;
        }
        let (local, _) = split_address(&address)?;
        match class {
            // smtpd_check.c: these are absorbed by qmgr or generated by bounce, and accepted
            // without a table lookup (local part compared without case, no extension).
            Class::Local
                if local.eq_ignore_ascii_case(b"postmaster")
                    || local.eq_ignore_ascii_case(b"MAILER-DAEMON")
                    || eq_ignore_case(local, &self.double_bounce_sender, self.smtputf8) =>
            {
                return None
            }
            // An empty table means "accept everything" (`*var_local_rcpt_maps` test).
            Class::Local if self.local_maps.is_empty() => return None,
            Class::VirtualMailbox if self.mailbox_maps.is_empty() => return None,
            _ => {}
        }
        let local_keys = class == Class::Local || self.myorigin.as_deref() == Some(&folded_domain);
        let keys = lookup_keys(
            &address,
            &self.delimiters,
            self.owner_request_special,
            &self.double_bounce_sender,
            local_keys,
        );
        Some((class, keys))
    }

    /// `postmap [-c DIR] -q - MAP` with `keys` on stdin (one per line); the keys it found.
    /// postmap exits 1 both when nothing was found and on a fatal error, so the latter is
    /// recognised by its `fatal:`/`panic:` message.
    fn run_postmap(&self, map: &str, keys: &[Vec<u8>]) -> Result<HashSet<Vec<u8>>> {
        let mut cmd = Command::new(&self.postmap);
        if let Some(dir) = &self.config_dir {
            cmd.arg("-c").arg(dir);
        }
        cmd.arg("-q").arg("-").arg(map);
        let line = self.postmap_line(map);
        let mut input = Vec::with_capacity(keys.iter().map(|k| k.len() + 1).sum());
        for key in keys {
            input.extend_from_slice(key);
            input.push(b'\n');
        }
        let output = run_with_input(&mut cmd, &input).map_err(|source| Error::Spawn {
            command: line.clone(),
            source,
        })?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        let fatal = stderr.contains("fatal:") || stderr.contains("panic:");
        let ok = matches!(output.status.code(), Some(0) | Some(1)) && !fatal;
        if !ok {
            return Err(Error::Failed {
                command: line,
                detail: format!("{}: {}", output.status, stderr.trim()),
            });
        }
        parse_postmap_output(&output.stdout, keys).map_err(|detail| Error::Output {
            command: line,
            detail,
        })
    }
}

/// `myorigin`, casefolded. Debian builds (MYORIGIN_FROM_FILE, `mail_params.c`) read a value
/// that starts with `/` from that file (`/etc/mailname`): its first line.
fn myorigin_domain(value: &str, smtputf8: bool) -> Option<Vec<u8>> {
    let value = value.trim();
    let domain = if value.starts_with('/') {
        let text = std::fs::read_to_string(value).ok()?;
        text.lines().next()?.trim().to_string()
    } else {
        value.to_string()
    };
    (!domain.is_empty()).then(|| casefold(domain.as_bytes(), smtputf8))
}

/// Postfix's `mystrtokq(&bp, CHARS_COMMA_SP, CHARS_BRACE)` loop (`src/util/mystrtok.c`):
/// tokens separated by commas and/or whitespace; `{…}` groups (e.g. `inline:{a, b}`) are
/// one token, braces included.
fn split_list(value: &str) -> Vec<&str> {
    const SEP: &[u8] = b", \t\r\n";
    let bytes = value.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && SEP.contains(&bytes[i]) {
            i += 1;
        }
        if i == bytes.len() {
            break;
        }
        let start = i;
        let mut level = 0usize;
        while i < bytes.len() {
            let ch = bytes[i];
            if ch == b'{' {
                level += 1;
            } else if level > 0 && ch == b'}' {
                level -= 1;
            } else if level == 0 && SEP.contains(&ch) {
                break;
            }
            i += 1;
        }
        // Separators are ASCII, so `start..i` are char boundaries.
        tokens.push(&value[start..i]);
    }
    tokens
}

/// `MATCH_DICTIONARY`: `type:name`, but not an address literal `[…]`.
fn is_table(item: &str) -> bool {
    !item.starts_with('[') && item.contains(':')
}

/// `match_list_parse` for a domain list: `!` negation, `/file/name` expanded in place (lines
/// starting with `#` skipped), `type:name` tables, literal domains casefolded.
fn parse_domain_list(
    param: &'static str,
    value: &str,
    negated: bool,
    smtputf8: bool,
    tables: &mut Vec<DomainTable>,
    out: &mut Vec<DomainPattern>,
    depth: usize,
) -> Result<()> {
    if depth > 20 {
        return Err(Error::Config {
            param: param.into(),
            detail: "/file/name entries nested too deeply (a loop?)".into(),
        });
    }
    for token in split_list(value) {
        if token.starts_with('#') {
            // Postfix warns "comment at end of line is not supported" and stops here.
            break;
        }
        let bangs = token.bytes().take_while(|b| *b == b'!').count();
        let negate = negated ^ (bangs % 2 == 1);
        let item = &token[bangs..];
        if item.is_empty() {
            return Err(Error::Config {
                param: param.into(),
                detail: "no pattern after '!'".into(),
            });
        }
        if item.starts_with('/') {
            let text = std::fs::read_to_string(item)
                .map_err(|source| Error::Read {
                    path: item.into(),
                    source,
                })
                .with_context(|| format!("{param}: the domain list file"))?;
            for line in text.lines().filter(|l| !l.starts_with('#')) {
                parse_domain_list(param, line, negate, smtputf8, tables, out, depth + 1)?;
            }
        } else if is_table(item) {
            let index = match tables.iter().position(|t| t.spec == item) {
                Some(i) => i,
                None => {
                    tables.push(DomainTable {
                        spec: item.to_string(),
                        map: strip_proxy(item).to_string(),
                    });
                    tables.len() - 1
                }
            };
            out.push(DomainPattern {
                negate,
                kind: PatternKind::Table(index),
            });
        } else {
            out.push(DomainPattern {
                negate,
                kind: PatternKind::Literal(casefold(item.as_bytes(), smtputf8)),
            });
        }
    }
    Ok(())
}

/// `maps_create`: the tables of an address-table parameter.
fn parse_map_list(value: &str) -> Vec<Source> {
    split_list(value)
        .into_iter()
        .map(|spec| {
            let map = strip_proxy(spec);
            let query = if map == "unix:passwd.byname" {
                Query::Getent
            } else {
                let map_type = map.split_once(':').map_or("", |(t, _)| t);
                Query::Postmap {
                    map: map.to_string(),
                    pattern: PATTERN_TYPES.contains(&map_type),
                }
            };
            Source {
                spec: spec.to_string(),
                query,
            }
        })
        .collect()
}

/// `proxy:type:name` is looked up here as `type:name` (the proxymap server would open the
/// same table).
fn strip_proxy(spec: &str) -> &str {
    let mut map = spec;
    while let Some(rest) = map.strip_prefix("proxy:") {
        map = rest;
    }
    map
}

/// Local part and domain, split at the last `@` (a quoted local part may contain `@`).
fn split_address(address: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = address.iter().rposition(|b| *b == b'@')?;
    Some((&address[..at], &address[at + 1..]))
}

/// `resolve_local`: strip one trailing dot, but an empty domain or one ending in `..` is
/// nobody's.
fn strip_trailing_dot(domain: &[u8]) -> Option<&[u8]> {
    let domain = domain.strip_suffix(b".").unwrap_or(domain);
    if domain.is_empty() || domain.ends_with(b".") {
        None
    } else {
        Some(domain)
    }
}

/// Postfix's `casefold()`: UTF-8 case folding when SMTPUTF8 is on and the text is valid
/// UTF-8, ASCII lowercase otherwise. (ICU folding and Rust's `to_lowercase` differ for a few
/// characters such as ß; ASCII is identical.)
fn casefold(text: &[u8], smtputf8: bool) -> Vec<u8> {
    if smtputf8 && !text.is_ascii() {
        if let Ok(s) = std::str::from_utf8(text) {
            return s.to_lowercase().into_bytes();
        }
    }
    text.to_ascii_lowercase()
}

fn eq_ignore_case(a: &[u8], b: &[u8], smtputf8: bool) -> bool {
    !b.is_empty() && casefold(a, smtputf8) == casefold(b, smtputf8)
}

/// True when `key` can be sent to `postmap -q -` (one key per line, `key<TAB>value` back) and
/// to `getent` (an argument): no NUL, LF or TAB.
fn is_queryable(key: &[u8]) -> bool {
    !key.iter().any(|b| matches!(b, 0 | b'\n' | b'\t'))
}

/// `split_addr` (`src/global/split_addr.c`): the local part without its address extension,
/// or None when it has none or must not be split: `postmaster`, `MAILER-DAEMON`,
/// `$double_bounce_sender`, with `-` a delimiter and `owner_request_special` also `owner-*`
/// and `*-request`, and never into an empty local part.
fn strip_extension<'a>(
    local: &'a [u8],
    delimiters: &[u8],
    owner_request_special: bool,
    double_bounce_sender: &[u8],
) -> Option<&'a [u8]> {
    if delimiters.is_empty()
        || local.eq_ignore_ascii_case(b"postmaster")
        || local.eq_ignore_ascii_case(b"MAILER-DAEMON")
        || (!double_bounce_sender.is_empty() && local.eq_ignore_ascii_case(double_bounce_sender))
    {
        return None;
    }
    if delimiters.contains(&b'-') && owner_request_special {
        let lower = local.to_ascii_lowercase();
        if lower.starts_with(b"owner-") || (lower.len() > 8 && lower.ends_with(b"-request")) {
            return None;
        }
    }
    match local.iter().position(|b| delimiters.contains(b)) {
        Some(0) | None => None,
        Some(len) => Some(&local[..len]),
    }
}

/// `quote_822_local`, external form, then the internal form if it differs (`find_addr` with
/// MA_FORM_EXTERNAL_FIRST). `bare`: the input is a local part only.
fn both_forms(address: &[u8], bare: bool, out: &mut Vec<Vec<u8>>) {
    let flags = QuoteFlags {
        bare_localpart: bare,
        ..QuoteFlags::DEFAULT
    };
    let mut quoted = Vec::new();
    quote_822_local_flags(address, flags, &mut quoted);
    let differs = quoted != address;
    out.push(quoted);
    if differs {
        out.push(address.to_vec());
    }
}

/// The keys `mail_addr_find()` tries for `address` (internal form, `local@domain`), default
/// strategy: full address; without extension; if `local_keys` (the domain is local or
/// `$myorigin`) the local part with and without extension; `@domain`. `maps_find` skips
/// empty keys.
fn lookup_keys(
    address: &[u8],
    delimiters: &[u8],
    owner_request_special: bool,
    double_bounce_sender: &[u8],
    local_keys: bool,
) -> Keys {
    let mut keys = Keys::default();
    let Some((local, domain)) = split_address(address) else {
        return keys;
    };
    both_forms(address, false, &mut keys.full);
    let bare_local = strip_extension(
        local,
        delimiters,
        owner_request_special,
        double_bounce_sender,
    );
    if let Some(bare) = bare_local {
        let mut bare_address = bare.to_vec();
        bare_address.push(b'@');
        bare_address.extend_from_slice(domain);
        both_forms(&bare_address, false, &mut keys.partial);
    }
    if local_keys {
        both_forms(local, true, &mut keys.partial);
        if let Some(bare) = bare_local {
            both_forms(bare, true, &mut keys.partial);
        }
    }
    let mut at_domain = b"@".to_vec();
    at_domain.extend_from_slice(domain);
    keys.partial.push(at_domain);
    keys.full.retain(|k| !k.is_empty());
    keys.partial.retain(|k| !k.is_empty());
    keys
}

/// The keys of `keys` that reach the table behind `query`: pattern tables see only the full
/// address; `getent` gets them casefolded, as `dict_unix` with DICT_FLAG_FOLD_FIX does.
fn keys_for(query: &Query, keys: &Keys, smtputf8: bool) -> Vec<Vec<u8>> {
    match query {
        Query::Postmap { pattern: true, .. } => keys.full.clone(),
        Query::Postmap { pattern: false, .. } => {
            keys.full.iter().chain(&keys.partial).cloned().collect()
        }
        Query::Getent => keys
            .full
            .iter()
            .chain(&keys.partial)
            .map(|k| casefold(k, smtputf8))
            .collect(),
    }
}

/// postmap prints `key<TAB>value` for each found key, the key exactly as it was read. Keys
/// contain no TAB (`is_queryable`), so the first TAB ends the key.
fn parse_postmap_output(stdout: &[u8], sent: &[Vec<u8>]) -> Result<HashSet<Vec<u8>>, String> {
    let sent: HashSet<&[u8]> = sent.iter().map(Vec::as_slice).collect();
    let mut found = HashSet::new();
    for line in stdout.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let key = match line.iter().position(|b| *b == b'\t') {
            Some(tab) => &line[..tab],
            None => {
                return Err(format!(
                    "unexpected output line {:?}",
                    String::from_utf8_lossy(line)
                ))
            }
        };
        if !sent.contains(key) {
            return Err(format!(
                "output for a key that was not asked: {:?}",
                String::from_utf8_lossy(key)
            ));
        }
        found.insert(key.to_vec());
    }
    Ok(found)
}

/// `getent passwd -- KEY…` (getpwnam through NSS, as Postfix's `dict_unix`), in chunks that
/// keep the command line short. The found keys are the user names it printed (field 1),
/// casefolded: a numeric key that getent resolves as a UID does not count.
fn run_getent(keys: &[Vec<u8>], smtputf8: bool) -> Result<HashSet<Vec<u8>>> {
    use std::os::unix::ffi::OsStrExt;
    let wanted: HashSet<&[u8]> = keys.iter().map(Vec::as_slice).collect();
    let mut found = HashSet::new();
    for chunk in getent_chunks(keys) {
        let mut cmd = Command::new(GETENT);
        cmd.arg("passwd").arg("--");
        cmd.args(chunk.iter().map(|k| std::ffi::OsStr::from_bytes(k)));
        let output = cmd
            .stdin(Stdio::null())
            .output()
            .map_err(|source| Error::Spawn {
                command: format!("{GETENT} passwd -- KEY… (for unix:passwd.byname)"),
                source,
            })?;
        // 0: all found, 2: some not found; anything else is an error.
        if !matches!(output.status.code(), Some(0) | Some(2)) {
            return Err(Error::Failed {
                command: format!(
                    "{GETENT} passwd -- KEY… (for unix:passwd.byname, {} keys)",
                    chunk.len()
                ),
                detail: format!(
                    "{}: {}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                ),
            });
        }
        for line in output.stdout.split(|b| *b == b'\n') {
            let name = line.split(|b| *b == b':').next().unwrap_or_default();
            if name.is_empty() {
                continue;
            }
            let name = casefold(name, smtputf8);
            if wanted.contains(name.as_slice()) {
                found.insert(name);
            }
        }
    }
    Ok(found)
}

/// `keys` in order, cut into the argument lists of successive `getent` runs: each as long as
/// fits, its keys joined by one byte each in at most [`GETENT_ARG_BYTES`] (a longer key runs
/// alone). Empty keys are dropped: getpwnam("") never finds anything, and an empty argument
/// would only confuse getent.
fn getent_chunks(keys: &[Vec<u8>]) -> Vec<Vec<&[u8]>> {
    let mut chunks: Vec<Vec<&[u8]>> = Vec::new();
    let mut size = 0;
    for key in keys.iter().filter(|k| !k.is_empty()) {
        if chunks.is_empty() || size + key.len() > GETENT_ARG_BYTES {
            chunks.push(Vec::new());
            size = 0;
        }
        size += key.len() + 1;
        if let Some(chunk) = chunks.last_mut() {
            chunk.push(key);
        }
    }
    chunks
}

/// Runs `cmd` with `input` on its stdin (written from a thread, so that a large output cannot
/// deadlock against a large input) and collects its output.
fn run_with_input(cmd: &mut Command, input: &[u8]) -> std::io::Result<std::process::Output> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take().ok_or(std::io::ErrorKind::BrokenPipe)?;
    std::thread::scope(|scope| {
        let writer = scope.spawn(move || {
            // A child that exits early (fatal error) closes the pipe: its stderr says why.
            let _ = stdin.write_all(input);
        });
        let output = child.wait_with_output();
        let _ = writer.join();
        output
    })
}

/// `getent`, from glibc: at this absolute path on every Debian and Red Hat system (never from
/// `$PATH`, see the crate documentation).
const GETENT: &str = "/usr/bin/getent";

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> Vec<u8> {
        s.as_bytes().to_vec()
    }

    fn strs(keys: &[Vec<u8>]) -> Vec<String> {
        keys.iter()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .collect()
    }

    #[test]
    fn split_list_commas_whitespace_and_braces() {
        assert_eq!(split_list(" a, b\tc\n,,d  "), vec!["a", "b", "c", "d"]);
        assert_eq!(
            split_list("inline:{ a.example, b.example }, hash:/x"),
            vec!["inline:{ a.example, b.example }", "hash:/x"]
        );
        assert_eq!(
            split_list("proxy:unix:passwd.byname hash:/etc/aliases").len(),
            2
        );
        assert!(split_list("").is_empty());
        assert!(split_list(" ,\t, ").is_empty());
        // An unbalanced brace swallows the rest, as mystrtokq does; no panic.
        assert_eq!(split_list("a {b, c"), vec!["a", "{b, c"]);
        assert_eq!(split_list("}a, b"), vec!["}a", "b"]);
    }

    #[test]
    fn map_lists_strip_proxy_and_classify() {
        let sources = parse_map_list(
            "proxy:unix:passwd.byname, hash:/etc/aliases regexp:/x proxy:pcre:/y unix:group.byname",
        );
        let queries: Vec<&Query> = sources.iter().map(|s| &s.query).collect();
        assert_eq!(queries[0], &Query::Getent);
        assert_eq!(
            queries[1],
            &Query::Postmap {
                map: "hash:/etc/aliases".into(),
                pattern: false
            }
        );
        assert_eq!(
            queries[2],
            &Query::Postmap {
                map: "regexp:/x".into(),
                pattern: true
            }
        );
        assert_eq!(
            queries[3],
            &Query::Postmap {
                map: "pcre:/y".into(),
                pattern: true
            }
        );
        assert_eq!(
            queries[4],
            &Query::Postmap {
                map: "unix:group.byname".into(),
                pattern: false
            }
        );
        assert_eq!(sources[0].spec, "proxy:unix:passwd.byname");
    }

    #[test]
    fn extension_stripping() {
        let strip = |local: &str, delims: &str| {
            strip_extension(local.as_bytes(), delims.as_bytes(), true, b"double-bounce")
                .map(|l| String::from_utf8_lossy(l).into_owned())
        };
        assert_eq!(strip("user+ext", "+").as_deref(), Some("user"));
        assert_eq!(strip("user+a+b", "+").as_deref(), Some("user"));
        assert_eq!(strip("user-ext+x", "+-").as_deref(), Some("user"));
        assert_eq!(strip("user", "+"), None);
        assert_eq!(strip("user+ext", ""), None);
        // Never into an empty local part.
        assert_eq!(strip("+ext", "+"), None);
        assert_eq!(strip("", "+"), None);
        // Special names.
        assert_eq!(strip("owner-list", "-"), None);
        assert_eq!(strip("list-request", "-"), None);
        assert_eq!(strip("owner-list+x", "+").as_deref(), Some("owner-list"));
        assert_eq!(strip("Postmaster", "+"), None);
        assert_eq!(strip("MAILER-DAEMON", "-"), None);
        assert_eq!(strip("double-bounce", "-"), None);
        assert_eq!(
            strip_extension(b"owner-list", b"-", false, b"")
                .map(|l| String::from_utf8_lossy(l).into_owned())
                .as_deref(),
            Some("owner")
        );
        // 8-bit bytes are ordinary.
        assert_eq!(
            strip_extension(b"\xe9t\xe9+x", b"+", true, b""),
            Some(&b"\xe9t\xe9"[..])
        );
    }

    #[test]
    fn address_split_takes_the_last_at() {
        assert_eq!(
            split_address(b"\"a@b\"@ourdomain.example"),
            Some((&b"\"a@b\""[..], &b"ourdomain.example"[..]))
        );
        assert_eq!(split_address(b"a@b@c"), Some((&b"a@b"[..], &b"c"[..])));
        assert_eq!(split_address(b"@c"), Some((&b""[..], &b"c"[..])));
        assert_eq!(split_address(b"nobody"), None);
        assert_eq!(split_address(b""), None);
        assert_eq!(strip_trailing_dot(b"a.example."), Some(&b"a.example"[..]));
        assert_eq!(strip_trailing_dot(b"a.example"), Some(&b"a.example"[..]));
        assert_eq!(strip_trailing_dot(b"a.example.."), None);
        assert_eq!(strip_trailing_dot(b"."), None);
        assert_eq!(strip_trailing_dot(b""), None);
    }

    #[test]
    fn keys_follow_mail_addr_find() {
        let keys = lookup_keys(
            b"User+Ext@OurDomain.Example",
            b"+",
            true,
            b"double-bounce",
            true,
        );
        assert_eq!(strs(&keys.full), vec!["User+Ext@OurDomain.Example"]);
        assert_eq!(
            strs(&keys.partial),
            vec![
                "User@OurDomain.Example",
                "User+Ext",
                "User",
                "@OurDomain.Example"
            ]
        );
        // Not a local domain: no bare local parts.
        let keys = lookup_keys(b"u@v.example", b"+", true, b"", false);
        assert_eq!(strs(&keys.full), vec!["u@v.example"]);
        assert_eq!(strs(&keys.partial), vec!["@v.example"]);
        // A local part that needs quoting: external (quoted) form first, then internal.
        let keys = lookup_keys(b"odd user@ourdomain.example", b"", true, b"", true);
        assert_eq!(
            strs(&keys.full),
            vec![
                "\"odd user\"@ourdomain.example",
                "odd user@ourdomain.example"
            ]
        );
        assert_eq!(
            strs(&keys.partial),
            vec!["\"odd user\"", "odd user", "@ourdomain.example"]
        );
        // Empty local part: maps_find never looks up an empty key.
        let keys = lookup_keys(b"@ourdomain.example", b"+", true, b"", true);
        assert_eq!(
            strs(&keys.full),
            vec!["\"\"@ourdomain.example", "@ourdomain.example"]
        );
        assert_eq!(strs(&keys.partial), vec!["\"\"", "@ourdomain.example"]);
        // Pattern tables get only the full address; getent gets keys casefolded.
        let keys = lookup_keys(b"Root+x@Ourdomain.example", b"+", true, b"", true);
        let pattern = Query::Postmap {
            map: "regexp:/x".into(),
            pattern: true,
        };
        assert_eq!(
            strs(&keys_for(&pattern, &keys, true)),
            vec!["Root+x@Ourdomain.example"]
        );
        let getent = strs(&keys_for(&Query::Getent, &keys, true));
        assert!(getent.contains(&"root".to_string()), "{getent:?}");
    }

    /// A check with literal domain lists and no tables (no process needed).
    fn literal_check(mydestination: &str, alias: &str, mailbox: &str) -> LocalSenderCheck {
        literal_check_utf8(mydestination, alias, mailbox, true)
    }

    /// `literal_check` with `smtputf8_enable` given.
    fn literal_check_utf8(
        mydestination: &str,
        alias: &str,
        mailbox: &str,
        smtputf8: bool,
    ) -> LocalSenderCheck {
        let mut tables = Vec::new();
        let mut list = |param: &'static str, value: &str| {
            let mut patterns = Vec::new();
            parse_domain_list(param, value, false, smtputf8, &mut tables, &mut patterns, 0)
                .unwrap();
            DomainList {
                param,
                value: value.to_string(),
                patterns,
            }
        };
        let local_domains = list("mydestination", mydestination);
        let alias_domains = list("virtual_alias_domains", alias);
        let mailbox_domains = list("virtual_mailbox_domains", mailbox);
        let relay_domains = list("relay_domains", "relay.example");
        assert!(tables.is_empty());
        LocalSenderCheck {
            config_dir: None,
            postmap: PathBuf::from("postmap"),
            smtputf8,
            delimiters: b"+".to_vec(),
            owner_request_special: true,
            double_bounce_sender: b"double-bounce".to_vec(),
            myorigin: None,
            local_domains,
            alias_domains,
            mailbox_domains,
            relay_domains,
            domain_tables: tables,
            class_tables: 0,
            accept_maps: Vec::new(),
            local_maps: MapParam {
                param: "local_recipient_maps",
                sources: parse_map_list("unix:passwd.byname"),
            },
            mailbox_maps: MapParam {
                param: "virtual_mailbox_maps",
                sources: Vec::new(),
            },
            domain_cache: Mutex::new(HashMap::new()),
            domain_stats: Mutex::new(Vec::new()),
            domain_errors: Mutex::new(Vec::new()),
            asked: HashMap::new(),
            found: HashMap::new(),
            stats: HashMap::new(),
            verdicts: HashMap::new(),
        }
    }

    #[test]
    fn explain_names_the_class_and_what_answered() {
        let mut check = literal_check("ourdomain.example", "valias.example", "vmail.example");
        // What `resolve` would have recorded, without running getent: bob exists, AA not.
        let getent = Query::Getent;
        check
            .found
            .entry(getent.clone())
            .or_default()
            .insert(b("bob"));
        check.verdicts.insert(b("bob+x@ourdomain.example"), false);
        check.verdicts.insert(b("AA@OurDomain.example."), true);

        let e = check.explain(b"AA@OurDomain.example.");
        assert!(e.nonexistent);
        assert_eq!(e.address, Some(b("AA@OurDomain.example")));
        assert_eq!(e.class, AddressClass::Local);
        assert_eq!(
            e.class_source,
            Some(("mydestination", "ourdomain.example".to_string()))
        );
        let Answer::NotFound(lookups) = &e.answer else {
            panic!("{e:?}");
        };
        assert_eq!(lookups.len(), 1);
        assert_eq!(lookups[0].param, "local_recipient_maps");
        assert_eq!(lookups[0].table, "unix:passwd.byname");
        assert_eq!(lookups[0].how, "getent passwd");
        // getpwnam keys, casefolded: the full address first, then the local part.
        assert_eq!(strs(&lookups[0].keys)[0], "aa@ourdomain.example");
        assert!(strs(&lookups[0].keys).contains(&"aa".to_string()));

        let e = check.explain(b"bob+x@ourdomain.example");
        assert!(!e.nonexistent);
        assert_eq!(
            e.answer,
            Answer::Found {
                lookup: Lookup {
                    param: "local_recipient_maps",
                    table: "unix:passwd.byname".into(),
                    how: "getent passwd".into(),
                    keys: Vec::new(),
                },
                key: b("bob"),
            }
        );

        let e = check.explain(b"Postmaster@ourdomain.example");
        assert_eq!(e.answer, Answer::Special("Postmaster".into()));
        let e = check.explain(b"carol@ourdomain.example");
        assert_eq!(e.answer, Answer::NotLookedUp);
        assert!(!e.nonexistent);
        let e = check.explain(b"x@vmail.example");
        assert_eq!(e.class, AddressClass::VirtualMailbox);
        assert_eq!(e.answer, Answer::EmptyTable("virtual_mailbox_maps"));
        let e = check.explain(b"x@relay.example");
        assert_eq!(
            (e.class, &e.answer),
            (AddressClass::Relay, &Answer::NotOurDomain)
        );
        assert_eq!(
            e.class_source,
            Some(("relay_domains", "relay.example".to_string()))
        );
        let e = check.explain(b"x@elsewhere.example");
        assert_eq!(
            (e.class, &e.answer, e.class_source),
            (AddressClass::Other, &Answer::NotOurDomain, None)
        );
        assert_eq!(check.explain(b"").answer, Answer::NullSender);
        assert_eq!(check.explain(b"no-at-sign").answer, Answer::Unresolvable);
        let e = check.explain(b"a\tb@valias.example".as_slice());
        assert_eq!(e.class, AddressClass::VirtualAlias);
        let e = check.explain(b"a\nb@ourdomain.example");
        assert_eq!(e.answer, Answer::NotQueryable);
    }

    #[test]
    fn domain_matching() {
        let check = literal_check(
            "OurDomain.Example, !sub.ourdomain.example, localhost",
            "valias.example",
            "vmail.example ourdomain.example",
        );
        assert!(check.is_local_domain(b"ourdomain.example"));
        assert!(check.is_local_domain(b"OURDOMAIN.EXAMPLE"));
        assert!(check.is_local_domain(b"ourdomain.example."));
        assert!(!check.is_local_domain(b"ourdomain.example.."));
        // Exact match only: no parent-domain matching in these lists.
        assert!(!check.is_local_domain(b"sub.ourdomain.example"));
        assert!(!check.is_local_domain(b"x.ourdomain.example"));
        assert!(!check.is_local_domain(b"example"));
        assert!(check.is_local_domain(b"valias.example"));
        assert!(check.is_local_domain(b"vmail.example"));
        assert!(!check.is_local_domain(b""));
        assert!(!check.is_local_domain(b"\xff\xfe"));
        // Order of the classes: a domain in mydestination and a virtual list is local.
        assert_eq!(
            check.class_of_domain(b"ourdomain.example"),
            Some(Class::Local)
        );
        assert_eq!(
            check.class_of_domain(b"valias.example"),
            Some(Class::VirtualAlias)
        );
        assert_eq!(
            check.class_of_domain(b"vmail.example"),
            Some(Class::VirtualMailbox)
        );
        // Negation: the first matching pattern decides.
        let check = literal_check("!ourdomain.example, ourdomain.example", "", "");
        assert!(!check.is_local_domain(b"ourdomain.example"));
        let check = literal_check("!!ourdomain.example", "", "");
        assert!(check.is_local_domain(b"ourdomain.example"));
        // UTF-8 domains are casefolded.
        let check = literal_check("BÜRO.example", "", "");
        assert!(check.is_local_domain("büro.example".as_bytes()));
    }

    #[test]
    fn domain_list_files_and_bad_entries() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("domains");
        std::fs::write(&file, "# ours\nA.example b.example\n!c.example\n").unwrap();
        let mut tables = Vec::new();
        let mut patterns = Vec::new();
        let value = format!("{}, c.example, hash:/x, [192.0.2.1]", file.display());
        parse_domain_list(
            "mydestination",
            &value,
            false,
            true,
            &mut tables,
            &mut patterns,
            0,
        )
        .unwrap();
        let lit = |s: &str, negate| DomainPattern {
            negate,
            kind: PatternKind::Literal(b(s)),
        };
        assert_eq!(
            patterns,
            vec![
                lit("a.example", false),
                lit("b.example", false),
                lit("c.example", true),
                lit("c.example", false),
                DomainPattern {
                    negate: false,
                    kind: PatternKind::Table(0)
                },
                lit("[192.0.2.1]", false),
            ]
        );
        assert_eq!(tables[0].map, "hash:/x");
        let err = parse_domain_list(
            "mydestination",
            "!",
            false,
            true,
            &mut tables,
            &mut patterns,
            0,
        )
        .unwrap_err();
        assert!(err.to_string().contains("no pattern after"), "{err}");
        let err = parse_domain_list(
            "mydestination",
            "/nonexistent/qsurgeon/list",
            false,
            true,
            &mut tables,
            &mut patterns,
            0,
        )
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("/nonexistent/qsurgeon/list"),
            "{err:#}"
        );
        // A trailing comment ends the list.
        let mut patterns = Vec::new();
        parse_domain_list(
            "mydestination",
            "a.example #b.example",
            false,
            true,
            &mut tables,
            &mut patterns,
            0,
        )
        .unwrap();
        assert_eq!(patterns.len(), 1);
    }

    #[test]
    fn odd_senders_never_panic_and_are_not_planned() {
        let check = literal_check("ourdomain.example", "", "");
        for sender in [
            &b""[..],
            b"@",
            b"@@",
            b"nobody",
            b"a\nb@ourdomain.example",
            b"a\tb@ourdomain.example",
            b"a\0b@ourdomain.example",
            b"\xe9@ourdomain.example",
            b"x@ourdomain.example..",
            b"postmaster@ourdomain.example",
            b"MAILER-DAEMON@OurDomain.Example",
            b"Double-Bounce@ourdomain.example",
            b"x@remote.example",
        ] {
            assert!(
                check.plan(sender).is_none(),
                "{:?}",
                String::from_utf8_lossy(sender)
            );
            assert!(!check.is_nonexistent(sender));
        }
        assert!(check.plan(b"AA@ourdomain.example").is_some());
        assert!(check.plan(b"@ourdomain.example").is_some());
        assert!(check.plan(b"\"a@b\"@ourdomain.example").is_some());
    }

    #[test]
    fn postmap_output_parsing() {
        let sent = vec![b("a"), b("B@x"), b("c")];
        let found = parse_postmap_output(b"B@x\tOK\nc\tv\twith tab\n", &sent).unwrap();
        assert_eq!(found, [b("B@x"), b("c")].into_iter().collect());
        assert!(parse_postmap_output(b"", &sent).unwrap().is_empty());
        assert!(parse_postmap_output(b"zzz\tOK\n", &sent).is_err());
        assert!(parse_postmap_output(b"garbage\n", &sent).is_err());
    }

    #[test]
    fn special_local_parts_are_never_split_and_only_whole() {
        let strip = |local: &str, delims: &str| {
            strip_extension(local.as_bytes(), delims.as_bytes(), true, b"double-bounce")
                .map(|l| String::from_utf8_lossy(l).into_owned())
        };
        // split_addr.c: "Don't split these, regardless of what the delimiter is", even when
        // the delimiter is one of their letters.
        assert_eq!(strip("postmaster", "t"), None);
        assert_eq!(strip("PostMaster", "s"), None);
        assert_eq!(strip("mailer-daemon", "-"), None);
        // The comparison is of the whole local part (strcasecmp), so an extension is split.
        assert_eq!(strip("postmaster+x", "+").as_deref(), Some("postmaster"));
        assert_eq!(
            strip("double-bounce+x", "+").as_deref(),
            Some("double-bounce")
        );
        // owner-*/*-request need `-` among the delimiters and a name before `-request`;
        // `-request` alone is split like any other local part (into nothing, so not at all).
        assert_eq!(strip("x-request", "-"), None);
        assert_eq!(strip("-request", "+-"), None);
        assert_eq!(
            strip("list-request+x", "+").as_deref(),
            Some("list-request")
        );
    }

    #[test]
    fn bare_local_parts_are_quoted_as_local_parts() {
        // The internal form of `"a@b"@ourdomain.example`: its local part `a@b` is looked up
        // as `"a@b"` first (quote_822_local with QUOTE_FLAG_BARE_LOCALPART: the `@` is part of
        // the local part, not the start of a domain), then as it is.
        let keys = lookup_keys(b"a@b@ourdomain.example", b"+", true, b"", true);
        assert_eq!(
            strs(&keys.full),
            vec!["\"a@b\"@ourdomain.example", "a@b@ourdomain.example"]
        );
        assert_eq!(
            strs(&keys.partial),
            vec!["\"a@b\"", "a@b", "@ourdomain.example"]
        );
    }

    #[test]
    fn smtputf8_off_means_ascii_domains_and_ascii_case() {
        // casefold.c: with util_utf8_enable off only ASCII letters fold; with it on, UTF-8
        // folds, and invalid UTF-8 falls back to ASCII.
        assert_eq!(
            casefold("BÜRO.Example".as_bytes(), false),
            "bÜro.example".as_bytes()
        );
        assert_eq!(
            casefold("BÜRO.Example".as_bytes(), true),
            "büro.example".as_bytes()
        );
        assert_eq!(casefold(b"\xc3BAD.Example", true), b"\xc3bad.example");

        let check = literal_check_utf8("OurDomain.example, BÜRO.example", "", "", false);
        assert!(check.is_local_domain(b"ourdomain.EXAMPLE"));
        // resolve.c: valid_utf8_hostname(var_smtputf8_enable = no, …) refuses non-ASCII
        // domains, so they are nobody's.
        assert!(!check.is_local_domain("büro.example".as_bytes()));
        assert!(!check.is_local_domain("BÜRO.example".as_bytes()));
        assert!(check.plan("x@BÜRO.example".as_bytes()).is_none());
        // The UTF-8 check of the whole address is made only with SMTPUTF8 on: an 8-bit local
        // part in an ASCII domain is still ours (with it on, it is refused: see
        // `odd_senders_never_panic_and_are_not_planned`).
        assert!(check.plan(b"\xe9t\xe9@ourdomain.example").is_some());
        assert!(check.plan(b"AA@OURDOMAIN.example").is_some());
    }

    #[test]
    fn an_empty_virtual_mailbox_maps_accepts_the_whole_domain() {
        // literal_check has no virtual_mailbox_maps: smtpd_check.c tests
        // `*var_virt_mailbox_maps` before looking up, as for local_recipient_maps.
        let check = literal_check("ourdomain.example", "valias.example", "vmail.example");
        assert!(check.is_local_domain(b"vmail.example"));
        assert!(check.plan(b"carol@vmail.example").is_none());
        // A virtual alias domain has no table of its own: only the accept maps decide.
        assert_eq!(
            check.plan(b"nobody@valias.example").map(|(class, _)| class),
            Some(Class::VirtualAlias)
        );
    }

    #[test]
    fn domain_list_files_negate_nest_and_share_tables() {
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name).display().to_string();
        // match_list_parse: the entries of `!/file` start negated, and a `!` in the file
        // negates again (`match = init_match`, toggled per `!`).
        std::fs::write(path("neg"), "!x.example y.example\n").unwrap();
        let value = format!("!{}, hash:/a, hash:/b proxy:hash:/a hash:/a", path("neg"));
        let mut tables = Vec::new();
        let mut patterns = Vec::new();
        parse_domain_list(
            "mydestination",
            &value,
            false,
            true,
            &mut tables,
            &mut patterns,
            0,
        )
        .unwrap();
        let table = |i| DomainPattern {
            negate: false,
            kind: PatternKind::Table(i),
        };
        assert_eq!(
            patterns,
            vec![
                DomainPattern {
                    negate: false,
                    kind: PatternKind::Literal(b("x.example"))
                },
                DomainPattern {
                    negate: true,
                    kind: PatternKind::Literal(b("y.example"))
                },
                table(0),
                table(1),
                table(2),
                table(0),
            ]
        );
        // One table per distinct spelling (each is one postmap run and one line of
        // `describe`); `proxy:` is queried as the table behind it.
        let maps: Vec<(&str, &str)> = tables
            .iter()
            .map(|t| (t.spec.as_str(), t.map.as_str()))
            .collect();
        assert_eq!(
            maps,
            vec![
                ("hash:/a", "hash:/a"),
                ("hash:/b", "hash:/b"),
                ("proxy:hash:/a", "hash:/a")
            ]
        );

        // Files naming files: 20 levels are read, the 21st is refused, and so is a loop
        // (Postfix itself would recurse until it crashes).
        let chain = |levels: usize| -> Result<Vec<DomainPattern>> {
            for i in 1..levels {
                std::fs::write(path(&format!("n{i}")), path(&format!("n{}", i + 1))).unwrap();
            }
            std::fs::write(path(&format!("n{levels}")), "deep.example\n").unwrap();
            let mut patterns = Vec::new();
            parse_domain_list(
                "mydestination",
                &path("n1"),
                false,
                true,
                &mut Vec::new(),
                &mut patterns,
                0,
            )?;
            Ok(patterns)
        };
        let deep = chain(20).unwrap();
        assert_eq!(
            deep,
            vec![DomainPattern {
                negate: false,
                kind: PatternKind::Literal(b("deep.example"))
            }]
        );
        let err = chain(21).unwrap_err();
        assert!(err.to_string().contains("nested too deeply"), "{err}");
        std::fs::write(path("loop"), format!("a.example {}\n", path("loop"))).unwrap();
        let err = parse_domain_list(
            "mydestination",
            &path("loop"),
            false,
            true,
            &mut Vec::new(),
            &mut Vec::new(),
            0,
        )
        .unwrap_err();
        assert!(err.to_string().contains("nested too deeply"), "{err}");
    }

    #[test]
    fn myorigin_may_come_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mailname");
        // Debian's MYORIGIN_FROM_FILE (mail_params.c): a value starting with `/` names a file
        // whose first line is the domain.
        std::fs::write(&file, " MX.OurDomain.Example \nother.example\n").unwrap();
        let value = format!("  {}\n", file.display());
        assert_eq!(
            myorigin_domain(&value, true),
            Some(b("mx.ourdomain.example"))
        );
        assert_eq!(
            myorigin_domain("OurDomain.Example", false),
            Some(b("ourdomain.example"))
        );
        // Nothing usable: no myorigin (Postfix would refuse to start).
        std::fs::write(&file, "\n").unwrap();
        assert_eq!(myorigin_domain(&value, true), None);
        assert_eq!(
            myorigin_domain("/nonexistent/qsurgeon/mailname", true),
            None
        );
        assert_eq!(myorigin_domain("  ", true), None);
    }

    #[test]
    fn getent_keys_go_in_few_full_runs() {
        // 2000 keys of 99 bytes: 655 to a run (655 × 100 − 1 bytes joined), four runs, not one
        // per key and not one over-long command line.
        let many: Vec<Vec<u8>> = (0..2000)
            .map(|i| format!("qsurgeon-no-such-user-{i:077}").into_bytes())
            .collect();
        assert_eq!(
            getent_chunks(&many)
                .iter()
                .map(Vec::len)
                .collect::<Vec<_>>(),
            vec![655, 655, 655, 35]
        );
        // 63 keys of 1023 bytes and one of 1024 join to exactly the limit: one run.
        let mut boundary = vec![vec![b'a'; 1023]; 63];
        boundary.push(vec![b'b'; 1024]);
        boundary.push(b("c"));
        assert_eq!(
            getent_chunks(&boundary)
                .iter()
                .map(Vec::len)
                .collect::<Vec<_>>(),
            vec![64, 1]
        );
        let long = vec![b'x'; GETENT_ARG_BYTES + 5];
        for keys in [
            many.clone(),
            boundary,
            vec![b(""), b("root"), b("")],
            vec![b("a"), long, b("b")],
            Vec::new(),
        ] {
            let chunks = getent_chunks(&keys);
            // Every key once, in order; empty keys dropped.
            let flat: Vec<&[u8]> = chunks.iter().flatten().copied().collect();
            let want: Vec<&[u8]> = keys
                .iter()
                .filter(|k| !k.is_empty())
                .map(Vec::as_slice)
                .collect();
            assert_eq!(flat, want);
            let joined = |c: &[&[u8]]| c.iter().map(|k| k.len() + 1).sum::<usize>() - 1;
            for (i, chunk) in chunks.iter().enumerate() {
                assert!(!chunk.is_empty(), "run {i} is empty");
                assert!(
                    chunk.len() == 1 || joined(chunk) <= GETENT_ARG_BYTES,
                    "run {i} is too long: {}",
                    joined(chunk)
                );
                if let Some(next) = chunks.get(i + 1) {
                    assert!(
                        joined(chunk) + 1 + next[0].len() > GETENT_ARG_BYTES,
                        "run {i} had room for the next key"
                    );
                }
            }
        }

        // The same keys through real getent: only the user that exists is found, in the
        // third run; a number is a UID to getent, not a user name, so it finds nothing.
        let mut keys = many;
        keys.insert(1500, b("root"));
        let found = run_getent(&keys, true).unwrap();
        assert_eq!(found, [b("root")].into_iter().collect());
        assert!(run_getent(&[b("0")], true).unwrap().is_empty());
    }

    // ---- against real postconf/postmap/postalias, on a temp config dir ----

    /// True when postconf, postmap and postalias are installed. Otherwise prints a note and
    /// returns false, or panics when QSURGEON_REQUIRE_POSTFIX=1 (CI).
    fn have_postfix() -> bool {
        let missing: Vec<&str> = ["postconf", "postmap", "postalias"]
            .into_iter()
            .filter(|t| !Path::new("/usr/sbin").join(t).is_file())
            .collect();
        if missing.is_empty() {
            return true;
        }
        if std::env::var("QSURGEON_REQUIRE_POSTFIX").as_deref() == Ok("1") {
            panic!("QSURGEON_REQUIRE_POSTFIX=1 but Postfix is missing: {missing:?}");
        }
        eprintln!(
            "skipped: Postfix tools not installed: {}",
            missing.join(", ")
        );
        false
    }

    fn run_ok(cmd: &mut Command) {
        let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        assert!(
            out.status.success(),
            "{cmd:?}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A config dir with hash and texthash maps (built with real postmap/postalias).
    fn config_dir(main_cf_extra: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write(
            "aliases",
            "postmaster: root\nsales: root\nWebMaster: root\n",
        );
        write(
            "vmailbox",
            "alice@vmail.example OK\nBob@VMail2.example OK\n",
        );
        write("vdomains", "vmail2.example OK\n");
        write(
            "virtual",
            "sales@valias.example x@remote.example\n\
             @vcatch.example x@remote.example\n\
             info@ourdomain.example root\n",
        );
        write(
            "main.cf",
            &format!(
                "compatibility_level = 3.6\n\
                 myhostname = mx.ourdomain.example\n\
                 mydomain = ourdomain.example\n\
                 mydestination = $myhostname, localhost.$mydomain, localhost, $mydomain\n\
                 alias_maps = hash:{d}/aliases\n\
                 alias_database = hash:{d}/aliases\n\
                 recipient_delimiter = +\n\
                 virtual_mailbox_domains = vmail.example, hash:{d}/vdomains, vcatch.example\n\
                 virtual_mailbox_maps = hash:{d}/vmailbox\n\
                 virtual_alias_domains = valias.example\n\
                 virtual_alias_maps = texthash:{d}/virtual\n\
                 {main_cf_extra}"
            ),
        );
        let postalias = Path::new("/usr/sbin/postalias");
        run_ok(
            Command::new(postalias)
                .arg("-c")
                .arg(dir.path())
                .arg(format!("hash:{d}/aliases")),
        );
        let postmap = Path::new("/usr/sbin/postmap");
        for map in ["vmailbox", "vdomains"] {
            run_ok(
                Command::new(postmap)
                    .arg("-c")
                    .arg(dir.path())
                    .arg(format!("hash:{d}/{map}")),
            );
        }
        dir
    }

    /// Resolves `senders` and returns those found nonexistent.
    fn nonexistent<'a>(check: &mut LocalSenderCheck, senders: &[&'a str]) -> Vec<&'a str> {
        check
            .resolve(senders.iter().map(|s| s.as_bytes()))
            .unwrap_or_else(|e| panic!("resolve: {e:#}"));
        senders
            .iter()
            .copied()
            .filter(|s| check.is_nonexistent(s.as_bytes()))
            .collect()
    }

    const SENDERS: [&str; 27] = [
        "",
        "root@ourdomain.example",
        "ROOT@OurDomain.Example",
        "postfix@ourdomain.example",
        "root+tag@ourdomain.example",
        "nosuchuser123@ourdomain.example",
        "AA@ourdomain.example",
        "ZC@ourdomain.example",
        "sales@ourdomain.example",
        "sales+news@ourdomain.example",
        "webmaster@ourdomain.example",
        "postmaster@ourdomain.example",
        "MAILER-DAEMON@ourdomain.example",
        "nosuchuser123@mx.ourdomain.example",
        "root@localhost",
        "info@ourdomain.example",
        "alice@vmail.example",
        "carol@vmail.example",
        "bob@vmail2.example",
        "zed@VMAIL2.example",
        "anyone@vcatch.example",
        "sales@valias.example",
        "nobody@valias.example",
        "nosuchuser123@remote.example",
        "odd user@ourdomain.example",
        "@ourdomain.example",
        "\"root\"@ourdomain.example",
    ];

    #[test]
    fn real_maps_decide_like_smtpd() {
        if !have_postfix() {
            return;
        }
        let dir = config_dir("");
        let mut check =
            LocalSenderCheck::from_postfix(&Postfix::new(Some(dir.path())).unwrap()).unwrap();
        assert!(check.is_local_domain(b"ourdomain.example"));
        assert!(check.is_local_domain(b"MX.ourdomain.example"));
        assert!(
            check.is_local_domain(b"vmail2.example"),
            "hash domain table"
        );
        assert!(check.is_local_domain(b"valias.example"));
        assert!(!check.is_local_domain(b"remote.example"));
        let got = nonexistent(&mut check, &SENDERS);
        assert_eq!(
            got,
            vec![
                "nosuchuser123@ourdomain.example",
                "AA@ourdomain.example",
                "ZC@ourdomain.example",
                "nosuchuser123@mx.ourdomain.example",
                "carol@vmail.example",
                "zed@VMAIL2.example",
                "nobody@valias.example",
                "odd user@ourdomain.example",
                "@ourdomain.example",
                // Internal form `"root"` is not the user root: Postfix would quote it again.
                "\"root\"@ourdomain.example",
            ]
        );
        let described = check.describe().join("\n");
        for want in [
            "getent passwd",
            "texthash:",
            "/aliases",
            "/vmailbox",
            "/vdomains",
            "mydestination (local domains): mx.ourdomain.example",
        ] {
            assert!(
                described.contains(want),
                "{want:?} missing in:\n{described}"
            );
        }
        // Resolving again is free and changes nothing.
        let runs = |c: &LocalSenderCheck| c.stats.values().map(|s| s.runs).sum::<usize>();
        let before = runs(&check);
        assert_eq!(nonexistent(&mut check, &SENDERS).len(), 10);
        assert_eq!(runs(&check), before);
        // A later batch asks only for keys not asked before (`@ourdomain.example` was).
        let keys_before: usize = check.stats.values().map(|s| s.keys).sum();
        assert_eq!(
            nonexistent(&mut check, &["AC@ourdomain.example"]),
            vec!["AC@ourdomain.example"]
        );
        let getent = &check.stats[&Query::Getent];
        assert_eq!(getent.runs, 2);
        let keys_after: usize = check.stats.values().map(|s| s.keys).sum();
        // Per fixed-key table: AC@…, AC (getent folds both to lowercase; aliases does not);
        // virtual_alias_maps (texthash) likewise.
        assert_eq!(keys_after - keys_before, 6, "{keys_before} -> {keys_after}");
    }

    #[test]
    fn real_maps_describe_says_what_was_looked_up() {
        if !have_postfix() {
            return;
        }
        let dir = config_dir("");
        let d = dir.path().display().to_string();
        let mut check =
            LocalSenderCheck::from_postfix(&Postfix::new(Some(dir.path())).unwrap()).unwrap();
        let got = nonexistent(
            &mut check,
            &[
                "AA@ourdomain.example",
                "root@ourdomain.example",
                "carol@vmail.example",
                "zed@vmail2.example",
            ],
        );
        assert_eq!(
            got,
            vec![
                "AA@ourdomain.example",
                "carol@vmail.example",
                "zed@vmail2.example"
            ]
        );
        let postmap = |map: &str| format!("postmap -c {d} -q - {map}");
        // Counted by hand from config_dir's tables: the domain table gets every distinct
        // domain of the batch in one run (vmail2.example is in it); the accept map gets
        // every key of every class; the local maps the keys of the two local senders
        // (AA@…, AA, @ourdomain.example, root@…, root), getent casefolded (root exists); the
        // mailbox map carol@…, @vmail.example, zed@…, @vmail2.example. The empty
        // canonical_maps and recipient_canonical_maps are not listed.
        assert_eq!(
            check.describe(),
            vec![
                "mydestination (local domains): mx.ourdomain.example, \
                 localhost.ourdomain.example, localhost, ourdomain.example"
                    .to_string(),
                "virtual_alias_domains (virtual alias domains): valias.example".to_string(),
                format!(
                    "virtual_mailbox_domains (virtual mailbox domains): vmail.example, \
                     hash:{d}/vdomains, vcatch.example"
                ),
                format!(
                    "virtual_mailbox_domains domain table hash:{d}/vdomains: {}; \
                     3 domains looked up, 1 found",
                    postmap(&format!("hash:{d}/vdomains"))
                ),
                format!(
                    "virtual_alias_maps texthash:{d}/virtual (every class of our domains): \
                     {}; 9 keys looked up, 0 found",
                    postmap(&format!("texthash:{d}/virtual"))
                ),
                "local_recipient_maps proxy:unix:passwd.byname (local domains): getent \
                 passwd; 5 keys looked up, 1 found"
                    .to_string(),
                format!(
                    "local_recipient_maps hash:{d}/aliases (local domains): {}; \
                     5 keys looked up, 0 found",
                    postmap(&format!("hash:{d}/aliases"))
                ),
                format!(
                    "virtual_mailbox_maps hash:{d}/vmailbox (virtual mailbox domains): {}; \
                     4 keys looked up, 0 found",
                    postmap(&format!("hash:{d}/vmailbox"))
                ),
            ]
        );
        // One postmap run for the domain table, not one per domain.
        let domain_runs = check.domain_stats.lock().unwrap()[0].runs;
        assert_eq!(domain_runs, 1);
    }

    #[test]
    fn real_maps_settings_change_the_answer() {
        if !have_postfix() {
            return;
        }
        // No recipient_delimiter: extensions are part of the name.
        let dir = config_dir("recipient_delimiter =\n");
        let mut check =
            LocalSenderCheck::from_postfix(&Postfix::new(Some(dir.path())).unwrap()).unwrap();
        let got = nonexistent(
            &mut check,
            &[
                "root+tag@ourdomain.example",
                "sales+news@ourdomain.example",
                "root@ourdomain.example",
            ],
        );
        assert_eq!(
            got,
            vec!["root+tag@ourdomain.example", "sales+news@ourdomain.example"]
        );

        // Empty local_recipient_maps: every local address is accepted.
        let dir = config_dir("local_recipient_maps =\n");
        let mut check =
            LocalSenderCheck::from_postfix(&Postfix::new(Some(dir.path())).unwrap()).unwrap();
        let got = nonexistent(
            &mut check,
            &[
                "AA@ourdomain.example",
                "nobody@valias.example",
                "carol@vmail.example",
            ],
        );
        assert_eq!(got, vec!["nobody@valias.example", "carol@vmail.example"]);
        assert!(check.describe().contains(
            &"local_recipient_maps: empty: every address in a local domain is accepted".to_string()
        ));

        // Empty virtual_mailbox_maps: likewise for the virtual mailbox domains.
        let dir = config_dir("virtual_mailbox_maps =\n");
        let mut check =
            LocalSenderCheck::from_postfix(&Postfix::new(Some(dir.path())).unwrap()).unwrap();
        let got = nonexistent(
            &mut check,
            &[
                "AA@ourdomain.example",
                "nobody@valias.example",
                "carol@vmail.example",
            ],
        );
        assert_eq!(got, vec!["AA@ourdomain.example", "nobody@valias.example"]);
        assert!(check.describe().contains(
            &"virtual_mailbox_maps: empty: every address in a virtual mailbox domain is accepted"
                .to_string()
        ));

        // myorigin, here a virtual mailbox domain named by a file as Debian's
        // `/etc/mailname`: its addresses are also looked up by bare local part
        // (mail_addr_find.c, MA_FIND_LOCALPART_IF_LOCAL), so `dave` in virtual_alias_maps
        // accepts dave@vmail.example but not dave@vmail2.example.
        let dir = config_dir("");
        let d = dir.path().display().to_string();
        std::fs::write(dir.path().join("mailname"), "VMail.Example\n").unwrap();
        let append = |name: &str, text: &str| {
            let path = dir.path().join(name);
            let old = std::fs::read_to_string(&path).unwrap();
            std::fs::write(&path, old + text).unwrap();
        };
        append("virtual", "dave root\n");
        append("main.cf", &format!("myorigin = {d}/mailname\n"));
        let mut check =
            LocalSenderCheck::from_postfix(&Postfix::new(Some(dir.path())).unwrap()).unwrap();
        let got = nonexistent(
            &mut check,
            &[
                "dave@vmail.example",
                "dave@vmail2.example",
                "carol@vmail.example",
                "dave@ourdomain.example",
            ],
        );
        assert_eq!(got, vec!["dave@vmail2.example", "carol@vmail.example"]);

        // A regexp table: only the full address reaches it.
        let dir = config_dir("");
        let d = dir.path().display().to_string();
        std::fs::write(
            dir.path().join("canonical"),
            "/^aa@ourdomain\\.example$/ root\n/^zc$/ root\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("main.cf"),
            std::fs::read_to_string(dir.path().join("main.cf")).unwrap()
                + &format!("canonical_maps = regexp:{d}/canonical\n"),
        )
        .unwrap();
        let mut check =
            LocalSenderCheck::from_postfix(&Postfix::new(Some(dir.path())).unwrap()).unwrap();
        let got = nonexistent(
            &mut check,
            &["AA@ourdomain.example", "ZC@ourdomain.example"],
        );
        assert_eq!(got, vec!["ZC@ourdomain.example"]);
    }

    #[test]
    fn real_map_errors_name_the_map_and_command() {
        if !have_postfix() {
            return;
        }
        let dir = config_dir("virtual_mailbox_maps = hash:/nonexistent/qsurgeon/vmailbox\n");
        let mut check =
            LocalSenderCheck::from_postfix(&Postfix::new(Some(dir.path())).unwrap()).unwrap();
        let err = check
            .resolve([&b"carol@vmail.example"[..]])
            .expect_err("a missing table is an error");
        let text = format!("{err:#}");
        assert!(
            text.contains(
                "looking up senders in virtual_mailbox_maps (hash:/nonexistent/qsurgeon/vmailbox)"
            ),
            "{text}"
        );
        assert!(text.contains("postmap -c"), "{text}");
        assert!(text.contains("/nonexistent/qsurgeon/vmailbox"), "{text}");
        assert!(!check.is_nonexistent(b"carol@vmail.example"));

        // A missing domain table: is_local_domain says no, resolve reports it.
        let dir = config_dir("virtual_alias_domains = hash:/nonexistent/qsurgeon/vdomains\n");
        let mut check =
            LocalSenderCheck::from_postfix(&Postfix::new(Some(dir.path())).unwrap()).unwrap();
        assert!(!check.is_local_domain(b"valias.example"));
        // A sender in that domain needs no new lookup (the failed one is cached as "not
        // ours"), yet the failure is reported rather than taken for an answer.
        let err = check.resolve([&b"nobody@valias.example"[..]]).unwrap_err();
        let what = "looking up domains in virtual_alias_domains \
                    (hash:/nonexistent/qsurgeon/vdomains)";
        assert!(format!("{err:#}").contains(what), "{err:#}");
        assert!(!check.is_nonexistent(b"nobody@valias.example"));
        let err = check.resolve([&b"x@remote.example"[..]]).unwrap_err();
        assert!(format!("{err:#}").contains(what), "{err:#}");

        let err =
            Postfix::new(Some(Path::new("/nonexistent/qsurgeon"))).expect_err("no such config dir");
        assert!(
            format!("{err:#}").contains("/usr/sbin/postconf -c /nonexistent/qsurgeon"),
            "{err:#}"
        );
    }
}
