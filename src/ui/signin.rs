//! The sign-in page: three ways to prove who you are, to one of the configured clouds.

use leptos::{form::ActionForm, prelude::*};
use leptos_router::hooks::use_query_map;

use super::{auth::use_auth, layout::ActionError};
use crate::{
    api::auth::list_clouds,
    model::{CloudChoice, SignInMethod, urlencode},
};

#[component]
pub fn SignInPage() -> impl IntoView {
    let auth = use_auth();
    let query = use_query_map();
    let method =
        move || query.read().get("method").and_then(|m| SignInMethod::from_key(&m)).unwrap_or(SignInMethod::Password);
    let next = move || query.read().get("next").unwrap_or_default();
    let notice = move || match query.read().get("reason").as_deref() {
        Some("expired") => Some(
            "Your session has ended: the cloud no longer accepts its token. Sign in again to go on where you were.",
        ),
        _ if query.read().get("signed_out").is_some() => Some("You are signed out. Your token was revoked."),
        _ => None,
    };
    let clouds = Resource::new(|| (), |_| list_clouds());
    let pending = auth.sign_in.pending();

    view! {
        <section class="page signin">
            <h1>"Sign in"</h1>
            {move || notice().map(|n| view! { <p class="notice" role="status">{n}</p> })}
            <nav class="tabs" aria-label="How to sign in">
                {SignInMethod::ALL.into_iter().map(|m| {
                    let href = move || format!("/signin?method={}&next={}", m.key(), urlencode(&next()));
                    let current = move || (method() == m).then_some("page");
                    view! { <a href=href aria-current=current>{m.label()}</a> }
                }).collect_view()}
            </nav>
            <ActionForm action=auth.sign_in attr:class="form">
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match clouds.await {
                            Ok(clouds) if clouds.len() == 1 => {
                                let c = clouds[0].clone();
                                view! {
                                    <input type="hidden" name="cloud" value=c.name.clone()/>
                                    <p class="muted">"Cloud " <strong>{c.name.clone()}</strong> " (" {c.auth_url.clone()} ")"</p>
                                }.into_any()
                            }
                            Ok(clouds) => view! {
                                <label>"Cloud"
                                    <select name="cloud" required>
                                        {clouds.into_iter().map(|c| view! {
                                            <option value=c.name.clone()>{format!("{} ({})", c.name, c.auth_url)}</option>
                                        }).collect_view()}
                                    </select>
                                </label>
                            }.into_any(),
                            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                        }
                    })}
                </Suspense>
                <input type="hidden" name="method" value=move || method().key()/>
                {move || match method() {
                    SignInMethod::Password => view! {
                        <label>"User name" <input name="user_name" autocomplete="username" required/></label>
                        <label>"Password" <input name="password" type="password" autocomplete="current-password" required/></label>
                        <label>"User domain " <span class="muted">"(empty: the cloud's default)"</span>
                            <input name="user_domain" autocomplete="off"/></label>
                        <label>"Project " <span class="muted">"(name; empty: your default project)"</span>
                            <Suspense fallback=|| view! { <input name="project" autocomplete="off"/> }>
                                {move || Suspend::new(async move {
                                    let suggested = clouds.await.ok().and_then(|c| suggested_project(&c));
                                    view! { <input name="project" autocomplete="off" value=suggested/> }
                                })}
                            </Suspense>
                        </label>
                        <label>"Or project ID " <span class="muted">"(used instead of the name when filled)"</span>
                            <input name="project_id" autocomplete="off" spellcheck="false"/></label>
                    }.into_any(),
                    SignInMethod::ApplicationCredential => view! {
                        <label>"Application credential ID" <input name="credential_id" autocomplete="username" required/></label>
                        <label>"Secret" <input name="credential_secret" type="password" autocomplete="current-password" required/></label>
                        <p class="muted">"An application credential works in the project it was made in."</p>
                    }.into_any(),
                    SignInMethod::Token => view! {
                        <label>"Token " <span class="muted">"(the id of " <code>"openstack token issue"</code> ")"</span>
                            <input name="token" type="password" autocomplete="off" required/></label>
                        <label>"Project " <span class="muted">"(name; empty: the token's own project)"</span>
                            <input name="project" autocomplete="off"/></label>
                    }.into_any(),
                }}
                <input type="hidden" name="next" value=next/>
                <button type="submit" data-busy="Signing in…" disabled=move || pending.get()>
                    {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                </button>
                <ActionError action=auth.sign_in/>
            </ActionForm>
        </section>
    }
}

/// The project the form starts with: the configured cloud's (`OS_PROJECT_NAME`, or the
/// `project_name` of its clouds.yaml entry), when only one cloud is offered. The user may clear
/// it to sign in to their own default project.
fn suggested_project(clouds: &[CloudChoice]) -> Option<String> {
    match clouds {
        [only] => only.project_name.clone(),
        _ => None,
    }
}
