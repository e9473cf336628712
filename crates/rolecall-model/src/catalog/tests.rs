use super::*;

fn problems_of(source: &str) -> Vec<String> {
    match Catalog::from_toml("test.toml", source) {
        Ok(_) => Vec::new(),
        Err(diagnostics) => diagnostics.0.iter().map(ToString::to_string).collect(),
    }
}

const BASE: &str = r#"
[[application]]
id = "web"
name = "Web"

[[module]]
id = "web.general"
name = "General"

[[permission]]
id = "web.messages"
name = "Messages"
module = "web.general"
"#;

#[test]
fn the_default_catalog_is_valid_and_has_the_thirty_web_permissions() {
    let catalog = Catalog::default_catalog();
    let web = catalog.application("web").map(|a| a.ix());
    let count = catalog
        .permissions
        .iter()
        .filter(|p| Some(p.application.ix()) == web)
        .count();
    assert_eq!(count, 30);
}

#[test]
fn an_unknown_permission_in_a_role_names_the_line_and_field() {
    let source = format!("{BASE}\n[[role]]\nid = \"web.clerk\"\nname = \"Clerk\"\ngrants = [\"web.messages\", \"web.mesages\"]\n");
    let problems = problems_of(&source);
    assert_eq!(
        problems,
        vec![
            "test.toml:18:27: field `role[0].grants[1]`: unknown permission `web.mesages`"
                .to_owned()
        ]
    );
}

#[test]
fn a_duplicate_permission_id_is_rejected() {
    let source = format!("{BASE}\n[[permission]]\nid = \"web.messages\"\nname = \"Again\"\nmodule = \"web.general\"\n");
    let problems = problems_of(&source);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains(":16:"), "{problems:?}");
    assert!(
        problems[0].contains("duplicate permission id `web.messages`"),
        "{problems:?}"
    );
}

#[test]
fn a_dangling_module_reference_is_rejected() {
    let source = format!(
        "{BASE}\n[[permission]]\nid = \"web.other\"\nname = \"Other\"\nmodule = \"web.nowhere\"\n"
    );
    let problems = problems_of(&source);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("field `permission[1].module`: unknown module `web.nowhere`"),
        "{problems:?}"
    );
}

#[test]
fn a_prerequisite_cycle_is_rejected() {
    let source = format!(
        "{BASE}\nrequires = [\"web.b\"]\n\n[[permission]]\nid = \"web.b\"\nname = \"B\"\nmodule = \"web.general\"\nrequires = [\"web.messages\"]\n"
    );
    let problems = problems_of(&source);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("prerequisites form a cycle: web.messages → web.b → web.messages")
            || problems[0].contains("prerequisites form a cycle: web.b → web.messages → web.b"),
        "{problems:?}"
    );
}

#[test]
fn own_scope_on_an_unscoped_permission_is_rejected() {
    let source = format!(
        "{BASE}\n[[role]]\nid = \"web.clerk\"\nname = \"Clerk\"\ngrants = [\"web.messages:own\"]\n"
    );
    let problems = problems_of(&source);
    assert!(problems[0].contains("is not scoped"), "{problems:?}");
}

#[test]
fn an_unknown_field_is_a_syntax_error_with_its_line() {
    let source = format!("{BASE}\ncolour = \"red\"\n");
    let problems = problems_of(&source);
    assert_eq!(problems.len(), 1);
    assert!(problems[0].starts_with("test.toml:15:"), "{problems:?}");
    assert!(problems[0].contains("colour"), "{problems:?}");
}

#[test]
fn a_gate_must_be_a_service_or_the_module_itself() {
    let source = BASE.replace(
        "name = \"General\"",
        "name = \"General\"\ngated_by = [\"revserve\"]",
    );
    let problems = problems_of(&source);
    assert!(
        problems[0].contains("`revserve` is neither a service nor this module's own id"),
        "{problems:?}"
    );
}

#[test]
fn a_name_with_a_line_break_is_rejected() {
    let source = BASE.replace("name = \"Messages\"", "name = \"Messages\\nok: forged\"");
    let problems = problems_of(&source);
    assert_eq!(
        problems,
        vec![
            "test.toml:12:8: field `permission[0].name`: must not contain control characters, \
             such as a line break"
                .to_owned()
        ]
    );
}
