//! The header on every page: who is signed in, in which project and region, and the way out.

use leptos::{form::ActionForm, prelude::*, server_fn::ServerFn};
use leptos_router::components::Outlet;

use super::{
    auth::{Auth, current_path, use_auth},
    copy::CopyId,
};
use crate::{error::AppError, model::Me};

/// Every page: the header above, the page below. The session's actions live here, inside the
/// routes, where Leptos hands forms posted without JavaScript their errors.
#[component]
pub fn Layout() -> impl IntoView {
    Auth::provide();
    view! {
        <Header/>
        <main>
            <Outlet/>
        </main>
    }
}

#[component]
fn Header() -> impl IntoView {
    let auth = use_auth();
    view! {
        <header class="topbar">
            <a class="brand" href="/">"glance-share"</a>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match auth.me.await {
                        Ok(Some(me)) => {
                            // The server renders a `Suspend` whose data has not arrived as
                            // nothing, so the badge's count must be there before the bar is
                            // drawn (pages render on the server only: islands).
                            let _ = auth.pending.await;
                            view! { <SignedInBar me/> }.into_any()
                        }
                        _ => ().into_any(),
                    }
                })}
            </Transition>
        </header>
    }
}

#[component]
fn SignedInBar(me: Me) -> impl IntoView {
    let auth = use_auth();
    let next = current_path();
    let project_label = format!("Project {} (click to change)", me.project_name);
    let admin = me
        .is_admin()
        .then(|| view! { <span class="badge admin" title="Your role in this project includes admin">"admin"</span> });
    let projects = me.projects.clone();
    let can_switch = projects.len() > 1;
    let regions = me.regions.clone();
    view! {
        <nav class="main-nav" aria-label="Pages">
            <a href="/images?tab=mine">"My images"</a>
            <a href="/images?tab=shared">"Shared with me"</a>
            <a href="/inbox">"Inbox" <PendingBadge/></a>
            <a href="/access">"Access review"</a>
        </nav>
        <nav class="signed-in" aria-label="Your session">
            <span class="who" title=format!("Signed in to cloud {}", me.cloud)>
                <span class="user">{me.user_name.clone()}</span>
                <span class="muted">" @ " {me.user_domain.clone()}</span>
                {admin}
            </span>
            <span class="project">
                {if can_switch {
                    let current = me.project_id.clone();
                    let next = next.clone();
                    view! {
                        <ActionForm action=auth.switch_project attr:class="inline-form">
                            <label class="sr-only" for="project-switch">"Project"</label>
                            <select id="project-switch" name="project_id" title=project_label>
                                {projects.into_iter().map(|p| {
                                    let selected = p.id == current;
                                    view! { <option value=p.id.clone() selected=selected>{p.name.clone()}</option> }
                                }).collect_view()}
                            </select>
                            <input type="hidden" name="next" value=next/>
                            <button type="submit" class="secondary">"Switch"</button>
                        </ActionForm>
                    }.into_any()
                } else {
                    view! { <span class="project-name">{me.project_name.clone()}</span> }.into_any()
                }}
                <CopyId id=me.project_id.clone() label="Copy project ID"/>
            </span>
            <span class="region">
                {if regions.len() > 1 {
                    let current = me.region.clone();
                    view! {
                        <ActionForm action=auth.switch_region attr:class="inline-form">
                            <label class="sr-only" for="region-switch">"Region"</label>
                            <select id="region-switch" name="region">
                                {regions.into_iter().map(|r| {
                                    let selected = r == current;
                                    view! { <option value=r.clone() selected=selected>{r.clone()}</option> }
                                }).collect_view()}
                            </select>
                            <input type="hidden" name="next" value=next/>
                            <button type="submit" class="secondary">"Use region"</button>
                        </ActionForm>
                    }.into_any()
                } else {
                    view! { <span class="region-name" title="Region">{me.region.clone()}</span> }.into_any()
                }}
            </span>
            // A plain form: signing out reloads the page, which leaves nothing of the session
            // in the browser's memory (and no component is disposed under a running request).
            <form method="post" action="/api/sign_out" class="inline-form">
                <button type="submit" class="secondary">"Sign out"</button>
            </form>
        </nav>
        <ActionError action=auth.switch_project/>
        <ActionError action=auth.switch_region/>
    }
}

/// How many offers to the current project wait for an answer.
///
/// Rendered on the server with every page: after an answer given with JavaScript, the page
/// the answer leads to is fetched and swapped in whole (navigation.js), header included, so
/// the count is always the server's.
#[component]
fn PendingBadge() -> impl IntoView {
    let count = use_auth().pending;
    move || {
        Suspend::new(async move {
            match count.await {
                Ok(Some(n)) if n > 0 => {
                    let label = format!("{n} pending offer{}", if n == 1 { "" } else { "s" });
                    view! { <span class="badge pending count" title=label.clone() aria-label=label>{n}</span> }
                        .into_any()
                }
                _ => ().into_any(),
            }
        })
    }
}

/// Shows the error of the last run of an action, if it failed.
#[component]
pub fn ActionError<S>(action: ServerAction<S>) -> impl IntoView
where
    S: ServerFn<Error = AppError> + Send + Sync + Clone + 'static,
    S::Output: Send + Sync + 'static,
{
    move || {
        action.value().with(|v| match v {
            Some(Err(e)) => Some(view! { <p class="error" role="alert">{e.to_string()}</p> }),
            _ => None,
        })
    }
}
