/**
 * The addons `flotilla up` runs beside the cluster's core (nats-server, apiserver,
 * scheduler, controller-manager, kubelets): `--addons a,b` picks them, default all,
 * `--addons none` none.
 */
export const ADDONS = ['kube-state-metrics', 'prometheus', 'metrics-server', 'logging', 'dashboard', 'dns'] as const;

/** The addons a --addons value names (undefined: all); an unknown name is an error that lists the known ones. */
export function parseAddons(value: string | undefined): string[] {
  if (value === undefined) return [...ADDONS];
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (names.length === 1 && names[0] === 'none') return [];
  for (const n of names) if (!(ADDONS as readonly string[]).includes(n)) throw new Error(`--addons: unknown addon "${n}" (known: ${ADDONS.join(', ')}, or none)`);
  return names;
}
