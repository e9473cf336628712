//! The page frame every console page shares: the document, the header with
//! who is signed in, and the styles (small, inline: no asset to serve).

use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::accounts::signin::SessionView;

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
.error{border-left:4px solid #b3261e;background:#fdecea;padding:10px 14px;margin:12px 0}
.notice{border-left:4px solid #146c2e;background:#e6f4ea;padding:10px 14px;margin:12px 0}
table{width:100%;border-collapse:collapse;background:#fff}
th,td{text-align:left;padding:8px;border-bottom:1px solid #d4d8de;vertical-align:top}
th{background:#eef1f5}
.hint{color:#4b5563;font-size:.9rem}
@media (max-width:700px){main{padding:12px}th,td{padding:6px}}
"#;

/// A whole page: `title` in the tab and as the page's `<h1>`.
pub fn page(title: &str, session: Option<&SessionView>, body: Markup) -> Markup {
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
                    @if let Some(session) = session {
                        nav aria-label="Main" {
                            ul {
                                li { a href="/users" { "Users" } }
                                li { a href="/role-management" { "User Role Management" } }
                                li { a href="/roles" { "Roles" } }
                                li { a href="/organization" { "Organization" } }
                                li { a href="/access-checker" { "Access checker" } }
                                li { a href="/audit" { "Audit log" } }
                                li { a href="/access-review" { "Access review" } }
                            }
                        }
                        div {
                            span { (session.name) " · " (session.org) " " }
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
