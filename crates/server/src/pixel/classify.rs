//! What fetched the pixel, decided from the request alone when it arrives: cheap checks on
//! the method and a few headers, one case-insensitive Aho-Corasick pass over (at most the
//! first 512 bytes of) the user agent, no allocation.
//!
//! A pixel fetch is evidence of a leak only when a person opened the mail. Much of what
//! fetches a pixel is not a person, so each fetch gets a class:
//!
//! | class | when |
//! |---|---|
//! | `scanner` | any method but `GET` (`HEAD`: a link checker or gateway looking before it fetches; `OPTIONS`, `POST`, ...: no image is shown); a prefetch (`Sec-Purpose`/`Purpose`/`X-Purpose`/`X-Moz` saying prefetch or preview); no user agent; a security gateway's or link checker's user agent (Mimecast, Proofpoint, Barracuda, Microsoft Defender / Safe Links, Trend Micro, Symantec, Sophos, ...); an HTTP library (curl, Wget, python-requests, Go-http-client, Java, okhttp, ...); a bot or crawler |
//! | `self_view` | the client is in the configured `pixel.own_networks`, or (decided in the writer) it is on the same network as the client that registered the message, within `pixel.self_view_seconds` of registering it |
//! | `google_proxy` | Gmail's image proxy: `GoogleImageProxy` or `ggpht` in the user agent. Gmail fetches through the proxy when the mail is opened, so this is an open, but its network is Google's |
//! | `apple_privacy` | Apple Mail Privacy Protection: the proxy prefetches every image on delivery, opened or not, with the bare user agent `Mozilla/5.0`; also a non-browser fetch from Apple's own network 17.0.0.0/8. Not an open |
//! | `direct` | anything else: a mail client or webmail fetching the image itself, i.e. an open |
//!
//! The order is the table's: a `HEAD` from the sender's own network is a scanner. These
//! are heuristics. A scanner that sends an ordinary browser user agent (Safe Links
//! detonation often does) is classified `direct`; telling it apart needs timing (a fetch
//! seconds after delivery), which is the incident evaluator's job, not the hot path's.
//!
//! Besides the class, the user agent is reduced to a family from a short fixed vocabulary
//! ([`Agent`]); the user agent string itself is never kept.

use std::net::IpAddr;
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use axum::http::{header, HeaderMap, HeaderName, Method};
use ipnet::IpNet;

/// The class of a pixel fetch, as stored in `pixel_counts.class` and `pixel_hits.class`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    Direct,
    GoogleProxy,
    ApplePrivacy,
    Scanner,
    SelfView,
}

impl Class {
    pub const ALL: [Class; 5] = [
        Class::Direct,
        Class::GoogleProxy,
        Class::ApplePrivacy,
        Class::Scanner,
        Class::SelfView,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Class::Direct => "direct",
            Class::GoogleProxy => "google_proxy",
            Class::ApplePrivacy => "apple_privacy",
            Class::Scanner => "scanner",
            Class::SelfView => "self_view",
        }
    }

    pub fn parse(text: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// The user-agent family: all that is kept of a user agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Agent {
    Outlook,
    AppleMail,
    /// Apple Mail Privacy Protection's proxy (bare `Mozilla/5.0`).
    AppleProxy,
    Thunderbird,
    GmailProxy,
    YahooProxy,
    Edge,
    Chrome,
    Firefox,
    Safari,
    /// A security gateway, link checker, bot or crawler.
    Scanner,
    /// An HTTP library or command-line tool (curl, python-requests, ...).
    Library,
    /// No user agent at all.
    None,
    Other,
}

impl Agent {
    pub const fn as_str(self) -> &'static str {
        match self {
            Agent::Outlook => "outlook",
            Agent::AppleMail => "apple-mail",
            Agent::AppleProxy => "apple-proxy",
            Agent::Thunderbird => "thunderbird",
            Agent::GmailProxy => "gmail-proxy",
            Agent::YahooProxy => "yahoo-proxy",
            Agent::Edge => "edge",
            Agent::Chrome => "chrome",
            Agent::Firefox => "firefox",
            Agent::Safari => "safari",
            Agent::Scanner => "scanner",
            Agent::Library => "library",
            Agent::None => "none",
            Agent::Other => "other",
        }
    }
}

// What a user-agent marker says; a user agent collects the markers it contains.
const SCANNER: u32 = 1 << 0;
const LIBRARY: u32 = 1 << 1;
const GOOGLE: u32 = 1 << 2;
const YAHOO: u32 = 1 << 3;
const OUTLOOK: u32 = 1 << 4;
const THUNDERBIRD: u32 = 1 << 5;
const EDGE: u32 = 1 << 6;
const CHROME: u32 = 1 << 7;
const FIREFOX: u32 = 1 << 8;
const SAFARI: u32 = 1 << 9;
const WEBKIT: u32 = 1 << 10;
const APPLE_DEVICE: u32 = 1 << 11;

/// User-agent markers, matched case-insensitively anywhere in the user agent.
const MARKERS: &[(&str, u32)] = &[
    // Mail security gateways and link scanners.
    ("mimecast", SCANNER),
    ("proofpoint", SCANNER),
    ("urldefense", SCANNER),
    ("barracuda", SCANNER),
    ("safelinks", SCANNER),
    ("safe links", SCANNER),
    ("defender", SCANNER), // Microsoft Defender, Bitdefender
    ("trendmicro", SCANNER),
    ("trend micro", SCANNER),
    ("symantec", SCANNER),
    ("messagelabs", SCANNER),
    ("forcepoint", SCANNER),
    ("sophos", SCANNER),
    ("fortiguard", SCANNER),
    ("fortinet", SCANNER),
    ("ironport", SCANNER),
    ("zscaler", SCANNER),
    ("spamtitan", SCANNER),
    ("mailscanner", SCANNER),
    ("hornetsecurity", SCANNER),
    ("vadesecure", SCANNER),
    ("kaspersky", SCANNER),
    ("checkpoint", SCANNER),
    ("scanner", SCANNER),
    ("linkcheck", SCANNER),
    ("link-check", SCANNER),
    ("link checker", SCANNER),
    ("urlscan", SCANNER),
    // Bots, crawlers, unfurlers, headless browsers.
    ("bot/", SCANNER),
    ("bot;", SCANNER),
    ("bot)", SCANNER),
    ("bot-", SCANNER),
    ("+http", SCANNER),
    ("crawler", SCANNER),
    ("spider", SCANNER),
    ("facebookexternalhit", SCANNER),
    ("headlesschrome", SCANNER),
    ("phantomjs", SCANNER),
    // HTTP libraries and tools: no mail client identifies itself like this.
    ("curl/", LIBRARY),
    ("wget/", LIBRARY),
    ("python-requests", LIBRARY),
    ("python-urllib", LIBRARY),
    ("python-httpx", LIBRARY),
    ("aiohttp", LIBRARY),
    ("go-http-client", LIBRARY),
    ("java/", LIBRARY),
    ("okhttp", LIBRARY),
    ("apache-httpclient", LIBRARY),
    ("libwww-perl", LIBRARY),
    ("node-fetch", LIBRARY),
    ("axios/", LIBRARY),
    ("undici", LIBRARY),
    ("postmanruntime", LIBRARY),
    ("guzzlehttp", LIBRARY),
    ("reqwest", LIBRARY),
    ("httpie", LIBRARY),
    ("powershell", LIBRARY),
    // Image proxies of webmail.
    ("googleimageproxy", GOOGLE),
    ("ggpht", GOOGLE),
    ("yahoomailproxy", YAHOO),
    // Mail clients and browsers.
    ("microsoft outlook", OUTLOOK),
    ("microsoft office/", OUTLOOK),
    ("msoffice", OUTLOOK),
    ("ms-office", OUTLOOK),
    ("outlook-ios", OUTLOOK),
    ("outlook-android", OUTLOOK),
    ("outlook-express", OUTLOOK),
    ("thunderbird", THUNDERBIRD),
    ("edg/", EDGE),
    ("edga/", EDGE),
    ("edgios/", EDGE),
    ("edge/", EDGE),
    ("chrome/", CHROME),
    ("crios/", CHROME),
    ("chromium/", CHROME),
    ("firefox/", FIREFOX),
    ("fxios/", FIREFOX),
    ("safari/", SAFARI),
    ("applewebkit", WEBKIT),
    ("macintosh", APPLE_DEVICE),
    ("iphone", APPLE_DEVICE),
    ("ipad", APPLE_DEVICE),
];

static MATCHER: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .kind(Some(AhoCorasickKind::DFA))
        .build(MARKERS.iter().map(|(p, _)| p))
        .expect("the user-agent markers build a matcher")
});

/// How much of a user agent is looked at; real ones are far shorter.
const UA_SCAN_LIMIT: usize = 512;

/// Apple's own network (Mail Privacy Protection prefetches from Apple-operated addresses).
const APPLE_NETWORK: [u8; 1] = [17];

static SEC_PURPOSE: HeaderName = HeaderName::from_static("sec-purpose");
static PURPOSE: HeaderName = HeaderName::from_static("purpose");
static X_PURPOSE: HeaderName = HeaderName::from_static("x-purpose");
static X_MOZ: HeaderName = HeaderName::from_static("x-moz");

/// The markers a user agent contains.
fn markers(user_agent: &[u8]) -> u32 {
    let text = &user_agent[..user_agent.len().min(UA_SCAN_LIMIT)];
    MATCHER
        .find_overlapping_iter(text)
        .fold(0, |flags, m| flags | MARKERS[m.pattern().as_usize()].1)
}

/// The user-agent family from its markers.
fn family(user_agent: &[u8], flags: u32) -> Agent {
    if flags & SCANNER != 0 {
        Agent::Scanner
    } else if flags & LIBRARY != 0 {
        Agent::Library
    } else if flags & GOOGLE != 0 {
        Agent::GmailProxy
    } else if flags & YAHOO != 0 {
        Agent::YahooProxy
    } else if flags & OUTLOOK != 0 {
        Agent::Outlook
    } else if flags & THUNDERBIRD != 0 {
        Agent::Thunderbird
    } else if flags & EDGE != 0 {
        Agent::Edge
    } else if flags & CHROME != 0 {
        Agent::Chrome
    } else if flags & FIREFOX != 0 {
        Agent::Firefox
    } else if flags & SAFARI != 0 {
        Agent::Safari
    } else if flags & WEBKIT != 0 && flags & APPLE_DEVICE != 0 {
        // Apple Mail's WebKit view: AppleWebKit on a Mac, iPhone or iPad without the
        // Safari (or any browser's) token.
        Agent::AppleMail
    } else if is_bare_mozilla(user_agent) {
        Agent::AppleProxy
    } else {
        Agent::Other
    }
}

/// `Mozilla/5.0` and nothing else: what Apple's privacy proxy sends.
fn is_bare_mozilla(user_agent: &[u8]) -> bool {
    user_agent.trim_ascii().eq_ignore_ascii_case(b"mozilla/5.0")
}

/// Whether a header says this is a prefetch or a preview rather than a view.
fn is_prefetch(headers: &HeaderMap) -> bool {
    [&SEC_PURPOSE, &PURPOSE, &X_PURPOSE, &X_MOZ]
        .iter()
        .any(|name| {
            headers.get(*name).is_some_and(|value| {
                let value = value.as_bytes();
                contains_ignore_case(value, b"prefetch") || contains_ignore_case(value, b"preview")
            })
        })
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

fn in_networks(ip: IpAddr, networks: &[IpNet]) -> bool {
    networks.iter().any(|n| n.contains(&ip))
}

fn in_apple_network(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V4(v4) if v4.octets()[..1] == APPLE_NETWORK)
}

/// Classifies a pixel fetch when it arrives. `client` is the client's address (after
/// trusted proxies), `own_networks` the tenant's networks from the configuration.
/// Self-views by the sender's registering network are found later, by the writer, which
/// knows the message.
pub fn classify(
    method: &Method,
    headers: &HeaderMap,
    client: Option<IpAddr>,
    own_networks: &[IpNet],
) -> (Class, Agent) {
    let user_agent = headers
        .get(header::USER_AGENT)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    let flags = markers(user_agent);
    let agent = if user_agent.trim_ascii().is_empty() {
        Agent::None
    } else {
        family(user_agent, flags)
    };
    let automated = matches!(agent, Agent::Scanner | Agent::Library | Agent::None);
    // Only a GET shows the image: HEAD, OPTIONS, POST and the rest are something checking.
    let class = if *method != Method::GET || automated || is_prefetch(headers) {
        Class::Scanner
    } else if client.is_some_and(|ip| in_networks(ip, own_networks)) {
        Class::SelfView
    } else if agent == Agent::GmailProxy {
        Class::GoogleProxy
    } else if agent == Agent::AppleProxy
        || (client.is_some_and(in_apple_network)
            && matches!(agent, Agent::AppleMail | Agent::Safari | Agent::Other))
    {
        Class::ApplePrivacy
    } else {
        Class::Direct
    };
    (class, agent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const OUTLOOK_UA: &str =
        "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)";
    const THUNDERBIRD_UA: &str =
        "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0";
    const APPLE_MAIL_UA: &str =
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)";
    const IOS_MAIL_UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148";
    const GMAIL_UA: &str =
        "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)";
    const CHROME_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    const EDGE_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86";
    const SAFARI_UA: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15";
    const FIREFOX_UA: &str =
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";

    fn with(method: Method, ua: Option<&str>, extra: &[(&'static str, &str)]) -> (Class, Agent) {
        with_ip(method, ua, extra, None, &[])
    }

    fn with_ip(
        method: Method,
        ua: Option<&str>,
        extra: &[(&'static str, &str)],
        ip: Option<&str>,
        own: &[IpNet],
    ) -> (Class, Agent) {
        let mut headers = HeaderMap::new();
        if let Some(ua) = ua {
            headers.insert(header::USER_AGENT, HeaderValue::from_str(ua).unwrap());
        }
        for (name, value) in extra {
            headers.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        classify(&method, &headers, ip.map(|ip| ip.parse().unwrap()), own)
    }

    fn get(ua: &str) -> (Class, Agent) {
        with(Method::GET, Some(ua), &[])
    }

    #[test]
    fn mail_clients_and_browsers_are_direct() {
        assert_eq!(get(OUTLOOK_UA), (Class::Direct, Agent::Outlook));
        assert_eq!(
            get("Outlook-iOS/709.2226530.prod.iphone (4.2426.0)"),
            (Class::Direct, Agent::Outlook)
        );
        assert_eq!(get(THUNDERBIRD_UA), (Class::Direct, Agent::Thunderbird));
        assert_eq!(get(APPLE_MAIL_UA), (Class::Direct, Agent::AppleMail));
        assert_eq!(get(IOS_MAIL_UA), (Class::Direct, Agent::AppleMail));
        assert_eq!(get(CHROME_UA), (Class::Direct, Agent::Chrome));
        assert_eq!(get(EDGE_UA), (Class::Direct, Agent::Edge));
        assert_eq!(get(SAFARI_UA), (Class::Direct, Agent::Safari));
        assert_eq!(get(FIREFOX_UA), (Class::Direct, Agent::Firefox));
        assert_eq!(get("SomeMailer 1.0"), (Class::Direct, Agent::Other));
        // A phone brand with "bot" in its name is not a bot.
        assert_eq!(
            get("Mozilla/5.0 (Linux; Android 10; CUBOT_X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36"),
            (Class::Direct, Agent::Chrome)
        );
    }

    #[test]
    fn proxies() {
        assert_eq!(get(GMAIL_UA), (Class::GoogleProxy, Agent::GmailProxy));
        assert_eq!(
            get("Mozilla/5.0 (compatible; ggpht.com)"),
            (Class::GoogleProxy, Agent::GmailProxy)
        );
        assert_eq!(get("Mozilla/5.0"), (Class::ApplePrivacy, Agent::AppleProxy));
        assert_eq!(
            get(" mozilla/5.0 "),
            (Class::ApplePrivacy, Agent::AppleProxy)
        );
        // Apple's network with Apple Mail's user agent: the privacy proxy.
        assert_eq!(
            with_ip(
                Method::GET,
                Some(APPLE_MAIL_UA),
                &[],
                Some("17.58.101.7"),
                &[]
            ),
            (Class::ApplePrivacy, Agent::AppleMail)
        );
        // Elsewhere, Apple Mail fetching directly (privacy protection off).
        assert_eq!(
            with_ip(Method::GET, Some(APPLE_MAIL_UA), &[], Some("81.4.1.9"), &[]),
            (Class::Direct, Agent::AppleMail)
        );
        // A Yahoo proxy fetch is an open, not a Google one.
        assert_eq!(
            get("YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"),
            (Class::Direct, Agent::YahooProxy)
        );
    }

    #[test]
    fn scanners() {
        for ua in [
            "Mozilla/5.0 (compatible; Mimecast URL Protect)",
            "Proofpoint URL Defense",
            "Barracuda Sentinel (EE)",
            "Microsoft Defender for Office 365 SafeLinks",
            "curl/8.5.0",
            "python-requests/2.32.3",
            "Go-http-client/1.1",
            "Java/17.0.2",
            "Wget/1.21.4",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
        ] {
            let (class, agent) = get(ua);
            assert_eq!(class, Class::Scanner, "{ua}");
            assert!(matches!(agent, Agent::Scanner | Agent::Library), "{ua}: {agent:?}");
        }
        // No user agent at all.
        assert_eq!(with(Method::GET, None, &[]), (Class::Scanner, Agent::None));
        assert_eq!(
            with(Method::GET, Some("  "), &[]),
            (Class::Scanner, Agent::None)
        );
        // HEAD is never a view, whatever it claims to be, nor is any method but GET.
        assert_eq!(
            with(Method::HEAD, Some(OUTLOOK_UA), &[]),
            (Class::Scanner, Agent::Outlook)
        );
        for method in [
            Method::OPTIONS,
            Method::POST,
            Method::PUT,
            Method::from_bytes(b"PROPFIND").unwrap(),
        ] {
            assert_eq!(
                with(method.clone(), Some(THUNDERBIRD_UA), &[]),
                (Class::Scanner, Agent::Thunderbird),
                "{method}"
            );
        }
        // Prefetches and previews.
        assert_eq!(
            with(Method::GET, Some(CHROME_UA), &[("sec-purpose", "prefetch")]).0,
            Class::Scanner
        );
        assert_eq!(
            with(
                Method::GET,
                Some(CHROME_UA),
                &[("sec-purpose", "prefetch;prerender")]
            )
            .0,
            Class::Scanner
        );
        assert_eq!(
            with(Method::GET, Some(CHROME_UA), &[("purpose", "Prefetch")]).0,
            Class::Scanner
        );
        assert_eq!(
            with(Method::GET, Some(SAFARI_UA), &[("x-purpose", "preview")]).0,
            Class::Scanner
        );
        assert_eq!(
            with(Method::GET, Some(FIREFOX_UA), &[("x-moz", "prefetch")]).0,
            Class::Scanner
        );
        assert_eq!(
            with(Method::GET, Some(CHROME_UA), &[("purpose", "other")]).0,
            Class::Direct
        );
        // A scanner from Google's network is still a scanner.
        assert_eq!(
            get("Mozilla/5.0 GoogleImageProxy curl/8.0").0,
            Class::Scanner
        );
    }

    #[test]
    fn own_networks_are_self_views() {
        let own: Vec<IpNet> = vec![
            "192.0.2.0/24".parse().unwrap(),
            "2001:db8:1::/48".parse().unwrap(),
        ];
        assert_eq!(
            with_ip(Method::GET, Some(OUTLOOK_UA), &[], Some("192.0.2.77"), &own),
            (Class::SelfView, Agent::Outlook)
        );
        assert_eq!(
            with_ip(
                Method::GET,
                Some(OUTLOOK_UA),
                &[],
                Some("2001:db8:1:5::1"),
                &own
            )
            .0,
            Class::SelfView
        );
        assert_eq!(
            with_ip(Method::GET, Some(OUTLOOK_UA), &[], Some("192.0.3.1"), &own).0,
            Class::Direct
        );
        // A scanner inside the tenant's network stays a scanner.
        assert_eq!(
            with_ip(
                Method::HEAD,
                Some(OUTLOOK_UA),
                &[],
                Some("192.0.2.77"),
                &own
            )
            .0,
            Class::Scanner
        );
    }

    #[test]
    fn long_user_agents_are_bounded() {
        let ua = format!("{}Mimecast", "x".repeat(4096));
        // The marker lies beyond what is looked at.
        assert_eq!(get(&ua), (Class::Direct, Agent::Other));
    }

    #[test]
    fn class_names_round_trip() {
        for class in Class::ALL {
            assert_eq!(Class::parse(class.as_str()), Some(class));
        }
    }
}
