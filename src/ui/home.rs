//! The start page: where a signed-in user begins.

use leptos::prelude::*;

use super::{auth::RequireSignIn, copy::CopyId};

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <RequireSignIn signed_in=|me| view! {
            <section class="page">
                <h1>"Image sharing"</h1>
                <p>
                    "You work in project " <strong>{me.project_name.clone()}</strong>
                    " in region " <strong>{me.region.clone()}</strong> "."
                </p>
                <p>
                    "Image owners share with a project by its ID. Yours is "
                    <CopyId id=me.project_id.clone() label="Copy your project ID"/>
                </p>
                <ul class="start-links">
                    <li><a href="/images?tab=mine">"My images"</a>" — share them with other projects, see who has access, revoke it."</li>
                    <li><a href="/images?tab=shared">"Shared with me"</a>" — accept or reject images offered to this project."</li>
                </ul>
            </section>
        }/>
    }
}
