//! `/batch?image=…`: choose the projects and the operation, see the N×M plan, then run it.

use leptos::{form::ActionForm, prelude::*};
use leptos_router::hooks::use_query_map;

use crate::{
    api::batch::{StartBatch, plan_batch, recent_batches},
    error::AppError,
    model::{BatchListing, BatchPlan, Me, MemberStatus},
    ui::{
        auth::RequireSignIn,
        bits::{VisibilityBadge, error_view},
        layout::ActionError,
        project::{ProjectCell, ProjectsField},
    },
};

/// The plan and the action are made outside the sign-in check's `<Suspense>`: once per page.
#[component]
pub fn BatchPage() -> impl IntoView {
    let q = BatchQuery(use_query_map());
    let plan = Resource::new(
        move || (q.images(), q.members(), q.operation(), q.status(), q.make_shared(), q.pairs(), q.select(), q.owner()),
        |(images, members, operation, status, make_shared, pairs, select, owner)| async move {
            if members.trim().is_empty() && pairs.is_empty() && select.is_none() {
                return None;
            }
            let make_shared = make_shared.then(|| "yes".to_string());
            let pairs = (!pairs.is_empty()).then_some(pairs);
            Some(plan_batch(images, members, operation, status, make_shared, pairs, select, owner).await)
        },
    );
    let start = ServerAction::<StartBatch>::new();
    let recent: Recent = Resource::new(|| (), |_| recent_batches());
    view! { <RequireSignIn signed_in=move |me| view! { <BatchForm me plan start recent/> }/> }
}

/// What the page's query asks for; the form below is a GET, so the query is the form.
#[derive(Clone, Copy)]
struct BatchQuery(Memo<leptos_router::params::ParamsMap>);

impl BatchQuery {
    /// `image=a&image=b` from the image list's ticks, or `images=a,b` from this form.
    fn images(self) -> String {
        let q = self.0.read();
        let mut ids = q.get_all("image").unwrap_or_default();
        ids.extend(q.get("images").unwrap_or_default().split(',').filter(|s| !s.is_empty()).map(str::to_string));
        ids.join(",")
    }
    /// `members=…` from this form, and `member=a&member=b` from an image page's ticked rows.
    fn members(self) -> String {
        let q = self.0.read();
        let mut members: Vec<String> = q.get("members").into_iter().collect();
        members.extend(q.get_all("member").unwrap_or_default());
        members.join("\n")
    }
    fn operation(self) -> String {
        self.0.read().get("operation").unwrap_or_else(|| "share".into())
    }
    fn status(self) -> Option<String> {
        self.0.read().get("status")
    }
    fn make_shared(self) -> bool {
        self.0.read().get("make_shared").is_some()
    }
    /// `pair=IMAGE:MEMBER`, one for each row ticked in the access review.
    fn pairs(self) -> String {
        self.0.read().get_all("pair").unwrap_or_default().join("\n")
    }
    /// A one-click choice of the access review, and the project reviewed (an admin's).
    fn select(self) -> Option<String> {
        self.0.read().get("select").filter(|s| !s.is_empty())
    }
    fn owner(self) -> Option<String> {
        self.0.read().get("owner").filter(|s| !s.is_empty())
    }
    /// The review's choices and ticked rows plan pairs, not images × projects.
    fn chose_pairs(self) -> bool {
        !self.pairs().is_empty() || self.select().is_some()
    }
}

type Plan = Resource<Option<Result<BatchPlan, AppError>>>;
type Recent = Resource<Result<Vec<BatchListing>, AppError>>;

#[component]
fn BatchForm(me: Me, plan: Plan, start: ServerAction<StartBatch>, recent: Recent) -> impl IntoView {
    let q = BatchQuery(use_query_map());
    let (images, operation, status, make_shared) =
        (move || q.images(), move || q.operation(), move || q.status(), move || q.make_shared());

    view! {
        <section class="page batch">
            <h1>"Batch"</h1>
            <p class="muted">"Many images \u{00d7} many projects on the standard Glance API, with a result for every pair."</p>
            {if q.chose_pairs() {
                view! {
                    <p>"The memberships chosen in the "<a href=access_href(q.owner())>"access review"</a>". Nothing changes until you run the plan."</p>
                }.into_any()
            } else {
                view! { <ProductForm me q/> }.into_any()
            }}
            <Transition fallback=|| view! { <p class="muted">"Checking…"</p> }>
                {move || Suspend::new(async move {
                    match plan.await {
                        None => ().into_any(),
                        Some(Ok(plan)) => view! {
                            <PlanView plan=plan.clone()/>
                            <ActionForm action=start attr:class="inline-form run">
                                <input type="hidden" name="images" value=images()/>
                                <input type="hidden" name="members" value=plan.run_members.clone()/>
                                <input type="hidden" name="operation" value=operation()/>
                                {status().map(|s| view! { <input type="hidden" name="status" value=s/> })}
                                {make_shared().then(|| view! { <input type="hidden" name="make_shared" value="yes"/> })}
                                {(!plan.run_pairs.is_empty()).then(|| view! { <input type="hidden" name="pairs" value=plan.run_pairs.clone()/> })}
                                {(!plan.select.is_empty()).then(|| view! { <input type="hidden" name="select" value=plan.select.clone()/> })}
                                {plan.owner.clone().map(|o| view! { <input type="hidden" name="owner" value=o/> })}
                                <button type="submit" disabled=move || start.pending().get()>
                                    {
                                        let runs = plan.pairs.iter().filter(|p| p.will_run).count();
                                        format!("Run {runs} pair{}", if runs == 1 { "" } else { "s" })
                                    }
                                </button>
                            </ActionForm>
                            <ActionError action=start/>
                        }.into_any(),
                        Some(Err(e)) => error_view(e),
                    }
                })}
            </Transition>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match recent.await {
                        Ok(list) if !list.is_empty() => view! { <RecentBatches list/> }.into_any(),
                        _ => ().into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The review a choice came from: the admin's review of another project keeps its `owner`.
fn access_href(owner: Option<String>) -> String {
    match owner {
        Some(owner) => format!("/access?owner={}", crate::model::urlencode(&owner)),
        None => "/access".into(),
    }
}

/// Images × projects: which projects, and what to do.
#[component]
fn ProductForm(me: Me, q: BatchQuery) -> impl IntoView {
    let (images, members, operation, status, make_shared) =
        (move || q.images(), move || q.members(), move || q.operation(), move || q.status(), move || q.make_shared());
    let is_admin = me.is_admin();
    view! {
        <form method="get" action="/batch" class="form">
            <input type="hidden" name="images" value=images/>
            <p>{move || {
                let n = images().split(',').filter(|s| !s.is_empty()).count();
                if n == 0 {
                    view! { <span class="error">"No image chosen: tick images in "<a href="/images?tab=mine">"My images"</a>" first."</span> }.into_any()
                } else {
                    view! { <span>{format!("{n} image{} chosen.", if n == 1 { "" } else { "s" })}</span> }.into_any()
                }
            }}</p>
            <ProjectsField id="batch-members" label="Projects" directory=me.directory rows=4 value=Signal::derive(members)/>
            <fieldset class="operation">
                <legend>"Operation"</legend>
                <label class="check"><input type="radio" name="operation" value="share" checked=move || operation() == "share"/>"Share"</label>
                <label class="check"><input type="radio" name="operation" value="revoke" checked=move || operation() == "revoke"/>"Revoke"</label>
                {is_admin.then(|| view! {
                    <label class="check"><input type="radio" name="operation" value="status" checked=move || operation() == "status"/>"Set status (admin override) to"</label>
                    <select name="status" aria-label="Status to set">
                        {MemberStatus::CHOICES.into_iter().map(|s| view! { <option value=s.key() selected=move || status().as_deref() == Some(s.key())>{s.key()}</option> }).collect_view()}
                    </select>
                })}
            </fieldset>
            <label class="check"><input type="checkbox" name="make_shared" value="yes" checked=make_shared/>"Make private images shared before sharing"</label>
            <button type="submit" class="secondary">"Preview the plan"</button>
        </form>
    }
}

/// This user's batches still kept, newest first: one left mid-run can be opened again here.
#[component]
fn RecentBatches(list: Vec<BatchListing>) -> impl IntoView {
    view! {
        <section aria-labelledby="recent-batches" class="recent-batches">
            <h2 id="recent-batches">"Recent batches"</h2>
            <ul>
                {list.into_iter().map(|b| {
                    let state = if b.finished { "finished" } else { "running" };
                    view! {
                        <li>
                            <a href=format!("/batch/{}", b.id)>{format!("{} ({state})", b.title)}</a>
                            " "<span class="muted">{b.summary}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn PlanView(plan: BatchPlan) -> impl IntoView {
    let runs = plan.pairs.iter().filter(|p| p.will_run).count();
    let names: std::collections::HashMap<String, String> =
        plan.images.iter().map(|i| (i.id.clone(), i.name.clone())).collect();
    // The run is the confirmation for project IDs Keystone did not check: say what it does.
    let unchecked = (!plan.unchecked.is_empty()).then(|| {
        let (n, list) = (plan.unchecked.len(), plan.unchecked.join(", "));
        let these = if n == 1 { "this project ID" } else { "these project IDs" };
        view! {
            <p class="notice">{format!(
                "Keystone does not let you look projects up, so {these} could not be checked: {list}. Running the plan shares with {} as typed.",
                if n == 1 { "it" } else { "them" }
            )}</p>
        }
    });
    // Names are shown resolved before anything runs: "name (domain) → ID".
    let resolved = (!plan.resolved.is_empty()).then(|| {
        view! {
            <div class="notice">
                <p>"Project names, resolved by the directory (the run uses the IDs):"</p>
                <ul class="resolved">
                    {plan.resolved.iter().map(|(typed, found)| view! {
                        <li><code>{typed.clone()}</code>" \u{2192} "{found.label()}" \u{2192} "<code>{found.id.clone()}</code></li>
                    }).collect_view()}
                </ul>
            </div>
        }
    });
    let projects = plan.projects.clone();
    view! {
        <h2>{format!("Plan: {} — {runs} of {} pairs will run", plan.operation.describe(), plan.pairs.len())}</h2>
        {plan.chosen.clone().map(|chosen| view! { <p class="chosen">{format!("Chosen in the access review: {chosen}.")}</p> })}
        {resolved}
        {unchecked}
        <div class="table-wrap">
            <table class="plan-images">
                <thead><tr><th scope="col">"Image"</th><th scope="col">"Visibility"</th><th scope="col">"Members now"</th><th scope="col">"Note"</th></tr></thead>
                <tbody>
                    {plan.images.into_iter().map(|i| {
                        let count = match (i.member_count, i.quota) {
                            (Some(n), Some(q)) => format!("{n} of {q}"),
                            (Some(n), None) => n.to_string(),
                            (None, _) => "—".into(),
                        };
                        let problem_class = if i.problem.is_some() { "error" } else { "" };
                        view! {
                            <tr>
                                <td data-label="Image"><a href=format!("/images/{}", i.id)>{i.name}</a></td>
                                <td data-label="Visibility"><VisibilityBadge visibility=i.visibility/></td>
                                <td class="num" data-label="Members now">{count}</td>
                                <td class=problem_class data-label="Note">{i.problem.unwrap_or_default()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <div class="table-wrap">
            <table class="plan-pairs">
                <thead><tr><th scope="col">"Image"</th><th scope="col">"Project"</th><th scope="col">"Expected"</th></tr></thead>
                <tbody>
                    {plan.pairs.into_iter().map(|p| view! {
                        <tr class:skipped=!p.will_run>
                            <td data-label="Image">{names.get(&p.image_id).cloned().unwrap_or(p.image_id)}</td>
                            <td data-label="Project"><ProjectCell known=projects.get(&p.member_id).cloned() id=p.member_id/></td>
                            <td data-label="Expected">{p.expect}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
