//! Cedar, written as a Cedar user would: the workload as an entity store and
//! a policy set generated from the matrix, asked through
//! [`Authorizer::is_authorized`].
//!
//! Entities:
//! - `User::"user-4242"`, a member (child) of one `OrgRole` group per role
//!   it holds;
//! - `OrgRole::"org-17/web.biller"`, the holders of one role in one
//!   organization, with attribute `org` and parent `Role::"web.biller"`;
//! - `Org::"org-17"`, with `modules`, the set of `Module`s it subscribes to,
//!   and `roles`, a record from role id to its `OrgRole` group there;
//! - `Action::"web.manage_charge_entries"`, a permission, child of the action
//!   group of its module (`Action::"module:web.billing"`) and of those of the
//!   roles granting it (`Action::"role:web.biller"`).
//!
//! Policies: one `permit` per role, for its action group, when the principal
//! is in that role's group of the resource organization (so a role held in
//! another organization never counts); one `forbid` per gated module, unless
//! the organization subscribes to it.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityId, EntityTypeName, EntityUid,
    PolicySet, Request, RestrictedExpression,
};

use crate::engine::{string_queries, Engine};
use crate::error::BenchError;
use crate::workload::{Check, Matrix, StrCheck, Workload};

/// The action group of the permissions `role` grants.
fn role_group(role: &str) -> String {
    format!("role:{role}")
}

/// The action group of the permissions of `module`.
fn module_group(module: &str) -> String {
    format!("module:{module}")
}

/// The Cedar policies for `matrix`, as text.
pub fn policies(matrix: &Matrix) -> String {
    let mut text = String::new();
    for role in &matrix.roles {
        // Writing to a `String` cannot fail.
        let _ = write!(
            text,
            "// Holders of `{role}` in an organization may do what it grants there.\n\
             @id(\"role {role}\")\n\
             permit (principal, action in Action::\"{group}\", resource is Org)\n\
             when {{ principal in resource.roles[\"{role}\"] }};\n\n",
            role = role.id,
            group = role_group(&role.id),
        );
    }
    for module in &matrix.modules {
        if module.subscription.is_none() {
            continue;
        }
        let _ = write!(
            text,
            "// `{module}` is available only with its subscription.\n\
             @id(\"module {module}\")\n\
             forbid (principal, action in Action::\"{group}\", resource is Org)\n\
             unless {{ resource.modules.contains(Module::\"{module}\") }};\n\n",
            module = module.id,
            group = module_group(&module.id),
        );
    }
    text
}

/// The entity types of the store, parsed once.
#[derive(Debug, Clone)]
struct Types {
    user: EntityTypeName,
    org_role: EntityTypeName,
    role: EntityTypeName,
    org: EntityTypeName,
    module: EntityTypeName,
    action: EntityTypeName,
}

impl Types {
    fn new() -> Result<Self, BenchError> {
        let parse = |name: &str| {
            EntityTypeName::from_str(name).map_err(|e| BenchError::Cedar(e.to_string()))
        };
        Ok(Self {
            user: parse("User")?,
            org_role: parse("OrgRole")?,
            role: parse("Role")?,
            org: parse("Org")?,
            module: parse("Module")?,
            action: parse("Action")?,
        })
    }
}

/// An entity uid of type `kind` and id `id`.
fn uid(kind: &EntityTypeName, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(kind.clone(), EntityId::new(id))
}

/// The id of the group of `role`'s holders in `org`.
fn org_role_id(org: &str, role: &str) -> String {
    format!("{org}/{role}")
}

/// One policy set and one entity store, built once.
#[derive(Debug)]
pub struct CedarEngine {
    types: Types,
    policies: PolicySet,
    entities: Entities,
    authorizer: Authorizer,
}

impl CedarEngine {
    /// Parses the policies and builds the entity store.
    pub fn build(workload: &Workload) -> Result<Self, BenchError> {
        let types = Types::new()?;
        let policies = PolicySet::from_str(&policies(&workload.matrix))
            .map_err(|e| BenchError::Cedar(format!("policies: {e}")))?;
        let entities = Entities::from_entities(entities(&types, workload)?, None)
            .map_err(|e| BenchError::Cedar(format!("entities: {e}")))?;
        Ok(Self {
            types,
            policies,
            entities,
            authorizer: Authorizer::new(),
        })
    }

    /// The request for a check, built from its ids as a service builds one
    /// per incoming call.
    fn request(&self, q: &StrCheck<'_>) -> Result<Request, BenchError> {
        Request::new(
            uid(&self.types.user, &q.user),
            uid(&self.types.action, &q.permission),
            uid(&self.types.org, &q.org),
            Context::empty(),
            None,
        )
        .map_err(|e| BenchError::Cedar(e.to_string()))
    }
}

/// Every entity of the store.
fn entities(types: &Types, workload: &Workload) -> Result<Vec<Entity>, BenchError> {
    let matrix = &workload.matrix;
    let attr_error = |e: &dyn std::fmt::Display| BenchError::Cedar(format!("entity: {e}"));
    let mut all = Vec::new();
    for module in &matrix.modules {
        all.push(Entity::new_no_attrs(
            uid(&types.module, &module.id),
            HashSet::new(),
        ));
        all.push(Entity::new_no_attrs(
            uid(&types.action, &module_group(&module.id)),
            HashSet::new(),
        ));
    }
    for role in &matrix.roles {
        all.push(Entity::new_no_attrs(
            uid(&types.role, &role.id),
            HashSet::new(),
        ));
        all.push(Entity::new_no_attrs(
            uid(&types.action, &role_group(&role.id)),
            HashSet::new(),
        ));
    }
    for (p, permission) in matrix.permissions.iter().enumerate() {
        // An action belongs to its module's group and to the group of every
        // role granting it.
        let module = &matrix.modules[permission.module].id;
        let groups = std::iter::once(uid(&types.action, &module_group(module)))
            .chain(
                matrix
                    .roles
                    .iter()
                    .filter(|role| role.grants.contains(&p))
                    .map(|role| uid(&types.action, &role_group(&role.id))),
            )
            .collect();
        all.push(Entity::new_no_attrs(
            uid(&types.action, &permission.id),
            groups,
        ));
    }
    for org in &workload.orgs {
        let org_uid = uid(&types.org, &org.id);
        let mut roles = Vec::with_capacity(matrix.roles.len());
        for role in &matrix.roles {
            let group = uid(&types.org_role, &org_role_id(&org.id, &role.id));
            let attrs = HashMap::from([(
                "org".to_owned(),
                RestrictedExpression::new_entity_uid(org_uid.clone()),
            )]);
            let parents = HashSet::from([uid(&types.role, &role.id)]);
            all.push(Entity::new(group.clone(), attrs, parents).map_err(|e| attr_error(&e))?);
            roles.push((role.id.clone(), RestrictedExpression::new_entity_uid(group)));
        }
        let modules = org.modules.iter().map(|m| {
            RestrictedExpression::new_entity_uid(uid(&types.module, &matrix.modules[*m].id))
        });
        let attrs = HashMap::from([
            ("modules".to_owned(), RestrictedExpression::new_set(modules)),
            (
                "roles".to_owned(),
                RestrictedExpression::new_record(roles).map_err(|e| attr_error(&e))?,
            ),
        ]);
        all.push(Entity::new(org_uid, attrs, HashSet::new()).map_err(|e| attr_error(&e))?);
    }
    for user in &workload.users {
        let org = &workload.orgs[user.org].id;
        let groups = user
            .roles
            .iter()
            .map(|r| uid(&types.org_role, &org_role_id(org, &matrix.roles[*r].id)))
            .collect();
        all.push(Entity::new_no_attrs(uid(&types.user, &user.id), groups));
    }
    Ok(all)
}

impl Engine for CedarEngine {
    type Query<'w> = StrCheck<'w>;

    fn name(&self) -> &'static str {
        "cedar-policy 4"
    }

    fn prepare<'w>(
        &self,
        workload: &'w Workload,
        checks: &[Check],
    ) -> Result<Vec<StrCheck<'w>>, BenchError> {
        Ok(string_queries(workload, checks))
    }

    fn decide(&self, q: &StrCheck<'_>) -> Result<bool, BenchError> {
        let response =
            self.authorizer
                .is_authorized(&self.request(q)?, &self.policies, &self.entities);
        if let Some(error) = response.diagnostics().errors().next() {
            return Err(BenchError::Cedar(error.to_string()));
        }
        Ok(response.decision() == Decision::Allow)
    }

    #[inline]
    fn allows(&self, q: &StrCheck<'_>) -> bool {
        self.request(q).is_ok_and(|request| {
            self.authorizer
                .is_authorized(&request, &self.policies, &self.entities)
                .decision()
                == Decision::Allow
        })
    }
}
