//! Random ids and secrets. Every row id the server makes is 128 random bits, so ids say
//! nothing about order, count or time, and cannot be guessed.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// A row id of one kind, so that a function taking a tenant cannot be handed a user. The
/// text is stored and sent as it is (serde and sqlx see a string); ids read from a path or
/// a row are taken as they come, and a wrong one simply finds nothing.
macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, sqlx::Type)]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(String);

        impl $name {
            /// A new random id ([`random_id`]).
            pub fn random() -> $name {
                $name(random_id())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> $name {
                $name(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> $name {
                $name(id.to_string())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }
    };
}

row_id!(
    /// A tenant (an organisation): the controller of its messages.
    TenantId
);
row_id!(
    /// A user of a tenant: a sender or an admin.
    UserId
);
row_id!(
    /// A registered message (the transparency page's `/i/{id}`).
    MessageId
);
row_id!(
    /// A leak incident.
    IncidentId
);

/// A random id: 128 bits, URL-safe base64 without padding (22 characters).
pub fn random_id() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<16>())
}

/// `N` bytes from the operating system's generator (keys, single-use links).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_22_url_safe_characters_and_differ() {
        let a = random_id();
        assert_eq!(a.len(), 22);
        assert!(a
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_ne!(a, random_id());
    }

    #[test]
    fn typed_ids_are_their_text_to_serde_and_sqlx() {
        let id = TenantId::from("t-1");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"t-1\"");
        assert_eq!(serde_json::from_str::<TenantId>("\"t-1\"").unwrap(), id);
        assert_eq!(id.to_string(), "t-1");
        assert_eq!(UserId::random().as_str().len(), 22);
    }
}
