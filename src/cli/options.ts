/**
 * A command's options written once, in one table: the parser, the value checks and the `--help` rows
 * all come from it, so a default or a list of choices cannot say one thing in the help and do another.
 * @module
 */
import { integerOption, parseCommandLine, UsageError } from "./usage.ts";

/** One command-line option. */
export interface OptionSpec {
  /** `flag` (boolean), `string`, `integer` or `number` (both checked against `min` and `max`). */
  kind: "flag" | "string" | "integer" | "number";
  /** What `--help` says; a `\n` starts a continuation line. */
  help: string;
  /** A one-letter alias (`-n`). */
  short?: string;
  /** The value's placeholder in `--help` (default `N` for integers, `VALUE` for strings). */
  arg?: string;
  /** The value when the option is not given. */
  default?: string | number;
  /** What `--help` shows as the default when it is computed or said in words (`logical CPUs`). */
  defaultHelp?: string;
  /** integer, number: the smallest value allowed (default 1 for integers, none for numbers). */
  min?: number;
  /** integer, number: the largest value allowed. */
  max?: number;
  /** string: the values allowed. */
  choices?: readonly string[];
  /** integer, number: a further condition; returns null when `value` is fine, else what it must be. */
  check?: (value: number) => string | null;
  /** Parsed but left out of `--help` (a renamed option kept only to name its replacement). */
  hidden?: boolean;
}

/** A command's options by long name (without `--`). */
export type OptionTable = Record<string, OptionSpec>;

type ValueOf<S extends OptionSpec> = S extends { kind: "flag" } ? boolean
  : S extends { kind: "integer" | "number"; default: number } ? number
  : S extends { kind: "integer" | "number" } ? number | undefined
  : S extends { default: string } ? string
  : string | undefined;

/** The parsed values of a table's options, typed by their kind and default; `help` is always there. */
export type OptionValues<T extends OptionTable> =
  & { -readonly [K in keyof T]: ValueOf<T[K]> }
  & { help: boolean };

const HELP_OPTION: OptionSpec = { kind: "flag", short: "h", help: "show this help" };

/**
 * Parses `args` against `table` (strict: unknown options are errors), checks integers and choices,
 * and returns the values with their defaults.
 * @throws {UsageError} one line naming the option and what it must be.
 */
export function parseOptions<const T extends OptionTable>(
  table: T,
  args: string[],
  positionals = false,
): { values: OptionValues<T>; positionals: string[] } {
  const all: OptionTable = { ...table, help: HELP_OPTION };
  const options = Object.fromEntries(
    Object.entries(all).map(([name, spec]) => [name, {
      type: spec.kind === "flag" ? "boolean" as const : "string" as const,
      ...(spec.short ? { short: spec.short } : {}),
    }]),
  );
  const parsed = parseCommandLine({ args, strict: true, allowPositionals: positionals, options });
  const raw = parsed.values as Record<string, string | boolean | undefined>;
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(all)) {
    const given = raw[name];
    if (spec.kind === "flag") values[name] = given === true;
    else if (given === undefined) values[name] = spec.default;
    else if (spec.kind === "integer") values[name] = checkedInteger(name, given as string, spec);
    else if (spec.kind === "number") values[name] = checkedNumber(name, given as string, spec);
    else values[name] = checkedChoice(name, given as string, spec);
  }
  return { values: values as OptionValues<T>, positionals: parsed.positionals };
}

function checkedInteger(name: string, text: string, spec: OptionSpec): number {
  return passesCheck(name, text, integerOption(name, text, spec.min ?? 1, spec.max), spec);
}

function passesCheck(name: string, text: string, value: number, spec: OptionSpec): number {
  const want = spec.check?.(value) ?? null;
  if (want !== null) throw new UsageError(`--${name} must be ${want}, got "${text}"`);
  return value;
}

function checkedNumber(name: string, text: string, spec: OptionSpec): number {
  const n = Number(text);
  const [min, max] = [spec.min ?? -Infinity, spec.max ?? Infinity];
  if (text.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
    const range = spec.min !== undefined && spec.max !== undefined
      ? ` from ${min} to ${max}`
      : spec.min !== undefined
      ? ` ≥ ${min}`
      : spec.max !== undefined
      ? ` ≤ ${max}`
      : "";
    throw new UsageError(`--${name} must be a number${range}, got "${text}"`);
  }
  return passesCheck(name, text, n, spec);
}

function checkedChoice(name: string, text: string, spec: OptionSpec): string {
  if (spec.choices && !spec.choices.includes(text)) {
    throw new UsageError(`--${name} must be one of ${spec.choices.join(", ")}, got "${text}"`);
  }
  return text;
}

/** How {@link optionsHelp} lays out its rows. */
export interface HelpLayout {
  /** End with the `-h, --help` row (default true). */
  help?: boolean;
  /** Align the descriptions as for this table (a section of a longer help aligns with the whole). */
  alignWith?: OptionTable;
}

function flagsOf(name: string, spec: OptionSpec): string {
  const placeholder = spec.arg ?? (spec.kind === "string" ? "VALUE" : "N");
  const arg = spec.kind === "flag" ? "" : ` ${placeholder}`;
  return `${spec.short ? `-${spec.short}, ` : ""}--${name}${arg}`;
}

/** The `--help` rows of `table` (and `-h, --help`), aligned, each default in brackets. */
export function optionsHelp(table: OptionTable, layout: HelpLayout = {}): string {
  const entries = Object.entries(layout.help === false ? table : { ...table, help: HELP_OPTION })
    .filter(([, spec]) => !spec.hidden);
  const rows = entries.map(([name, spec]) => {
    const shown = spec.defaultHelp ?? spec.default;
    const choices = spec.choices && !spec.help.includes(spec.choices[0])
      ? ` (${spec.choices.join(", ")})`
      : "";
    const text = `${spec.help}${choices}${shown === undefined ? "" : `  [${shown}]`}`;
    return { flags: flagsOf(name, spec), lines: text.split("\n") };
  });
  const aligned = Object.entries({ ...(layout.alignWith ?? table), help: HELP_OPTION });
  const width = Math.max(...aligned.map(([name, spec]) => flagsOf(name, spec).length)) + 2;
  return rows.flatMap(({ flags, lines }) =>
    lines.map((line, i) => `  ${(i === 0 ? flags : "").padEnd(width)}${line}`)
  ).join("\n");
}
