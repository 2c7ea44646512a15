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
  const n = integerOption(name, text, spec.min ?? 1);
  if (spec.max !== undefined && n > spec.max) {
    throw new UsageError(`--${name} must be at most ${spec.max}, got "${text}"`);
  }
  return n;
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
  return n;
}

function checkedChoice(name: string, text: string, spec: OptionSpec): string {
  if (spec.choices && !spec.choices.includes(text)) {
    throw new UsageError(`--${name} must be one of ${spec.choices.join(", ")}, got "${text}"`);
  }
  return text;
}

/** The `--help` rows of `table` (and `-h, --help`), aligned, each default in brackets. */
export function optionsHelp(table: OptionTable): string {
  const rows = Object.entries({ ...table, help: HELP_OPTION }).map(([name, spec]) => {
    const arg = spec.kind === "flag"
      ? ""
      : ` ${spec.arg ?? (spec.kind === "integer" ? "N" : "VALUE")}`;
    const flags = `${spec.short ? `-${spec.short}, ` : ""}--${name}${arg}`;
    const shown = spec.defaultHelp ?? spec.default;
    const [first, ...rest] = spec.help.split("\n");
    const choices = spec.choices && !spec.help.includes(spec.choices[0])
      ? ` (${spec.choices.join(", ")})`
      : "";
    return {
      flags,
      lines: [`${first}${choices}${shown === undefined ? "" : `  [${shown}]`}`, ...rest],
    };
  });
  const width = Math.max(...rows.map((r) => r.flags.length)) + 2;
  return rows.flatMap(({ flags, lines }) =>
    lines.map((line, i) => `  ${(i === 0 ? flags : "").padEnd(width)}${line}`)
  ).join("\n");
}
