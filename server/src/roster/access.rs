//! Who may import rosters: district and system administrators (a roster can touch every
//! school of the district, so a school's administrator asks the district).

use sea_orm::ConnectionTrait;

use crate::error::{AppError, ErrorCode};
use crate::people::store;
use crate::roster::entity::person;

const IMPORTER_ROLES: [&str; 2] = ["districtAdministrator", "systemAdministrator"];

pub async fn require_importer(
    db: &impl ConnectionTrait,
    caller: &person::Model,
) -> Result<(), AppError> {
    let roles = store::active_roles(db, &caller.id).await?;
    if roles
        .iter()
        .any(|r| IMPORTER_ROLES.contains(&r.role.as_str()))
    {
        Ok(())
    } else {
        Err(AppError::new(ErrorCode::Forbidden))
    }
}
