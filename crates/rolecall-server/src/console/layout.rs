//! The page frame every console page shares: the document, the header with
//! who is signed in, and the styles (small, inline: no asset to serve).

use maud::{html, Markup, PreEscaped, DOCTYPE};
use rolecall_store::SessionRow;

use crate::accounts::signin::{self, SessionView};
use crate::console::users::user_path;
use crate::principal::Principal;
use crate::rules;
use crate::service::Live;

/// Who is signed in, and which areas of the console are theirs to use: the
/// header links only to those.
pub struct Viewer {
    /// The session, as the API shows it.
    pub session: SessionView,
    /// The areas open to them.
    pub areas: Areas,
}

/// The areas of the console a person may use, by the same rules as the
/// operations behind them, in any organization they reach. Roles,
/// Organization and the access checker are open to everyone signed in (to
/// read; their forms are offered to those who may use them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Areas {
    /// The users list and User Role Management: a user manager.
    pub users: bool,
    /// The audit log: an auditor.
    pub audit: bool,
    /// The access review: a user manager or an auditor.
    pub review: bool,
}

impl Viewer {
    /// The viewer of `session`; a session not fully signed in has no areas.
    pub fn of(live: &Live, session: &SessionRow) -> Viewer {
        let areas = signin::principal_of(session)
            .map(|principal| Areas::of(live, &principal))
            .unwrap_or_default();
        Viewer {
            session: signin::view(&live.model, session),
            areas,
        }
    }

    /// The header's links, (address, label), to the areas open to them.
    pub fn links(&self) -> Vec<(String, &'static str)> {
        let mut links = Vec::with_capacity(7);
        if self.areas.users {
            links.push(("/users".to_owned(), "Users"));
            links.push(("/role-management".to_owned(), "User Role Management"));
        } else {
            let own = user_path(&self.session.user, &self.session.org, "");
            links.push((own, "My access"));
        }
        links.push(("/roles".to_owned(), "Roles"));
        links.push(("/organization".to_owned(), "Organization"));
        links.push(("/access-checker".to_owned(), "Access checker"));
        if self.areas.audit {
            links.push(("/audit".to_owned(), "Audit log"));
        }
        if self.areas.review {
            links.push(("/access-review".to_owned(), "Access review"));
        }
        links
    }

    /// The page to start from: the users list for a user manager, else
    /// their own access.
    pub fn home(&self) -> String {
        if self.areas.users {
            "/users".to_owned()
        } else {
            user_path(&self.session.user, &self.session.org, "")
        }
    }
}

impl Areas {
    /// What `principal` may use, in any organization they reach.
    pub fn of(live: &Live, principal: &Principal) -> Areas {
        let mut areas = Areas::default();
        for org in live.model.orgs.keys() {
            if rules::visible_org(live, principal, org).is_err() {
                continue;
            }
            let holds = |permissions| rules::require(live, principal, org, permissions).is_ok();
            areas.users |= holds(rules::USER_ADMIN);
            areas.audit |= holds(rules::AUDIT_READER);
            if areas.users && areas.audit {
                break;
            }
        }
        areas.review = areas.users || areas.audit;
        areas
    }
}

/// Styles: readable on a laptop and a tablet, visible keyboard focus,
/// colours with enough contrast (WCAG AA).
const STYLE: &str = r#"
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;background:#f6f7f9}
a{color:#0b57d0}
a:focus,button:focus,input:focus,select:focus{outline:3px solid #f4b400;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:4px 8px}
header{display:flex;flex-wrap:wrap;gap:12px;align-items:center;justify-content:space-between;padding:10px 20px;background:#12355b;color:#fff}
header a{color:#fff}
header nav ul{display:flex;flex-wrap:wrap;gap:16px;list-style:none;margin:0;padding:0}
header form{display:inline}
main{max-width:1100px;margin:0 auto;padding:20px}
h1{font-size:1.6rem;margin:.2em 0 .6em}
.card{background:#fff;border:1px solid #d4d8de;border-radius:6px;padding:20px;margin-bottom:20px}
.narrow{max-width:420px;margin:40px auto}
label{display:block;font-weight:600;margin:12px 0 4px}
input[type=text],input[type=email],input[type=password],input[type=search],select{width:100%;padding:8px;border:1px solid #6b7280;border-radius:4px;font:inherit}
button{margin-top:16px;padding:8px 16px;border:0;border-radius:4px;background:#0b57d0;color:#fff;font:inherit;cursor:pointer}
button.link{background:none;color:#fff;text-decoration:underline;margin:0;padding:0}
button.secondary{background:#fff;color:#0b57d0;border:1px solid #0b57d0}
.error{border-left:4px solid #b3261e;background:#fdecea;padding:10px 14px;margin:12px 0}
.notice{border-left:4px solid #146c2e;background:#e6f4ea;padding:10px 14px;margin:12px 0}
table{width:100%;border-collapse:collapse;background:#fff}
th,td{text-align:left;padding:8px;border-bottom:1px solid #d4d8de;vertical-align:top}
th{background:#eef1f5}
.hint{color:#4b5563;font-size:.9rem}
@media (max-width:700px){main{padding:12px}th,td{padding:6px}}
"#;

/// A whole page: `title` in the tab and as the page's `<h1>`.
pub fn page(title: &str, viewer: Option<&Viewer>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · rolecall" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                a.skip href="#main" { "Skip to the content" }
                header {
                    strong { "rolecall" }
                    @if let Some(viewer) = viewer {
                        @let session = &viewer.session;
                        nav aria-label="Main" {
                            ul {
                                @for (href, label) in viewer.links() {
                                    li {
                                        @if label == title {
                                            a href=(href) aria-current="page" { strong { (label) } }
                                        } @else {
                                            a href=(href) { (label) }
                                        }
                                    }
                                }
                            }
                        }
                        div {
                            span { (session.name) " · " (session.org) " " }
                            a href="/account/password" { "Password" } " "
                            a href="/account/mfa" { "Second factor" } " "
                            form method="post" action="/sign-out" {
                                input type="hidden" name="csrf" value=(session.csrf_token);
                                button.link type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main id="main" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// Problems to show above a form: each as a line, announced to screen
/// readers.
pub fn errors(messages: &[String]) -> Markup {
    html! {
        @if !messages.is_empty() {
            div.error role="alert" {
                @for message in messages { p { (message) } }
            }
        }
    }
}

/// A confirmation to show above a page.
pub fn notice(message: Option<&str>) -> Markup {
    html! {
        @if let Some(message) = message {
            div.notice role="status" { p { (message) } }
        }
    }
}

/// A button that signs out, for pages without the header (a sign-in not
/// finished yet).
pub fn sign_out_form(csrf: &str, label: &str) -> Markup {
    html! {
        form method="post" action="/sign-out" {
            input type="hidden" name="csrf" value=(csrf);
            button.secondary type="submit" { (label) }
        }
    }
}
