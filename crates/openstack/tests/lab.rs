//! The clients against the real lab: Keystone's sign-in methods, the catalog's image
//! endpoints, and the whole image member API in both Glance regions. Needs a running lab (see
//! `lab_env`); without one every test fails and says how to start it.

mod lab_env;

use lab_env::{ApplicationCredential, Images, lab, unique, upstream};
use openstack_images::{
    Service, UpstreamError,
    error::quota_limit,
    glance::{Glance, ImageQuery, SortBy},
    ids::{ImageId, MemberId},
    keystone::{Authenticated, Credentials, Scope},
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
