//! An HTTP answer and the assertions tests make on it.

use reqwest::header::{HeaderMap, CONTENT_TYPE, ETAG};
use serde_json::{json, Value};

/// An HTTP answer, its body parsed as JSON when it is JSON.
#[derive(Debug)]
pub struct Reply {
    /// What was asked, for failure messages: `PUT /v1/...`.
    pub request: String,
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The body as JSON (`Null` when it is not JSON).
    pub body: Value,
    /// The body as text.
    pub text: String,
}

impl Reply {
    /// Asserts the status, showing the request and the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Reply {
        assert_eq!(
            self.status, status,
            "{} answered {}: {}",
            self.request, self.status, self.text
        );
        self
    }

    /// The `ETag` header.
    #[track_caller]
    pub fn etag(&self) -> String {
        self.headers
            .get(ETAG)
            .unwrap_or_else(|| panic!("{} sent no ETag", self.request))
            .to_str()
            .unwrap()
            .to_owned()
    }

    /// The `revision` of a write's answer.
    #[track_caller]
    pub fn revision(&self) -> i64 {
        self.body["revision"]
            .as_i64()
            .unwrap_or_else(|| panic!("{} gave no revision: {}", self.request, self.text))
    }

    /// The `Content-Type` header.
    pub fn content_type(&self) -> &str {
        self.headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The fields a problem document names.
    pub fn fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Asserts a problem+json answer with this status, and returns it.
    #[track_caller]
    pub fn problem(self, status: u16) -> Reply {
        let reply = self.expect(status);
        assert!(
            reply.content_type().starts_with("application/problem+json"),
            "{} answered {status} as `{}`, not problem+json",
            reply.request,
            reply.content_type()
        );
        assert_eq!(reply.body["status"], json!(status), "{}", reply.text);
        assert!(
            reply.body["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("https://rolecall.dev/problems/")),
            "{} has no stable problem type: {}",
            reply.request,
            reply.text
        );
        reply
    }

    /// Asserts a problem+json answer with this status that names `field`.
    #[track_caller]
    pub fn invalid_field(self, status: u16, field: &str) -> Reply {
        let reply = self.problem(status);
        assert!(
            reply.fields().iter().any(|f| f == field),
            "{} should name `{field}`, named {:?}: {}",
            reply.request,
            reply.fields(),
            reply.text
        );
        reply
    }
}
