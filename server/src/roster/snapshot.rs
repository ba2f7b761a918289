//! What the database already holds of the roster, loaded once per import so that checking and
//! diffing run in memory and the write phase only writes.

use crate::roster::HashMap;

use sea_orm::{ConnectionTrait, DbErr, DerivePartialModel, EntityTrait};

use super::entity::{
    class, course, enrollment, guardian_link, org, person, person_alias, role, session, space,
};

pub const ACTIVE: &str = "active";
pub const RETIRED: &str = "retired";

/// The columns of a person an import needs (full rows of a county cost gigabytes).
#[derive(Debug, Clone, DerivePartialModel)]
#[sea_orm(entity = "person::Entity")]
pub struct PersonRow {
    pub id: String,
    pub sourced_id: String,
    pub phone: Option<String>,
    pub status: String,
    pub row_hash: i64,
}

#[derive(Debug, Clone, DerivePartialModel)]
#[sea_orm(entity = "role::Entity")]
pub struct RoleRow {
    pub id: String,
    pub sourced_id: String,
    pub person_id: String,
    pub org_id: String,
    pub role: String,
    pub status: String,
    pub row_hash: i64,
}

#[derive(Debug, Clone, DerivePartialModel)]
#[sea_orm(entity = "enrollment::Entity")]
pub struct EnrollmentRow {
    pub id: String,
    pub sourced_id: String,
    pub school_id: String,
    pub status: String,
    pub row_hash: i64,
}

#[derive(Debug, Clone, DerivePartialModel)]
#[sea_orm(entity = "guardian_link::Entity")]
pub struct LinkRow {
    pub id: String,
    pub student_id: String,
    pub guardian_id: String,
    pub relation: String,
    pub is_legal_guardian: bool,
    pub status: String,
}

#[derive(Debug, Clone, DerivePartialModel)]
#[sea_orm(entity = "space::Entity")]
pub struct SpaceRow {
    pub id: String,
    pub kind: String,
    pub person_id: Option<String>,
    pub class_id: Option<String>,
    pub org_id: Option<String>,
    pub status: String,
}

#[derive(Debug, Default)]
pub struct Snapshot {
    pub orgs: HashMap<String, org::Model>,
    pub sessions: HashMap<String, session::Model>,
    pub courses: HashMap<String, course::Model>,
    pub classes: HashMap<String, class::Model>,
    /// People by their canonical sourcedId.
    pub people: HashMap<String, PersonRow>,
    /// Merged sourcedIds → person id.
    pub aliases: HashMap<String, String>,
    pub roles: HashMap<String, RoleRow>,
    pub enrollments: HashMap<String, EnrollmentRow>,
    /// Links by (student person id, guardian person id).
    pub links: HashMap<(String, String), LinkRow>,
    pub spaces: Vec<SpaceRow>,
}

fn by_sourced_id<M>(rows: Vec<M>, key: impl Fn(&M) -> String) -> HashMap<String, M> {
    rows.into_iter().map(|m| (key(&m), m)).collect()
}

impl Snapshot {
    pub async fn load(db: &impl ConnectionTrait) -> Result<Snapshot, DbErr> {
        Ok(Snapshot {
            orgs: by_sourced_id(org::Entity::find().all(db).await?, |m| m.sourced_id.clone()),
            sessions: by_sourced_id(session::Entity::find().all(db).await?, |m| {
                m.sourced_id.clone()
            }),
            courses: by_sourced_id(course::Entity::find().all(db).await?, |m| {
                m.sourced_id.clone()
            }),
            classes: by_sourced_id(class::Entity::find().all(db).await?, |m| {
                m.sourced_id.clone()
            }),
            people: by_sourced_id(
                person::Entity::find()
                    .into_partial_model::<PersonRow>()
                    .all(db)
                    .await?,
                |m| m.sourced_id.clone(),
            ),
            aliases: person_alias::Entity::find()
                .all(db)
                .await?
                .into_iter()
                .map(|a| (a.sourced_id, a.person_id))
                .collect(),
            roles: by_sourced_id(
                role::Entity::find()
                    .into_partial_model::<RoleRow>()
                    .all(db)
                    .await?,
                |m| m.sourced_id.clone(),
            ),
            enrollments: by_sourced_id(
                enrollment::Entity::find()
                    .into_partial_model::<EnrollmentRow>()
                    .all(db)
                    .await?,
                |m| m.sourced_id.clone(),
            ),
            links: guardian_link::Entity::find()
                .into_partial_model::<LinkRow>()
                .all(db)
                .await?
                .into_iter()
                .map(|l| ((l.student_id.clone(), l.guardian_id.clone()), l))
                .collect(),
            spaces: space::Entity::find()
                .into_partial_model::<SpaceRow>()
                .all(db)
                .await?,
        })
    }

    /// The person a sourcedId names, through an alias if it was merged.
    pub fn person_id(&self, sourced_id: &str) -> Option<&str> {
        self.people
            .get(sourced_id)
            .map(|p| p.id.as_str())
            .or_else(|| self.aliases.get(sourced_id).map(String::as_str))
    }
}
