#!/usr/bin/env python3
"""Writes profile-*.json: realistic sender histories the scenario tests check drafts against.

Run from this folder; the output is committed so every suite (Rust, Node) reads the same data.
History is newest first, as check-v1 wants it.
"""
import json
from datetime import datetime, timedelta, timezone

def expand(pattern, start):
    """pattern: list of (count, to, cc, subject) or (count, to, cc, subject, bcc). Spreads
    messages over time, newest first."""
    messages = []
    t = start
    for count, to, cc, subject, *bcc in pattern:
        for i in range(count):
            message = {"to": to, "cc": cc, "subject": f"{subject} ({i + 1})",
                       "sent_at": t.isoformat()}
            if bcc:
                message["bcc"] = bcc[0]
            messages.append(message)
            t -= timedelta(hours=7)
    return messages

start = datetime(2026, 11, 30, 16, 0, tzinfo=timezone.utc)

accountant = {
    "from": "Anna de Boer <anna.deboer@boekhoudpartners.nl>",
    "policy": {
        "internal_domains": ["boekhoudpartners.nl"],
        "trusted_domains": ["salarisverwerker.nl"],
    },
    "contacts": [
        {"address": "jan.jansen@klantbedrijf.nl", "name": "Jan Jansen"},
        {"address": "p.devries@bakkerij-devries.nl", "name": "Piet de Vries"},
        {"address": "m.bakker@utrecht.nl", "name": "Bakker, Marloes"},
        {"address": "marieke.visser@gmail.com", "name": "Marieke Visser"},
        {"address": "info@tandartspraktijk-smit.nl", "name": "Tandartspraktijk Smit"},
        {"address": "s.khan@acme-logistics.co.uk", "name": "Sanjay Khan"},
    ],
    "history": expand([
        (12, ["Jan Jansen <jan.jansen@klantbedrijf.nl>"], [], "Jaarrekening Klantbedrijf"),
        (4, ["finance@klantbedrijf.nl"], ["jan.jansen@klantbedrijf.nl"], "Btw-aangifte"),
        (6, ["p.devries@bakkerij-devries.nl"], [], "Loonstroken Bakkerij De Vries"),
        (3, ["jan.jansen@klantbedrijf.nl", "r.vanderlaan@vanderlaan-advocaten.nl"], [], "Overname Klantbedrijf"),
        (5, ["\"Bakker, Marloes\" <m.bakker@utrecht.nl>"], [], "Subsidieaanvraag"),
        (4, ["marieke.visser@gmail.com"], [], "Aangifte inkomstenbelasting"),
        (3, ["info@tandartspraktijk-smit.nl"], [], "Kwartaalcijfers"),
        (4, ["s.khan@acme-logistics.co.uk"], [], "Intercompany invoices"),
        (8, ["kees@boekhoudpartners.nl"], ["lisa@boekhoudpartners.nl"], "Intern overleg"),
        (3, ["payroll@salarisverwerker.nl"], [], "Salarisrun"),
        (2, ["h.demir@demir-installatietechniek.nl", "jan.jansen@klantbedrijf.nl",
             "p.devries@bakkerij-devries.nl"], [], "Netwerkborrel"),
        # The sender's regular project group: 11 people from 4 organisations in To/Cc.
        (2, [f"lid{i}@projectpartner-a.nl" for i in range(1, 5)]
            + [f"lid{i}@projectpartner-b.nl" for i in range(1, 4)]
            + ["lid1@projectpartner-c.nl", "lid2@projectpartner-c.nl"],
         ["jan.jansen@klantbedrijf.nl", "p.devries@bakkerij-devries.nl"], "Stuurgroep"),
        (1, ["noreply@undisclosed"], [], "Broken history entry is skipped"),
    ], start),
}

# A German tax advisory office (Steuerberatung). Its monthly client newsletter goes out in
# Bcc: those clients never saw each other.
newsletter_de = [
    "info@baeckerei-hofmann.de", "buero@elektro-schneider.de", "kontakt@zimmerei-braun.de",
    "info@autohaus-lange.de", "praxis@physio-neumann.de", "info@gaertnerei-fischer.de",
    "buero@malerbetrieb-vogel.de", "info@cafe-sommer.de", "kontakt@friseur-engel.de",
    "info@druckerei-roth.de", "buero@dachdecker-koch.de", "info@optik-hartmann.de",
    "t.becker@becker-metallbau.de", "m.wagner@web.de",
]
steuerberater = {
    "from": "Katrin Weber <k.weber@weber-steuerberatung.de>",
    "policy": {"internal_domains": ["weber-steuerberatung.de"]},
    "contacts": [
        {"address": "t.becker@becker-metallbau.de", "name": "Thomas Becker"},
        {"address": "s.krueger@krueger-immobilien.de", "name": "Sabine Krüger"},
        {"address": "m.wagner@web.de", "name": "Markus Wagner"},
        {"address": "anna.keller@t-online.de", "name": "Anna Keller"},
    ],
    "history": expand([
        (10, ["Thomas Becker <t.becker@becker-metallbau.de>"], [], "Jahresabschluss Becker Metallbau"),
        (6, ["lohn@becker-metallbau.de"], ["t.becker@becker-metallbau.de"], "Lohnabrechnung"),
        (6, ["Sabine Krüger <s.krueger@krueger-immobilien.de>"], [], "Nebenkostenabrechnung Krüger"),
        (3, ["t.becker@becker-metallbau.de", "dr.lenz@lenz-rechtsanwaelte.de"], [], "Betriebsprüfung Becker"),
        (5, ["Markus Wagner <m.wagner@web.de>"], [], "Einkommensteuererklärung 2025"),
        (4, ["anna.keller@t-online.de"], [], "Belege Vermietung"),
        (8, ["j.weber@weber-steuerberatung.de"], ["l.otto@weber-steuerberatung.de"], "Kanzleiintern"),
        (3, ["k.weber@weber-steuerberatung.de"], [], "Mandanteninformation", newsletter_de),
        (2, ["Lohnbüro Schulz GmbH <lohn@lohnbuero-schulz.de>"], [], "Lohnläufe"),
    ], start),
}

# The HR department of a Belgian (Flemish) hospital. Staff get the invitation to the staff
# party in Bcc at their private addresses; the social secretariat, the occupational health
# service and a Dutch mental health partner are written to every week.
staff_be = [
    "jan.peeters@telenet.be", "an.janssens@skynet.be", "tom.maes@proximus.be",
    "els.claes@outlook.be", "luc.wouters@hotmail.be", "sarah.goossens@gmail.com",
    "pieter.dewit@telenet.be", "lotte.mertens@skynet.be", "koen.jacobs@outlook.be",
    "nele.willems@telenet.be", "bart.declercq@gmail.com", "ine.dubois@yahoo.fr",
]
hr_hospital = {
    "from": "Els Peeters <els.peeters@az-lindenhof.be>",
    "policy": {"internal_domains": ["az-lindenhof.be"]},
    "contacts": [
        {"address": "dossier@socsec-vlaanderen.be", "name": "Sociaal Secretariaat Vlaanderen"},
        {"address": "medisch.toezicht@preventiedienst-idp.be", "name": "IDP Preventiedienst"},
        {"address": "m.peters@noordzorg-ggz.nl", "name": "Marieke Peters"},
        {"address": "sophie.claes@outlook.be", "name": "Sophie Claes"},
    ],
    "history": expand([
        (12, ["Sociaal Secretariaat Vlaanderen <dossier@socsec-vlaanderen.be>"], [], "Loondossier"),
        (8, ["medisch.toezicht@preventiedienst-idp.be"], [], "Werkhervatting"),
        (6, ["Marieke Peters <m.peters@noordzorg-ggz.nl>"], [], "Samenwerking Noordzorg"),
        (4, ["rh@chu-montclair.be"], [], "Détachement infirmier"),
        (3, ["sophie.claes@outlook.be"], [], "Contract verlenging"),
        (3, ["j.vandamme@verzekeraar-fidelis.be"], [], "Groepsverzekering"),
        (6, ["directie@az-lindenhof.be"], ["payroll@az-lindenhof.be"], "Personeelsplanning"),
        (2, ["hr@az-lindenhof.be"], [], "Uitnodiging personeelsfeest", staff_be),
        (2, ["a.lambert@outlook.com"], [], "Sollicitatie"),
    ], start),
}

# A US software consultancy with clients in the US and one NHS trust in England. Its
# quarterly update goes out in Bcc.
update_us = [
    "mike.ortiz@pinecrest-health.org", "s.lee@northwind-analytics.io", "ap@hbl-freight.com",
    "cfo@summit-dental.com", "it@lakeshore-schools.org", "ops@redwood-realty.com",
    "jen@blueharbor-coffee.com", "info@granite-law.com", "team@sparrow-apps.io",
    "k.morgan@riverside-health.co.uk", "dave.kim@gmail.com", "rita.santos@comcast.net",
]
consultancy = {
    "from": "Dana Whitfield <dana@brightline-labs.com>",
    "policy": {"internal_domains": ["brightline-labs.com"]},
    "contacts": [
        {"address": "mike.ortiz@pinecrest-health.org", "name": "Mike Ortiz"},
        {"address": "k.morgan@riverside-health.co.uk", "name": "Kate Morgan"},
        {"address": "dave.kim@gmail.com", "name": "Dave Kim"},
    ],
    "history": expand([
        (10, ["Mike Ortiz <mike.ortiz@pinecrest-health.org>"], [], "Pinecrest EHR integration"),
        (8, ["Kate Morgan <k.morgan@riverside-health.co.uk>"], [], "Riverside discharge summaries"),
        (6, ["s.lee@northwind-analytics.io"], [], "Northwind dashboard"),
        (4, ["Harbor Logistics Inc. <ap@hbl-freight.com>"], [], "Statement of work"),
        (3, ["mike.ortiz@pinecrest-health.org", "s.lee@northwind-analytics.io"], [], "Joint data pipeline"),
        (5, ["dave.kim@gmail.com"], [], "Freelance sprint"),
        (6, ["eng@brightline-labs.com"], [], "Standup notes"),
        (2, ["dana@brightline-labs.com"], [], "Brightline quarterly update", update_us),
    ], start),
}

for name, profile in [("accountant", accountant), ("steuerberater", steuerberater),
                      ("hr-hospital", hr_hospital), ("consultancy", consultancy)]:
    with open(f"profile-{name}.json", "w", encoding="utf-8") as out:
        json.dump(profile, out, indent=1, ensure_ascii=False)
        out.write("\n")
    print(name, len(profile["history"]), "messages")
