//! `mixed-organizations`: recipients from two or more external organisations that this
//! sender has never written to together. The classic slip: the mail about client A also goes
//! to client B because autocomplete offered the wrong Jan.
//!
//! Organisations are linked when an earlier message went to both; a connected group is
//! plausible (a project with a client and its lawyer). When the recipients fall apart into
//! separate groups, the group the sender writes to most is taken as the intended one and the
//! others are named.

use std::collections::BTreeMap;

use super::{Rule, RuleFinding};
use crate::check::{Ctx, Rcpt};
use crate::i18n::{join_list, Lang};
use crate::verdict::Severity;

pub const RULE: Rule = Rule {
    id: "mixed-organizations",
    default_severity: Severity::Warn,
    run,
};

struct Org<'r, 'a> {
    key: &'r str,
    recipients: Vec<&'r Rcpt<'a>>,
    messages: u32,
    first_position: usize,
}

fn run(ctx: &Ctx<'_>) -> Vec<RuleFinding> {
    if !ctx.has_history() {
        return Vec::new();
    }
    // External organisations in order of first appearance.
    let mut by_key: BTreeMap<&str, usize> = BTreeMap::new();
    let mut orgs: Vec<Org> = Vec::new();
    for (position, rcpt) in ctx.external().enumerate() {
        let index = *by_key.entry(rcpt.org.as_str()).or_insert_with(|| {
            orgs.push(Org {
                key: rcpt.org.as_str(),
                recipients: Vec::new(),
                messages: rcpt.org_stats.map_or(0, |o| o.messages),
                first_position: position,
            });
            orgs.len() - 1
        });
        orgs[index].recipients.push(rcpt);
    }
    if orgs.len() < 2 || orgs.len() > ctx.policy.thresholds.mixed_organizations_max {
        return Vec::new();
    }
    let groups = connected_groups(ctx, &orgs);
    if groups.len() < 2 {
        return Vec::new();
    }
    // The intended group: most mail written to it, then the earliest in the draft.
    let main = groups
        .iter()
        .enumerate()
        .max_by_key(|(_, group)| {
            let messages: u32 = group.iter().map(|&i| orgs[i].messages).sum();
            let first = group
                .iter()
                .map(|&i| orgs[i].first_position)
                .min()
                .unwrap_or(0);
            (messages, std::cmp::Reverse(first))
        })
        .map(|(i, _)| i)
        .unwrap_or(0);
    let name = |i: usize| display_org(orgs[i].key);
    let main_names: Vec<String> = groups[main].iter().map(|&i| name(i)).collect();
    let mut outliers: Vec<usize> = groups
        .iter()
        .enumerate()
        .filter(|(g, _)| *g != main)
        .flat_map(|(_, group)| group.iter().copied())
        .collect();
    outliers.sort_unstable();
    let outlier_names: Vec<String> = outliers.iter().map(|&i| name(i)).collect();
    let recipients: Vec<String> = outliers
        .iter()
        .flat_map(|&i| orgs[i].recipients.iter().map(|r| r.written()))
        .collect();
    let (outlier_list, main_list) = (
        join_list(ctx.lang, &outlier_names),
        join_list(ctx.lang, &main_names),
    );
    let message = match ctx.lang {
        Lang::En => format!(
            "This mail goes to {main_list} and also to {outlier_list}. You have never written to them together: is everyone meant to get this?"
        ),
        Lang::Nl => format!(
            "Deze mail gaat naar {main_list} en ook naar {outlier_list}. U hebt hen nooit samen gemaild: is iedereen de bedoelde ontvanger?"
        ),
    };
    vec![RuleFinding::warning(recipients, message)]
}

/// Groups of organisations connected by earlier messages that went to both.
fn connected_groups(ctx: &Ctx<'_>, orgs: &[Org]) -> Vec<Vec<usize>> {
    let mut group_of: Vec<usize> = (0..orgs.len()).collect();
    fn root(group_of: &mut [usize], mut i: usize) -> usize {
        while group_of[i] != i {
            group_of[i] = group_of[group_of[i]];
            i = group_of[i];
        }
        i
    }
    for a in 0..orgs.len() {
        for b in a + 1..orgs.len() {
            if ctx.model.together(orgs[a].key, orgs[b].key) > 0 {
                let (ra, rb) = (root(&mut group_of, a), root(&mut group_of, b));
                group_of[ra.max(rb)] = ra.min(rb);
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..orgs.len() {
        let r = root(&mut group_of, i);
        groups.entry(r).or_default().push(i);
    }
    groups.into_values().collect()
}

/// An organisation key for people: the Unicode domain, or the address for freemail users.
fn display_org(key: &str) -> String {
    match key.rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", idna::domain_to_unicode(domain).0),
        None => idna::domain_to_unicode(key).0,
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::*;

    #[test]
    fn two_clients_never_written_together() {
        let v = profile().check(
            draft(&["jan.jansen@klantbedrijf.nl", "s.khan@acme-logistics.co.uk"])
                .subject("Jaarrekening 2025"),
        );
        let f = only(&v, "mixed-organizations");
        assert_eq!(f.len(), 1, "{:?}", v.findings);
        // klantbedrijf.nl is written to far more, so acme is the odd one out.
        assert_eq!(f[0].recipients, vec!["s.khan@acme-logistics.co.uk"]);
        assert!(f[0].message.contains("klantbedrijf.nl"));
    }

    #[test]
    fn organisations_written_together_before_are_fine() {
        let p = profile();
        let v = p.check(draft(&[
            "jan.jansen@klantbedrijf.nl",
            "r.vanderlaan@vanderlaan-advocaten.nl",
        ]));
        assert!(
            only(&v, "mixed-organizations").is_empty(),
            "{:?}",
            v.findings
        );
        // Connected through an earlier three-way mail.
        let v = p.check(draft(&[
            "h.demir@demir-installatietechniek.nl",
            "p.devries@bakkerij-devries.nl",
        ]));
        assert!(
            only(&v, "mixed-organizations").is_empty(),
            "{:?}",
            v.findings
        );
    }

    #[test]
    fn internal_and_trusted_recipients_do_not_mix() {
        let v = profile().check(
            draft(&["jan.jansen@klantbedrijf.nl"])
                .cc(&["kees@boekhoudpartners.nl", "payroll@salarisverwerker.nl"]),
        );
        assert!(
            only(&v, "mixed-organizations").is_empty(),
            "{:?}",
            v.findings
        );
    }

    #[test]
    fn a_new_organisation_next_to_a_client() {
        let v =
            profile().check(draft(&["jan.jansen@klantbedrijf.nl"]).bcc(&["info@concurrent-bv.nl"]));
        let f = only(&v, "mixed-organizations");
        assert_eq!(f[0].recipients, vec!["info@concurrent-bv.nl"]);
    }

    #[test]
    fn quiet_without_history() {
        let v = empty_profile().check(draft(&["a@one.nl", "b@two.nl"]));
        assert!(only(&v, "mixed-organizations").is_empty());
    }
}
