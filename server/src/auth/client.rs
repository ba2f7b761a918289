//! Where a request comes from: the client's address and user agent, for the audit log and for
//! throttling sign-in attempts per address.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use crate::state::AppState;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

impl ClientInfo {
    /// The client of a request that reached us from `peer`. `X-Forwarded-For` is believed only
    /// when the peer is one of the trusted proxies (`KONGJIAN_TRUSTED_PROXIES`, loopback by
    /// default); then its last entry, the one our proxy added, is the client.
    pub fn from_parts(headers: &HeaderMap, peer: Option<IpAddr>, trusted: &[IpAddr]) -> Self {
        let forwarded = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok());
        let ip = match (peer, forwarded) {
            (Some(peer), Some(forwarded)) if trusted.contains(&peer) => Some(forwarded),
            (peer, _) => peer,
        };
        let user_agent = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(256).collect());
        ClientInfo { ip, user_agent }
    }
}

impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(ClientInfo::from_parts(
            &parts.headers,
            peer,
            &state.config.trusted_proxies,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().expect("header"));
        h
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let loopback: IpAddr = "127.0.0.1".parse().expect("ip");
        let stranger: IpAddr = "203.0.113.9".parse().expect("ip");
        let trusted = [loopback];
        let h = headers("198.51.100.1, 198.51.100.2");
        assert_eq!(
            ClientInfo::from_parts(&h, Some(loopback), &trusted).ip,
            Some("198.51.100.2".parse().expect("ip"))
        );
        assert_eq!(
            ClientInfo::from_parts(&h, Some(stranger), &trusted).ip,
            Some(stranger)
        );
        assert_eq!(
            ClientInfo::from_parts(&headers("nonsense"), Some(loopback), &trusted).ip,
            Some(loopback)
        );
    }
}
