//! The contact model: what the sender's own sent mail says about who they write to.
//!
//! Built once from the history and the address book (the add-ins keep it between checks and
//! add each sent message with [`ContactModel::add_sent`]). It answers: how often and how
//! recently was this address or organisation written to, which organisations were written
//! to together, which earlier message had this group of recipients, and which known
//! addresses look like an unknown one.
//!
//! Recency is a sequence number (higher is newer) plus the `sent_at` time when the history
//! has one; the core has no clock, so "recent" is always relative to the sender's own mail.

use std::collections::{HashMap, HashSet};

use crate::address::{
    is_same_or_subdomain, normalise_domain, normalise_name, org_label, parse_mailbox,
    parse_recipient, registrable_domain, skeleton, Address,
};
use crate::draft::{Contact, Recipient, SentMessage};
use crate::org_names::{display_name_names, fold, label_names};
use crate::policy::Policy;

/// Built-in personal (freemail and consumer ISP) mail domains, by registrable domain,
/// separated by spaces (smaller in the wasm module than a slice).
pub const FREEMAIL_DOMAINS: &str =
    "gmail.com googlemail.com outlook.com outlook.nl hotmail.com hotmail.nl hotmail.co.uk \
    hotmail.fr hotmail.de hotmail.be live.com live.nl live.be live.co.uk msn.com yahoo.com \
    yahoo.co.uk yahoo.fr yahoo.de ymail.com rocketmail.com icloud.com me.com mac.com \
    aol.com gmx.com gmx.net gmx.de gmx.at web.de t-online.de freenet.de posteo.de \
    mailbox.org arcor.de online.de email.de mail.de vodafonemail.de gmx.ch bluewin.ch \
    aon.at proton.me protonmail.com pm.me tutanota.com tuta.io fastmail.com zoho.com \
    mail.com yandex.com yandex.ru hey.com ziggo.nl kpnmail.nl kpnplanet.nl planet.nl \
    hetnet.nl home.nl xs4all.nl zeelandnet.nl chello.nl upcmail.nl quicknet.nl casema.nl \
    telfort.nl online.nl tele2.nl freeler.nl caiway.nl skynet.be telenet.be proximus.be \
    scarlet.be voo.be orange.fr free.fr laposte.net wanadoo.fr sfr.fr neuf.fr bbox.fr \
    aliceadsl.fr club-internet.fr numericable.fr libero.it virgilio.it tiscali.it alice.it \
    tin.it terra.es telefonica.net btinternet.com sky.com talktalk.net virginmedia.com \
    ntlworld.com blueyonder.co.uk comcast.net verizon.net att.net sbcglobal.net cox.net \
    charter.net earthlink.net bellsouth.net optonline.net qq.com 163.com naver.com";

/// Providers whose country domains are all theirs: outlook.be, hotmail.de, yahoo.co.uk,
/// gmx.at and live.fr are the same mail service as outlook.com, hotmail.com, ...
pub const PROVIDER_BRANDS: &[&str] = &["outlook", "hotmail", "live", "yahoo", "gmx"];

/// Whether a registrable domain is a [`PROVIDER_BRANDS`] name under a country-code suffix
/// (`be`, `co.uk`, `com.au`). Only country codes: `outlook.xyz` is anyone's.
pub fn is_provider_country_domain(registrable: &str, suffix: &str) -> bool {
    let label = org_label(registrable, suffix);
    let country_code = suffix
        .rsplit('.')
        .next()
        .is_some_and(|tld| tld.len() == 2 && tld.bytes().all(|b| b.is_ascii_lowercase()));
    label != registrable && country_code && PROVIDER_BRANDS.contains(&label)
}

/// How a recipient relates to the sender's tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relation {
    /// The tenant's own domains (and the sender's own organisation).
    Internal,
    /// A partner domain in the policy.
    Trusted,
    External,
}

/// The policy's view of domains: internal, trusted, blocked, freemail.
#[derive(Debug, Clone, Default)]
pub struct Domains {
    internal: Vec<String>,
    trusted: Vec<String>,
    blocked: Vec<String>,
    freemail: HashSet<String>,
}

impl Domains {
    pub fn from_policy(policy: &Policy) -> Self {
        let normalise_all = |domains: &[String]| -> Vec<String> {
            domains.iter().filter_map(|d| normalise_domain(d)).collect()
        };
        let mut freemail: HashSet<String> =
            FREEMAIL_DOMAINS.split(' ').map(str::to_string).collect();
        freemail.extend(normalise_all(&policy.freemail_domains));
        Self {
            internal: normalise_all(&policy.internal_domains),
            trusted: normalise_all(&policy.trusted_domains),
            blocked: normalise_all(&policy.blocked_domains),
            freemail,
        }
    }

    /// Adds the sender's own organisation to the internal domains (not for freemail senders:
    /// every gmail.com user is not a colleague).
    pub fn with_sender(&self, sender: Option<&Address>) -> Self {
        let mut domains = self.clone();
        if let Some(sender) = sender {
            if !domains.is_freemail(sender) && !domains.internal.contains(&sender.registrable) {
                domains.internal.push(sender.registrable.clone());
            }
        }
        domains
    }

    /// A personal mail provider: on the built-in or the policy's list, or a country domain
    /// of one of the [`PROVIDER_BRANDS`].
    pub fn is_freemail(&self, address: &Address) -> bool {
        self.freemail.contains(&address.registrable)
            || is_provider_country_domain(&address.registrable, &address.suffix)
    }

    pub fn relation(&self, address: &Address) -> Relation {
        let listed = |list: &[String]| {
            list.iter()
                .any(|d| is_same_or_subdomain(&address.domain, d))
        };
        if listed(&self.internal) {
            Relation::Internal
        } else if listed(&self.trusted) {
            Relation::Trusted
        } else {
            Relation::External
        }
    }

    /// The blocked policy domain this address falls under, if any.
    pub fn blocked_by(&self, address: &Address) -> Option<&str> {
        self.blocked
            .iter()
            .find(|d| is_same_or_subdomain(&address.domain, d))
            .map(String::as_str)
    }

    pub fn internal(&self) -> &[String] {
        &self.internal
    }

    pub fn trusted(&self) -> &[String] {
        &self.trusted
    }

    pub fn freemail(&self) -> impl Iterator<Item = &str> {
        self.freemail.iter().map(String::as_str)
    }

    /// The organisation an address belongs to: its registrable domain, except at personal
    /// mail providers, where every address is its own organisation.
    pub fn org_key(&self, address: &Address) -> String {
        if self.is_freemail(address) {
            address.canonical()
        } else {
            address.registrable.clone()
        }
    }
}

/// What the model knows of one address.
#[derive(Debug, Clone)]
pub struct AddressStats {
    pub address: Address,
    /// Sent messages that went to this address.
    pub messages: u32,
    /// Sequence number of the newest such message (higher is newer).
    pub last_seq: u32,
    /// Unix time of the newest such message, when the history carries `sent_at`.
    pub last_sent_at: Option<i64>,
    pub in_address_book: bool,
    /// Display names seen for this address (normalised).
    pub names: Vec<String>,
}

/// What the model knows of one organisation.
#[derive(Debug, Clone, Default)]
pub struct OrgStats {
    pub messages: u32,
    pub last_seq: u32,
    /// Sequence number of the newest message that had the organisation in To/Cc.
    pub last_visible_seq: u32,
    /// Canonical addresses of this organisation seen in history or the address book.
    pub addresses: Vec<String>,
}

/// A domain the sender has reason to know, prepared for lookalike comparisons.
#[derive(Debug, Clone)]
pub struct KnownDomain {
    /// ASCII registrable domain.
    pub registrable: String,
    pub suffix: String,
    /// Registrable label in Unicode (`klantbedrijf`).
    pub label: String,
    /// The label with hyphens removed, to catch a missing or extra hyphen.
    pub label_plain: String,
    /// Confusable skeleton of the registrable domain in Unicode.
    pub skeleton: String,
    pub kind: KnownKind,
}

/// Where an organisation name comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameOrigin {
    /// The whole registrable label (`noordzorgggz`).
    Label,
    /// A part of a hyphenated label (`noordzorg`): it names the organisation only when no
    /// other known domain has it, and a common surname only when a person there carries it.
    LabelPart,
    /// The display name of one of the organisation's own mailboxes.
    DisplayName,
}

/// Why a domain is known, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum KnownKind {
    Internal,
    Trusted,
    Correspondent,
    Contact,
    /// A personal mail provider from the built-in list: compared for typos and homoglyphs
    /// only, since the same brand under another top-level domain is often genuine.
    Provider,
}

/// The contact model. See the module documentation.
#[derive(Debug, Clone, Default)]
pub struct ContactModel {
    domains: Domains,
    addresses: HashMap<String, AddressStats>,
    orgs: HashMap<String, OrgStats>,
    org_ids: HashMap<String, u32>,
    /// Messages in which two organisations (by id, smaller first) were both visible
    /// recipients (To/Cc): Bcc recipients never saw each other, so a Bcc mailing links no one.
    together: HashMap<(u32, u32), u32>,
    /// Normalised display name -> canonical addresses that carry it.
    names: HashMap<String, Vec<String>>,

    /// Organisation names (folded, see [`crate::org_names`]) -> the registrable domains they
    /// name, one map per [`NameOrigin`], so a subject is matched by looking up its words
    /// rather than by comparing it with every known domain.
    org_names_by_label: HashMap<String, Vec<String>>,
    org_names_by_label_part: HashMap<String, Vec<String>>,
    org_names_by_display_name: HashMap<String, Vec<String>>,
    /// Folded mailbox (local part without tag and separators) -> canonical addresses.
    mailboxes: HashMap<String, Vec<String>>,
    /// Registrable domain -> canonical addresses.
    by_registrable: HashMap<String, Vec<String>>,
    /// Canonical address -> the sequence numbers of the messages that had it in To/Cc.
    visible_messages: HashMap<String, Vec<u32>>,
    known_domains: Vec<KnownDomain>,
    known_index: HashMap<String, usize>,
    /// Sequence number of the newest message; also the number of messages.
    seq: u32,
    /// History entries that could not be used (unparsable recipients are skipped: real Sent
    /// folders contain `undisclosed-recipients:;` and worse).
    pub skipped_recipients: u32,
}

impl ContactModel {
    /// Builds the model from history (newest first, as check-v1 gives it) and the address book.
    pub fn build(policy: &Policy, history: &[SentMessage], contacts: &[Contact]) -> Self {
        let mut model = ContactModel {
            domains: Domains::from_policy(policy),
            ..ContactModel::default()
        };
        let mut parse_cache: HashMap<&Recipient, Option<Address>> = HashMap::new();
        for message in history.iter().rev() {
            let mut recipients = Vec::new();
            for (recipient, visible) in with_visibility(message) {
                let parsed = parse_cache
                    .entry(recipient)
                    .or_insert_with(|| parse_recipient(recipient).ok());
                match parsed {
                    Some(address) => recipients.push((address.clone(), visible)),
                    None => model.skipped_recipients += 1,
                }
            }
            let sent_at = message.sent_at.as_deref().and_then(parse_rfc3339);
            model.record(&recipients, sent_at);
        }
        for contact in contacts {
            match parse_mailbox(&contact.address) {
                Ok(mut address) => {
                    if let Some(name) = contact.name.as_deref().filter(|n| !n.trim().is_empty()) {
                        address.display_name = Some(name.to_string());
                    }
                    model.add_contact(address);
                }
                Err(_) => model.skipped_recipients += 1,
            }
        }
        model.add_policy_domains();
        model
    }

    /// Adds one sent message, newer than everything before it.
    pub fn add_sent(&mut self, message: &SentMessage) {
        let recipients: Vec<(Address, bool)> = with_visibility(message)
            .filter_map(|(r, visible)| Some((parse_recipient(r).ok()?, visible)))
            .collect();
        let sent_at = message.sent_at.as_deref().and_then(parse_rfc3339);
        self.record(&recipients, sent_at);
    }

    /// Records one sent message: `(address, visible)`, visible meaning To/Cc.
    fn record(&mut self, recipients: &[(Address, bool)], sent_at: Option<i64>) {
        self.seq += 1;
        let seq = self.seq;
        let mut visible_orgs = Vec::new();
        let mut seen = HashSet::new();
        // An address in both To and Bcc was visible: take the visible entries first.
        let ordered = recipients
            .iter()
            .filter(|(_, visible)| *visible)
            .chain(recipients.iter().filter(|(_, visible)| !*visible));
        for (address, visible) in ordered {
            let canonical = address.canonical();
            if !seen.insert(canonical.clone()) {
                continue;
            }
            let stats = self.address_stats(address);
            stats.messages += 1;
            stats.last_seq = seq;
            if sent_at.is_some() {
                stats.last_sent_at = stats.last_sent_at.max(sent_at);
            }
            if *visible {
                self.visible_messages
                    .entry(canonical)
                    .or_default()
                    .push(seq);
            }
            let org = self.domains.org_key(address);
            let org_stats = self.orgs.entry(org.clone()).or_default();
            if org_stats.last_seq != seq {
                org_stats.messages += 1;
                org_stats.last_seq = seq;
            }
            if *visible && org_stats.last_visible_seq != seq {
                org_stats.last_visible_seq = seq;
                let id = self.org_id(&org);
                visible_orgs.push(id);
            }
            self.add_known_domain(address, KnownKind::Correspondent);
        }
        visible_orgs.sort_unstable();
        for (i, &a) in visible_orgs.iter().enumerate() {
            for &b in &visible_orgs[i + 1..] {
                *self.together.entry((a, b)).or_default() += 1;
            }
        }
    }

    fn add_contact(&mut self, address: Address) {
        let stats = self.address_stats(&address);
        stats.in_address_book = true;
        self.orgs.entry(self.domains.org_key(&address)).or_default();
        self.add_known_domain(&address, KnownKind::Contact);
    }

    /// The stats entry of an address, created (and indexed) on first sight.
    fn address_stats(&mut self, address: &Address) -> &mut AddressStats {
        let canonical = address.canonical();
        if !self.addresses.contains_key(&canonical) {
            self.mailboxes
                .entry(fold_mailbox(&address.mailbox))
                .or_default()
                .push(canonical.clone());
            self.by_registrable
                .entry(address.registrable.clone())
                .or_default()
                .push(canonical.clone());
            let org = self.domains.org_key(address);
            self.orgs
                .entry(org)
                .or_default()
                .addresses
                .push(canonical.clone());
        }
        let names = &mut self.names;
        let by_display_name = &mut self.org_names_by_display_name;
        let domains = &self.domains;
        let stats = self
            .addresses
            .entry(canonical.clone())
            .or_insert_with(|| AddressStats {
                address: address.clone(),
                messages: 0,
                last_seq: 0,
                last_sent_at: None,
                in_address_book: false,
                names: Vec::new(),
            });
        if let Some(name) = address.display_name.as_deref().map(normalise_name) {
            if !name.is_empty() && !stats.names.contains(&name) {
                stats.names.push(name.clone());
                names.entry(name).or_default().push(canonical);
                let display = address.display_name.as_deref().unwrap_or_default();
                let org_names = display_name_names(&address.mailbox, display);
                if !org_names.is_empty() && !domains.is_freemail(address) {
                    for org_name in org_names {
                        let named = by_display_name.entry(org_name).or_default();
                        if !named.contains(&address.registrable) {
                            named.push(address.registrable.clone());
                        }
                    }
                }
            }
        }
        stats
    }

    fn org_id(&mut self, org: &str) -> u32 {
        let next = self.org_ids.len() as u32;
        *self.org_ids.entry(org.to_string()).or_insert(next)
    }

    fn add_policy_domains(&mut self) {
        let domains = self.domains.clone();
        for domain in domains.internal() {
            self.add_known_registrable(domain, KnownKind::Internal);
        }
        for domain in domains.trusted() {
            self.add_known_registrable(domain, KnownKind::Trusted);
        }
        for domain in domains.freemail() {
            self.add_known_registrable(domain, KnownKind::Provider);
        }
    }

    /// Adds the sender's own organisation as an internal known domain.
    pub fn add_internal_domain(&mut self, registrable: &str) {
        self.add_known_registrable(registrable, KnownKind::Internal);
    }

    fn add_known_domain(&mut self, address: &Address, kind: KnownKind) {
        if !self.known_index.contains_key(&address.registrable) || kind < KnownKind::Contact {
            self.insert_known(&address.registrable, &address.suffix, kind);
        }
    }

    fn add_known_registrable(&mut self, domain: &str, kind: KnownKind) {
        let (registrable, suffix) = registrable_domain(domain);
        self.insert_known(&registrable, &suffix, kind);
    }

    fn insert_known(&mut self, registrable: &str, suffix: &str, kind: KnownKind) {
        if let Some(&index) = self.known_index.get(registrable) {
            let known = &mut self.known_domains[index];
            known.kind = known.kind.min(kind);
            return;
        }
        let (unicode, _) = idna::domain_to_unicode(registrable);
        let (suffix_unicode, _) = idna::domain_to_unicode(suffix);
        let label = org_label(&unicode, &suffix_unicode).to_string();
        let provider = kind == KnownKind::Provider
            || self.domains.freemail.contains(registrable)
            || is_provider_country_domain(registrable, suffix);
        let names = if provider {
            Vec::new()
        } else {
            label_names(&label)
        };
        let whole = fold(&label);
        for name in names {
            let index = if name == whole {
                &mut self.org_names_by_label
            } else {
                &mut self.org_names_by_label_part
            };
            index.entry(name).or_default().push(registrable.to_string());
        }
        let label_plain = label.replace('-', "");
        self.known_index
            .insert(registrable.to_string(), self.known_domains.len());
        self.known_domains.push(KnownDomain {
            registrable: registrable.to_string(),
            suffix: suffix.to_string(),
            label_plain,
            label,
            skeleton: skeleton(&unicode),
            kind,
        });
    }

    pub fn domains(&self) -> &Domains {
        &self.domains
    }

    /// Number of history messages the model was built from (plus those added since).
    pub fn message_count(&self) -> u32 {
        self.seq
    }

    pub fn address(&self, address: &Address) -> Option<&AddressStats> {
        self.addresses.get(&address.canonical())
    }

    pub fn address_by_canonical(&self, canonical: &str) -> Option<&AddressStats> {
        self.addresses.get(canonical)
    }

    pub fn org(&self, org_key: &str) -> Option<&OrgStats> {
        self.orgs.get(org_key)
    }

    /// Messages in which both organisations were visible (To/Cc) recipients.
    pub fn together(&self, a: &str, b: &str) -> u32 {
        match (self.org_ids.get(a), self.org_ids.get(b)) {
            (Some(&x), Some(&y)) if x != y => self
                .together
                .get(&(x.min(y), x.max(y)))
                .copied()
                .unwrap_or(0),
            _ => 0,
        }
    }

    /// The registrable domains a folded organisation name names, from the given origin.
    pub fn organisations_named(&self, name: &str, origin: NameOrigin) -> &[String] {
        let index = match origin {
            NameOrigin::Label => &self.org_names_by_label,
            NameOrigin::LabelPart => &self.org_names_by_label_part,
            NameOrigin::DisplayName => &self.org_names_by_display_name,
        };
        index.get(name).map(Vec::as_slice).unwrap_or_default()
    }

    /// Whether more than one known domain has this name part (`noord` of noord-bouw.nl and
    /// noord-zorg.nl): then it names none of them.
    pub fn is_shared_name_part(&self, name: &str) -> bool {
        self.organisations_named(name, NameOrigin::LabelPart).len() > 1
    }

    /// A known domain and its position in [`Self::known_domains`] (older first).
    pub fn known_domain_at(&self, registrable: &str) -> Option<(usize, &KnownDomain)> {
        let &i = self.known_index.get(registrable)?;
        Some((i, &self.known_domains[i]))
    }

    /// Canonical addresses whose display name normalises to `name`.
    pub fn addresses_named(&self, normalised_name: &str) -> &[String] {
        self.names
            .get(normalised_name)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Canonical addresses with this mailbox (local part) at any domain, compared without
    /// dots, hyphens and underscores.
    pub fn addresses_with_mailbox(&self, mailbox: &str) -> &[String] {
        self.mailboxes
            .get(&fold_mailbox(mailbox))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Canonical addresses at this registrable domain.
    pub fn addresses_at(&self, registrable: &str) -> &[String] {
        self.by_registrable
            .get(registrable)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    pub fn known_domains(&self) -> &[KnownDomain] {
        &self.known_domains
    }

    pub fn known_domain(&self, registrable: &str) -> Option<&KnownDomain> {
        self.known_index
            .get(registrable)
            .map(|&i| &self.known_domains[i])
    }

    /// The largest number of the given addresses that one earlier message had visibly
    /// together in To/Cc.
    pub fn largest_shared_message(&self, canonicals: &[String]) -> usize {
        let mut counts: HashMap<u32, usize> = HashMap::new();
        for canonical in canonicals {
            for &seq in self.visible_messages.get(canonical).into_iter().flatten() {
                *counts.entry(seq).or_default() += 1;
            }
        }
        counts.into_values().max().unwrap_or(0)
    }
}

/// A sent message's recipients, each with whether the others could see it (To/Cc).
fn with_visibility(message: &SentMessage) -> impl Iterator<Item = (&Recipient, bool)> {
    let visible = message.to.iter().chain(&message.cc).map(|r| (r, true));
    visible.chain(message.bcc.iter().map(|r| (r, false)))
}

/// `jan.jansen`, `jan_jansen` and `janjansen` are the same name in a local part.
pub fn fold_mailbox(mailbox: &str) -> String {
    mailbox
        .chars()
        .filter(|c| !matches!(c, '.' | '-' | '_'))
        .collect()
}

/// Parses an RFC 3339 time (`2026-11-30T10:00:00+01:00`, fractions allowed) to Unix
/// seconds; anything else is ignored (recency falls back to the order of the history).
///
/// Hand-written rather than the `time` crate, which costs 6 KB gzipped in the send-time
/// WebAssembly module for this one call; `tests/props.rs` checks it against `time`.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(range)?;
        part.iter().try_fold(0i64, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + i64::from(d - b'0'))
        })
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&month)
        || day < 1
        || day > month_days[month as usize - 1]
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &b[19..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let len = fraction.iter().take_while(|d| d.is_ascii_digit()).count();
        if len == 0 {
            return None;
        }
        rest = &fraction[len..];
    }
    let offset = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let hh = std::str::from_utf8(&[*h1, *h2]).ok()?.parse::<i64>().ok()?;
            let mm = std::str::from_utf8(&[*m1, *m2]).ok()?.parse::<i64>().ok()?;
            if hh > 23 || mm > 59 {
                return None;
            }
            (hh * 60 + mm) * 60 * if *sign == b'-' { -1 } else { 1 }
        }
        _ => return None,
    };
    // Days from civil (Howard Hinnant's algorithm), 1970-01-01 is day 0.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    let unix = days * 86_400 + hour * 3600 + minute * 60 + second.min(59) - offset;
    // A leap second ends a month, in UTC (as the `time` crate accepts it): read as :59.
    let next = unix + 1;
    let ends_a_month = next.rem_euclid(86_400) == 0 && day_of_month(next.div_euclid(86_400)) == 1;
    (second != 60 || ends_a_month).then_some(unix)
}

/// The day of the month of a day number (1970-01-01 is 0), Howard Hinnant's civil_from_days.
fn day_of_month(days: i64) -> i64 {
    let z = days + 719_468;
    let day_of_era = z - z.div_euclid(146_097) * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    day_of_year - (153 * month_index + 2) / 5 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(to: &[&str], cc: &[&str]) -> SentMessage {
        SentMessage {
            to: to.iter().map(|&r| r.into()).collect(),
            cc: cc.iter().map(|&r| r.into()).collect(),
            ..SentMessage::default()
        }
    }

    fn addr(text: &str) -> Address {
        parse_mailbox(text).unwrap()
    }

    #[test]
    fn counts_recency_and_togetherness() {
        let history = vec![
            // newest first
            sent(&["jan@klant.nl", "piet@leverancier.nl"], &[]),
            sent(&["Jan <JAN@klant.nl>"], &["boss@intern.nl"]),
            sent(&["jan+old@mail.klant.nl"], &[]),
        ];
        let model = ContactModel::build(&Policy::default(), &history, &[]);
        assert_eq!(model.message_count(), 3);
        let jan = model.address(&addr("jan@klant.nl")).unwrap();
        assert_eq!(jan.messages, 2);
        assert_eq!(
            jan.last_seq, 3,
            "the newest message has the highest sequence"
        );
        assert_eq!(jan.names, vec!["jan".to_string()]);
        let org = model.org("klant.nl").unwrap();
        assert_eq!(
            org.messages, 3,
            "subdomain mail counts for the organisation"
        );
        assert_eq!(model.together("klant.nl", "leverancier.nl"), 1);
        assert_eq!(model.together("leverancier.nl", "klant.nl"), 1);
        assert_eq!(model.together("klant.nl", "intern.nl"), 1);
        assert_eq!(model.together("leverancier.nl", "intern.nl"), 0);
        assert_eq!(model.together("klant.nl", "unknown.nl"), 0);
    }

    #[test]
    fn freemail_addresses_are_their_own_organisation() {
        let history = vec![sent(&["a@gmail.com", "b@gmail.com"], &[])];
        let model = ContactModel::build(&Policy::default(), &history, &[]);
        assert_eq!(model.together("a@gmail.com", "b@gmail.com"), 1);
        assert!(model.org("gmail.com").is_none());
    }

    #[test]
    fn address_book_and_names() {
        let contacts = vec![Contact {
            address: "j.jansen@klant.nl".into(),
            name: Some("Jansen, Jan".into()),
        }];
        let model = ContactModel::build(&Policy::default(), &[], &contacts);
        let stats = model.address(&addr("j.jansen@klant.nl")).unwrap();
        assert!(stats.in_address_book);
        assert_eq!(stats.messages, 0);
        assert_eq!(model.addresses_named("jan jansen"), ["j.jansen@klant.nl"]);
        assert!(model.known_domain("klant.nl").is_some());
    }

    #[test]
    fn unparsable_history_recipients_are_skipped() {
        let history = vec![sent(&["undisclosed-recipients:;", "jan@klant.nl"], &[])];
        let model = ContactModel::build(&Policy::default(), &history, &[]);
        assert_eq!(model.skipped_recipients, 1);
        assert!(model.address(&addr("jan@klant.nl")).is_some());
    }

    #[test]
    fn add_sent_updates_without_rebuilding() {
        let mut model = ContactModel::build(&Policy::default(), &[], &[]);
        model.add_sent(&sent(&["jan@klant.nl"], &[]));
        model.add_sent(&sent(&["jan@klant.nl"], &[]));
        assert_eq!(model.address(&addr("jan@klant.nl")).unwrap().messages, 2);
    }

    #[test]
    fn shared_message_groups() {
        let history = vec![
            sent(&["a@x.nl", "b@y.nl", "c@z.nl"], &[]),
            sent(&["a@x.nl"], &[]),
        ];
        let model = ContactModel::build(&Policy::default(), &history, &[]);
        let group: Vec<String> = ["a@x.nl", "b@y.nl", "c@z.nl", "d@q.nl"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(model.largest_shared_message(&group), 3);
    }

    #[test]
    fn a_bcc_mailing_links_no_one() {
        let mut newsletter = sent(&["info@kanzlei-weber.de"], &[]);
        newsletter.bcc = [
            "a@mandant-eins.de",
            "b@mandant-zwei.de",
            "c@mandant-drei.de",
        ]
        .iter()
        .map(|&r| r.into())
        .collect();
        let model = ContactModel::build(&Policy::default(), &[newsletter], &[]);
        assert_eq!(model.together("mandant-eins.de", "mandant-zwei.de"), 0);
        assert_eq!(model.together("mandant-eins.de", "kanzlei-weber.de"), 0);
        let group: Vec<String> = [
            "a@mandant-eins.de",
            "b@mandant-zwei.de",
            "c@mandant-drei.de",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(model.largest_shared_message(&group), 0);
        // They did get the mail: each is a known address of a known organisation.
        assert_eq!(
            model.address(&addr("a@mandant-eins.de")).unwrap().messages,
            1
        );
        assert_eq!(model.org("mandant-zwei.de").unwrap().messages, 1);
    }

    #[test]
    fn to_and_cc_recipients_are_together_even_with_bcc_alongside() {
        let mut message = sent(&["a@mandant-eins.de"], &["b@mandant-zwei.de"]);
        message.bcc = vec!["c@mandant-drei.de".into(), "a@mandant-eins.de".into()];
        let mut model = ContactModel::build(&Policy::default(), &[], &[]);
        model.add_sent(&message);
        assert_eq!(model.together("mandant-eins.de", "mandant-zwei.de"), 1);
        assert_eq!(model.together("mandant-eins.de", "mandant-drei.de"), 0);
        let group: Vec<String> = [
            "a@mandant-eins.de",
            "b@mandant-zwei.de",
            "c@mandant-drei.de",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            model.largest_shared_message(&group),
            2,
            "a, also in Bcc, was still visible in To"
        );
    }

    #[test]
    fn a_leap_second_only_ends_a_month_in_utc() {
        assert_eq!(
            parse_rfc3339("2016-12-31T23:59:60Z"),
            parse_rfc3339("2016-12-31T23:59:59Z")
        );
        assert!(parse_rfc3339("2017-01-01T00:59:60+01:00").is_some());
        assert_eq!(parse_rfc3339("0000-01-01 00:00:60z"), None);
        assert_eq!(parse_rfc3339("2016-12-30T23:59:60Z"), None);
        assert_eq!(day_of_month(0), 1);
        assert_eq!(day_of_month(-1), 31);
        assert_eq!(day_of_month(59), 1, "1970-03-01");
    }

    #[test]
    fn sent_at_recency() {
        let mut m = sent(&["jan@klant.nl"], &[]);
        m.sent_at = Some("2026-11-30T10:00:00+01:00".into());
        let model = ContactModel::build(&Policy::default(), &[m], &[]);
        assert_eq!(
            model.address(&addr("jan@klant.nl")).unwrap().last_sent_at,
            Some(1_796_029_200)
        );
    }
}
