//! The API's OpenAPI 3.1 document, served at `GET /api/v1/openapi.json`.
//!
//! It is generated from the code, so it cannot drift: every `/api/v1` handler carries
//! `#[utoipa::path(...)]`, each feature lists its handlers in a `routes::Api`
//! (`#[derive(utoipa::OpenApi)]`), and [`document`] merges those [`modules`] under the title,
//! the security schemes and the error body written here. The `drift` checks (tests only) read
//! every `.route("/api/v1/…", …)` in `server/src` and fail when a registered route is missing
//! from the document or a documented one is registered nowhere.
//!
//! A new feature's API is one line in [`modules`]:
//! `module!("lessons" => crate::lessons::routes::Api),`.

use std::borrow::Cow;

use axum::body::Bytes;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ComponentsBuilder, InfoBuilder, LicenseBuilder, OpenApi, OpenApiBuilder, RefOr,
    SecurityRequirement, Server, Tag,
};
use utoipa::{PartialSchema, ToSchema};

use crate::auth::{csrf, sessions};
use crate::error::ErrorCode;
use crate::state::AppState;

#[cfg(any(test, feature = "test-support"))]
pub mod drift;

/// One feature's part of the document.
pub struct Module {
    /// The feature's folder under `server/src` (the drift check names it in its messages).
    pub name: &'static str,
    /// The `Api` type, as its path reads in the code.
    pub api: &'static str,
    pub doc: OpenApi,
}

macro_rules! module {
    ($name:literal => $api:path) => {
        Module {
            name: $name,
            api: stringify!($api),
            doc: <$api as utoipa::OpenApi>::openapi(),
        }
    };
}

/// Every feature's documented routes. Add a feature here, one line, when it adds routes.
pub fn modules() -> Vec<Module> {
    vec![
        module!("http" => crate::http::openapi::Api),
        module!("people" => crate::people::routes::Api),
        module!("auth" => crate::auth::routes::Api),
        module!("audit" => crate::audit::routes::Api),
        module!("roster" => crate::roster::routes::Api),
        module!("messaging" => crate::messaging::routes::Api),
        module!("resources" => crate::resources::routes::Api),
        module!("spaces" => crate::spaces::routes::Api),
        module!("assignments" => crate::assignments::routes::Api),
        module!("lessons" => crate::lessons::routes::Api),
        module!("activities" => crate::activities::routes::Api),
        module!("growth" => crate::growth::routes::Api),
    ]
}

/// The whole document: the frame below with every module merged in. Operation ids are
/// prefixed with their module (`people_me`), so two features may both have a `list`.
pub fn document() -> OpenApi {
    let mut doc = frame();
    for module in modules() {
        let mut part = module.doc;
        for item in part.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ]
            .into_iter()
            .flatten()
            {
                if let Some(id) = &op.operation_id
                    && !id.starts_with(&format!("{}_", module.name))
                {
                    op.operation_id = Some(format!("{}_{id}", module.name));
                }
            }
        }
        doc.merge(part);
    }
    doc
}

/// `GET /api/v1/openapi.json`, public. The document is built and serialized once, when the
/// router is built; every request gets the same bytes.
pub fn router() -> Router<AppState> {
    let body = match serde_json::to_vec(&document()) {
        Ok(json) => Bytes::from(json),
        // Serializing plain data does not fail; if it ever did, the log says why.
        Err(err) => {
            tracing::error!(error = %err, "the OpenAPI document cannot be serialized");
            Bytes::new()
        }
    };
    Router::new()
        .route("/api/v1/openapi.json", get(openapi_json))
        .layer(Extension(Document(body)))
}

/// The serialized document, shared by every request.
#[derive(Clone)]
struct Document(Bytes);

/// API 文档 / The API document
///
/// This document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "system",
    security(()),
    responses(
        (status = 200, description = "OpenAPI 3.1 文档（JSON）/ the OpenAPI 3.1 document (JSON)",
         content_type = "application/json", body = Object),
    )
)]
async fn openapi_json(Extension(Document(body)): Extension<Document>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The routes of the HTTP layer itself: this document and the health check.
#[derive(utoipa::OpenApi)]
#[openapi(paths(openapi_json, crate::http::health::healthz))]
pub struct Api;

const DESCRIPTION: &str = "\
空间（Kongjian）的 JSON API：学区名册里的每位教师、学生和家长都有自己的学习空间。本文档由服务器代码生成，\
覆盖 `/api/v1` 下的全部路由。

**登录**：脚本和平台用 API 令牌（`Authorization: Bearer …`，由 `kongjian token create` 签发）；\
浏览器用会话 Cookie，Cookie 调用的修改类请求须带 CSRF 令牌（见安全方案 `session`）。\
**错误**：所有错误都以 JSON 返回 `{\"error\": {\"code\", \"message\"}}`（见 `Error` 模式）：`code` 是稳定的 snake_case 代码，\
`message` 是按 `kj_lang` Cookie 或 `Accept-Language` 选择的语言（默认中文）写给人看的说明，字段错误会点名字段。\
与调用者无关的对象回答 404（不泄露其是否存在）。\
**时间**：RFC 3339，UTC。**人员、班级、学校**：以名册的 `sourcedId` 指称。**分页**：用上一页返回的游标，从不用偏移量。

Kongjian's JSON API: every teacher, student and parent of a school district has their own \
learning space, provisioned from the roster. This document is generated from the server's code \
and covers every route under `/api/v1`.

**Signing in**: scripts and platforms use an API token (`Authorization: Bearer …`, issued by \
`kongjian token create`); browsers use the session cookie, and state-changing cookie calls carry \
the CSRF token (see the `session` security scheme). **Errors**: every error answers JSON \
`{\"error\": {\"code\", \"message\"}}` (the `Error` schema): `code` is a stable snake_case code, \
`message` a sentence for people in the language of the `kj_lang` cookie or `Accept-Language` \
(Chinese by default), naming the field when a field is wrong. Objects unrelated to the caller \
answer 404, which says nothing about whether they exist. **Times**: RFC 3339, UTC. **People, \
classes, schools**: named by their roster `sourcedId`. **Paging**: by the cursor the previous \
page returned, never by offset.";

fn tag(name: &str, description: &str) -> Tag {
    TagBuilder::new()
        .name(name)
        .description(Some(description))
        .build()
}

fn tags() -> Vec<Tag> {
    vec![
        tag(
            "system",
            "文档与健康检查 / this document and the health check",
        ),
        tag(
            "auth",
            "登录、激活码、会话与角色授予 / signing in, activation codes, sessions and role grants",
        ),
        tag(
            "people",
            "名册中的人：本人及有关系的人 / people as the roster knows them: oneself and those one is related to",
        ),
        tag(
            "audit",
            "审计日志（管理员）/ the audit log, for administrators",
        ),
        tag(
            "roster",
            "名册导入（区级管理员）/ roster imports, for district administrators",
        ),
        tag(
            "messaging",
            "家校消息、班级与学校通知、回执、附件 / home-school messages, class and school notices, confirmations, attachments",
        ),
        tag(
            "resources",
            "教学资源：上传、审核入库、使用与检索 / teaching resources: upload, review, use and search",
        ),
        tag(
            "lessons",
            "课：草稿、发布到班级、提问与回答 / lessons: drafts, publishing to classes, questions and answers",
        ),
        tag(
            "assignments",
            "作业、提交与反馈（过程性评价）/ assignments, submissions and feedback (process-based evaluation)",
        ),
        tag(
            "activities",
            "班级活动：报名与家长回执 / class activities: sign-up and parents' permission slips",
        ),
        tag("growth", "成长记录 / growth records"),
        tag(
            "spaces",
            "个人空间、班级空间与学校空间 / one's own space, a class's space and a school's space",
        ),
    ]
}

fn security_schemes() -> Vec<(&'static str, SecurityScheme)> {
    let bearer = HttpBuilder::new()
        .scheme(HttpAuthScheme::Bearer)
        .description(Some(
            "API 令牌：`Authorization: Bearer <令牌>`，由运维人员用 `kongjian token create --user <sourcedId>` 签发，\
             代表该人调用，无需 CSRF 令牌；令牌无效或已吊销时回答 401。\
             / An API token: `Authorization: Bearer <token>`, issued by the operator with \
             `kongjian token create --user <sourcedId>`; it acts as that person and needs no CSRF \
             token. An invalid or revoked token answers 401.",
        ))
        .build();
    let session = ApiKeyValue::with_description(
        sessions::COOKIE.to_owned(),
        format!(
            "浏览器会话 Cookie（`{session}`），由 `POST /api/v1/auth/login` 或 `/api/v1/auth/activate` 设置。\
             带 Cookie 的修改类请求（POST、PUT、PATCH、DELETE）必须出示 CSRF 令牌：请求头 `{header}` 的值须等于 \
             `{cookie}` Cookie（表单也可用字段 `{field}`，multipart 上传可用查询参数 `{field}`）；令牌由登录、激活的回答和 \
             `GET /api/v1/auth/session` 的 `csrf_token` 给出，登录时更换。缺少或不符时回答 403 `csrf_failed`；\
             `Origin` 为其他站点的修改类请求一律拒绝。不带任何 Cookie 或带 Bearer 令牌的请求不需要 CSRF 令牌。\
             / The browser session cookie (`{session}`), set by `POST /api/v1/auth/login` or \
             `/api/v1/auth/activate`. A state-changing request (POST, PUT, PATCH, DELETE) that \
             carries cookies must present the CSRF token: the `{header}` header equal to the \
             `{cookie}` cookie (forms may send the `{field}` field instead, multipart uploads the \
             `{field}` query parameter); the token is the `csrf_token` of the sign-in and \
             activation answers and of `GET /api/v1/auth/session`, and changes at every sign-in. \
             Missing or wrong, the answer is 403 `csrf_failed`; a state-changing request whose \
             `Origin` is another site is always refused. Requests with no cookies at all, or with a \
             bearer token, need no CSRF token.",
            session = sessions::COOKIE,
            header = "X-CSRF-Token",
            cookie = csrf::COOKIE,
            field = csrf::FIELD,
        ),
    );
    vec![
        ("bearer", SecurityScheme::Http(bearer)),
        ("session", SecurityScheme::ApiKey(ApiKey::Cookie(session))),
    ]
}

/// What every module is merged into: info, servers, tags, security and the error body.
fn frame() -> OpenApi {
    let mut components = ComponentsBuilder::new().schema(ErrorBody::name(), ErrorBody::schema());
    for (name, scheme) in security_schemes() {
        components = components.security_scheme(name, scheme);
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Kongjian 空间 API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(DESCRIPTION))
                .license(Some(
                    LicenseBuilder::new()
                        .name(env!("CARGO_PKG_LICENSE"))
                        .identifier(Some(env!("CARGO_PKG_LICENSE")))
                        .build(),
                ))
                .build(),
        )
        .servers(Some(vec![Server::new("/")]))
        .tags(Some(tags()))
        // Either scheme signs a caller in; routes open to everyone say `security(())`.
        .security(Some(vec![
            SecurityRequirement::new("bearer", Vec::<String>::new()),
            SecurityRequirement::new("session", Vec::<String>::new()),
        ]))
        .components(Some(components.build()))
        .build()
}

/// The body of every error answer under `/api/` (see `http::errors::render_errors`).
/// Handlers name it in their responses as `body = ErrorBody`.
pub struct ErrorBody;

impl PartialSchema for ErrorBody {
    fn schema() -> RefOr<Schema> {
        let code = ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(ErrorCode::ALL.iter().map(|c| c.as_str())))
            .description(Some(
                "稳定的错误代码，脚本据此判断 / the stable error code scripts act on",
            ));
        let message = ObjectBuilder::new().schema_type(Type::String).description(Some(
            "给人看的说明，语言按 `kj_lang` Cookie 或 `Accept-Language`（默认中文），字段错误会点名字段和原因 \
             / a sentence for people, in the language of the `kj_lang` cookie or \
             `Accept-Language` (Chinese by default); a field error names the field and what is wrong",
        ));
        let error = ObjectBuilder::new()
            .property("code", code)
            .required("code")
            .property("message", message)
            .required("message");
        ObjectBuilder::new()
            .description(Some(
                "所有错误回答的形状；被限流时另有 `Retry-After` 头 / the shape of every error answer; a \
                 throttled answer also carries `Retry-After`",
            ))
            .property("error", error)
            .required("error")
            .into()
    }
}

impl ToSchema for ErrorBody {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Error")
    }
}

/// A file's bytes, in a request or a response body.
pub struct Binary;

impl PartialSchema for Binary {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .description(Some("文件内容 / the file's bytes"))
            .into()
    }
}

impl ToSchema for Binary {}

/// Descriptions shared by many operations' error responses.
pub mod answers {
    pub const UNAUTHORIZED: &str = "未登录，或令牌无效（`unauthorized`）/ not signed in, or the token is invalid (`unauthorized`)";
    pub const BAD_JSON: &str = "请求体不是所需的 JSON：缺字段、类型不对或有未知字段（`invalid_field`，点名字段）\
         / the body is not the JSON asked for: a missing field, a wrong type or an unknown field \
         (`invalid_field`, naming it)";
    pub const NOT_JSON: &str = "请求体不是 `application/json`（`unsupported_media_type`）/ the body is not `application/json` (`unsupported_media_type`)";
    pub const TOO_LARGE: &str = "请求体超过大小限制（`payload_too_large`）/ the body is over the size limit (`payload_too_large`)";
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document_value() -> serde_json::Value {
        serde_json::to_value(document()).unwrap()
    }

    /// The anti-drift check, without a server: every `.route("/api/v1/…")` in the code is
    /// documented, every documented route is registered, and the document is sound.
    #[test]
    fn the_document_lists_exactly_the_registered_routes() {
        let server = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let problems = drift::problems(&document_value(), server, &modules());
        assert!(
            problems.is_empty(),
            "the OpenAPI document has drifted from the code:\n- {}",
            problems.join("\n- ")
        );
    }

    #[test]
    fn operation_ids_carry_their_module() {
        let doc = document_value();
        assert_eq!(
            doc["paths"]["/api/v1/me"]["get"]["operationId"],
            "people_me"
        );
        assert_eq!(
            doc["paths"]["/api/v1/audit"]["get"]["operationId"],
            "audit_list"
        );
        assert_eq!(
            doc["paths"]["/api/v1/roster/imports"]["get"]["operationId"],
            "roster_list"
        );
    }

    #[test]
    fn errors_and_security_are_described_once_for_everyone() {
        let doc = document_value();
        let codes = &doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]
            ["enum"];
        assert!(
            codes
                .as_array()
                .is_some_and(|c| c.len() == ErrorCode::ALL.len())
        );
        let session = &doc["components"]["securitySchemes"]["session"];
        assert_eq!(session["in"], "cookie");
        assert_eq!(session["name"], sessions::COOKIE);
        assert!(
            session["description"]
                .as_str()
                .is_some_and(|d| d.contains("X-CSRF-Token") && d.contains(csrf::COOKIE))
        );
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        // Signing in needs no sign-in.
        assert_eq!(
            doc["paths"]["/api/v1/auth/login"]["post"]["security"],
            serde_json::json!([{}])
        );
    }
}
