#!/usr/bin/env python3
"""Sums the outcomes in every .trx file under a folder and prints 'N passed, N failed, N skipped'."""
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

passed = failed = skipped = 0
files = list(Path(sys.argv[1]).rglob("*.trx"))
for trx in files:
    root = ET.parse(trx).getroot()
    for result in root.iter():
        if result.tag.endswith("UnitTestResult"):
            outcome = result.get("outcome", "")
            if outcome == "Passed":
                passed += 1
            elif outcome in ("NotExecuted", "Inconclusive"):
                skipped += 1
            else:
                failed += 1
if not files:
    failed += 1
    print("no test results found", file=sys.stderr)
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
