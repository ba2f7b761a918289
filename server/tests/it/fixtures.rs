//! Roster packages for tests, written to temporary directories.

use std::path::Path;

/// A small OneRoster 1.2 bulk package written to a temporary directory.
pub struct Package {
    dir: tempfile::TempDir,
}

impl Package {
    /// One district, one school, one class, `students` students each with one parent, a teacher.
    pub fn new(students: &[u32]) -> Package {
        let dir = tempfile::tempdir().unwrap();
        let w = |name: &str, text: String| std::fs::write(dir.path().join(name), text).unwrap();
        let files = [
            "academicSessions",
            "classes",
            "courses",
            "enrollments",
            "orgs",
            "roles",
            "users",
        ];
        let mut manifest =
            "propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\n".to_owned();
        for f in kongjian::roster::oneroster::MANIFEST_FILES {
            let mode = if files.contains(&f) { "bulk" } else { "absent" };
            manifest.push_str(&format!("file.{f},{mode}\n"));
        }
        w("manifest.csv", manifest);
        w("orgs.csv", "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\nd1,,,示范区,district,,\ns1,,,第一小学,school,3301000001,d1\n".into());
        w("academicSessions.csv", "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear\ny2026,,,2025-2026学年,schoolYear,2025-09-01,2026-09-01,,2026\n".into());
        w("courses.csv", "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,subjectCodes\nc1,,,y2026,三年级,,03,s1,,\n".into());
        w("classes.csv", "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\nk1,,,三年级1班,03,c1,,homeroom,,s1,y2026,,,\n".into());
        let mut users = "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns\nt1,,,true,t1,,老师,王,,,,,13900000001,,,,,,,,s1,\n".to_owned();
        let mut roles = "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,userProfileSourcedId\nr-t1,,,t1,primary,teacher,,,s1,\n".to_owned();
        let mut enrollments = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate\ne-t1,,,k1,s1,t1,teacher,true,,\n".to_owned();
        for n in students {
            users.push_str(&format!(
                "st{n},,,true,st{n},,小{n},李,,,,,,p{n},03,,,,,,s1,\n"
            ));
            users.push_str(&format!(
                "p{n},,,true,,,{n}家长,李,,,,,1380000{n:04},st{n},,,,,,,s1,\n"
            ));
            roles.push_str(&format!(
                "r-st{n},,,st{n},primary,student,,,s1,\nr-p{n},,,p{n},primary,parent,,,s1,\n"
            ));
            enrollments.push_str(&format!("e-st{n},,,k1,s1,st{n},student,,,\n"));
        }
        w("users.csv", users);
        w("roles.csv", roles);
        w("enrollments.csv", enrollments);
        Package { dir }
    }

    /// Add a second school `s2`, administrators (`da` of the district, `sa1` of s1, `sa2` of
    /// s2), a teacher `t2` of s2, and a student whose name is outside the BMP.
    pub fn with_admins(self) -> Package {
        let append = |name: &str, rows: &str| {
            let path = self.dir.path().join(name);
            let mut text = std::fs::read_to_string(&path).unwrap();
            text.push_str(rows);
            std::fs::write(path, text).unwrap();
        };
        append("orgs.csv", "s2,,,第二小学,school,3301000002,d1\n");
        append(
            "users.csv",
            "da,,,true,da,,主任,赵,,,,,,,,,,,,,d1,\nsa1,,,true,sa1,,校长,钱,,,,,,,,,,,,,s1,\nsa2,,,true,sa2,,校长,孙,,,,,,,,,,,,,s2,\nt2,,,true,t2,,老师,周,,,,,,,,,,,,,s2,\nbmp,,,true,bmp,,𪚥,龙,,,,,,,03,,,,,,s1,\n",
        );
        append(
            "roles.csv",
            "r-da,,,da,primary,districtAdministrator,,,d1,\nr-sa1,,,sa1,primary,siteAdministrator,,,s1,\nr-sa2,,,sa2,primary,siteAdministrator,,,s2,\nr-t2,,,t2,primary,teacher,,,s2,\nr-bmp,,,bmp,primary,student,,,s1,\n",
        );
        append("enrollments.csv", "e-bmp,,,k1,s1,bmp,student,,,\n");
        self
    }

    /// Append CSV rows (with their trailing newline) to one of the package's files.
    /// Add a second class `k2` of s1 with its head teacher `t3`, pupil `st9` and parent `p9`.
    pub fn with_second_class(self) -> Package {
        self.append(
            "classes.csv",
            "k2,,,三年级2班,03,c1,,homeroom,,s1,y2026,,,\n",
        );
        self.append(
            "users.csv",
            "t3,,,true,t3,,老师,吴,,,,,13900000003,,,,,,,,s1,\nst9,,,true,st9,,小9,郑,,,,,,p9,03,,,,,,s1,\np9,,,true,,,9家长,郑,,,,,13800000009,st9,,,,,,,s1,\n",
        );
        self.append(
            "roles.csv",
            "r-t3,,,t3,primary,teacher,,,s1,\nr-st9,,,st9,primary,student,,,s1,\nr-p9,,,p9,primary,parent,,,s1,\n",
        );
        self.append(
            "enrollments.csv",
            "e-t3,,,k2,s1,t3,teacher,true,,\ne-st9,,,k2,s1,st9,student,,,\n",
        );
        self
    }

    pub fn append(&self, name: &str, rows: &str) {
        let path = self.dir.path().join(name);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(rows);
        std::fs::write(path, text).unwrap();
    }

    /// The package as a zip, for uploads.
    pub fn zip(&self) -> Vec<u8> {
        use std::io::Write;
        let mut out = std::io::Cursor::new(Vec::new());
        let mut zip = zip::ZipWriter::new(&mut out);
        for entry in std::fs::read_dir(self.dir.path()).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            zip.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(&std::fs::read(&path).unwrap()).unwrap();
        }
        zip.finish().unwrap();
        out.into_inner()
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Import `package` as the command line would, and insist that it was imported.
pub async fn import(
    db: &sea_orm::DatabaseConnection,
    package: &Package,
    allow_mass_retire: bool,
) -> kongjian::roster::service::ImportReport {
    use kongjian::roster::service::{ImportOptions, Origin, Outcome, Quiet, import_path};
    let options = ImportOptions {
        dry_run: false,
        allow_mass_retire,
        origin: Origin::Cli,
        actor: None,
        client: Default::default(),
        recheck: false,
    };
    let report = import_path(db, package.path(), &options, &Quiet)
        .await
        .unwrap();
    assert_eq!(
        report.outcome,
        Outcome::Imported,
        "{:#?}",
        report.diagnostics.errors
    );
    report
}
