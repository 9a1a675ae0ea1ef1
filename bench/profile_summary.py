#!/usr/bin/env python
"""Summarise a py-spy collapsed-stack profile (`py-spy record --threads --format raw`), e.g. the one
`bench/flash_sale.py --pyspy /tmp/flash.raw` writes for the measured window only.

    .venv/bin/python bench/profile_summary.py /tmp/flash.raw [--top 25]

Prints, per thread, how many samples were taken; for the event-loop thread, where the leaf frame
was (our code, python-telegram-bot, httpx, the fake, asyncio, aiosqlite, json...), inclusive time
of named stages of the update path, and the functions of our code (runtime/, handlers/, storage/,
core/) by inclusive samples and by "nearest own frame" (the innermost frame of our code on the
stack, i.e. the own function that is paying for a library call); for the SQLite threads, their
leaf frames.
"""

from __future__ import annotations

import argparse
import collections
import re
import sys

OURS = ("runtime/", "handlers/", "storage/", "core/")
_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^():]+)(?::(?P<line>\d+))?\)$")

# (label, predicate on the file path of the leaf frame)
CATEGORIES = [
    ("our code (runtime/handlers/storage/core)", lambda f: f.startswith(OURS)),
    ("bench instrumentation", lambda f: f.endswith("flash_sale.py")),
    ("faketg (the fake Telegram server)", lambda f: f.startswith("faketg/")),
    ("python-telegram-bot", lambda f: f.startswith("telegram/")),
    ("httpx / httpcore / anyio / sniffio", lambda f: f.startswith(("httpx/", "httpcore/", "anyio/", "sniffio/", "h11/"))),
    ("aiosqlite (event-loop side)", lambda f: f.startswith("aiosqlite/")),
    ("asyncio event loop", lambda f: f.startswith("asyncio/") or f in ("selectors.py", "contextvars")),
    ("json", lambda f: f.startswith("json/")),
    ("babel / i18n libs", lambda f: f.startswith("babel/")),
]

# Named stages: a sample counts for a stage when a frame's function name matches.
STAGES = [
    ("UpdatePipeline._process (whole handling of one update)", "UpdatePipeline._process"),
    ("  Update.de_json (PTB parses the stored payload)", "Update.de_json"),
    ("  Application.process_update (handler lookup + our handlers)", "Application.process_update"),
    ("Bot API calls: ExtBot/Bot._post (request building + rate limiter + HTTP + fake)", "Bot._post"),
    ("  AIORateLimiter.process_request", "AIORateLimiter.process_request"),
    ("  FakeTelegram.__call__ (the fake answering)", "FakeTelegram.__call__"),
    ("do_api_request (polling and the outbox)", "ExtBot.do_api_request"),
    ("poll_forever (getUpdates loop incl. inbox store)", "poll_forever"),
    ("  UpdatePipeline.accept (inbox commit)", "UpdatePipeline.accept"),
    ("OutboxSender._run (dispatch loop)", "OutboxSender._run"),
    ("  Outbox.due", "Outbox.due"),
    ("OutboxSender._send_or_fold / _send", "OutboxSender._send"),
    ("UpdatePipeline flush loop", "UpdatePipeline._flush_loop"),
    ("storage: Database.write (transactions)", "Database.write"),
    ("aiosqlite Connection._execute (await a thread hop)", "Connection._execute"),
    ("json.dumps / json.loads", "json"),
]


def parse(path: str):
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line:
                continue
            stack, _, count = line.rpartition(" ")
            try:
                n = int(count)
            except ValueError:
                continue
            frames = stack.split(";")
            yield frames[0], frames[1:], n


def split_frame(frame: str) -> tuple[str, str]:
    m = _FRAME.match(frame)
    if not m:
        return frame, ""
    return m.group("func"), m.group("file")


def category(file: str) -> str:
    for label, test in CATEGORIES:
        if test(file):
            return label
    return "other (stdlib, C extensions, ...)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", help="py-spy raw (collapsed) output, recorded with --threads")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--rate", type=float, default=None, help="samples per second, to print seconds too")
    args = parser.parse_args()

    per_thread: collections.Counter[str] = collections.Counter()
    samples: dict[str, list[tuple[list[str], int]]] = collections.defaultdict(list)
    for thread, frames, n in parse(args.raw):
        name = thread.split(":", 1)[1].strip() if ":" in thread else thread
        per_thread[name] += n
        samples[name].append((frames, n))

    def fmt(n: int, total: int) -> str:
        secs = f" {n / args.rate:7.2f} s" if args.rate else ""
        return f"{n:7d} {n / total * 100:5.1f}%{secs}"

    print("samples per thread (a thread counts only while it is running, not while idle):")
    for name, n in per_thread.most_common():
        print(f"  {n:7d}  {name}")

    main_name = next((t for t in per_thread if "MainThread" in t), None)
    if main_name is None:
        print("no MainThread samples", file=sys.stderr)
        return 1
    main_samples = samples[main_name]
    total = sum(n for _, n in main_samples)

    leaf_cat: collections.Counter[str] = collections.Counter()
    stage: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    nearest: collections.Counter[str] = collections.Counter()
    nearest_cat: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for frames, n in main_samples:
        parsed = [split_frame(f) for f in frames]
        leaf_func, leaf_file = parsed[-1] if parsed else ("", "")
        cat = category(leaf_file)
        leaf_cat[cat] += n
        names = {func for func, _ in parsed}
        files = {file for _, file in parsed}
        for label, needle in STAGES:
            if needle == "json":
                if any(f.startswith("json/") for f in files):
                    stage[label] += n
            elif needle in names:
                stage[label] += n
        ours = []
        for func, file in parsed:
            if file.startswith(OURS):
                key = f"{func} ({file})"
                if key not in ours:
                    ours.append(key)
        for key in ours:
            inclusive[key] += n
        own = next(((f"{func} ({file})") for func, file in reversed(parsed) if file.startswith(OURS)), None)
        if own is not None:
            nearest[own] += n
            nearest_cat[own][cat] += n

    print(f"\nevent-loop thread: {total} samples; where the leaf frame was:")
    for label, n in leaf_cat.most_common():
        print(f"  {fmt(n, total)}  {label}")
    print("\nevent-loop thread: inclusive samples of stages of the update path:")
    for label, _ in STAGES:
        print(f"  {fmt(stage[label], total)}  {label}")
    print(f"\nour code, inclusive (top {args.top}):")
    for key, n in inclusive.most_common(args.top):
        print(f"  {fmt(n, total)}  {key}")
    print(f"\nour code, nearest own frame (time in the function itself or in library code it called "
          f"directly; top {args.top}):")
    for key, n in nearest.most_common(args.top):
        parts = ", ".join(f"{c.split(' (')[0]} {m}" for c, m in nearest_cat[key].most_common(3))
        print(f"  {fmt(n, total)}  {key}   [{parts}]")

    for name, entries in samples.items():
        if name == main_name:
            continue
        t_total = sum(n for _, n in entries)
        leaves: collections.Counter[str] = collections.Counter()
        for frames, n in entries:
            func, file = split_frame(frames[-1]) if frames else ("?", "")
            leaves[f"{func} ({file})"] += n
        print(f"\nthread {name}: {t_total} samples; leaf frames:")
        for key, n in leaves.most_common(8):
            print(f"  {fmt(n, t_total)}  {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
