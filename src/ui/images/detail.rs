//! `/images/{id}` and `/images/{id}/members/{member}`: one image, who it is shared with, and
//! what the current project can do about it.

use leptos::{form::ActionForm, prelude::*};
use leptos_router::hooks::{use_params_map, use_query_map};

use super::{
    history::History,
    members::{MemberTable, member_counts},
    offer::{ConfirmReject, OfferButtons},
    share::{ShareForm, ShareReportView},
    terraform::{TerraformExport, TerraformPanel},
};
use crate::model::{ImageWords, VisibilityWords};
use crate::ui::project::ProjectLabel;
use crate::{
    api::{
        images::{SetVisibility, get_image},
        members::{RevokeMember, SetMemberStatus, ShareImage, get_share_report},
    },
    error::AppError,
    model::{ImageDetails, Visibility},
    ui::{
        auth::RequireSignIn,
        bits::{FlagBadge, StatusBadge, VisibilityBadge, When, error_view},
        copy::CopyId,
        layout::ActionError,
    },
};

/// The page's data and actions are made here, outside the sign-in check's `<Suspense>`, so
/// that each is made and fetched once per page (see `Auth`).
#[component]
pub fn ImagePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let image_id = move || params.read().get("image_id").unwrap_or_default();
    let actions = Actions {
        share: ServerAction::new(),
        revoke: ServerAction::new(),
        status: ServerAction::new(),
        visibility: ServerAction::new(),
    };
    // The server functions' futures are tens of kB (every upstream call they await is in them):
    // boxed here, Leptos moves a pointer instead of copying them at each of its layers.
    let details = Resource::new(
        move || (image_id(), query.read().get("history_before")),
        |(id, history_before)| Box::pin(get_image(id, history_before)),
    );
    let report = Resource::new(
        move || query.read().get("report"),
        |id| async move {
            match id {
                Some(id) => Box::pin(get_share_report(id)).await,
                None => Ok(None),
            }
        },
    );
    let terraform = TerraformExport::new(image_id);
    view! { <RequireSignIn signed_in=move |_| view! { <ImageView details report actions terraform/> }/> }
}

type Details = Resource<Result<ImageDetails, AppError>>;
type Report = Resource<Result<Option<crate::model::ShareReport>, AppError>>;

#[derive(Clone, Copy)]
struct Actions {
    share: ServerAction<ShareImage>,
    revoke: ServerAction<RevokeMember>,
    status: ServerAction<SetMemberStatus>,
    visibility: ServerAction<SetVisibility>,
}

#[component]
fn ImageView(details: Details, report: Report, actions: Actions, terraform: TerraformExport) -> impl IntoView {
    let params = use_params_map();
    let focus = move || params.read().get("member_id");
    view! {
        <section class="page image-page">
            <p class="crumbs"><a href="/images">"← Images"</a></p>
            <Transition fallback=|| view! { <p class="muted">"Loading the image…"</p> }>
                {move || Suspend::new(async move {
                    let report = report.await.ok().flatten();
                    // `<Transition>` runs this more than once while it finds what the page waits
                    // for: the image is only waited for here, not copied, and the page is made
                    // from it once, when it is written (`Unsuspend`).
                    let loaded = match &*details.by_ref().await {
                        Ok(_) => Ok(()),
                        Err(e) => Err(e.clone()),
                    };
                    match loaded {
                        // Taken out of the resource, not copied (128 members: ~700 allocations):
                        // in islands mode the page is rendered once, on the server, and nothing
                        // reads the resource after this.
                        Ok(()) => Unsuspend::new(move || match details.try_update_untracked(Option::take).flatten() {
                            Some(Ok(details)) => view! { <ImageBody details report focus=focus() actions terraform/> }.into_any(),
                            _ => ().into_any(),
                        })
                        .into_any(),
                        Err(e) => {
                            set_missing_image_status(&e);
                            match e {
                                AppError::NotFound { message, .. } => view! {
                                    <h1>"Image not found"</h1>
                                    <p class="error" role="alert">{format!("{message}. It may have been deleted, or it is not shared with this project.")}</p>
                                }.into_any(),
                                e => error_view(e),
                            }
                        }
                    }
                })}
            </Transition>
        </section>
    }
}

/// The page's HTTP status when there is no image to show: 404 for one Glance does not know
/// (or hides from this project), 400 for an ID that cannot be one. Other failures keep 200:
/// the page is there and says what went wrong.
fn set_missing_image_status(e: &AppError) {
    #[cfg(feature = "ssr")]
    if matches!(e, AppError::NotFound { .. } | AppError::InvalidInput(_))
        && let Some(options) = use_context::<leptos_axum::ResponseOptions>()
    {
        options.set_status(e.http_status());
    }
    #[cfg(not(feature = "ssr"))]
    let _ = e;
}

#[component]
fn ImageBody(
    details: ImageDetails,
    report: Option<crate::model::ShareReport>,
    focus: Option<String>,
    actions: Actions,
    terraform: TerraformExport,
) -> impl IntoView {
    let query = use_query_map();
    let confirm = query.read_untracked().get("confirm");
    let image = details.image.clone();
    let name = image.display_name();
    let id = image.id.clone();
    let confirm_revoke = (confirm.as_deref() == Some("revoke")).then(|| focus.clone()).flatten();
    let owner = image.owner.clone().unwrap_or_else(|| "unknown".into());

    let counts = details.members.as_ref().ok().filter(|rows| !rows.is_empty()).map(|rows| member_counts(rows));
    let image_flags = details.flags.clone();
    let members_view = match details.members {
        Ok(rows) => view! {
            <MemberTable
                image_id=id.clone()
                image_name=name.clone()
                rows
                owned=details.owned
                is_admin=details.is_admin
                focus=focus.clone()
                confirm_revoke
            />
        }
        .into_any(),
        Err(_) if image.visibility == Visibility::Private => view! {
            <p class="notice">"Members are hidden while the image is private; Glance keeps them and shows them again when it is shared."</p>
        }
        .into_any(),
        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
    };

    view! {
        <h1>{name.clone()}</h1>
        <dl class="facts">
            <dt>"ID"</dt><dd><CopyId id=id.clone() label="Copy image ID"/></dd>
            <dt>"Visibility"</dt><dd><VisibilityBadge visibility=image.visibility/>" "<span class="muted">{image.visibility.member_note()}</span></dd>
            <dt>"Owner"</dt><dd><ProjectLabel id=owner.clone() known=details.projects.get(&owner).cloned() label="Copy owner project ID"/>{details.owned.then_some(" (your project)")}</dd>
            <dt>"Created"</dt><dd><When time=image.created_at.clone()/></dd>
        </dl>
        {report.map(|report| view! { <ShareReportView image_id=id.clone() report action=actions.share/> })}
        <ActionError action=actions.revoke/>
        <ActionError action=actions.status/>
        <ActionError action=actions.visibility/>
        {details.my_membership.clone().map(|m| {
            let confirming = confirm.as_deref() == Some("reject");
            view! {
                <section class="offer" aria-labelledby="offer-title">
                    <h2 id="offer-title">"Offered to your project"</h2>
                    <p>"Your answer: " <StatusBadge status=m.status/> " " <span class="muted">"(updated " <When time=m.updated_at.clone()/> ")"</span></p>
                    {if confirming {
                        view! { <ConfirmReject image_id=id.clone() image_name=name.clone() action=actions.status/> }.into_any()
                    } else {
                        view! { <div class="inline-actions"><OfferButtons image_id=id.clone() image_name=name.clone() current=m.status action=actions.status/></div> }.into_any()
                    }}
                </section>
            }
        })}
        {details.owned.then(|| view! {
            <section aria-labelledby="share-title">
                <h2 id="share-title">"Share"</h2>
                {match image.visibility {
                    Visibility::Shared | Visibility::Private => view! { <ShareForm image_id=id.clone() visibility=image.visibility directory=details.directory action=actions.share/> }.into_any(),
                    _ => view! { <p class="muted">"Public and community images are available to every project; they have no members."</p> }.into_any(),
                }}
                <VisibilityToggle image_id=id.clone() visibility=image.visibility action=actions.visibility/>
            </section>
        })}
        {((details.owned || details.is_admin) && image.visibility == Visibility::Shared).then(|| view! {
            <p class="new-version-link">
                <a href=format!("/images/{id}/new-version")>"New version\u{2026}"</a>
                " "<span class="muted">"Offer a newer image to every project this one is shared with."</span>
            </p>
        })}
        <section aria-labelledby="members-title">
            <h2 id="members-title">"Members"{counts.map(|c| format!(" \u{2014} {c}"))}</h2>
            {(!image_flags.is_empty()).then(|| view! {
                <p class="image-flags">
                    {image_flags.into_iter().map(|f| view! { <FlagBadge flag=f/>" "<span class="muted">{f.explain()}</span>" " }).collect_view()}
                </p>
            })}
            {members_view}
        </section>
        <History
            image_id=id.clone()
            entries=details.history.clone()
            older=details.older_history
            paged=details.history_paged
            projects=details.projects.clone()
        />
        {(details.owned || details.my_membership.is_some()).then(|| view! { <TerraformPanel image_id=id.clone() export=terraform/> })}
    }
}

/// Shared <-> private. Going private hides the members (Glance keeps them).
#[component]
fn VisibilityToggle(image_id: String, visibility: Visibility, action: ServerAction<SetVisibility>) -> impl IntoView {
    let (target, label, note) = match visibility {
        Visibility::Private => ("shared", "Make it shared", "Needed before it can have members."),
        Visibility::Shared => ("private", "Make it private", "Members lose access until it is shared again."),
        _ => return ().into_any(),
    };
    view! {
        <ActionForm action=action attr:class="inline-form visibility">
            <input type="hidden" name="image_id" value=image_id/>
            <input type="hidden" name="visibility" value=target/>
            <button type="submit" class="secondary">{label}</button>
            <span class="muted">{note}</span>
        </ActionForm>
    }
    .into_any()
}
