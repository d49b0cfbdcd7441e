//! `/access`: the access review. Everything the current project shares (an admin: any project,
//! `?owner=ID`), by image or by project (`?view=project`), with flags explained where they show.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::{
    api::review::get_access_review,
    model::{AccessReview, Flag, ImageWords, Member, ReviewImage, ReviewPage, ReviewProgress, Selection, urlencode},
    ui::{
        auth::RequireSignIn,
        bits::{FlagBadge, StatusBadge, VisibilityBadge, When, error_view},
        copy::CopyButtons,
        project::{ProjectLabel, project_words},
    },
};

#[component]
pub fn AccessPage() -> impl IntoView {
    let query = use_query_map();
    let asked = move || {
        let query = query.read();
        (query.get("owner").filter(|o| !o.is_empty()), query.get("run"))
    };
    let review = Resource::new(asked, |(owner, run)| get_access_review(owner, run));
    view! {
        <RequireSignIn signed_in=move |_| view! {
            <section class="page access">
                <Transition fallback=|| view! { <p class="muted">"Reading every shared image and its members…"</p> }>
                    {move || Suspend::new(async move {
                        match review.await {
                            Ok(ReviewPage::Ready(review)) => view! { <Review review/> }.into_any(),
                            Ok(ReviewPage::Reading(progress)) => {
                                let again = watching(&query.read_untracked(), progress.run);
                                view! { <h1>"Access review"</h1><Reading progress again/> }.into_any()
                            }
                            Err(e) => view! { <h1>"Access review"</h1>{error_view(e)} }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        }/>
    }
}

/// The address a "Reading…" page asks again at: the same review and view, naming the run it
/// watches, so that it (and only it) is shown the review when it is done.
fn watching(query: &leptos_router::params::ParamsMap, run: u64) -> String {
    let mut href = String::from("/access?");
    for name in ["owner", "view"] {
        if let Some(value) = query.get(name).filter(|v| !v.is_empty()) {
            href.push_str(&format!("{name}={}&", urlencode(&value)));
        }
    }
    href.push_str(&format!("run={run}"));
    href
}

/// A review still being read: how far it got. The page asks again by itself at `again` until
/// the review is done (navigation.js with JavaScript, a `<meta refresh>` without).
#[component]
fn Reading(progress: ReviewProgress, again: String) -> impl IntoView {
    let (text, bar) = match progress.images {
        None => ("Listing the project's shared images\u{2026}".to_string(), None),
        Some(images) => (
            format!("Reading the members of every shared image: {} of {images} read\u{2026}", progress.read),
            Some((progress.read.to_string(), images.max(1).to_string())),
        ),
    };
    view! {
        // `again` is made of our words and URL-encoded values: only its `&`s need escaping here.
        <noscript inner_html=format!(r#"<meta http-equiv="refresh" content="1; url={}">"#, again.replace('&', "&amp;"))></noscript>
        <p role="status" aria-live="polite">{text}</p>
        {match bar {
            Some((value, max)) => view! { <progress data-refresh-ms="700" data-refresh-href=again value=value max=max aria-label="Shared images read"></progress> }.into_any(),
            None => view! { <progress data-refresh-ms="700" data-refresh-href=again aria-label="Shared images read"></progress> }.into_any(),
        }}
    }
}

#[component]
fn Review(review: AccessReview) -> impl IntoView {
    let query = use_query_map();
    let by_project = query.read_untracked().get("view").as_deref() == Some("project");
    let owner_words = project_words(&review.owner, review.projects.get(&review.owner));
    let owner_param = if review.as_admin { format!("owner={}&", urlencode(&review.owner)) } else { String::new() };
    let pairs = review.pairs().count();
    let flagged: Vec<Flag> = {
        let mut all: Vec<Flag> = review
            .images
            .iter()
            .flat_map(|i| {
                review.image_flags(i).into_iter().chain(i.members.iter().flatten().flat_map(|m| review.member_flags(m)))
            })
            .collect();
        all.sort_by_key(|f| f.key());
        all.dedup();
        all
    };
    let unread = review.images.iter().filter(|i| i.members.is_err()).count();
    let body = if by_project {
        view! { <ByProject review=review.clone()/> }.into_any()
    } else {
        view! { <ByImage review=review.clone()/> }.into_any()
    };
    view! {
        <h1>"Access review"</h1>
        <p>
            {format!("Project {owner_words} shares {} image{} with {pairs} membership{}.",
                review.images.len(), if review.images.len() == 1 { "" } else { "s" }, if pairs == 1 { "" } else { "s" })}
            {review.as_admin.then(|| view! { " " <span class="badge admin">"reviewed as an admin"</span> })}
        </p>
        {(unread > 0).then(|| view! {
            <p class="error" role="alert">{format!("The members of {unread} image(s) could not be read; they are marked below.")}</p>
        })}
        <nav class="tabs" aria-label="Views of the review">
            <a href=format!("/access?{owner_param}view=image") aria-current=(!by_project).then_some("page")>"By image"</a>
            <a href=format!("/access?{owner_param}view=project") aria-current=by_project.then_some("page")>"By project"</a>
        </nav>
        <p class="exports">
            "Export the whole review: "
            <a href=format!("/access/export.csv?{owner_param}") download>"CSV"</a>", "
            <a href=format!("/access/export.json?{owner_param}") download>"JSON"</a>", Terraform / OpenTofu with import blocks for "
            {crate::model::Provider::ALL.into_iter().enumerate().map(|(i, p)| view! {
                {(i > 0).then_some(", ")}
                <a href=format!("/access/export.tf?{owner_param}provider={}", p.key()) download>{p.label()}</a>
            }).collect_view()}
        </p>
        <CleanUp review=review.clone()/>
        {(!flagged.is_empty()).then(|| view! {
            <details class="flag-legend" open>
                <summary>"What the flags mean"</summary>
                <dl>
                    {flagged.into_iter().map(|f| view! { <dt><FlagBadge flag=f/></dt><dd>{f.explain()}</dd> }).collect_view()}
                </dl>
            </details>
        })}
        // Rows ticked anywhere below go to the batch plan through this form (`form=` on each
        // checkbox: the rows hold no forms of their own, and the form may not wrap the tables).
        <form id=TICKED method="get" action="/batch" class="inline-form ticked">
            <input type="hidden" name="operation" value="revoke"/>
            {review.as_admin.then(|| view! { <input type="hidden" name="owner" value=review.owner.clone()/> })}
            <button type="submit" class="secondary">"Revoke the ticked memberships\u{2026}"</button>
            " "<span class="muted">"Tick rows below, then see the plan: nothing changes until you run it."</span>
        </form>
        // One island listens for every copy button of the review (not one island per row).
        <CopyButtons>{body}</CopyButtons>
    }
}

/// The form the review's tick boxes belong to.
const TICKED: &str = "review-ticked";

/// Where a one-click choice of this review opens its batch plan.
fn choice_href(review: &AccessReview, selection: &Selection) -> String {
    let owner = if review.as_admin { format!("&owner={}", urlencode(&review.owner)) } else { String::new() };
    format!("/batch?operation=revoke&select={}{owner}", urlencode(&selection.key()))
}

/// One-click choices of what to revoke, each with how many memberships it takes now.
#[component]
fn CleanUp(review: AccessReview) -> impl IntoView {
    let choices: Vec<(Selection, String, usize)> = [
        (Selection::Rejected, "Revoke every rejected membership".to_string()),
        (Selection::PendingLong, format!("Revoke every offer pending for more than {} days", review.pending_days)),
        (Selection::Unknown, "Revoke every unknown project and non-ID".to_string()),
        (Selection::Superseded, "Revoke every member of a superseded image".to_string()),
    ]
    .into_iter()
    .map(|(s, label)| {
        let n = review.selected(&s).len();
        (s, label, n)
    })
    .filter(|(_, _, n)| *n > 0)
    .collect();
    view! {
        <section class="cleanup" aria-labelledby="cleanup-title">
            <h2 id="cleanup-title">"Clean up"</h2>
            {if choices.is_empty() {
                view! { <p class="muted">"Nothing to clean up: no rejected, long-pending, unknown or superseded memberships. To offboard a project, use its \u{201c}Revoke everything\u{201d} in the by-project view."</p> }.into_any()
            } else {
                view! {
                    <p class="muted">"Each choice opens the batch plan with the memberships it takes: nothing changes until you run it. To offboard a project, use its \u{201c}Revoke everything\u{201d} in the by-project view."</p>
                    <ul class="choices">
                        {choices.into_iter().map(|(s, label, n)| view! {
                            <li><a class="button secondary" href=choice_href(&review, &s)>{format!("{label} ({n})\u{2026}")}</a></li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn ByImage(review: AccessReview) -> impl IntoView {
    if review.images.is_empty() {
        return view! { <p class="empty">"This project shares no image in this region."</p> }.into_any();
    }
    review
        .images
        .iter()
        .map(|image| {
            let image_flags = review.image_flags(image);
            let name = image.image.display_name();
            let href = format!("/images/{}", image.image.id);
            let members = match &image.members {
                Err(e) => view! { <p class="error">{format!("Its members could not be read: {e}")}</p> }.into_any(),
                Ok(members) => {
                    let [pending, accepted, rejected] = AccessReview::counts(members);
                    let rows = members.iter().map(|m| member_row(&review, image, m, false)).collect_view();
                    view! {
                        <p class="muted">{format!("{} member(s): {pending} pending, {accepted} accepted, {rejected} rejected.", members.len())}</p>
                        <div class="table-wrap">
                            <table class="review">
                                <caption class="sr-only">{format!("Projects image {name} is shared with")}</caption>
                                <thead><tr><th scope="col"><span class="sr-only">"Tick"</span></th><th scope="col">"Project"</th><th scope="col">"Status"</th><th scope="col">"Shared since"</th><th scope="col">"Last answer"</th><th scope="col">"Flags"</th></tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                        </div>
                    }
                    .into_any()
                }
            };
            view! {
                <section class="review-image" aria-label=format!("Image {name}")>
                    <h2><a href=href>{name.clone()}</a>" "<VisibilityBadge visibility=image.image.visibility/>
                        {image_flags.into_iter().map(|f| view! { " " <FlagBadge flag=f/> }).collect_view()}
                    </h2>
                    {members}
                </section>
            }
        })
        .collect_view()
        .into_any()
}

#[component]
fn ByProject(review: AccessReview) -> impl IntoView {
    let projects = review.by_project();
    if projects.is_empty() {
        return view! { <p class="empty">"No project has access to this project's images."</p> }.into_any();
    }
    projects
        .into_iter()
        .map(|(project, shared)| {
            let known = review.projects.get(project).cloned();
            let label = format!("Project {}", project_words(project, known.as_ref()));
            let rows = shared.iter().map(|(image, member)| member_row(&review, image, member, true)).collect_view();
            let everything = choice_href(&review, &Selection::Project(project.to_string()));
            view! {
                <section class="review-project" aria-label=label>
                    <h2><ProjectLabel id=project.to_string() known bare=true/></h2>
                    <p class="muted">{format!("{} image(s) shared with it.", shared.len())}</p>
                    <p><a class="button secondary" href=everything>{format!("Revoke everything shared with this project ({})\u{2026}", shared.len())}</a></p>
                    <div class="table-wrap">
                        <table class="review">
                            <thead><tr><th scope="col"><span class="sr-only">"Tick"</span></th><th scope="col">"Image"</th><th scope="col">"Status"</th><th scope="col">"Shared since"</th><th scope="col">"Last answer"</th><th scope="col">"Flags"</th></tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                </section>
            }
        })
        .collect_view()
        .into_any()
}

/// One membership: by image, its first cell is the project; by project, the image. Its tick
/// box names the pair for the batch plan.
fn member_row(review: &AccessReview, image: &ReviewImage, member: &Member, by_project: bool) -> impl IntoView + use<> {
    let mut flags = review.member_flags(member);
    if by_project {
        flags.extend(review.image_flags(image));
    }
    let known = review.projects.get(&member.member_id).cloned();
    let tick_label = format!(
        "Choose project {} on image {}",
        project_words(&member.member_id, known.as_ref()),
        image.image.display_name()
    );
    let first = if by_project {
        view! {
            <td data-label="Image"><a href=format!("/images/{}", image.image.id)>{image.image.display_name()}</a></td>
        }
        .into_any()
    } else {
        view! { <td data-label="Project"><ProjectLabel id=member.member_id.clone() known bare=true/></td> }.into_any()
    };
    let flag_key = flags.iter().map(|f| f.key()).collect::<Vec<_>>().join(" ");
    view! {
        <tr data-flags=flag_key>
            <td class="tick"><input type="checkbox" form=TICKED name="pair" value=format!("{}:{}", image.image.id, member.member_id) aria-label=tick_label/></td>
            {first}
            <td data-label="Status"><StatusBadge status=member.status/></td>
            <td data-label="Shared since"><When time=member.created_at.clone()/></td>
            <td data-label="Last answer"><When time=member.updated_at.clone()/></td>
            <td data-label="Flags">{flags.into_iter().map(|f| view! { <FlagBadge flag=f/>" " }).collect_view()}</td>
        </tr>
    }
}
