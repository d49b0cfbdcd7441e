//! Who is signed in, shared by every page, and the actions that change it.

use leptos::prelude::*;
use leptos_router::{components::Redirect, hooks::use_location};

use crate::{
    api::{
        auth::{SignIn, SwitchProject, SwitchRegion, whoami},
        inbox::pending_count,
    },
    error::AppError,
    model::{Me, urlencode},
};

/// Everything here is made once per page, outside any `<Suspense>`: Leptos renders a
/// suspense's children more than once on the server (to find what it waits for, then to
/// render), so a resource made inside one is made, and fetched, again each time.
#[derive(Clone, Copy)]
pub struct Auth {
    pub me: Resource<Result<Option<Me>, AppError>>,
    /// Offers to the current project that wait for an answer (the header's badge).
    pub pending: Resource<Result<Option<usize>, AppError>>,
    pub sign_in: ServerAction<SignIn>,
    pub switch_project: ServerAction<SwitchProject>,
    pub switch_region: ServerAction<SwitchRegion>,
}

impl Auth {
    /// Must run inside `<Routes>`, where forms posted without JavaScript find their errors.
    pub fn provide() {
        let sign_in = ServerAction::<SignIn>::new();
        let switch_project = ServerAction::<SwitchProject>::new();
        let switch_region = ServerAction::<SwitchRegion>::new();
        // Pages render on the server only (islands): each is read once per page, and a sign-in,
        // a switch or an answer always ends on a newly rendered page.
        // Boxed: Leptos then moves a pointer, not the server functions' futures (kB each).
        let me = Resource::new(|| (), |_| Box::pin(whoami()));
        let pending = Resource::new(|| (), |_| Box::pin(pending_count()));
        provide_context(Auth { me, pending, sign_in, switch_project, switch_region });
    }
}

pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}

/// The path and query of the page being shown: where to come back to.
pub fn current_path() -> String {
    let location = use_location();
    path_and_query(location.pathname.get_untracked(), location.search.get_untracked())
}

fn path_and_query(path: String, search: String) -> String {
    // The error of a form posted without JavaScript travels in the query; it is not a place.
    let kept: Vec<&str> =
        search.split('&').filter(|p| !p.is_empty() && !p.starts_with("__err=") && !p.starts_with("__path=")).collect();
    if kept.is_empty() { path } else { format!("{path}?{}", kept.join("&")) }
}

/// The sign-in page's address that comes back to the current page afterwards.
pub fn sign_in_path(reason: Option<&str>) -> String {
    let mut url = format!("/signin?next={}", urlencode(&current_path()));
    if let Some(reason) = reason {
        url.push_str("&reason=");
        url.push_str(reason);
    }
    url
}

/// Renders `signed_in` for a signed-in user, else sends them to sign in and back.
#[component]
pub fn RequireSignIn<F, V>(signed_in: F) -> impl IntoView
where
    F: Fn(Me) -> V + Send + Sync + Clone + 'static,
    V: IntoView + 'static,
{
    let auth = use_auth();
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let signed_in = signed_in.clone();
                Suspend::new(async move {
                    match auth.me.await {
                        Ok(Some(me)) => signed_in(me).into_any(),
                        Ok(None) => view! { <Redirect path=sign_in_path(None)/> }.into_any(),
                        Err(e) if e.needs_sign_in() => view! { <Redirect path=sign_in_path(Some("expired"))/> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}
