// The add-in's own words in the two languages the core speaks. One form of address: "u".
// The findings' own messages come from the core in the same language.

export const STRINGS = {
  en: {
    warnIntro: "leakwatch found something that may be a mistake:",
    blockIntro: "This message cannot be sent:",
    suggestion: "Did you mean {s}?",
    more: "…and {n} more.",
    staleNotice: "The recipients changed while leakwatch was preparing the privacy notice. Please press Send again.",
    openFindings: "Show findings",
    composeUntracked: "leakwatch: this message will go without the privacy notice and without leak detection ({why}).",
    composeTracked: "leakwatch: the privacy notice and leak detection will be added when you send.",
    composeDisclosed: "leakwatch: the privacy notice will be added when you send.",
    reason_not_signed_in: "you are not signed in",
    reason_expired: "your sign-in has expired",
    reason_timeout: "the server did not answer in time",
    reason_unreachable: "the server could not be reached",
    reason_server_error: "the server had a fault",
    reason_malformed_response: "the server gave an unusable answer",
    reason_refused: "the server refused the message",
    reason_disclose_failed: "the notice could not be added",
    reason_check_failed: "the check failed",
    reason_stale_notice: "the recipients changed after the notice was prepared",
    reason_no_external: "no recipient outside your organisation",
  },
  nl: {
    warnIntro: "leakwatch vond iets dat een vergissing kan zijn:",
    blockIntro: "Dit bericht kan niet worden verzonden:",
    suggestion: "Bedoelt u {s}?",
    more: "…en nog {n}.",
    staleNotice: "De ontvangers zijn gewijzigd terwijl leakwatch de privacyverklaring voorbereidde. Klik nogmaals op Verzenden.",
    openFindings: "Bevindingen tonen",
    composeUntracked: "leakwatch: dit bericht gaat zonder privacyverklaring en zonder lekdetectie ({why}).",
    composeTracked: "leakwatch: de privacyverklaring en lekdetectie worden bij verzenden toegevoegd.",
    composeDisclosed: "leakwatch: de privacyverklaring wordt bij verzenden toegevoegd.",
    reason_not_signed_in: "u bent niet aangemeld",
    reason_expired: "uw aanmelding is verlopen",
    reason_timeout: "de server antwoordde niet op tijd",
    reason_unreachable: "de server is niet bereikbaar",
    reason_server_error: "de server had een storing",
    reason_malformed_response: "de server gaf een onbruikbaar antwoord",
    reason_refused: "de server weigerde het bericht",
    reason_disclose_failed: "de verklaring kon niet worden toegevoegd",
    reason_check_failed: "de controle is mislukt",
    reason_stale_notice: "de ontvangers zijn gewijzigd nadat de verklaring was voorbereid",
    reason_no_external: "geen ontvanger buiten uw organisatie",
  },
};

/** "nl-NL", "nl-BE" -> "nl"; everything else -> "en". */
export function langOf(displayLanguage) {
  return /^nl\b/i.test(String(displayLanguage || "")) ? "nl" : "en";
}

export function t(lang, key, vars = {}) {
  const table = STRINGS[lang] || STRINGS.en;
  const text = table[key] !== undefined ? table[key] : STRINGS.en[key];
  if (text === undefined) throw new Error(`no text ${key}`);
  return text.replace(/\{(\w+)\}/g, (_, name) => (vars[name] === undefined ? "" : String(vars[name])));
}
