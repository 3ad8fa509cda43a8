"""Simulated learners: the form policy (server/learner/forms.py) against one fixed form.

Each simulated developer meets one skill at a series of opportunities (edits where it applies).
Their true state is unknown until they learn it; what they write is a noisy observation (their
own guess and slip). Whenever they write the anti-pattern, the editor shows the hint and, if they
read it, the lesson in the form the policy picks; the events (anti-pattern, lesson opened,
evidence, refresher answers) go into the real learner model, and the real policy reads them.

ASSUMPTIONS (the figures follow from them; they are the design's hypotheses, not measurements):

- A developer reads the lesson shown with a hint with probability 0.6.
- The chance of learning from one reading depends on the form and on how often they have read
  the lesson already: a worked example teaches 0.20 the first time and half as much each time it
  is read again (rereading adds little); a deep dive teaches like a worked example (0.18, same
  decay); a practice challenge is done with probability 0.5 when offered, and then teaches 0.35
  once the example has been read (retrieval practice), 0.10 before; a nudge teaches 0.05 to
  someone who has not learned yet.
- Developers also learn on their own, 0.02 per opportunity, whatever is shown.
- The skill is "medium" priority unless --priority says otherwise.

Printed per policy: the mean opportunities until the developer truly knows the skill ("to learn";
those who never learn within the horizon count as the horizon) and the share who learn; the mean
opportunities until the learner model judges the skill mastered ("to mastery", likewise) and the
share judged mastered; and the mean number of anti-patterns written after they first read the
lesson (recurrence).

    python benchmarks/form_policy_sim.py [--developers N] [--seed S] [--priority high]
"""

from __future__ import annotations

import argparse
import random
import statistics
from dataclasses import dataclass

from lessonlens.lessons.catalog import load_catalog
from lessonlens.lessons.skills import load_skills
from lessonlens.server.learner.forms import choose_form, lesson_history
from lessonlens.server.learner.mastery import estimate, is_mastered, params_for
from lessonlens.server.learner.progress import Event, EventKind

LESSON = "set-membership"
OPPORTUNITIES = 60
READ = 0.6
LEARN = {"worked-example": 0.20, "deep-dive": 0.18, "nudge": 0.05}
PRACTICE_DONE = 0.5
PRACTICE_AFTER_EXAMPLE = 0.35
PRACTICE_BEFORE_EXAMPLE = 0.10
ON_THEIR_OWN = 0.02
START = 1_700_000_000.0


@dataclass
class Outcome:
    learned_at: int | None
    # The first opportunity after which the learner model judges the skill mastered.
    mastered_at: int | None
    recurrences_after_first_lesson: int


def simulate(policy: str, rng: random.Random, priority: str) -> Outcome:
    catalog = load_catalog()
    lesson = catalog.lessons[LESSON]
    parameters = params_for(load_skills())
    guess, slip = rng.uniform(0.05, 0.3), rng.uniform(0.02, 0.15)
    knows = rng.random() < 0.05
    learned_at: int | None = 0 if knows else None
    events: list[Event] = []
    readings = {"worked-example": 0, "deep-dive": 0, "practice": 0, "nudge": 0}
    first_read: int | None = None
    recurrences = 0
    mastered_at: int | None = None
    for step in range(OPPORTUNITIES):
        now = START + step * 3600
        correct = rng.random() < (1 - slip if knows else guess)
        if correct:
            events.append(Event(EventKind.SKILL_EVIDENCE, "dev", lesson.skill_id, now))
        else:
            events.append(
                Event(
                    EventKind.ANTIPATTERN_INTRODUCED,
                    "dev",
                    lesson.skill_id,
                    now,
                    rule_id=lesson.rules[0],
                )
            )
            if first_read is not None:
                recurrences += 1
            if rng.random() < READ:
                if policy == "fixed":
                    form = "worked-example"
                else:
                    estimates = estimate(events, parameters, now)
                    form = choose_form(
                        lesson,
                        lesson_history(lesson, events),
                        estimates.get(lesson.skill_id),
                        priority,
                    ).form
                events.append(
                    Event(
                        EventKind.LESSON_OPENED, "dev", lesson.skill_id, now + 1, lesson_id=LESSON
                    )
                )
                first_read = step if first_read is None else first_read
                chance = _learning(form, readings, rng)
                readings[form] += 1
                if not knows and rng.random() < chance:
                    knows, learned_at = True, step
        if not knows and rng.random() < ON_THEIR_OWN:
            knows, learned_at = True, step
        if mastered_at is None and is_mastered(
            estimate(events, parameters, now + 2).get(lesson.skill_id)
        ):
            mastered_at = step
    return Outcome(learned_at, mastered_at, recurrences)


def _learning(form: str, readings: dict[str, int], rng: random.Random) -> float:
    seen_example = readings["worked-example"] + readings["deep-dive"] > 0
    if form == "practice":
        if rng.random() >= PRACTICE_DONE:
            return 0.0
        return PRACTICE_AFTER_EXAMPLE if seen_example else PRACTICE_BEFORE_EXAMPLE
    if form in ("worked-example", "deep-dive"):
        reread = readings["worked-example"] + readings["deep-dive"]
        return LEARN[form] * 0.5**reread
    return LEARN.get(form, 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--developers", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--priority", default="medium", choices=["high", "medium", "low"])
    args = parser.parse_args()
    print(
        f"{args.developers} simulated developers, {OPPORTUNITIES} opportunities each, "
        f"priority {args.priority}, seed {args.seed} (assumptions: see this script's docstring)"
    )
    print(
        f"{'policy':<10} {'to learn':>9} {'learned':>8} {'to mastery':>11} {'mastered':>9} "
        f"{'recurrence':>11}"
    )
    for policy in ("fixed", "adaptive"):
        rng = random.Random(args.seed)
        outcomes = [simulate(policy, rng, args.priority) for _ in range(args.developers)]
        to_learn = [o.learned_at if o.learned_at is not None else OPPORTUNITIES for o in outcomes]
        learned = sum(o.learned_at is not None for o in outcomes) / len(outcomes)
        recurrence = statistics.fmean(o.recurrences_after_first_lesson for o in outcomes)
        to_master = [
            o.mastered_at if o.mastered_at is not None else OPPORTUNITIES for o in outcomes
        ]
        mastered = sum(o.mastered_at is not None for o in outcomes) / len(outcomes)
        print(
            f"{policy:<10} {statistics.fmean(to_learn):9.1f} {learned:8.0%} "
            f"{statistics.fmean(to_master):11.1f} {mastered:9.0%} {recurrence:11.2f}"
        )


if __name__ == "__main__":
    main()
