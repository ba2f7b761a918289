//! sea-orm entities of the roster tables (see the `create_roster` migration).
//!
//! Lists (grades, subjects, term ids, user ids) are stored as text joined by commas: they are
//! shown and matched, never queried by element.

macro_rules! no_relations {
    () => {
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}
        impl ActiveModelBehavior for ActiveModel {}
    };
}

pub mod org {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "orgs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        #[sea_orm(unique)]
        pub sourced_id: String,
        pub name: String,
        pub org_type: String,
        pub identifier: Option<String>,
        pub parent_id: Option<String>,
        pub status: String,
        pub row_hash: i64,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }
    no_relations!();
}

pub mod session {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "academic_sessions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        #[sea_orm(unique)]
        pub sourced_id: String,
        pub title: String,
        pub session_type: String,
        pub start_date: Date,
        pub end_date: Date,
        pub parent_id: Option<String>,
        pub school_year: i32,
        pub status: String,
        pub row_hash: i64,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }
    no_relations!();
}

pub mod course {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "courses")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        #[sea_orm(unique)]
        pub sourced_id: String,
        pub title: String,
        pub course_code: Option<String>,
        pub grades: String,
        pub subjects: String,
        pub org_id: String,
        pub school_year_id: Option<String>,
        pub status: String,
        pub row_hash: i64,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }
    no_relations!();
}

pub mod class {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "classes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        #[sea_orm(unique)]
        pub sourced_id: String,
        pub title: String,
        pub class_code: Option<String>,
        pub class_type: String,
        pub grades: String,
        pub subjects: String,
        pub term_ids: String,
        pub course_id: String,
        pub school_id: String,
        pub status: String,
        pub row_hash: i64,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }
    no_relations!();
}

pub mod person {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "people")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        #[sea_orm(unique)]
        pub sourced_id: String,
        pub family_name: String,
        pub given_name: String,
        pub display_name: String,
        pub username: Option<String>,
        pub email: Option<String>,
        pub phone: Option<String>,
        pub enabled: bool,
        pub sex: Option<String>,
        pub birth_date: Option<Date>,
        pub user_ids: String,
        pub status: String,
        pub row_hash: i64,
        pub retired_at: Option<ChronoDateTimeUtc>,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }
    no_relations!();
}

pub mod person_alias {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "person_aliases")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub sourced_id: String,
        pub person_id: String,
        pub created_at: ChronoDateTimeUtc,
    }
    no_relations!();
}

pub mod role {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "roles")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        #[sea_orm(unique)]
        pub sourced_id: String,
        pub person_id: String,
        pub org_id: String,
        pub role: String,
        pub role_type: String,
        pub begin_date: Option<Date>,
        pub end_date: Option<Date>,
        pub status: String,
        pub row_hash: i64,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }
    no_relations!();
}

pub mod enrollment {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "enrollments")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        #[sea_orm(unique)]
        pub sourced_id: String,
        pub class_id: String,
        pub person_id: String,
        pub school_id: String,
        pub role: String,
        pub is_primary: bool,
        pub subject: Option<String>,
        pub begin_date: Option<Date>,
        pub end_date: Option<Date>,
        pub status: String,
        pub row_hash: i64,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }
    no_relations!();
}

pub mod guardian_link {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "guardian_links")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub student_id: String,
        pub guardian_id: String,
        pub relation: String,
        pub is_legal_guardian: bool,
        pub status: String,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }
    no_relations!();
}

pub mod space {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "spaces")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub kind: String,
        pub person_id: Option<String>,
        pub class_id: Option<String>,
        pub org_id: Option<String>,
        pub status: String,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }
    no_relations!();
}

pub mod roster_import {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "roster_imports")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub origin: String,
        pub source_name: String,
        pub format: Option<String>,
        pub outcome: String,
        pub actor_id: Option<String>,
        pub report: String,
        pub started_at: ChronoDateTimeUtc,
        pub finished_at: ChronoDateTimeUtc,
        /// SHA-256 of the files (`Source::digest`), for imports that wrote something.
        pub digest: Option<String>,
        /// What importing the same files again reports (`Plan::reimport_counts`), as JSON.
        pub reimport_counts: Option<String>,
    }
    no_relations!();
}
