//! The writes the clients send, and how each ended.

use reqwest::header::{ETAG, IF_MATCH};
use serde_json::{json, Value};

use crate::HOME;

/// One write a client sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    CreateOrg {
        id: String,
    },
    CreateEmployee {
        id: String,
    },
    CreateUser {
        id: String,
    },
    /// Replaces a user's roles (kept sorted).
    UpdateAccess {
        user: String,
        roles: Vec<String>,
    },
}

impl Write {
    /// The request that makes this write.
    pub fn request(
        &self,
        http: &reqwest::Client,
        url: &str,
        token: &str,
        etag: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let request = match self {
            Write::CreateOrg { id } => http
                .post(format!("{url}/v1/orgs"))
                .json(&json!({ "id": id, "name": format!("Clinic {id}") })),
            Write::CreateEmployee { id } => http
                .post(format!("{url}/v1/orgs/{HOME}/employees"))
                .json(&json!({
                    "id": id,
                    "first_name": id,
                    "last_name": "Staff",
                    "email": format!("{id}@{HOME}.test"),
                })),
            Write::CreateUser { id } => http
                .post(format!("{url}/v1/orgs/{HOME}/users"))
                .json(&json!({ "id": id, "employee_id": id, "roles": ["web.office_staff"] })),
            Write::UpdateAccess { user, roles } => {
                let request = http
                    .put(format!("{url}/v1/orgs/{HOME}/users/{user}/access"))
                    .json(&json!({ "roles": roles }));
                match etag {
                    Some(etag) => request.header(IF_MATCH, etag),
                    None => request,
                }
            }
        };
        request.bearer_auth(token)
    }

    /// Whether `record` (from `GET /v1/audit`) records this write.
    pub fn is_recorded_by(&self, record: &Value) -> bool {
        let (action, target) = (&record["action"], &record["target"]);
        match self {
            Write::CreateOrg { id } => action == "org.create" && *target == format!("org:{id}"),
            Write::CreateEmployee { id } => {
                action == "employee.create" && *target == format!("employee:{id}")
            }
            Write::CreateUser { id } => action == "user.create" && *target == format!("user:{id}"),
            Write::UpdateAccess { user, roles } => {
                action == "user.access.update"
                    && *target == format!("user:{user}")
                    && sorted(&record["after"]["roles"]) == *roles
            }
        }
    }
}

/// How a write ended.
pub enum Outcome {
    /// 2xx with the revision (and the ETag, for access updates).
    Acknowledged(i64, Option<String>),
    /// Answered, but not with 2xx.
    Refused(u16, String),
    /// No answer: the server died before or while answering.
    Unanswered,
}

/// Sends a write and tells how it ended.
pub async fn send(request: reqwest::RequestBuilder) -> Outcome {
    let Ok(response) = request.send().await else {
        return Outcome::Unanswered;
    };
    let status = response.status();
    let etag = response
        .headers()
        .get(ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // A reply cut off by the kill is no acknowledgement: it is only one
    // when the revision arrived.
    let Ok(text) = response.text().await else {
        return Outcome::Unanswered;
    };
    if !status.is_success() {
        return Outcome::Refused(status.as_u16(), text);
    }
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    match body["revision"].as_i64() {
        Some(revision) => Outcome::Acknowledged(revision, etag),
        None => panic!("a {status} without a revision: {text}"),
    }
}

/// A JSON array of strings, sorted.
pub fn sorted(value: &Value) -> Vec<String> {
    let mut items: Vec<String> = value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    items.sort();
    items
}
