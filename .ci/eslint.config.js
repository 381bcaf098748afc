// The one lint and format of the tree (`npm run lint`, run by `npm test`
// before the tests): neostandard, standard's style for TypeScript (no
// semicolons, space before function parentheses, single quotes), over lib/,
// bin/, test/ and benchmarks/.
import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'node_modules/**'] }),
  {
    rules: {
      // `void promise` marks a promise deliberately left to run (timers, event
      // handlers): the statement form says so; `void` in an expression still fails.
      'no-void': ['error', { allowAsStatement: true }],
      // A leading underscore names what is there only to be skipped (`for await (const _ of …)`).
      '@typescript-eslint/no-unused-vars': ['error', { varsIgnorePattern: '^_', argsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrors: 'none' }]
    }
  }
]
