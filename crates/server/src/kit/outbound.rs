//! The one rule for every connection the server makes to a host that someone other than the
//! operator named: tenants' webhooks, a tenant's own mail relay, a tenant's identity-provider
//! keys (ADR 0011). Only public addresses are reached, unless the operator allows the rest
//! (`[outbound] allow_private`).
//!
//! - A name is resolved when the connection is made, **every** address it resolves to is
//!   checked (one refused address refuses the name), and the connection goes to a checked
//!   address only, so a name cannot be checked as public and then connected to as private
//!   (DNS rebinding). For HTTP that is the client's resolver ([`HttpClient`]: reqwest asks
//!   [`Outbound::addresses`] and nothing else; redirects are not followed and no proxy is
//!   used, since either would connect somewhere unchecked); for SMTP the mailer resolves
//!   through [`Outbound::addresses`] and connects to the address it was given.
//! - A literal address in a URL never reaches a resolver (reqwest connects to it directly),
//!   so [`HttpClient::request`] checks it before the request is made.
//! - What is refused: loopback, private networks (RFC 1918, fc00::/7), carrier-grade NAT
//!   (100.64.0.0/10), link-local (169.254.0.0/16, fe80::/10), 0.0.0.0/8 and `::`,
//!   multicast, broadcast, documentation, benchmarking and other reserved ranges, and the
//!   IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4) by the IPv4
//!   address they carry. In IPv6 only global unicast (2000::/3) is public.
//! - When a URL is saved it is checked the same way ([`Outbound::check_url`]), so an admin
//!   hears at once why it will not be used; a name that does not resolve yet is not refused
//!   then (nothing is connected), it is checked again on every connection.
//!
//! Names are resolved by the system, or in tests by a table ([`Resolver::table`]), so a test
//! can make `evil.test` resolve to 127.0.0.1 without touching `/etc/hosts`.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use url::{Host, Url};

use crate::kit::config::OutboundConfig;

/// How long one lookup may take.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// Names and their addresses, for a table resolver.
type Table = Arc<Mutex<HashMap<String, Vec<IpAddr>>>>;

/// Name resolution for outgoing connections: the system's, or a table (tests).
#[derive(Debug, Clone, Default)]
pub struct Resolver(Option<Table>);

impl Resolver {
    /// The system's resolver (`getaddrinfo`: DNS, `/etc/hosts`).
    pub fn system() -> Resolver {
        Resolver(None)
    }

    /// A table of names, empty at first ([`Resolver::with`], [`Resolver::set`]); a name
    /// that is not in it does not resolve. For tests.
    pub fn table() -> Resolver {
        Resolver(Some(Arc::default()))
    }

    /// The table with `name` resolving to `addresses` (panics on a malformed address).
    pub fn with(self, name: &str, addresses: &[&str]) -> Resolver {
        let parsed: Vec<IpAddr> = addresses
            .iter()
            .map(|a| a.parse().expect("an IP address"))
            .collect();
        self.set(name, &parsed);
        self
    }

    /// Changes what `name` resolves to (an empty list: nothing). Panics on the system
    /// resolver.
    pub fn set(&self, name: &str, addresses: &[IpAddr]) {
        let table = self
            .0
            .as_ref()
            .expect("only a table resolver can be changed");
        table
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(normalise(name), addresses.to_vec());
    }

    async fn lookup(&self, host: &str, port: u16) -> Result<Vec<IpAddr>, String> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        match &self.0 {
            Some(table) => table
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&normalise(host))
                .cloned()
                .ok_or_else(|| "no such name".to_string()),
            None => {
                let found =
                    tokio::time::timeout(LOOKUP_TIMEOUT, tokio::net::lookup_host((host, port)))
                        .await
                        .map_err(|_| format!("no answer within {} s", LOOKUP_TIMEOUT.as_secs()))?
                        .map_err(|e| e.to_string())?;
                Ok(found.map(|a| a.ip()).collect())
            }
        }
    }
}

fn normalise(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Why an outgoing connection is not made.
#[derive(Debug, Clone, thiserror::Error)]
pub enum OutboundError {
    /// Not a URL the server can use.
    #[error("{0}")]
    BadUrl(String),
    /// The host is, or resolves to, an address that is not public.
    #[error("{}", refused_text(.target, .ip, .why))]
    Refused {
        /// The host as configured (a name or the literal address).
        target: String,
        ip: IpAddr,
        /// What the address is, in words ("a loopback address").
        why: String,
    },
    /// The name does not resolve (now).
    #[error("cannot resolve '{host}': {reason}")]
    Unresolved { host: String, reason: String },
}

fn refused_text(target: &str, ip: &IpAddr, why: &str) -> String {
    let literal = target
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_ok_and(|t| t == *ip);
    let subject = if literal {
        format!("{ip} is")
    } else {
        format!("'{target}' resolves to {ip},")
    };
    format!(
        "{subject} {why}; the server connects only to public addresses (the operator can allow loopback and private networks with outbound.allow_private)"
    )
}

impl OutboundError {
    /// The target is not allowed (as opposed to not resolving now, which may pass).
    pub fn is_refused(&self) -> bool {
        !matches!(self, OutboundError::Unresolved { .. })
    }

    /// The rule's refusal anywhere in an error's chain of sources (reqwest wraps what the
    /// resolver said).
    pub fn find<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a OutboundError> {
        let mut current = Some(err);
        while let Some(e) = current {
            if let Some(found) = e.downcast_ref::<OutboundError>() {
                return Some(found);
            }
            current = e.source();
        }
        None
    }
}

/// The rule: which addresses outgoing connections may reach, and the resolver they are
/// found with. A cheap handle.
#[derive(Debug, Clone)]
pub struct Outbound {
    allow_private: bool,
    resolver: Resolver,
}

impl Outbound {
    pub fn new(config: &OutboundConfig, resolver: Resolver) -> Outbound {
        Outbound {
            allow_private: config.allow_private,
            resolver,
        }
    }

    /// The operator lets connections reach non-public addresses.
    pub fn allow_private(&self) -> bool {
        self.allow_private
    }

    /// `ip` (an address of `target`) in the form to connect to, or why it may not be.
    pub fn check_ip(&self, target: &str, ip: IpAddr) -> Result<IpAddr, OutboundError> {
        match (self.allow_private, not_public(ip)) {
            (false, Some(why)) => Err(OutboundError::Refused {
                target: target.to_string(),
                ip,
                why,
            }),
            // A mapped address is its IPv4 address (what the socket would reach anyway).
            _ => Ok(ip.to_canonical()),
        }
    }

    /// Every address `host` resolves to, each one checked: the only addresses a connection
    /// to `host` may go to. One refused address refuses the name.
    pub async fn addresses(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, OutboundError> {
        let found =
            self.resolver
                .lookup(host, port)
                .await
                .map_err(|reason| OutboundError::Unresolved {
                    host: host.to_string(),
                    reason,
                })?;
        if found.is_empty() {
            return Err(OutboundError::Unresolved {
                host: host.to_string(),
                reason: "no address".into(),
            });
        }
        let mut checked = Vec::with_capacity(found.len());
        for ip in found {
            let ip = self.check_ip(host, ip)?;
            let address = SocketAddr::new(ip, port);
            if !checked.contains(&address) {
                checked.push(address);
            }
        }
        Ok(checked)
    }

    /// Checks the host of a URL as it is saved: resolved, every address checked. A name that
    /// does not resolve is an `Unresolved` error, which callers may let pass (it is checked
    /// again on every connection).
    pub async fn check_url(&self, url: &Url) -> Result<Vec<SocketAddr>, OutboundError> {
        let port = url.port_or_known_default().unwrap_or(0);
        match url.host() {
            Some(Host::Ipv4(ip)) => Ok(vec![SocketAddr::new(
                self.check_ip(&ip.to_string(), IpAddr::V4(ip))?,
                port,
            )]),
            Some(Host::Ipv6(ip)) => Ok(vec![SocketAddr::new(
                self.check_ip(&ip.to_string(), IpAddr::V6(ip))?,
                port,
            )]),
            Some(Host::Domain(name)) if !name.is_empty() => self.addresses(name, port).await,
            _ => Err(OutboundError::BadUrl(format!("'{url}' names no host"))),
        }
    }

    /// An HTTP client under the rule, from the caller's builder (timeouts, user agent):
    /// names resolve through [`Outbound::addresses`], redirects are not followed, no proxy
    /// is used. Requests are made with [`HttpClient::request`].
    pub fn http_client(&self, builder: reqwest::ClientBuilder) -> reqwest::Result<HttpClient> {
        let client = builder
            .dns_resolver(Arc::new(Guard(self.clone())))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()?;
        Ok(HttpClient {
            client,
            outbound: self.clone(),
        })
    }
}

/// reqwest's resolver under the rule.
struct Guard(Outbound);

impl reqwest::dns::Resolve for Guard {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let outbound = self.0.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            // reqwest puts the URL's port in.
            let addresses = outbound.addresses(&host, 0).await?;
            Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// An HTTP client that connects only where [`Outbound`] allows.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    outbound: Outbound,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("outbound", &self.outbound)
            .finish()
    }
}

impl HttpClient {
    /// A request to an http(s) URL. A literal address is checked here (reqwest connects to
    /// it without asking the resolver); a name when the connection is made.
    pub fn request(
        &self,
        method: reqwest::Method,
        url: &str,
    ) -> Result<reqwest::RequestBuilder, OutboundError> {
        let parsed = Url::parse(url).map_err(|e| OutboundError::BadUrl(format!("'{url}': {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(OutboundError::BadUrl(format!(
                "'{url}' is not an http(s) URL"
            )));
        }
        match parsed.host() {
            Some(Host::Ipv4(ip)) => {
                self.outbound.check_ip(&ip.to_string(), IpAddr::V4(ip))?;
            }
            Some(Host::Ipv6(ip)) => {
                self.outbound.check_ip(&ip.to_string(), IpAddr::V6(ip))?;
            }
            Some(Host::Domain(name)) if !name.is_empty() => {}
            _ => return Err(OutboundError::BadUrl(format!("'{url}' names no host"))),
        }
        Ok(self.client.request(method, parsed))
    }
}

/// A failed request in words: the rule's refusal when that was it, else the error with its
/// causes (reqwest's own text names only the URL).
pub fn describe(err: &reqwest::Error) -> String {
    if let Some(refused) = OutboundError::find(err) {
        return refused.to_string();
    }
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// What `ip` is in words, when it is not a public address.
pub fn not_public(ip: IpAddr) -> Option<String> {
    match ip {
        IpAddr::V4(v4) => not_public_v4(v4).map(str::to_string),
        IpAddr::V6(v6) => not_public_v6(v6),
    }
}

fn not_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    let why = match (a, b, c) {
        (0, ..) => "a 'this network' address (0.0.0.0/8, which reaches this host)",
        (10, ..) => "a private-network address",
        (172, 16..=31, _) => "a private-network address",
        (192, 168, _) => "a private-network address",
        (100, 64..=127, _) => "a carrier-grade NAT (shared) address",
        (127, ..) => "a loopback address",
        (169, 254, _) => "a link-local address",
        (192, 0, 0) => "an IETF protocol address (192.0.0.0/24)",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation address",
        (198, 18..=19, _) => "a benchmarking address",
        (192, 88, 99) => "a reserved (former 6to4 relay) address",
        (224..=239, ..) => "a multicast address",
        (255, 255, 255) if ip.is_broadcast() => "the broadcast address",
        (240..=255, ..) => "a reserved address",
        _ => return None,
    };
    Some(why)
}

fn not_public_v6(ip: Ipv6Addr) -> Option<String> {
    let s = ip.segments();
    let embedded = |high: u16, low: u16| {
        Ipv4Addr::new((high >> 8) as u8, high as u8, (low >> 8) as u8, low as u8)
    };
    if let Some(v4) = ip.to_ipv4_mapped() {
        return not_public_v4(v4).map(|why| format!("an IPv4-mapped form of {v4}, {why}"));
    }
    let why = if ip.is_unspecified() {
        "the unspecified address".to_string()
    } else if ip.is_loopback() {
        "a loopback address".to_string()
    } else if s[..6] == [0; 6] {
        let v4 = embedded(s[6], s[7]);
        match not_public_v4(v4) {
            Some(why) => format!("an IPv4-compatible form of {v4}, {why}"),
            None => "an IPv4-compatible address (deprecated, ::/96)".to_string(),
        }
    } else if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0; 4] {
        // NAT64: the gateway connects to the IPv4 address inside.
        let v4 = embedded(s[6], s[7]);
        return not_public_v4(v4).map(|why| format!("a NAT64 form of {v4}, {why}"));
    } else if s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1 {
        "a local-use NAT64 address (64:ff9b:1::/48)".to_string()
    } else if s[0] == 0x2002 {
        // 6to4: the relay connects to the IPv4 address inside.
        let v4 = embedded(s[1], s[2]);
        return not_public_v4(v4).map(|why| format!("a 6to4 form of {v4}, {why}"));
    } else if (s[0] == 0x2001 && s[1] == 0x0db8) || (s[0] == 0x3fff && s[1] < 0x1000) {
        "a documentation address".to_string()
    } else if s[0] == 0x2001 && s[1] < 0x0200 {
        "an IETF protocol address (2001::/23: Teredo, benchmarking, ORCHID)".to_string()
    } else if s[0] & 0xfe00 == 0xfc00 {
        "a unique-local (private) address".to_string()
    } else if s[0] & 0xffc0 == 0xfe80 {
        "a link-local address".to_string()
    } else if s[0] & 0xffc0 == 0xfec0 {
        "a site-local (private) address".to_string()
    } else if s[0] & 0xff00 == 0xff00 {
        "a multicast address".to_string()
    } else if s[0] & 0xe000 != 0x2000 {
        "a reserved address (outside global unicast, 2000::/3)".to_string()
    } else {
        return None;
    };
    Some(why)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn strict(resolver: Resolver) -> Outbound {
        Outbound::new(&OutboundConfig::default(), resolver)
    }

    #[test]
    fn only_public_addresses_are_public() {
        for refused in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.8.9.10",
            "169.254.169.254",
            "192.0.0.8",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:0.0.0.0",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:100.64.0.1",
            "::127.0.0.1",
            "::8.8.8.8",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "2002:7f00:1::1",
            "2002:c0a8:101::1",
            "2001::1",
            "2001:db8::1",
            "3fff::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "100::1",
            "::2",
        ] {
            assert!(not_public(ip(refused)).is_some(), "{refused} is not public");
        }
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "169.255.0.1",
            "192.0.1.1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2606:4700:4700::1111",
            "2a00:1450:4001::200e",
        ] {
            assert_eq!(not_public(ip(public)), None, "{public} is public");
        }
    }

    #[tokio::test]
    async fn every_resolved_address_is_checked() {
        let names = Resolver::table()
            .with("evil.test", &["127.0.0.1"])
            .with("mapped.test", &["::ffff:10.0.0.1"])
            .with("mixed.test", &["8.8.8.8", "192.168.0.1"])
            .with("127.0.0.1.wildcard.test", &["127.0.0.1"])
            .with("public.test", &["8.8.8.8", "::ffff:1.1.1.1"]);
        let rule = strict(names.clone());
        for (name, refused) in [
            ("evil.test", "127.0.0.1"),
            ("mapped.test", "::ffff:10.0.0.1"),
            ("mixed.test", "192.168.0.1"),
            ("127.0.0.1.wildcard.test", "127.0.0.1"),
            ("EVIL.test.", "127.0.0.1"),
        ] {
            match rule.addresses(name, 443).await {
                Err(OutboundError::Refused { ip: got, .. }) => {
                    assert_eq!(got, ip(refused), "{name}")
                }
                other => panic!("{name}: {other:?}"),
            }
        }
        let err = rule.addresses("mapped.test", 443).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "'mapped.test' resolves to ::ffff:10.0.0.1, an IPv4-mapped form of 10.0.0.1, a private-network address; \
             the server connects only to public addresses (the operator can allow loopback and private networks with outbound.allow_private)"
        );
        assert_eq!(
            rule.addresses("public.test", 443).await.unwrap(),
            vec![
                "8.8.8.8:443".parse::<SocketAddr>().unwrap(),
                "1.1.1.1:443".parse().unwrap()
            ],
            "mapped addresses are connected to as IPv4"
        );
        let unknown = rule.addresses("nowhere.test", 443).await.unwrap_err();
        assert!(!unknown.is_refused(), "{unknown}");
        // The operator's setting lets them through.
        let open = Outbound::new(
            &OutboundConfig {
                allow_private: true,
            },
            names,
        );
        assert_eq!(
            open.addresses("evil.test", 25).await.unwrap(),
            vec!["127.0.0.1:25".parse::<SocketAddr>().unwrap()]
        );
    }

    #[tokio::test]
    async fn literal_addresses_in_urls_are_checked_before_any_request() {
        let client = strict(Resolver::table())
            .http_client(reqwest::Client::builder())
            .unwrap();
        for url in [
            "http://127.0.0.1:9/h",
            "http://[::ffff:0.0.0.0]:9/h",
            "http://[::ffff:169.254.169.254]/latest",
            "http://[::ffff:100.64.0.1]/h",
            "http://0.1.2.3/h",
            "http://2130706433/h",
            "http://0x7f.1/h",
            "http://[::1]:9/h",
        ] {
            let err = client.request(reqwest::Method::POST, url).unwrap_err();
            assert!(matches!(err, OutboundError::Refused { .. }), "{url}: {err}");
        }
        let err = client
            .request(reqwest::Method::GET, "http://[::ffff:0.0.0.0]:9/")
            .unwrap_err();
        assert!(
            err.to_string().starts_with(
                "::ffff:0.0.0.0 is an IPv4-mapped form of 0.0.0.0, a 'this network' address"
            ),
            "{err}"
        );
        assert!(client
            .request(reqwest::Method::GET, "file:///etc/passwd")
            .is_err());
    }

    /// A name resolving to loopback is refused when the connection is made, and nothing
    /// listening there is reached.
    #[tokio::test]
    async fn names_are_checked_when_connecting() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = tokio::spawn(async move {
            tokio::time::timeout(Duration::from_millis(500), listener.accept())
                .await
                .is_ok()
        });
        let names = Resolver::table()
            .with("evil.test", &["127.0.0.1"])
            .with("mapped.test", &["::ffff:127.0.0.1"]);
        let client = strict(names)
            .http_client(reqwest::Client::builder())
            .unwrap();
        for host in ["evil.test", "mapped.test"] {
            let err = client
                .request(reqwest::Method::GET, &format!("http://{host}:{port}/"))
                .unwrap()
                .send()
                .await
                .unwrap_err();
            let text = describe(&err);
            assert!(
                text.contains("a loopback address") && text.contains(host),
                "{text}"
            );
            assert!(OutboundError::find(&err).is_some_and(OutboundError::is_refused));
        }
        assert!(!accepted.await.unwrap(), "no connection was made");
    }
}
