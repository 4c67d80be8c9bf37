//! The OpenAPI document: gathered from every handler's `#[utoipa::path]` by
//! utoipa-actix-web, plus the bearer scheme. `openapi/openapi.json` in the
//! repository is this document, kept equal by a test.

use actix_web::App;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "xianfeng",
        description = "先锋：乡党委“创先争优”活动小程序后端。Members log household visits, file mediation reports and make pledges; secretaries review; the township watches the dashboard.\n\nErrors answer `{\"error\": {\"code\", \"message\", \"details\"}}`; messages are Chinese unless `Accept-Language: en`.",
        license(name = "MIT", identifier = "MIT")
    ),
    servers((url = "/", description = "this server")),
    modifiers(&BearerScheme),
    tags(
        (name = "auth", description = "Sign-in, WeChat binding, sessions"),
        (name = "organisation", description = "Branches, users, households and assignments (党员包户)"),
        (name = "uploads", description = "Photos (JPEG, PNG, WebP), stripped of location, attached to submissions"),
        (name = "visits", description = "Household visits (走访): check-ins, review (审核), history, export"),
        (name = "mediation", description = "Dispute-mediation reports (矛盾纠纷调解): review, escalation to the township (上报), follow-up visits (回访), export"),
        (name = "pledges", description = "Public pledges (公开承诺): the pledge wall, review, progress (践诺) from evidence, fulfilment, leader comments (领导点评), ratings (群众评议)"),
        (name = "reviews", description = "The secretary's review queue across submission kinds, and bulk decisions"),
        (name = "supervision", description = "The township's supervision (督导检查): spot checks drawing a reproducible sample of approved visits and mediation reports to verify, their per-branch figures, and rectifications (整改) assigned to branches with a deadline"),
        (name = "campaigns", description = "The township's campaigns (创先争优活动) and their phases (动员部署, 组织实施, 总结完善 …): dates in the township's time zone, which submission kinds each phase takes and by when; the phase of today shows in `/me`, and stats take `phase_id`"),
        (name = "stats", description = "The township dashboard's figures, built for polling: every answer has an ETag, and `If-None-Match` answers 304 while nothing changed"),
        (name = "notifications", description = "The in-app inbox"),
        (name = "operations", description = "Health, readiness, metrics, the audit log")
    )
)]
struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The base document (info, tags, security schemes) the handlers are added to.
pub fn base() -> OpenApiDoc {
    ApiDoc::openapi()
}

/// What adds every documented route to an app: the assembly's route list.
pub type Routes = fn(&mut utoipa_actix_web::service_config::ServiceConfig);

/// The full document of `routes`, as the server serves it at `/openapi.json`.
pub fn document(routes: Routes) -> OpenApiDoc {
    let mut doc = App::new()
        .into_utoipa_app()
        .openapi(base())
        .configure(routes)
        .split_for_parts()
        .1;
    ExtractorResponses.modify(&mut doc);
    IdempotencyKeys.modify(&mut doc);
    ResourceLinks.modify(&mut doc);
    Completeness.modify(&mut doc);
    doc
}

/// `Idempotency-Key` is a UUID (SPEC §4), and anything else is answered 422
/// naming the header: said once here for every operation that takes it.
struct IdempotencyKeys;

impl Modify for IdempotencyKeys {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let description = "A UUID the client keeps until it hears an answer: a retry with the \
                           same key and body answers the first answer again; the same key with \
                           another body is 409 `idempotency_key_reused`; a key that is not a \
                           UUID is 422 naming `Idempotency-Key`.";
        for item in openapi.paths.paths.values_mut() {
            for operation in operations_mut(item) {
                let mut takes_key = false;
                for parameter in operation.parameters.iter_mut().flatten() {
                    if let RefOr::T(p) = parameter
                        && p.parameter_in == ParameterIn::Header
                        && p.name.eq_ignore_ascii_case(super::IDEMPOTENCY_KEY)
                    {
                        p.schema = Some(RefOr::T(Schema::Object(
                            ObjectBuilder::new()
                                .schema_type(Type::String)
                                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
                                .build(),
                        )));
                        p.description = Some(description.to_owned());
                        takes_key = true;
                    }
                }
                if !takes_key {
                    continue;
                }
                let refusal = "`Idempotency-Key` is not a UUID";
                match operation.responses.responses.get_mut("422") {
                    Some(RefOr::T(response))
                        if !response.description.contains("Idempotency-Key") =>
                    {
                        response.description = if response.description.is_empty() {
                            refusal.to_owned()
                        } else {
                            format!("{}; or {refusal}", response.description)
                        };
                    }
                    Some(_) => {}
                    None => {
                        operation
                            .responses
                            .responses
                            .insert("422".to_owned(), error_response(refusal));
                    }
                }
            }
        }
    }
}

/// What a reader of the document (and a standard linter) expects of every
/// operation: each response described (by its status where the handler
/// says no more), and the operations open to anyone marked so with an
/// empty `security`.
struct Completeness;

impl Modify for Completeness {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        for item in openapi.paths.paths.values_mut() {
            for operation in operations_mut(item) {
                for (status, response) in operation.responses.responses.iter_mut() {
                    if let RefOr::T(response) = response
                        && response.description.is_empty()
                    {
                        response.description = status_description(status).to_owned();
                    }
                }
                operation.security.get_or_insert_with(Vec::new);
            }
        }
    }
}

/// What a status means in this API, for a response documented without words.
fn status_description(status: &str) -> &'static str {
    match status {
        "200" => "OK",
        "201" => "created",
        "202" => "accepted",
        "204" => "done; no body",
        "304" => "unchanged since the `ETag` in `If-None-Match`",
        "400" => "the request cannot be read",
        "401" => "not signed in, or the token is expired or revoked",
        "403" => "the caller's role may not do this",
        "404" => "not found, or not within the caller's reach",
        "405" => "the path takes other methods (listed in `Allow`)",
        "409" => "conflicts with what is stored (`details` says why)",
        "413" => "the body is too large",
        "415" => "the body is of a type not accepted",
        "422" => "a field is invalid (named in `details`)",
        "429" => "too many requests; `Retry-After` says when to try again",
        "503" => "a dependency (database, WeChat) is unavailable",
        _ => "see the operation's description",
    }
}

/// The answers of the shared extractors, which every handler using them can
/// give whatever its own `#[utoipa::path]` lists: the JSON body
/// ([`crate::platform::http::extract`]: 400 malformed, 413 past 64 KiB, 415 another
/// content type, 422 a field of the wrong type), the query string (400 a bad
/// cursor, 422 a bad value) and the path (404 a malformed id). Added only
/// where the handler does not document the status itself.
struct ExtractorResponses;

impl Modify for ExtractorResponses {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        for item in openapi.paths.paths.values_mut() {
            for operation in operations_mut(item) {
                let has_json_body = operation.request_body.as_ref().is_some_and(|body| {
                    matches!(body, RefOr::T(body) if body.content.contains_key("application/json"))
                });
                let has_in = |place: ParameterIn| {
                    operation.parameters.iter().flatten().any(
                        |parameter| matches!(parameter, RefOr::T(p) if p.parameter_in == place),
                    )
                };
                let mut statuses: Vec<(&str, &str)> = Vec::new();
                if has_json_body {
                    statuses.extend([
                        ("400", "the body is not JSON"),
                        ("413", "the body is over 64 KiB"),
                        ("415", "the body is not `application/json`"),
                        ("422", "a field is missing or of the wrong type"),
                    ]);
                }
                if has_in(ParameterIn::Query) {
                    statuses.extend([
                        ("400", "a malformed cursor"),
                        ("422", "a query parameter is invalid"),
                    ]);
                }
                if has_in(ParameterIn::Path) {
                    statuses.push(("404", "not found, or not within the caller's reach"));
                }
                for (status, description) in statuses {
                    operation
                        .responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| error_response(description));
                }
            }
        }
    }
}

fn error_response(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            Content::new(Some(Ref::from_schema_name("ErrorBody"))),
        )
        .into()
}

/// Links from what creates or lists a resource to the operations on it
/// (`POST /visits` → `GET /visits/{id}`, `GET /visits` → the first item's),
/// so clients and schema-driven tests can follow ids from answer to request.
struct ResourceLinks;

impl Modify for ResourceLinks {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let paths = &mut openapi.paths.paths;
        let collections: Vec<String> = paths.keys().filter(|p| !p.contains('{')).cloned().collect();
        for collection in collections {
            let prefix = format!("{collection}/{{id}}");
            let mut targets: Vec<(String, String)> = paths
                .iter_mut()
                .filter(|(path, _)| {
                    (**path == prefix || path.starts_with(&format!("{prefix}/")))
                        && path.matches('{').count() == 1
                })
                .flat_map(|(_, item)| operations_mut(item))
                .filter_map(|operation| operation.operation_id.clone())
                .map(|id| (id.clone(), id))
                .collect();
            targets.sort();
            if targets.is_empty() {
                continue;
            }
            let Some(item) = paths.get_mut(&collection) else {
                continue;
            };
            let sources = [
                (item.post.as_mut(), "201", "$response.body#/id"),
                (item.get.as_mut(), "200", "$response.body#/items/0/id"),
            ];
            for (operation, status, expression) in sources {
                let Some(RefOr::T(response)) =
                    operation.and_then(|o| o.responses.responses.get_mut(status))
                else {
                    continue;
                };
                for (name, operation_id) in &targets {
                    let link = LinkBuilder::new()
                        .operation_id(operation_id)
                        .parameter("id", expression)
                        .build();
                    response.links.insert(name.clone(), RefOr::T(link));
                }
            }
        }
    }
}

fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// The document of `routes` as committed in `openapi/openapi.json`.
pub fn document_json(routes: Routes) -> anyhow::Result<String> {
    let mut json = document(routes).to_pretty_json()?;
    json.push('\n');
    Ok(json)
}

/// The documented paths (with `{param}` segments matching anything) and the
/// methods each answers, to tell 405 (with `Allow`) from 404.
pub struct KnownPaths(Vec<(Vec<String>, Vec<&'static str>)>);

impl KnownPaths {
    pub fn of(document: &OpenApiDoc) -> Self {
        KnownPaths(
            document
                .paths
                .paths
                .iter()
                .map(|(p, item)| {
                    let methods = [
                        ("GET", item.get.is_some()),
                        ("PUT", item.put.is_some()),
                        ("POST", item.post.is_some()),
                        ("DELETE", item.delete.is_some()),
                        ("PATCH", item.patch.is_some()),
                        ("HEAD", item.head.is_some()),
                    ]
                    .into_iter()
                    .filter_map(|(name, present)| present.then_some(name))
                    .collect();
                    (p.split('/').map(str::to_owned).collect(), methods)
                })
                .collect(),
        )
    }

    /// The methods the documented paths matching `path` answer, upper-case;
    /// empty when none matches.
    pub fn methods_of(&self, path: &str) -> Vec<&'static str> {
        let segments: Vec<&str> = path.split('/').collect();
        let mut methods: Vec<&'static str> = Vec::new();
        for (template, of_it) in &self.0 {
            let matches = template.len() == segments.len()
                && template
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| (t.starts_with('{') && !s.is_empty()) || t == s);
            if matches {
                for method in of_it {
                    if !methods.contains(method) {
                        methods.push(method);
                    }
                }
            }
        }
        methods
    }
}
