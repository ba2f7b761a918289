//! One row of each rostering file turned into its typed record. Every value is read (so every
//! defect of the row is reported) before the record is built; a row with an error is dropped.

use crate::roster::diagnostics::Message;
use crate::roster::model::{
    AcademicSession, Class, ClassType, Course, Demographic, Enrollment, EnrollmentRole, Org,
    OrgType, Role, RoleKind, RoleType, SessionType, Sex, User,
};

use super::table::FileSpec;
use super::values::Cells;

pub(super) static ORGS: FileSpec = FileSpec {
    columns: &[
        "sourcedId",
        "status",
        "dateLastModified",
        "name",
        "type",
        "identifier",
        "parentSourcedId",
    ],
    required: &["sourcedId", "name", "type"],
};

pub(super) static SESSIONS: FileSpec = FileSpec {
    columns: &[
        "sourcedId",
        "status",
        "dateLastModified",
        "title",
        "type",
        "startDate",
        "endDate",
        "parentSourcedId",
        "schoolYear",
    ],
    required: &[
        "sourcedId",
        "title",
        "type",
        "startDate",
        "endDate",
        "schoolYear",
    ],
};

pub(super) static COURSES: FileSpec = FileSpec {
    columns: &[
        "sourcedId",
        "status",
        "dateLastModified",
        "schoolYearSourcedId",
        "title",
        "courseCode",
        "grades",
        "orgSourcedId",
        "subjects",
        "subjectCodes",
    ],
    required: &["sourcedId", "title", "orgSourcedId"],
};

pub(super) static CLASSES: FileSpec = FileSpec {
    columns: &[
        "sourcedId",
        "status",
        "dateLastModified",
        "title",
        "grades",
        "courseSourcedId",
        "classCode",
        "classType",
        "location",
        "schoolSourcedId",
        "termSourcedIds",
        "subjects",
        "subjectCodes",
        "periods",
    ],
    required: &[
        "sourcedId",
        "title",
        "courseSourcedId",
        "classType",
        "schoolSourcedId",
        "termSourcedIds",
    ],
};

/// users.csv in OneRoster 1.0/1.1: role and orgs on the user.
pub(super) static USERS_11: FileSpec = FileSpec {
    columns: &[
        "sourcedId",
        "status",
        "dateLastModified",
        "enabledUser",
        "orgSourcedIds",
        "role",
        "username",
        "userIds",
        "givenName",
        "familyName",
        "middleName",
        "identifier",
        "email",
        "sms",
        "phone",
        "agentSourcedIds",
        "grades",
        "password",
    ],
    required: &[
        "sourcedId",
        "enabledUser",
        "orgSourcedIds",
        "role",
        "username",
        "givenName",
        "familyName",
    ],
};

const USERS_12_REQUIRED: &[&str] = &[
    "sourcedId",
    "enabledUser",
    "username",
    "givenName",
    "familyName",
];

/// users.csv in OneRoster 1.2 (June 2022), with `resourceSourcedIds` in the middle.
pub(super) static USERS_120: FileSpec = FileSpec {
    columns: &[
        "sourcedId",
        "status",
        "dateLastModified",
        "enabledUser",
        "username",
        "userIds",
        "givenName",
        "familyName",
        "middleName",
        "identifier",
        "email",
        "sms",
        "phone",
        "agentSourcedIds",
        "grades",
        "password",
        "userMasterIdentifier",
        "resourceSourcedIds",
        "preferredGivenName",
        "preferredMiddleName",
        "preferredFamilyName",
        "primaryOrgSourcedId",
        "pronouns",
    ],
    required: USERS_12_REQUIRED,
};

/// users.csv in OneRoster 1.2.1.
pub(super) static USERS_121: FileSpec = FileSpec {
    columns: &[
        "sourcedId",
        "status",
        "dateLastModified",
        "enabledUser",
        "username",
        "userIds",
        "givenName",
        "familyName",
        "middleName",
        "identifier",
        "email",
        "sms",
        "phone",
        "agentSourcedIds",
        "grades",
        "password",
        "userMasterIdentifier",
        "preferredGivenName",
        "preferredMiddleName",
        "preferredFamilyName",
        "primaryOrgSourcedId",
        "pronouns",
    ],
    required: USERS_12_REQUIRED,
};

pub(super) static ROLES: FileSpec = FileSpec {
    columns: &[
        "sourcedId",
        "status",
        "dateLastModified",
        "userSourcedId",
        "roleType",
        "role",
        "beginDate",
        "endDate",
        "orgSourcedId",
        "userProfileSourcedId",
    ],
    required: &[
        "sourcedId",
        "userSourcedId",
        "roleType",
        "role",
        "orgSourcedId",
    ],
};

pub(super) static ENROLLMENTS: FileSpec = FileSpec {
    columns: &[
        "sourcedId",
        "status",
        "dateLastModified",
        "classSourcedId",
        "schoolSourcedId",
        "userSourcedId",
        "role",
        "primary",
        "beginDate",
        "endDate",
    ],
    required: &[
        "sourcedId",
        "classSourcedId",
        "schoolSourcedId",
        "userSourcedId",
        "role",
    ],
};

const RACE_FLAGS: [&str; 7] = [
    "americanIndianOrAlaskaNative",
    "asian",
    "blackOrAfricanAmerican",
    "nativeHawaiianOrOtherPacificIslander",
    "white",
    "demographicRaceTwoOrMoreRaces",
    "hispanicOrLatinoEthnicity",
];

pub(super) static DEMOGRAPHICS: FileSpec = FileSpec {
    columns: &[
        "sourcedId",
        "status",
        "dateLastModified",
        "birthDate",
        "sex",
        "americanIndianOrAlaskaNative",
        "asian",
        "blackOrAfricanAmerican",
        "nativeHawaiianOrOtherPacificIslander",
        "white",
        "demographicRaceTwoOrMoreRaces",
        "hispanicOrLatinoEthnicity",
        "countryOfBirthCode",
        "stateOfBirthAbbreviation",
        "cityOfBirth",
        "publicSchoolResidenceStatus",
    ],
    required: &["sourcedId"],
};

static ORG_TYPES: &[(&str, OrgType)] = &[
    ("department", OrgType::Department),
    ("school", OrgType::School),
    ("district", OrgType::District),
    ("local", OrgType::Local),
    ("state", OrgType::State),
    ("national", OrgType::National),
];

static SESSION_TYPES: &[(&str, SessionType)] = &[
    ("gradingPeriod", SessionType::GradingPeriod),
    ("semester", SessionType::Semester),
    ("schoolYear", SessionType::SchoolYear),
    ("term", SessionType::Term),
];

static CLASS_TYPES: &[(&str, ClassType)] = &[
    ("homeroom", ClassType::Homeroom),
    ("scheduled", ClassType::Scheduled),
];

static ROLE_TYPES: &[(&str, RoleType)] = &[
    ("primary", RoleType::Primary),
    ("secondary", RoleType::Secondary),
];

/// roles.csv `role` (1.2).
static ROLES_12: &[(&str, RoleKind)] = &[
    ("aide", RoleKind::Aide),
    ("counselor", RoleKind::Counselor),
    ("districtAdministrator", RoleKind::DistrictAdministrator),
    ("guardian", RoleKind::Guardian),
    ("parent", RoleKind::Parent),
    ("principal", RoleKind::Principal),
    ("proctor", RoleKind::Proctor),
    ("relative", RoleKind::Relative),
    ("siteAdministrator", RoleKind::SiteAdministrator),
    ("student", RoleKind::Student),
    ("systemAdministrator", RoleKind::SystemAdministrator),
    ("teacher", RoleKind::Teacher),
];

/// users.csv `role` (1.0/1.1).
static ROLES_11: &[(&str, RoleKind)] = &[
    ("administrator", RoleKind::Administrator),
    ("aide", RoleKind::Aide),
    ("guardian", RoleKind::Guardian),
    ("parent", RoleKind::Parent),
    ("proctor", RoleKind::Proctor),
    ("relative", RoleKind::Relative),
    ("student", RoleKind::Student),
    ("teacher", RoleKind::Teacher),
];

static ENROLLMENT_ROLES: &[(&str, EnrollmentRole)] = &[
    ("administrator", EnrollmentRole::Administrator),
    ("proctor", EnrollmentRole::Proctor),
    ("student", EnrollmentRole::Student),
    ("teacher", EnrollmentRole::Teacher),
];

static SEXES: &[(&str, Sex)] = &[
    ("male", Sex::Male),
    ("female", Sex::Female),
    ("unspecified", Sex::Unspecified),
    ("other", Sex::Other),
];

pub(super) fn org(c: &mut Cells<'_, '_>) -> Option<Org> {
    let id = c.required_id("sourcedId");
    let status = c.status();
    c.modified();
    let name = c.required_text("name");
    let org_type = c.choice("type", true, ORG_TYPES, Some(OrgType::Ext));
    let identifier = c.text("identifier");
    let parent = c.id("parentSourcedId");
    let (Some(id), Some(name), Some(org_type)) = (id, name, org_type) else {
        return None;
    };
    c.finish(Org {
        id,
        status,
        name,
        org_type,
        identifier,
        parent,
    })
}

pub(super) fn session(c: &mut Cells<'_, '_>) -> Option<AcademicSession> {
    let id = c.required_id("sourcedId");
    let status = c.status();
    c.modified();
    let title = c.required_text("title");
    let session_type = c.choice("type", true, SESSION_TYPES, Some(SessionType::Ext));
    let start_date = c.date("startDate", true);
    let end_date = c.date("endDate", true);
    c.check_dates(start_date, end_date, ["startDate", "endDate"]);
    let parent = c.id("parentSourcedId");
    let school_year = c.year("schoolYear");
    let (
        Some(id),
        Some(title),
        Some(session_type),
        Some(start_date),
        Some(end_date),
        Some(school_year),
    ) = (id, title, session_type, start_date, end_date, school_year)
    else {
        return None;
    };
    c.finish(AcademicSession {
        id,
        status,
        title,
        session_type,
        start_date,
        end_date,
        parent,
        school_year,
    })
}

pub(super) fn course(c: &mut Cells<'_, '_>) -> Option<Course> {
    let id = c.required_id("sourcedId");
    let status = c.status();
    c.modified();
    let school_year = c.id("schoolYearSourcedId");
    let title = c.required_text("title");
    let course_code = c.text("courseCode");
    let grades = c.strings("grades");
    let org = c.required_id("orgSourcedId");
    let subjects = c.strings("subjects");
    c.check_subject_codes(subjects.len());
    let (Some(id), Some(title), Some(org)) = (id, title, org) else {
        return None;
    };
    c.finish(Course {
        id,
        status,
        school_year,
        title,
        course_code,
        grades,
        org,
        subjects,
    })
}

pub(super) fn class(c: &mut Cells<'_, '_>) -> Option<Class> {
    let id = c.required_id("sourcedId");
    let status = c.status();
    c.modified();
    let title = c.required_text("title");
    let grades = c.strings("grades");
    let course = c.required_id("courseSourcedId");
    let class_code = c.text("classCode");
    let class_type = c.choice("classType", true, CLASS_TYPES, Some(ClassType::Ext));
    let school = c.required_id("schoolSourcedId");
    let terms = c.ids("termSourcedIds", true);
    let subjects = c.strings("subjects");
    c.check_subject_codes(subjects.len());
    let (Some(id), Some(title), Some(course), Some(class_type), Some(school)) =
        (id, title, course, class_type, school)
    else {
        return None;
    };
    c.finish(Class {
        id,
        status,
        title,
        grades,
        course,
        class_code,
        class_type,
        school,
        terms,
        subjects,
    })
}

/// A users.csv row. `legacy`: the 1.0/1.1 shape, with `role` and `orgSourcedIds`.
/// Rows without a username are counted into `blank_usernames` (one warning per file later).
pub(super) fn user(
    c: &mut Cells<'_, '_>,
    legacy: bool,
    blank_usernames: &mut Vec<u64>,
) -> Option<User> {
    let id = c.required_id("sourcedId");
    let status = c.status();
    c.modified();
    let enabled = c.boolean("enabledUser", true);
    let (legacy_orgs, legacy_role) = if legacy {
        let orgs = c.ids("orgSourcedIds", true);
        (orgs, c.choice("role", true, ROLES_11, Some(RoleKind::Ext)))
    } else {
        (Vec::new(), None)
    };
    let username = c.text("username");
    if username.is_none() {
        blank_usernames.push(c.line);
    }
    let user_ids = c.user_ids("userIds");
    let given_name = c.required_text("givenName");
    let family_name = c.required_text("familyName");
    let middle_name = c.text("middleName");
    let identifier = c.text("identifier");
    let email = c.text("email");
    let sms = c.text("sms");
    let phone = c.text("phone");
    let agents = c.ids("agentSourcedIds", false);
    let grades = c.strings("grades");
    let preferred_given_name = c.text("preferredGivenName");
    let preferred_family_name = c.text("preferredFamilyName");
    let primary_org = c.id("primaryOrgSourcedId");
    let (Some(id), Some(enabled), Some(given_name), Some(family_name)) =
        (id, enabled, given_name, family_name)
    else {
        return None;
    };
    c.finish(User {
        id,
        status,
        enabled,
        username,
        user_ids,
        given_name,
        family_name,
        middle_name,
        preferred_given_name,
        preferred_family_name,
        identifier,
        email,
        sms,
        phone,
        agents,
        grades,
        primary_org,
        legacy_role,
        legacy_orgs,
    })
}

pub(super) fn role(c: &mut Cells<'_, '_>) -> Option<Role> {
    let id = c.required_id("sourcedId");
    let status = c.status();
    c.modified();
    let user = c.required_id("userSourcedId");
    let role_type = c.choice("roleType", true, ROLE_TYPES, None);
    let role = c.choice("role", true, ROLES_12, Some(RoleKind::Ext));
    let begin_date = c.date("beginDate", false);
    let end_date = c.date("endDate", false);
    c.check_dates(begin_date, end_date, ["beginDate", "endDate"]);
    let org = c.required_id("orgSourcedId");
    let (Some(id), Some(user), Some(role_type), Some(role), Some(org)) =
        (id, user, role_type, role, org)
    else {
        return None;
    };
    c.finish(Role {
        id,
        status,
        user,
        role_type,
        role,
        org,
        begin_date,
        end_date,
    })
}

pub(super) fn enrollment(c: &mut Cells<'_, '_>) -> Option<Enrollment> {
    let id = c.required_id("sourcedId");
    let status = c.status();
    c.modified();
    let class = c.required_id("classSourcedId");
    let school = c.required_id("schoolSourcedId");
    let user = c.required_id("userSourcedId");
    let role = c.choice("role", true, ENROLLMENT_ROLES, Some(EnrollmentRole::Ext));
    let primary = c.boolean("primary", false).unwrap_or(false);
    let begin_date = c.date("beginDate", false);
    let end_date = c.date("endDate", false);
    c.check_dates(begin_date, end_date, ["beginDate", "endDate"]);
    let (Some(id), Some(class), Some(school), Some(user), Some(role)) =
        (id, class, school, user, role)
    else {
        return None;
    };
    c.finish(Enrollment {
        id,
        status,
        class,
        school,
        user,
        role,
        primary,
        begin_date,
        end_date,
        subject: None,
    })
}

pub(super) fn demographic(c: &mut Cells<'_, '_>) -> Option<Demographic> {
    let user = c.required_id("sourcedId");
    let status = c.status();
    c.modified();
    let birth_date = c.date("birthDate", false);
    let sex = match c.raw("sex") {
        // The model has no extension values for sex: keep an `ext:` value as "other".
        Some(value)
            if value
                .get(..4)
                .is_some_and(|p| p.eq_ignore_ascii_case("ext:")) =>
        {
            c.warn(
                "sex-ext",
                "sex",
                Message::new(
                    format!("sex 的扩展值“{value}”按 other 处理"),
                    format!("the sex extension value \"{value}\" was read as other"),
                ),
            );
            Some(Sex::Other)
        }
        _ => c.choice("sex", false, SEXES, Some(|_| Sex::Other)),
    };
    for flag in RACE_FLAGS {
        c.boolean(flag, false);
    }
    let user = user?;
    c.finish(Demographic {
        user,
        status,
        birth_date,
        sex,
    })
}
