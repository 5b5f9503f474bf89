/**
 * Node 20 lacks `Promise.withResolvers` (added in Node 22), which libp2p 3.x
 * calls. Import this module before anything from libp2p: every entry point
 * (the CLI, `src/node/index.ts`, the vitest setup file) does. It also sets
 * the V8 heap's growth for a node process (see config/heap.ts).
 */
import './config/heap.js'

interface Resolvers<T> {
  promise: Promise<T>
  resolve: (value: T | PromiseLike<T>) => void
  reject: (reason?: unknown) => void
}

const P = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> }

if (typeof P.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T> (): Resolvers<T> {
      let resolve!: Resolvers<T>['resolve']
      let reject!: Resolvers<T>['reject']
      const promise = new Promise<T>((_resolve, _reject) => {
        resolve = _resolve
        reject = _reject
      })
      return { promise, resolve, reject }
    }
  })
}

export {}
