"""Event studies (issue 7, benchmark 4): registered, not implemented yet.

Target from the issue: 1,000 events x 500 instruments with a 250-day
estimation window (market-model CAR, BMP test) in under 2 s. The event-study
code is issue 4; until ``rotation.analytics`` has it, this benchmark reports
``not_implemented`` so that it is visibly missing rather than silently absent.
"""

from __future__ import annotations

import importlib.util

from benchmarks._harness import Context, Target

TARGET = Target(max_seconds=2.0)
SIZES = {"full": "1,000 events x 500 instr., 250-day est.", "quick": "200 events x 100 instr.", "tiny": "20 x 10"}


def run(ctx: Context) -> None:
    exists = importlib.util.find_spec("rotation.analytics.events") is not None
    why = (
        "rotation.analytics.events exists but this benchmark has not been wired to it yet"
        if exists
        else "event studies are issue 4 and not built yet (no rotation.analytics.events)"
    )
    ctx.not_implemented("events.event_study", SIZES[ctx.profile], TARGET, why)
