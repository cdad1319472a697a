//! The tenant policy document (what admins PUT and the add-ins fetch) on arbitrary JSON: no
//! panic parsing it, checking its thresholds, building a checker from it and checking a
//! message with it; a policy that passes the range check keeps passing after a JSON round
//! trip.
#![no_main]

use leakwatch_core::{Checker, Lang, Message, Policy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(policy) = serde_json::from_slice::<Policy>(data) else {
        return;
    };
    let valid = policy.thresholds.check().is_ok();
    let again: Policy = serde_json::from_str(&serde_json::to_string(&policy).unwrap())
        .expect("a policy serialises to JSON it reads back");
    assert_eq!(again.thresholds.check().is_ok(), valid);
    if !valid {
        return;
    }
    let checker = Checker::new(policy, &[], &[]);
    let message = Message {
        from: "anna@acme.nl".into(),
        to: vec!["jan@klant.nl".into(), "Piet <piet@klant.nI>".into()],
        subject: "Jaarrekening".into(),
        body: "BSN 111222333".into(),
        ..Message::default()
    };
    for lang in [Lang::Nl, Lang::En] {
        let _ = checker.check(&message, lang);
    }
});
