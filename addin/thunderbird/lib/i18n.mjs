// The add-on's own words, in the two languages the core speaks (nl, en). The findings'
// messages come from the core in the same language.

export const STRINGS = {
  en: {
    warningTitle: "Check this message before it goes",
    warningIntro: "leakwatch found something that may be a mistake:",
    blockedIntro: "This message cannot be sent:",
    back: "Go back and edit",
    sendAnyway: "Send anyway",
    suggestion: "Did you mean {s}?",
    recipients: "Recipients",
    notSignedInTitle: "leakwatch: not signed in",
    notSignedIn: "The message was checked and sent without the privacy notice and without leak detection. Sign in in the leakwatch settings.",
    unreachableTitle: "leakwatch: server unreachable",
    unreachable: "The message was checked and sent without the privacy notice and without leak detection: {why}",
    refusedTitle: "leakwatch: message not registered",
    refused: "The server did not register the message ({why}); it was sent without the privacy notice and without leak detection.",
    signInAgainTitle: "leakwatch: sign in again",
    signInAgain: "Your leakwatch sign-in has expired. The message was sent without the privacy notice and without leak detection.",
    checkFailedTitle: "leakwatch could not check this message",
    checkFailed: "It was sent unchecked: {why}",
    discloseFailedTitle: "leakwatch: no privacy notice",
    discloseFailed: "The notice could not be added ({why}); the message was sent without it and is not tracked.",
    viewTitle: "leakwatch: your sent messages",
    messages: "Registered messages",
    incidents: "Incidents",
    alerts: "Alerts",
    tracked: "tracked",
    notTracked: "not tracked",
    overridden: "sent despite a warning",
    wrongPerson: "I sent this to the wrong person",
    chooseWrong: "Which recipients were wrong?",
    report: "Report incident",
    cancel: "Cancel",
    reported: "Incident reported.",
    none: "Nothing yet.",
    signInFirst: "Sign in first (Settings).",
    settings: "Settings",
    openView: "Sent messages and incidents",
    status: "Status",
    signedInAs: "Signed in as {email} ({tenant}) at {server}",
    notSignedInShort: "Not signed in",
    historySize: "Contact history: {n} sent messages",
    deadline: "deadline",
  },
  nl: {
    warningTitle: "Controleer dit bericht voordat het weggaat",
    warningIntro: "leakwatch vond iets dat een vergissing kan zijn:",
    blockedIntro: "Dit bericht kan niet worden verzonden:",
    back: "Terug en aanpassen",
    sendAnyway: "Toch verzenden",
    suggestion: "Bedoelde u {s}?",
    recipients: "Ontvangers",
    notSignedInTitle: "leakwatch: niet aangemeld",
    notSignedIn: "Het bericht is gecontroleerd en verzonden zonder privacymelding en zonder lekdetectie. Meld u aan in de instellingen van leakwatch.",
    unreachableTitle: "leakwatch: server niet bereikbaar",
    unreachable: "Het bericht is gecontroleerd en verzonden zonder privacymelding en zonder lekdetectie: {why}",
    refusedTitle: "leakwatch: bericht niet geregistreerd",
    refused: "De server heeft het bericht niet geregistreerd ({why}); het is verzonden zonder privacymelding en zonder lekdetectie.",
    signInAgainTitle: "leakwatch: meld u opnieuw aan",
    signInAgain: "Uw aanmelding bij leakwatch is verlopen. Het bericht is verzonden zonder privacymelding en zonder lekdetectie.",
    checkFailedTitle: "leakwatch kon dit bericht niet controleren",
    checkFailed: "Het is ongecontroleerd verzonden: {why}",
    discloseFailedTitle: "leakwatch: geen privacymelding",
    discloseFailed: "De melding kon niet worden toegevoegd ({why}); het bericht is zonder verzonden en wordt niet gevolgd.",
    viewTitle: "leakwatch: uw verzonden berichten",
    messages: "Geregistreerde berichten",
    incidents: "Incidenten",
    alerts: "Meldingen",
    tracked: "gevolgd",
    notTracked: "niet gevolgd",
    overridden: "verzonden ondanks een waarschuwing",
    wrongPerson: "Ik heb dit naar de verkeerde persoon gestuurd",
    chooseWrong: "Welke ontvangers waren verkeerd?",
    report: "Incident melden",
    cancel: "Annuleren",
    reported: "Incident gemeld.",
    none: "Nog niets.",
    signInFirst: "Meld u eerst aan (Instellingen).",
    settings: "Instellingen",
    openView: "Verzonden berichten en incidenten",
    status: "Status",
    signedInAs: "Aangemeld als {email} ({tenant}) bij {server}",
    notSignedInShort: "Niet aangemeld",
    historySize: "Contactgeschiedenis: {n} verzonden berichten",
    deadline: "uiterlijk",
  },
};

export const LANGS = ["nl", "en"];

/** The language for a UI locale such as "nl-NL" (Dutch) or anything else (English). */
export function langFor(locale) {
  return String(locale ?? "").toLowerCase().startsWith("nl") ? "nl" : "en";
}

export function t(lang, key, values = {}) {
  const table = STRINGS[lang] ?? STRINGS.en;
  const text = table[key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}
