import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['node_modules/**', 'coverage/**', 'sim/out/**', 'bench/out/**', '.scratch/**'] }),
  {
    rules: {
      'no-console': 'error'
    }
  },
  {
    // The command-line front end (and the README's runnable examples) are the places that talk to a terminal.
    files: ['src/cli/**', 'examples/**'],
    rules: { 'no-console': 'off' }
  }
]
