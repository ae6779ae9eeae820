"""Re-extract messages and merge them into the English catalogue, keeping existing translations.

    python scripts/update_catalogue.py          # then fill the empty msgstr entries it lists
"""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
POT = ROOT / "web/locale/messages.pot"
PO = ROOT / "web/locale/en/LC_MESSAGES/messages.po"

subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_",
                "-k", "gettext", "-o", str(POT), "--no-location", "--omit-header", "--sort-output", "."],
               cwd=ROOT, check=True, capture_output=True)
with POT.open("rb") as fh:
    template = read_po(fh)
old = {}
if PO.exists():
    with PO.open("rb") as fh:
        old = {m.id: m.string for m in read_po(fh, locale="en") if m.id}
template.locale = "en"
missing = []
for message in template:
    if message.id:
        message.string = old.get(message.id, "")
        if not message.string:
            missing.append(message.id)
PO.parent.mkdir(parents=True, exist_ok=True)
with PO.open("wb") as fh:
    write_po(fh, template, omit_header=False, sort_output=True, width=0)
print(f"{len(template) - 1} messages; {len(missing)} without English:")
for m in missing:
    print("  ", m)
