#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The error catalogue (docs/errors.md) against the code, both ways.

Fails when an ID the code logs (a "ABC-0123" string in router/*.c) has no
row; when a row's level is not the level the code logs it at (LOG_DEBUG,
LOG_INFO, LOG_WARN, LOG_ERROR right before the ID; "any" for LOG_AT), or
when an ID is written elsewhere than as a LOG_* call's ID (passed through a
variable, its level could not be checked);
when a warn or error row has an empty "what to do" or "none" alone; or
when a row names an ID the code no longer logs. Usage: check_errors_doc.py SRC
"""
import glob
import os
import re
import sys

ID = re.compile(r'"([A-Z]{2,4}-[0-9]{4})"')
CALL = re.compile(r'LOG_(DEBUG|INFO|WARN|ERROR|AT)\(\s*(?:[a-z_]+,\s*)?$')
ROW = re.compile(r'^\|\s*(`[A-Z]{2,4}-[0-9]{4}`(?:\s*/\s*`[A-Z]{2,4}-[0-9]{4}`)*)\s*\|([^|]*)\|([^|]*)\|(.*)\|\s*$')


def code_ids(src):
    ids = {}
    for path in sorted(glob.glob(os.path.join(src, "router", "*.c"))):
        text = open(path, encoding="utf-8").read()
        for m in ID.finditer(text):
            call = CALL.search(text[max(0, m.start() - 80):m.start()])
            level = {"AT": "any"}.get(call.group(1), call.group(1).lower()) if call else None
            where = "%s:%d" % (os.path.relpath(path, src), text.count("\n", 0, m.start()) + 1)
            ids.setdefault(m.group(1), []).append((level, where))
    return ids


def doc_rows(path):
    rows = {}
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        m = ROW.match(line)
        if not m:
            continue
        levels = {x.strip() for x in m.group(2).split("/")}
        for one in re.findall(r"`([A-Z]{2,4}-[0-9]{4})`", m.group(1)):
            if one in rows:
                rows[one] = rows[one] + [(n, levels, m.group(3).strip(), m.group(4).strip())]
            else:
                rows[one] = [(n, levels, m.group(3).strip(), m.group(4).strip())]
    return rows


def main():
    src = sys.argv[1]
    doc = os.path.join(src, "docs", "errors.md")
    ids, rows = code_ids(src), doc_rows(doc)
    bad = []
    for i, uses in sorted(ids.items()):
        if i not in rows:
            bad.append("%s (logged at %s) has no row in docs/errors.md" % (i, uses[0][1]))
            continue
        if len(rows[i]) > 1:
            bad.append("%s has %d rows in docs/errors.md" % (i, len(rows[i])))
        line, levels, meaning, todo = rows[i][0]
        for level, where in uses:
            if not level:
                bad.append("%s at %s is not the ID argument of a LOG_* call, so its level cannot be "
                           "checked: write it in the LOG_DEBUG/INFO/WARN/ERROR/AT call" % (i, where))
            elif level not in levels:
                bad.append("%s: logged at %s at %s, docs/errors.md:%d says %s"
                           % (i, level, where, line, "/".join(sorted(levels))))
        if not meaning:
            bad.append("%s: docs/errors.md:%d has no meaning" % (i, line))
        if levels & {"warn", "error", "any"} and (not todo or todo.lower() in ("none", "-")):
            bad.append("%s: docs/errors.md:%d is a %s with nothing to do" % (i, line, "/".join(levels)))
    for i, r in sorted(rows.items()):
        if i not in ids:
            bad.append("docs/errors.md:%d lists %s, which the code does not log" % (r[0][0], i))
    for b in bad:
        print("FAIL:", b)
    if not bad:
        print("ok: %d IDs, each in docs/errors.md with its level and what to do" % len(ids))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
