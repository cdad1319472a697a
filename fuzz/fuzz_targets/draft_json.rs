//! A Draft (the add-ins' JSON, policy and history included) from arbitrary bytes through
//! `serde_json` and the check: whatever parses must check without a panic, in both languages.
#![no_main]

use leakwatch_core::{Checker, Draft, Lang};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(draft) = serde_json::from_slice::<Draft>(data) else {
        return;
    };
    let (checker, message) = Checker::from_draft(&draft);
    for lang in [Lang::En, Lang::Nl] {
        let _ = checker.check(&message, lang);
    }
});
