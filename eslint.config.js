import neostandard from 'neostandard'

export default [
  ...neostandard({ ts: true, ignores: ['node_modules/**', 'coverage/**', 'sim/out/**', 'bench/out/**', '.scratch/**'] }),
  {
    rules: {
      'no-console': 'error'
    }
  },
  {
    // The command-line front end is the one place that talks to a terminal.
    files: ['src/cli/**'],
    rules: { 'no-console': 'off' }
  }
]
