/**
 * `flotilla up --control-plane static-pods`: kubeadm's layout, the apiserver, scheduler
 * and controller-manager as static pods of the real node (manifests in <data>/manifests,
 * run by the kubelet's --pod-manifest-path) instead of processes up supervises.
 *
 * Each pod runs the flotilla CLI of this machine with the same command line the
 * supervised process gets. The image is the local busybox (nothing is pulled): the host's
 * `/` is mounted read-only at /host and the container `chroot`s into it, so node finds
 * its shared libraries and the repository's dist/ at their host paths; hostNetwork puts
 * the apiserver on the host's port and lets every component reach NATS on 127.0.0.1.
 */
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { stringify } from 'yaml';

/** the components that become static pods, by their supervised-service name */
export const STATIC_POD_COMPONENTS = ['apiserver', 'scheduler', 'controller-manager'] as const;
export type StaticPodComponent = (typeof STATIC_POD_COMPONENTS)[number];

export const CONTROL_PLANE_MODES = ['processes', 'static-pods'] as const;
export type ControlPlaneMode = (typeof CONTROL_PLANE_MODES)[number];

export function manifestsDir(dataDir: string): string {
  return path.join(dataDir, 'manifests');
}

/** The static pod of one component: `command` runs on the host's root (chroot /host). */
export function controlPlanePod(component: StaticPodComponent, command: string[]): Pod {
  const name = `kube-${component}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'kube-system', labels: { component: name, tier: 'control-plane' } },
    spec: {
      hostNetwork: true,
      priorityClassName: 'system-node-critical',
      restartPolicy: 'Always',
      containers: [
        {
          name,
          image: 'busybox',
          imagePullPolicy: 'IfNotPresent',
          command: ['chroot', '/host', ...command],
          volumeMounts: [{ name: 'host-root', mountPath: '/host', readOnly: true }],
        },
      ],
      volumes: [{ name: 'host-root', hostPath: { path: '/', type: 'Directory' } }],
    },
  };
}

/**
 * Writes one manifest per component into dir (replacing what an earlier up left there,
 * so ports and NATS URL are this run's); returns the files.
 */
export function writeControlPlaneManifests(dir: string, commands: Record<StaticPodComponent, string[]>): string[] {
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) if (/^kube-.*\.yaml$/.test(f)) rmSync(path.join(dir, f), { force: true });
  return STATIC_POD_COMPONENTS.map((c) => {
    const file = path.join(dir, `kube-${c}.yaml`);
    // written under a dot name (the kubelet skips those) and renamed: never read half-written
    const tmp = path.join(dir, `.kube-${c}.yaml.tmp`);
    writeFileSync(tmp, stringify(controlPlanePod(c, commands[c])));
    renameSync(tmp, file);
    return file;
  });
}
