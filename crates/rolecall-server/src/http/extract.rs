//! Request extractors: who is asking ([`Auth`]), from where ([`Source`]),
//! and a JSON body whose errors name the wrong field ([`Body`]).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::AppState;
use rolecall_store::SessionRow;

use crate::accounts::signin;
use crate::error::{FieldError, ServiceError};
use crate::principal::Principal;
use crate::tokens;

/// The authenticated principal: from `Authorization: Bearer <token>`
/// (host applications), or from the console's session cookie (a fully
/// signed-in session; a request that changes something must also carry the
/// session's CSRF token in `X-CSRF-Token`).
#[derive(Debug, Clone)]
pub struct Auth(pub Principal);

impl<S> FromRequestParts<S> for Auth
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ServiceError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let Some(header) = parts.headers.get(AUTHORIZATION) else {
            if cookie(parts, signin::COOKIE).is_some() {
                let SessionAuth(session) =
                    <SessionAuth as FromRequestParts<AppState>>::from_request_parts(parts, &state)
                        .await?;
                return signin::principal_of(&session).map(Auth);
            }
            return Err(ServiceError::Unauthenticated(
                "send `Authorization: Bearer <token>` (create one with `rolecall init` or \
                 `rolecall token create`), or sign in (POST /v1/sign-in)"
                    .to_owned(),
            ));
        };
        let header = header.to_str().map_err(|_| {
            ServiceError::Unauthenticated("the Authorization header is not text".to_owned())
        })?;
        // The scheme's name is case-insensitive (RFC 9110 §11.1).
        let token = header
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .ok_or_else(|| {
                ServiceError::Unauthenticated("use the Bearer authorization scheme".to_owned())
            })?
            .1
            .trim();
        let live = state.service.live();
        // A token was given and refused: the challenge says `invalid_token`.
        tokens::authenticate(&live, token)
            .map(Auth)
            .map_err(|error| match error {
                ServiceError::Unauthenticated(why) => ServiceError::InvalidToken(why),
                other => other,
            })
    }
}

/// The value of one cookie of the request.
pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
}

/// The console session the cookie names, in whatever stage of signing in
/// it is (for the account endpoints: changing the password, MFA).
#[derive(Debug, Clone)]
pub struct SessionAuth(pub SessionRow);

impl<S> FromRequestParts<S> for SessionAuth
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ServiceError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let secret = cookie(parts, signin::COOKIE)
            .ok_or_else(|| {
                ServiceError::Unauthenticated("sign in first (POST /v1/sign-in)".to_owned())
            })?
            .to_owned();
        let Source(address) = Source::from_request_parts(parts, &state)
            .await
            .unwrap_or_else(|never| match never {});
        let csrf = parts
            .headers
            .get(signin::CSRF_HEADER)
            .and_then(|v| v.to_str().ok());
        let changes = !signin::is_safe_method(&parts.method);
        signin::session_from_cookie(&state.service, &secret, &address, csrf, changes)
            .await
            .map(SessionAuth)
    }
}

/// Where a request came from, for the audit log.
#[derive(Debug, Clone)]
pub struct Source(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string())
            .unwrap_or_else(|| "unknown".to_owned());
        Ok(Source(address))
    }
}

/// A JSON body. A malformed one is a 422 naming the field
/// (`updates[2].roles`), a 415 when it is not JSON at all, a 413 when it is
/// larger than [`MAX_BODY`].
#[derive(Debug, Clone)]
pub struct Body<T>(pub T);

/// The largest body accepted (a batch of 10,000 checks fits).
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// The bytes of a JSON body: 415 unless it says it is JSON, 413 when it is
/// larger than [`MAX_BODY`].
pub async fn json_bytes<S: Send + Sync>(
    request: Request,
    state: &S,
) -> Result<axum::body::Bytes, ServiceError> {
    let is_json = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return Err(ServiceError::UnsupportedMediaType(
            "send JSON with `Content-Type: application/json`".to_owned(),
        ));
    }
    axum::body::Bytes::from_request(request, state)
        .await
        .map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ServiceError::TooLarge(MAX_BODY)
            } else {
                ServiceError::invalid("body", e.body_text())
            }
        })
}

/// A path into the body as a field name: `updates[2].roles`, `.` for the
/// body itself. An empty key is written `""`, so that a field is never
/// named by nothing (`{"": 1}` is an unknown field `""`).
fn field_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    if path.iter().next().is_none() {
        return ".".to_owned();
    }
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(if key.is_empty() { "\"\"" } else { key });
            }
            Segment::Unknown => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push('?');
            }
        }
    }
    out
}

/// Parses JSON, borrowing strings from `bytes` where the type lets it; a
/// bad body is a 422 naming the field. The body is one JSON value and
/// nothing after it but whitespace (`{"a":1} x` and `{}{}` are refused), and
/// no message quotes a value the body gave: it may be a password sent in
/// the wrong shape.
pub fn parse_json<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, ServiceError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = field_path(e.path());
        let message = message_without_value(e.inner());
        // A missing field is reported at its parent; name the field.
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next());
        let field = match (path.as_str(), missing) {
            (".", Some(name)) => name.to_owned(),
            (".", None) => "body".to_owned(),
            (parent, Some(name)) => format!("{parent}.{name}"),
            (parent, None) => parent.to_owned(),
        };
        ServiceError::Invalid {
            fields: vec![FieldError::new(field, message)],
        }
    })?;
    deserializer.end().map_err(|e| {
        ServiceError::invalid(
            "body",
            format!("the body must be one JSON value with nothing after it: {e}"),
        )
    })?;
    Ok(value)
}

/// serde_json's message, with its position ("at line L column C": it helps)
/// but without the value it refused: serde quotes it (``invalid type:
/// integer `12345678`, expected a string``), and it may be a secret.
fn message_without_value(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    match message.strip_suffix(&position) {
        Some(text) if error.line() > 0 => format!("{}{position}", without_value(text)),
        _ => without_value(&message),
    }
}

/// A serde message with the value it quotes cut out, leaving its kind and
/// what was expected: `invalid type: integer, expected a string`. The names
/// of fields stay (`unknown field `colour``): they are keys, not values. A
/// message that quotes a value in a form not known here is cut down to its
/// first words, so nothing unknown gets through.
pub fn without_value(message: &str) -> String {
    for prefix in ["invalid type", "invalid value"] {
        if let Some(rest) = message
            .strip_prefix(prefix)
            .and_then(|r| r.strip_prefix(": "))
        {
            return match unexpected_kind(rest) {
                Some((kind, expected)) => format!("{prefix}: {kind}, expected {expected}"),
                None => prefix.to_owned(),
            };
        }
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        // The expected variants are the type's own names: the last
        // "`, expected " is the one serde wrote, whatever the value held.
        return match rest.rsplit_once("`, expected ") {
            Some((_, expected)) => format!("unknown value, expected {expected}"),
            None => "unknown value".to_owned(),
        };
    }
    message.to_owned()
}

/// Splits what follows "invalid type: " into the kind of the value given and
/// what was expected, as serde's `Unexpected` prints them.
fn unexpected_kind(rest: &str) -> Option<(&'static str, &str)> {
    const EXPECTED: &str = ", expected ";
    // Values serde prints between backticks: `integer `5``.
    for kind in ["boolean", "integer", "floating point", "character"] {
        if let Some(value) = rest.strip_prefix(kind).and_then(|r| r.strip_prefix(" `")) {
            // A character may itself be a backtick: skip one before looking.
            let first = value.chars().next()?.len_utf8();
            let (_, expected) = value[first..].split_once(&format!("`{EXPECTED}"))?;
            return Some((kind, expected));
        }
    }
    // A string, printed with Rust's escapes: it ends at the first quote
    // that is not escaped.
    if let Some(value) = rest.strip_prefix("string \"") {
        let mut chars = value.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => return value[i + 1..].strip_prefix(EXPECTED).map(|e| ("string", e)),
                _ => {}
            }
        }
        return None;
    }
    // Kinds printed without a value.
    [
        "null",
        "unit value",
        "Option value",
        "newtype struct",
        "sequence",
        "map",
        "enum",
        "unit variant",
        "newtype variant",
        "tuple variant",
        "struct variant",
        "byte array",
    ]
    .into_iter()
    .find_map(|kind| {
        rest.strip_prefix(kind)
            .and_then(|r| r.strip_prefix(EXPECTED))
            .map(|expected| (kind, expected))
    })
}

impl<S, T> FromRequest<S> for Body<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ServiceError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Body(parse_json(&json_bytes(request, state).await?)?))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// The message a body gets, for one field.
    fn message(body: &str) -> String {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[expect(dead_code, reason = "only parsed")]
        struct Input {
            password: Option<String>,
            count: Option<u32>,
            status: Option<rolecall_model::world::Status>,
        }
        match parse_json::<Input>(body.as_bytes()) {
            Err(ServiceError::Invalid { fields }) => fields[0].message.clone(),
            other => panic!("{body} gave {other:?}"),
        }
    }

    #[test]
    fn serde_messages_keep_the_kind_and_the_expectation_but_never_the_value() {
        // Arrange, act, assert: one body a line.
        let cases = [
            (
                r#"{"password": 12345678}"#,
                "invalid type: integer, expected a string",
            ),
            (
                r#"{"password": -5.25}"#,
                "invalid type: floating point, expected a string",
            ),
            (
                r#"{"password": true}"#,
                "invalid type: boolean, expected a string",
            ),
            (
                r#"{"password": ["a"]}"#,
                "invalid type: sequence, expected a string",
            ),
            (
                r#"{"password": {"k": 1}}"#,
                "invalid type: map, expected a string",
            ),
            (
                r#"{"count": "x\", expected \"y"}"#,
                "invalid type: string, expected u32",
            ),
            (r#"{"count": -7}"#, "invalid value: integer, expected u32"),
            (
                r#"{"status": "s`, expected x"}"#,
                "unknown value, expected one of `invited`, `active`, `disabled`",
            ),
        ];
        for (body, expected) in cases {
            let message = message(body);
            // The position stays: it helps find the field.
            let (text, position) = message.split_once(" at line 1 column ").unwrap();
            assert_eq!(text, expected, "{body}");
            assert!(position.parse::<u32>().is_ok(), "{message}");
        }
    }

    #[test]
    fn an_unknown_form_of_quoted_value_is_cut_down() {
        assert_eq!(
            without_value("invalid type: gizmo `x`, expected a string"),
            "invalid type"
        );
        assert_eq!(
            without_value("invalid value: string \"no end"),
            "invalid value"
        );
        assert_eq!(
            without_value("unknown field `colour`, expected `name`"),
            "unknown field `colour`, expected `name`"
        );
    }

    #[test]
    fn an_empty_key_is_named_as_an_empty_key() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[expect(dead_code, reason = "only parsed")]
        struct Update {
            roles: Vec<String>,
        }
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[expect(dead_code, reason = "only parsed")]
        struct Input {
            updates: Vec<Update>,
        }
        for (body, field) in [
            (r#"{"": null}"#, r#""""#),
            (r#"{"updates": [{"": 1}]}"#, r#"updates[0]."""#),
            (r#"{"updates": [{"roles": [1]}]}"#, "updates[0].roles[0]"),
        ] {
            match parse_json::<Input>(body.as_bytes()) {
                Err(ServiceError::Invalid { fields }) => {
                    assert_eq!(fields[0].field, field, "{body}")
                }
                other => panic!("{body} gave {other:?}"),
            }
        }
    }

    #[test]
    fn data_after_the_value_is_refused_naming_the_body() {
        for body in [r#"{"password": "a"} x"#, "{}{}", "{} []", "{}\n0"] {
            match parse_json::<serde_json::Value>(body.as_bytes()) {
                Err(ServiceError::Invalid { fields }) => {
                    assert_eq!(fields[0].field, "body", "{body}");
                    assert!(fields[0].message.contains("nothing after it"), "{body}");
                }
                other => panic!("{body} gave {other:?}"),
            }
        }
        assert!(parse_json::<serde_json::Value>(b"{} \n\t ").is_ok());
    }
}
