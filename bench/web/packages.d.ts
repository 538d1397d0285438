// The module session.ts writes for the page's bundle (see page.ts).
declare module "bench-web:packages" {
  /** A loader for each peer package installed, by name. */
  export const PACKAGES: Record<string, () => Promise<Record<string, unknown>>>;
  /** Every peer package's installed version, by name. */
  export const VERSIONS: Record<string, string>;
  /** A loader for each --custom module, by its path. */
  export const CUSTOM: Record<string, () => Promise<{ default?: unknown }>>;
}
