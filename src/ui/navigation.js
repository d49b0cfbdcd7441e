// Client-side navigation for the islands build: links and form posts fetch the next page's
// server-rendered HTML and put its <body> in place of the current one, so the document (and the
// loaded WebAssembly) survives. Every page works without this script: it only saves reloads.
//
// Adapted from Leptos' islands router (leptos 0.8 `islands_routing.js`), which diffs the old page
// against the new one and never removes an attribute the new page lacks (a tab kept
// `aria-current`, a button `disabled`) and keeps ticked checkboxes: swapping the whole body shows
// exactly what the server rendered, as a page load would.
let navigation = 0;
let pollTimer = 0;

addEventListener("click", (ev) => {
	if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.altKey || ev.ctrlKey || ev.shiftKey) return;
	const a = ev.composedPath().find((el) => el instanceof HTMLAnchorElement);
	if (!a || !a.href || a.target || a.hasAttribute("download")) return;
	if ((a.getAttribute("rel") || "").split(/\s+/).includes("external")) return;
	const url = new URL(a.href);
	if (url.origin !== location.origin) return;
	// A link to a place on this same page: the browser scrolls there by itself.
	if (url.hash && url.pathname === location.pathname && url.search === location.search) return;
	ev.preventDefault();
	navigate(new Request(url, { headers: { Accept: "text/html" } }), "push", url.hash);
});

addEventListener("popstate", () => {
	navigate(new Request(location.href, { headers: { Accept: "text/html" } }), "none", location.hash);
});

addEventListener("submit", (ev) => {
	if (ev.defaultPrevented) return;
	const form = ev.target;
	const submitter = ev.submitter;
	if (!(form instanceof HTMLFormElement) || form.target) return;
	// Attributes, not `form.method` / `form.action`: a field named `method` (the sign-in form
	// has one) shadows those properties.
	const method = (submitter?.getAttribute("formmethod") || form.getAttribute("method") || "get").toUpperCase();
	const action = new URL(submitter?.getAttribute("formaction") || form.getAttribute("action") || location.href, location.href);
	if (action.origin !== location.origin || (method !== "GET" && method !== "POST")) return;
	const params = new URLSearchParams(new FormData(form, submitter));
	let req;
	if (method === "GET") {
		action.search = params.toString();
		req = new Request(action, { headers: { Accept: "text/html" } });
	} else {
		// `Accept: text/html` makes a server function answer as to a plain form post: a redirect
		// back to the page (with the error in the query), which is then shown.
		req = new Request(action, { method: "POST", body: params, headers: { Accept: "text/html" } });
	}
	ev.preventDefault();
	// The busy state: the buttons cannot be pressed twice, and the one pressed may say what runs.
	for (const button of form.querySelectorAll("button")) button.disabled = true;
	if (submitter?.dataset.busy) submitter.textContent = submitter.dataset.busy;
	navigate(req, "push", "", () => HTMLFormElement.prototype.submit.call(form));
});

/** Fetches `req` and shows the page it answers with; `history`: "push", "replace" or "none". */
async function navigate(req, history, hash, fallback) {
	const current = ++navigation;
	let resp, html;
	try {
		resp = await fetch(req);
	} catch (e) {
		// The request did not get through: the page without this script works, go the ordinary way.
		if (fallback) fallback();
		else location.assign(req.url);
		return;
	}
	if (!(resp.headers.get("content-type") || "").startsWith("text/html")) {
		// Not a page (a file, say): the browser handles it. A form post is not sent again.
		location.assign(resp.url);
		return;
	}
	html = await resp.text();
	if (current !== navigation) return;
	const url = new URL(resp.url);
	if (!resp.redirected && hash) url.hash = hash;
	show(html);
	// The address the server ended on (a form post's redirect; going Back to a page that now
	// sends to sign in): what a page load would show in the address bar.
	if (history === "push" && url.href !== location.href) window.history.pushState(null, "", url);
	else if (history === "replace" || resp.redirected) window.history.replaceState(null, "", url);
	const target = url.hash && document.getElementById(decodeURIComponent(url.hash.slice(1)));
	if (target) target.scrollIntoView();
	else if (req.method === "GET" && history === "push" && !resp.redirected) window.scrollTo(0, 0);
	// What a page load would focus: the row a deep link names, a report that just appeared.
	document.querySelector("[autofocus]")?.focus();
	poll();
}

function show(html) {
	const doc = new DOMParser().parseFromString(html, "text/html");
	// Parsed without scripting, a <noscript> is live markup (the batch page's <meta refresh>).
	for (const n of doc.querySelectorAll("noscript")) n.remove();
	document.title = doc.title;
	document.body.replaceWith(document.adoptNode(doc.body));
	// Islands that arrived with the page come alive. Until the bundle has loaded, this fails
	// quietly: the loader then finds them itself in the body it is given.
	if (window.__hydrateIsland) {
		for (const island of document.querySelectorAll("leptos-island")) {
			Promise.resolve()
				.then(() => window.__hydrateIsland(island, island.dataset.component))
				.catch(() => {});
		}
	}
}

/** A page that is still changing (a running batch) names how soon to ask again, and may name
 * where (the access review's run it watches). */
function poll() {
	clearTimeout(pollTimer);
	const changing = document.querySelector("[data-refresh-ms]");
	const every = Number(changing?.dataset.refreshMs);
	if (!every) return;
	const seen = navigation;
	const again = changing.dataset.refreshHref || location.href;
	pollTimer = setTimeout(() => {
		if (seen === navigation) navigate(new Request(again, { headers: { Accept: "text/html" } }), "replace", location.hash);
	}, every);
}

poll();

// A deep link's row takes the focus (and is scrolled to) even where the browser ignores
// `autofocus` on a table row.
if (document.activeElement === document.body) document.querySelector("[autofocus]")?.focus();
