//! The cast of a generated queue: our own domain and mail server, the SASL
//! users who send through it, unauthenticated senders on our own networks,
//! the spammer with a stolen login, and the remote domains that defer our
//! mail (each with the kind of trouble its MX servers give).
//!
//! Everything is derived from the seed, once, before any message is made,
//! so that messages can be built independently (and in parallel) and still
//! agree on who is who.

use crate::rng::{Rng, Weighted};

/// The domain every local sender uses, forged ones included.
pub const OUR_DOMAIN: &str = "ourdomain.example";
/// `myhostname` of the generated instance (in Received headers and NDRs).
pub const MY_HOSTNAME: &str = "mx.ourdomain.example";
/// The address our MTA connects from, as remote servers quote it.
pub const OUR_ADDRESS: &str = "198.51.100.25";

#[rustfmt::skip]
const FIRST: &[&str] = &[
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mike",
    "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yvonne", "anna",
    "bernd", "clara", "dirk", "elena", "felix", "greta", "hans", "ines", "jonas", "karin", "lukas",
    "marta", "nils", "oskar", "paula", "ruth", "stefan", "tanja", "uwe", "vera", "wim", "xenia",
    "yusuf", "zoe", "amir", "bea", "chen", "dana", "emil", "fatima", "goran", "hiro", "ingrid",
    "jamal", "kofi", "lena", "mei", "nora", "omar",
];
#[rustfmt::skip]
const LAST: &[&str] = &[
    "smith", "jones", "miller", "brown", "garcia", "martin", "bernard", "dubois", "mueller",
    "schmidt", "schneider", "fischer", "weber", "meyer", "wagner", "becker", "rossi", "russo",
    "ferrari", "esposito", "novak", "horvat", "kowalski", "nowak", "jansen", "devries", "peeters",
    "larsen", "hansen", "nielsen", "virtanen", "korhonen", "silva", "santos", "tanaka", "suzuki",
    "kim", "lee", "park", "nguyen",
];
/// Big mail providers: most recipients are there (weights are Zipf-like).
#[rustfmt::skip]
const PROVIDERS: &[&str] = &[
    "gmail.example", "outlook.example", "yahoo.example", "icloud.example", "gmx.example",
    "web.example", "t-online.example", "orange.example", "free.example", "libero.example",
    "aol.example", "mail.example", "yandex.example", "seznam.example", "wp.example",
    "proton.example", "zoho.example", "comcast.example", "btinternet.example", "bluewin.example",
    "telenet.example", "ziggo.example", "laposte.example", "virgilio.example", "o2.example",
];
#[rustfmt::skip]
const SYLLABLES: &[&str] = &[
    "al", "ba", "cor", "den", "el", "fa", "gor", "han", "is", "jo", "ka", "lin", "mar", "nor",
    "ox", "pra", "qua", "ro", "sil", "tor", "ul", "vin", "wes", "xan", "yor", "zel", "tech",
    "soft", "net", "data", "med", "law", "bau", "haus", "shop", "mail", "info", "tra", "ver",
    "con", "pro", "gen", "lab", "works", "group", "trade", "print", "food", "tour", "bank",
];
const TLDS: &[&str] = &["example", "test", "example", "example", "test", "invalid"];

/// One SASL user of our server.
#[derive(Clone, Debug)]
pub struct User {
    pub login: String,
    pub sender: String,
    pub display: String,
    pub client_addr: String,
    pub client_name: String,
    pub helo: String,
    pub method: &'static str,
    pub mailer: &'static str,
}

/// An unauthenticated sender on our own networks (web servers, apps).
#[derive(Clone, Debug)]
pub struct Relay {
    pub senders: Vec<String>,
    pub client_addr: String,
    pub client_name: String,
    pub helo: String,
}

/// What a remote domain's MX servers do to our mail (the delay reason).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trouble {
    Greylist,
    RateLimit,
    ConnectTimeout,
    ConnectRefused,
    DnsFailure,
    MailboxFull,
    TlsMissing,
    LostConnection,
    Blocklisted,
}

/// A remote domain.
#[derive(Clone, Debug)]
pub struct Domain {
    pub name: String,
    pub mx: String,
    pub mx_addr: String,
    pub trouble: Trouble,
}

/// Everything shared by all messages of one generated queue.
#[derive(Clone, Debug)]
pub struct World {
    pub spammer: String,
    pub users: Vec<User>,
    pub user_weights: Weighted,
    pub relays: Vec<Relay>,
    pub domains: Vec<Domain>,
    /// Normal mail: mostly the big providers.
    pub normal_domains: Weighted,
    /// Spam: flatter, over bought address lists.
    pub spam_domains: Weighted,
}

/// How many remote domains there are (providers first, then small ones).
const DOMAIN_COUNT: usize = 4000;
/// How many SASL users send mail.
const USER_COUNT: usize = 40;

impl World {
    /// The cast for `seed`; `spammer` is the stolen SASL login.
    pub fn new(seed: u64, spammer: &str) -> World {
        let mut rng = Rng::new(seed, u64::MAX);
        let users: Vec<User> = (0..USER_COUNT).map(|i| user(&mut rng, i)).collect();
        let relays = relays();
        let domains: Vec<Domain> = (0..DOMAIN_COUNT)
            .map(|i| {
                let name = domain_name(&mut rng, i);
                domain(&mut rng, i, &name)
            })
            .collect();
        World {
            spammer: spammer.to_string(),
            users,
            user_weights: Weighted::zipf(USER_COUNT, 1.0),
            relays,
            normal_domains: Weighted::zipf(DOMAIN_COUNT, 1.1),
            spam_domains: Weighted::zipf(DOMAIN_COUNT, 0.6),
            domains,
        }
    }
}

fn user(rng: &mut Rng, i: usize) -> User {
    let first = FIRST[i % FIRST.len()];
    let last = *rng.pick(LAST);
    // Some sites log in with the bare name, some with the address.
    let login = if i % 3 == 0 {
        format!("{first}@{OUR_DOMAIN}")
    } else {
        first.to_string()
    };
    let host = rng.range(2, 254);
    let roaming = i % 4 == 0;
    let (client_addr, client_name) = if roaming {
        (
            format!("198.51.100.{host}"),
            format!("dyn-198-51-100-{host}.roaming.example"),
        )
    } else {
        (
            format!("192.0.2.{host}"),
            format!("{first}-pc.office.{OUR_DOMAIN}"),
        )
    };
    const MAILERS: &[&str] = &[
        "Mozilla Thunderbird",
        "Microsoft Outlook 16.0",
        "Apple Mail (2.3774.600.62)",
        "Roundcube Webmail/1.6.6",
        "K-9 Mail for Android",
    ];
    User {
        sender: format!("{first}@{OUR_DOMAIN}"),
        display: format!("{} {}", capitalize(first), capitalize(last)),
        helo: if roaming {
            format!("[{client_addr}]")
        } else {
            format!("{first}-pc")
        },
        client_addr,
        client_name,
        method: if i % 5 == 0 { "LOGIN" } else { "PLAIN" },
        mailer: MAILERS[i % MAILERS.len()],
        login,
    }
}

fn relays() -> Vec<Relay> {
    let relay = |n: u32, host: &str, senders: &[&str]| Relay {
        senders: senders.iter().map(|s| s.to_string()).collect(),
        client_addr: format!("192.0.2.{n}"),
        client_name: format!("{host}.{OUR_DOMAIN}"),
        helo: format!("{host}.{OUR_DOMAIN}"),
    };
    vec![
        relay(
            10,
            "web1",
            &[
                "www-data@web1.ourdomain.example",
                "noreply@shop.ourdomain.example",
            ],
        ),
        relay(
            11,
            "web2",
            &[
                "wordpress@blog.ourdomain.example",
                "www-data@web2.ourdomain.example",
            ],
        ),
        relay(
            12,
            "lists",
            &[
                "newsletter@news.ourdomain.example",
                "owner-staff@lists.ourdomain.example",
            ],
        ),
        relay(
            13,
            "monitor",
            &[
                "alerts@monitor.ourdomain.example",
                "nagios@monitor.ourdomain.example",
            ],
        ),
        relay(14, "scanner", &["scanner@office.ourdomain.example"]),
    ]
}

/// Domain `i`: the providers first, then made-up small-business names.
fn domain_name(rng: &mut Rng, i: usize) -> String {
    if let Some(p) = PROVIDERS.get(i) {
        return p.to_string();
    }
    let a = *rng.pick(SYLLABLES);
    let b = *rng.pick(SYLLABLES);
    let tld = *rng.pick(TLDS);
    // The index keeps names unique without a lookup table.
    format!("{a}{b}{i}.{tld}")
}

fn domain(rng: &mut Rng, i: usize, name: &str) -> Domain {
    // Providers rate-limit and greylist; small domains fail in every way.
    let trouble = if i < PROVIDERS.len() {
        *rng.pick(&[
            Trouble::RateLimit,
            Trouble::RateLimit,
            Trouble::Greylist,
            Trouble::MailboxFull,
            Trouble::Blocklisted,
        ])
    } else {
        *rng.pick(&[
            Trouble::Greylist,
            Trouble::Greylist,
            Trouble::ConnectTimeout,
            Trouble::ConnectTimeout,
            Trouble::ConnectRefused,
            Trouble::DnsFailure,
            Trouble::MailboxFull,
            Trouble::TlsMissing,
            Trouble::LostConnection,
            Trouble::RateLimit,
        ])
    };
    let net = *rng.pick(&["192.0.2", "198.51.100", "203.0.113"]);
    let base = name.split('.').next().unwrap_or(name);
    Domain {
        mx: if i < PROVIDERS.len() {
            format!("mx{}.{base}-smtp-in.{name}", rng.range(1, 4))
        } else {
            format!("mail.{name}")
        },
        mx_addr: format!("{net}.{}", rng.range(1, 254)),
        trouble,
        name: name.to_string(),
    }
}

/// A plausible local part: `first.last`, `firstNN`, `f.last`, …
pub fn local_part(rng: &mut Rng) -> String {
    let first = *rng.pick(FIRST);
    let last = *rng.pick(LAST);
    match rng.below(5) {
        0 => format!("{first}.{last}"),
        1 => format!("{first}{}", rng.range(1, 99)),
        2 => format!("{}.{last}", &first[..1]),
        3 => format!("{first}_{last}{}", rng.range(60, 99)),
        _ => first.to_string(),
    }
}

/// A display name for a local part.
pub fn display_name(rng: &mut Rng) -> String {
    format!(
        "{} {}",
        capitalize(rng.pick::<&str>(FIRST)),
        capitalize(rng.pick::<&str>(LAST))
    )
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_world_is_reproducible() {
        let a = World::new(5, "spammer");
        let b = World::new(5, "spammer");
        assert_eq!(a.domains[100].name, b.domains[100].name);
        assert_eq!(a.users[7].client_addr, b.users[7].client_addr);
        let names: std::collections::HashSet<&str> =
            a.domains.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names.len(), a.domains.len(), "domain names are unique");
    }
}
