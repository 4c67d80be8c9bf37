//! A JSON body extractor that answers in the API's own error shape: 415 for
//! another content type, 413 past 64 KiB, 400 for malformed JSON, and 422
//! naming the field for a wrong type, a missing field or a NUL character.
//!
//! A NUL (`\u0000`) is refused here, for every body and query string, rather
//! than field by field: PostgreSQL cannot store it in text or JSON (the
//! insert fails, a 500), and SQLite would keep a string that other tools cut
//! short at it.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, http::header, web};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::domain::FieldErrors;
use crate::platform::error::ApiError;

/// Largest accepted JSON body (SPEC §4).
pub const JSON_LIMIT: usize = 64 * 1024;

/// A JSON request body of type `T`.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_json_body(req, payload);
        Box::pin(async move { parse_object(&body.await?).map(Json) })
    }
}

/// A JSON body of type `T` with a fingerprint of the request (method, path and
/// body, whitespace aside), so a retried submission can be told from another.
#[derive(Debug)]
pub struct Fingerprinted<T> {
    pub value: T,
    pub fingerprint: String,
}

impl<T: DeserializeOwned + 'static> FromRequest for Fingerprinted<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_json_body(req, payload);
        let target = format!("{} {}", req.method(), req.path());
        Box::pin(async move {
            let body = body.await?;
            let value: T = parse_object(&body)?;
            let canonical: serde_json::Value = parse(&body)?;
            let mut hasher = Sha256::new();
            hasher.update(target.as_bytes());
            hasher.update(b"\n");
            hasher.update(canonical.to_string().as_bytes());
            Ok(Fingerprinted {
                value,
                fingerprint: hex::encode(hasher.finalize()),
            })
        })
    }
}

/// Reads a JSON body of at most [`JSON_LIMIT`] bytes.
fn read_json_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> impl Future<Output = Result<web::BytesMut, ApiError>> + 'static {
    let content_type_ok = req.mime_type().ok().flatten().is_some_and(|m| {
        m.subtype() == mime_json() || m.suffix().is_some_and(|s| s == mime_json())
    });
    let declared_length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let mut payload = payload.take();
    async move {
        if !content_type_ok {
            return Err(ApiError::UnsupportedMediaType("application/json"));
        }
        if declared_length.is_some_and(|n| n > JSON_LIMIT) {
            return Err(ApiError::PayloadTooLarge { limit: JSON_LIMIT });
        }
        let mut body =
            web::BytesMut::with_capacity(declared_length.unwrap_or(1024).min(JSON_LIMIT));
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| ApiError::BadRequest(e.to_string()))?;
            if body.len() + chunk.len() > JSON_LIMIT {
                return Err(ApiError::PayloadTooLarge { limit: JSON_LIMIT });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

fn mime_json() -> &'static str {
    "json"
}

/// Parses a request body, which must be a JSON object: serde would read an
/// array as a struct's fields in order, and no operation takes anything but
/// an object. Another JSON value is 422 naming `body`; malformed JSON 400.
pub fn parse_object<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        serde_json::from_slice::<serde::de::IgnoredAny>(body)
            .map_err(|err| ApiError::BadRequest(strip_position(&err.to_string())))?;
        return Err(FieldErrors::single(
            "body",
            "not_an_object",
            "请求体应为 JSON 对象",
            "the body must be a JSON object",
        )
        .into());
    }
    parse(body)
}

/// Parses `body`, telling malformed JSON (400) from JSON of the wrong shape
/// or with a NUL character in a string (422).
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    // JSON can only carry a NUL escaped, so a body without the escape has none.
    if body.windows(NUL_ESCAPE.len()).any(|w| w == NUL_ESCAPE)
        && let Ok(value) = serde_json::from_slice::<serde_json::Value>(body)
        && let Some(field) = nul_in(&value, String::new())
    {
        return Err(nul_refused(if field.is_empty() {
            "body".into()
        } else {
            field
        })
        .into());
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let message = inner.to_string();
                let field = missing_field(&message)
                    .map(|name| {
                        if path == "." {
                            name.to_owned()
                        } else {
                            format!("{path}.{name}")
                        }
                    })
                    .unwrap_or(path);
                let field = if field == "." {
                    "body".to_owned()
                } else {
                    field
                };
                let english = strip_position(&message);
                FieldErrors::single(
                    field,
                    "invalid",
                    format!("字段类型或取值不正确：{english}"),
                    english,
                )
                .into()
            }
            _ => ApiError::BadRequest(strip_position(&inner.to_string())),
        }
    })
}

const NUL_ESCAPE: &[u8] = b"\\u0000";

/// Where in `value` a string (or a key) holds a NUL, as serde_path_to_error
/// names fields (`parties[1].name`).
fn nul_in(value: &serde_json::Value, path: String) -> Option<String> {
    match value {
        serde_json::Value::String(text) => text.contains('\0').then_some(path),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_in(item, format!("{path}[{i}]"))),
        serde_json::Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let path = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            if key.contains('\0') {
                Some(path.replace('\0', "\\u0000"))
            } else {
                nul_in(item, path)
            }
        }),
        _ => None,
    }
}

fn nul_refused(field: String) -> FieldErrors {
    FieldErrors::single(
        field,
        "invalid_character",
        "不能包含空字符（NUL）",
        "must not contain the NUL character",
    )
}

/// serde says ``missing field `phone` at line 1 column 20``; the name is the field.
fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next()
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Body {
        #[allow(dead_code)]
        phone: String,
        #[allow(dead_code)]
        location: Option<Point>,
    }

    #[derive(Debug, Deserialize)]
    struct Point {
        #[allow(dead_code)]
        lat: f64,
    }

    fn field_of(err: ApiError) -> String {
        match err {
            ApiError::Validation(errors) => errors[0].field.clone(),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn a_nul_anywhere_in_a_string_is_refused_naming_its_field() {
        assert_eq!(
            field_of(parse::<Body>(br#"{"phone": "1\u0000"}"#).unwrap_err()),
            "phone"
        );
        assert_eq!(
            field_of(
                parse::<serde_json::Value>(br#"{"parties": [{}, {"name": "a\u0000b"}]}"#)
                    .unwrap_err()
            ),
            "parties[1].name"
        );
        // An escaped backslash before `u0000` is no NUL.
        assert!(parse::<Body>(br#"{"phone": "\\u0000"}"#).is_ok());
    }

    #[test]
    fn a_body_that_is_not_an_object_is_named_and_a_broken_one_is_malformed() {
        for body in [&b"[\"13800138000\", null]"[..], b" 5", b"\"x\"", b"null"] {
            assert_eq!(field_of(parse_object::<Body>(body).unwrap_err()), "body");
        }
        assert!(matches!(
            parse_object::<Body>(b"[1,"),
            Err(ApiError::BadRequest(_))
        ));
        assert!(parse_object::<Body>(b" {\"phone\": \"1\"}").is_ok());
    }

    #[test]
    fn malformed_json_is_bad_request() {
        assert!(matches!(
            parse::<Body>(b"{\"phone\": "),
            Err(ApiError::BadRequest(_))
        ));
    }

    #[test]
    fn missing_and_mistyped_fields_are_named() {
        assert_eq!(field_of(parse::<Body>(b"{}").unwrap_err()), "phone");
        assert_eq!(
            field_of(parse::<Body>(b"{\"phone\": 5}").unwrap_err()),
            "phone"
        );
        assert_eq!(
            field_of(parse::<Body>(br#"{"phone": "1", "location": {"lat": "x"}}"#).unwrap_err()),
            "location.lat"
        );
        assert_eq!(
            field_of(parse::<Body>(br#"{"phone": "1", "location": {}}"#).unwrap_err()),
            "location.lat"
        );
    }
}

/// A query string of type `T`: a value of the wrong type answers 422 naming it.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if let Some((key, _)) = form_urlencoded_parse(req.query_string())
            .find(|(key, value)| key.contains('\0') || value.contains('\0'))
        {
            let field = key.replace('\0', "\\u0000");
            return std::future::ready(Err(nul_refused(field).into()));
        }
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded_parse(req.query_string()));
        let parsed = serde_path_to_error::deserialize(deserializer)
            .map(Query)
            .map_err(|err| {
                let field = err.path().to_string();
                let message = err.into_inner().to_string();
                FieldErrors::single(
                    field,
                    "invalid",
                    format!("查询参数不正确：{message}"),
                    message,
                )
                .into()
            });
        std::future::ready(parsed)
    }
}

fn form_urlencoded_parse(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
}

/// For PATCH bodies: tells an absent field (`None`, leave as is) from an
/// explicit `null` (`Some(None)`, clear it). Use with `#[serde(default)]`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}
