//! `/images/{id}/new-version`: choose an owned image's successor and the options, see the
//! plan, then run it on the batch engine. The choice is a GET form, so the plan's address
//! says what was chosen and the page works without JavaScript.

use leptos::{form::ActionForm, prelude::*};
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::{
    api::rollover::{StartNewVersion, new_version_page, new_version_plan},
    error::AppError,
    model::{ImageWords, RolloverForm, RolloverPage, RolloverPlan},
    ui::{
        auth::RequireSignIn,
        bits::{StatusBadge, When, error_view},
        layout::ActionError,
        project::ProjectCell,
    },
};

type Page = Resource<Result<RolloverPage, AppError>>;
type Plan = Resource<Option<Result<RolloverPlan, AppError>>>;

/// The form as the query has it (the options are ticked boxes: present or absent).
fn form_of(image_id: String, q: &leptos_router::params::ParamsMap) -> RolloverForm {
    RolloverForm {
        image_id,
        to: q.get("to"),
        to_id: q.get("to_id"),
        hide: q.get("hide"),
        protect: q.get("protect"),
        annotate: q.get("annotate"),
        revoke_old: q.get("revoke_old"),
        carry: q.get("carry"),
        confirm_carry: None,
    }
}

/// The page's data and action are made outside the sign-in check's `<Suspense>`: once per page.
#[component]
pub fn NewVersionPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let image_id = move || params.read().get("image_id").unwrap_or_default();
    let page: Page = Resource::new(image_id, new_version_page);
    let plan: Plan = Resource::new(
        move || form_of(image_id(), &query.read()),
        |form| async move {
            match form.successor() {
                Some(_) => Some(new_version_plan(form).await),
                None => None,
            }
        },
    );
    let start = ServerAction::<StartNewVersion>::new();
    view! { <RequireSignIn signed_in=move |_| view! { <NewVersion page plan start/> }/> }
}

#[component]
fn NewVersion(page: Page, plan: Plan, start: ServerAction<StartNewVersion>) -> impl IntoView {
    view! {
        <section class="page new-version">
            <Transition fallback=|| view! { <p class="muted">"Loading the image…"</p> }>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! { <Choice page plan start/> }.into_any(),
                        Err(e) => error_view(e),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Choice(page: RolloverPage, plan: Plan, start: ServerAction<StartNewVersion>) -> impl IntoView {
    let query = use_query_map();
    let q = query.read_untracked();
    let chosen = form_of(page.old.id.clone(), &q);
    let old_name = page.old.display_name();
    let old_id = page.old.id.clone();
    let hide_note = match page.hide_supported {
        Some(true) => None,
        Some(false) => Some("needs image API 2.7, which this cloud's Glance does not offer"),
        None => Some("this cloud's image API versions could not be read"),
    };
    let ticked = |v: &Option<String>| v.is_some();
    let typed = chosen.to_id.clone().unwrap_or_default();
    let picked = chosen.to.clone().unwrap_or_default();
    view! {
        <p class="crumbs"><a href=format!("/images/{old_id}")>{format!("\u{2190} {old_name}")}</a></p>
        <h1>{format!("New version of {old_name}")}</h1>
        <p class="muted">"Offer a newer image to every project this one is shared with, in one reviewed step. Nothing changes until you run the plan."</p>
        {match page.problem.clone() {
            Some(why) => view! { <p class="error" role="alert">{why}</p> }.into_any(),
            None => view! {
                <form method="get" action=format!("/images/{old_id}/new-version") class="form">
                    <fieldset class="successors">
                        <legend>"The new version"</legend>
                        {if page.suggestions.is_empty() {
                            view! { <p class="muted">"No newer image of this project has the same name stem or the same os_distro and os_version."</p> }.into_any()
                        } else {
                            page.suggestions.iter().map(|s| {
                                let id = s.image.id.clone();
                                let checked = picked == id;
                                view! {
                                    <label class="check">
                                        <input type="radio" name="to" value=id checked=checked/>
                                        <span>{s.image.display_name()}" "<span class="muted">"(created "<When time=s.image.created_at.clone()/>{format!("; {})", s.why)}</span></span>
                                    </label>
                                }
                            }).collect_view().into_any()
                        }}
                        <label for="new-version-id">"Or any image of this project, by ID"</label>
                        <input id="new-version-id" name="to_id" type="text" value=typed autocomplete="off" spellcheck="false"/>
                    </fieldset>
                    <fieldset class="options">
                        <legend>"Options (each off unless ticked)"</legend>
                        <label class="check">
                            <input type="checkbox" name="hide" value="on" checked=ticked(&chosen.hide) disabled=hide_note.is_some()/>
                            "Hide the old version from image lists (os_hidden; still usable by ID)"
                            {hide_note.map(|n| view! { <span class="muted">{format!(" \u{2014} {n}")}</span> })}
                        </label>
                        <label class="check"><input type="checkbox" name="protect" value="on" checked=ticked(&chosen.protect)/>"Protect the old version from deletion"</label>
                        <label class="check"><input type="checkbox" name="annotate" value="on" checked=ticked(&chosen.annotate)/>"Record the successor on the old version (superseded_by) and the predecessor on the new one (supersedes)"</label>
                        <label class="check"><input type="checkbox" name="revoke_old" value="on" checked=ticked(&chosen.revoke_old)/>"Revoke the old version's members once they have the new one"</label>
                        {page.is_admin.then(|| view! {
                            <label class="check"><input type="checkbox" name="carry" value="on" checked=ticked(&chosen.carry)/>"Admin: set the new offers of projects that accepted the old version to accepted, on their behalf"</label>
                        })}
                    </fieldset>
                    <button type="submit" class="secondary">"Preview the plan"</button>
                </form>
                <Transition fallback=|| view! { <p class="muted">"Checking…"</p> }>
                    {move || Suspend::new(async move {
                        match plan.await {
                            None => ().into_any(),
                            Some(Ok(plan)) => view! { <PlanView plan start/> }.into_any(),
                            Some(Err(e)) => error_view(e),
                        }
                    })}
                </Transition>
                <ActionError action=start/>
            }.into_any(),
        }}
    }
}

#[component]
fn PlanView(plan: RolloverPlan, start: ServerAction<StartNewVersion>) -> impl IntoView {
    let (old_name, new_name) = (plan.old.display_name(), plan.new.display_name());
    let options = plan.options;
    let carried = plan.members.iter().filter(|m| m.carry).count();
    let offered = plan.members.iter().filter(|m| m.add).count();
    let pairs = plan.pair_count();
    let steps = plan.steps.len();
    let not_chosen: Vec<&str> = [
        (!options.hide, "hide the old version"),
        (!options.protect, "protect it"),
        (!options.annotate, "record successor and predecessor"),
        (!options.revoke_old, "revoke the old version's members"),
    ]
    .into_iter()
    .filter_map(|(off, what)| off.then_some(what))
    .collect();
    let run_label = if plan.is_empty() {
        "Nothing to do".to_string()
    } else {
        format!(
            "Run: {pairs} pair{}, {steps} image change{}",
            if pairs == 1 { "" } else { "s" },
            if steps == 1 { "" } else { "s" }
        )
    };
    let empty = plan.is_empty();
    let projects = plan.projects.clone();
    let hidden = |name: &'static str, on: bool| {
        on.then(|| view! { <input type="hidden" name=format!("form[{name}]") value="on"/> })
    };
    view! {
        <h2>{format!("Plan: {new_name} replaces {old_name}")}</h2>
        <ul class="plan-summary">
            {plan.make_shared.then(|| view! { <li>{format!("{new_name} is private: it is made shared first.")}</li> })}
            <li>{format!(
                "{offered} project{} offered {new_name}: each offer is pending until the project accepts it.",
                if offered == 1 { "" } else { "s" }
            )}</li>
            {(carried > 0).then(|| view! { <li class="notice">{format!("{carried} of them accepted {old_name}: their new offers are set to accepted by you, an admin, on their behalf.")}</li> })}
            {(!not_chosen.is_empty()).then(|| view! { <li class="muted">{format!("Not chosen: {}.", not_chosen.join(", "))}</li> })}
        </ul>
        <div class="table-wrap">
            <table class="rollover-members">
                <thead><tr><th scope="col">"Project"</th><th scope="col">"On the old version"</th><th scope="col">"What happens"</th></tr></thead>
                <tbody>
                    {plan.members.into_iter().map(|m| {
                        let expect = m.expect();
                        view! {
                            <tr>
                                <td data-label="Project"><ProjectCell known=projects.get(&m.member_id).cloned() id=m.member_id.clone()/></td>
                                <td data-label="On the old version"><StatusBadge status=m.old_status/></td>
                                <td data-label="What happens">{expect}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {(!plan.steps.is_empty()).then(|| view! {
            <p>"Then, once every pair has gone through:"</p>
            <ul class="plan-steps">
                {plan.steps.iter().map(|s| view! { <li>{format!("{}: {}", s.image_name, s.kind.describe())}</li> }).collect_view()}
            </ul>
        })}
        <ActionForm action=start attr:class="form run">
            <input type="hidden" name="form[image_id]" value=plan.old.id.clone()/>
            <input type="hidden" name="form[to_id]" value=plan.new.id.clone()/>
            {hidden("hide", options.hide)}
            {hidden("protect", options.protect)}
            {hidden("annotate", options.annotate)}
            {hidden("revoke_old", options.revoke_old)}
            {hidden("carry", options.carry_accepted)}
            {(carried > 0).then(|| view! {
                <label class="check"><input type="checkbox" name="form[confirm_carry]" value="yes" required=true/>{format!("I confirm: set {carried} new offer{} to accepted on the projects' behalf", if carried == 1 { "" } else { "s" })}</label>
            })}
            <button type="submit" disabled=move || empty || start.pending().get()>{run_label}</button>
        </ActionForm>
    }
}
