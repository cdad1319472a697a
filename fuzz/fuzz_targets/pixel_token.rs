//! Pixel token parsing (the server's `pixel::token`, compiled here as it is, on the hot path
//! of every fetch) on arbitrary text: no panic; a token is accepted only if it is exactly
//! what `issue` makes for its id (so an accepted token round-trips), and one changed
//! character is never accepted.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// What `pixel::token` takes from the server's kit, for `PixelId::random` only.
mod kit {
    pub mod ids {
        pub fn random_bytes<const N: usize>() -> [u8; N] {
            [7; N]
        }
    }
}

#[path = "../../crates/server/src/pixel/token.rs"]
#[allow(dead_code)]
mod token;

const KEY: &[u8] = b"fuzzing key, 32 bytes of it.....";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let verifier = token::Verifier::new(KEY);
    let accepted = verifier.verify(&text);
    assert_eq!(accepted, token::verify(KEY, &text), "the two verifiers disagree");
    if let Some(id) = accepted {
        let issued = token::issue(KEY, id);
        let bare = text.strip_suffix(".gif").unwrap_or(&text);
        assert_eq!(issued, bare, "an accepted token is the issued one");
    }
    // A well-formed token for an id taken from the input, with one character changed.
    if data.len() >= 16 {
        let mut id = [0u8; 16];
        id.copy_from_slice(&data[..16]);
        let good = token::issue(KEY, token::PixelId(id));
        assert_eq!(verifier.verify(&good), Some(token::PixelId(id)));
        let at = usize::from(data[0]) % good.len();
        let mut changed: Vec<char> = good.chars().collect();
        changed[at] = if changed[at] == 'A' { 'B' } else { 'A' };
        let changed: String = changed.into_iter().collect();
        assert_eq!(verifier.verify(&changed), None, "{good} -> {changed}");
    }
});
