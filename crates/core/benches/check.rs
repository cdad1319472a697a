//! Criterion benchmarks of the send-time check: building the contact model from 10,000
//! history messages, and checking a 50-recipient draft against it.
//! Targets (issue 2): build under 50 ms, check under 1 ms on the 2-core reference machine.
//! Run: `cargo bench -p leakwatch-core --bench check`.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

use leakwatch_core::draft::{Attachment, Contact, Message, Recipient, SentMessage};
use leakwatch_core::{Checker, Lang, Policy};

/// A deterministic pseudo-random sequence (no dependency, same data every run).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % bound
    }
}

const SUFFIXES: &[&str] = &["nl", "com", "be", "de", "co.uk", "eu"];

fn org(i: usize) -> String {
    format!(
        "organisatie{i}-{}.{}",
        ["bouw", "zorg", "logistiek", "advies", "ict"][i % 5],
        SUFFIXES[i % SUFFIXES.len()]
    )
}

fn person(org: usize, n: usize) -> String {
    format!(
        "Medewerker {n} <voornaam{n}.achternaam{org}@{}>",
        self::org(org)
    )
}

fn history(messages: usize) -> Vec<SentMessage> {
    let mut rng = Lcg(7);
    (0..messages)
        .map(|i| {
            let to = (0..1 + rng.next(3))
                .map(|_| {
                    // A few organisations get most of the mail, as in real Sent folders.
                    let o = if rng.next(4) == 0 {
                        rng.next(400)
                    } else {
                        rng.next(40)
                    };
                    Recipient::Text(person(o, rng.next(6)))
                })
                .collect();
            let cc = (0..rng.next(2))
                .map(|_| Recipient::Text(format!("collega{}@boekhoudpartners.nl", rng.next(30))))
                .collect();
            SentMessage {
                to,
                cc,
                bcc: Vec::new(),
                subject: Some(format!("Dossier {i}")),
                sent_at: Some(format!(
                    "2026-{:02}-{:02}T10:00:00Z",
                    1 + i % 12,
                    1 + i % 28
                )),
            }
        })
        .collect()
}

fn contacts() -> Vec<Contact> {
    (0..300)
        .map(|i| Contact {
            address: format!("voornaam{}.achternaam{i}@{}", i % 6, org(i)),
            name: Some(format!("Medewerker {}", i % 6)),
        })
        .collect()
}

/// 50 recipients: known people, new people at known organisations, lookalikes, new
/// organisations and personal addresses.
fn draft() -> Message {
    let mut to = Vec::new();
    for i in 0..30 {
        to.push(Recipient::Text(person(i, i % 6)));
    }
    for i in 0..5 {
        to.push(Recipient::Text(format!("nieuw{i}@{}", org(i))));
    }
    for i in 0..5 {
        // Typo of a known domain.
        to.push(Recipient::Text(format!(
            "x{i}@{}",
            org(i).replacen("organisatie", "organisatei", 1)
        )));
    }
    for i in 0..5 {
        to.push(Recipient::Text(format!("info@nieuwbedrijf{i}.nl")));
    }
    for i in 0..5 {
        to.push(Recipient::Text(format!("prive.persoon{i}@gmail.com")));
    }
    Message {
        from: "anna@boekhoudpartners.nl".into(),
        to,
        subject: "Jaarrekening organisatie7-advies en planning".into(),
        body: "Beste allen,\n\nBijgaand de stukken. IBAN NL91 ABNA 0417 1643 00.\n".repeat(20),
        attachments: vec![Attachment {
            name: "Jaarrekening_Organisatie12-Zorg_2025.pdf".into(),
            size: Some(1),
            content_type: None,
        }],
        ..Message::default()
    }
}

fn bench(c: &mut Criterion) {
    let policy = Policy {
        internal_domains: vec!["boekhoudpartners.nl".into()],
        ..Policy::default()
    };
    let history = history(10_000);
    let contacts = contacts();
    c.bench_function("build contact model (10,000 messages)", |b| {
        b.iter(|| {
            Checker::new(
                black_box(policy.clone()),
                black_box(&history),
                black_box(&contacts),
            )
        })
    });
    let checker = Checker::new(policy, &history, &contacts);
    let message = draft();
    let verdict = checker.check(&message, Lang::En).unwrap();
    assert!(
        !verdict.findings.is_empty(),
        "the benchmark draft exercises the rules"
    );
    c.bench_function("check draft (50 recipients)", |b| {
        b.iter(|| checker.check(black_box(&message), Lang::En).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
