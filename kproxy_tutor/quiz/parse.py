"""Parse one quiz file's questions from YAML, reporting every problem with its line and field."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from kproxy_tutor.content.yamlio import line_of
from kproxy_tutor.devcheck import Problem
from kproxy_tutor.errors import N_
from kproxy_tutor.quiz.model import (
    QUESTION_TYPES,
    FreeText,
    MultipleChoice,
    Numeric,
    Ordering,
    Question,
    QuizChoice,
    SingleChoice,
    TrueFalse,
)

LANGS = ("ru", "en")
#: Ids appear in answer files as ``id: answer``, so they may not contain spaces, ':' or ','.
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

_COMMON_KEYS = {"id", "type", "prompt", "explanation", "source"}
_KEYS_BY_TYPE = {
    "single": {"choices", "answer"},
    "multiple": {"choices", "answer"},
    "order": {"choices", "answer"},
    "truefalse": {"answer"},
    "text": {"accept", "case_sensitive"},
    "numeric": {"answer", "tolerance"},
}


class QuestionParser:
    """Turns one quiz file's YAML into questions, collecting every problem on the way."""

    def __init__(self, where: str, report: Callable[[Problem], None]) -> None:
        self.where = where
        self.report = report

    def problem(self, node: Any, key: str | int | None, message: str, **params: object) -> None:
        line = line_of(node, key)
        where = f"{self.where}:{line}" if line else self.where
        self.report(Problem(where, message, tuple((k, str(v)) for k, v in params.items())))

    def identifier(self, node: Any, key: str, field: str) -> str | None:
        value = node.get(key)
        if value is None:
            self.problem(node, key, N_("{field}: required field is missing."), field=field)
            return None
        # Reject YAML's booleans (yes/no/on/off) and nulls; accept numbers written without quotes.
        if isinstance(value, bool) or not isinstance(value, str | int) or not _ID.match(str(value)):
            self.problem(
                node,
                key,
                N_("{field}: {value!r} is not a valid id (letters, digits, '-', '_' and '.'; no spaces)."),
                field=field,
                value=str(value),
            )
            return None
        return str(value)

    def bilingual(self, node: Any, key: str, field: str, required: bool = True) -> dict[str, str] | None:
        value = node.get(key)
        if value is None:
            if required:
                self.problem(node, key, N_("{field}: required field is missing."), field=field)
            return None
        if not isinstance(value, dict):
            self.problem(
                node,
                key,
                N_("{field}: must be a mapping with a Russian and an English text (ru, en)."),
                field=field,
            )
            return None
        ok = True
        for lang in LANGS:
            text = value.get(lang)
            if not isinstance(text, str) or not text.strip():
                self.problem(
                    value, lang, N_("{field}: the {lang} text is missing or empty."), field=field, lang=lang
                )
                ok = False
        for extra in sorted(set(value) - set(LANGS), key=str):
            self.problem(value, str(extra), N_("{field}: unknown field (a typo?)."), field=f"{field}.{extra}")
            ok = False
        return {lang: str(value[lang]).strip() for lang in LANGS} if ok else None

    def choices(self, node: Any, qid: str, kind: str) -> tuple[QuizChoice, ...] | None:
        field = f"{qid}.choices"
        raw = node.get("choices")
        if not isinstance(raw, list):
            self.problem(node, "choices", N_("{field}: must be a list."), field=field)
            return None
        if len(raw) < 2:
            self.problem(node, "choices", N_("{field}: at least two choices are needed."), field=field)
            return None
        result: list[QuizChoice] = []
        seen: set[str] = set()
        for i, item in enumerate(raw):
            if not isinstance(item, dict):
                self.problem(raw, i, N_("{field}: must be a mapping."), field=f"{field}[{i}]")
                continue
            cid = self.identifier(item, "id", f"{field}[{i}].id")
            label = f"{field}[{cid if cid is not None else i}]"
            self.unknown_keys(item, {"id", "text", "why"}, label)
            text = self.bilingual(item, "text", f"{label}.text")
            # Ordering items may explain themselves; in choice questions every choice must say why.
            why = self.bilingual(item, "why", f"{label}.why", required=kind != "order")
            if cid is None or text is None:
                continue
            if cid in seen:
                self.problem(
                    item, "id", N_("{field}: the choice id {id!r} appears twice."), field=label, id=cid
                )
                continue
            seen.add(cid)
            result.append(QuizChoice(id=cid, text=text, why=why))
        return tuple(result) if len(result) == len(raw) else None

    def unknown_keys(self, node: dict[str, Any], allowed: Iterable[str], field: str) -> None:
        for key in sorted(set(node) - set(allowed), key=str):
            self.problem(node, str(key), N_("{field}: unknown field (a typo?)."), field=f"{field}.{key}")

    def choice_answer(self, node: Any, qid: str, ids: list[str], many: bool) -> list[str] | None:
        field = f"{qid}.answer"
        raw = node.get("answer")
        if raw is None:
            self.problem(node, "answer", N_("{field}: required field is missing."), field=field)
            return None
        values = raw if isinstance(raw, list) else [raw]
        if (isinstance(raw, list)) != many:
            message = (
                N_("{field}: must be a list of choice ids.")
                if many
                else N_("{field}: must be one choice id.")
            )
            self.problem(node, "answer", message, field=field)
            return None
        answer: list[str] = []
        for value in values:
            text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else repr(value)
            if text not in ids:
                self.problem(
                    node,
                    "answer",
                    N_("{field}: {answer!r} is not one of the choices ({choices})."),
                    field=field,
                    answer=text,
                    choices=", ".join(ids),
                )
                return None
            answer.append(text)
        return answer

    def number(self, node: Any, key: str, field: str, default: float | None = None) -> float | None:
        value = node.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problem(node, key, N_("{field}: must be a number."), field=field)
            return None
        return float(value)

    def question(self, node: Any, index: int, lesson_id: str) -> Question | None:
        if not isinstance(node, dict):
            self.problem(node, None, N_("{field}: must be a mapping."), field=f"questions[{index}]")
            return None
        qid = self.identifier(node, "id", f"questions[{index}].id")
        label = qid or f"questions[{index}]"
        kind = node.get("type")
        if kind not in QUESTION_TYPES:
            self.problem(
                node,
                "type",
                N_("{field}: must be one of: {allowed}."),
                field=f"{label}.type",
                allowed=", ".join(QUESTION_TYPES),
            )
            return None
        self.unknown_keys(node, _COMMON_KEYS | _KEYS_BY_TYPE[kind], label)
        prompt = self.bilingual(node, "prompt", f"{label}.prompt")
        explanation = self.bilingual(node, "explanation", f"{label}.explanation")
        source = node.get("source")
        if not isinstance(source, str) or not source.strip():
            self.problem(node, "source", N_("{field}: required field is missing."), field=f"{label}.source")
        built = self.typed_question(node, label, kind)
        if qid is None or prompt is None or explanation is None or built is None:
            return None
        cls, fields = built
        return cls(
            id=qid, lesson_id=lesson_id, prompt=prompt, explanation=explanation, source=str(source), **fields
        )

    def typed_question(
        self, node: Any, label: str, kind: str
    ) -> tuple[type[Question], dict[str, Any]] | None:
        if kind in ("single", "multiple", "order"):
            options = self.choices(node, label, kind)
            if options is None:
                return None
            ids = [c.id for c in options]
            answer = self.choice_answer(node, label, ids, many=kind != "single")
            if answer is None:
                return None
            if kind == "single":
                return SingleChoice, {"options": options, "answer": answer[0]}
            if len(set(answer)) != len(answer) or (kind == "order" and sorted(answer) != sorted(ids)):
                missing = [i for i in ids if i not in answer]
                repeated = sorted({a for a in answer if answer.count(a) > 1})
                message = (
                    N_(
                        "{field}: the order must list every choice exactly once (missing: {missing}; repeated: {repeated})."
                    )
                    if kind == "order"
                    else N_("{field}: a choice is listed twice ({repeated}).")
                )
                self.problem(
                    node,
                    "answer",
                    message,
                    field=f"{label}.answer",
                    missing=", ".join(missing) or "-",
                    repeated=", ".join(repeated) or "-",
                )
                return None
            if kind == "multiple":
                return MultipleChoice, {"options": options, "answer": frozenset(answer)}
            return Ordering, {"options": options, "answer": tuple(answer)}
        if kind == "truefalse":
            if not isinstance(node.get("answer"), bool):
                self.problem(node, "answer", N_("{field}: must be true or false."), field=f"{label}.answer")
                return None
            return TrueFalse, {"answer": node["answer"]}
        if kind == "text":
            accept = node.get("accept")
            if (
                not isinstance(accept, list)
                or not accept
                or not all(
                    isinstance(a, str | int) and not isinstance(a, bool) and str(a).strip() for a in accept
                )
            ):
                self.problem(
                    node,
                    "accept",
                    N_("{field}: must be a list of accepted answers (texts)."),
                    field=f"{label}.accept",
                )
                return None
            case_sensitive = node.get("case_sensitive", False)
            if not isinstance(case_sensitive, bool):
                self.problem(
                    node,
                    "case_sensitive",
                    N_("{field}: must be true or false."),
                    field=f"{label}.case_sensitive",
                )
                return None
            return FreeText, {"accept": tuple(str(a) for a in accept), "case_sensitive": case_sensitive}
        answer_value = self.number(node, "answer", f"{label}.answer")
        tolerance = self.number(node, "tolerance", f"{label}.tolerance", default=0)
        if tolerance is not None and tolerance < 0:
            self.problem(node, "tolerance", N_("{field}: must be zero or more."), field=f"{label}.tolerance")
            return None
        if answer_value is None or tolerance is None:
            return None
        return Numeric, {"answer": answer_value, "tolerance": tolerance}
