//! Small pieces every page uses: toasts, an accessible dialog, copy buttons, status badges.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Toast {
    #[serde(skip)]
    id: u64,
    error: bool,
    text: String,
}

/// Success and failure messages, announced to screen readers and dismissed after a while.
///
/// Islands hydrate on their own, with no context from the page around them, so the page's
/// toasts are one list per browser tab (a thread-local: the wasm has one thread) that every
/// island's messages go to and the [`ToastRegion`] island shows. The outcome of a form post
/// comes with the page it leads to (see [`super::flash`]).
#[derive(Clone)]
pub struct Toasts {
    list: ArcRwSignal<Vec<Toast>>,
    next_id: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Toasts {
    fn new() -> Self {
        Self { list: ArcRwSignal::new(Vec::new()), next_id: Default::default() }
    }

    pub fn success(&self, text: impl Into<String>) {
        self.push(false, text.into());
    }

    fn push(&self, error: bool, text: String) {
        let id = self.next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.list.update(|l| l.push(Toast { id, error, text }));
        // Timers run in the browser (the server renders the toasts a page starts with).
        #[cfg(feature = "hydrate")]
        {
            let list = self.list.clone();
            set_timeout(move || list.update(|l| l.retain(|t| t.id != id)), std::time::Duration::from_secs(6));
        }
    }
}

/// The tab's toasts (on the server, which renders none, an empty list for the page).
pub fn use_toasts() -> Toasts {
    #[cfg(feature = "hydrate")]
    {
        thread_local! {
            static TOASTS: Toasts = Toasts::new();
        }
        TOASTS.with(Toasts::clone)
    }
    #[cfg(not(feature = "hydrate"))]
    Toasts::new()
}

impl Toast {
    /// The toast of a form post's outcome (see [`super::flash`]), if it has a message.
    pub fn of_flash(flash: &super::flash::Flash) -> Option<Self> {
        (!flash.message.is_empty()).then(|| Self { id: 0, error: flash.error, text: flash.message.clone() })
    }
}

/// The page's toasts (an island on every signed-in page), starting with `first`: the outcome of
/// the form post that led here, rendered by the server so it shows before any wasm arrives.
#[island]
pub fn ToastRegion(first: Option<Toast>) -> impl IntoView {
    let toasts = use_toasts();
    if let Some(toast) = first {
        toasts.push(toast.error, toast.text);
    }
    view! {
        <div class="toasts" role="status" aria-live="polite">
            <For each=move || toasts.list.get() key=|t| t.id let:toast>
                <div class="toast" class:toast-error=toast.error>{toast.text}</div>
            </For>
        </div>
    }
}

/// Marks the page hydrated (`data-hydrated` on the body, which browser tests wait for). The last
/// island of every page: islands hydrate one after the other in the order of the page, each
/// lazy one once its wasm chunk has loaded, so this one's turn comes when all the others are done.
#[island]
pub fn PageReady() -> impl IntoView {
    // In the browser only (the server renders islands too).
    #[cfg(feature = "hydrate")]
    if let Some(body) = document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}

const FOCUSABLE: &str = "a[href], button:not([disabled]), input:not([disabled]):not([type='hidden']), select:not([disabled]), textarea, [tabindex]:not([tabindex='-1'])";

/// A modal dialog: focus moves in when it opens, Tab stays inside, Escape (or a click beside
/// it, or on an element marked `data-dialog-close`) closes it, and focus returns to what opened
/// it. It is always in the page, hidden while closed: its children may be server-rendered
/// HTML inside an island (which an island cannot render conditionally).
#[component]
pub fn Dialog(
    open: RwSignal<bool>,
    /// The id of the element that names the dialog (its heading).
    #[prop(into)]
    labelled_by: String,
    children: Children,
) -> impl IntoView {
    let panel = NodeRef::<leptos::html::Div>::new();
    // The element that had focus when the dialog opened is kept in the effect's own state (not
    // in a stored value): effects run only in the browser, where DOM nodes live.
    Effect::new(move |opener: Option<Option<web_sys::HtmlElement>>| {
        if open.get() {
            // Once shown: focus its first control.
            request_animation_frame(move || {
                if let Some(first) = panel.get_untracked().and_then(|p| focusables(&p).into_iter().next()) {
                    let _ = first.focus();
                }
            });
            active_element()
        } else {
            if let Some(el) = opener.flatten() {
                let _ = el.focus();
            }
            None
        }
    });
    let on_keydown = move |ev: web_sys::KeyboardEvent| {
        if ev.key() == "Escape" {
            ev.prevent_default();
            open.set(false);
        } else if ev.key() == "Tab" {
            let Some(panel) = panel.get_untracked() else { return };
            let items = focusables(&panel);
            let (Some(first), Some(last)) = (items.first(), items.last()) else { return };
            let active = active_element();
            if ev.shift_key() && active.as_ref() == Some(first) {
                ev.prevent_default();
                let _ = last.focus();
            } else if !ev.shift_key() && active.as_ref() == Some(last) {
                ev.prevent_default();
                let _ = first.focus();
            }
        }
    };
    let on_click = move |ev: web_sys::MouseEvent| {
        let target = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok());
        if target.and_then(|t| t.closest("[data-dialog-close]").ok().flatten()).is_some() {
            open.set(false);
        }
    };
    let closed = move || !open.get();
    view! {
        <div class="backdrop" hidden=closed on:click=move |_| open.set(false)></div>
        <div class="dialog" role="dialog" aria-modal="true" aria-labelledby=labelled_by node_ref=panel hidden=closed
            on:keydown=on_keydown on:click=on_click>
            {children()}
        </div>
    }
}

/// What a [`ConfirmThenPost`] button does once confirmed: a plain form post to a server function.
#[derive(Clone, Debug, PartialEq)]
pub struct PostAfterConfirm {
    /// The server function's path (`ServerFn::PATH`).
    pub action: String,
    /// The form's hidden fields.
    pub fields: Vec<(String, String)>,
    /// The dialog's heading (its id names it: unique in the page), its sentence and its danger
    /// button.
    pub heading_id: String,
    pub title: String,
    pub message: String,
    pub confirm_label: String,
}

/// A button that asks before something that cannot be taken back: a [`Dialog`] with a heading,
/// a sentence, Cancel, and a danger button posting the form (the server function answers with
/// the next page: see [`super::flash`]). The dialog's content is rendered here, on the server;
/// the button and the dialog's behaviour are an island ([`AskFirst`]).
#[component]
pub fn ConfirmThenPost(
    label: &'static str,
    class: &'static str,
    /// The button's accessible name, when `label` alone is not enough ("Revoke" which key?).
    aria_label: Option<String>,
    disabled: bool,
    /// The id of what explains a disabled button.
    described_by: Option<String>,
    post: PostAfterConfirm,
) -> impl IntoView {
    let PostAfterConfirm { action, fields, heading_id, title, message, confirm_label } = post;
    let opener = Opener { label: label.into(), class: class.into(), aria_label, disabled, described_by };
    view! {
        <AskFirst opener heading_id=heading_id.clone()>
            <h2 id=heading_id>{title}</h2>
            <p>{message}</p>
            <form method="post" action=action>
                {fields.into_iter().map(|(name, value)| view! { <input type="hidden" name=name value=value/> }).collect_view()}
                <div class="actions">
                    <button type="button" class="secondary" data-dialog-close="">"Cancel"</button>
                    <button type="submit" class="danger">{confirm_label}</button>
                </div>
            </form>
        </AskFirst>
    }
}

/// The button that opens an [`AskFirst`] dialog.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Opener {
    label: String,
    class: String,
    aria_label: Option<String>,
    disabled: bool,
    described_by: Option<String>,
}

/// A button and the dialog it opens, whose content (`children`) the server rendered.
#[island(lazy)]
fn AskFirst(opener: Opener, heading_id: String, children: Children) -> impl IntoView {
    let open = RwSignal::new(false);
    let ready = once_hydrated();
    let Opener { label, class, aria_label, disabled, described_by } = opener;
    view! {
        <button type="button" class=class aria-label=aria_label disabled=move || disabled || !ready.get() aria-describedby=described_by
            on:click=move |_| open.set(true)>{label}</button>
        <Dialog open labelled_by=heading_id>{children()}</Dialog>
    }
}

/// False until the island calling it has hydrated. Its buttons do nothing before then, so they
/// say so: disabled as the server renders them, enabled once they work (a click that came too
/// early would otherwise be lost without a word).
pub fn once_hydrated() -> ReadSignal<bool> {
    let (ready, set_ready) = signal(false);
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| set_ready.set(true));
    ready
}

fn active_element() -> Option<web_sys::HtmlElement> {
    document().active_element().and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
}

fn focusables(panel: &web_sys::HtmlDivElement) -> Vec<web_sys::HtmlElement> {
    let Ok(list) = panel.query_selector_all(FOCUSABLE) else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.item(i)).filter_map(|n| n.dyn_into::<web_sys::HtmlElement>().ok()).collect()
}

/// Copies `text` to the clipboard and says so (an island of its own).
#[island(lazy)]
pub fn CopyButton(text: String, #[prop(into)] label: String) -> impl IntoView {
    let toasts = use_toasts();
    let ready = once_hydrated();
    view! {
        <button type="button" class="secondary small" aria-label=label disabled=move || !ready.get() on:click=move |_| {
            let _ = window().navigator().clipboard().write_text(&text);
            toasts.success("Copied to the clipboard");
        }>"Copy"</button>
    }
}

#[component]
pub fn StatusBadge(status: crate::domain::NumberStatus, released: bool) -> impl IntoView {
    let (class, text) = match (released, status) {
        (true, _) => ("badge badge-muted", "Released"),
        (false, crate::domain::NumberStatus::Active) => ("badge badge-ok", "Active"),
        (false, crate::domain::NumberStatus::Inactive) => ("badge badge-warn", "Inactive"),
    };
    view! { <span class=class>{text}</span> }
}

/// The number-type filter of the search forms: "Any" or one type.
#[component]
pub fn TypeSelect(selected: Option<String>) -> impl IntoView {
    view! {
        <select name="type">
            <option value="">"Any"</option>
            {crate::domain::NumberType::ALL.iter().map(|t| {
                let is_selected = selected.as_deref() == Some(t.as_str());
                view! { <option value=t.as_str() selected=is_selected>{type_label(*t)}</option> }
            }).collect_view()}
        </select>
    }
}

/// A readable label for a number type.
pub fn type_label(t: crate::domain::NumberType) -> &'static str {
    use crate::domain::NumberType::*;
    match t {
        Local => "Local",
        Mobile => "Mobile",
        TollFree => "Toll-free",
        National => "National",
    }
}

/// The shared view of a server-function error: its message, announced.
#[component]
pub fn ErrorNotice(error: crate::domain::ErrorDetail) -> impl IntoView {
    let sign_in = error.code == crate::domain::ErrorCode::Unauthorized;
    view! {
        <div class="notice notice-error" role="alert">
            <p>{error.message}</p>
            {sign_in.then(|| view! { <a href="/sign-in">"Sign in"</a> })}
        </div>
    }
}

/// "21–40 of 95" with Previous and Next links; `link(offset)` is the address of the page that
/// starts at `offset`.
#[component]
pub fn Pager(
    offset: i64,
    limit: i64,
    total: i64,
    link: impl Fn(i64) -> String + 'static,
    #[prop(into)] label: String,
) -> impl IntoView {
    view! {
        <nav class="pager" aria-label=label>
            <span class="muted">{format!("{}–{} of {}", offset + 1, (offset + limit).min(total), total)}</span>
            {(offset > 0).then(|| view! { <a href=link((offset - limit).max(0))>"Previous"</a> })}
            {(offset + limit < total).then(|| view! { <a href=link(offset + limit)>"Next"</a> })}
        </nav>
    }
}
