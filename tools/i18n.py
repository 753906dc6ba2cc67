#!/usr/bin/env python3
"""Translation workflow for kproxy-tutor's UI strings (see CONTRIBUTING.md).

    python tools/i18n.py sync              # extract into the .pot, update ru and en .po files
    python tools/i18n.py missing [LANG]    # list msgids still untranslated (default ru)
    python tools/i18n.py set FILE.json     # write ru translations: {"msgid": "…"} or
                                           # {"msgid": ["one", "few", "many"]} for plurals

Every step holds a lock, so several people can run it in one checkout without losing edits.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
DOMAIN = "kproxy_tutor"
POT = LOCALES / f"{DOMAIN}.pot"
LANGS = ("ru", "en")
KEYWORDS = ["-k", "_", "-k", "N_", "-k", "ngettext:1,2"]


@contextlib.contextmanager
def locked() -> Iterator[None]:
    with open(LOCALES / ".lock", "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def pybabel(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "-q", *args],
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )


def extract(output: Path) -> None:
    pybabel(
        "extract",
        "-F",
        "babel.cfg",
        "--no-default-keywords",
        *KEYWORDS,
        "--no-location",
        "--sort-output",
        "--project",
        "kproxy-tutor",
        "--copyright-holder",
        "kproxy-tutor authors",
        "-o",
        str(output),
        "kproxy_tutor",
    )


def sync() -> None:
    with locked():
        extract(POT)
        for lang in LANGS:
            po = LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
            if po.exists():
                pybabel(
                    "update",
                    "-i",
                    str(POT),
                    "-o",
                    str(po),
                    "-l",
                    lang,
                    "--no-fuzzy-matching",
                    "--ignore-obsolete",
                    "--width=100",
                )
            else:
                po.parent.mkdir(parents=True, exist_ok=True)
                pybabel("init", "-i", str(POT), "-o", str(po), "-l", lang)


def _read(lang: str):
    from babel.messages.pofile import read_po

    with open(LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as fh:
        return read_po(fh, locale=lang)


def missing(lang: str) -> None:
    catalog = _read(lang)
    out = {}
    for message in catalog:
        if not message.id:
            continue
        if not message.string or (isinstance(message.string, tuple) and not all(message.string)):
            out[message.id if isinstance(message.id, str) else message.id[0]] = (
                "" if isinstance(message.id, str) else ["", "", ""]
            )
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


def set_translations(path: Path, lang: str = "ru") -> None:
    from babel.messages.pofile import write_po

    data = json.loads(path.read_text(encoding="utf-8"))
    with locked():
        catalog = _read(lang)
        unknown = []
        for msgid, text in data.items():
            key = msgid
            message = catalog.get(key)
            if message is None:
                # plural entries are keyed by their singular
                message = next((m for m in catalog if isinstance(m.id, tuple) and m.id[0] == msgid), None)
            if message is None:
                unknown.append(msgid)
                continue
            message.string = tuple(text) if isinstance(text, list) else text
            message.flags.discard("fuzzy")
        with open(LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.po", "wb") as fh:
            write_po(fh, catalog, width=100, omit_header=False)
    for msgid in unknown:
        print(f"not in catalog (run sync first?): {msgid}", file=sys.stderr)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"sync", "missing", "set"}:
        print(__doc__)
        return 2
    if argv[0] == "sync":
        sync()
    elif argv[0] == "missing":
        missing(argv[1] if len(argv) > 1 else "ru")
    else:
        set_translations(Path(argv[1]), argv[2] if len(argv) > 2 else "ru")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
