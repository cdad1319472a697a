//! Pixel tokens: a 128-bit random pixel id and a 64-bit HMAC-SHA256 tag, URL-safe base64
//! (32 characters). The tag lets the hot path reject forged or mistyped tokens without a
//! database read; the id is unguessable on its own.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const ID_LEN: usize = 16;
const TAG_LEN: usize = 8;

/// The pixel id of a tracked message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PixelId(pub [u8; ID_LEN]);

impl PixelId {
    pub fn random() -> Self {
        PixelId(crate::kit::ids::random_bytes())
    }

    /// As stored in `messages.pixel_id`.
    pub fn to_text(self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }
}

fn tag(key: &[u8], id: &[u8; ID_LEN]) -> [u8; TAG_LEN] {
    let mut mac = Verifier::new(key).0;
    mac.update(id);
    let full = mac.finalize().into_bytes();
    let mut out = [0u8; TAG_LEN];
    out.copy_from_slice(&full[..TAG_LEN]);
    out
}

/// The token for a pixel id.
pub fn issue(key: &[u8], id: PixelId) -> String {
    let mut bytes = [0u8; ID_LEN + TAG_LEN];
    bytes[..ID_LEN].copy_from_slice(&id.0);
    bytes[ID_LEN..].copy_from_slice(&tag(key, &id.0));
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The pixel id of a genuine token; `None` for anything forged, truncated or malformed.
/// A trailing `.gif` is allowed (some clients like image URLs to look like images).
pub fn verify(key: &[u8], token: &str) -> Option<PixelId> {
    Verifier::new(key).verify(token)
}

/// [`verify`] for the hot path: the HMAC state after the key is computed once, and a token
/// is checked without allocating.
#[derive(Clone)]
pub struct Verifier(Hmac<Sha256>);

impl Verifier {
    pub fn new(key: &[u8]) -> Verifier {
        let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(b"leakwatch-pixel-v1");
        Verifier(mac)
    }

    pub fn verify(&self, token: &str) -> Option<PixelId> {
        let token = token.strip_suffix(".gif").unwrap_or(token);
        if token.len() != 32 {
            return None;
        }
        // 32 characters decode to 24 bytes; the decoder wants room for a padded estimate.
        let mut bytes = [0u8; ID_LEN + TAG_LEN + 3];
        if URL_SAFE_NO_PAD.decode_slice(token, &mut bytes).ok()? != ID_LEN + TAG_LEN {
            return None;
        }
        let (id, rest) = bytes.split_at(ID_LEN);
        let id: [u8; ID_LEN] = id.try_into().ok()?;
        let mut mac = self.0.clone();
        mac.update(&id);
        // Constant-time comparison of the truncated tag.
        mac.verify_truncated_left(&rest[..TAG_LEN]).ok()?;
        Some(PixelId(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_forgery() {
        let key = b"k".repeat(32);
        let id = PixelId::random();
        let token = issue(&key, id);
        assert_eq!(token.len(), 32);
        assert_eq!(verify(&key, &token), Some(id));
        assert_eq!(verify(&key, &format!("{token}.gif")), Some(id));
        assert_eq!(verify(b"other key", &token), None);
        let mut forged = token.clone().into_bytes();
        forged[31] = if forged[31] == b'A' { b'B' } else { b'A' };
        assert_eq!(verify(&key, std::str::from_utf8(&forged).unwrap()), None);
        assert_eq!(verify(&key, &token[..31]), None);
        assert_eq!(verify(&key, "not a token at all, really not!!"), None);
        assert_eq!(verify(&key, ""), None);
        assert_eq!(verify(&key, &"A".repeat(32)), None);
        assert_eq!(verify(&key, &format!("{}=", &token[..31])), None);
        let verifier = Verifier::new(&key);
        assert_eq!(verifier.verify(&token), Some(id));
        assert_eq!(verifier.verify(&token[1..]), None);
    }
}
