# Rename a subset font so it does not carry the Reserved Font Name of its
# source (SIL OFL 1.1 §3). Used by `make pdffont` (mk/report.mk).
import sys
from fontTools.ttLib import TTFont

src, dst, family = sys.argv[1], sys.argv[2], sys.argv[3]
f = TTFont(src, recalcTimestamp=False)  # reproducible bytes
for rec in f["name"].names:
    if rec.nameID in (1, 4, 16, 21):
        rec.string = family
    elif rec.nameID in (3, 6, 20):
        rec.string = family.replace(" ", "")
    elif rec.nameID in (2, 17, 22):
        rec.string = "Regular"
f.save(dst)
