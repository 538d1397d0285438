import { kindOf } from "../check";
import { ACTIVATIONS, type ActivationName } from "../kernels/activation";

/**
 * An activation option: one of `allowed`, or `fallback` when absent.
 * The error names the parameter and lists what is accepted.
 */
export function assertActivation(
  value: unknown,
  where: string,
  name: string,
  fallback: ActivationName,
  allowed: readonly ActivationName[] = ACTIVATIONS,
): ActivationName {
  if (value === undefined) return fallback;
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) {
    return value as ActivationName;
  }
  throw new TypeError(
    `${where}: ${name} must be one of ${allowed.map((a) => `"${a}"`).join(", ")}, got ${typeof value === "string" ? `"${value}"` : kindOf(value)}`,
  );
}
