//! The demo of `serve --demo`: a company with two clinics, a partner that
//! manages them, and one user for every seed role, so a newcomer can try
//! the API at once.
//!
//! It is built through the same operations as the API ([`crate::ops`]),
//! acting as the command line: every rule applies and every step is in the
//! audit log. Ids are fixed and readable (`acme-north`, `bob`), so the
//! commands printed beside them work as typed.

use rolecall_model::world::Status;

use crate::accounts::credentials;
use crate::error::ServiceError;
use crate::ops::orgs::{self, Manages, NewOrg};
use crate::ops::people::{self, AccessInput, NewEmployee, NewUser, StatusInput};
use crate::passwords::Password;
use crate::principal::Principal;
use crate::service::{Live, Service};
use crate::tokens::{self, CreatedToken, NewToken};

/// The audit log's `source` of everything the demo writes.
pub const SOURCE: &str = "demo";

/// The company whose admin gets the demo token.
pub const ADMIN_ORG: &str = "acme";

/// The company admin the demo token acts as.
pub const ADMIN: &str = "alice";

/// One demo organization.
struct OrgSeed {
    id: &'static str,
    name: &'static str,
    parent: Option<&'static str>,
    subscriptions: &'static [&'static str],
    description: &'static str,
}

const ORGS: &[OrgSeed] = &[
    OrgSeed {
        id: "acme",
        name: "Acme Health",
        parent: None,
        subscriptions: &[],
        description: "Acme Health, the company: access granted here reaches both clinics",
    },
    OrgSeed {
        id: "acme-north",
        name: "Acme North Clinic",
        parent: Some("acme"),
        subscriptions: &["web.clinical", "web.billing", "web.engage", "revserve"],
        description: "clinic subscribed to Clinical, Billing, Engage and RevServe",
    },
    OrgSeed {
        id: "acme-south",
        name: "Acme South Clinic",
        parent: Some("acme"),
        subscriptions: &["web.clinical"],
        description: "clinic subscribed to Clinical only: no Billing, no Engage, no RCM groups",
    },
    OrgSeed {
        id: "rcm-partners",
        name: "RCM Partners",
        parent: None,
        subscriptions: &[],
        description: "partner RCM company managing both Acme clinics",
    },
];

/// The partner and the organizations it manages.
const PARTNER: (&str, &[&str]) = ("rcm-partners", &["acme-north", "acme-south"]);

/// One demo employee and their user.
struct PersonSeed {
    id: &'static str,
    first_name: &'static str,
    last_name: &'static str,
    org: &'static str,
    roles: &'static [&'static str],
    grants: &'static [&'static str],
    scheduler: Option<(&'static str, Option<&'static str>)>,
    tasking_access: Option<&'static str>,
    active: bool,
    description: &'static str,
}

const PEOPLE: &[PersonSeed] = &[
    PersonSeed {
        id: "alice",
        first_name: "Alice",
        last_name: "Adams",
        org: "acme",
        roles: &["web.system_admin", "rolecall.auditor"],
        grants: &[
            "emr.analytics_access",
            "emr.company_admin",
            "rolecall.manage_api_tokens",
        ],
        scheduler: None,
        tasking_access: None,
        active: true,
        description: "company admin: System Admin of Acme Health and its clinics, Analytics \
                      Admin (company admin + Analytics Access), auditor, issues API tokens",
    },
    PersonSeed {
        id: "bob",
        first_name: "Bob",
        last_name: "Baker",
        org: "acme",
        roles: &["web.biller"],
        grants: &["emr.analytics_access", "emr.billing_report_admin"],
        scheduler: None,
        tasking_access: None,
        active: true,
        description: "Biller for both clinics; Analytics Billing User (billing report admin)",
    },
    PersonSeed {
        id: "carol",
        first_name: "Carol",
        last_name: "Chen",
        org: "acme-north",
        roles: &["web.provider"],
        grants: &["emr.analytics_access"],
        scheduler: Some(("provider", Some("view_edit_all"))),
        tasking_access: None,
        active: true,
        description: "Provider at North; Analytics Reporting User; Scheduler level D \
                      (views and edits every schedule)",
    },
    PersonSeed {
        id: "dave",
        first_name: "David",
        last_name: "Diaz",
        org: "acme-north",
        roles: &["web.provider"],
        grants: &[],
        scheduler: Some(("provider", Some("my_schedule"))),
        tasking_access: None,
        active: true,
        description: "Provider at North; Scheduler level A (his own schedule only)",
    },
    PersonSeed {
        id: "erin",
        first_name: "Erin",
        last_name: "Evans",
        org: "acme-south",
        roles: &["web.clinical_assistant"],
        grants: &[],
        scheduler: None,
        tasking_access: None,
        active: true,
        description: "Clinical Assistant at South",
    },
    PersonSeed {
        id: "frank",
        first_name: "Frank",
        last_name: "Foster",
        org: "acme-south",
        roles: &["web.office_staff"],
        grants: &[],
        scheduler: Some(("office_staff", None)),
        tasking_access: None,
        active: true,
        description: "Office Staff at South; Scheduler Office Staff (Dashboard and Reports tabs)",
    },
    PersonSeed {
        id: "grace",
        first_name: "Grace",
        last_name: "Green",
        org: "acme",
        roles: &["web.business_manager"],
        grants: &[],
        scheduler: None,
        tasking_access: None,
        active: true,
        description: "Business Manager (bookkeeping) for both clinics",
    },
    PersonSeed {
        id: "heidi",
        first_name: "Heidi",
        last_name: "Hill",
        org: "acme-north",
        roles: &["web.office_staff"],
        grants: &["emr.edit_users"],
        scheduler: None,
        tasking_access: None,
        active: true,
        description: "user manager at North: Office Staff with Edit Users",
    },
    PersonSeed {
        id: "ivan",
        first_name: "Ivan",
        last_name: "Ito",
        org: "rcm-partners",
        roles: &[],
        grants: &[],
        scheduler: None,
        tasking_access: Some("partner_rcm"),
        active: true,
        description: "Partner RCM user of RCM Partners: Tasking in the clinics it manages",
    },
    PersonSeed {
        id: "judy",
        first_name: "Judy",
        last_name: "Jones",
        org: "acme-south",
        roles: &["web.provider"],
        grants: &[],
        scheduler: Some(("provider", Some("edit_own"))),
        tasking_access: None,
        active: false,
        description: "Provider at South, invited and not signed in yet: denied everything",
    },
];

/// What the demo holds, and a token to try it with.
#[derive(Debug, Clone)]
pub struct Demo {
    /// Every organization: (id, what it is).
    pub orgs: Vec<(&'static str, &'static str)>,
    /// Every user: (id, what they show).
    pub users: Vec<(&'static str, &'static str)>,
    /// A new token acting as [`ADMIN`] in [`ADMIN_ORG`]; its secret is
    /// shown this once.
    pub admin_token: CreatedToken,
    /// [`ADMIN`]'s email, to sign in with.
    pub admin_email: String,
    /// A temporary password for [`ADMIN`], shown this once: it works once,
    /// to choose a password of their own.
    pub admin_password: Password,
}

/// What a database holds, as far as the demo is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// No organizations: the demo may be loaded.
    Empty,
    /// The demo's organizations and admin are there.
    Loaded,
    /// Other data: the demo is not loaded over it.
    OtherData,
}

/// Whether the demo can be loaded, or already was.
pub fn presence(live: &Live) -> Presence {
    if live.model.orgs.is_empty() {
        Presence::Empty
    } else if ORGS.iter().all(|o| live.model.orgs.contains_key(o.id))
        && PEOPLE.iter().all(|p| live.model.users.contains_key(p.id))
    {
        Presence::Loaded
    } else {
        Presence::OtherData
    }
}

/// Loads the demo into a database without organizations, then issues a
/// token for its admin.
pub async fn load(service: &Service) -> Result<Demo, ServiceError> {
    let cli = Principal::Cli;
    for org in ORGS {
        let input = NewOrg {
            id: Some(org.id.to_owned()),
            name: org.name.to_owned(),
            parent: org.parent.map(str::to_owned),
            subscriptions: strings(org.subscriptions),
        };
        orgs::create(service, &cli, SOURCE, input).await?;
    }
    let (partner, managed) = PARTNER;
    let links = Manages {
        orgs: strings(managed),
    };
    orgs::set_manages(service, &cli, SOURCE, partner, links).await?;
    for person in PEOPLE {
        add_person(service, &cli, person).await?;
    }
    resume(service).await
}

async fn add_person(
    service: &Service,
    cli: &Principal,
    person: &PersonSeed,
) -> Result<(), ServiceError> {
    let employee = NewEmployee {
        id: Some(format!("emp-{}", person.id)),
        first_name: person.first_name.to_owned(),
        last_name: person.last_name.to_owned(),
        email: format!("{}@{}.example", person.id, person.org),
    };
    let employee = people::create_employee(service, cli, SOURCE, person.org, employee).await?;
    let access = AccessInput {
        roles: Some(strings(person.roles)),
        grants: Some(strings(person.grants)),
        denials: None,
        scheduler_type: person.scheduler.map(|(t, _)| t.to_owned()),
        scheduler_level: person.scheduler.and_then(|(_, l)| l).map(str::to_owned),
        tasking_access: person.tasking_access.map(str::to_owned),
        expires: None,
    };
    let user = NewUser::new(Some(person.id.to_owned()), employee.id, access);
    people::create_user(service, cli, SOURCE, person.org, user).await?;
    if person.active {
        let status = StatusInput {
            status: Status::Active,
        };
        people::set_status(service, cli, SOURCE, person.org, person.id, status).await?;
    }
    Ok(())
}

/// The demo already loaded: its ids again, and a fresh token for its admin
/// (tokens are stored hashed, so an earlier one cannot be shown again).
pub async fn resume(service: &Service) -> Result<Demo, ServiceError> {
    let input = NewToken {
        org: ADMIN_ORG.to_owned(),
        user: ADMIN.to_owned(),
        name: "demo admin".to_owned(),
        expires_in_days: None,
    };
    let admin_token = tokens::create_user_token(service, &Principal::Cli, SOURCE, input).await?;
    let admin_password =
        credentials::issue_temporary_to_operator(service, &Principal::Cli, SOURCE, ADMIN).await?;
    let admin_email = {
        let live = service.live();
        live.model
            .users
            .get(ADMIN)
            .and_then(|u| live.model.user_email(u))
            .unwrap_or_default()
            .to_owned()
    };
    Ok(Demo {
        admin_email,
        admin_password,
        orgs: ORGS.iter().map(|o| (o.id, o.description)).collect(),
        users: PEOPLE.iter().map(|p| (p.id, p.description)).collect(),
        admin_token,
    })
}

fn strings(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}
