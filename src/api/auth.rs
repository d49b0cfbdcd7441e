//! Signing in and out, and choosing the project and region to work in.

use leptos::prelude::*;

use crate::{
    error::AppError,
    model::{CloudChoice, Me},
};

/// The clouds the sign-in page offers.
#[server(endpoint = "clouds")]
pub async fn list_clouds() -> Result<Vec<CloudChoice>, AppError> {
    use crate::config::clouds::Cloud;
    let state = super::server::state()?;
    Ok(state
        .config
        .clouds
        .iter()
        .map(|c| CloudChoice {
            name: c.name.clone(),
            auth_url: c.auth_url.to_string(),
            user_domain: Cloud::domain_label(&c.user_domain),
            project_domain: Cloud::domain_label(&c.project_domain),
            project_name: c.project_name.clone(),
        })
        .collect())
}

/// Who is signed in; `None` when nobody is.
#[server(endpoint = "whoami")]
pub async fn whoami() -> Result<Option<Me>, AppError> {
    let session = super::server::session().await?;
    // No redirect from here: every page asks this, and the page decides where to go.
    super::server::status_only(match super::server::current(&session).await {
        Ok(signed_in) => {
            let directory = super::server::state()?.directory.as_ref().is_some_and(|d| d.cloud() == signed_in.cloud);
            Ok(Some(Me { directory, ..signed_in.me() }))
        }
        Err(AppError::NotSignedIn) => Ok(None),
        Err(e) => Err(e),
    })
}

/// Signs in with one of three methods (`method` is a `SignInMethod` key). Empty fields count
/// as missing. `project_id`, when given, chooses the project instead of the `project` name.
/// On success the browser goes to `next` (a path inside the dashboard).
#[server(endpoint = "sign_in")]
pub async fn sign_in(
    cloud: String,
    method: String,
    user_name: Option<String>,
    user_domain: Option<String>,
    password: Option<String>,
    project: Option<String>,
    project_id: Option<String>,
    credential_id: Option<String>,
    credential_secret: Option<String>,
    token: Option<String>,
    next: Option<String>,
) -> Result<(), AppError> {
    let form = signing_in::Form {
        cloud,
        method,
        user_name,
        user_domain,
        password: password.map(Into::into),
        project,
        project_id,
        credential_id,
        credential_secret: credential_secret.map(Into::into),
        token,
    };
    super::server::reply_and_go(signing_in::sign_in(form).await, next.as_deref().unwrap_or("/")).await
}

/// Revokes the token at Keystone and deletes the session.
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    super::server::reply_and_go(signing_in::sign_out().await, "/signin?signed_out=1").await
}

/// Re-scopes the session's token to another of the user's projects (no password asked again).
#[server(endpoint = "switch_project")]
pub async fn switch_project(project_id: String, next: Option<String>) -> Result<(), AppError> {
    super::server::reply_and_go(signing_in::switch_project(project_id).await, next.as_deref().unwrap_or("/")).await
}

/// Chooses the region whose image endpoint later calls use.
#[server(endpoint = "switch_region")]
pub async fn switch_region(region: String, next: Option<String>) -> Result<(), AppError> {
    super::server::reply_and_go(signing_in::switch_region(region).await, next.as_deref().unwrap_or("/")).await
}

#[cfg(feature = "ssr")]
mod signing_in {
    use secrecy::SecretString;

    use super::super::server;
    use crate::{
        config::clouds::Cloud,
        error::AppError,
        model::{ProjectChoice, SignInMethod},
        session::{self, SignedIn},
        state::AppState,
    };
    use openstack::{
        Token, UpstreamError,
        keystone::{Authenticated, Credentials, DomainRef, Keystone, Scope},
    };

    pub struct Form {
        pub cloud: String,
        pub method: String,
        pub user_name: Option<String>,
        pub user_domain: Option<String>,
        pub password: Option<SecretString>,
        pub project: Option<String>,
        pub project_id: Option<String>,
        pub credential_id: Option<String>,
        pub credential_secret: Option<SecretString>,
        pub token: Option<String>,
    }

    fn given(v: Option<String>) -> Option<String> {
        v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
    }

    fn required(v: Option<String>, what: &str) -> Result<String, AppError> {
        given(v).ok_or_else(|| AppError::InvalidInput(format!("Please enter {what}.")))
    }

    fn secret(v: Option<SecretString>, what: &str) -> Result<SecretString, AppError> {
        use secrecy::ExposeSecret;
        v.filter(|s| !s.expose_secret().is_empty())
            .ok_or_else(|| AppError::InvalidInput(format!("Please enter {what}.")))
    }

    pub async fn sign_in(form: Form) -> Result<(), AppError> {
        let state = server::state()?;
        let cloud = state
            .config
            .cloud(&form.cloud)
            .ok_or_else(|| AppError::InvalidInput(format!("There is no cloud named {:?} here.", form.cloud)))?
            .clone();
        let method = SignInMethod::from_key(&form.method)
            .ok_or_else(|| AppError::InvalidInput("Choose how to sign in.".into()))?;
        // A pasted token is not guessable; names and credential IDs are what guessing targets.
        let who = match method {
            SignInMethod::Password => given(form.user_name.clone()).map(|u| {
                let domain = given(form.user_domain.clone()).unwrap_or_else(|| Cloud::domain_label(&cloud.user_domain));
                format!("{}/{domain}/{u}", cloud.name)
            }),
            SignInMethod::ApplicationCredential => {
                given(form.credential_id.clone()).map(|id| format!("{}/credential/{id}", cloud.name))
            }
            SignInMethod::Token => None,
        };
        state.sign_in_throttle.attempt(server::client_ip(&state).await, who.as_deref()).await?;
        let keystone = Keystone::new(&state.http, &cloud.auth_url);
        // A project ID is unique across domains; a name needs the cloud's project domain. An
        // empty field means the user's own default project: the configured cloud's project
        // (OS_PROJECT_NAME, clouds.yaml) only fills the form in, it is no rule for everyone.
        let scope = match given(form.project_id) {
            Some(id) => Some(Scope::ProjectId(id)),
            None => given(form.project).map(|name| Scope::ProjectName { name, domain: cloud.project_domain.clone() }),
        };

        let authenticated = match method {
            SignInMethod::Password => {
                let credentials = Credentials::Password {
                    user_name: required(form.user_name, "your user name")?,
                    user_domain: given(form.user_domain)
                        .map(DomainRef::Name)
                        .unwrap_or_else(|| cloud.user_domain.clone()),
                    password: secret(form.password, "your password")?,
                };
                keystone.authenticate(&credentials, scope.as_ref()).await.map_err(|e| refused(e, method, &cloud))?
            }
            SignInMethod::ApplicationCredential => {
                let credentials = Credentials::ApplicationCredential {
                    id: required(form.credential_id, "the application credential ID")?,
                    secret: secret(form.credential_secret, "the application credential secret")?,
                };
                keystone.authenticate(&credentials, None).await.map_err(|e| refused(e, method, &cloud))?
            }
            SignInMethod::Token => {
                let pasted = required(form.token.clone(), "a token")?;
                if !Token::is_well_formed(&pasted) {
                    return Err(AppError::SignInFailed(
                        "that does not look like a token (copy the `id` field of `openstack token issue`).".into(),
                    ));
                }
                let token = Token::new(pasted);
                let validated = keystone.validate(&token).await.map_err(|e| refused(e, method, &cloud))?;
                let other_project = match (&validated.project, &scope) {
                    (Some(p), Some(Scope::ProjectName { name, .. })) => &p.name != name,
                    (Some(p), Some(Scope::ProjectId(id))) => &p.id != id,
                    _ => false,
                };
                // A pasted project-scoped token is used as it is, unless another project was asked for.
                if other_project {
                    keystone
                        .authenticate(&Credentials::Token(token), scope.as_ref())
                        .await
                        .map_err(|e| refused(e, method, &cloud))?
                } else {
                    validated
                }
            }
        };

        // Keystone gives an unscoped token to a user without a default project: pick their first.
        let authenticated = match authenticated.project {
            Some(_) => authenticated,
            None => {
                let projects = keystone.projects(&authenticated.token).await.map_err(AppError::from)?;
                let first = projects.first().ok_or_else(|| {
                    AppError::SignInFailed(
                        "this user has no project to work in. Ask an administrator for a role on one.".into(),
                    )
                })?;
                keystone
                    .authenticate(
                        &Credentials::Token(authenticated.token.clone()),
                        Some(&Scope::ProjectId(first.id.clone())),
                    )
                    .await
                    .map_err(|e| refused(e, method, &cloud))?
            }
        };

        let projects = project_choices(&keystone, &authenticated.token).await;
        let can_switch = method != SignInMethod::ApplicationCredential;
        let signed_in = signed_in(&cloud, authenticated, can_switch, projects, None)?;
        let session = server::session().await?;
        let previous = session::held(&session).await;
        session::begin(&session, &signed_in, state.config.session_idle).await?;
        server::remember_signed_in();
        // The session's earlier sign-in is over: its tokens would stay valid at Keystone until
        // they expire. The same token pasted again is the new sign-in's, and stays (revoking
        // it would also end the token re-scoped from it for the new sign-in).
        let rescoped = session::take_project_tokens(&session).await.into_iter().map(|t| t.token);
        if let Some(previous) = previous {
            let in_use = [Some(signed_in.token.expose()), form.token.as_deref().map(str::trim)];
            let main = (!previous.is_expired() && !in_use.contains(&Some(previous.token.expose())))
                .then(|| previous.token.clone());
            revoke_all(&state, &previous.cloud, rescoped.chain(main).collect(), "at a new sign-in").await;
        }
        tracing::info!(user = %signed_in.user_name, project = %signed_in.project_name, cloud = %signed_in.cloud, "signed in");
        Ok(())
    }

    /// The switcher's list; a failure only hides the switcher, it does not stop the sign-in.
    async fn project_choices(keystone: &Keystone<'_>, token: &Token) -> Vec<ProjectChoice> {
        match keystone.projects(token).await {
            Ok(projects) => {
                projects.into_iter().map(|p| ProjectChoice { id: p.id, name: p.name, domain_id: p.domain_id }).collect()
            }
            Err(e) => {
                tracing::warn!("could not list the user's projects: {e}");
                Vec::new()
            }
        }
    }

    /// What Keystone's refusal means on the sign-in form.
    fn refused(e: UpstreamError, method: SignInMethod, cloud: &Cloud) -> AppError {
        match (e.status(), method) {
            (Some(401), SignInMethod::Password) => AppError::SignInFailed(
                "Keystone did not accept these details. Check the user name, password, domain and project.".into(),
            ),
            (Some(401), SignInMethod::ApplicationCredential) => AppError::SignInFailed(
                "Keystone did not accept this application credential: check its ID and secret, and that it has not expired.".into(),
            ),
            (Some(401 | 404), SignInMethod::Token) => AppError::SignInFailed(format!(
                "cloud {} does not accept this token: it has expired, was revoked, or belongs to another cloud.",
                cloud.name
            )),
            (Some(400), _) => AppError::SignInFailed(format!("Keystone refused the request: {e}")),
            (Some(403), _) => AppError::SignInFailed("Keystone does not allow this user to work in that project.".into()),
            _ => AppError::from(e),
        }
    }

    fn signed_in(
        cloud: &Cloud,
        a: Authenticated,
        can_switch_project: bool,
        projects: Vec<ProjectChoice>,
        keep_region: Option<&str>,
    ) -> Result<SignedIn, AppError> {
        let project = a.project.clone().ok_or_else(|| {
            AppError::SignInFailed(
                "the token is not scoped to a project; glance-share needs a project-scoped token.".into(),
            )
        })?;
        let image_endpoints = a.image_endpoints(&cloud.interface);
        let region = [keep_region, cloud.region_name.as_deref()]
            .into_iter()
            .flatten()
            .find(|r| image_endpoints.iter().any(|e| &e.region == r))
            .map(str::to_string)
            .or_else(|| image_endpoints.first().map(|e| e.region.clone()))
            .ok_or_else(|| {
                AppError::SignInFailed(format!(
                    "the catalog of project {} has no {} image (Glance) endpoint.",
                    project.name, cloud.interface
                ))
            })?;
        Ok(SignedIn {
            cloud: cloud.name.clone(),
            token: a.token,
            expires_at: a.expires_at,
            can_switch_project,
            user_id: a.user.id,
            user_name: a.user.name,
            user_domain_id: a.user.domain.id,
            user_domain: a.user.domain.name,
            project_id: project.id,
            project_name: project.name,
            roles: a.roles,
            image_endpoints,
            region,
            projects,
        })
    }

    pub async fn sign_out() -> Result<(), AppError> {
        let state = server::state()?;
        let session = server::session().await?;
        // Even an expired session is deleted; only live tokens need revoking: the session's,
        // and those re-scoped from it for the inbox and kept.
        if let Some(signed_in) = session::held(&session).await {
            let rescoped = session::take_project_tokens(&session).await.into_iter().map(|t| t.token);
            let main = (!signed_in.is_expired()).then(|| signed_in.token.clone());
            revoke_all(&state, &signed_in.cloud, rescoped.chain(main).collect(), "at sign-out").await;
        }
        session::end(&session).await;
        server::forget_signed_in();
        Ok(())
    }

    /// Revokes `tokens` at `cloud`'s Keystone, in order. Tokens re-scoped from the session's
    /// go first: revoking the first token of a sign-in also ends those re-scoped from it (see
    /// `switch_project`), and a token that no longer works is not worth a warning (401, 404).
    /// Another failure is logged and nothing more: the session goes anyway, and a token left
    /// behind expires by itself.
    async fn revoke_all(state: &AppState, cloud: &str, tokens: Vec<Token>, when: &str) {
        let Some(cloud) = state.config.cloud(cloud) else { return };
        let keystone = Keystone::new(&state.http, &cloud.auth_url);
        for token in &tokens {
            match keystone.revoke(token).await {
                Err(e) if !matches!(e.status(), Some(401 | 404)) => {
                    tracing::warn!("could not revoke a token {when}: {e}")
                }
                _ => {}
            }
        }
    }

    pub async fn switch_project(project_id: String) -> Result<(), AppError> {
        let state = server::state()?;
        let (session, current) = server::signed_in().await?;
        if !current.can_switch_project {
            return Err(AppError::InvalidInput(
                "An application credential works in its own project only; sign in another way to switch.".into(),
            ));
        }
        if !current.projects.iter().any(|p| p.id == project_id) {
            return Err(AppError::InvalidInput("You have no role on that project.".into()));
        }
        let cloud = state.config.cloud(&current.cloud).ok_or(AppError::NotSignedIn)?.clone();
        let keystone = Keystone::new(&state.http, &cloud.auth_url);
        let rescoped = keystone
            .authenticate(&Credentials::Token(current.token.clone()), Some(&Scope::ProjectId(project_id)))
            .await?;
        let next = signed_in(&cloud, rescoped, true, current.projects.clone(), Some(&current.region))?;
        // The previous token is not revoked here. Keystone (checked against the lab's, 30.0.0)
        // revokes by audit chain: revoking the first token of a sign-in also ends every token
        // re-scoped from it, this new one and the inbox's included; revoking a re-scoped token
        // ends that one only (its re-scoped siblings and the first token live on). And a batch
        // started before the switch still works with the previous token. Sign-out revokes the
        // token in use and the inbox's; after a switch, the first token is no longer held and
        // lives until it expires.
        session::update(&session, &next).await
    }

    pub async fn switch_region(region: String) -> Result<(), AppError> {
        let (session, mut current) = server::signed_in().await?;
        if !current.image_endpoints.iter().any(|e| e.region == region) {
            return Err(AppError::InvalidInput(format!("Region {region:?} has no image endpoint in this cloud.")));
        }
        current.region = region;
        session::update(&session, &current).await
    }
}
