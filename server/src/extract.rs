//! Extractors: what the router reads from a request before a handler runs, so
//! handlers get typed values and a bad request is refused in one place with the
//! same JSON error as every other.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts, Path},
    http::{header, request::Parts},
};
use serde::{Deserialize, Deserializer};
use shared::{
    api::{ApiError, Caller},
    crypto::b64,
    model::Id,
};
use zeroize::Zeroizing;

use crate::{error::AppError, proxy::client_addr, state::AppState};

/// Who is calling, read from the request (see [`caller_of`]) before the
/// handler runs. A newtype because [`Caller`] belongs to `shared`.
pub struct RequestCaller(pub Caller);

impl FromRequestParts<AppState> for RequestCaller {
    /// Never produced today (a missing or unreadable cookie is an anonymous
    /// caller), but any future refusal answers like every other API error.
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<RequestCaller, AppError> {
        Ok(RequestCaller(caller_of(state, parts)))
    }
}

/// Who is calling: the session cookie (unchecked, under the name this server
/// sets), the client address (from the connection, or behind trusted proxies
/// from `X-Forwarded-For`; oneshot tests have no connection and count as
/// 127.0.0.1) and a readable name for the browser.
fn caller_of(state: &AppState, req: &Parts) -> Caller {
    let cookie_name = state.session_cookie();
    let token = req
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == cookie_name)
        .map(|(_, value)| Zeroizing::new(value.trim().to_owned()));
    let peer = req
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    let addr = client_addr(peer, &req.headers, &state.trusted_proxies);
    let agent = describe_user_agent(
        req.headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(""),
    );
    Caller::new(token, addr, agent)
}

/// The address of one chunk, from the path `{CHUNK_ROUTE}/{node}/{version}/{index}`.
/// Anything malformed answers `not_found`, like an id that does not exist, so a
/// probe learns nothing from the difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkAddress {
    /// The file's node id.
    pub node: Id,
    /// The version of the file.
    pub version: u32,
    /// The chunk's index within the version.
    pub index: u32,
}

impl<S: Send + Sync> FromRequestParts<S> for ChunkAddress {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<ChunkAddress, AppError> {
        // Path decodes `%XX`, but an id and a number never need it: an encoded
        // address is not one the app makes, and it stays `not_found`.
        if parts.uri.path().contains('%') {
            return Err(ApiError::not_found().into());
        }
        let Path((B64Id(node), Decimal(version), Decimal(index))) =
            Path::<(B64Id, Decimal, Decimal)>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::not_found())?;
        Ok(ChunkAddress {
            node,
            version,
            index,
        })
    }
}

/// A node id in a path: unpadded base64url of exactly 16 bytes, nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct B64Id(pub Id);

impl<'de> Deserialize<'de> for B64Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<B64Id, D::Error> {
        let text = String::deserialize(d)?;
        b64::decode(&text)
            .and_then(|bytes| Id::try_from(bytes.as_slice()).ok())
            .map(B64Id)
            .ok_or_else(|| serde::de::Error::custom("not a base64url id"))
    }
}

/// A number in a path: 1 to 10 ASCII digits that fit a `u32`. Stricter than
/// `u32`'s own parsing, which would take a sign (`+1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal(pub u32);

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        let text = String::deserialize(d)?;
        let digits =
            !text.is_empty() && text.len() <= 10 && text.bytes().all(|b| b.is_ascii_digit());
        digits
            .then(|| text.parse::<u32>().ok())
            .flatten()
            .map(Decimal)
            .ok_or_else(|| serde::de::Error::custom("not a decimal u32"))
    }
}

/// A short, readable name for the browser behind a User-Agent ("Firefox on
/// Windows"), for the session list: people recognise that, not the raw header.
/// Unknown agents get their first 40 printable characters.
pub fn describe_user_agent(agent: &str) -> String {
    // Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Safari/", "Safari"),
    ]
    .iter()
    .find(|(marker, _)| agent.contains(marker))
    .map(|(_, name)| *name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(marker, _)| agent.contains(marker))
    .map(|(_, name)| *name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(s)) => format!("A browser on {s}"),
        (None, None) if agent.trim().is_empty() => "Unknown client".to_owned(),
        (None, None) => agent.chars().filter(|c| !c.is_control()).take(40).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::{describe_user_agent, B64Id, Decimal};
    use serde::de::{value::StrDeserializer, Deserialize, IntoDeserializer};

    fn decimal(text: &str) -> Option<u32> {
        let d: StrDeserializer<'_, serde::de::value::Error> = text.into_deserializer();
        Decimal::deserialize(d).ok().map(|n| n.0)
    }

    fn id(text: &str) -> Option<[u8; 16]> {
        let d: StrDeserializer<'_, serde::de::value::Error> = text.into_deserializer();
        B64Id::deserialize(d).ok().map(|n| n.0)
    }

    #[test]
    fn path_numbers_are_plain_digits_that_fit() {
        assert_eq!(decimal("0"), Some(0));
        assert_eq!(decimal("007"), Some(7));
        assert_eq!(decimal("4294967295"), Some(u32::MAX));
        for bad in [
            "",
            "+1",
            "-1",
            "1 ",
            "x",
            "4294967296",
            "00000000001",
            "1e3",
        ] {
            assert_eq!(decimal(bad), None, "{bad:?}");
        }
    }

    #[tokio::test]
    async fn chunk_addresses_are_read_from_the_path_and_bad_ones_are_not_found() {
        use axum::{body::Body, http::Request, routing::get, Router};
        use tower::ServiceExt as _;

        async fn echo(address: super::ChunkAddress) -> String {
            format!("{}/{}", address.version, address.index)
        }
        let app = Router::new().route("/c/{node}/{version}/{index}", get(echo));
        let id = shared::crypto::b64::encode(&[7u8; 16]);
        let call = |path: String| {
            let app = app.clone();
            async move {
                let res = app
                    .oneshot(Request::get(path).body(Body::empty()).unwrap())
                    .await
                    .unwrap();
                let status = res.status().as_u16();
                let body = axum::body::to_bytes(res.into_body(), 1024).await.unwrap();
                (status, String::from_utf8_lossy(&body).into_owned())
            }
        };
        assert_eq!(
            call(format!("/c/{id}/3/12")).await,
            (200, "3/12".to_owned())
        );
        for bad in [
            format!("/c/{id}/%33/12"),
            format!("/c/%41{}/3/12", &id[1..]),
            format!("/c/{id}/+3/12"),
            format!("/c/{id}=/3/12"),
        ] {
            let (status, body) = call(bad.clone()).await;
            assert_eq!(status, 404, "{bad}");
            let e: shared::api::ApiError = serde_json::from_str(&body).unwrap();
            assert_eq!(e, shared::api::ApiError::not_found(), "{bad}");
        }
    }

    #[test]
    fn path_ids_are_16_bytes_of_unpadded_base64url() {
        let good = shared::crypto::b64::encode(&[7u8; 16]);
        assert_eq!(id(&good), Some([7u8; 16]));
        let short = shared::crypto::b64::encode(&[7u8; 15]);
        let long = shared::crypto::b64::encode(&[7u8; 17]);
        for bad in [short, long, format!("{good}="), "not*base64".to_owned()] {
            assert_eq!(id(&bad), None, "{bad:?}");
        }
    }

    #[test]
    fn user_agents_read_as_browser_on_system() {
        for (agent, expect) in [
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/142.0.0.0 Safari/537.36",
                "Chrome on Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
                "Firefox on Windows",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
                "Safari on iOS",
            ),
            ("TestBrowser/1.0", "TestBrowser/1.0"),
            ("", "Unknown client"),
        ] {
            assert_eq!(describe_user_agent(agent), expect, "{agent}");
        }
    }
}
