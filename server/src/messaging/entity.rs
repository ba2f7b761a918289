//! The messaging tables (see the `create_messaging` migration).

pub mod conversation {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "conversations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// `direct` (two people) or `group` (the teachers of a class).
        pub kind: String,
        pub direct_key: Option<String>,
        pub class_id: Option<String>,
        pub title: Option<String>,
        pub created_by: String,
        pub last_seq: i64,
        pub last_message_at: Option<ChronoDateTimeUtc>,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod member {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "conversation_members")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub conversation_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub person_id: String,
        pub delivered_seq: i64,
        pub read_seq: i64,
        pub joined_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod message {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "messages")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub conversation_id: String,
        /// Assigned when the message is delivered; `None` while quiet hours hold it.
        pub seq: Option<i64>,
        pub sender_id: String,
        pub nonce: String,
        pub body: String,
        /// JSON array of attachment ids.
        pub attachments: String,
        pub held: bool,
        pub deliver_at: ChronoDateTimeUtc,
        pub created_at: ChronoDateTimeUtc,
        pub edited_at: Option<ChronoDateTimeUtc>,
        pub recalled_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod notice {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notices")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub sender_id: String,
        pub school_id: String,
        /// `class`, `grade` or `school`.
        pub audience_kind: String,
        /// The class id, or the school's org id for a grade or a school.
        pub audience_id: String,
        pub grade: Option<String>,
        pub title: String,
        pub body: String,
        pub attachments: String,
        pub requires_confirmation: bool,
        pub include_students: bool,
        pub urgent: bool,
        pub nonce: String,
        pub held: bool,
        pub deliver_at: ChronoDateTimeUtc,
        pub created_at: ChronoDateTimeUtc,
        pub reminded_at: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod notice_read {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notice_reads")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub notice_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub person_id: String,
        pub read_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod notice_confirmation {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notice_confirmations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub notice_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub guardian_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub student_id: String,
        pub confirmed_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod attachment {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "attachments")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub owner_id: String,
        pub object_key: String,
        pub name: String,
        pub content_type: String,
        pub size: i64,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod school_messaging {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "school_messaging")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub org_id: String,
        pub quiet_hours: String,
        pub updated_by: String,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod message_prefs {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "message_prefs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub person_id: String,
        pub digest: bool,
        pub last_digest_at: Option<ChronoDateTimeUtc>,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
