#!/usr/bin/env python3
"""Writes profile-*.json: realistic sender histories the scenario tests check drafts against.

Run from this folder; the output is committed so every suite (Rust, Node) reads the same data.
History is newest first, as check-v1 wants it.
"""
import json
from datetime import datetime, timedelta, timezone

def expand(pattern, start):
    """pattern: list of (count, to, cc, subject). Spreads messages over time, newest first."""
    messages = []
    t = start
    for count, to, cc, subject in pattern:
        for i in range(count):
            messages.append({"to": to, "cc": cc, "subject": f"{subject} ({i + 1})",
                             "sent_at": t.isoformat()})
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

with open("profile-accountant.json", "w", encoding="utf-8") as out:
    json.dump(accountant, out, indent=1, ensure_ascii=False)
    out.write("\n")
print(len(accountant["history"]), "messages")
