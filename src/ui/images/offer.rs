//! A consumer's answer to an offer: accept, reject (confirmed first), or set back to pending.

use leptos::{form::ActionForm, prelude::*};

use crate::model::StatusWords;
use crate::{api::members::SetMemberStatus, model::MemberStatus};

/// Buttons for every status the offer is not in. Rejecting asks first, on the image page, in
/// words that name the image.
#[component]
pub fn OfferButtons(
    image_id: String,
    image_name: String,
    current: MemberStatus,
    action: ServerAction<SetMemberStatus>,
) -> impl IntoView {
    let pending = action.pending();
    MemberStatus::CHOICES
        .into_iter()
        .filter(|s| *s != current)
        .map(|target| {
            let (image_id, image_name) = (image_id.clone(), image_name.clone());
            if target == MemberStatus::Rejected {
                let href = format!("/images/{image_id}?confirm=reject");
                let label = format!("Reject {image_name}");
                return view! { <a class="button secondary" href=href aria-label=label>"Reject…"</a> }.into_any();
            }
            let label = format!("{} {image_name}", target.action());
            view! {
                <ActionForm action=action attr:class="inline-form">
                    <input type="hidden" name="image_id" value=image_id.clone()/>
                    <input type="hidden" name="status" value=target.key()/>
                    <button type="submit" class="secondary" aria-label=label disabled=move || pending.get()>{target.action()}</button>
                </ActionForm>
            }
            .into_any()
        })
        .collect_view()
}

/// The confirmation a consumer sees before rejecting an offer.
#[component]
pub fn ConfirmReject(image_id: String, image_name: String, action: ServerAction<SetMemberStatus>) -> impl IntoView {
    let back = format!("/images/{image_id}");
    view! {
        <div class="confirm" role="alertdialog" aria-labelledby="confirm-reject-title">
            <p id="confirm-reject-title"><strong>{format!("Reject the offer of image {image_name}?")}</strong></p>
            <p class="muted">"It stays visible under \u{201c}Shared with me\u{201d} (status rejected), and you can accept it later."</p>
            <ActionForm action=action attr:class="inline-form">
                <input type="hidden" name="image_id" value=image_id.clone()/>
                <input type="hidden" name="status" value="rejected"/>
                <input type="hidden" name="next" value=back.clone()/>
                <button type="submit" class="danger">"Reject"</button>
                <a class="button secondary" href=back>"Cancel"</a>
            </ActionForm>
        </div>
    }
}
