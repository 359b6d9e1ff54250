/**
 * The Kubernetes version Flotilla's API speaks: what /version answers and what its own
 * components put in their User-Agent, as upstream's binaries do.
 */
export const KUBERNETES_VERSION = { major: '1', minor: '31', gitVersion: 'v1.31.0-flotilla' } as const;

/**
 * client-go's default User-Agent for a component: `NAME/VERSION (OS/ARCH) kubernetes/COMMIT`.
 * The apiserver records writes without a fieldManager under NAME (upstream's rule).
 */
export function componentUserAgent(component: string): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  return `${component}/${KUBERNETES_VERSION.gitVersion} (${process.platform}/${arch}) kubernetes/flotilla`;
}
