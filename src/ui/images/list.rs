//! `/images`: my images, images shared with me, or all, with name search and paging.

use leptos::{form::ActionForm, prelude::*};
use leptos_router::hooks::use_query_map;

use super::offer::OfferButtons;
use crate::model::ImageWords;
use crate::{
    api::{images::list_images, inbox::RespondToOffers, members::SetMemberStatus},
    error::AppError,
    model::{ImageList, ImageRow, ImageTab, Me, MemberStatus, ProjectName, urlencode},
    ui::{
        auth::RequireSignIn,
        bits::{StatusBadge, VisibilityBadge, error_view},
        copy::{CopyButtons, CopyId},
        inbox::{NewVersionOf, accept_new_version_words},
        layout::ActionError,
        project::ProjectLabel,
    },
};

const BATCH_FORM: &str = "batch-select";

const STATUS_FILTERS: [&str; 4] = ["all", "pending", "accepted", "rejected"];

/// The list's orders: `sort` query value and the link's words.
const SORTS: [(&str, &str); 2] = [("name", "name"), ("newest", "newest first")];

/// The `sort` query value, `name` unless `newest` is asked for.
fn sort_key(query: Memo<leptos_router::params::ParamsMap>) -> &'static str {
    if query.read().get("sort").as_deref() == Some("newest") { "newest" } else { "name" }
}

/// Data and actions are made outside the sign-in check's `<Suspense>`: once per page.
#[component]
pub fn ImagesPage() -> impl IntoView {
    let query = use_query_map();
    let tab = move || ImageTab::from_key(&query.read().get("tab").unwrap_or_default());
    let status = move || {
        query.read().get("status").filter(|s| STATUS_FILTERS.contains(&s.as_str())).unwrap_or_else(|| "all".into())
    };
    let search = move || query.read().get("q").unwrap_or_default();
    let marker = move || query.read().get("marker");
    let sort = move || sort_key(query);
    let respond = ServerAction::<SetMemberStatus>::new();
    let new_version = ServerAction::<RespondToOffers>::new();
    let images = Resource::new(
        move || (tab(), status(), search(), marker(), sort()),
        |(tab, status, q, marker, sort)| {
            list_images(tab.key().to_string(), Some(status), Some(q), marker, Some(sort.to_string()))
        },
    );
    view! { <RequireSignIn signed_in=move |me| view! { <ImageListing me respond new_version images/> }/> }
}

#[component]
fn ImageListing(
    me: Me,
    respond: ServerAction<SetMemberStatus>,
    /// "Accept, and reject <old name>" for a new version of an accepted image.
    new_version: ServerAction<RespondToOffers>,
    images: Resource<Result<ImageList, AppError>>,
) -> impl IntoView {
    let query = use_query_map();
    let tab = move || ImageTab::from_key(&query.read().get("tab").unwrap_or_default());
    let status = move || {
        query.read().get("status").filter(|s| STATUS_FILTERS.contains(&s.as_str())).unwrap_or_else(|| "all".into())
    };
    let search = move || query.read().get("q").unwrap_or_default();
    let sort = move || sort_key(query);
    let project_id = me.project_id.clone();

    view! {
        <section class="page">
            <h1>"Images"</h1>
            <nav class="tabs" aria-label="Which images">
                {ImageTab::ALL.into_iter().map(|t| view! {
                    <a href=move || list_href(t, "all", &search(), sort()) aria-current=move || (tab() == t).then_some("page")>{t.label()}</a>
                }).collect_view()}
            </nav>
            <div class="toolbar">
                <form method="get" action="/images" class="inline-form search" role="search">
                    <input type="hidden" name="tab" value=move || tab().key()/>
                    <input type="hidden" name="status" value=status/>
                    <input type="hidden" name="sort" value=sort/>
                    <label class="sr-only" for="image-search">"Name contains"</label>
                    <input id="image-search" type="search" name="q" placeholder="Name contains…" value=search/>
                    <button type="submit" class="secondary">"Search"</button>
                </form>
                <Show when=move || tab() == ImageTab::SharedWithMe>
                    <nav class="filters" aria-label="Offer status">
                        {STATUS_FILTERS.into_iter().map(|s| view! {
                            <a href=move || list_href(ImageTab::SharedWithMe, s, &search(), sort()) aria-current=move || (status() == s).then_some("page")>{s}</a>
                        }).collect_view()}
                    </nav>
                </Show>
                <nav class="filters" aria-label="Order">
                    {SORTS.into_iter().map(|(key, words)| view! {
                        <a href=move || list_href(tab(), &status(), &search(), key) aria-current=move || (sort() == key).then_some("page")>{words}</a>
                    }).collect_view()}
                </nav>
            </div>
            <ActionError action=respond/>
            <ActionError action=new_version/>
            <Transition fallback=|| view! { <p class="muted">"Loading images…"</p> }>
                {move || {
                    let project_id = project_id.clone();
                    Suspend::new(async move {
                        match images.await {
                            Ok(list) => view! { <ImageTable list tab=tab() respond new_version project_id/> }.into_any(),
                            Err(e) => error_view(e),
                        }
                    })
                }}
            </Transition>
        </section>
    }
}

/// A list's address; `status` counts only for "Shared with me", the defaults are left out.
fn list_href(tab: ImageTab, status: &str, q: &str, sort: &str) -> String {
    let mut url = format!("/images?tab={}", tab.key());
    if tab == ImageTab::SharedWithMe && status != "all" {
        url.push_str(&format!("&status={status}"));
    }
    if !q.is_empty() {
        url.push_str(&format!("&q={}", urlencode(q)));
    }
    if sort != "name" {
        url.push_str(&format!("&sort={sort}"));
    }
    url
}

#[component]
fn ImageTable(
    list: ImageList,
    tab: ImageTab,
    respond: ServerAction<SetMemberStatus>,
    new_version: ServerAction<RespondToOffers>,
    project_id: String,
) -> impl IntoView {
    let query = use_query_map();
    let sort = sort_key(query);
    let status = query.read_untracked().get("status").unwrap_or_else(|| "all".into());
    // A search is paged too: its next page keeps the search.
    let q = query.read_untracked().get("q").unwrap_or_default();
    let here = list_href(tab, &status, q.trim(), sort);
    let first = query.read_untracked().get("marker").map(|_| here.clone());
    if list.rows.is_empty()
        && let Some(first) = first
    {
        // A later page that came out empty is the end of the list, not an empty project.
        return view! { <p class="empty">"No more images. "<a href=first>"← First page"</a></p> }.into_any();
    }
    if list.rows.is_empty() {
        let empty = match tab {
            ImageTab::Mine => view! { <p class="empty">"This project owns no images in this region."</p> }.into_any(),
            ImageTab::SharedWithMe => view! {
                <p class="empty">
                    "No image is offered to this project here. Ask an image owner to add project "
                    <CopyId id=project_id.clone() label="Copy your project ID"/> "."
                </p>
            }
            .into_any(),
            ImageTab::All => view! { <p class="empty">"No images."</p> }.into_any(),
        };
        return empty;
    }
    let next = list.next_marker.clone().map(|m| format!("{here}&marker={}", urlencode(&m)));
    let selectable = tab == ImageTab::Mine;
    let rows = ImageRows { tab, respond, new_version, project_id, selectable, owners: list.owners };
    let images = list.rows;
    // The batch form holds only its button; the ticks join it by `form=`. Wrapping the table
    // would nest the offer buttons' forms in it, which HTML forbids: the browser drops the inner
    // forms while parsing, and hydration then finds another page than the one rendered.
    view! {
        {selectable.then(|| view! {
            <form method="get" action="/batch" id=BATCH_FORM class="batch-select batch-bar">
                <button type="submit" class="secondary">"Batch share / revoke the ticked images…"</button>
            </form>
        })}
        // One copy island serves every row's button (see `CopyButtons`). The rows wait for
        // nothing: made and written out once, as plain HTML (see `MemberTable`).
        <CopyButtons>
            {Unsuspend::new(move || view! { <div class="table-wrap" inner_html=rows.html(images)></div> })}
        </CopyButtons>
        {(first.is_some() || next.is_some()).then(|| view! {
            <nav class="pages" aria-label="Pages of the list">
                {first.map(|href| view! { <a href=href>"← First page"</a> })}
                {next.map(|href| view! { <a href=href rel="next">"Next page →"</a> })}
            </nav>
        })}
    }
    .into_any()
}

/// What every row of an image list shares.
struct ImageRows {
    tab: ImageTab,
    respond: ServerAction<SetMemberStatus>,
    /// "Accept, and reject <old name>" for a new version of an accepted image.
    new_version: ServerAction<RespondToOffers>,
    /// The current project: the one a new version is accepted for.
    project_id: String,
    /// Rows have a tick box for the batch form ("My images").
    selectable: bool,
    /// Names of the images' owners, where shown and known.
    owners: std::collections::HashMap<String, ProjectName>,
}

impl ImageRows {
    /// The table as HTML.
    fn html(&self, images: Vec<ImageRow>) -> String {
        let (tab, selectable) = (self.tab, self.selectable);
        // Each row is made and written before the next (see `MemberRows`).
        let mut body = String::with_capacity(images.len() * 1000);
        for row in images {
            let owner = row.image.owner.as_ref().and_then(|o| self.owners.get(o)).cloned();
            let view = view! {
                <ImageRowView
                    row
                    owner
                    tab
                    respond=self.respond
                    new_version=self.new_version
                    project_id=self.project_id.clone()
                    selectable
                />
            };
            body.push_str(&view.to_html());
        }
        view! {
            <table class="images">
                <thead>
                    <tr>
                        {selectable.then(|| view! { <th scope="col"><span class="sr-only">"Choose for a batch"</span></th> })}
                        <th scope="col">"Name"</th>
                        <th scope="col">"Visibility"</th>
                        {(tab != ImageTab::SharedWithMe).then(|| view! { <th scope="col">"Members"</th> })}
                        {(tab == ImageTab::SharedWithMe).then(|| view! { <th scope="col">"Owner"</th><th scope="col">"Offer"</th><th scope="col">"Respond"</th> })}
                        <th scope="col">"ID"</th>
                    </tr>
                </thead>
                <tbody inner_html=body></tbody>
            </table>
        }
        .to_html()
    }
}

#[component]
fn ImageRowView(
    row: ImageRow,
    /// The owner's name, where shown and known.
    owner: Option<ProjectName>,
    tab: ImageTab,
    respond: ServerAction<SetMemberStatus>,
    new_version: ServerAction<RespondToOffers>,
    /// The current project: the one a new version is accepted for.
    project_id: String,
    selectable: bool,
) -> impl IntoView {
    let image = row.image;
    let new_version_item = format!("{project_id}/{}", image.id);
    let href = format!("/images/{}", image.id);
    let members = match (row.owned, row.member_count) {
        (true, Some(n)) => n.to_string(),
        (true, None) => "—".into(),
        (false, _) => "".into(),
    };
    view! {
        <tr>
            {selectable.then(|| {
                let label = format!("Choose {} for a batch", image.display_name());
                view! { <td><input type="checkbox" form=BATCH_FORM name="image" value=image.id.clone() aria-label=label/></td> }
            })}
            <td data-label="Name">
                <a href=href>{image.display_name()}</a>
                {row.new_version_of.clone().map(|old| view! { <NewVersionOf old/> })}
            </td>
            <td data-label="Visibility"><VisibilityBadge visibility=image.visibility/></td>
            {(tab != ImageTab::SharedWithMe).then(|| view! { <td class="num" data-label="Members">{members}</td> })}
            {(tab == ImageTab::SharedWithMe).then(|| {
                let status = row.my_status.unwrap_or(MemberStatus::Unknown);
                let owner_id = image.owner.clone().unwrap_or_default();
                view! {
                    <td data-label="Owner"><ProjectLabel id=owner_id known=owner.clone() label="Copy owner project ID" bare=true/></td>
                    <td data-label="Offer"><StatusBadge status/></td>
                    <td data-label="Respond">
                        <OfferButtons image_id=image.id.clone() image_name=image.display_name() current=status action=respond/>
                        {row.new_version_of.clone().map(|old| view! {
                            <ActionForm action=new_version attr:class="inline-form">
                                <input type="hidden" name="new_version" value=new_version_item.clone()/>
                                <button type="submit" class="secondary">{accept_new_version_words(row.my_status, &old.name)}</button>
                            </ActionForm>
                        })}
                    </td>
                }
            })}
            <td data-label="ID"><CopyId id=image.id.clone() short=true label="Copy image ID" bare=true/></td>
        </tr>
    }
}
