//! Health information, a special category of personal data (GDPR Art. 9).
//!
//! A term list, Dutch (including Belgian HR language), English, French and German, matched on
//! whole words or on word stems. Each term belongs
//! to a concept, and a text counts concepts: "kanker" and "cancer" in a bilingual mail are one
//! finding, not two.
//!
//! What is left out matters as much as what is in. Words that are everyday business language
//! are out even though they can be about health: "behandeling" (also the handling of a
//! request), "care", "health" (HealthCo, health check), "medical" alone (medical devices are a
//! market), "patient" alone ("please be patient"), "diagnostic(s)" (IT logs), "hospitality"
//! (so `hospitalis`/`hospitaliz`, not `hospitali`), "disabled" (accounts), "allergen" (food
//! labels), "depression" (economy, weather), the disability insurances
//! ("arbeidsongeschiktheidsverzekering", "Berufsunfähigkeitsversicherung": products an
//! accountant quotes), "maladie" alone ("assurance maladie" is a health insurer) and
//! "Attest" alone (any certificate).

use super::text::{find_terms, Term, Words};

/// (concept, term). Terms are folded: lowercase ASCII, accents removed ("patiënt" → "patient").
const TERMS: &[(&str, Term)] = &[
    ("diagnosis", Term::exact(&["diagnose"])),
    ("diagnosis", Term::exact(&["diagnoses"])),
    ("diagnosis", Term::exact(&["diagnosed"])),
    ("diagnosis", Term::exact(&["diagnosis"])),
    ("diagnosis", Term::exact(&["gediagnosticeerd"])),
    ("medical-record", Term::stem(&["medisch", "dossier"])),
    ("medical-record", Term::stem(&["medische", "dossier"])),
    ("medical-record", Term::stem(&["medical", "record"])),
    ("medical-record", Term::stem(&["medical", "file"])),
    ("medical-record", Term::stem(&["patientdossier"])),
    ("medical-record", Term::stem(&["patientendossier"])),
    ("medical-record", Term::stem(&["patient", "dossier"])),
    ("medical-record", Term::stem(&["patient", "file"])),
    ("medical-record", Term::stem(&["patient", "record"])),
    ("medication", Term::stem(&["medicatie"])),
    ("medication", Term::stem(&["medication"])),
    ("clinical-picture", Term::stem(&["ziektebeeld"])),
    ("sick-leave", Term::stem(&["ziekmelding"])),
    ("sick-leave", Term::exact(&["ziekgemeld"])),
    ("sick-leave", Term::exact(&["ziek", "gemeld"])),
    ("sick-leave", Term::exact(&["sick", "leave"])),
    ("sick-leave", Term::stem(&["ziekteverlof"])),
    ("sick-leave", Term::stem(&["ziekteverzuim"])),
    ("sick-leave", Term::stem(&["ziektemelding"])),
    ("sick-leave", Term::exact(&["conge", "maladie"])),
    ("sick-leave", Term::exact(&["conge", "de", "maladie"])),
    ("sick-leave", Term::exact(&["arret", "maladie"])),
    ("sick-leave", Term::exact(&["arret", "de", "travail"])),
    ("sick-leave", Term::stem(&["krankmeldung"])),
    ("sick-leave", Term::stem(&["krankgemeldet"])),
    ("sick-leave", Term::stem(&["krankgeschrieben"])),
    ("sick-leave", Term::stem(&["krankschreibung"])),
    // Not a stem: "arbeidsongeschiktheidsverzekering" is an insurance product.
    ("unfit-for-work", Term::exact(&["arbeidsongeschikt"])),
    ("unfit-for-work", Term::exact(&["arbeidsongeschikte"])),
    ("unfit-for-work", Term::exact(&["arbeidsongeschiktheid"])),
    (
        "unfit-for-work",
        Term::exact(&["incapacite", "de", "travail"]),
    ),
    (
        "unfit-for-work",
        Term::exact(&["incapacite", "temporaire", "de", "travail"]),
    ),
    // "Arbeitsunfähigkeit(sbescheinigung)", also written with "ae".
    ("unfit-for-work", Term::stem(&["arbeitsunfahig"])),
    ("unfit-for-work", Term::stem(&["arbeitsunfaehig"])),
    ("unfit-for-work", Term::exact(&["unfit", "for", "work"])),
    (
        "unfit-for-work",
        Term::exact(&["incapacity", "for", "work"]),
    ),
    ("medical-certificate", Term::stem(&["medisch", "attest"])),
    ("medical-certificate", Term::stem(&["medische", "attest"])),
    ("medical-certificate", Term::stem(&["doktersattest"])),
    ("medical-certificate", Term::stem(&["doktersverklaring"])),
    ("medical-certificate", Term::stem(&["ziektebriefje"])),
    (
        "medical-certificate",
        Term::stem(&["certificat", "medical"]),
    ),
    (
        "medical-certificate",
        Term::stem(&["certificats", "medicaux"]),
    ),
    (
        "medical-certificate",
        Term::exact(&["arztliches", "attest"]),
    ),
    ("medical-certificate", Term::exact(&["arztliche", "attest"])),
    (
        "medical-certificate",
        Term::exact(&["arztlichen", "attest"]),
    ),
    (
        "medical-certificate",
        Term::exact(&["aerztliches", "attest"]),
    ),
    ("medical-certificate", Term::exact(&["au", "bescheinigung"])),
    (
        "medical-certificate",
        Term::stem(&["medical", "certificate"]),
    ),
    ("medical-certificate", Term::exact(&["sick", "note"])),
    ("medical-certificate", Term::exact(&["fit", "note"])),
    ("occupational-health", Term::stem(&["arbodienst"])),
    ("occupational-health", Term::stem(&["arboarts"])),
    ("occupational-health", Term::stem(&["arbo", "arts"])),
    ("occupational-health", Term::stem(&["bedrijfsarts"])),
    (
        "occupational-health",
        Term::stem(&["occupational", "physician"]),
    ),
    ("occupational-health", Term::stem(&["company", "doctor"])),
    ("general-practitioner", Term::stem(&["huisarts"])),
    (
        "general-practitioner",
        Term::stem(&["general", "practitioner"]),
    ),
    ("psychiatry", Term::stem(&["psychiat"])),
    ("psychology", Term::stem(&["psycholoog"])),
    ("psychology", Term::exact(&["psychologen"])),
    ("psychology", Term::stem(&["psychologist"])),
    ("oncology", Term::stem(&["oncolo"])),
    ("chemotherapy", Term::stem(&["chemotherap"])),
    ("chemotherapy", Term::exact(&["chemo"])),
    ("chemotherapy", Term::stem(&["chemokuur"])),
    ("cancer", Term::exact(&["kanker"])),
    ("cancer", Term::exact(&["cancer"])),
    ("diabetes", Term::stem(&["diabet"])),
    ("hiv", Term::exact(&["hiv"])),
    ("pregnancy", Term::stem(&["zwangerschap"])),
    ("pregnancy", Term::exact(&["zwanger"])),
    ("pregnancy", Term::stem(&["pregnan"])),
    ("burnout", Term::stem(&["burnout"])),
    ("burnout", Term::exact(&["burn", "out"])),
    ("depression", Term::stem(&["depressie"])),
    ("depression", Term::stem(&["depressief"])),
    ("addiction", Term::stem(&["verslaving"])),
    ("addiction", Term::exact(&["verslaafd"])),
    ("addiction", Term::stem(&["addiction"])),
    ("mental-health-care", Term::exact(&["ggz"])),
    ("hospitalisation", Term::stem(&["ziekenhuisopname"])),
    ("hospitalisation", Term::stem(&["hospitalis"])),
    ("hospitalisation", Term::stem(&["hospitaliz"])),
    ("therapy", Term::exact(&["therapie"])),
    ("therapy", Term::exact(&["therapy"])),
    ("treatment-plan", Term::stem(&["behandelplan"])),
    ("treatment-plan", Term::stem(&["treatment", "plan"])),
    ("allergy", Term::stem(&["allergie"])),
    ("allergy", Term::stem(&["allergisch"])),
    ("allergy", Term::exact(&["allergy"])),
    ("allergy", Term::exact(&["allergies"])),
    ("allergy", Term::exact(&["allergic"])),
    ("epilepsy", Term::stem(&["epilep"])),
    ("disability", Term::exact(&["handicap"])),
    ("disability", Term::exact(&["handicaps"])),
    ("disability", Term::stem(&["gehandicapt"])),
    ("disability", Term::stem(&["disabilit"])),
];

/// The health concepts mentioned in one text, each once, in list order.
pub(super) fn find(chars: &[char], words: &Words) -> Vec<&'static str> {
    let terms: Vec<Term> = TERMS.iter().map(|(_, t)| *t).collect();
    let mut concepts: Vec<&'static str> = Vec::new();
    for (t, _) in find_terms(chars, words, &terms) {
        let concept = TERMS[t].0;
        if !concepts.contains(&concept) {
            concepts.push(concept);
        }
    }
    concepts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn concepts(text: &str) -> Vec<&'static str> {
        let chars: Vec<char> = text.chars().collect();
        find(&chars, &Words::new(&chars))
    }

    #[test]
    fn terms_are_written_folded() {
        for (_, term) in TERMS {
            for word in term.words() {
                let chars: Vec<char> = word.chars().collect();
                let words = Words::new(&chars);
                assert_eq!(words.list().len(), 1, "{word} is one word");
                assert_eq!(words.folded(&words.list()[0]), *word, "{word} is folded");
            }
        }
    }

    #[test]
    fn dutch_terms() {
        for (text, want) in [
            ("De diagnose is gisteren gesteld.", "diagnosis"),
            ("Zij is gediagnosticeerd met iets ernstigs.", "diagnosis"),
            (
                "Bijgaand het medisch dossier van mevrouw.",
                "medical-record",
            ),
            ("De medische dossiers liggen klaar.", "medical-record"),
            ("Zie het Patiëntdossier.", "medical-record"),
            ("Zie het patientdossier.", "medical-record"),
            ("Zie het patie\u{308}ntdossier.", "medical-record"),
            ("Haar medicatie is aangepast.", "medication"),
            ("Het ziektebeeld is complex.", "clinical-picture"),
            ("Ziekmelding van Jan per vandaag.", "sick-leave"),
            ("Jan heeft zich ziek gemeld.", "sick-leave"),
            (
                "Afspraak bij de arbodienst op dinsdag.",
                "occupational-health",
            ),
            ("De arbo-arts belt je.", "occupational-health"),
            ("Advies van de bedrijfsarts.", "occupational-health"),
            ("Verwijzing van de huisarts.", "general-practitioner"),
            ("Hij is onder behandeling bij een psychiater.", "psychiatry"),
            ("Opgenomen in de psychiatrie.", "psychiatry"),
            ("Gesprek met de psycholoog.", "psychology"),
            ("Afspraak bij de oncoloog.", "oncology"),
            ("Hij start met chemotherapie.", "chemotherapy"),
            ("Zij heeft kanker.", "cancer"),
            ("Hij heeft diabetes type 2.", "diabetes"),
            ("Uitslag: HIV negatief.", "hiv"),
            ("Zij is zwanger.", "pregnancy"),
            ("Haar zwangerschapsverlof begint in mei.", "pregnancy"),
            ("Hij zit thuis met een burn-out.", "burnout"),
            ("Burnout-klachten.", "burnout"),
            ("Last van een depressie.", "depression"),
            ("Hulp bij verslaving.", "addiction"),
            ("Aanmelding bij de GGZ.", "mental-health-care"),
            ("Na de ziekenhuisopname is zij thuis.", "hospitalisation"),
            ("Zij volgt therapie.", "therapy"),
            ("Het behandelplan is akkoord.", "treatment-plan"),
            ("Allergieën: pinda.", "allergy"),
            ("Hij is allergisch voor noten.", "allergy"),
            ("Zij heeft epilepsie.", "epilepsy"),
            ("Hij heeft een handicap.", "disability"),
        ] {
            assert_eq!(concepts(text), [want], "{text}");
        }
    }

    #[test]
    fn english_terms() {
        for (text, want) in [
            ("She was diagnosed last week.", "diagnosis"),
            ("The diagnosis is attached.", "diagnosis"),
            ("Attached are his medical records.", "medical-record"),
            ("Please update the patient file.", "medical-record"),
            ("Her medication was changed.", "medication"),
            ("John is on sick leave until Friday.", "sick-leave"),
            (
                "Appointment with the occupational physician.",
                "occupational-health",
            ),
            (
                "Referred by her general practitioner.",
                "general-practitioner",
            ),
            ("He sees a psychiatrist weekly.", "psychiatry"),
            ("A psychiatric evaluation.", "psychiatry"),
            ("A letter from her psychologist.", "psychology"),
            ("The oncology department called.", "oncology"),
            ("He is in chemo.", "chemotherapy"),
            ("She has cancer.", "cancer"),
            ("He is diabetic.", "diabetes"),
            ("She is pregnant.", "pregnancy"),
            ("He is off with burnout.", "burnout"),
            ("Struggling with addiction.", "addiction"),
            ("He was hospitalised on Monday.", "hospitalisation"),
            ("He was hospitalized on Monday.", "hospitalisation"),
            ("She is in therapy.", "therapy"),
            ("The treatment plan is attached.", "treatment-plan"),
            ("Allergies: none known.", "allergy"),
            ("She has epilepsy.", "epilepsy"),
            ("Registered disability.", "disability"),
        ] {
            assert_eq!(concepts(text), [want], "{text}");
        }
    }

    #[test]
    fn belgian_dutch_french_and_german_hr_terms() {
        for (text, want) in [
            ("Zij is arbeidsongeschikt tot eind maart.", "unfit-for-work"),
            (
                "Melding van arbeidsongeschiktheid na ongeval.",
                "unfit-for-work",
            ),
            ("Hij is met ziekteverlof sinds 3 november.", "sick-leave"),
            ("Het ziekteverzuim van Jan blijft hoog.", "sick-leave"),
            (
                "In bijlage het medisch attest van mevrouw Peeters.",
                "medical-certificate",
            ),
            ("Medische attesten voor november.", "medical-certificate"),
            ("Het doktersattest volgt morgen.", "medical-certificate"),
            (
                "Ci-joint le certificat médical de Mme Dubois.",
                "medical-certificate",
            ),
            ("Les certificats médicaux du mois.", "medical-certificate"),
            (
                "Incapacité de travail du 4 au 18 novembre.",
                "unfit-for-work",
            ),
            ("Elle est en congé maladie.", "sick-leave"),
            ("Un arrêt de travail de deux semaines.", "sick-leave"),
            (
                "Arbeitsunfähigkeitsbescheinigung von Herrn Becker",
                "unfit-for-work",
            ),
            (
                "Frau Schulz ist bis Freitag arbeitsunfähig.",
                "unfit-for-work",
            ),
            ("Arbeitsunfaehigkeit ab 02.12.", "unfit-for-work"),
            ("Die Krankmeldung liegt vor.", "sick-leave"),
            ("Er ist seit Montag krankgeschrieben.", "sick-leave"),
            ("Anbei das ärztliche Attest.", "medical-certificate"),
            ("Die AU-Bescheinigung kam per Post.", "medical-certificate"),
            ("A medical certificate is attached.", "medical-certificate"),
            ("He sent a fit note from his GP.", "medical-certificate"),
            ("She is unfit for work this week.", "unfit-for-work"),
        ] {
            assert_eq!(concepts(text), [want], "{text}");
        }
    }

    #[test]
    fn insurance_and_certificates_of_other_kinds_are_not_health() {
        for text in [
            "De premie van uw arbeidsongeschiktheidsverzekering is aftrekbaar.",
            "Offerte AOV: arbeidsongeschiktheidsverzekeringen voor zelfstandigen.",
            "Die Berufsunfähigkeitsversicherung ist als Vorsorgeaufwand absetzbar.",
            "Bitte das Attest der Steuerberaterkammer beilegen.",
            "L'assurance maladie rembourse les frais.",
            "Attest van goed gedrag en zeden.",
            "SSL certificate renewal for the medical devices portal.",
            "Au revoir, et merci pour la bescheinigung.",
        ] {
            assert_eq!(concepts(text), Vec::<&str>::new(), "{text}");
        }
    }

    #[test]
    fn each_concept_counts_once_per_text() {
        assert_eq!(
            concepts("Kanker / cancer. Kanker. Medisch dossier, medical record, patiëntdossier."),
            ["cancer", "medical-record"]
        );
        assert_eq!(
            concepts("diagnose, medicatie en therapie"),
            ["diagnosis", "medication", "therapy"]
        );
    }

    #[test]
    fn ordinary_business_words_are_not_health() {
        for text in [
            "De behandeling van uw aanvraag duurt twee weken.",
            "HealthCo B.V. and Health & Safety guidelines attached.",
            "Customer care will call you back.",
            "We sell medical devices to hospitals.",
            "Please be patient while we process your order.",
            "The patient approach paid off.",
            "Download the diagnostic logs from the portal.",
            "Run diagnostics on the server.",
            "Welcome to the hospitality sector.",
            "The account is disabled.",
            "Allergen information is on the label.",
            "The economic depression of the 1930s.",
            "Fysiotherapie-praktijk zoekt nieuwe software.",
            "Therapeutic area: not applicable.",
            "Ship it in a cardboard box.",
            "Medisch. Dossier nummer volgt.",
            "Kankeren helpt niet, we lossen het op.",
        ] {
            assert_eq!(concepts(text), Vec::<&str>::new(), "{text}");
        }
    }
}
