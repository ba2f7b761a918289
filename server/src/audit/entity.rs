//! The `audit_events` table.

pub mod audit_event {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_events")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub at: ChronoDateTimeUtc,
        pub action: String,
        pub outcome: String,
        pub actor_id: Option<String>,
        pub subject_id: Option<String>,
        pub org_id: Option<String>,
        pub login_key: Option<String>,
        pub ip: Option<String>,
        pub user_agent: Option<String>,
        pub detail: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
