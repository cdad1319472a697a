// What a page shows, checked for issue 18's defects: the visible text of a page in headless
// Chromium (Playwright), each piece with the language it is marked with (the nearest `lang`
// attribute), and a check that fails on a raw code (a snake_case identifier, an i18n key)
// or on words of the other language (an English line on a Dutch page or vice versa), and
// on informal Dutch ("je", "jij": the product addresses people formally, "u").
//
// Used by the Thunderbird add-on's page test and the dashboard's screens test. Test-only.

/** Words that mark English text and are not Dutch words. */
const ENGLISH = new Set(
  (
    "the and with without your you not been has have this that these from for by to at on are will please " +
    "sent message messages recipient recipients opened fetched first last times deadline settings sign signed " +
    "history organisation organization password language incidents alerts evidence notified which wrong " +
    "person cancel report nothing yet yes no other when what why who how here there should must can cannot " +
    "could would notice tracked confirm confirmed address hours minutes page"
  ).split(" "),
);

/** Words that mark Dutch text and are not English words. */
const DUTCH = new Set(
  (
    "de het een en van niet met zonder uw u voor bij naar op aan geen wordt worden zijn nog ook dat deze dit " +
    "om tot uit als er heeft hebt kan kunt moet mag werd keer eerst laatst verzonden bericht berichten " +
    "ontvanger ontvangers geopend opgehaald melding meldingen instellingen aangemeld afgemeld wachtwoord taal " +
    "tijdzone tijden bewijs verkeerde verkeerd ja nee overig uiterlijk meldtermijn volgen gevolgd bezwaar " +
    "bevestig bevestigen adres uur minuten pagina mailprogramma mailprogramma's organisatie ophalingen"
  ).split(" "),
);

/** `text` without e-mail addresses, URLs and domain names (data, in no language). */
function withoutAddresses(text) {
  return text
    .replace(/\b[\w.+'-]+@[\w-]+(\.[\w-]+)+\b/g, " ")
    .replace(/\bhttps?:\/\/\S+/g, " ")
    .replace(/\b[\w-]+(\.[\w-]+)*\.(nl|com|org|test|example)\b/g, " ");
}

/** Informal Dutch: the product says "u". */
const INFORMAL = new Set(["je", "jij", "jou", "jouw", "jullie"]);

/** Which of the two languages `text` reads as (by their marker words); `fallback` on a tie. */
export function guessLang(text, fallback = "en") {
  const words = withoutAddresses(String(text)).toLowerCase().match(/[a-zà-ÿ']+/g) ?? [];
  const en = words.filter((w) => ENGLISH.has(w)).length;
  const nl = words.filter((w) => DUTCH.has(w)).length;
  return en === nl ? fallback : en > nl ? "en" : "nl";
}

/**
 * The visible text of `page` (or of the element `root` selects): one entry per text node,
 * `{text, lang}`, plus the title, placeholders, alt texts and labels a person sees or
 * hears. Hidden elements (display: none, a closed <details>) are left out.
 */
export async function visibleTexts(page, root = "body") {
  return page.evaluate((rootSelector) => {
    const out = [];
    const langOf = (node) => (node.closest?.("[lang]")?.getAttribute("lang") ?? document.documentElement.lang ?? "").slice(0, 2).toLowerCase();
    const visible = (el) => (typeof el.checkVisibility === "function" ? el.checkVisibility({ checkVisibilityCSS: true }) : true);
    const start = document.querySelector(rootSelector) ?? document.body;
    const walker = document.createTreeWalker(start, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const el = node.parentElement;
      const text = node.textContent.replace(/\s+/g, " ").trim();
      if (!text || !el || el.closest("script, style, noscript, template")) continue;
      if (el.tagName === "OPTION" ? !visible(el.closest("select") ?? el) : !visible(el)) continue;
      out.push({ text, lang: langOf(el), where: el.tagName.toLowerCase() + (el.id ? `#${el.id}` : "") });
    }
    for (const el of start.querySelectorAll("[placeholder], [alt], [aria-label], [title]")) {
      if (!visible(el)) continue;
      for (const attr of ["placeholder", "alt", "aria-label", "title"]) {
        const text = el.getAttribute(attr)?.trim();
        if (text) out.push({ text, lang: langOf(el), where: `${el.tagName.toLowerCase()}[${attr}]` });
      }
    }
    if (rootSelector === "body" && document.title) out.push({ text: document.title, lang: langOf(document.documentElement), where: "title" });
    return out;
  }, root);
}

/**
 * The problems in `texts` for a page in `lang`: raw codes, i18n `keys`, words of the other
 * language, informal Dutch. `allow` lists user content (subjects, names, organisation
 * names) that is taken out first; addresses and URLs are always taken out.
 */
export function textProblems(texts, lang, { allow = [], keys = [] } = {}) {
  const problems = [];
  const keySet = new Set(keys.filter((k) => /[A-Z_]/.test(k)));
  for (const { text, lang: marked, where } of texts) {
    const own = marked || lang;
    let rest = text;
    for (const a of [...allow].sort((x, y) => y.length - x.length)) if (a) rest = rest.split(a).join(" ");
    rest = withoutAddresses(rest);
    const code = rest.match(/\b[a-z][a-z0-9]*_[a-z0-9_]+\b/);
    if (code) problems.push(`${where}: a raw code "${code[0]}" in "${text}"`);
    for (const word of rest.match(/[A-Za-z][A-Za-z0-9]*/g) ?? []) {
      if (keySet.has(word)) problems.push(`${where}: an i18n key "${word}" in "${text}"`);
    }
    const words = (rest.toLowerCase().match(/[a-zà-ÿ']+/g) ?? []).map((w) => w.replace(/^'+|'+$/g, ""));
    const foreign = own === "nl" ? ENGLISH : DUTCH;
    const hits = words.filter((w) => foreign.has(w));
    if (hits.length) problems.push(`${where}: ${own === "nl" ? "English" : "Dutch"} words (${hits.join(", ")}) on a${own === "nl" ? " Dutch" : "n English"} page: "${text}"`);
    if (own === "nl") {
      const informal = words.filter((w) => INFORMAL.has(w));
      if (informal.length) problems.push(`${where}: informal Dutch (${informal.join(", ")}): "${text}"`);
    }
  }
  return problems;
}

/** The visible text of `page` checked (`textProblems`); returns the texts, for more asserts. */
export async function checkPageText(page, lang, options = {}) {
  const texts = await visibleTexts(page, options.root);
  const problems = textProblems(texts, lang, options);
  const marked = await page.evaluate(() => document.documentElement.lang);
  if (marked.slice(0, 2).toLowerCase() !== lang) problems.unshift(`the page is marked lang="${marked}", not ${lang}`);
  if (problems.length) {
    throw new Error(`${options.name ?? page.url()} (${lang}) shows:\n  ${problems.join("\n  ")}`);
  }
  return texts;
}

/** How many pixels the page scrolls sideways (0 when it fits the viewport). */
export function sidewaysOverflow(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}
