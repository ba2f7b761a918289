//! The state every handler can reach: one struct, cloned cheaply per request.

use std::sync::Arc;

use axum::extract::FromRef;
use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::i18n::Catalogues;
use crate::objects::Objects;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub objects: Objects,
    pub i18n: Catalogues,
    /// Single sign-on with the OpenID provider, when configured (`KONGJIAN_OIDC_ISSUER`).
    pub sso: Option<Arc<crate::auth::oidc::Sso>>,
    /// This installation's globally unique id (see the installation migration).
    pub installation_id: Arc<str>,
    /// Cancelled when the server begins to shut down; long-lived tasks (sockets, indexers)
    /// watch it to finish cleanly.
    pub shutdown: CancellationToken,
}
