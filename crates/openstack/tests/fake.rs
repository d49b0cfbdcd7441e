//! The clients against an in-process fake Keystone + Glance (a real HTTP server): what they
//! send (paths, percent-encoding, headers, bodies), and what they make of Glance's answers,
//! its errors and a proxy's, and which calls they repeat.

mod fake_cloud;

use std::time::Duration;

use axum::response::IntoResponse;
use fake_cloud::{CONSUMER, Fake, IMAGE, OTHER_IMAGE, glance_error, image, issued, json_answer, member, proxy_html};
use openstack_images::{
    Service, Token, Upstream, UpstreamError,
    error::quota_limit,
    glance::{Glance, ImageChange, ImageQuery, SortBy, supports_hidden},
    ids::{ImageId, MemberId, PropertyName},
    keystone::{Credentials, DomainRef, Keystone, Scope},
    records::{MemberStatus, Visibility},
};
use serde_json::json;

const TOKEN: &str = "gAAAAABfaketokenfaketokenfaketoken";

fn upstream() -> Upstream {
    Upstream::new(reqwest::Client::new(), 4)
}

fn image_id(id: &str) -> ImageId {
    ImageId::parse(id).unwrap()
}

fn member_id(id: &str) -> MemberId {
    MemberId::parse(id).unwrap()
}

fn password(user: &str) -> Credentials {
    Credentials::Password {
        user_name: user.into(),
        user_domain: DomainRef::Name("Default".into()),
        password: "s3cret".to_string().into(),
    }
}

// --- Keystone ---

#[tokio::test]
async fn a_password_sign_in_sends_the_identity_and_scope_and_reads_the_token() {
    let fake = Fake::start(|seen, _| issued(&seen.base(), TOKEN, Some(("p1", "producer")))).await;
    let http = upstream();
    let keystone = Keystone::new(&http, &fake.keystone_url());
    let scope = Scope::ProjectName { name: "producer".into(), domain: DomainRef::Id("default".into()) };
    let auth = keystone.authenticate(&password("producer-user"), Some(&scope)).await.unwrap();

    let sent = fake.only();
    assert_eq!((sent.method.as_str(), sent.path.as_str()), ("POST", "/identity/v3/auth/tokens"));
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(sent.header("accept"), Some("application/json"));
    assert_eq!(
        sent.json(),
        json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": "producer-user", "domain": {"name": "Default"}, "password": "s3cret"}}},
            "scope": {"project": {"name": "producer", "domain": {"id": "default"}}}
        }})
    );

    assert_eq!(auth.token.expose(), TOKEN, "the token is the X-Subject-Token header");
    assert_eq!((auth.user.name.as_str(), auth.project.as_ref().unwrap().name.as_str()), ("producer-user", "producer"));
    assert_eq!(auth.roles, ["member", "reader"]);
    assert_eq!(auth.expires_at.year(), 2030);
    let endpoints = auth.image_endpoints("public");
    let regions: Vec<(&str, &str)> = endpoints.iter().map(|e| (e.region.as_str(), e.url.as_str())).collect();
    let (one, two) = (format!("{}/image", fake.base), format!("{}/image2", fake.base));
    assert_eq!(regions, [("RegionOne", one.as_str()), ("RegionTwo", two.as_str())]);
    assert_eq!(auth.image_endpoints("internal").len(), 1);
}

#[tokio::test]
async fn an_application_credential_sends_no_scope_and_a_token_re_scopes() {
    let fake = Fake::start(|seen, _| issued(&seen.base(), TOKEN, Some(("p2", "consumer")))).await;
    let http = upstream();
    let keystone = Keystone::new(&http, &fake.keystone_url());
    let scope = Scope::ProjectId("p2".into());
    let credential = Credentials::ApplicationCredential { id: "ac1".into(), secret: "sh".to_string().into() };
    keystone.authenticate(&credential, Some(&scope)).await.unwrap();
    let old = Token::new("gAAAAABoldtokenoldtokenoldtoken");
    keystone.authenticate(&Credentials::Token(old), Some(&scope)).await.unwrap();

    let seen = fake.seen();
    assert_eq!(
        seen[0].json(),
        json!({"auth": {"identity": {"methods": ["application_credential"],
            "application_credential": {"id": "ac1", "secret": "sh"}}}}),
        "Keystone refuses a scope beside an application credential, which carries its own"
    );
    assert_eq!(
        seen[1].json(),
        json!({"auth": {"identity": {"methods": ["token"], "token": {"id": "gAAAAABoldtokenoldtokenoldtoken"}},
            "scope": {"project": {"id": "p2"}}}})
    );
}

#[tokio::test]
async fn a_refused_sign_in_is_keystones_status_and_message_and_is_not_repeated() {
    let fake = Fake::start(|_, _| {
        json_answer(
            401,
            json!({"error": {"code": 401, "title": "Unauthorized",
                "message": "The request you have made requires authentication."}}),
        )
    })
    .await;
    let http = upstream();
    let err = Keystone::new(&http, &fake.keystone_url()).authenticate(&password("x"), None).await.unwrap_err();
    assert!(
        matches!(&err, UpstreamError::Status { service: Service::Keystone, status: 401, message }
            if message == "The request you have made requires authentication."),
        "{err:?}"
    );
    assert_eq!(fake.seen().len(), 1, "a 4xx is an answer, not a failure to repeat");
}

#[tokio::test]
async fn a_sign_in_that_got_a_5xx_is_asked_once_more() {
    // Issuing a token twice does no harm (nobody holds the first), losing a sign-in does.
    let fake = Fake::start(|seen, n| if n == 0 { proxy_html(503) } else { issued(&seen.base(), TOKEN, None) }).await;
    let http = upstream();
    let auth = Keystone::new(&http, &fake.keystone_url()).authenticate(&password("x"), None).await.unwrap();
    assert_eq!(auth.token.expose(), TOKEN);
    assert!(auth.project.is_none() && auth.catalog.len() == 2);
    assert_eq!(fake.seen().len(), 2);
}

#[tokio::test]
async fn a_token_answer_without_the_subject_token_header_is_unreadable() {
    let fake = Fake::start(|seen, _| json_answer(201, fake_cloud::token_body(&seen.base(), None))).await;
    let http = upstream();
    let err = Keystone::new(&http, &fake.keystone_url()).authenticate(&password("x"), None).await.unwrap_err();
    assert!(matches!(err, UpstreamError::BadResponse { service: Service::Keystone, .. }), "{err:?}");
}

#[tokio::test]
async fn validate_and_revoke_send_the_token_as_both_headers() {
    let fake = Fake::start(|seen, _| match seen.method.as_str() {
        "GET" => json_answer(200, fake_cloud::token_body(&seen.base(), Some(("p1", "producer")))),
        _ => axum::http::StatusCode::NO_CONTENT.into_response(),
    })
    .await;
    let http = upstream();
    let keystone = Keystone::new(&http, &fake.keystone_url());
    let token = Token::new(TOKEN);
    let auth = keystone.validate(&token).await.unwrap();
    assert_eq!(auth.project.unwrap().id, "p1");
    keystone.revoke(&token).await.unwrap();
    for (seen, method) in fake.seen().iter().zip(["GET", "DELETE"]) {
        assert_eq!((seen.method.as_str(), seen.path.as_str()), (method, "/identity/v3/auth/tokens"));
        assert_eq!((seen.header("x-auth-token"), seen.header("x-subject-token")), (Some(TOKEN), Some(TOKEN)));
    }
}

#[tokio::test]
async fn projects_are_listed_by_name_and_looked_up_by_encoded_id() {
    let fake = Fake::start(|seen, _| match seen.path.as_str() {
        "/identity/v3/auth/projects" => json_answer(
            200,
            json!({"projects": [
                {"id": "b", "name": "beta", "domain_id": "default", "enabled": true},
                {"id": "a", "name": "Alpha", "domain_id": "default", "enabled": true}
            ]}),
        ),
        "/identity/v3/projects/known" => {
            json_answer(200, json!({"project": {"id": "known", "name": "k", "domain_id": "default"}}))
        }
        "/identity/v3/projects/forbidden" => json_answer(403, json!({"error": {"message": "nope", "code": 403}})),
        _ => json_answer(404, json!({"error": {"message": "Could not find project.", "code": 404}})),
    })
    .await;
    let http = upstream();
    let keystone = Keystone::new(&http, &fake.keystone_url());
    let token = Token::new(TOKEN);
    let names: Vec<String> = keystone.projects(&token).await.unwrap().into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["Alpha", "beta"]);
    assert_eq!(keystone.project(&token, &member_id("known")).await.unwrap().unwrap().name, "k");
    assert!(keystone.project(&token, &member_id("x<y>")).await.unwrap().is_none(), "a 404 is no such project");
    assert_eq!(keystone.project(&token, &member_id("forbidden")).await.unwrap_err().status(), Some(403));
    let paths: Vec<String> = fake.seen().into_iter().map(|s| s.path).collect();
    assert_eq!(paths[2], "/identity/v3/projects/x%3Cy%3E");
}

// --- Keystone: the directory calls ---

#[tokio::test]
async fn system_and_domain_scopes_are_sent_as_keystone_spells_them() {
    let fake = Fake::start(|seen, _| issued(&seen.base(), TOKEN, None)).await;
    let http = upstream();
    let keystone = Keystone::new(&http, &fake.keystone_url());
    let scopes =
        [Scope::System, Scope::Domain(DomainRef::Id("d1".into())), Scope::Domain(DomainRef::Name("partners".into()))];
    for scope in &scopes {
        let auth = keystone.authenticate(&password("directory"), Some(scope)).await.unwrap();
        assert!(auth.project.is_none());
    }
    let credential = Credentials::ApplicationCredential { id: "ac1".into(), secret: "sh".to_string().into() };
    keystone.authenticate(&credential, Some(&Scope::System)).await.unwrap();

    let identity = json!({"methods": ["password"], "password": {"user": {
        "name": "directory", "domain": {"name": "Default"}, "password": "s3cret"}}});
    let bodies: Vec<serde_json::Value> = fake.seen().iter().map(|s| s.json()).collect();
    assert_eq!(
        bodies,
        [
            json!({"auth": {"identity": identity, "scope": {"system": {"all": true}}}}),
            json!({"auth": {"identity": identity, "scope": {"domain": {"id": "d1"}}}}),
            json!({"auth": {"identity": identity, "scope": {"domain": {"name": "partners"}}}}),
            json!({"auth": {"identity": {"methods": ["application_credential"],
                "application_credential": {"id": "ac1", "secret": "sh"}}}}),
        ],
        "an application credential carries its own scope, system or domain ones included"
    );
    for seen in fake.seen() {
        assert_eq!((seen.method.as_str(), seen.path.as_str()), ("POST", "/identity/v3/auth/tokens"));
    }
}

#[tokio::test]
async fn project_searches_send_one_encoded_filter_and_the_domain_with_the_token() {
    let fake = Fake::start(|_, _| json_answer(200, json!({"projects": [], "links": {"next": null}}))).await;
    let http = upstream();
    let keystone = Keystone::new(&http, &fake.keystone_url());
    let token = Token::new(TOKEN);
    let odd = "Zürich & Co+1=2 %_#?/";
    keystone.projects_named(&token, odd, None).await.unwrap();
    keystone.projects_named(&token, "twin", Some("d 1&x")).await.unwrap();
    keystone.projects_containing(&token, odd, None).await.unwrap();
    keystone.projects_containing(&token, "artner", Some("default")).await.unwrap();

    let seen = fake.seen();
    let queries: Vec<&str> = seen.iter().map(|s| s.query.as_deref().unwrap()).collect();
    // Form encoding: a space is `+`, which Keystone (werkzeug) reads back as a space; the lab
    // test a_name_with_spaces_non_ascii_and_ampersand_reaches_keystone_intact checks that.
    let odd_encoded = "Z%C3%BCrich+%26+Co%2B1%3D2+%25_%23%3F%2F";
    assert_eq!(
        queries,
        [
            format!("name={odd_encoded}").as_str(),
            "name=twin&domain_id=d+1%26x",
            format!("name__icontains={odd_encoded}").as_str(),
            "name__icontains=artner&domain_id=default",
        ]
    );
    let pairs: Vec<Vec<(String, String)>> = seen.iter().map(|s| s.query_pairs()).collect();
    assert_eq!(pairs[0], [("name".to_string(), odd.to_string())], "decodes to the name itself");
    assert_eq!(pairs[1][1], ("domain_id".to_string(), "d 1&x".to_string()));
    assert_eq!(pairs[2], [("name__icontains".to_string(), odd.to_string())]);
    for s in &seen {
        assert_eq!((s.method.as_str(), s.path.as_str()), ("GET", "/identity/v3/projects"));
        assert_eq!(s.header("x-auth-token"), Some(TOKEN));
        assert_eq!(s.header("accept"), Some("application/json"));
        assert!(s.body.is_empty());
    }
}

#[tokio::test]
async fn project_searches_keep_only_what_was_asked_for() {
    // Keystone matches with SQL: a case-insensitive collation (MySQL's default) finds `Twin` for
    // `twin`, and `LIKE` takes the `_` of a fragment as any one character.
    let fake = Fake::start(|seen, _| {
        let project = |id: &str, name: &str| json!({"id": id, "name": name, "domain_id": "default", "enabled": true});
        let projects = match seen.query_pairs()[0].0.as_str() {
            "name" => vec![project("p1", "twin"), project("p2", "Twin"), project("p3", "twín")],
            _ => {
                vec![project("p4", "team-a"), project("p5", "Team_B"), project("p6", "a_team"), project("p7", "teamxa")]
            }
        };
        json_answer(200, json!({"projects": projects}))
    })
    .await;
    let http = upstream();
    let keystone = Keystone::new(&http, &fake.keystone_url());
    let token = Token::new(TOKEN);
    let named = keystone.projects_named(&token, "twin", None).await.unwrap();
    assert_eq!(named.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["p1"]);
    let containing = keystone.projects_containing(&token, "M_", None).await.unwrap();
    let names: Vec<&str> = containing.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Team_B"], "only a real `_`, ignoring case");
    let containing = keystone.projects_containing(&token, "A", None).await.unwrap();
    let names: Vec<&str> = containing.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["a_team", "team-a", "Team_B", "teamxa"], "sorted by name, ignoring case");
}

#[tokio::test]
async fn a_domain_is_looked_up_by_its_encoded_id_and_a_404_is_none() {
    let fake = Fake::start(|seen, _| match seen.path.as_str() {
        "/identity/v3/domains/d1" => {
            json_answer(200, json!({"domain": {"id": "d1", "name": "partners", "enabled": true, "links": {}}}))
        }
        "/identity/v3/domains/forbidden" => json_answer(403, json!({"error": {"message": "nope", "code": 403}})),
        _ => json_answer(404, json!({"error": {"message": "Could not find domain.", "code": 404}})),
    })
    .await;
    let http = upstream();
    let keystone = Keystone::new(&http, &fake.keystone_url());
    let token = Token::new(TOKEN);
    let partners = keystone.domain(&token, "d1").await.unwrap().unwrap();
    assert_eq!((partners.id.as_str(), partners.name.as_str()), ("d1", "partners"));
    assert!(keystone.domain(&token, "a b/../c?d#e").await.unwrap().is_none(), "a 404 is no such domain");
    assert_eq!(keystone.domain(&token, "forbidden").await.unwrap_err().status(), Some(403));
    for no_segment in ["..", ".", ""] {
        assert!(keystone.domain(&token, no_segment).await.unwrap().is_none(), "{no_segment:?}");
    }
    let seen = fake.seen();
    assert_eq!(seen[1].path, "/identity/v3/domains/a%20b%2F..%2Fc%3Fd%23e", "one segment, whatever the ID");
    for s in &seen {
        assert_eq!((s.method.as_str(), s.header("x-auth-token"), s.query.as_deref()), ("GET", Some(TOKEN), None));
    }
    // `domains/..` and `domains/` would be other resources (the list of domains): not sent.
    assert_eq!(seen.len(), 3, "a 4xx is not asked again, and no call names another resource");
}

// --- Glance: what is sent ---

#[tokio::test]
async fn member_calls_go_to_one_encoded_segment_with_the_token() {
    let odd = r#"a"b<c>d{e}f:g@h&i=j+k;l"#;
    let fake = Fake::start(move |seen, _| match seen.method.as_str() {
        "DELETE" => axum::http::StatusCode::NO_CONTENT.into_response(),
        "PUT" => json_answer(200, member(IMAGE, odd, "accepted")),
        _ => json_answer(200, member(IMAGE, odd, "pending")),
    })
    .await;
    let http = upstream();
    let token = Token::new(TOKEN);
    let glance = Glance::new(&http, &fake.glance_url(), &token).unwrap();
    let (image, odd_id) = (image_id(IMAGE), member_id(odd));

    let added = glance.add_member(&image, &odd_id).await.unwrap();
    assert_eq!((added.member_id.as_str(), added.status), (odd, MemberStatus::Pending));
    glance.member(&image, &odd_id).await.unwrap();
    let answered = glance.set_member_status(&image, &odd_id, MemberStatus::Accepted).await.unwrap();
    assert_eq!(answered.status, MemberStatus::Accepted);
    glance.remove_member(&image, &odd_id).await.unwrap();

    let encoded = format!("/image/v2/images/{IMAGE}/members/a%22b%3Cc%3Ed%7Be%7Df:g@h&i=j+k;l");
    let members = format!("/image/v2/images/{IMAGE}/members");
    let sent: Vec<(String, String)> = fake.seen().iter().map(|s| (s.method.clone(), s.path.clone())).collect();
    let expected = [("POST", &members), ("GET", &encoded), ("PUT", &encoded), ("DELETE", &encoded)];
    assert_eq!(sent, expected.map(|(m, p)| (m.to_string(), p.clone())));
    let decoded = percent_encoding::percent_decode_str(encoded.rsplit('/').next().unwrap()).decode_utf8().unwrap();
    assert_eq!(decoded, odd, "the segment decodes to the member ID itself");
    for seen in fake.seen() {
        assert_eq!(seen.header("x-auth-token"), Some(TOKEN), "{} {}", seen.method, seen.path);
        assert_eq!(seen.header("accept"), Some("application/json"));
        assert_eq!(seen.query, None);
    }
    let seen = fake.seen();
    assert_eq!(seen[0].json(), json!({"member": odd}));
    assert_eq!(seen[0].header("content-type"), Some("application/json"));
    assert_eq!(seen[2].json(), json!({"status": "accepted"}));
    assert!(seen[1].body.is_empty() && seen[3].body.is_empty());
}

#[tokio::test]
async fn visibility_is_changed_with_glances_json_patch_type() {
    let fake = Fake::start(|_, _| {
        let mut answer = image(IMAGE, "base");
        answer["visibility"] = json!("private");
        json_answer(200, answer)
    })
    .await;
    let http = upstream();
    let token = Token::new(TOKEN);
    let glance = Glance::new(&http, &fake.glance_url(), &token).unwrap();
    let changed = glance.set_visibility(&image_id(IMAGE), Visibility::Private).await.unwrap();
    assert_eq!(changed.visibility, Visibility::Private);
    let sent = fake.only();
    assert_eq!((sent.method.as_str(), sent.path.as_str()), ("PATCH", format!("/image/v2/images/{IMAGE}").as_str()));
    assert_eq!(sent.header("content-type"), Some("application/openstack-images-v2.1-json-patch"));
    assert_eq!(sent.json(), json!([{"op": "replace", "path": "/visibility", "value": "private"}]));
}

#[tokio::test]
async fn an_image_update_is_one_json_patch_with_the_changes_in_order() {
    let fake = Fake::start(|_, _| {
        let mut answer = image(IMAGE, "base");
        answer["os_hidden"] = json!(true);
        answer["protected"] = json!(true);
        answer["superseded_by"] = json!(OTHER_IMAGE);
        answer["os_distro"] = json!("ubuntu");
        answer["os_version"] = json!("24.04");
        json_answer(200, answer)
    })
    .await;
    let http = upstream();
    let token = Token::new(TOKEN);
    let glance = Glance::new(&http, &fake.glance_url(), &token).unwrap();
    let property = |name: &str| PropertyName::parse(name).unwrap();
    let changes = [
        ImageChange::Hidden(true),
        ImageChange::Protected(true),
        ImageChange::Property { name: property("superseded_by"), value: OTHER_IMAGE.into() },
        ImageChange::Property { name: property("note"), value: "a \"quoted\" ünïcode value / ~1".into() },
        ImageChange::RemoveProperty(property("supersedes")),
    ];
    let changed = glance.update_image(&image_id(IMAGE), &changes).await.unwrap();
    assert!(changed.os_hidden && changed.protected);
    assert_eq!(changed.superseded_by.as_deref(), Some(OTHER_IMAGE));
    assert_eq!((changed.os_distro.as_deref(), changed.os_version.as_deref()), (Some("ubuntu"), Some("24.04")));
    assert_eq!(changed.supersedes, None);

    let sent = fake.only();
    assert_eq!((sent.method.as_str(), sent.path.as_str()), ("PATCH", format!("/image/v2/images/{IMAGE}").as_str()));
    assert_eq!(sent.header("content-type"), Some("application/openstack-images-v2.1-json-patch"));
    assert_eq!(sent.header("x-auth-token"), Some(TOKEN));
    assert_eq!(
        sent.json(),
        json!([
            {"op": "replace", "path": "/os_hidden", "value": true},
            {"op": "replace", "path": "/protected", "value": true},
            {"op": "add", "path": "/superseded_by", "value": OTHER_IMAGE},
            {"op": "add", "path": "/note", "value": "a \"quoted\" ünïcode value / ~1"},
            {"op": "remove", "path": "/supersedes"}
        ])
    );
}

#[tokio::test]
async fn an_image_update_refused_by_glance_is_its_status_and_message() {
    let fake = Fake::start(|_, _| glance_error(409, "There was a conflict when trying to complete your request.<br /><br />\nProperty supersedes does not exist.\n")).await;
    let http = upstream();
    let token = Token::new(TOKEN);
    let glance = Glance::new(&http, &fake.glance_url(), &token).unwrap();
    let remove = [ImageChange::RemoveProperty(PropertyName::parse("supersedes").unwrap())];
    let err = glance.update_image(&image_id(IMAGE), &remove).await.unwrap_err();
    assert!(
        matches!(&err, UpstreamError::Status { service: Service::Glance, status: 409, message }
            if message == "There was a conflict when trying to complete your request. Property supersedes does not exist."),
        "{err:?}"
    );
    assert_eq!(fake.seen().len(), 1);
}

/// The version document as Glance 33 answers `GET /versions` (the lab's, in its order), with an
/// old deprecated and a future experimental version added.
fn version_document(base: &str) -> serde_json::Value {
    let entry = |id: &str, status: &str| json!({"id": id, "status": status, "links": [{"rel": "self", "href": format!("{base}/v2/")}]});
    let mut versions = vec![entry("v1.1", "DEPRECATED"), entry("v3.0", "EXPERIMENTAL")];
    versions.extend(["v2.15", "v2.13", "v2.12", "v2.11", "v2.10", "v2.9", "v2.8"].map(|v| entry(v, "SUPPORTED")));
    versions.push(entry("v2.17", "CURRENT"));
    versions.extend(["v2.7", "v2.6", "v2.5", "v2.4", "v2.3", "v2.2", "v2.1", "v2.0"].map(|v| entry(v, "SUPPORTED")));
    versions.push(json!({"id": "v2.99"}));
    json!({ "versions": versions })
}

#[tokio::test]
async fn the_api_versions_are_read_from_the_endpoints_version_document_newest_first() {
    let fake = Fake::start(|seen, _| match seen.path.as_str() {
        "/image/versions" => json_answer(200, version_document(&seen.base())),
        _ => glance_error(404, "not here"),
    })
    .await;
    let http = upstream();
    let token = Token::new(TOKEN);
    // The catalog's endpoint may end in a slash; the document is under its path either way.
    let glance = Glance::new(&http, &format!("{}/", fake.glance_url()), &token).unwrap();
    let versions = glance.api_versions().await.unwrap();
    assert_eq!(
        versions,
        [
            "v2.17", "v2.15", "v2.13", "v2.12", "v2.11", "v2.10", "v2.9", "v2.8", "v2.7", "v2.6", "v2.5", "v2.4",
            "v2.3", "v2.2", "v2.1", "v2.0"
        ],
        "CURRENT and SUPPORTED only, compared as numbers"
    );
    assert!(supports_hidden(&versions));

    let sent = fake.only();
    assert_eq!((sent.method.as_str(), sent.path.as_str(), sent.query.as_deref()), ("GET", "/image/versions", None));
    assert_eq!(sent.header("accept"), Some("application/json"));
    assert_eq!(sent.header("x-auth-token"), None, "the version document is public: no token leaves for it");
}

#[tokio::test]
async fn an_old_glance_does_not_support_hidden_images() {
    let fake = Fake::start(|seen, n| match n {
        0 => json_answer(
            200,
            json!({"versions": [
                {"id": "v2.6", "status": "CURRENT", "links": []},
                {"id": "v2.5", "status": "SUPPORTED", "links": []},
                {"id": "v2.7", "status": "EXPERIMENTAL", "links": []}
            ]}),
        ),
        _ => json_answer(200, json!({"version": version_document(&seen.base())})),
    })
    .await;
    let http = upstream();
    let token = Token::new(TOKEN);
    let glance = Glance::new(&http, &fake.glance_url(), &token).unwrap();
    let versions = glance.api_versions().await.unwrap();
    assert_eq!(versions, ["v2.6", "v2.5"]);
    assert!(!supports_hidden(&versions));
    let err = glance.api_versions().await.unwrap_err();
    assert!(matches!(err, UpstreamError::BadResponse { service: Service::Glance, .. }), "{err:?}");
}

#[tokio::test]
async fn image_lists_send_their_filters_and_page_by_the_marker_only() {
    // Page one links to page two; page two's `next` points at another host, of which only the
    // marker counts; page three is empty, and its link is not followed.
    let fake = Fake::start(|seen, _| {
        let marker = seen.query_pairs().into_iter().find(|(k, _)| k == "marker").map(|(_, v)| v);
        match marker.as_deref() {
            None => json_answer(
                200,
                json!({"images": [image(IMAGE, "a")], "next": format!("/v2/images?limit=1&marker={IMAGE}")}),
            ),
            Some(IMAGE) => json_answer(
                200,
                json!({"images": [image(OTHER_IMAGE, "b")],
                    "next": format!("https://evil.example/v2/images?marker={OTHER_IMAGE}&limit=1")}),
            ),
            _ => json_answer(200, json!({"images": [], "next": format!("/v2/images?marker={OTHER_IMAGE}")})),
        }
    })
    .await;
    let http = upstream();
    let token = Token::new(TOKEN);
    let glance = Glance::new(&http, &fake.glance_url(), &token).unwrap();
    let mut query = ImageQuery {
        owner: Some("801b090736ef4b0e97cf097efc706a44".into()),
        visibility: Some("shared"),
        member_status: Some("all"),
        name: Some("a b&c".into()),
        limit: Some(1),
        marker: None,
        sort: Some(SortBy::Newest),
        hidden: false,
    };
    let mut names = Vec::new();
    let mut pages = 0;
    loop {
        let page = glance.images(&query).await.unwrap();
        pages += 1;
        names.extend(page.images.into_iter().map(|i| i.name.unwrap()));
        match page.next_marker {
            Some(marker) => query.marker = Some(marker),
            None => break,
        }
    }
    assert_eq!((names, pages), (vec!["a".to_string(), "b".to_string()], 3));

    let seen = fake.seen();
    assert!(seen.iter().all(|s| s.path == "/image/v2/images"), "never a link's host or path: {seen:#?}");
    let expected = |marker: Option<&str>| {
        let mut pairs = vec![
            ("owner", "801b090736ef4b0e97cf097efc706a44"),
            ("visibility", "shared"),
            ("member_status", "all"),
            ("name", "a b&c"),
            ("limit", "1"),
        ];
        pairs.extend(marker.map(|m| ("marker", m)));
        pairs.extend([("sort_key", "created_at"), ("sort_dir", "desc")]);
        pairs.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>()
    };
    assert_eq!(seen[0].query_pairs(), expected(None));
    assert_eq!(seen[1].query_pairs(), expected(Some(IMAGE)));
    assert_eq!(seen[2].query_pairs(), expected(Some(OTHER_IMAGE)));
}

#[tokio::test]
async fn a_next_link_without_a_valid_marker_ends_the_list() {
    let fake = Fake::start(|_, _| {
        json_answer(200, json!({"images": [image(IMAGE, "a")], "next": "/v2/images?marker=../../v3/auth/tokens"}))
    })
    .await;
    let http = upstream();
    let token = Token::new(TOKEN);
    let glance = Glance::new(&http, &fake.glance_url(), &token).unwrap();
    let page = glance.images(&ImageQuery { sort: Some(SortBy::Name), ..ImageQuery::default() }).await.unwrap();
    assert_eq!((page.images.len(), page.next_marker), (1, None));
    assert_eq!(fake.only().query.as_deref(), Some("sort_key=name&sort_dir=asc"));
}

#[tokio::test]
async fn records_are_read_leniently() {
    let fake = Fake::start(|seen, _| {
        if seen.path.ends_with("/members") {
            let odd = json!({"member_id": 12345, "image_id": IMAGE, "status": "on-hold"});
            json_answer(
                200,
                json!({"members": [member(IMAGE, CONSUMER, "accepted"), odd], "schema": "/v2/schemas/members"}),
            )
        } else {
            json_answer(200, json!({"id": IMAGE, "visibility": "galactic", "min_disk": 0}))
        }
    })
    .await;
    let http = upstream();
    let token = Token::new(TOKEN);
    let glance = Glance::new(&http, &fake.glance_url(), &token).unwrap();
    let members = glance.members(&image_id(IMAGE)).await.unwrap();
    let read: Vec<(&str, MemberStatus)> = members.iter().map(|m| (m.member_id.as_str(), m.status)).collect();
    assert_eq!(read, [(CONSUMER, MemberStatus::Accepted), ("12345", MemberStatus::Unknown)]);
    let image = glance.image(&image_id(IMAGE)).await.unwrap();
    assert_eq!((image.visibility, image.name, image.owner), (Visibility::Unknown, None, None));
}

// --- Glance: its errors ---

#[tokio::test]
async fn a_duplicate_member_is_a_409_with_glances_message_without_markup() {
    let fake =
        Fake::start(|_, _| glance_error(409, &format!("Member {CONSUMER} is duplicated for image {IMAGE}"))).await;
    let http = upstream();
    let token = Token::new(TOKEN);
    let glance = Glance::new(&http, &fake.glance_url(), &token).unwrap();
    let err = glance.add_member(&image_id(IMAGE), &member_id(CONSUMER)).await.unwrap_err();
    match err {
        UpstreamError::Status { service: Service::Glance, status: 409, message } => {
            assert_eq!(message, format!("Member {CONSUMER} is duplicated for image {IMAGE}"))
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_member_quota_is_a_413_whose_limit_can_be_read() {
    let fake = Fake::start(|_, _| {
        glance_error(413, "The request returned a 413 Request Entity Too Large. ... Attempted: 4, Maximum: 3")
    })
    .await;
    let http = upstream();
    let token = Token::new(TOKEN);
    let glance = Glance::new(&http, &fake.glance_url(), &token).unwrap();
    let err = glance.add_member(&image_id(IMAGE), &member_id(CONSUMER)).await.unwrap_err();
    let UpstreamError::Status { status: 413, message, .. } = &err else { panic!("{err:?}") };
    assert_eq!(quota_limit(message), Some(3));
}

#[tokio::test]
async fn a_missing_member_or_image_is_a_404() {
    let fake = Fake::start(|_, _| glance_error(404, "No image found with ID x")).await;
    let http = upstream();
    let token = Token::new(TOKEN);
    let glance = Glance::new(&http, &fake.glance_url(), &token).unwrap();
    let (image, member) = (image_id(IMAGE), member_id(CONSUMER));
    assert_eq!(glance.member(&image, &member).await.unwrap_err().status(), Some(404));
    assert_eq!(glance.image(&image).await.unwrap_err().status(), Some(404));
    assert_eq!(glance.remove_member(&image, &member).await.unwrap_err().status(), Some(404));
    assert_eq!(fake.seen().len(), 3, "a 4xx is never repeated");
}

#[tokio::test]
async fn a_proxys_html_error_page_becomes_its_status_reason_after_one_more_try() {
    let fake = Fake::start(|_, _| proxy_html(502)).await;
    let http = upstream();
    let token = Token::new(TOKEN);
    let glance = Glance::new(&http, &fake.glance_url(), &token).unwrap();
    let err = glance.members(&image_id(IMAGE)).await.unwrap_err();
    assert!(
        matches!(&err, UpstreamError::Status { service: Service::Glance, status: 502, message } if message == "Bad Gateway"),
        "{err:?}"
    );
    assert_eq!(fake.seen().len(), 2, "a GET that got a 5xx is asked once more, and only once");
}

#[tokio::test]
async fn a_2xx_that_is_not_the_expected_json_is_unreadable() {
    let fake = Fake::start(|_, _| (axum::http::StatusCode::OK, "<html>maintenance</html>").into_response()).await;
    let http = upstream();
    let token = Token::new(TOKEN);
    let glance = Glance::new(&http, &fake.glance_url(), &token).unwrap();
    let err = glance.members(&image_id(IMAGE)).await.unwrap_err();
    assert!(matches!(err, UpstreamError::BadResponse { service: Service::Glance, .. }), "{err:?}");
}

#[tokio::test]
async fn an_answer_that_is_not_utf8_is_unreadable_and_utf8_names_are_read_as_sent() {
    // Latin-1 "é" (0xE9) inside a string: JSON must be UTF-8, so this is no answer to read.
    let fake = Fake::start(|_, _| {
        let mut body = br#"{"id": ""#.to_vec();
        body.extend_from_slice(IMAGE.as_bytes());
        body.extend_from_slice(b"\", \"name\": \"caf\xe9\", \"visibility\": \"shared\"}");
        (axum::http::StatusCode::OK, [("content-type", "application/json")], body).into_response()
    })
    .await;
    let http = upstream();
    let token = Token::new(TOKEN);
    let glance = Glance::new(&http, &fake.glance_url(), &token).unwrap();
    let err = glance.image(&image_id(IMAGE)).await.unwrap_err();
    assert!(matches!(err, UpstreamError::BadResponse { service: Service::Glance, .. }), "{err:?}");

    // The same name in UTF-8, and escaped as Glance (Python's json) writes it.
    for name in [r#""café ✓""#, r#""caf\u00e9 \u2713""#] {
        let body = format!(r#"{{"id": "{IMAGE}", "name": {name}, "visibility": "shared"}}"#);
        let fake = Fake::start(move |_, _| {
            (axum::http::StatusCode::OK, [("content-type", "application/json")], body.clone()).into_response()
        })
        .await;
        let glance = Glance::new(&http, &fake.glance_url(), &token).unwrap();
        let image = glance.image(&image_id(IMAGE)).await.unwrap();
        assert_eq!(image.name.as_deref(), Some("café ✓"), "{name}");
    }
}

// --- Glance: which calls are repeated ---

#[tokio::test]
async fn a_get_or_put_that_got_a_5xx_once_is_repeated_and_succeeds() {
    let fake = Fake::start(|seen, n| match (seen.method.as_str(), n) {
        (_, 0) => glance_error(500, "database is locked"),
        ("PUT", _) => json_answer(200, member(IMAGE, CONSUMER, "accepted")),
        _ => json_answer(200, json!({"members": [member(IMAGE, CONSUMER, "pending")]})),
    })
    .await;
    let http = upstream();
    let token = Token::new(TOKEN);
    let glance = Glance::new(&http, &fake.glance_url(), &token).unwrap();
    let (image, member) = (image_id(IMAGE), member_id(CONSUMER));
    assert_eq!(glance.members(&image).await.unwrap().len(), 1);
    let answered = glance.set_member_status(&image, &member, MemberStatus::Accepted).await.unwrap();
    assert_eq!(answered.status, MemberStatus::Accepted);
    let methods: Vec<String> = fake.seen().into_iter().map(|s| s.method).collect();
    assert_eq!(methods, ["GET", "GET", "PUT", "PUT"]);
    let seen = fake.seen();
    assert_eq!(seen[2].body, seen[3].body, "the same answer is sent again");
}

#[tokio::test]
async fn a_post_patch_or_delete_that_got_a_5xx_is_not_repeated() {
    // Adding a member twice would answer 409 for a member that was in fact just added; a second
    // DELETE would answer 404 for one that was just removed.
    let fake = Fake::start(|_, _| glance_error(503, "try later")).await;
    let http = upstream();
    let token = Token::new(TOKEN);
    let glance = Glance::new(&http, &fake.glance_url(), &token).unwrap();
    let (image, member) = (image_id(IMAGE), member_id(CONSUMER));
    assert_eq!(glance.add_member(&image, &member).await.unwrap_err().status(), Some(503));
    assert_eq!(glance.set_visibility(&image, Visibility::Shared).await.unwrap_err().status(), Some(503));
    let hide = [ImageChange::Hidden(true)];
    assert_eq!(glance.update_image(&image, &hide).await.unwrap_err().status(), Some(503));
    assert_eq!(glance.remove_member(&image, &member).await.unwrap_err().status(), Some(503));
    let methods: Vec<String> = fake.seen().into_iter().map(|s| s.method).collect();
    assert_eq!(methods, ["POST", "PATCH", "PATCH", "DELETE"]);
}

/// A server that closes the first `drops` connections without a word, then answers every
/// request with `body` (200). Returns its base URL and how many connections it accepted.
async fn dropping_server(drops: usize, body: &'static str) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::Ordering;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let n = count.fetch_add(1, Ordering::SeqCst);
            let mut buf = vec![0u8; 8192];
            let _ = socket.read(&mut buf).await;
            if n >= drops {
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(format!("{head}{body}").as_bytes()).await;
            }
        }
    });
    (base, accepted)
}

#[tokio::test]
async fn a_get_whose_connection_was_dropped_is_repeated_a_post_is_not() {
    use std::sync::atomic::Ordering;
    let (base, accepted) = dropping_server(1, r#"{"members": []}"#).await;
    let http = upstream();
    let token = Token::new(TOKEN);
    let glance = Glance::new(&http, &base, &token).unwrap();
    assert_eq!(glance.members(&image_id(IMAGE)).await.unwrap(), []);
    assert_eq!(accepted.load(Ordering::SeqCst), 2);

    let (base, accepted) = dropping_server(1, "{}").await;
    let glance = Glance::new(&http, &base, &token).unwrap();
    let err = glance.add_member(&image_id(IMAGE), &member_id(CONSUMER)).await.unwrap_err();
    assert!(matches!(err, UpstreamError::Unreachable { service: Service::Glance, .. }), "{err:?}");
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "a member add is never sent twice");
}

#[tokio::test]
async fn a_timeout_is_not_repeated_and_says_whether_a_change_was_asked() {
    let fake =
        Fake::start_slow(Duration::from_millis(400), |_, _| json_answer(200, member(IMAGE, CONSUMER, "accepted")))
            .await;
    let http = Upstream::new(reqwest::Client::builder().timeout(Duration::from_millis(150)).build().unwrap(), 4);
    let token = Token::new(TOKEN);
    let glance = Glance::new(&http, &fake.glance_url(), &token).unwrap();
    let (image, member) = (image_id(IMAGE), member_id(CONSUMER));
    let read = glance.member(&image, &member).await.unwrap_err();
    assert!(matches!(read, UpstreamError::Timeout { service: Service::Glance, change_asked: false }), "{read:?}");
    let change = glance.set_member_status(&image, &member, MemberStatus::Accepted).await.unwrap_err();
    assert!(matches!(change, UpstreamError::Timeout { change_asked: true, .. }), "{change:?}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.seen().len(), 2, "a timed-out call is not asked again");
}

#[tokio::test]
async fn an_endpoint_that_is_not_http_is_refused_before_any_call() {
    let http = upstream();
    let token = Token::new(TOKEN);
    for bad in ["ftp://glance.example/", "glance.example:9292", "mailto:glance@example"] {
        let err = Glance::new(&http, bad, &token).err().unwrap_or_else(|| panic!("{bad} was taken"));
        assert!(matches!(err, UpstreamError::BadResponse { service: Service::Glance, .. }), "{bad}: {err:?}");
    }
}
