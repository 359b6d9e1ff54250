/**
 * Random one-member edits of a fixture, for the tests that hold code generated per type to
 * the schema walk it stands in for (validation, defaults, managed fields): each round makes
 * a fresh object, picks one of its members at any depth and deletes it or sets it to a copy
 * of one of `values`. Seeded (Park-Miller), so a failure repeats.
 */
export interface RandomEdit {
  /** the edited object, fresh each round */
  obj: any;
  /** the member that was changed */
  path: string[];
  /** the object or array holding that member */
  parent: any;
  /** the round's generator: a number from 0 to n-1 */
  rand: (n: number) => number;
}

export function* randomEdits(make: () => any, values: readonly unknown[], opts: { seed: number; rounds: number }): Generator<RandomEdit> {
  let seed = opts.seed;
  const rand = (n: number) => {
    seed = (seed * 16807) % 2147483647;
    return seed % n;
  };
  const paths: string[][] = [];
  const collect = (v: any, path: string[]) => {
    for (const k of Object.keys(v)) {
      paths.push([...path, k]);
      if (v[k] && typeof v[k] === 'object') collect(v[k], [...path, k]);
    }
  };
  collect(make(), []);
  for (let round = 0; round < opts.rounds; round++) {
    const obj = make();
    const path = paths[rand(paths.length)];
    let parent: any = obj;
    for (const k of path.slice(0, -1)) parent = parent[k];
    const last = path[path.length - 1];
    if (rand(values.length + 1) === 0) delete parent[last];
    else parent[last] = structuredClone(values[rand(values.length)]);
    yield { obj, path, parent, rand };
  }
}
