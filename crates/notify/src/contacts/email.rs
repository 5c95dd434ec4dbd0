//! Email addresses: a syntax check strict enough to catch what people mistype
//! (spaces, missing dot, two @), and hints for misspelt big-provider domains.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An address that passed [`EmailAddress::parse`]: domain lowercased (and
/// punycoded if it was internationalised), local part as typed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NotAnEmail;

const LOCAL_SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~.";

impl EmailAddress {
    pub fn parse(input: &str) -> Option<EmailAddress> {
        Self::parse_inner(input).ok()
    }

    pub(crate) fn parse_inner(input: &str) -> Result<EmailAddress, NotAnEmail> {
        let s = input.trim();
        let s = s.strip_prefix("mailto:").unwrap_or(s);
        let s = s
            .strip_prefix('<')
            .and_then(|s| s.strip_suffix('>'))
            .unwrap_or(s);
        let (local, domain) = s.split_once('@').ok_or(NotAnEmail)?;
        if !valid_local(local) {
            return Err(NotAnEmail);
        }
        let domain = normalise_domain(domain).ok_or(NotAnEmail)?;
        Ok(EmailAddress(format!("{local}@{domain}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }

    pub fn local(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(l, _)| l)
    }

    /// For staff lists: "p•••@example.org".
    pub fn mask(&self) -> String {
        let first: String = self.local().chars().take(1).collect();
        format!("{first}•••@{}", self.domain())
    }

    /// The same address at the provider it most likely meant, when the domain
    /// looks like a typo of a big provider's ("gmial.com" → "gmail.com").
    pub fn typo_suggestion(&self) -> Option<EmailAddress> {
        let fixed = suggest_domain(self.domain())?;
        Some(EmailAddress(format!("{}@{fixed}", self.local())))
    }

    /// Case-insensitive identity, for deduplication (nearly every real mailbox
    /// ignores case in the local part too).
    pub(crate) fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

fn valid_local(local: &str) -> bool {
    !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || LOCAL_SPECIALS.contains(c)
                || (!c.is_ascii() && c.is_alphanumeric())
        })
}

/// Lowercase ASCII (punycode for IDNs); at least two labels; a TLD of letters.
fn normalise_domain(domain: &str) -> Option<String> {
    if domain.is_empty() || domain.chars().any(|c| c.is_whitespace() || c == '@') {
        return None;
    }
    let ascii = match url::Host::parse(domain).ok()? {
        url::Host::Domain(d) => d,
        // user@[192.0.2.1] is legal and never what a patient has.
        _ => return None,
    };
    if ascii.len() > 253 {
        return None;
    }
    let labels: Vec<&str> = ascii.split('.').collect();
    if labels.len() < 2 {
        return None;
    }
    for label in &labels {
        let ok = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !ok {
            return None;
        }
    }
    let tld = labels.last()?;
    let tld_ok =
        (tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic())) || tld.starts_with("xn--");
    tld_ok.then_some(ascii)
}

/// Big providers and the domains they really use. A domain whose first label
/// is close to a provider's name but which is not one of these is a typo.
const PROVIDERS: &[(&str, &[&str])] = &[
    ("gmail", &["com"]),
    ("googlemail", &["com"]),
    ("hotmail", &["com", "es", "co.uk", "fr", "it", "de"]),
    ("outlook", &["com", "es", "fr", "de", "it"]),
    (
        "yahoo",
        &["com", "es", "co.uk", "fr", "de", "it", "com.mx", "com.ar"],
    ),
    ("icloud", &["com"]),
    ("protonmail", &["com", "ch"]),
    ("telefonica", &["net"]),
    ("movistar", &["es"]),
];

/// Real domains near a provider's name: never "corrected".
const LOOKALIKES: &[&str] = &[
    "mail.com",
    "email.com",
    "ymail.com",
    "gmx.com",
    "gmx.es",
    "live.com",
    "msn.com",
    "me.com",
    "mac.com",
    "aol.com",
];

/// TLD typos common enough to suggest a fix for any domain.
const TLD_TYPOS: &[(&str, &str)] = &[
    ("con", "com"),
    ("cmo", "com"),
    ("ocm", "com"),
    ("comm", "com"),
    ("coom", "com"),
    ("cpm", "com"),
    ("vom", "com"),
    ("xom", "com"),
    ("cim", "com"),
    ("esp", "es"),
];

fn suggest_domain(domain: &str) -> Option<String> {
    if LOOKALIKES.contains(&domain) {
        return None;
    }
    let (name, tld) = domain.split_once('.')?;
    if let Some(fixed) = provider_fix(name, tld) {
        return (fixed != domain).then_some(fixed);
    }
    let (rest, last) = domain.rsplit_once('.')?;
    TLD_TYPOS
        .iter()
        .find(|(typo, _)| *typo == last)
        .map(|(_, good)| format!("{rest}.{good}"))
}

fn provider_fix(name: &str, tld: &str) -> Option<String> {
    let (provider, tlds) = PROVIDERS
        .iter()
        .filter_map(|&(p, tlds)| {
            let d = distance(name, p);
            let allowed = match p.len() {
                0..=4 => 0,
                5..=6 => 1,
                _ => 2,
            };
            (d <= allowed).then_some((d, p, tlds))
        })
        .min_by_key(|(d, _, _)| *d)
        .map(|(_, p, tlds)| (p, tlds))?;
    let tld = if tlds.contains(&tld) {
        tld
    } else {
        // gmail.co, hotmail.con → their .com; gmail.es, which Gmail doesn't use, too.
        tlds.iter()
            .find(|t| distance(tld, t) <= 1)
            .copied()
            .unwrap_or(tlds[0])
    };
    Some(format!("{provider}.{tld}"))
}

/// Damerau–Levenshtein (optimal string alignment): a swap of neighbours counts once.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<EmailAddress> for String {
    fn from(e: EmailAddress) -> String {
        e.0
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        EmailAddress::parse(&s).ok_or_else(|| "not an email address".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        EmailAddress::parse(s)
            .unwrap_or_else(|| panic!("{s:?} should parse"))
            .0
    }

    #[test]
    fn accepts_real_addresses() {
        assert_eq!(ok("patient@example.org"), "patient@example.org");
        assert_eq!(
            ok("  Ana.Garcia+rx@Example.ORG "),
            "Ana.Garcia+rx@example.org"
        );
        assert_eq!(ok("mailto:p@example.org"), "p@example.org");
        assert_eq!(ok("<p@example.org>"), "p@example.org");
        assert_eq!(
            ok("o'brien@mail.example.co.uk"),
            "o'brien@mail.example.co.uk"
        );
        assert_eq!(ok("josé@correo.es"), "josé@correo.es");
        assert_eq!(ok("p@münchen.de"), "p@xn--mnchen-3ya.de");
    }

    #[test]
    fn rejects_what_people_mistype() {
        for bad in [
            "",
            "patient",
            "patient@",
            "@example.org",
            "patient@example",
            "patient@@example.org",
            "pat ient@example.org",
            "patient@exa mple.org",
            "patient@example..org",
            "patient@.example.org",
            "patient@example.org.",
            "patient@-example.org",
            "patient@example.c",
            "patient@example.123",
            ".patient@example.org",
            "pat..ient@example.org",
            "patient@[192.0.2.1]",
            "patient@example_org.com",
            "paciente@ejemplo,org",
        ] {
            assert!(
                EmailAddress::parse(bad).is_none(),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn typo_hints() {
        let cases = [
            ("p@gmial.com", Some("p@gmail.com")),
            ("p@gmal.com", Some("p@gmail.com")),
            ("p@gmaill.com", Some("p@gmail.com")),
            ("p@gmail.co", Some("p@gmail.com")),
            ("p@gmail.con", Some("p@gmail.com")),
            ("p@gmail.es", Some("p@gmail.com")),
            ("p@hotmial.com", Some("p@hotmail.com")),
            ("p@hotmail.con", Some("p@hotmail.com")),
            ("p@hotmal.es", Some("p@hotmail.es")),
            ("p@yaho.com", Some("p@yahoo.com")),
            ("p@yahoo.ess", Some("p@yahoo.es")),
            ("p@outlok.com", Some("p@outlook.com")),
            ("p@outlook.cmo", Some("p@outlook.com")),
            ("p@iclod.com", Some("p@icloud.com")),
            ("p@example.con", Some("p@example.com")),
            // Real domains stay as they are.
            ("p@gmail.com", None),
            ("p@hotmail.es", None),
            ("p@yahoo.es", None),
            ("p@mail.com", None),
            ("p@gmx.es", None),
            ("p@live.com", None),
            ("p@example.org", None),
            ("p@clinica.es", None),
            ("p@hospital.com", None),
        ];
        for (input, want) in cases {
            let got = EmailAddress::parse(input).unwrap().typo_suggestion();
            assert_eq!(got.as_ref().map(|e| e.as_str()), want, "{input}");
        }
    }

    #[test]
    fn mask_shows_first_letter_and_domain() {
        assert_eq!(
            EmailAddress::parse("patient@example.org").unwrap().mask(),
            "p•••@example.org"
        );
        assert_eq!(
            EmailAddress::parse("ñu@example.org").unwrap().mask(),
            "ñ•••@example.org"
        );
    }
}
