import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

export default tseslint.config(
  {
    ignores: [
      "dist/",
      "docs/api/",
      "node_modules/",
      "bench/node_modules/",
      "bench/results/",
      "coverage/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // src/ is the browser-safe library: no Node globals there (process, Buffer, require).
    languageOptions: {
      globals: { ...globals.browser },
    },
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "CallExpression[callee.name='eval']",
          message: "eval breaks a strict Content-Security-Policy.",
        },
        {
          selector: "NewExpression[callee.name='Function']",
          message: "new Function breaks a strict Content-Security-Policy.",
        },
      ],
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
    },
  },
  {
    files: ["scripts/**", "test/**", "bench/**", "docs/**", "examples/**", "*.config.*"],
    languageOptions: {
      globals: { ...globals.browser, ...globals.node },
    },
  },
);
