/**
 * What the code generated once per type (validation's checks, defaults, managed fields'
 * struct emitters) shares: reading a member by name, and a switch that runs the schema
 * walk alone, the reference the generated code is tested against.
 */

/**
 * Source that sets `target` to `obj`'s own member `name`: the walks read own members only, so
 * a name Object.prototype has ("constructor") must not find the inherited one.
 */
export function ownMemberSource(target: string, obj: string, name: string): string {
  const key = JSON.stringify(name);
  return name in Object.prototype ? `${target} = Object.hasOwn(${obj}, ${key}) ? ${obj}[${key}] : undefined;` : `${target} = ${obj}[${key}];`;
}

/** Whether a module's generated code runs; `withoutIt` runs the walk alone for a call. */
export class GeneratedCodeSwitch {
  on = true;

  withoutIt<T>(f: () => T): T {
    this.on = false;
    try {
      return f();
    } finally {
      this.on = true;
    }
  }
}
