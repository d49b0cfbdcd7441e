// Project suggestions while typing in a projects field (`data-suggest`, rendered only when the
// operator's directory names projects): the word at the caret is sent, debounced, to the
// server, which asks Keystone through the directory reader and answers at most a few projects
// this user may see. Picking one puts its name (or, when the name is not unique among the
// answers or has a separator in it, its ID) in place of the word. Without this script the field
// takes names and IDs all the same; the plan shows what each name resolved to.
const SEPARATOR = /[\s,;]/;
let timer = 0;
let asked = 0;

addEventListener("input", (ev) => {
	const field = ev.target;
	if (!(field instanceof HTMLTextAreaElement) || !field.dataset.suggest) return;
	clearTimeout(timer);
	timer = setTimeout(() => suggest(field), 250);
});

// The word the caret is in or after: what a suggestion replaces.
function wordAtCaret(field) {
	const text = field.value;
	let start = field.selectionEnd;
	let end = start;
	while (start > 0 && !SEPARATOR.test(text[start - 1])) start--;
	while (end < text.length && !SEPARATOR.test(text[end])) end++;
	return { start, end, word: text.slice(start, end) };
}

async function suggest(field) {
	const box = document.getElementById(field.dataset.suggestBox);
	if (!box) return;
	const { word } = wordAtCaret(field);
	const mine = ++asked;
	let found = [];
	if (word.length >= 2) {
		try {
			const res = await fetch(field.dataset.suggest, {
				method: "POST",
				headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
				body: new URLSearchParams({ q: word }),
			});
			if (res.ok) found = await res.json();
		} catch {
			// No suggestions this time; typing on asks again.
		}
	}
	// A later keystroke asked again meanwhile: its answer is the one to show.
	if (mine !== asked) return;
	show(box, field, word, found);
}

function show(box, field, word, found) {
	const list = box.querySelector("ul");
	const status = box.querySelector("[role=status]");
	list.replaceChildren(
		...found.map((project) => {
			const label = project.domain ? `${project.name} (${project.domain})` : project.name;
			const button = document.createElement("button");
			button.type = "button";
			button.className = "secondary";
			button.textContent = label;
			button.title = project.id;
			button.setAttribute("aria-label", `Add project ${label}, ID ${project.id}`);
			button.addEventListener("click", () => choose(box, field, project, found));
			const item = document.createElement("li");
			item.append(button);
			return item;
		}),
	);
	status.textContent =
		word.length < 2 ? "" : found.length ? `Projects matching \u201c${word}\u201d:` : `No project matches \u201c${word}\u201d.`;
}

function choose(box, field, project, found) {
	const { start, end } = wordAtCaret(field);
	const unique = found.filter((p) => p.name === project.name).length === 1 && !SEPARATOR.test(project.name);
	const entry = unique ? project.name : project.id;
	const before = field.value.slice(0, start);
	const after = field.value.slice(end).replace(/^[\s,;]*/, "");
	field.value = `${before}${entry}\n${after}`;
	const caret = before.length + entry.length + 1;
	field.focus();
	field.setSelectionRange(caret, caret);
	show(box, field, "", []);
}
