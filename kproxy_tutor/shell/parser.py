"""Split a shell line into words and match them against the grammar: command, arguments, flags.

Everything wrong with a line (an unknown command or flag, a missing value, a value of the wrong
kind) raises :class:`ShellUsageError` before any handler runs, so a bad line never reaches the
cluster. Typos get a "did you mean" (``suggest.close_match``).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from kproxy_tutor.errors import N_, Msg, SandboxInputError
from kproxy_tutor.shell import grammar
from kproxy_tutor.shell.grammar import Command, Flag
from kproxy_tutor.suggest import close_match

#: The largest count a command accepts (replicas, curl -n): enough for any lesson, and small
#: enough that the sandbox answers at once.
MAX_COUNT = 10_000


class ShellUsageError(SandboxInputError):
    """A line that does not fit the grammar; ``usage`` is the command's usage line, when known."""

    def __init__(self, message: str, /, usage: str | None = None, **params: object) -> None:
        super().__init__(message, **params)
        self.usage = usage


@dataclass
class Invocation:
    command: Command
    #: Positional arguments by metavar; ``many`` arguments are lists, missing optional ones None.
    args: dict[str, object] = field(default_factory=dict)
    #: Flag values by ``dest``: str, int, or True for switches.
    flags: dict[str, object] = field(default_factory=dict)

    def arg(self, metavar: str) -> str:
        value = self.args.get(metavar)
        return value if isinstance(value, str) else ""

    def text(self, dest: str, default: str = "") -> str:
        value = self.flags.get(dest)
        return value if isinstance(value, str) else default

    def number(self, dest: str, default: int | None = None) -> int | None:
        value = self.flags.get(dest)
        return value if isinstance(value, int) and not isinstance(value, bool) else default

    def switch(self, dest: str) -> bool:
        return self.flags.get(dest) is True


def split_line(line: str) -> list[str]:
    """Words of ``line`` as a POSIX shell splits them; ``#`` starts a comment."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=False)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        return list(lexer)
    except ValueError:
        # The lexer stopped inside a quote (its state is the quote) or after a lone backslash.
        problem = (
            N_("a quote is not closed")
            if lexer.state in lexer.quotes
            else N_("a backslash at the end escapes nothing")
        )
        raise ShellUsageError(N_("Cannot read this line: {problem}."), problem=Msg(problem)) from None


def _suggest(word: str, candidates: list[str]) -> str | None:
    return close_match(word, candidates)


def _normalized(tokens: list[str]) -> list[str]:
    """Apply kubectl's kind aliases (svc, deploy, po) where a command word names a kind."""
    if len(tokens) >= 3 and tokens[0] == "kubectl":
        return [*tokens[:2], grammar.WORD_ALIASES.get(tokens[2], tokens[2]), *tokens[3:]]
    return tokens


def expand_alias(tokens: list[str]) -> list[str]:
    """``k get po`` → ``kubectl get po``, ``quit`` → ``exit``: the first word's alias replaced."""
    if tokens and tokens[0] in grammar.COMMAND_ALIASES:
        return [*grammar.COMMAND_ALIASES[tokens[0]], *tokens[1:]]
    return tokens


def find_command(tokens: list[str]) -> Command:
    """The longest command whose words start ``tokens`` (aliases applied), else a helpful error."""
    if not tokens:
        raise ShellUsageError(N_("Empty command."))
    tokens = _normalized(expand_alias(tokens))
    best: Command | None = None
    for command in grammar.COMMANDS:
        n = len(command.words)
        if tuple(tokens[:n]) == command.words and (best is None or n > len(best.words)):
            best = command
    if best is not None:
        return best
    raise _unknown_command(tokens)


def commands_under(tokens: list[str]) -> list[Command]:
    """The commands whose words begin with ``tokens`` (aliases applied): ``kubectl delete`` has three."""
    words = tuple(_normalized(expand_alias(tokens)))
    return [command for command in grammar.COMMANDS if command.words[: len(words)] == words]


def _unknown_command(tokens: list[str]) -> ShellUsageError:
    # Find how many leading words are right, then what could follow them.
    for depth in range(3, 0, -1):
        prefix = tuple(tokens[:depth])
        nexts = sorted(
            {c.words[depth] for c in grammar.COMMANDS if c.words[:depth] == prefix and len(c.words) > depth}
        )
        if len(prefix) == depth and nexts:
            typed = " ".join(prefix)
            if len(tokens) > depth:
                suggestion = _suggest(tokens[depth], nexts)
                if suggestion:
                    return ShellUsageError(
                        N_("Unknown command {name!r}. Did you mean {suggestion!r}?"),
                        name=" ".join(tokens[: depth + 1]),
                        suggestion=f"{typed} {suggestion}",
                    )
            return ShellUsageError(
                N_("{command!r} needs one of: {choices}."), command=typed, choices=", ".join(nexts)
            )
    first_words = sorted({c.words[0] for c in grammar.COMMANDS} | set(grammar.COMMAND_ALIASES))
    # A kubectl verb typed without "kubectl" is a common slip.
    kubectl_verbs = {c.words[1] for c in grammar.COMMANDS if c.words[0] == "kubectl"}
    if tokens[0] in kubectl_verbs:
        return ShellUsageError(
            N_("Unknown command {name!r}. Did you mean {suggestion!r}?"),
            name=tokens[0],
            suggestion=f"kubectl {tokens[0]}",
        )
    suggestion = _suggest(tokens[0], first_words)
    if suggestion:
        return ShellUsageError(
            N_("Unknown command {name!r}. Did you mean {suggestion!r}?"),
            name=tokens[0],
            suggestion=suggestion,
        )
    return ShellUsageError(N_("Unknown command {name!r}. Type 'help' to see the commands."), name=tokens[0])


def _expand_short(token: str, command: Command) -> list[str] | None:
    """``-nvL`` → ``-n -v -L`` when every letter is a flag of the command (only the last may take a value)."""
    if not token.startswith("-") or token.startswith("--") or len(token) < 3:
        return None
    flags = [command.flag(f"-{c}") for c in token[1:]]
    if any(f is None for f in flags) or any(not f.switch for f in flags[:-1]):  # type: ignore[union-attr]
        return None
    return [f"-{c}" for c in token[1:]]


def _convert(value: str, kind: str, option: str, choices: tuple[str, ...], usage: str) -> object:
    if choices:
        for choice in choices:
            if value.lower() == choice.lower():
                return choice
        raise ShellUsageError(
            N_("Invalid value for {name}: {value!r}; choose one of {choices}."),
            usage=usage,
            name=option,
            value=value,
            choices=", ".join(choices),
        )
    if kind in (grammar.COUNT, grammar.POSITIVE, grammar.PORT):
        # ASCII digits only: str.isdigit() also accepts "²" and "١", which int() rejects or misreads.
        if not (value.isascii() and value.isdigit()):
            raise ShellUsageError(
                N_("Invalid value for {name}: {value!r} is not a number."),
                usage=usage,
                name=option,
                value=value,
            )
        # Past 12 digits any value is out of every range; int() of 4,300+ digits would even fail.
        number = int(value) if len(value.lstrip("0")) <= 12 else 10**12
        if kind == grammar.PORT and not 1 <= number <= 65535:
            raise ShellUsageError(
                N_("Invalid {what} {value!r}: a port number must be between 1 and 65535."),
                usage=usage,
                what=option,
                value=number,
            )
        if kind == grammar.POSITIVE and number < 1:
            raise ShellUsageError(
                N_("Invalid value for {name}: {value!r}; it must be 1 or more."),
                usage=usage,
                name=option,
                value=value,
            )
        if kind != grammar.PORT and number > MAX_COUNT:
            # A sandbox node holds a few hundred Pods; a huge number would only freeze the shell.
            raise ShellUsageError(
                N_("Invalid value for {name}: {value!r}; the sandbox takes at most {limit}."),
                usage=usage,
                name=option,
                value=value,
                limit=MAX_COUNT,
            )
        return number
    return value


def parse(tokens: list[str]) -> Invocation:
    tokens = expand_alias(tokens)
    command = find_command(tokens)
    rest = tokens[len(command.words) :]
    usage = command.usage
    invocation = Invocation(command)
    positional: list[str] = []
    queue = list(rest)
    only_positional = False
    while queue:
        token = queue.pop(0)
        # A negative number is a value, unless the command has it as an option (curl -4, -6).
        numeric = _is_number(token) and command.flag(token) is None
        if only_positional or token == "-" or not token.startswith("-") or numeric:
            positional.append(token)
            continue
        if token == "--":
            only_positional = True
            continue
        name, has_value, inline = token.partition("=") if token.startswith("--") else (token, "", "")
        flag = command.flag(name)
        if flag is None:
            expanded = _expand_short(token, command)
            if expanded is not None:
                queue[:0] = expanded
                continue
            raise _unknown_flag(token, command)
        if flag.switch:
            if has_value:
                raise ShellUsageError(N_("Option {option} does not take a value."), usage=usage, option=name)
            invocation.flags[flag.dest] = True
            continue
        if has_value:
            value = inline
        elif queue:
            value = queue.pop(0)
        else:
            raise ShellUsageError(N_("Option {option} needs a value."), usage=usage, option=name)
        invocation.flags[flag.dest] = _convert(value, flag.kind, name, flag.choices, usage)
    _bind_positional(invocation, positional)
    for flag in command.flags:
        if flag.required and flag.dest not in invocation.flags:
            raise ShellUsageError(
                N_("{command} needs {option}."), usage=usage, command=command.name, option=flag.display
            )
    return invocation


def _is_number(token: str) -> bool:
    return token[1:].isdigit()


def _unknown_flag(token: str, command: Command) -> ShellUsageError:
    names = [n for f in command.flags for n in f.names]
    name = token.partition("=")[0]
    suggestion = _suggest(name, names)
    if suggestion:
        return ShellUsageError(
            N_("{command} has no option {option}. Did you mean {suggestion}?"),
            usage=command.usage,
            command=command.name,
            option=name,
            suggestion=suggestion,
        )
    if not names:
        return ShellUsageError(
            N_("{command} takes no options, not {option}."),
            usage=command.usage,
            command=command.name,
            option=name,
        )
    return ShellUsageError(
        N_("{command} has no option {option}. Its options: {options}."),
        usage=command.usage,
        command=command.name,
        option=name,
        options=", ".join(f.display for f in command.flags),
    )


def _bind_positional(invocation: Invocation, positional: list[str]) -> None:
    command = invocation.command
    values = list(positional)
    for arg in command.args:
        if arg.many:
            if not values and not arg.optional:
                raise _missing(command, arg)
            invocation.args[arg.metavar] = values
            values = []
            continue
        if not values:
            if not arg.optional:
                raise _missing(command, arg)
            invocation.args[arg.metavar] = None
            continue
        value = values.pop(0)
        if arg.choices:
            converted = _convert(value, arg.kind, arg.metavar, arg.choices, command.usage)
            value = str(converted)
        invocation.args[arg.metavar] = value
    if values:
        raise ShellUsageError(
            N_("Unexpected extra argument: {args}."), usage=command.usage, args=" ".join(values)
        )


def _missing(command: Command, arg: Flag | grammar.Arg) -> ShellUsageError:
    return ShellUsageError(
        N_("{command} needs {argument}."),
        usage=command.usage,
        command=command.name,
        argument=getattr(arg, "metavar", ""),
    )


def parse_line(line: str) -> Invocation | None:
    """The invocation for ``line``, or None for a blank line or a comment."""
    tokens = split_line(line)
    if not tokens:
        return None
    return parse(tokens)
