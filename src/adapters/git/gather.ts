/**
 * Gathers the requests made within one turn of the event loop and answers them with one call of
 * `run` (one git process for many files or refs: a process each is what made `validate --base` wait,
 * issue 15). `run` gets the distinct keys and returns one answer (or Error) per key, in order.
 */
export function gatherTurn<K, V>(run: (keys: K[]) => Promise<(V | Error)[]>): (key: K) => Promise<V> {
  let queue: { key: K; resolve: (v: V) => void; reject: (e: unknown) => void }[] = [];
  const flush = async () => {
    const asked = queue;
    queue = [];
    const keys = [...new Set(asked.map((a) => a.key))];
    try {
      const answers = await run(keys);
      for (const a of asked) {
        const answer = answers[keys.indexOf(a.key)];
        if (answer instanceof Error) a.reject(answer);
        else a.resolve(answer as V);
      }
    } catch (err) {
      for (const a of asked) a.reject(err);
    }
  };
  return (key) =>
    new Promise<V>((resolve, reject) => {
      if (queue.length === 0) setImmediate(() => void flush());
      queue.push({ key, resolve, reject });
    });
}
