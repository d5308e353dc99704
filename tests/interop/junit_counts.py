"""Counts the test cases of JUnit XML reports: prints "PASSED FAILED SKIPPED".

Usage: python3 junit_counts.py REPORT.xml...  (a missing or unreadable report is an error)
With --list, also prints each failed test case's name to stderr.
"""

import sys
import xml.etree.ElementTree as ET


def main(argv: list[str]) -> int:
    show = "--list" in argv
    paths = [a for a in argv if a != "--list"]
    passed = failed = skipped = 0
    for path in paths:
        root = ET.parse(path).getroot()
        for case in root.iter("testcase"):
            outcome = {child.tag for child in case}
            name = f"{case.get('classname', '')}::{case.get('name', '')}".lstrip(":")
            if outcome & {"failure", "error"}:
                failed += 1
                if show:
                    print(f"  FAILED {name}", file=sys.stderr)
            elif "skipped" in outcome:
                skipped += 1
                if show:
                    print(f"  SKIPPED {name}", file=sys.stderr)
            else:
                passed += 1
    print(passed, failed, skipped)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
