//! The OpenID provider as this server sees it: discovered on first use, asked to authorize,
//! and asked who signed in.
//!
//! Discovery is lazy so that a provider outage cannot stop start-up, and repeated after an hour
//! so that rotated signing keys are picked up; a failed refresh keeps the last good client and
//! tries again a minute later. The HTTP client follows no redirects (the crate's advice against
//! SSRF) and gives up after ten seconds.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AccessTokenHash, AdditionalClaims, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    DiscoveryError, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IdTokenFields, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, StandardErrorResponse, StandardTokenResponse, TokenResponse,
    UserInfoClaims, reqwest,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::RwLock;

use crate::config::{Config, OidcConfig};
use crate::error::{AppError, ErrorCode};

/// Fetch the provider's metadata and keys again after this long …
const REDISCOVER_AFTER: Duration = Duration::from_secs(3600);
/// … or this long after a failed refresh, meanwhile using what we have.
const RETRY_AFTER: Duration = Duration::from_secs(60);
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Claims beyond the standard ones, so that any claim can name the person.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
struct OtherClaims {
    #[serde(flatten)]
    rest: serde_json::Map<String, Value>,
}

impl AdditionalClaims for OtherClaims {}

type Tokens = StandardTokenResponse<
    IdTokenFields<
        OtherClaims,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;

/// The client as discovery makes it: authorization endpoint known, token and userinfo
/// endpoints as the provider advertises them.
type OidcClient = openidconnect::Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    Tokens,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The SSO settings, the HTTP client and the discovered provider, shared by every request.
pub struct Sso {
    config: OidcConfig,
    redirect: RedirectUrl,
    http: reqwest::Client,
    discovered: RwLock<Option<Discovered>>,
}

struct Discovered {
    client: Arc<OidcClient>,
    refresh_at: Instant,
}

/// A started authorization: where to send the browser, and the secrets to check the answer.
pub(super) struct Authorization {
    pub url: url::Url,
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

impl Sso {
    /// The SSO of this configuration, when `KONGJIAN_OIDC_ISSUER` is set. Contacts nobody.
    pub fn from_config(config: &Config) -> anyhow::Result<Option<Arc<Sso>>> {
        let Some(oidc) = &config.oidc else {
            return Ok(None);
        };
        let redirect = RedirectUrl::new(format!("{}/auth/sso/callback", config.base_url()))?;
        let http = reqwest::ClientBuilder::new()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .build()
            .context("building the HTTP client for single sign-on")?;
        Ok(Some(Arc::new(Sso {
            config: oidc.clone(),
            redirect,
            http,
            discovered: RwLock::new(None),
        })))
    }

    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    /// Whether `iss` from the callback names our provider (RFC 9207, against mix-ups).
    pub(super) fn is_issuer(&self, iss: &str) -> bool {
        issuer_candidates(&self.config.issuer)
            .iter()
            .any(|c| c == iss)
    }

    /// An authorization request: code flow, PKCE S256, fresh state and nonce, scope
    /// `openid profile`. `sso_unavailable` when the provider cannot be discovered.
    pub(super) async fn authorize(&self) -> Result<Authorization, AppError> {
        let oidc = self.client().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = oidc
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".to_owned()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(Authorization {
            url,
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
        })
    }

    /// Who the provider says signed in: the configured claim's value, from the validated ID
    /// token, else from userinfo. `None` when the provider does not release that claim.
    pub(super) async fn identify(
        &self,
        code: String,
        verifier: &str,
        nonce: &str,
    ) -> anyhow::Result<Option<String>> {
        let oidc = self
            .client()
            .await
            .map_err(|_| anyhow::anyhow!("the provider cannot be discovered"))?;
        let tokens = oidc
            .exchange_code(AuthorizationCode::new(code))?
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| anyhow::anyhow!("exchanging the code: {e:?}"))?;
        let id_token = tokens.id_token().context("the provider sent no ID token")?;
        let id_verifier = oidc.id_token_verifier();
        let claims = id_token.claims(&id_verifier, &Nonce::new(nonce.to_owned()))?;
        if let Some(expected) = claims.access_token_hash() {
            let actual = AccessTokenHash::from_token(
                tokens.access_token(),
                id_token.signing_alg()?,
                id_token.signing_key(&id_verifier)?,
            )?;
            ensure!(actual == *expected, "the ID token's at_hash is wrong");
        }
        if let Some(value) = claim_value(&serde_json::to_value(claims)?, &self.config.claim) {
            return Ok(Some(value));
        }
        let Ok(request) = oidc.user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        ) else {
            return Ok(None);
        };
        let info: UserInfoClaims<OtherClaims, CoreGenderClaim> = request
            .request_async(&self.http)
            .await
            .map_err(|e| anyhow::anyhow!("fetching userinfo: {e:?}"))?;
        Ok(claim_value(
            &serde_json::to_value(&info)?,
            &self.config.claim,
        ))
    }

    /// The discovered client; discovers (again) when there is none or it is due.
    async fn client(&self) -> Result<Arc<OidcClient>, AppError> {
        if let Some(found) = self.discovered.read().await.as_ref()
            && found.refresh_at > Instant::now()
        {
            return Ok(found.client.clone());
        }
        let mut slot = self.discovered.write().await;
        if let Some(found) = slot.as_ref()
            && found.refresh_at > Instant::now()
        {
            return Ok(found.client.clone());
        }
        match self.discover().await {
            Ok(client) => {
                let client = Arc::new(client);
                *slot = Some(Discovered {
                    client: client.clone(),
                    refresh_at: Instant::now() + REDISCOVER_AFTER,
                });
                Ok(client)
            }
            Err(err) => {
                tracing::warn!(issuer = %self.config.issuer, error = %format!("{err:#}"), "OpenID Connect discovery failed");
                let stale = slot
                    .as_mut()
                    .ok_or(AppError::new(ErrorCode::SsoUnavailable))?;
                stale.refresh_at = Instant::now() + RETRY_AFTER;
                Ok(stale.client.clone())
            }
        }
    }

    async fn discover(&self) -> anyhow::Result<OidcClient> {
        let mut candidates = issuer_candidates(&self.config.issuer)
            .into_iter()
            .peekable();
        while let Some(issuer) = candidates.next() {
            let metadata =
                match CoreProviderMetadata::discover_async(IssuerUrl::new(issuer)?, &self.http)
                    .await
                {
                    Ok(metadata) => metadata,
                    // The provider spells its name the other way: try that one.
                    Err(DiscoveryError::Validation(_)) if candidates.peek().is_some() => continue,
                    Err(err) => return Err(err.into()),
                };
            let secret = self.config.client_secret.clone().map(ClientSecret::new);
            let client = OidcClient::from_provider_metadata(
                metadata,
                ClientId::new(self.config.client_id.clone()),
                secret,
            )
            .set_redirect_uri(self.redirect.clone());
            return Ok(client);
        }
        anyhow::bail!("no issuer to discover")
    }
}

/// The spellings of the issuer to try: a URL without a path may be written with or without
/// its final slash, and discovery compares the provider's own spelling exactly.
fn issuer_candidates(issuer: &url::Url) -> Vec<String> {
    let written = issuer.as_str().to_owned();
    if issuer.path() == "/" && issuer.query().is_none() {
        vec![written.trim_end_matches('/').to_owned(), written]
    } else {
        vec![written]
    }
}

/// A claim's value as a login key: a non-empty string, or a number.
fn claim_value(claims: &Value, name: &str) -> Option<String> {
    match claims.get(name)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn claims_are_read_as_strings_or_numbers() {
        let claims = json!({"sub": "t1", "uid": 42, "blank": " ", "list": ["a"]});
        assert_eq!(claim_value(&claims, "sub").as_deref(), Some("t1"));
        assert_eq!(claim_value(&claims, "uid").as_deref(), Some("42"));
        assert_eq!(claim_value(&claims, "blank"), None);
        assert_eq!(claim_value(&claims, "list"), None);
        assert_eq!(claim_value(&claims, "missing"), None);
    }

    #[test]
    fn an_issuer_without_a_path_is_tried_without_and_with_its_slash() -> anyhow::Result<()> {
        let bare = url::Url::parse("http://127.0.0.1:3000")?;
        assert_eq!(
            issuer_candidates(&bare),
            ["http://127.0.0.1:3000", "http://127.0.0.1:3000/"]
        );
        let realm = url::Url::parse("https://idp.example.cn/realms/edu")?;
        assert_eq!(
            issuer_candidates(&realm),
            ["https://idp.example.cn/realms/edu"]
        );
        Ok(())
    }
}
