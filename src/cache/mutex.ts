/** Async critical sections: one lock, and one lock per key. */

const settle = (): undefined => undefined

/** Runs async critical sections one at a time, in call order. */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve()

  async run<T> (fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn)
    this.#tail = result.then(settle, settle)
    return await result
  }
}

/** One `Mutex` per key, forgotten when idle (so the map does not grow with every key ever seen). */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<unknown>>()

  async run<T> (key: string, fn: () => Promise<T>): Promise<T> {
    const result = (this.#tails.get(key) ?? Promise.resolve()).then(fn)
    const tail = result.then(settle, settle)
    this.#tails.set(key, tail)
    await tail
    if (this.#tails.get(key) === tail) this.#tails.delete(key)
    return await result
  }
}
