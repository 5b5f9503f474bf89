/**
 * The local, authenticated control channel between the `dm2` CLI and a
 * running node: a Unix domain socket (`<dataDir>/control.sock`, mode 0600)
 * carrying newline-delimited JSON calls with progress events and cancellation.
 *
 * @example
 * ```ts
 * const server = new ControlServer({ socketPath, handlers: { status: async () => ({ peers: 5 }) }, log })
 * await server.start()
 * const client = await ControlClient.connect(socketPath)
 * console.log(await client.call('status'))
 * ```
 */
export * from './errors.js'
export { ControlServer, type ControlHandler, type CallContext, type ControlServerInit } from './server.js'
export { ControlClient, type CallOptions } from './client.js'
export { MAX_LINE_BYTES } from './wire.js'
