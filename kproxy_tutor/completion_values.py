"""Values the installed shell completion offers (typer ``autocompletion`` callbacks): modes, formats, IP families, scenarios, lessons, exercises.

Each callback takes what has been typed of the value and returns the names that start with it.
They read only the shipped files, so completion stays fast and works without a terminal.
"""

from __future__ import annotations


def _starting(names: list[str], incomplete: str) -> list[str]:
    return [n for n in names if n.startswith(incomplete)]


def modes(incomplete: str = "") -> list[str]:
    from kproxy_tutor.sandbox.modes import MODES

    return _starting(list(MODES), incomplete)


def formats(incomplete: str = "") -> list[str]:
    """``rules --format`` values of every mode (the mode is not known while the option is typed)."""
    from kproxy_tutor.sandbox.modes import FORMATS

    return _starting(list(dict.fromkeys(f for views in FORMATS.values() for f in views)), incomplete)


def rules_families(incomplete: str = "") -> list[str]:
    """``rules --family``: one proxier's rules or both."""
    from kproxy_tutor.sandbox.modes import FAMILY_CHOICES

    return _starting(list(FAMILY_CHOICES), incomplete)


def trace_families(incomplete: str = "") -> list[str]:
    """``trace --family``: which address of a Service or node to send to (one family at a time)."""
    from kproxy_tutor.sandbox.trace.request import FAMILY_CHOICES

    return _starting(list(FAMILY_CHOICES), incomplete)


def scenarios(incomplete: str = "") -> list[str]:
    from kproxy_tutor.shell.scenarios import scenario_names

    return _starting(scenario_names(), incomplete)


def nodes(incomplete: str = "") -> list[str]:
    from kproxy_tutor.sandbox.manifests import DEFAULT_NODES

    return _starting([n.name for n in DEFAULT_NODES], incomplete)


def lessons(incomplete: str = "") -> list[str]:
    from kproxy_tutor.content.loader import load_course

    course = load_course()
    names = [entry.slug for entry in course.entries]
    names += [i for e in course.entries if (i := course.lesson_id(e.number))]
    return _starting(sorted(set(names)), incomplete)


def steps(incomplete: str = "") -> list[str]:
    """Step ids for ``learn LESSON --step``: every lesson's (click has not parsed LESSON yet while
    ``--step`` waits for its value); a step number works too."""
    from kproxy_tutor.content.loader import load_course

    course = load_course()
    return _starting(sorted({step.id for lesson in course.lessons for step in lesson.steps}), incomplete)


def exercises(incomplete: str = "") -> list[str]:
    from kproxy_tutor.content.loader import load_course

    return _starting(sorted(b.id for lesson in load_course().lessons for b in lesson.exercises), incomplete)
