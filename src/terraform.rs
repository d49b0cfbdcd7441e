//! Terraform / OpenTofu export of Glance image memberships.
//!
//! Memberships made in the dashboard exist only in Glance. This module writes the HCL an operator
//! needs to adopt them into Terraform state with `import` blocks (Terraform >= 1.5, OpenTofu >= 1.6)
//! instead of creating them a second time.
//!
//! Image names, image IDs, member IDs and statuses all come from the Glance API, which we do not
//! trust: every value is written through [`quote`], and every piece of text in a comment through
//! [`comment_text`], so that no upstream string can end a string literal, start a template
//! interpolation (`${file("/etc/passwd")}`) or break out of a comment onto a line of its own.

use std::collections::HashSet;
use std::fmt::{self, Write as _};

/// Long enough for a 32-character project ID plus part of the image name, short enough to read in
/// `terraform plan` output.
const MAX_LABEL_LEN: usize = 60;
/// Member IDs are normally 32-character project IDs; the cap keeps room for the image name when an
/// upstream hands us something much longer.
const MAX_MEMBER_SLUG_LEN: usize = 40;
/// Glance caps image names at 255 characters; anything longer is not a name a person typed.
const MAX_COMMENT_CHARS: usize = 255;

/// The provider is shared with the page's links (`model`); what the HCL needs of it is here.
pub use crate::model::Provider;

/// What the writer needs of a provider beyond its key and label.
impl Provider {
    // All three providers share the names and arguments of terraform-provider-openstack:
    // Open Telekom Cloud and Viettel IDC started as forks of it.
    fn owner_resource_type(self) -> String {
        format!("{}_images_image_access_v2", self.key())
    }

    fn consumer_resource_type(self) -> String {
        format!("{}_images_image_access_accept_v2", self.key())
    }

    /// Where `terraform init` / `tofu init` downloads the provider from. Without it, a resource
    /// type prefix alone makes Terraform look for `hashicorp/<key>`, which does not exist.
    pub fn registry_source(self) -> &'static str {
        match self {
            Provider::OpenStack => "terraform-provider-openstack/openstack",
            Provider::OpenTelekomCloud => "opentelekomcloud/opentelekomcloud",
            // The provider's repository is viettelidc-provider/terraform-provider-viettelidc.
            Provider::ViettelIdc => "viettelidc-provider/viettelidc",
        }
    }
}

/// One member of an image, as the owner sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportMember<'a> {
    pub member_id: &'a str,
    /// "pending", "accepted" or "rejected".
    pub status: &'a str,
    /// The project's "name (domain)", where the dashboard knows it: a comment beside its ID.
    pub project: Option<&'a str>,
}

/// Owner side: one `<prefix>_images_image_access_v2` resource per member plus a matching `import`
/// block with id "image_id/member_id".
///
/// Members come out sorted by member ID so that exporting twice gives the same file; a member ID
/// listed twice is written once (with the first status given), because two import blocks for one
/// ID would make Terraform refuse the whole file.
pub fn owner_hcl(provider: Provider, image_id: &str, image_name: &str, members: &[ExportMember]) -> String {
    let mut out = String::new();
    write_owner(&mut out, provider, image_id, image_name, members).expect("writing to a String cannot fail");
    out
}

/// Consumer side: one `<prefix>_images_image_access_accept_v2` resource (image_id, member_id,
/// status) plus its `import` block (id "image_id/member_id").
pub fn consumer_hcl(provider: Provider, image_id: &str, image_name: &str, member_id: &str, status: &str) -> String {
    let mut out = String::new();
    write_consumer(&mut out, provider, image_id, image_name, member_id, status)
        .expect("writing to a String cannot fail");
    out
}

/// One image of a multi-image export, with the members to write for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportImage<'a> {
    pub image_id: &'a str,
    pub image_name: &'a str,
    pub members: Vec<ExportMember<'a>>,
}

/// Owner side for several images in one file (a batch's result): the resources and import
/// blocks of [`owner_hcl`] for every image, in the order given, with labels unique across the
/// whole file (two images may share a name, and a project may be a member of both).
pub fn images_hcl(provider: Provider, images: &[ExportImage]) -> String {
    let mut out = String::new();
    write_images(&mut out, provider, images).expect("writing to a String cannot fail");
    out
}

/// A file name for a batch's export: "batch-<first 8 of its id>-members.tf".
pub fn batch_file_name(batch_id: &str) -> String {
    let short: String =
        batch_id.chars().filter(char::is_ascii_alphanumeric).take(8).map(|c| c.to_ascii_lowercase()).collect();
    if short.is_empty() { "batch-members.tf".into() } else { format!("batch-{short}-members.tf") }
}

/// A file name for download, e.g. "image-<first 8 of id>-members.tf".
///
/// Only ASCII letters and digits of the ID are used, so that an odd ID cannot put a path separator
/// or a quote into a `Content-Disposition` header or onto someone's disk.
pub fn file_name(image_id: &str, consumer: bool) -> String {
    let short: String =
        image_id.chars().filter(char::is_ascii_alphanumeric).take(8).map(|c| c.to_ascii_lowercase()).collect();
    let kind = if consumer { "membership" } else { "members" };
    if short.is_empty() { format!("image-{kind}.tf") } else { format!("image-{short}-{kind}.tf") }
}

fn write_owner(
    out: &mut impl fmt::Write,
    provider: Provider,
    image_id: &str,
    image_name: &str,
    members: &[ExportMember],
) -> fmt::Result {
    let resource_type = provider.owner_resource_type();
    writeln!(out, "# Terraform / OpenTofu configuration for the members of a shared Glance image, from glance-share.")?;
    write_image_lines(out, provider, image_id, image_name)?;
    write_owner_notes(out, &resource_type, "member")?;

    if members.is_empty() {
        writeln!(out)?;
        writeln!(out, "# This image has no members: there is nothing to import.")?;
        return Ok(());
    }
    write_required_provider(out, provider)?;
    write_members(out, &mut Labels::default(), &resource_type, image_id, image_name, members)
}

/// One resource and one import block per member, sorted by member ID and each member once,
/// with labels unique among all those `labels` handed out in the file.
fn write_members(
    out: &mut impl fmt::Write,
    labels: &mut Labels,
    resource_type: &str,
    image_id: &str,
    image_name: &str,
    members: &[ExportMember],
) -> fmt::Result {
    let mut members: Vec<&ExportMember> = members.iter().collect();
    // A stable sort, so among duplicates the first one given is the one kept.
    members.sort_by_key(|member| member.member_id);
    members.dedup_by_key(|member| member.member_id);
    for member in members {
        let label = labels.claim(image_name, member.member_id);
        writeln!(out)?;
        writeln!(out, "resource \"{resource_type}\" \"{label}\" {{")?;
        writeln!(out, "  image_id  = {}", quote(image_id))?;
        writeln!(out, "  member_id = {}", quote(member.member_id))?;
        if let Some(project) = member.project {
            writeln!(out, "  # project: {}", comment_text(project))?;
        }
        // Not an argument: the owner is not allowed to set it, and with `status` in the
        // configuration Terraform would try to on every apply.
        writeln!(out, "  # status: {} (managed by the member project)", comment_text(member.status))?;
        writeln!(out, "}}")?;
        writeln!(out)?;
        write_import(out, resource_type, &label, image_id, member.member_id)?;
    }
    Ok(())
}

/// What an owner's export file is and how to apply it; `each` names one resource ("member").
fn write_owner_notes(out: &mut impl fmt::Write, resource_type: &str, each: &str) -> fmt::Result {
    writeln!(out, "#")?;
    writeln!(out, "# Each {each} is one resource of type {resource_type} with an `import` block,")?;
    writeln!(
        out,
        "# so that the first `terraform apply` adopts the existing memberships instead of creating them again."
    )?;
    writeln!(out, "# Import blocks need Terraform >= 1.5 or OpenTofu >= 1.6 and must be in the root module.")?;
    writeln!(out, "# A membership's status (accepted, rejected, pending) is managed by the member project, not by")?;
    writeln!(out, "# the image owner, so it appears below only as a comment.")?;
    writeln!(out, "# Destroying one of these resources takes the image away from that member.")
}

fn write_images(out: &mut impl fmt::Write, provider: Provider, images: &[ExportImage]) -> fmt::Result {
    let resource_type = provider.owner_resource_type();
    writeln!(out, "# Terraform / OpenTofu configuration for image memberships a glance-share batch left in place.")?;
    writeln!(out, "# Provider: {} ({})", provider.label(), provider.key())?;
    write_owner_notes(out, &resource_type, "membership")?;
    let mut labels = Labels::default();
    let mut written = 0;
    if images.iter().any(|i| !i.members.is_empty()) {
        write_required_provider(out, provider)?;
    }
    for image in images.iter().filter(|i| !i.members.is_empty()) {
        writeln!(out)?;
        writeln!(out, "# Image: {} ({})", comment_text(image.image_name), comment_text(image.image_id))?;
        write_members(out, &mut labels, &resource_type, image.image_id, image.image_name, &image.members)?;
        written += 1;
    }
    if written == 0 {
        writeln!(out)?;
        writeln!(out, "# The batch left no membership in place: there is nothing to import.")?;
    }
    Ok(())
}

fn write_consumer(
    out: &mut impl fmt::Write,
    provider: Provider,
    image_id: &str,
    image_name: &str,
    member_id: &str,
    status: &str,
) -> fmt::Result {
    let resource_type = provider.consumer_resource_type();
    writeln!(
        out,
        "# Terraform / OpenTofu configuration for a project's membership of a shared Glance image, from glance-share."
    )?;
    write_image_lines(out, provider, image_id, image_name)?;
    writeln!(out, "#")?;
    writeln!(out, "# The membership is one resource of type {resource_type} with an `import` block,")?;
    writeln!(
        out,
        "# so that the first `terraform apply` adopts the existing membership instead of creating it again."
    )?;
    writeln!(out, "# Import blocks need Terraform >= 1.5 or OpenTofu >= 1.6 and must be in the root module.")?;
    writeln!(out, "# The status is managed by the member project, which is the project this file is for:")?;
    writeln!(out, "# apply it with credentials of that project. Destroying the resource rejects the image.")?;

    write_required_provider(out, provider)?;
    let label = Labels::default().claim(image_name, member_id);
    writeln!(out)?;
    writeln!(out, "resource \"{resource_type}\" \"{label}\" {{")?;
    writeln!(out, "  image_id  = {}", quote(image_id))?;
    // Optional for OpenStack (it defaults to the provider's project) but required by Open Telekom
    // Cloud, and explicit is safer when the provider is configured for another project.
    writeln!(out, "  member_id = {}", quote(member_id))?;
    writeln!(out, "  status    = {}", quote(status))?;
    writeln!(out, "}}")?;
    writeln!(out)?;
    write_import(out, &resource_type, &label, image_id, member_id)
}

/// The `terraform { required_providers { … } }` block that tells `init` where the provider
/// comes from. A module may hold only one such block: a file pasted into a module that already
/// names the provider needs this block removed, which the comment says.
fn write_required_provider(out: &mut impl fmt::Write, provider: Provider) -> fmt::Result {
    writeln!(out)?;
    writeln!(out, "# Where `terraform init` finds the provider (drop this block if your module already has one).")?;
    writeln!(out, "terraform {{")?;
    writeln!(out, "  required_providers {{")?;
    writeln!(out, "    {} = {{", provider.key())?;
    writeln!(out, "      source = {}", quote(provider.registry_source()))?;
    writeln!(out, "    }}")?;
    writeln!(out, "  }}")?;
    writeln!(out, "}}")
}

fn write_image_lines(out: &mut impl fmt::Write, provider: Provider, image_id: &str, image_name: &str) -> fmt::Result {
    writeln!(out, "# Image: {} ({})", comment_text(image_name), comment_text(image_id))?;
    writeln!(out, "# Provider: {} ({})", provider.label(), provider.key())
}

fn write_import(
    out: &mut impl fmt::Write,
    resource_type: &str,
    label: &str,
    image_id: &str,
    member_id: &str,
) -> fmt::Result {
    writeln!(out, "import {{")?;
    writeln!(out, "  to = {resource_type}.{label}")?;
    // Both providers split the import ID at the first slash, the format their docs give.
    writeln!(out, "  id = {}", quote(&format!("{image_id}/{member_id}")))?;
    writeln!(out, "}}")
}

/// Hands out resource labels that are valid HCL identifiers and unique within one file.
#[derive(Default)]
struct Labels {
    taken: HashSet<String>,
}

impl Labels {
    fn claim(&mut self, image_name: &str, member_id: &str) -> String {
        let base = base_label(image_name, member_id);
        if self.taken.insert(base.clone()) {
            return base;
        }
        // Different member IDs can slug to the same label ("a-b" and "a.b"), and a natural label
        // can itself look like a suffixed one, so every candidate is checked against all taken.
        let mut n = 2usize;
        loop {
            let suffix = format!("_{n}");
            let mut candidate = truncate_slug(&base, MAX_LABEL_LEN - suffix.len()).to_owned();
            candidate.push_str(&suffix);
            if self.taken.insert(candidate.clone()) {
                return candidate;
            }
            n += 1;
        }
    }
}

/// `<image name slug>_<member id slug>`: readable in a plan, and at most [`MAX_LABEL_LEN`] long.
fn base_label(image_name: &str, member_id: &str) -> String {
    let member_slug = slug(member_id, "member");
    let member = truncate_slug(&member_slug, MAX_MEMBER_SLUG_LEN);
    let image = slug(image_name, "image");
    // HCL identifiers cannot start with a digit, and image names like "2024-ubuntu" are common.
    let prefix = if image.starts_with(|c: char| c.is_ascii_digit()) { "m_" } else { "" };
    // The member part is kept whole because it is what tells two members of one image apart.
    let room = MAX_LABEL_LEN - prefix.len() - 1 - member.len();
    format!("{prefix}{}_{member}", truncate_slug(&image, room))
}

/// Lowercase ASCII letters and digits, with every other run of characters turned into one `_`.
fn slug(text: &str, fallback: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    if out.is_empty() { fallback.to_owned() } else { out }
}

/// Cuts a slug to `max` bytes without leaving a trailing `_`. Slugs are ASCII, so any byte index
/// is a character boundary.
fn truncate_slug(slug: &str, max: usize) -> &str {
    slug[..slug.len().min(max)].trim_end_matches('_')
}

/// Characters written as `\uNNNN` inside strings and replaced inside comments: control characters
/// (HCL strings may not hold a raw newline, and a newline would end a comment), Unicode line and
/// paragraph separators, and the invisible direction marks that can make a file read differently
/// from how it parses.
fn is_unsafe_char(c: char) -> bool {
    match c {
        '\u{200E}' | '\u{200F}' | '\u{2028}' | '\u{2029}' | '\u{FEFF}' => true,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => true,
        _ => c.is_control(),
    }
}

/// An HCL quoted string whose value is exactly `value`.
fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // `${` and `%{` start templates even inside quotes; doubling the sigil is HCL's escape.
            // A lone `$` or `%` is literal and must stay single, or it would read as two.
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if is_unsafe_char(c) => {
                // Every unsafe character is in the Basic Multilingual Plane, so four digits do.
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text that is safe to put after `#`: it stays on one line, and it is bounded in length.
fn comment_text(text: &str) -> String {
    let mut out: String =
        text.chars().take(MAX_COMMENT_CHARS).map(|c| if is_unsafe_char(c) { '\u{FFFD}' } else { c }).collect();
    if text.chars().nth(MAX_COMMENT_CHARS).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcl::{Block, Body, Expression};

    const IMAGE_ID: &str = "89c60255-9bd6-460c-822a-e2b959ede9d2";

    fn member<'a>(member_id: &'a str, status: &'a str) -> ExportMember<'a> {
        ExportMember { member_id, status, project: None }
    }

    fn is_identifier(label: &str) -> bool {
        !label.is_empty()
            && !label.starts_with(|c: char| c.is_ascii_digit())
            && label.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    }

    fn parse(hcl: &str) -> Body {
        hcl::parse(hcl).unwrap_or_else(|err| panic!("generated HCL does not parse: {err}\n{hcl}"))
    }

    fn string_attr(block: &Block, key: &str) -> String {
        let attr = block
            .body
            .attributes()
            .find(|attr| attr.key.as_str() == key)
            .unwrap_or_else(|| panic!("no attribute {key} in {block:?}"));
        match &attr.expr {
            Expression::String(value) => value.clone(),
            other => panic!("attribute {key} is not a plain string but {other:?}"),
        }
    }

    fn has_attr(block: &Block, key: &str) -> bool {
        block.body.attributes().any(|attr| attr.key.as_str() == key)
    }

    /// The `type.label` that an import block's `to` refers to.
    fn import_target(block: &Block) -> (String, String) {
        let attr = block.body.attributes().find(|attr| attr.key.as_str() == "to").expect("import without `to`");
        let Expression::Traversal(traversal) = &attr.expr else {
            panic!("`to` is not a traversal: {:?}", attr.expr);
        };
        let Expression::Variable(root) = &traversal.expr else {
            panic!("`to` does not start with a resource type: {traversal:?}");
        };
        let [hcl::TraversalOperator::GetAttr(label)] = traversal.operators.as_slice() else {
            panic!("`to` is not exactly type.label: {traversal:?}");
        };
        (root.as_str().to_owned(), label.as_str().to_owned())
    }

    /// The (local name, source) that a `terraform` block's `required_providers` names.
    fn required_source(block: &Block) -> (String, String) {
        let inner: Vec<&Block> = block.body.blocks().collect();
        assert_eq!(inner.len(), 1, "one required_providers block: {block:?}");
        assert_eq!(inner[0].identifier.as_str(), "required_providers");
        let attrs: Vec<_> = inner[0].body.attributes().collect();
        assert_eq!(attrs.len(), 1, "one provider: {block:?}");
        let Expression::Object(object) = &attrs[0].expr else { panic!("not an object: {:?}", attrs[0].expr) };
        let source = object
            .iter()
            .find_map(|(key, value)| match (key, value) {
                (hcl::ObjectKey::Identifier(k), Expression::String(v)) if k.as_str() == "source" => Some(v.clone()),
                _ => None,
            })
            .expect("a source");
        (attrs[0].key.as_str().to_owned(), source)
    }

    /// Parses `hcl` and checks its shape: one `terraform` block naming the provider's source,
    /// resource and import blocks pairwise matching, and every value a plain string. Returns the resources as (label, block) in file order.
    fn checked_resources(hcl: &str, resource_type: &str) -> Vec<(String, Block)> {
        let body = parse(hcl);
        assert_eq!(body.attributes().count(), 0, "no top-level attributes expected:\n{hcl}");
        let mut resources = Vec::new();
        let mut imports = Vec::new();
        let mut sources = Vec::new();
        for block in body.blocks() {
            match block.identifier.as_str() {
                "terraform" => sources.push(required_source(block)),
                "resource" => {
                    let labels: Vec<&str> = block.labels.iter().map(|label| label.as_str()).collect();
                    assert_eq!(labels.len(), 2, "resource needs type and name: {block:?}");
                    assert_eq!(labels[0], resource_type);
                    assert!(is_identifier(labels[1]), "bad label {:?}", labels[1]);
                    assert!(labels[1].len() <= MAX_LABEL_LEN, "label too long: {:?}", labels[1]);
                    resources.push((labels[1].to_owned(), block.clone()));
                }
                "import" => imports.push(block.clone()),
                other => panic!("unexpected block {other}:\n{hcl}"),
            }
        }
        assert_eq!(resources.len(), imports.len(), "one import per resource:\n{hcl}");
        // `terraform init` must find the provider that owns these resource types.
        let provider = Provider::ALL
            .into_iter()
            .find(|p| resource_type.starts_with(&format!("{}_", p.key())))
            .expect("a known provider's resource type");
        assert_eq!(sources, [(provider.key().to_owned(), provider.registry_source().to_owned())], "{hcl}");
        let mut seen = HashSet::new();
        for ((label, resource), import) in resources.iter().zip(&imports) {
            assert!(seen.insert(label.clone()), "duplicate label {label}");
            assert_eq!(import_target(import), (resource_type.to_owned(), label.clone()));
            let expected_id = format!("{}/{}", string_attr(resource, "image_id"), string_attr(resource, "member_id"));
            assert_eq!(string_attr(import, "id"), expected_id);
        }
        resources
    }

    // Strings that try, each in its own way, to escape from a string literal or a comment.
    const HOSTILE: &[&str] = &[
        "${file(\"/etc/passwd\")}",
        "%{ for x in [1] }${x}%{ endfor }",
        "\"\n}\nresource \"null_resource\" \"pwned\" {\n  #",
        "back\\slash\\\\ and \\\" and \\n",
        "$${already escaped} %%{ too }",
        "$$${x} %%%{y}",
        "trailing $",
        "trailing %",
        "$ {not a template} % {neither}",
        "{${}}",
        "tab\there\r\ncrlf \u{0} nul \u{7} bell \u{7f} del \u{85} nel",
        "line\u{2028}separator\u{2029}paragraph",
        "\u{202E}gnp.exe\u{202C} \u{2066}isolate\u{2069} \u{FEFF}bom",
        "émoji 🚀 日本語 Ελληνικά",
        "",
        "/",
        "*/ /* -- // #",
    ];

    #[test]
    fn slugs_are_lowercase_identifiers() {
        assert_eq!(slug("Ubuntu 24.04 LTS", "image"), "ubuntu_24_04_lts");
        assert_eq!(slug("--Débian--", "image"), "d_bian");
        assert_eq!(slug("日本語", "image"), "image");
        assert_eq!(slug("", "member"), "member");
        assert_eq!(base_label("Ubuntu", "BED6b6cb-86a4"), "ubuntu_bed6b6cb_86a4");
        assert_eq!(base_label("2024 ubuntu", "abc"), "m_2024_ubuntu_abc");
        assert_eq!(base_label("", ""), "image_member");
        assert_eq!(base_label("${x}", "\"; }"), "x_member");
    }

    #[test]
    fn labels_are_bounded_and_keep_the_member_part() {
        let member_id = "bed6b6cbb86a4e2d8dc2735c2f1000e4";
        let label = base_label(&"very long image name ".repeat(20), member_id);
        assert!(label.len() <= MAX_LABEL_LEN, "{label}");
        assert!(label.ends_with(&format!("_{member_id}")), "{label}");
        assert!(is_identifier(&label), "{label}");

        let label = base_label(&"9".repeat(300), &"f".repeat(300));
        assert!(label.len() <= MAX_LABEL_LEN, "{label}");
        assert!(label.starts_with("m_9"), "{label}");
        assert!(is_identifier(&label), "{label}");

        for hostile in HOSTILE {
            let label = base_label(hostile, hostile);
            assert!(is_identifier(&label) && label.len() <= MAX_LABEL_LEN, "{hostile:?} gave {label:?}");
        }
    }

    #[test]
    fn colliding_labels_get_numbered_suffixes() {
        let mut labels = Labels::default();
        assert_eq!(labels.claim("img", "a-b"), "img_a_b");
        assert_eq!(labels.claim("img", "a.b"), "img_a_b_2");
        assert_eq!(labels.claim("img", "A_B"), "img_a_b_3");
        // A natural label that looks like a suffixed one is still unique.
        assert_eq!(labels.claim("img", "a_b_2"), "img_a_b_2_2");

        let mut labels = Labels::default();
        let long = "x".repeat(100);
        let first = labels.claim(&long, &long);
        let second = labels.claim(&long, &long);
        assert_ne!(first, second);
        assert!(second.len() <= MAX_LABEL_LEN && second.ends_with("_2"), "{second}");
    }

    #[test]
    fn quoting_escapes_everything_hcl_would_interpret() {
        assert_eq!(quote("plain"), "\"plain\"");
        assert_eq!(quote("a\"b"), r#""a\"b""#);
        assert_eq!(quote("a\\b"), r#""a\\b""#);
        assert_eq!(quote("a\nb\r\tc"), r#""a\nb\r\tc""#);
        assert_eq!(quote("${x} %{y}"), r#""$${x} %%{y}""#);
        assert_eq!(quote("$ % $$ %%"), r#""$ % $$ %%""#);
        assert_eq!(quote("$${x}"), r#""$$${x}""#);
        assert_eq!(quote("\u{0}\u{7f}\u{85}\u{2028}\u{202E}"), r#""\u0000\u007F\u0085\u2028\u202E""#);
        assert_eq!(quote("é 🚀"), "\"é 🚀\"");
    }

    #[test]
    fn quoted_strings_parse_back_to_the_input() {
        for hostile in HOSTILE {
            let body = parse(&format!("value = {}\n", quote(hostile)));
            let attr = body.attributes().next().expect("one attribute");
            assert_eq!(attr.expr, Expression::String((*hostile).to_owned()), "for {hostile:?}");
        }
    }

    #[test]
    fn quoted_strings_parse_back_to_generated_input() {
        // A small deterministic fuzz over the characters that matter to HCL's string and template
        // syntax, so that combinations nobody wrote down by hand are covered too.
        let alphabet: Vec<char> = "$%{}\\\"\n\r\t\0ab /é🚀\u{2028}\u{202E}#*".chars().collect();
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..2000 {
            let len = (next() % 12) as usize;
            let value: String = (0..len).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect();
            let body = parse(&format!("value = {}\n", quote(&value)));
            let attr = body.attributes().next().expect("one attribute");
            assert_eq!(attr.expr, Expression::String(value.clone()), "for {value:?}");
        }
    }

    #[test]
    fn comment_text_stays_on_one_line() {
        for hostile in HOSTILE {
            let text = comment_text(hostile);
            assert!(!text.chars().any(is_unsafe_char), "{hostile:?} gave {text:?}");
        }
        assert_eq!(comment_text("a\nb"), "a\u{FFFD}b");
        let long = comment_text(&"n".repeat(1000));
        assert_eq!(long.chars().count(), MAX_COMMENT_CHARS + 1);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn owner_output_for_a_typical_image() {
        let hcl = owner_hcl(
            Provider::OpenStack,
            IMAGE_ID,
            "Ubuntu 24.04",
            &[
                member("d0c1e2f3a4b5c6d7e8f90a1b2c3d4e5f", "pending"),
                member("bed6b6cbb86a4e2d8dc2735c2f1000e4", "accepted"),
            ],
        );
        let expected = r#"
resource "openstack_images_image_access_v2" "ubuntu_24_04_bed6b6cbb86a4e2d8dc2735c2f1000e4" {
  image_id  = "89c60255-9bd6-460c-822a-e2b959ede9d2"
  member_id = "bed6b6cbb86a4e2d8dc2735c2f1000e4"
  # status: accepted (managed by the member project)
}

import {
  to = openstack_images_image_access_v2.ubuntu_24_04_bed6b6cbb86a4e2d8dc2735c2f1000e4
  id = "89c60255-9bd6-460c-822a-e2b959ede9d2/bed6b6cbb86a4e2d8dc2735c2f1000e4"
}
"#;
        assert!(hcl.contains(expected), "{hcl}");
        assert!(hcl.starts_with("# Terraform / OpenTofu configuration"), "{hcl}");
        assert!(hcl.contains("# Image: Ubuntu 24.04 (89c60255-9bd6-460c-822a-e2b959ede9d2)\n"), "{hcl}");
        assert!(hcl.contains("managed by the member project"), "{hcl}");
        assert!(hcl.contains("# status: pending"), "{hcl}");
    }

    #[test]
    fn owner_output_parses_with_one_resource_and_import_per_member() {
        let members = [member("bbb", "accepted"), member("aaa", "pending"), member("ccc", "rejected")];
        let hcl = owner_hcl(Provider::OpenStack, IMAGE_ID, "Ubuntu", &members);
        let resources = checked_resources(&hcl, "openstack_images_image_access_v2");
        let member_ids: Vec<String> = resources.iter().map(|(_, block)| string_attr(block, "member_id")).collect();
        assert_eq!(member_ids, ["aaa", "bbb", "ccc"]);
        for (_, block) in &resources {
            assert_eq!(string_attr(block, "image_id"), IMAGE_ID);
            // The owner cannot set the status, so it must never be an argument.
            assert!(!has_attr(block, "status"), "{block:?}");
            assert!(!has_attr(block, "region"), "{block:?}");
        }
    }

    #[test]
    fn hostile_values_survive_the_round_trip() {
        let image_name = "evil\"\n}\n${file(\"/etc/passwd\")}";
        let image_id = "id-with-${var.x}-%{if}-\"q\"-\\";
        let members: Vec<ExportMember> = HOSTILE.iter().map(|id| member(id, "accepted\n\"x\" = ${y}")).collect();
        for provider in Provider::ALL {
            let hcl = owner_hcl(provider, image_id, image_name, &members);
            let resources = checked_resources(&hcl, &format!("{}_images_image_access_v2", provider.key()));
            let mut expected: Vec<&str> = HOSTILE.to_vec();
            expected.sort();
            let got: Vec<String> = resources.iter().map(|(_, block)| string_attr(block, "member_id")).collect();
            assert_eq!(got, expected);
            for (_, block) in &resources {
                assert_eq!(string_attr(block, "image_id"), image_id);
                assert!(!has_attr(block, "status"));
            }

            let hcl = consumer_hcl(provider, image_id, image_name, HOSTILE[2], "accepted\"}");
            let resources = checked_resources(&hcl, &format!("{}_images_image_access_accept_v2", provider.key()));
            assert_eq!(resources.len(), 1);
            let block = &resources[0].1;
            assert_eq!(string_attr(block, "image_id"), image_id);
            assert_eq!(string_attr(block, "member_id"), HOSTILE[2]);
            assert_eq!(string_attr(block, "status"), "accepted\"}");
        }
    }

    #[test]
    fn header_cannot_be_broken_out_of() {
        let hcl = owner_hcl(Provider::OpenStack, "id\nresource \"x\" \"y\" {}", "name\r\nlocals {}\u{2028}x", &[]);
        for line in hcl.lines() {
            assert!(line.is_empty() || line.starts_with('#'), "line escaped the comments: {line:?}\n{hcl}");
        }
        assert!(parse(&hcl).blocks().next().is_none());
    }

    #[test]
    fn empty_member_list_gives_only_comments() {
        let hcl = owner_hcl(Provider::OpenTelekomCloud, IMAGE_ID, "Empty", &[]);
        assert!(hcl.contains("no members"), "{hcl}");
        assert!(hcl.contains("# Image: Empty ("), "{hcl}");
        assert!(hcl.lines().all(|line| line.is_empty() || line.starts_with('#')), "{hcl}");
        let body = parse(&hcl);
        assert_eq!(body.blocks().count(), 0);
        assert_eq!(body.attributes().count(), 0);
    }

    #[test]
    fn output_is_stable_whatever_the_input_order() {
        let a = [member("m3", "accepted"), member("m1", "pending"), member("m2", "rejected")];
        let b = [member("m2", "rejected"), member("m3", "accepted"), member("m1", "pending")];
        let first = owner_hcl(Provider::OpenStack, IMAGE_ID, "img", &a);
        assert_eq!(first, owner_hcl(Provider::OpenStack, IMAGE_ID, "img", &b));
        assert_eq!(first, owner_hcl(Provider::OpenStack, IMAGE_ID, "img", &a));
        let m1 = first.find("\"m1\"").expect("m1");
        let m2 = first.find("\"m2\"").expect("m2");
        let m3 = first.find("\"m3\"").expect("m3");
        assert!(m1 < m2 && m2 < m3);
    }

    #[test]
    fn duplicate_members_are_written_once() {
        let hcl = owner_hcl(
            Provider::OpenStack,
            IMAGE_ID,
            "img",
            &[member("dup", "accepted"), member("other", "pending"), member("dup", "rejected")],
        );
        let resources = checked_resources(&hcl, "openstack_images_image_access_v2");
        assert_eq!(resources.len(), 2);
        assert!(hcl.contains("# status: accepted"), "the first status given is kept:\n{hcl}");
        assert!(!hcl.contains("# status: rejected"), "{hcl}");
    }

    #[test]
    fn members_whose_labels_collide_get_distinct_labels() {
        let members = [member("a-b", "accepted"), member("a.b", "accepted"), member("A_B", "accepted")];
        let hcl = owner_hcl(Provider::OpenStack, IMAGE_ID, "img", &members);
        let resources = checked_resources(&hcl, "openstack_images_image_access_v2");
        let labels: Vec<&str> = resources.iter().map(|(label, _)| label.as_str()).collect();
        // Sorted by member ID: "A_B" < "a-b" < "a.b".
        assert_eq!(labels, ["img_a_b", "img_a_b_2", "img_a_b_3"]);
    }

    #[test]
    fn every_provider_uses_its_own_prefix() {
        for provider in Provider::ALL {
            let owner = owner_hcl(provider, IMAGE_ID, "img", &[member("p1", "accepted")]);
            let owner_type = format!("{}_images_image_access_v2", provider.key());
            assert_eq!(checked_resources(&owner, &owner_type).len(), 1);
            assert!(owner.contains(&format!("# Provider: {} ({})", provider.label(), provider.key())), "{owner}");

            let consumer = consumer_hcl(provider, IMAGE_ID, "img", "p1", "accepted");
            let consumer_type = format!("{}_images_image_access_accept_v2", provider.key());
            assert_eq!(checked_resources(&consumer, &consumer_type).len(), 1);
            for other in Provider::ALL.into_iter().filter(|other| *other != provider) {
                assert!(!owner.contains(&format!("{}_images", other.key())), "{owner}");
                assert!(!consumer.contains(&format!("{}_images", other.key())), "{consumer}");
            }
        }
    }

    #[test]
    fn init_is_told_where_each_provider_comes_from() {
        let hcl = owner_hcl(Provider::OpenStack, IMAGE_ID, "Ubuntu", &[member("aaa", "pending")]);
        let expected = r#"
terraform {
  required_providers {
    openstack = {
      source = "terraform-provider-openstack/openstack"
    }
  }
}
"#;
        assert!(hcl.contains(expected), "{hcl}");
        let sources: Vec<&str> = Provider::ALL.into_iter().map(Provider::registry_source).collect();
        assert_eq!(
            sources,
            [
                "terraform-provider-openstack/openstack",
                "opentelekomcloud/opentelekomcloud",
                "viettelidc-provider/viettelidc"
            ]
        );
        for provider in Provider::ALL {
            let consumer = consumer_hcl(provider, IMAGE_ID, "Ubuntu", "p", "accepted");
            assert!(consumer.contains(&format!("source = \"{}\"", provider.registry_source())), "{consumer}");
            let batch = images_hcl(
                provider,
                &[ExportImage { image_id: IMAGE_ID, image_name: "Ubuntu", members: vec![member("p", "pending")] }],
            );
            assert_eq!(batch.matches("required_providers").count(), 1, "{batch}");
        }
    }

    #[test]
    fn consumer_output_sets_the_status() {
        let hcl =
            consumer_hcl(Provider::ViettelIdc, IMAGE_ID, "Ubuntu", "bed6b6cbb86a4e2d8dc2735c2f1000e4", "accepted");
        let expected = r#"
resource "viettelidc_images_image_access_accept_v2" "ubuntu_bed6b6cbb86a4e2d8dc2735c2f1000e4" {
  image_id  = "89c60255-9bd6-460c-822a-e2b959ede9d2"
  member_id = "bed6b6cbb86a4e2d8dc2735c2f1000e4"
  status    = "accepted"
}

import {
  to = viettelidc_images_image_access_accept_v2.ubuntu_bed6b6cbb86a4e2d8dc2735c2f1000e4
  id = "89c60255-9bd6-460c-822a-e2b959ede9d2/bed6b6cbb86a4e2d8dc2735c2f1000e4"
}
"#;
        assert!(hcl.ends_with(expected), "{hcl}");
        assert!(hcl.contains("managed by the member project"), "{hcl}");
        let resources = checked_resources(&hcl, "viettelidc_images_image_access_accept_v2");
        assert_eq!(string_attr(&resources[0].1, "status"), "accepted");
        for status in ["pending", "rejected"] {
            let hcl = consumer_hcl(Provider::OpenStack, IMAGE_ID, "Ubuntu", "p", status);
            let resources = checked_resources(&hcl, "openstack_images_image_access_accept_v2");
            assert_eq!(string_attr(&resources[0].1, "status"), status);
        }
    }

    #[test]
    fn several_images_share_one_file_with_labels_unique_across_it() {
        let other = "0b6d1c6e-3b2f-4a44-9c8e-2f5d0e7a1b11";
        let images = [
            ExportImage {
                image_id: IMAGE_ID,
                image_name: "Ubuntu",
                members: vec![member("bbb", "pending"), member("aaa", "accepted")],
            },
            ExportImage { image_id: "empty", image_name: "Nothing", members: vec![] },
            // Same name, same member: the labels must still differ.
            ExportImage { image_id: other, image_name: "Ubuntu", members: vec![member("aaa", "pending")] },
        ];
        for provider in Provider::ALL {
            let hcl = images_hcl(provider, &images);
            let resource_type = format!("{}_images_image_access_v2", provider.key());
            let resources = checked_resources(&hcl, &resource_type);
            let pairs: Vec<(String, String)> = resources
                .iter()
                .map(|(_, block)| (string_attr(block, "image_id"), string_attr(block, "member_id")))
                .collect();
            let want = [(IMAGE_ID, "aaa"), (IMAGE_ID, "bbb"), (other, "aaa")];
            assert_eq!(pairs, want.map(|(i, m)| (i.to_string(), m.to_string())), "{hcl}");
            assert!(!hcl.contains("(empty)"), "an image with nothing to export is left out:\n{hcl}");
        }
        let hostile =
            [ExportImage { image_id: IMAGE_ID, image_name: HOSTILE[2], members: vec![member(HOSTILE[0], HOSTILE[1])] }];
        checked_resources(&images_hcl(Provider::OpenStack, &hostile), "openstack_images_image_access_v2");
        assert!(images_hcl(Provider::OpenStack, &[]).contains("nothing to import"));
        assert_eq!(batch_file_name("9f3c2a1b0e9d8c7b"), "batch-9f3c2a1b-members.tf");
        assert_eq!(batch_file_name("\"/.."), "batch-members.tf");
    }

    #[test]
    fn file_names_are_short_and_safe() {
        assert_eq!(file_name(IMAGE_ID, false), "image-89c60255-members.tf");
        assert_eq!(file_name(IMAGE_ID, true), "image-89c60255-membership.tf");
        assert_eq!(file_name("AB", false), "image-ab-members.tf");
        assert_eq!(file_name("../../etc/passwd\"", false), "image-etcpassw-members.tf");
        assert_eq!(file_name("", true), "image-membership.tf");
        assert_eq!(file_name("日本/語", false), "image-members.tf");
    }

    #[test]
    fn member_projects_are_named_in_a_comment_that_stays_one_line() {
        let members = [
            ExportMember { member_id: "a1", status: "accepted", project: Some("consumer (Default)") },
            ExportMember { member_id: "b2", status: "pending", project: Some("evil\nresource \"x\" \"y\" {}") },
            member("c3", "rejected"),
        ];
        let hcl = owner_hcl(Provider::OpenStack, IMAGE_ID, "img", &members);
        assert!(hcl.contains("  # project: consumer (Default)\n"), "{hcl}");
        assert!(!hcl.contains("\nresource \"x\""), "a name cannot start a line of its own: {hcl}");
        assert_eq!(hcl.matches("# project:").count(), 2, "no comment without a name: {hcl}");
        let body = parse(&hcl);
        assert_eq!(body.blocks().filter(|b| b.identifier() == "resource").count(), 3);
    }
}
