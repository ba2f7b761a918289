//! The API document at `/api/v1/openapi.json`: served to anyone, listing exactly the routes the
//! code registers, and describing the answers the server really gives (each answer below is
//! checked against the schema the document gives for its status).

use std::path::Path;

use kongjian::http::openapi::{self, drift};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::fixtures::Package;
use crate::messaging::token;
use crate::on_both_databases;
use crate::support::TestApp;

/// Send a request, as `token`'s person or as nobody.
async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = app.client.request(method, app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// What is wrong with `value` as the answer `status` of `method template` by the document.
fn disagreements(
    doc: &Value,
    method: &Method,
    template: &str,
    status: StatusCode,
    value: &Value,
) -> Vec<String> {
    let at = format!("{method} {template} {}", status.as_u16());
    let operation = &doc["paths"][template][method.as_str().to_ascii_lowercase()];
    if operation.is_null() {
        return vec![format!("{at}: the document has no such operation")];
    }
    let response = &operation["responses"][status.as_str()];
    if response.is_null() {
        return vec![format!(
            "{at}: the server answered {status}, which the document does not list"
        )];
    }
    let schema = &response["content"]["application/json"]["schema"];
    if schema.is_null() {
        return vec![format!("{at}: the document gives this answer no JSON body")];
    }
    let mut out = Vec::new();
    conform(doc, schema, value, &at, &mut out);
    out
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => resolve(
            doc,
            reference
                .trim_start_matches("#/")
                .split('/')
                .fold(doc, |v, key| &v[key]),
        ),
        None => schema,
    }
}

/// An `allOf` (a flattened struct) as one object schema.
fn merged(doc: &Value, parts: &[Value]) -> Value {
    let mut properties = serde_json::Map::new();
    let mut required = Vec::new();
    for part in parts {
        let part = resolve(doc, part);
        let part = match part["allOf"].as_array() {
            Some(inner) => merged(doc, inner),
            None => part.clone(),
        };
        if let Some(p) = part["properties"].as_object() {
            properties.extend(p.clone());
        }
        if let Some(r) = part["required"].as_array() {
            required.extend(r.iter().cloned());
        }
    }
    json!({"type": "object", "properties": properties, "required": required})
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Check `value` against `schema`: types, enums, required and undocumented fields, items.
fn conform(doc: &Value, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    if let Some(parts) = schema["allOf"].as_array() {
        return conform(doc, &merged(doc, parts), value, at, out);
    }
    if let Some(alternatives) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        let fits = alternatives.iter().any(|alternative| {
            let mut problems = Vec::new();
            conform(doc, alternative, value, at, &mut problems);
            problems.is_empty()
        });
        if !fits {
            out.push(format!("{at}: {value} fits none of {schema}"));
        }
        return;
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        out.push(format!("{at}: {value} is not one of {allowed:?}"));
    }
    let actual = type_name(value);
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let fits = types.is_empty()
        || types.contains(&actual)
        || (actual == "integer" && types.contains(&"number"));
    if !fits {
        out.push(format!(
            "{at}: {value} is {actual}, the document says {types:?}"
        ));
        return;
    }
    match value {
        Value::Object(fields) => {
            for name in schema["required"].as_array().into_iter().flatten() {
                if let Some(name) = name.as_str()
                    && !fields.contains_key(name)
                {
                    out.push(format!("{at}: the required field `{name}` is missing"));
                }
            }
            let properties = schema["properties"].as_object();
            let extra = &schema["additionalProperties"];
            for (name, field) in fields {
                let here = format!("{at}.{name}");
                match properties.and_then(|p| p.get(name)) {
                    Some(property) => conform(doc, property, field, &here, out),
                    None if extra.is_object() => conform(doc, extra, field, &here, out),
                    None if properties.is_some() => {
                        out.push(format!(
                            "{here}: the answer has a field the document does not"
                        ));
                    }
                    None => {}
                }
            }
        }
        Value::Array(items) if schema.get("items").is_some() => {
            for (i, item) in items.iter().enumerate() {
                conform(doc, &schema["items"], item, &format!("{at}[{i}]"), out);
            }
        }
        _ => {}
    }
}

on_both_databases! {
    async fn the_served_document_lists_exactly_the_registered_routes(app) {
        // Anyone may read it: no session, no token.
        let response = app.get("/api/v1/openapi.json").await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| ct.starts_with("application/json"))
        );
        let served: Value = response.json().await.unwrap();
        assert_eq!(served, serde_json::to_value(openapi::document()).unwrap());
        let problems = drift::problems(
            &served,
            Path::new(env!("CARGO_MANIFEST_DIR")),
            &openapi::modules(),
        );
        assert!(
            problems.is_empty(),
            "the served OpenAPI document has drifted from the code:\n- {}",
            problems.join("\n- ")
        );
        // Beyond the API: the health check and the realtime socket.
        assert!(served["paths"]["/healthz"]["get"].is_object());
        assert!(served["paths"]["/ws"]["get"].is_object());
    }
}

on_both_databases! {
    async fn the_answers_are_the_ones_the_document_describes(app) {
        let package = Package::new(&[1, 2, 3]).with_admins();
        crate::fixtures::import(&app.state.db, &package, false).await;
        let served = app.get("/api/v1/openapi.json").await.json::<Value>().await.unwrap();
        let (st1, p1, t1, sa1, da) = (
            token(&app, "st1").await,
            token(&app, "p1").await,
            token(&app, "t1").await,
            token(&app, "sa1").await,
            token(&app, "da").await,
        );
        let mut wrong = Vec::new();
        let mut check = |method: Method, template: &str, status: StatusCode, body: &Value| {
            wrong.extend(disagreements(&served, &method, template, status, body));
        };
        let get = Method::GET;
        let post = Method::POST;

        let (status, body) = call(&app, get.clone(), "/healthz", None, None).await;
        check(get.clone(), "/healthz", status, &body);
        let (status, body) = call(&app, get.clone(), "/api/v1/me", None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        check(get.clone(), "/api/v1/me", status, &body);
        for who in [&st1, &p1, &t1] {
            let (status, body) = call(&app, get.clone(), "/api/v1/me", Some(who), None).await;
            assert_eq!(status, StatusCode::OK);
            check(get.clone(), "/api/v1/me", status, &body);
        }
        let (status, body) = call(&app, get.clone(), "/api/v1/people/st2", Some(&st1), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        check(get.clone(), "/api/v1/people/{sourced_id}", status, &body);
        let (status, body) = call(&app, get.clone(), "/api/v1/auth/sessions", Some(&st1), None).await;
        check(get.clone(), "/api/v1/auth/sessions", status, &body);

        // Administrators: the audit log, the import log, a dry-run import.
        let (status, body) = call(&app, get.clone(), "/api/v1/audit", Some(&da), None).await;
        check(get.clone(), "/api/v1/audit", status, &body);
        let (status, body) = call(&app, get.clone(), "/api/v1/roster/imports", Some(&da), None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body["imports"][0]["report"].is_object(), "{body}");
        check(get.clone(), "/api/v1/roster/imports", status, &body);
        let response = app
            .client
            .post(app.url("/api/v1/roster/imports?dry_run=true"))
            .bearer_auth(&da)
            .header("content-type", "application/zip")
            .body(package.zip())
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        check(post.clone(), "/api/v1/roster/imports", status, &body);

        // A resource through its life: created, seen by its author, reviewed, found.
        let lesson = json!({
            "title": "二次函数的图像", "description": "八年级数学课件", "subject": "数学",
            "grade": "08", "type": "课件", "keywords": ["二次函数"], "scope": "school",
            "text": "本节研究二次函数 y=ax² 的图像。",
        });
        let (status, body) = call(&app, post.clone(), "/api/v1/resources", Some(&t1), Some(lesson)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        check(post.clone(), "/api/v1/resources", status, &body);
        let id = body["id"].as_str().unwrap().to_owned();
        let resource = format!("/api/v1/resources/{id}");
        let (status, body) = call(&app, get.clone(), &resource, Some(&t1), None).await;
        check(get.clone(), "/api/v1/resources/{id}", status, &body);
        let (status, body) = call(&app, post.clone(), &format!("{resource}/submit"), Some(&t1), Some(json!({"pledge": true}))).await;
        check(post.clone(), "/api/v1/resources/{id}/submit", status, &body);
        let (status, body) = call(&app, get.clone(), "/api/v1/reviews", Some(&sa1), None).await;
        check(get.clone(), "/api/v1/reviews", status, &body);
        let verdict = json!({"decision": "approve", "political": "pass", "scientific": "pass", "safety": "pass"});
        let (status, body) = call(&app, post.clone(), &format!("{resource}/review"), Some(&sa1), Some(verdict)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        check(post.clone(), "/api/v1/resources/{id}/review", status, &body);
        let (status, body) = call(&app, get.clone(), &resource, Some(&st1), None).await;
        check(get.clone(), "/api/v1/resources/{id}", status, &body);
        let (status, body) = call(&app, get.clone(), &resource, Some(&t1), None).await;
        assert!(body["reviews"].is_array() && body["published"].is_object(), "{body}");
        check(get.clone(), "/api/v1/resources/{id}", status, &body);
        crate::resources::indexed(&app).await;
        let (status, body) = call(&app, get.clone(), "/api/v1/search?q=函数", Some(&st1), None).await;
        assert_eq!(body["total"], 1, "{body}");
        check(get.clone(), "/api/v1/search", status, &body);
        for template in ["/api/v1/resources/vocabulary", "/api/v1/me/resources", "/api/v1/me/follows"] {
            let (status, body) = call(&app, get.clone(), template, Some(&t1), None).await;
            check(get.clone(), template, status, &body);
        }

        // Messages and notices between a parent and a teacher.
        let (status, body) = call(&app, post.clone(), "/api/v1/conversations", Some(&p1), Some(json!({"with": "t1"}))).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        check(post.clone(), "/api/v1/conversations", status, &body);
        let messages = format!("/api/v1/conversations/{}/messages", body["id"].as_str().unwrap());
        let (status, body) = call(&app, post.clone(), &messages, Some(&p1), Some(json!({"body": "老师好", "nonce": "n-1"}))).await;
        check(post.clone(), "/api/v1/conversations/{id}/messages", status, &body);
        let (status, body) = call(&app, get.clone(), &messages, Some(&t1), None).await;
        assert_eq!(body["messages"][0]["body"], "老师好", "{body}");
        check(get.clone(), "/api/v1/conversations/{id}/messages", status, &body);
        let notice = json!({"title": "春游", "body": "周五春游，请回执。", "requires_confirmation": true});
        let (status, body) = call(&app, post.clone(), "/api/v1/classes/k1/notices", Some(&t1), Some(notice)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        check(post.clone(), "/api/v1/classes/{class}/notices", status, &body);
        let notice = format!("/api/v1/notices/{}", body["id"].as_str().unwrap());
        for who in [&p1, &t1] {
            let (status, body) = call(&app, get.clone(), &notice, Some(who), None).await;
            check(get.clone(), "/api/v1/notices/{id}", status, &body);
        }
        let (status, body) = call(&app, post.clone(), &format!("{notice}/confirm"), Some(&p1), None).await;
        check(post.clone(), "/api/v1/notices/{id}/confirm", status, &body);
        for template in ["/api/v1/notices", "/api/v1/conversations", "/api/v1/unread", "/api/v1/me/messaging"] {
            let (status, body) = call(&app, get.clone(), template, Some(&p1), None).await;
            check(get.clone(), template, status, &body);
        }

        assert!(
            wrong.is_empty(),
            "answers the OpenAPI document does not describe:\n- {}",
            wrong.join("\n- ")
        );
    }
}

/// The check above can fail: an answer with a field the document lacks, or a status it does
/// not list, is caught.
#[test]
fn an_undocumented_field_or_status_is_caught() {
    let doc = serde_json::to_value(openapi::document()).unwrap();
    let healthy = json!({"status": "ok", "database": "ok", "backend": "sqlite", "version": "0.1.0", "installation": "x"});
    assert!(disagreements(&doc, &Method::GET, "/healthz", StatusCode::OK, &healthy).is_empty());
    let mut extra = healthy.clone();
    extra["uptime"] = json!(3);
    let found = disagreements(&doc, &Method::GET, "/healthz", StatusCode::OK, &extra);
    assert!(found[0].contains(".uptime"), "{found:?}");
    let found = disagreements(
        &doc,
        &Method::GET,
        "/healthz",
        StatusCode::IM_A_TEAPOT,
        &healthy,
    );
    assert!(found[0].contains("does not list"), "{found:?}");
    let found = disagreements(
        &doc,
        &Method::GET,
        "/api/v1/me",
        StatusCode::UNAUTHORIZED,
        &json!({"error": {"code": "no_such_code", "message": "…"}}),
    );
    assert!(found[0].contains("no_such_code"), "{found:?}");
}
