#!/usr/bin/env python3
"""Sums the outcomes in every .trx file under a folder and prints 'N passed, N failed, N skipped'.

Before that line it lists the slowest tests (their duration as the test framework measured it), so a
run's length can be read from its log, and then every failed test with the start of its message, so
the end of a long log says what failed.
"""
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def seconds(text):
    """A .trx duration 'hh:mm:ss.fffffff' in seconds."""
    hours, minutes, rest = (text or "0:0:0").split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(rest)


passed = failed = skipped = 0
durations = []
failures = []
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
                message = next((m.text for m in result.iter() if m.tag.endswith("Message")), "") or ""
                said = " ".join(line.strip() for line in message.splitlines() if line.strip())
                failures.append((trx.parent.name, result.get("testName", "?"), said))
            durations.append((seconds(result.get("duration")), result.get("testName", "?")))
if not files:
    failed += 1
    print("no test results found", file=sys.stderr)
if durations:
    print("slowest tests:")
    for duration, name in sorted(durations, reverse=True)[:15]:
        print(f"  {duration:7.1f}s  {name[:150]}")
    print(f"  all tests together: {sum(d for d, _ in durations) / 60:.1f} min (tests of one project may overlap)")
if failures:
    print("failed tests:")
    for project, name, said in failures:
        print(f"  {project}: {name[:200]}")
        print(f"      {said[:600]}")
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
