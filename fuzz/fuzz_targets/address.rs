//! The address parsers on arbitrary text: no panic, and what parses is in the documented
//! normal form (ASCII, lower-case domain without a trailing dot; a mailbox and a domain).
#![no_main]

use leakwatch_core::address::{
    domain_to_ascii, normalise_domain, normalise_name, parse_addr_spec, parse_mailbox, skeleton,
    Address,
};
use libfuzzer_sys::fuzz_target;

fn check(a: &Address) {
    assert!(a.domain.is_ascii(), "domain not ASCII: {:?}", a.domain);
    assert!(
        !a.domain.bytes().any(|b| b.is_ascii_uppercase()),
        "{:?}",
        a.domain
    );
    assert!(!a.domain.ends_with('.'), "{:?}", a.domain);
    let _ = (
        a.canonical(),
        a.display(),
        a.org_label(),
        a.is_idn(),
        a.to_string(),
    );
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(a) = parse_mailbox(&text) {
        check(&a);
    }
    if let Ok(a) = parse_addr_spec(&text) {
        check(&a);
    }
    let _ = domain_to_ascii(&text);
    let _ = normalise_domain(&text);
    let _ = normalise_name(&text);
    let _ = skeleton(&text);
});
