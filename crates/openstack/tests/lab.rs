//! The clients against the real lab: Keystone's sign-in methods, the catalog's image
//! endpoints, the directory look-ups (projects by ID and name, domains) with the lab's
//! `directory` reader, and the whole image member API in both Glance regions. Needs a running
//! lab (see `lab_env`); without one every test fails and says how to start it.

mod lab_env;

use lab_env::{ApplicationCredential, Images, Project, lab, unique, upstream};
use openstack_images::{
    Service, UpstreamError,
    error::quota_limit,
    glance::{Glance, ImageChange, ImageQuery, SortBy, supports_hidden},
    ids::{ImageId, MemberId, PropertyName},
    keystone::{Authenticated, Credentials, DomainRef, ProjectSummary, Scope},
    records::{MemberStatus, Visibility},
};

/// The image endpoint of `region` in the token's catalog.
fn endpoint(auth: &Authenticated, region: &str) -> String {
    let endpoints = auth.image_endpoints("public");
    let found = endpoints.iter().find(|e| e.region == region);
    found.unwrap_or_else(|| panic!("no image endpoint for {region} in {endpoints:?}")).url.clone()
}

fn member_id(id: &str) -> MemberId {
    MemberId::parse(id).unwrap()
}

/// (ID, domain ID) of each project, sorted: what a look-up found, whatever its order.
fn ids_and_domains(projects: &[ProjectSummary]) -> Vec<(String, String)> {
    let mut found: Vec<_> = projects.iter().map(|p| (p.id.clone(), p.domain_id.clone())).collect();
    found.sort();
    found
}

#[tokio::test]
async fn a_password_sign_in_is_scoped_and_lists_both_regions() {
    let lab = lab();
    let http = upstream();
    let producer = lab.sign_in(&http, "producer").await;
    let project = producer.project.as_ref().unwrap();
    assert_eq!((project.id.as_str(), project.name.as_str()), (lab.get("LAB_PRODUCER_PROJECT_ID"), "producer"));
    assert_eq!(producer.user.id, lab.get("LAB_PRODUCER_USER_ID"));
    assert!(producer.roles.iter().any(|r| r == "member"), "{:?}", producer.roles);
    assert!(producer.expires_at > time::OffsetDateTime::now_utc());
    let endpoints: Vec<(String, String)> =
        producer.image_endpoints("public").into_iter().map(|e| (e.region, e.url)).collect();
    let expected = [("LAB_REGION", "LAB_GLANCE_URL"), ("LAB_REGION2", "LAB_GLANCE2_URL")]
        .map(|(region, url)| (lab.get(region).to_string(), lab.get(url).to_string()));
    assert_eq!(endpoints, expected);

    let consumer = lab.sign_in(&http, "consumer").await;
    assert_eq!(consumer.project.unwrap().id, lab.get("LAB_CONSUMER_PROJECT_ID"));

    let validated = lab.keystone(&http).validate(&producer.token).await.unwrap();
    assert_eq!((validated.user.id, validated.project.unwrap().id), (producer.user.id, project.id.clone()));
    let projects = lab.keystone(&http).projects(&producer.token).await.unwrap();
    assert!(projects.iter().any(|p| p.id == project.id), "{projects:?}");
}

#[tokio::test]
async fn a_wrong_password_is_keystones_401() {
    let lab = lab();
    let http = upstream();
    let credentials = Credentials::Password {
        user_name: lab.get("LAB_PRODUCER_USER").into(),
        user_domain: openstack_images::keystone::DomainRef::Name(lab.get("LAB_DOMAIN").into()),
        password: "not-the-password".to_string().into(),
    };
    let err = lab.keystone(&http).authenticate(&credentials, None).await.unwrap_err();
    assert!(matches!(err, UpstreamError::Status { service: Service::Keystone, status: 401, .. }), "{err:?}");
}

#[tokio::test]
async fn a_token_re_scopes_and_once_revoked_is_refused() {
    let lab = lab();
    let http = upstream();
    let keystone = lab.keystone(&http);
    let producer = lab.sign_in(&http, "producer").await;
    let scope = Scope::ProjectId(lab.get("LAB_PRODUCER_PROJECT_ID").into());
    let again = keystone.authenticate(&Credentials::Token(producer.token.clone()), Some(&scope)).await.unwrap();
    assert_ne!(again.token.expose(), producer.token.expose(), "a new token");
    assert_eq!(again.project.unwrap().id, lab.get("LAB_PRODUCER_PROJECT_ID"));

    keystone.revoke(&again.token).await.unwrap();
    let err = keystone.validate(&again.token).await.unwrap_err();
    // The revoked token is both the caller (X-Auth-Token) and the subject: Keystone refuses it
    // as either, 401 "requires authentication" or 404 "Failed to validate token" (both seen
    // against the lab's Keystone 30, from one run to the next).
    assert!(matches!(err.status(), Some(401 | 404)), "{err:?}");
    keystone.validate(&producer.token).await.expect("the token it came from still works");
}

#[tokio::test]
async fn an_application_credential_signs_in_to_its_own_project_whatever_the_scope() {
    let lab = lab();
    let http = upstream();
    let producer = lab.sign_in(&http, "producer").await;
    let credential = ApplicationCredential::create(lab, &producer).await;
    let credentials =
        Credentials::ApplicationCredential { id: credential.id.clone(), secret: credential.secret.clone().into() };
    let other = Scope::ProjectId(lab.get("LAB_CONSUMER_PROJECT_ID").into());
    let auth = lab.keystone(&http).authenticate(&credentials, Some(&other)).await.unwrap();
    assert_eq!(auth.project.as_ref().unwrap().id, lab.get("LAB_PRODUCER_PROJECT_ID"));
    assert_eq!(auth.user.id, producer.user.id);
    assert_eq!(auth.image_endpoints("public").len(), 2);
}

#[tokio::test]
async fn an_admin_looks_projects_up_by_id() {
    let lab = lab();
    let http = upstream();
    let admin = lab.sign_in(&http, "admin").await;
    let keystone = lab.keystone(&http);
    let consumer = keystone.project(&admin.token, &member_id(lab.get("LAB_CONSUMER_PROJECT_ID"))).await.unwrap();
    assert_eq!(consumer.unwrap().name, lab.get("LAB_CONSUMER_PROJECT"));
    let nobody = keystone.project(&admin.token, &member_id(&"0".repeat(32))).await.unwrap();
    assert!(nobody.is_none());
}

#[tokio::test]
async fn an_image_is_shared_answered_and_unshared() {
    let lab = lab();
    let http = upstream();
    let (producer, consumer) = (lab.sign_in(&http, "producer").await, lab.sign_in(&http, "consumer").await);
    let url = endpoint(&producer, lab.get("LAB_REGION"));
    let mut images = Images::new(&url, producer.token.expose());
    let name = unique("share");
    let image = images.create(&name, "shared").await;
    let owner = Glance::new(&http, &url, &producer.token).unwrap();
    let member = Glance::new(&http, &endpoint(&consumer, lab.get("LAB_REGION")), &consumer.token).unwrap();
    let consumer_id = member_id(lab.get("LAB_CONSUMER_PROJECT_ID"));

    let added = owner.add_member(&image, &consumer_id).await.unwrap();
    assert_eq!((added.member_id.as_str(), added.status), (consumer_id.as_str(), MemberStatus::Pending));
    assert_eq!(added.image_id, image.as_str());
    let twice = owner.add_member(&image, &consumer_id).await.unwrap_err();
    assert!(
        matches!(&twice, UpstreamError::Status { service: Service::Glance, status: 409, message }
            if message.contains("duplicated") && !message.contains('<')),
        "{twice:?}"
    );
    let read = owner.member(&image, &consumer_id).await.unwrap();
    assert_eq!((read.status, read.schema.as_deref()), (MemberStatus::Pending, Some("/v2/schemas/member")));

    // The member sees only its own entry, answers, and then finds the image among its accepted ones.
    let own = member.members(&image).await.unwrap();
    assert_eq!(own.iter().map(|m| m.member_id.as_str()).collect::<Vec<_>>(), [consumer_id.as_str()]);
    let answered = member.set_member_status(&image, &consumer_id, MemberStatus::Accepted).await.unwrap();
    assert_eq!(answered.status, MemberStatus::Accepted);
    let query = ImageQuery {
        visibility: Some("shared"),
        member_status: Some("accepted"),
        name: Some(name.clone()),
        ..ImageQuery::default()
    };
    let listed = member.images(&query).await.unwrap();
    assert_eq!(listed.images.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), [image.as_str()]);
    let not_theirs = owner.set_member_status(&image, &consumer_id, MemberStatus::Rejected).await.unwrap_err();
    assert_eq!(not_theirs.status(), Some(403), "only the member answers: {not_theirs:?}");
    assert_eq!(owner.member(&image, &consumer_id).await.unwrap().status, MemberStatus::Accepted);

    owner.remove_member(&image, &consumer_id).await.unwrap();
    assert_eq!(owner.member(&image, &consumer_id).await.unwrap_err().status(), Some(404));
    assert_eq!(owner.remove_member(&image, &consumer_id).await.unwrap_err().status(), Some(404));
    assert_eq!(member.image(&image).await.unwrap_err().status(), Some(404), "no longer visible to the consumer");
    assert!(owner.members(&image).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_odd_member_id_is_addressed_as_one_segment() {
    // Glance takes any text as a member; the client must reach exactly that member by its path.
    let lab = lab();
    let http = upstream();
    let producer = lab.sign_in(&http, "producer").await;
    let url = endpoint(&producer, lab.get("LAB_REGION"));
    let mut images = Images::new(&url, producer.token.expose());
    let image = images.create(&unique("odd"), "shared").await;
    let glance = Glance::new(&http, &url, &producer.token).unwrap();
    let odd = member_id(r#"a"b<c>d{e}f:g@h&i=j+k;l"#);
    glance.add_member(&image, &odd).await.unwrap();
    let read = glance.member(&image, &odd).await.unwrap();
    assert_eq!(read.member_id, odd.as_str());
    glance.remove_member(&image, &odd).await.unwrap();
    assert!(glance.members(&image).await.unwrap().is_empty());
}

#[tokio::test]
async fn visibility_goes_to_private_and_back() {
    let lab = lab();
    let http = upstream();
    let producer = lab.sign_in(&http, "producer").await;
    let url = endpoint(&producer, lab.get("LAB_REGION"));
    let mut images = Images::new(&url, producer.token.expose());
    let image = images.create(&unique("visibility"), "shared").await;
    let glance = Glance::new(&http, &url, &producer.token).unwrap();
    assert_eq!(glance.set_visibility(&image, Visibility::Private).await.unwrap().visibility, Visibility::Private);
    assert_eq!(glance.image(&image).await.unwrap().visibility, Visibility::Private);
    assert_eq!(glance.set_visibility(&image, Visibility::Shared).await.unwrap().visibility, Visibility::Shared);
}

fn property(name: &str) -> PropertyName {
    PropertyName::parse(name).unwrap()
}

/// Ours among the producer's images called `name`, listed as Glance lists by default or, with
/// `hidden`, only those hidden.
async fn listed(glance: &Glance<'_>, name: &str, hidden: bool) -> Vec<String> {
    let query = ImageQuery { name: Some(name.into()), hidden, ..ImageQuery::default() };
    glance.images(&query).await.unwrap().images.into_iter().map(|i| i.id).collect()
}

#[tokio::test]
async fn an_image_is_hidden_from_lists_and_shown_again() {
    let lab = lab();
    let http = upstream();
    let producer = lab.sign_in(&http, "producer").await;
    let url = endpoint(&producer, lab.get("LAB_REGION"));
    let mut images = Images::new(&url, producer.token.expose());
    let name = unique("hidden");
    let image = images.create(&name, "private").await;
    let glance = Glance::new(&http, &url, &producer.token).unwrap();
    assert_eq!(listed(&glance, &name, false).await, [image.as_str()]);

    let hidden = glance.update_image(&image, &[ImageChange::Hidden(true)]).await.unwrap();
    assert!(hidden.os_hidden);
    assert!(glance.image(&image).await.unwrap().os_hidden, "still readable by ID");
    assert!(listed(&glance, &name, false).await.is_empty(), "gone from the default list");
    assert_eq!(listed(&glance, &name, true).await, [image.as_str()]);

    let shown = glance.update_image(&image, &[ImageChange::Hidden(false)]).await.unwrap();
    assert!(!shown.os_hidden);
    assert_eq!(listed(&glance, &name, false).await, [image.as_str()]);
}

#[tokio::test]
async fn a_protected_image_cannot_be_deleted_until_unprotected() {
    let lab = lab();
    let http = upstream();
    let producer = lab.sign_in(&http, "producer").await;
    let url = endpoint(&producer, lab.get("LAB_REGION"));
    let mut images = Images::new(&url, producer.token.expose());
    let image = images.create(&unique("protected"), "private").await;
    let glance = Glance::new(&http, &url, &producer.token).unwrap();
    assert!(!glance.image(&image).await.unwrap().protected);

    assert!(glance.update_image(&image, &[ImageChange::Protected(true)]).await.unwrap().protected);
    assert!(glance.image(&image).await.unwrap().protected);
    let delete = reqwest::Client::new()
        .delete(format!("{url}/v2/images/{image}"))
        .header("x-auth-token", producer.token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), 403, "Glance keeps a protected image");
    // Its properties can still change: a rollover may mark a protected image as superseded.
    let marked = [ImageChange::Property { name: property("superseded_by"), value: "next".into() }];
    assert_eq!(glance.update_image(&image, &marked).await.unwrap().superseded_by.as_deref(), Some("next"));

    // Unprotected, `Images` can delete it at the end of the test.
    assert!(!glance.update_image(&image, &[ImageChange::Protected(false)]).await.unwrap().protected);
    assert!(!glance.image(&image).await.unwrap().protected);
}

#[tokio::test]
async fn rollover_properties_are_added_replaced_read_back_and_removed() {
    let lab = lab();
    let http = upstream();
    let producer = lab.sign_in(&http, "producer").await;
    let url = endpoint(&producer, lab.get("LAB_REGION"));
    let mut images = Images::new(&url, producer.token.expose());
    let old = images.create(&unique("rollover-old"), "private").await;
    let new = images.create(&unique("rollover-new"), "private").await;
    let glance = Glance::new(&http, &url, &producer.token).unwrap();

    let mark = |name: &str, value: &ImageId| ImageChange::Property { name: property(name), value: value.to_string() };
    let distro = [
        ImageChange::Property { name: property("os_distro"), value: "ubuntu".into() },
        ImageChange::Property { name: property("os_version"), value: "24.04".into() },
    ];
    glance.update_image(&old, &[mark("superseded_by", &new)]).await.unwrap();
    let mut changes = vec![mark("supersedes", &old)];
    changes.extend(distro);
    glance.update_image(&new, &changes).await.unwrap();
    let (read_old, read_new) = (glance.image(&old).await.unwrap(), glance.image(&new).await.unwrap());
    assert_eq!((read_old.superseded_by.as_deref(), read_old.supersedes), (Some(new.as_str()), None));
    assert_eq!(read_new.supersedes.as_deref(), Some(old.as_str()));
    assert_eq!((read_new.os_distro.as_deref(), read_new.os_version.as_deref()), (Some("ubuntu"), Some("24.04")));

    // `add` of a property the image has already replaces it (Glance's v2.1 patch type).
    let other = ImageId::parse("0b7a6c0e-0d5e-4b55-9a3a-2f8f5f3e8c11").unwrap();
    let replaced = glance.update_image(&old, &[mark("superseded_by", &other)]).await.unwrap();
    assert_eq!(replaced.superseded_by.as_deref(), Some(other.as_str()));

    let removed = glance.update_image(&old, &[ImageChange::RemoveProperty(property("superseded_by"))]).await.unwrap();
    assert_eq!(removed.superseded_by, None);
    assert_eq!(glance.image(&old).await.unwrap().superseded_by, None);

    // Removing one it has not is a 409, and the changes sent with it are not made either.
    let both = [mark("supersedes", &new), ImageChange::RemoveProperty(property("superseded_by"))];
    let err = glance.update_image(&old, &both).await.unwrap_err();
    assert!(
        matches!(&err, UpstreamError::Status { service: Service::Glance, status: 409, message }
            if message.contains("superseded_by does not exist")),
        "{err:?}"
    );
    assert_eq!(glance.image(&old).await.unwrap().supersedes, None, "all or nothing");
}

#[tokio::test]
async fn both_regions_serve_image_api_2_7_or_later() {
    let lab = lab();
    let http = upstream();
    let producer = lab.sign_in(&http, "producer").await;
    for region in ["LAB_REGION", "LAB_REGION2"] {
        let glance = Glance::new(&http, &endpoint(&producer, lab.get(region)), &producer.token).unwrap();
        let versions = glance.api_versions().await.unwrap();
        println!("{region}: {versions:?}");
        assert!(versions.iter().any(|v| v == "v2.7") && versions.iter().any(|v| v == "v2.0"), "{versions:?}");
        assert!(supports_hidden(&versions), "{versions:?}");
        // Newest first (the lab's Glance 33 lists v2.17, its CURRENT one, among the others).
        assert!(supports_hidden(&versions[..1]) && versions.last().map(String::as_str) == Some("v2.0"), "{versions:?}");
    }
}

#[tokio::test]
async fn image_lists_page_through_glance_by_marker() {
    let lab = lab();
    let http = upstream();
    let producer = lab.sign_in(&http, "producer").await;
    let url = endpoint(&producer, lab.get("LAB_REGION"));
    let mut images = Images::new(&url, producer.token.expose());
    let name = unique("paging");
    for _ in 0..3 {
        images.create(&name, "private").await;
    }
    let glance = Glance::new(&http, &url, &producer.token).unwrap();
    let mut query = ImageQuery {
        owner: Some(lab.get("LAB_PRODUCER_PROJECT_ID").into()),
        name: Some(name),
        limit: Some(1),
        sort: Some(SortBy::Newest),
        ..ImageQuery::default()
    };
    let mut seen: Vec<ImageId> = Vec::new();
    for _ in 0..10 {
        let page = glance.images(&query).await.unwrap();
        assert!(page.images.len() <= 1, "{page:?}");
        seen.extend(page.images.iter().map(|i| ImageId::parse(&i.id).unwrap()));
        match page.next_marker {
            Some(marker) => query.marker = Some(marker),
            None => break,
        }
    }
    let (mut seen, mut made) = (seen, images.ids.clone());
    seen.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    made.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    assert_eq!(seen, made, "every image once, over pages of one, and then the end");
}

#[tokio::test]
async fn the_member_quota_is_glances_413_with_its_maximum() {
    let lab = lab();
    let http = upstream();
    let producer = lab.sign_in(&http, "producer").await;
    let url = endpoint(&producer, lab.get("LAB_REGION2"));
    let mut images = Images::new(&url, producer.token.expose());
    let image = images.create(&unique("quota"), "shared").await;
    let glance = Glance::new(&http, &url, &producer.token).unwrap();
    let quota: u32 = lab.get("LAB_REGION2_MEMBER_QUOTA").parse().unwrap();
    for i in 0..quota {
        glance.add_member(&image, &member_id(&format!("{:032x}", 0xc0de00 + i))).await.unwrap();
    }
    let err = glance.add_member(&image, &member_id(&format!("{:032x}", 0xc0deff))).await.unwrap_err();
    let UpstreamError::Status { service: Service::Glance, status: 413, message } = &err else { panic!("{err:?}") };
    assert_eq!(quota_limit(message), Some(quota), "{message}");
    assert_eq!(glance.members(&image).await.unwrap().len(), quota as usize);
}

// --- The directory: looking projects up as the `directory` user (reader, no project) ---

#[tokio::test]
async fn the_directory_user_signs_in_at_system_scope_with_the_password_from_its_file() {
    use std::os::unix::fs::PermissionsExt;
    let lab = lab();
    let http = upstream();
    let file = std::fs::metadata(lab.get("LAB_DIRECTORY_PASSWORD_FILE")).unwrap();
    assert_eq!(file.permissions().mode() & 0o777, 0o600, "only its owner reads the secret");
    assert!(!lab.directory_password().ends_with('\n'), "the file holds the password and nothing else");

    let directory = lab.sign_in_directory(&http, Scope::System).await;
    assert_eq!(
        (directory.user.name.as_str(), directory.user.id.as_str()),
        ("directory", lab.get("LAB_DIRECTORY_USER_ID"))
    );
    assert!(directory.project.is_none(), "a system-scoped token has no project");
    assert_eq!(directory.roles, ["reader"]);
    let own = lab.keystone(&http).projects(&directory.token).await.unwrap();
    assert!(own.is_empty(), "no role on any project, so no way into Glance: {own:?}");
}

#[tokio::test]
async fn a_system_reader_looks_projects_up_by_id_and_an_unknown_id_is_none() {
    let lab = lab();
    let http = upstream();
    let directory = lab.sign_in_directory(&http, Scope::System).await;
    let keystone = lab.keystone(&http);
    let consumer = keystone.project(&directory.token, &member_id(lab.get("LAB_CONSUMER_PROJECT_ID"))).await.unwrap();
    let consumer = consumer.expect("the consumer project");
    assert_eq!((consumer.name.as_str(), consumer.domain_id.as_str()), ("consumer", lab.get("LAB_DOMAIN_ID")));
    let partner = keystone.project(&directory.token, &member_id(lab.get("LAB_PARTNER_ONE_PROJECT_ID"))).await.unwrap();
    assert_eq!(partner.unwrap().domain_id, lab.get("LAB_PARTNERS_DOMAIN_ID"), "any domain at system scope");
    let nobody = keystone.project(&directory.token, &member_id(&"0".repeat(32))).await.unwrap();
    assert!(nobody.is_none());
}

#[tokio::test]
async fn a_name_in_two_domains_is_found_twice_and_once_within_one_domain() {
    let lab = lab();
    let http = upstream();
    let directory = lab.sign_in_directory(&http, Scope::System).await;
    let keystone = lab.keystone(&http);
    let twin = lab.get("LAB_TWIN_PROJECT");
    let everywhere = keystone.projects_named(&directory.token, twin, None).await.unwrap();
    let mut expected = vec![
        (lab.get("LAB_TWIN_PROJECT_ID").to_string(), lab.get("LAB_DOMAIN_ID").to_string()),
        (lab.get("LAB_PARTNERS_TWIN_PROJECT_ID").to_string(), lab.get("LAB_PARTNERS_DOMAIN_ID").to_string()),
    ];
    expected.sort();
    assert_eq!(ids_and_domains(&everywhere), expected);
    assert!(everywhere.iter().all(|p| p.name == twin));

    let in_default = keystone.projects_named(&directory.token, twin, Some(lab.get("LAB_DOMAIN_ID"))).await.unwrap();
    assert_eq!(in_default.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), [lab.get("LAB_TWIN_PROJECT_ID")]);
    let other_case = keystone.projects_named(&directory.token, &twin.to_uppercase(), None).await.unwrap();
    assert!(other_case.is_empty(), "a name is matched exactly: {other_case:?}");
}

#[tokio::test]
async fn a_fragment_finds_projects_in_every_domain_ignoring_case() {
    let lab = lab();
    let http = upstream();
    let directory = lab.sign_in_directory(&http, Scope::System).await;
    let keystone = lab.keystone(&http);
    for fragment in ["artner", "ARTNER", "r-o"] {
        let found = keystone.projects_containing(&directory.token, fragment, None).await.unwrap();
        assert!(found.iter().any(|p| p.id == lab.get("LAB_PARTNER_ONE_PROJECT_ID")), "{fragment}: {found:?}");
    }
    let in_default =
        keystone.projects_containing(&directory.token, "artner", Some(lab.get("LAB_DOMAIN_ID"))).await.unwrap();
    assert!(in_default.iter().all(|p| p.domain_id == lab.get("LAB_DOMAIN_ID")), "{in_default:?}");
    assert!(!in_default.iter().any(|p| p.id == lab.get("LAB_PARTNER_ONE_PROJECT_ID")));

    // Keystone's SQL LIKE takes `_` and `%` as wildcards (it answers every project to `_`).
    for wildcard in ["_", "%"] {
        let found = keystone.projects_containing(&directory.token, wildcard, None).await.unwrap();
        assert!(found.iter().all(|p| p.name.contains(wildcard)), "{wildcard}: {found:?}");
    }
    let found = keystone.projects_containing(&directory.token, "o", None).await.unwrap();
    let names: Vec<String> = found.iter().map(|p| p.name.to_lowercase()).collect();
    assert!(names.is_sorted(), "sorted by name: {names:?}");
}

#[tokio::test]
async fn a_name_with_spaces_non_ascii_and_ampersand_reaches_keystone_intact() {
    let lab = lab();
    let http = upstream();
    let admin = lab.sign_in(&http, "admin").await;
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let name = format!("os-crate Zürich & Co+1=2 #?/ {nanos:x}");
    let partners = lab.get("LAB_PARTNERS_DOMAIN_ID");
    let project = Project::create(&admin, lab.get("LAB_KEYSTONE_URL"), partners, &name).await;

    let directory = lab.sign_in_directory(&http, Scope::System).await;
    let keystone = lab.keystone(&http);
    let named = keystone.projects_named(&directory.token, &name, Some(partners)).await.unwrap();
    assert_eq!(ids_and_domains(&named), [(project.id.clone(), partners.to_string())]);
    assert_eq!(named[0].name, name);
    let fragment = format!("zürich & co+1=2 #?/ {nanos:x}");
    let containing = keystone.projects_containing(&directory.token, &fragment, None).await.unwrap();
    assert_eq!(ids_and_domains(&containing), [(project.id.clone(), partners.to_string())]);

    // Deleted, it is no longer found, by name or by ID.
    let id = member_id(&project.id);
    project.delete().await;
    assert!(keystone.projects_named(&directory.token, &name, None).await.unwrap().is_empty());
    assert!(keystone.project(&directory.token, &id).await.unwrap().is_none());
}

#[tokio::test]
async fn a_domain_is_named_by_its_id_and_an_unknown_domain_is_none() {
    let lab = lab();
    let http = upstream();
    let directory = lab.sign_in_directory(&http, Scope::System).await;
    let keystone = lab.keystone(&http);
    let partners = keystone.domain(&directory.token, lab.get("LAB_PARTNERS_DOMAIN_ID")).await.unwrap().unwrap();
    assert_eq!((partners.id.as_str(), partners.name.as_str()), (lab.get("LAB_PARTNERS_DOMAIN_ID"), "partners"));
    let default = keystone.domain(&directory.token, lab.get("LAB_DOMAIN_ID")).await.unwrap().unwrap();
    assert_eq!(default.name, lab.get("LAB_DOMAIN"));
    assert!(keystone.domain(&directory.token, &"0".repeat(32)).await.unwrap().is_none());
}

#[tokio::test]
async fn an_ordinary_users_project_token_may_not_search_projects() {
    let lab = lab();
    let http = upstream();
    let consumer = lab.sign_in(&http, "consumer").await;
    let keystone = lab.keystone(&http);
    let err = keystone.projects_named(&consumer.token, lab.get("LAB_TWIN_PROJECT"), None).await.unwrap_err();
    assert!(matches!(err, UpstreamError::Status { service: Service::Keystone, status: 403, .. }), "{err:?}");
    let err = keystone.projects_containing(&consumer.token, "artner", None).await.unwrap_err();
    assert_eq!(err.status(), Some(403), "{err:?}");
    let other = keystone.project(&consumer.token, &member_id(lab.get("LAB_PARTNER_ONE_PROJECT_ID"))).await;
    assert_eq!(other.unwrap_err().status(), Some(403), "only its own projects by ID");
}

#[tokio::test]
async fn a_domain_reader_sees_its_own_domain_only() {
    // The lab gives `directory` reader on domain partners too. Keystone narrows every list to
    // the token's domain (another domain's filter answers nothing, not 403), and refuses a
    // look-up by ID outside it with 403, an unknown ID included: at domain scope "deleted"
    // and "elsewhere" look the same.
    let lab = lab();
    let http = upstream();
    let directory =
        lab.sign_in_directory(&http, Scope::Domain(DomainRef::Name(lab.get("LAB_PARTNERS_DOMAIN").into()))).await;
    assert!(directory.project.is_none());
    let (keystone, token) = (lab.keystone(&http), &directory.token);
    let partners = lab.get("LAB_PARTNERS_DOMAIN_ID");

    let twins = keystone.projects_named(token, lab.get("LAB_TWIN_PROJECT"), None).await.unwrap();
    assert_eq!(ids_and_domains(&twins), [(lab.get("LAB_PARTNERS_TWIN_PROJECT_ID").to_string(), partners.to_string())]);
    let elsewhere = keystone.projects_named(token, lab.get("LAB_TWIN_PROJECT"), Some(lab.get("LAB_DOMAIN_ID"))).await;
    assert!(elsewhere.unwrap().is_empty());
    let found = keystone.projects_containing(token, "artner", None).await.unwrap();
    assert_eq!(ids_and_domains(&found), [(lab.get("LAB_PARTNER_ONE_PROJECT_ID").to_string(), partners.to_string())]);

    let own = keystone.project(token, &member_id(lab.get("LAB_PARTNER_ONE_PROJECT_ID"))).await.unwrap();
    assert_eq!(own.unwrap().name, lab.get("LAB_PARTNER_ONE_PROJECT"));
    let consumer = keystone.project(token, &member_id(lab.get("LAB_CONSUMER_PROJECT_ID"))).await;
    assert_eq!(consumer.unwrap_err().status(), Some(403));
    let unknown = keystone.project(token, &member_id(&"0".repeat(32))).await;
    assert_eq!(unknown.unwrap_err().status(), Some(403));
    assert_eq!(keystone.domain(token, partners).await.unwrap().unwrap().name, "partners");
    assert_eq!(keystone.domain(token, lab.get("LAB_DOMAIN_ID")).await.unwrap_err().status(), Some(403));
}
