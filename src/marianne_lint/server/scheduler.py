"""When to lint, and which results to publish.

Each change asks for a lint of its document. Lints run one at a time on a worker thread, so the
event loop keeps answering hover, completion and cancellation while a lint runs. A change that
arrives while its document is being linted does not start a second lint: when the running one
ends, its result is dropped if the document moved on (only the latest version's diagnostics are
ever published) and one lint of the newest text follows. So a burst of keystrokes costs at most
the lint in progress plus one, and an idle server answers an edit at once (the optional
``delay`` adds a fixed debounce before each lint).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field

from lsprotocol import types

from marianne_lint.config import ConfigError
from marianne_lint.diagnostics import Diagnostic, Severity
from marianne_lint.server.configs import Configs
from marianne_lint.server.convert import Encoding, TextIndex
from marianne_lint.server.documents import Documents
from marianne_lint.server.findings import to_lsp_all
from marianne_lint.server.linting import Outcome, internal_error, lint_buffer

logger = logging.getLogger(__name__)

CONFIG_CODE = "config-error"

_GC_LOCK = threading.Lock()
_GC_SETTLED = [False]


def settle_gc() -> None:
    """Once start-up is over (the first lint): freeze what it built, so that later collections skip
    it, and turn the cycle collector back on (the command line turns it off for start-up)."""
    with _GC_LOCK:
        if _GC_SETTLED[0]:
            return
        _GC_SETTLED[0] = True
        gc.collect()
        gc.freeze()
        gc.enable()


@dataclass(frozen=True, slots=True)
class LintResult:
    """The findings of one version of one document."""

    uri: str
    version: int
    text: str
    diagnostics: tuple[Diagnostic, ...]
    lsp: list[types.Diagnostic]
    index: TextIndex
    failures: tuple[str, ...] = ()


#: A result is published no sooner than this many seconds after the change that asked for it. An
#: answer within a millisecond can reach a client before the client has noted that its change was
#: sent (lsp_session's writer thread notes it after the write), and is then taken for the answer
#: to an older text and ignored; 12 ms is far below what a person notices.
MIN_ANSWER_SECONDS = 0.012


@dataclass(slots=True)
class _State:
    asked: float = 0.0
    """When (loop time) the latest lint of this document was asked for."""
    timer: asyncio.Handle | None = None
    running: bool = False
    again: bool = False
    waiters: list[asyncio.Future[LintResult | None]] = field(default_factory=list)


def config_error(path: str, error: ConfigError) -> Diagnostic:
    return Diagnostic(path, 1, 1, 1, 1, CONFIG_CODE, CONFIG_CODE, Severity.ERROR,
                      f"the marianne-lint configuration cannot be used: {error}",
                      url="https://github.com/marianne-lint/marianne-lint#configuration")


def run_lint(uri: str, text: str, version: int, path: str | None, encoding: Encoding, configs: Configs) -> LintResult:
    """One lint, converted for LSP (runs on the worker thread; never raises)."""
    shown = path if path is not None else "-"
    try:
        config = configs.get(path)
        if isinstance(config, ConfigError):
            from marianne_lint.api import detect_kind

            marianne = detect_kind(text, path) is not None
            outcome = Outcome((config_error(shown, config),) if marianne else ())
        else:
            outcome = lint_buffer(text, path, config)
        index = TextIndex(text, encoding)
        return LintResult(uri, version, text, outcome.diagnostics,
                          to_lsp_all(outcome.diagnostics, index, uri, version), index, outcome.failures)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: the server must live on
        index = TextIndex(text, encoding)
        broken = (internal_error(shown, f"{type(exc).__name__}: {exc}"),)
        return LintResult(uri, version, text, broken, to_lsp_all(broken, index, uri, version), index,
                          (f"{type(exc).__name__}: {exc}",))


class Scheduler:
    """Runs lints on the worker and publishes the results that are still current."""

    def __init__(
        self,
        documents: Documents,
        configs: Configs,
        executor: Executor,
        publish: Callable[[LintResult], None],
        log: Callable[[str], None],
        delay: float = 0.0,
    ) -> None:
        self.documents = documents
        self.configs = configs
        self.executor = executor
        self.publish = publish
        self.log = log
        self.delay = delay
        self.results: dict[str, LintResult] = {}
        self._states: dict[str, _State] = {}
        self.lints = 0
        """How many lints ran (for tests and the benchmark)."""

    def _state(self, uri: str) -> _State:
        state = self._states.get(uri)
        if state is None:
            state = self._states[uri] = _State()
        return state

    def request(self, uri: str, *, now: bool = False) -> None:
        """Lint ``uri`` soon (call on the event loop)."""
        state = self._state(uri)
        loop = asyncio.get_running_loop()
        state.asked = loop.time()
        if state.running:
            state.again = True
            return
        if state.timer is not None:
            state.timer.cancel()
        delay = 0.0 if now else self.delay
        state.timer = loop.call_later(delay, self._start, uri) if delay > 0 else loop.call_soon(self._start, uri)

    def request_all(self) -> None:
        for doc in self.documents:
            self.request(doc.uri)

    def forget(self, uri: str) -> None:
        """The document was closed: drop its results and wake whoever waits for them."""
        state = self._states.pop(uri, None)
        self.results.pop(uri, None)
        if state is not None:
            if state.timer is not None:
                state.timer.cancel()
            for waiter in state.waiters:
                if not waiter.done():
                    waiter.set_result(None)

    def _start(self, uri: str) -> None:
        state = self._states.get(uri)
        doc = self.documents.get(uri)
        if state is None or doc is None:
            return
        state.timer = None
        if not doc.is_yaml:  # a TOML configuration, say: tracked for its saves, never linted
            nothing = self.results[uri] = LintResult(uri, doc.version, doc.text, (), [], doc.index)
            self.publish(nothing)
            self._wake(state, nothing)
            return
        current = self.results.get(uri)
        if current is not None and current.version == doc.version and current.text == doc.text:
            self._wake(state, current)
            return
        state.running = True
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self.executor, self._work, uri, doc.text, doc.version, doc.path, doc.encoding)
        future.add_done_callback(lambda done: self._done(uri, done))

    def _work(self, uri: str, text: str, version: int, path: str | None, encoding: Encoding) -> LintResult | None:
        doc = self.documents.get(uri)
        if doc is None or doc.version != version:
            return None  # stale before it started: the next lint takes the newest text
        result = run_lint(uri, text, version, path, encoding, self.configs)
        self.lints += 1
        settle_gc()
        return result

    def _done(self, uri: str, done: asyncio.Future[LintResult | None]) -> None:
        state = self._states.get(uri)
        if state is None:
            return  # closed meanwhile
        state.running = False
        try:
            result = done.result()
        except Exception as exc:  # noqa: BLE001 - cannot happen (run_lint catches), but never die
            self.log(f"lint of {uri} failed: {exc!r}")
            result = None
        doc = self.documents.get(uri)
        if doc is None:
            return
        if result is not None and result.version == doc.version and result.text == doc.text:
            self.results[uri] = result
            for failure in result.failures:
                self.log(f"internal error while linting {doc.path or uri}: {failure}")
            if state.again:
                state.again = False  # a change with the same version and text (a no-op): done
            loop = asyncio.get_running_loop()
            wait = MIN_ANSWER_SECONDS - (loop.time() - state.asked)
            if wait > 0:
                loop.call_later(wait, self._publish_if_current, uri, state, result)
            else:
                self._publish_if_current(uri, state, result)
            return
        state.again = False
        self.request(uri, now=True)

    def _publish_if_current(self, uri: str, state: _State, result: LintResult) -> None:
        doc = self.documents.get(uri)
        if self._states.get(uri) is not state or doc is None:
            return  # closed meanwhile
        if result.version != doc.version or result.text != doc.text or self.results.get(uri) is not result:
            return  # a newer text is on its way
        self.publish(result)
        self._wake(state, result)

    @staticmethod
    def _wake(state: _State, result: LintResult) -> None:
        waiters, state.waiters = state.waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(result)

    async def current(self, uri: str, timeout: float = 10.0) -> LintResult | None:
        """The result for the document's current version, waiting for its lint if needed."""
        doc = self.documents.get(uri)
        if doc is None:
            return None
        result = self.results.get(uri)
        if result is not None and result.version == doc.version and result.text == doc.text:
            return result
        state = self._state(uri)
        waiter: asyncio.Future[LintResult | None] = asyncio.get_running_loop().create_future()
        state.waiters.append(waiter)
        if not state.running and state.timer is None:
            self.request(uri, now=True)
        try:
            return await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            return None


__all__ = ["CONFIG_CODE", "MIN_ANSWER_SECONDS", "LintResult", "Scheduler", "config_error", "run_lint", "settle_gc"]
