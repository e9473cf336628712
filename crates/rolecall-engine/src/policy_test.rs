//! Policy test files: a catalog, a small world and expectations, checked
//! before anything goes live (as `rolecall test FILE.toml`).
//!
//! [`PolicyTest::parse`] reads the file; the caller loads the catalog it
//! names ([`PolicyTest::catalog`]); [`PolicyTest::run`] builds the world with
//! the same creation defaults as the service ([`Defaults::Apply`]), compiles
//! a snapshot and checks every expectation. Problems in the file come back
//! as [`Diagnostics`] naming the line and the field.

use std::fmt;
use std::sync::Arc;

use rolecall_model::diagnostic::{FieldPath, Problem};
use rolecall_model::world::{CustomRoleSpec, Defaults, GroupSpec, OrgSpec, UserSpec, WorldSpec};
use rolecall_model::{Catalog, Diagnostics, Scope, World};
use serde::Deserialize;

use crate::{Explanation, Snapshot};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    #[serde(default)]
    catalog: Option<String>,
    #[serde(default)]
    org: Vec<OrgSpec>,
    #[serde(default)]
    user: Vec<UserSpec>,
    #[serde(default)]
    group: Vec<GroupSpec>,
    #[serde(default)]
    role: Vec<CustomRoleSpec>,
    #[serde(default)]
    check: Vec<Expectation>,
}

/// One `[[check]]`: a question and its expected answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// The user asking.
    pub user: String,
    /// The organization they act in.
    pub org: String,
    /// The permission asked about.
    pub permission: String,
    /// The owner of the resource, if the question is about one.
    #[serde(default)]
    pub owner: Option<String>,
    /// `allow` or `deny`.
    pub expect: Expect,
    /// When given with `allow`: the scope the answer must carry.
    #[serde(default)]
    pub scope: Option<ExpectedScope>,
}

/// The expected decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    /// The check must be allowed.
    Allow,
    /// The check must be denied.
    Deny,
}

/// The expected scope of an allowed check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExpectedScope {
    /// Only the user's own resources.
    Own,
    /// Every resource.
    All,
}

/// Which catalog a test file runs against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogChoice {
    /// The shipped default catalog.
    Default,
    /// A catalog file, relative to the test file's folder.
    File(String),
}

/// A parsed policy test file.
#[derive(Debug, Clone)]
pub struct PolicyTest {
    origin: String,
    source: String,
    catalog: CatalogChoice,
    world: WorldSpec,
    checks: Vec<Expectation>,
}

/// The result of one expectation.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Position among the file's `[[check]]` tables.
    pub index: usize,
    /// Line of the `[[check]]` in the file.
    pub line: Option<usize>,
    /// The expectation.
    pub expectation: Expectation,
    /// What the engine answered, with its facts.
    pub explanation: Explanation,
    /// Whether the answer met the expectation.
    pub passed: bool,
}

/// Every outcome of one file.
#[derive(Debug, Clone)]
pub struct Report {
    /// Where the file came from.
    pub origin: String,
    /// One per `[[check]]`, in file order.
    pub outcomes: Vec<Outcome>,
}

impl Report {
    /// How many expectations held.
    pub fn passed(&self) -> usize {
        self.outcomes.iter().filter(|o| o.passed).count()
    }

    /// How many expectations failed.
    pub fn failed(&self) -> usize {
        self.outcomes.len() - self.passed()
    }

    /// The failed expectations, one printable line each.
    pub fn failures(&self) -> impl Iterator<Item = Line<'_>> {
        self.lines().filter(|line| !line.outcome.passed)
    }

    /// Every outcome, one printable line each, in file order.
    pub fn lines(&self) -> impl Iterator<Item = Line<'_>> {
        self.outcomes.iter().map(move |outcome| Line {
            origin: &self.origin,
            outcome,
        })
    }
}

/// One outcome printed on one line with its explanation: `FAIL` with what
/// was expected and what came, or `ok`.
#[derive(Debug)]
pub struct Line<'a> {
    origin: &'a str,
    /// The outcome printed.
    pub outcome: &'a Outcome,
}

impl fmt::Display for Line<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = self.outcome;
        let e = &o.expectation;
        write!(f, "{}", self.origin)?;
        if let Some(line) = o.line {
            write!(f, ":{line}")?;
        }
        let owner = e
            .owner
            .as_ref()
            .map_or_else(String::new, |owner| format!(" (owner `{owner}`)"));
        let question = format!(
            "check[{}] `{}` `{}` in `{}`{owner}",
            o.index, e.user, e.permission, e.org
        );
        if o.passed {
            return write!(f, ": ok {question}. {}", o.explanation.sentence);
        }
        let expected = match (e.expect, e.scope) {
            (Expect::Allow, Some(ExpectedScope::Own)) => "allow (scope own)",
            (Expect::Allow, Some(ExpectedScope::All)) => "allow (scope all)",
            (Expect::Allow, None) => "allow",
            (Expect::Deny, _) => "deny",
        };
        let got = match (o.explanation.allowed, o.explanation.scope) {
            (true, Some(Scope::Own)) => "allow (scope own)",
            (true, _) => "allow (scope all)",
            (false, _) => "deny",
        };
        write!(
            f,
            ": FAIL {question}: expected {expected}, got {got}. {}",
            o.explanation.sentence
        )
    }
}

/// Names are printed in explanations, one line per check: a control
/// character (a line break above all) would let a name write lines of its
/// own, such as a forged `ok`. The service refuses them the same way.
fn names_are_text(file: &FileSpec) -> Vec<Problem> {
    let root = FieldPath::root();
    let names = file
        .org
        .iter()
        .enumerate()
        .map(|(i, org)| (root.item("org", i), org.name.as_deref()))
        .chain(
            file.user
                .iter()
                .enumerate()
                .map(|(i, user)| (root.item("user", i), user.name.as_deref())),
        )
        .chain(
            file.role
                .iter()
                .enumerate()
                .map(|(i, role)| (root.item("role", i), Some(role.name.as_str()))),
        );
    names
        .filter(|(_, name)| name.is_some_and(|n| n.chars().any(char::is_control)))
        .map(|(path, _)| {
            Problem::new(
                path.key("name"),
                "must not contain control characters, such as a line break",
            )
        })
        .collect()
}

impl PolicyTest {
    /// Parses a test file; `origin` names it in diagnostics.
    pub fn parse(origin: &str, source: &str) -> Result<PolicyTest, Diagnostics> {
        let file: FileSpec = toml::from_str(source)
            .map_err(|error| Diagnostics::from_toml_error(origin, source, &error))?;
        let problems = names_are_text(&file);
        if !problems.is_empty() {
            return Err(Diagnostics::locate(origin, source, problems));
        }
        let catalog = match file.catalog.as_deref() {
            None | Some("default") => CatalogChoice::Default,
            Some(path) => CatalogChoice::File(path.to_owned()),
        };
        Ok(PolicyTest {
            origin: origin.to_owned(),
            source: source.to_owned(),
            catalog,
            world: WorldSpec {
                orgs: file.org,
                users: file.user,
                groups: file.group,
                custom_roles: file.role,
            },
            checks: file.check,
        })
    }

    /// The catalog the file asks for.
    pub fn catalog(&self) -> &CatalogChoice {
        &self.catalog
    }

    /// Builds the world, checks every expectation and reports the outcomes.
    pub fn run(&self, catalog: Arc<Catalog>) -> Result<Report, Diagnostics> {
        let located = |problems| Diagnostics::locate(&self.origin, &self.source, problems);
        let world = World::build(&catalog, &self.world, Defaults::Apply).map_err(located)?;
        let mut problems = Vec::new();
        for (i, check) in self.checks.iter().enumerate() {
            let path = FieldPath::root().item("check", i);
            if world.user(&check.user).is_none() {
                problems.push(Problem::new(
                    path.key("user"),
                    format!("unknown user `{}`", check.user),
                ));
            }
            if world.org(&check.org).is_none() {
                problems.push(Problem::new(
                    path.key("org"),
                    format!("unknown organization `{}`", check.org),
                ));
            }
            if catalog.permission(&check.permission).is_none() {
                problems.push(Problem::new(
                    path.key("permission"),
                    format!("unknown permission `{}`", check.permission),
                ));
            }
            if check.expect == Expect::Deny && check.scope.is_some() {
                problems.push(Problem::new(
                    path.key("scope"),
                    "a scope can only be expected with `expect = \"allow\"`",
                ));
            }
        }
        if !problems.is_empty() {
            return Err(located(problems));
        }
        let snapshot = Snapshot::build(catalog, world);
        // Lines of the `[[check]]` tables, found once for every outcome.
        let lines = Diagnostics::locate(
            &self.origin,
            &self.source,
            (0..self.checks.len())
                .map(|i| Problem::new(FieldPath::root().item("check", i), ""))
                .collect(),
        );
        let outcomes = self
            .checks
            .iter()
            .enumerate()
            .map(|(index, expectation)| {
                let explanation = snapshot.explain(
                    &expectation.user,
                    &expectation.permission,
                    &expectation.org,
                    expectation.owner.as_deref(),
                );
                let decision = snapshot.check(
                    &expectation.user,
                    &expectation.permission,
                    &expectation.org,
                    expectation.owner.as_deref(),
                );
                let scope_ok = matches!(
                    (expectation.scope, decision.scope),
                    (None, _)
                        | (Some(ExpectedScope::Own), Some(Scope::Own))
                        | (Some(ExpectedScope::All), Some(Scope::All))
                );
                let passed = match expectation.expect {
                    Expect::Allow => decision.allowed && scope_ok,
                    Expect::Deny => !decision.allowed,
                };
                Outcome {
                    index,
                    line: lines.0.get(index).and_then(|d| d.line),
                    expectation: expectation.clone(),
                    explanation,
                    passed,
                }
            })
            .collect();
        Ok(Report {
            origin: self.origin.clone(),
            outcomes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_with_a_line_break_is_refused_naming_its_field() {
        // Arrange: a name that would print a forged line under its check.
        let source = "[[org]]\nid = \"acme\"\nname = \"Acme\\nok other.toml: all passed\"\n";

        // Act
        let Err(refused) = PolicyTest::parse("t.toml", source) else {
            panic!("a name with a line break was accepted");
        };

        // Assert
        assert_eq!(
            refused.to_string(),
            "t.toml:3:8: field `org[0].name`: must not contain control characters, such as a \
             line break"
        );
    }
}
