"""The rule registry: a literal list of every rule, in code order."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any

from marianne_lint.config import Config, ConfigError, did_you_mean
from marianne_lint.reading.source import DEFAULT_MAX_FILE_BYTES
from marianne_lint.rules import chaining, graph, instruments, limits, paths, reading, schema, templates, validations
from marianne_lint.rules.base import Context, Rule

RULES: list[Rule] = [
    reading.YamlSyntax(),
    reading.DuplicateKey(),
    reading.Yaml11BooleanKey(),
    reading.Yaml11BooleanValue(),
    reading.Yaml11Number(),
    reading.UnreadableFile(),
    reading.ResourceLimit(),
    reading.UnusedSuppression(),
    reading.UnknownRuleInSuppression(),
    schema.SchemaUnknownKey(),
    schema.SchemaMissingKey(),
    schema.SchemaType(),
    schema.SchemaRange(),
    schema.SchemaEnum(),
    schema.SchemaPattern(),
    schema.SchemaRegex(),
    schema.SchemaKeyType(),
    schema.SchemaConstraint(),
    schema.SchemaRootType(),
    schema.IgnoredKey(),
    graph.DependencyCycle(),
    graph.DuplicateDependency(),
    graph.NoSheets(),
    graph.SheetKeyOutOfRange(),
    graph.MovementOutOfRange(),
    graph.FanOutWithoutDependencies(),
    graph.FanOutWithoutParallel(),
    graph.VoicesIgnored(),
    graph.StageWithoutDependency(),
    graph.SheetMapSplitsStage(),
    graph.ParallelWithoutIndependentSheets(),
    limits.InvertedTokenThresholds(),
    limits.IdleTimeoutTooShort(),
    limits.StaleDetectionNeverFires(),
    limits.ShortSheetTimeout(),
    limits.LongSheetTimeout(),
    limits.SheetCostAboveJobCost(),
    limits.CostLimitsOff(),
    limits.CircuitBreakerIgnoredSetting(),
    limits.IdleTimeoutShortForSilentTools(),
    limits.CommandTimeoutDefault(),
    limits.CostRatesBelowModel(),
    limits.CostLimitTooSmall(),
    limits.JobTimeoutBelowSheetTimeout(),
    limits.SheetCapBelowJobCap(),
    limits.SettingsWithoutEnabled(),
    limits.ParallelCapBelowFanOut(),
    limits.ProcessLimitBelowSheetCap(),
    validations.UnreachableValidationStage(),
    validations.MisreadCondition(),
    validations.BlankValidationField(),
    validations.EmptyPattern(),
    validations.NoValidations(),
    validations.FileExistsOnly(),
    validations.FileModifiedAlwaysPasses(),
    validations.PlaceholderInPattern(),
    validations.SheetWithoutValidation(),
    validations.OverEscapedRegex(),
    validations.RegexDotAcrossLines(),
    validations.JinjaInValidationPath(),
    validations.CommandCannotFail(),
    validations.JinjaInValidationCommand(),
    validations.RegexMatchesAnything(),
    validations.GrepMatchesFailures(),
    validations.BackspaceInPattern(),
    validations.SheetNumAfterFanOut(),
    validations.QuotedCommandPlaceholder(),
    validations.ValidationTargetNotInPrompt(),
    validations.RegexInContentContains(),
    validations.ValidationBeforeItsStage(),
    validations.RegexAlternationOfSections(),
    # -- ML5xx: rules/templates.py --
    templates.TemplateSyntax(),
    templates.UndefinedTemplateVariable(),
    templates.FormatBracesInTemplate(),
    templates.VariableShadowsBuiltin(),
    templates.ValidationPathPlaceholder(),
    templates.ValidationCommandPlaceholder(),
    templates.InjectionPathTemplate(),
    templates.CaptureFilesExpression(),
    templates.HookPlaceholder(),
    templates.UnknownTemplateFilter(),
    templates.TemplateNeedsLoader(),
    templates.PreviousOutputsNotCaptured(),
    templates.LookbackMissesFanOut(),
    templates.PreviousOutputsTruncated(),
    templates.JinjaCommentSwallowsText(),
    templates.DictMethodShadowsKey(),
    templates.FoldedTemplate(),
    templates.SheetNumBranchAfterFanOut(),
    templates.StringifiedIntKeyLookup(),
    templates.IdenticalFanOutPrompts(),
    templates.TemplateBranchUnreachable(),
    templates.BatchRangeCollapses(),
    templates.TextPlusNumber(),
    templates.FanOutLookupMissesVoice(),
    templates.FanCountOutsideFanOut(),
    # -- ML6xx: rules/paths.py --
    paths.WorkspaceParentMissing(),
    paths.NullWorkspace(),
    paths.UnexpandedWorkspacePath(),
    paths.DefaultWorkspace(),
    paths.TemplateFileMissing(),
    paths.SystemPromptFileMissing(),
    paths.WorkingDirectoryMissing(),
    paths.InjectionFileMissing(),
    paths.RelativeValidationPath(),
    paths.ValidationFileMissing(),
    paths.VersionedScoreReference(),
    paths.TechniqueSkillMissing(),
    paths.FleetScoreMissing(),
    paths.FleetUnknownGroup(),
    paths.UnsafeWorkspace(),
    paths.UnexpandedConductorPath(),
    paths.FleetJobIdCollision(),
    paths.ChainedScoreMissing(),
    paths.ConductorConfigName(),
    paths.InjectionHasNoContent(),
    # -- ML7xx: rules/instruments.py --
    instruments.UnknownInstrument(),
    instruments.UnknownFallbackInstrument(),
    instruments.SkipPermissionsDisabled(),
    instruments.McpEnabled(),
    instruments.BackendTypeNotLegacy(),
    instruments.BackendFieldIgnored(),
    instruments.ParallelSharedWorktree(),
    instruments.ChecksumHookWithoutChecksums(),
    instruments.PromptWithoutTemplate(),
    instruments.DeprecatedAutoApply(),
    instruments.SettingHasNoEffect(),
    instruments.TechniqueMcpUnsupported(),
    instruments.DefaultModelNotListed(),
    instruments.PromptFlagUnused(),
    instruments.HttpInstrumentUnimplemented(),
    instruments.InstrumentAliasShadowsProfile(),
    instruments.CliPromptNotShell(),
    instruments.InstrumentConfigIgnoredKey(),
    instruments.ProfilePatternInvalid(),
    instruments.CliFallbackToAi(),
    instruments.TechniqueNeverActive(),
    instruments.ProfileWithoutRateLimitDetection(),
    instruments.ProfileCostUntracked(),
    instruments.CliScriptIgnoresFailures(),
    instruments.PromptExpectsMcp(),
    instruments.ProfileWithoutAutoApprove(),
    instruments.ProfileShadowsBuiltin(),
    instruments.LegacyBackend(),
    instruments.ProfileSuccessCodesWithoutZero(),
    instruments.ProfileExecutableWithArguments(),
    instruments.ProfileOutputFormatMismatch(),
    instruments.ProfileModelsWithoutModelFlag(),
    instruments.ProfileMcpNotDisabled(),
    instruments.ProfileMcpCapabilityWithoutFlag(),
    instruments.LearningBackendPartial(),
    instruments.ProfileResultUnparsed(),
    instruments.ProfilePatternTooBroad(),
    # -- ML8xx: rules/chaining.py --
    chaining.SelfChainWithoutFresh(),
    chaining.RelativeJobPath(),
    chaining.ChainWithoutConcert(),
    chaining.SelfChainKeepsOldOutputs(),
    chaining.RelativeHookScript(),
]

_CODE = re.compile(r"^ML\d{3}$")
_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def registry_problems(rules: Iterable[Rule]) -> list[str]:
    """What is wrong with a list of rules: repeated codes or names, malformed ones, no summary."""
    problems: list[str] = []
    codes: dict[str, str] = {}
    names: dict[str, str] = {}
    for rule in rules:
        label = type(rule).__name__
        if rule.code in codes:
            problems.append(f"{label}: code {rule.code} is also the code of {codes[rule.code]}")
        if rule.name in names:
            problems.append(f"{label}: name {rule.name!r} is also the name of {names[rule.name]}")
        codes.setdefault(rule.code, label)
        names.setdefault(rule.name, label)
        if not _CODE.match(rule.code):
            problems.append(f"{label}: code {rule.code!r} is not ML followed by three digits")
        if not _NAME.match(rule.name):
            problems.append(f"{label}: name {rule.name!r} is not kebab-case")
        if not rule.summary or not type(rule).__doc__:
            problems.append(f"{label}: a rule needs a one-line summary and a docstring")
    return problems


BY_NAME: dict[str, Rule] = {rule.name: rule for rule in RULES}
#: Every rule name, in registry order.
RULE_NAMES: tuple[str, ...] = tuple(BY_NAME)
BY_CODE: dict[str, Rule] = {rule.code: rule for rule in RULES}

_CODE_PREFIX = re.compile(r"^ML\d{0,3}$")

#: Options read outside any rule (by the reader), with their defaults.
READER_OPTIONS: dict[str, Any] = {
    "max-file-size": DEFAULT_MAX_FILE_BYTES,
    "max-depth": 200,
    "max-alias-nodes": 100_000,
    "max-sheets": 100_000,
}


def option_defaults() -> dict[str, Any]:
    """Every option a configuration may set, with its default (a fresh copy: callers may change it)."""
    return dict(_option_defaults())


def option_default(name: str) -> Any:
    """The default of one option (KeyError for an unknown one)."""
    return _option_defaults()[name]


@cache
def _option_defaults() -> dict[str, Any]:
    out = dict(READER_OPTIONS)
    for rule in RULES:
        out.update(rule.options)
    return out


def lookup(token: str) -> Rule | None:
    """A rule by code or name."""
    return BY_CODE.get(token.upper()) or BY_NAME.get(token)


def is_known(token: str) -> bool:
    return lookup(token) is not None


def expand(tokens: Iterable[str], where: str) -> set[str]:
    """Rule names selected by codes, code prefixes, names or ALL."""
    out: set[str] = set()
    for raw in tokens:
        token = raw.strip()
        if token.upper() == "ALL":
            out.update(BY_NAME)
        elif (rule := lookup(token)) is not None:
            out.add(rule.name)
        elif _CODE_PREFIX.match(token.upper()):
            matched = {rule.name for rule in RULES if rule.code.startswith(token.upper())}
            if not matched:
                raise ConfigError(f"{where}: no rule code starts with '{token}'")
            out.update(matched)
        else:
            raise ConfigError(f"{where}: unknown rule '{token}'{did_you_mean(token, list(BY_NAME))}")
    return out


def enabled_rules(config: Config) -> set[str]:
    """The names of the rules a configuration turns on."""
    selected = set(BY_NAME) if config.select is None else expand(config.select, "select")
    selected |= expand(config.extend_select, "extend-select")
    selected -= expand(config.ignore, "ignore")
    expand(config.severity, "severity")
    for pattern, rules in config.per_file_ignores.items():
        expand(rules, f"per-file-ignores['{pattern}']")
    return selected


_CHECKING: dict[tuple[str, frozenset[str]], list[Rule]] = {}


def checking_rules(kind: str, enabled: set[str] | frozenset[str]) -> list[Rule]:
    """The rules with a check of their own that run on a document of ``kind`` (kept per selection:
    every file of a run asks again)."""
    key = (kind, frozenset(enabled))
    found = _CHECKING.get(key)
    if found is None:
        if len(_CHECKING) > 64:  # the server and tests try many selections
            _CHECKING.clear()
        found = _CHECKING[key] = [rule for rule in RULES if rule.has_check and kind in rule.kinds
                                  and rule.name in enabled]
    return list(found)


__all__ = ["BY_CODE", "BY_NAME", "RULES", "Context", "Rule", "checking_rules", "enabled_rules", "lookup"]
