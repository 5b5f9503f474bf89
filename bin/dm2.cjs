#!/usr/bin/env node
// The `dm2` command. CommonJS, so that it runs before Node's ESM loader first
// uses libuv's thread pool: UV_THREADPOOL_SIZE is read once, at that moment.
// 16 threads unless the operator set a value: DEFAULT_THREADPOOL_SIZE in
// src/config/defaults.ts says why (a test keeps the two equal).
'use strict'
if (process.env.UV_THREADPOOL_SIZE === undefined) process.env.UV_THREADPOOL_SIZE = '16'
import('./dm2.js').catch((err) => {
  process.stderr.write(`${err && err.stack ? err.stack : err}\n`)
  process.exit(1)
})
