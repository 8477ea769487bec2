"""The protocol wiring: a pygls server whose handlers hand each request to the module that knows
the answer (documents, scheduler, actions, hover, completion, symbols, definition).

Every handler is guarded: an exception becomes a log message (``window/logMessage``) and an empty
answer, never a dead server.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import traceback
from collections.abc import Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar, cast

from lsprotocol import types
from pygls.capabilities import ServerCapabilitiesBuilder
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from marianne_lint.config import Config
from marianne_lint.server import actions, completion, definition, hover, symbols
from marianne_lint.server.configs import CONFIG_FILE_NAMES, Configs, is_config_file
from marianne_lint.server.convert import encoding_of
from marianne_lint.server.documents import Document, Documents, uri_path
from marianne_lint.server.scheduler import LintResult, Scheduler, settle_gc
from marianne_lint.server.snapshot import Snapshot, Snapshots
from marianne_lint.version import __version__

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

#: A request of our own: the server's state (for the benchmark and for bug reports).
STATUS_REQUEST = "marianne-lint/status"


def rss_kb() -> int | None:
    """The resident memory of this process in KiB (Linux), else the peak (other systems)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    try:
        import resource

        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    except (ImportError, OSError):
        return None


def warm_up() -> None:
    """Import and exercise the linter on a tiny score, so the first real lint is fast."""
    from marianne_lint import api

    try:
        api.lint_text("name: warm\nsheet:\n  size: 1\n  total_items: 1\nprompt:\n  template: \"{{ sheet_num }}\"\n",
                      None, config=Config(), skip_non_marianne=True)
    except Exception:
        logger.exception("warm-up lint failed")
    settle_gc()


class MarianneProtocol(LanguageServerProtocol):
    """pygls's protocol, except that documents are kept by the server (:mod:`.documents`), with
    LSP's line breaks, instead of in pygls's workspace."""

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> Generator[Any, Any, None]:
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_OPEN)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> Generator[Any, Any, None]:
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> Generator[Any, Any, None]:
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CLOSE)) is not None:
            yield handler, (params,), None


class MarianneServer(LanguageServer):
    """The marianne-lint language server."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__("marianne-lint", __version__, protocol_cls=MarianneProtocol,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.documents = Documents()
        self.configs = Configs()
        self.snapshots = Snapshots()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="marianne-lint")
        self.scheduler = Scheduler(self.documents, self.configs, self.executor, self.publish, self.log, delay)
        self.outlines: dict[str, list[types.DocumentSymbol]] = {}
        self.document_changes = True
        self.hierarchical_symbols = True
        self.watch_registration = False

    # -- output ---------------------------------------------------------------------------------------

    def publish(self, result: LintResult) -> None:
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=result.uri, diagnostics=result.lsp, version=result.version))

    def log(self, message: str, kind: types.MessageType = types.MessageType.Error) -> None:
        try:
            self.window_log_message(types.LogMessageParams(type=kind, message=f"marianne-lint: {message}"))
        except Exception:
            logger.exception("could not send a log message")

    # -- what features read ------------------------------------------------------------------------------

    def config_for(self, doc: Document) -> Config | None:
        found = self.configs.get(doc.path)
        return found if isinstance(found, Config) else None

    def snapshot(self, doc: Document) -> Snapshot:
        return self.snapshots.get(doc.uri, doc.text, doc.path, self.config_for(doc))

    def findings_of(self, doc: Document) -> list[tuple[Any, types.Range]]:
        result = self.scheduler.results.get(doc.uri)
        if result is None or result.text != doc.text:
            return []
        return [(d, lsp.range) for d, lsp in zip(result.diagnostics, result.lsp, strict=True)]


def guarded(server: MarianneServer, default: Callable[[], Any]) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run a handler; on an exception, log it and answer ``default()``."""

    def wrap(handler: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(handler)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return handler(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - never let a handler kill the session
                server.log(f"{handler.__name__} failed: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=6)}")
                return cast("R", default())

        return run

    return wrap


def guarded_async(server: MarianneServer, default: Callable[[], Any]
                  ) -> Callable[[Callable[P, Any]], Callable[P, Any]]:
    def wrap(handler: Callable[P, Any]) -> Callable[P, Any]:
        @functools.wraps(handler)
        async def run(*args: P.args, **kwargs: P.kwargs) -> Any:
            try:
                return await handler(*args, **kwargs)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001
                server.log(f"{handler.__name__} failed: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=6)}")
                return default()

        return run

    return wrap


def _none() -> None:
    return None


def create_server(delay: float = 0.0) -> MarianneServer:
    """A server with every feature registered."""
    server = MarianneServer(delay)

    @server.feature(types.INITIALIZE)
    @guarded(server, _none)
    def initialize(params: types.InitializeParams) -> None:
        caps = params.capabilities
        server.documents.encoding = encoding_of(ServerCapabilitiesBuilder.choose_position_encoding(caps))
        workspace = caps.workspace
        edit_caps = workspace.workspace_edit if workspace is not None else None
        server.document_changes = bool(edit_caps is not None and edit_caps.document_changes)
        watched = workspace.did_change_watched_files if workspace is not None else None
        server.watch_registration = bool(watched is not None and watched.dynamic_registration)
        text_caps = caps.text_document
        symbol_caps = text_caps.document_symbol if text_caps is not None else None
        server.hierarchical_symbols = bool(symbol_caps is None or symbol_caps.hierarchical_document_symbol_support)
        folders = params.workspace_folders or []
        root = uri_path(folders[0].uri) if folders else (uri_path(params.root_uri) if params.root_uri else None)
        server.configs.root = root or params.root_path
        options = params.initialization_options
        if isinstance(options, dict) and isinstance(options.get("lintDelayMs"), int | float):
            server.scheduler.delay = max(0.0, float(options["lintDelayMs"]) / 1000)
        server.executor.submit(warm_up)

    @server.feature(types.INITIALIZED)
    @guarded(server, _none)
    def initialized(params: types.InitializedParams) -> None:
        if server.watch_registration:
            watchers = [types.FileSystemWatcher(glob_pattern=f"**/{name}") for name in CONFIG_FILE_NAMES]
            server.client_register_capability(types.RegistrationParams(registrations=[types.Registration(
                id="marianne-lint-config-files", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers=watchers))]))

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    @guarded(server, _none)
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        doc = server.documents.open(params.text_document)
        server.scheduler.request(doc.uri, now=True)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    @guarded(server, _none)
    def did_change(params: types.DidChangeTextDocumentParams) -> None:
        doc = server.documents.change(params)
        if doc is not None:
            server.scheduler.request(doc.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
    @guarded(server, _none)
    def did_save(params: types.DidSaveTextDocumentParams) -> None:
        path = uri_path(params.text_document.uri)
        if is_config_file(path):
            server.configs.clear()
            server.snapshots.clear()
            server.scheduler.results.clear()
            server.scheduler.request_all()
            return
        server.scheduler.results.pop(params.text_document.uri, None)  # files it names may have changed
        server.scheduler.request(params.text_document.uri, now=True)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    @guarded(server, _none)
    def did_close(params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        server.documents.close(uri)
        server.scheduler.forget(uri)
        server.snapshots.forget(uri)
        server.outlines.pop(uri, None)
        server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    @guarded(server, _none)
    def did_change_watched_files(params: types.DidChangeWatchedFilesParams) -> None:
        if any(is_config_file(uri_path(change.uri)) for change in params.changes):
            server.configs.clear()
            server.snapshots.clear()
            server.scheduler.results.clear()
            server.scheduler.request_all()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    @guarded(server, _none)
    def did_change_configuration(params: types.DidChangeConfigurationParams) -> None:
        settings = params.settings
        section = settings.get("marianne-lint") if isinstance(settings, dict) else None
        if isinstance(section, dict) and isinstance(section.get("lintDelayMs"), int | float):
            server.scheduler.delay = max(0.0, float(section["lintDelayMs"]) / 1000)

    # -- code actions ----------------------------------------------------------------------------------

    def fix_text_function(doc: Document) -> Callable[[str], str] | None:
        from marianne_lint import api

        fixer = getattr(api, "fix_text", None)
        if fixer is None:
            return None
        config = server.config_for(doc)

        def run(text: str) -> str:
            fixed: Any = fixer(text, doc.path, config=config)
            return str(fixed.text)

        return run

    def fix_all_of(doc: Document) -> Callable[[LintResult], list[types.TextEdit] | None]:
        fixer = fix_text_function(doc)

        def compute(result: LintResult) -> list[types.TextEdit] | None:
            try:
                return actions.fix_all_edits(result, fixer)
            except Exception as exc:  # noqa: BLE001 - fall back to this lint's own safe fixes
                server.log(f"fix_text failed ({type(exc).__name__}: {exc}); applying the safe fixes one by one")
                return actions.fix_all_edits(result, None)

        return compute

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, actions.FIX_ALL_KIND], resolve_provider=True))
    @guarded_async(server, list)
    async def code_action(params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        result = await server.scheduler.current(uri)
        doc = server.documents.get(uri)
        if result is None or doc is None or result.text != doc.text:
            return []
        request = actions.Request(uri, result, server.snapshot(doc), params.range, params.context,
                                  server.document_changes)
        only = params.context.only
        if only and any(o in (actions.FIX_ALL_KIND, "source.fixAll") for o in only):
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(server.executor, actions.code_actions, request, fix_all_of(doc))
        return actions.code_actions(request)

    @server.feature(types.CODE_ACTION_RESOLVE)
    @guarded_async(server, _none)
    async def code_action_resolve(action: types.CodeAction) -> types.CodeAction:
        data = action.data if isinstance(action.data, dict) else {}
        if action.edit is not None or data.get("action") != "fixAll":
            return action
        uri = str(data.get("uri"))
        result = await server.scheduler.current(uri)
        doc = server.documents.get(uri)
        if result is None or doc is None:
            return action
        loop = asyncio.get_running_loop()
        edits = await loop.run_in_executor(server.executor, fix_all_of(doc), result)
        if edits:
            action.edit = actions.workspace_edit(uri, result.version, edits, server.document_changes)
        return action

    # -- reading features ----------------------------------------------------------------------------

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    @guarded(server, _none)
    def on_hover(params: types.HoverParams) -> types.Hover | None:
        doc = server.documents.get(params.text_document.uri)
        if doc is None or not doc.is_yaml:
            return None
        return hover.hover(server.snapshot(doc), doc.index, params.position, server.findings_of(doc), doc.path)

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=["{", " "]))
    @guarded(server, lambda: types.CompletionList(is_incomplete=False, items=[]))
    def on_completion(params: types.CompletionParams) -> types.CompletionList:
        doc = server.documents.get(params.text_document.uri)
        if doc is None or not doc.is_yaml:
            return types.CompletionList(is_incomplete=False, items=[])
        return completion.complete(server.snapshot(doc), doc.index, params.position, doc.path)

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    @guarded(server, list)
    def on_symbols(params: types.DocumentSymbolParams) -> list[types.DocumentSymbol] | list[types.SymbolInformation]:
        doc = server.documents.get(params.text_document.uri)
        if doc is None or not doc.is_yaml:
            return []
        found = symbols.document_symbols(server.snapshot(doc), doc.index)
        if found is None:
            found = server.outlines.get(doc.uri, [])  # the buffer does not load: the last outline
        else:
            server.outlines[doc.uri] = found
        return found if server.hierarchical_symbols else symbols.flatten(found, doc.uri)

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    @guarded(server, _none)
    def on_definition(params: types.DefinitionParams) -> list[types.Location] | None:
        doc = server.documents.get(params.text_document.uri)
        if doc is None or not doc.is_yaml:
            return None
        return definition.definition(server.snapshot(doc), doc.index, doc.uri, params.position, doc.path)

    @server.feature(STATUS_REQUEST)
    @guarded(server, dict)
    def on_status(params: Any) -> dict[str, Any]:
        return {"version": __version__, "documents": len(server.documents), "lints": server.scheduler.lints,
                "rss_kb": rss_kb(), "lint_delay_ms": server.scheduler.delay * 1000}

    @server.feature(types.SHUTDOWN)
    @guarded(server, _none)
    def on_shutdown(params: None) -> None:
        server.executor.shutdown(wait=False, cancel_futures=True)

    return server


__all__ = ["STATUS_REQUEST", "MarianneProtocol", "MarianneServer", "create_server", "rss_kb", "warm_up"]
