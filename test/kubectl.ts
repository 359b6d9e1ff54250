/**
 * kubectl as the tests drive it: the versioned binaries shipped beside the stock kubectl
 * on PATH (kubectl.1.27, kubectl.1.33), run in a test's folder against its kubeconfig.
 */
import { execFile } from 'node:child_process';
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The folder of the kubectl on PATH (links resolved), where the versioned kubectls live. */
export function kubectlDir(): string {
  const found = process.env.PATH!.split(':').map((d) => path.join(d, 'kubectl')).find((p) => {
    try {
      realpathSync(p);
      return true;
    } catch {
      return false;
    }
  });
  if (!found) throw new Error('kubectl is not on PATH');
  return path.dirname(realpathSync(found));
}

/** The binary of kubectl `version` ("1.27", "1.33"). */
export function kubectlBinary(version: string): string {
  return path.join(kubectlDir(), `kubectl.${version}`);
}

/** Where a test's kubectl runs: read when a command runs, so a suite may set it in before(). */
export interface KubectlPlace {
  dir: string;
  kubeconfig: string;
}

/**
 * `k(...args)` runs kubectl `version` and answers its stdout (a failure throws with its
 * stderr); `kFail(...args)` expects it to fail and answers its stderr.
 */
export function kubectlRunner(version: string, place: () => KubectlPlace) {
  const k = async (...args: string[]): Promise<string> => {
    const { dir, kubeconfig } = place();
    try {
      return (await run(kubectlBinary(version), ['--kubeconfig', kubeconfig, ...args], { cwd: dir, maxBuffer: 16 << 20 })).stdout;
    } catch (e: any) {
      throw new Error(`kubectl ${args.join(' ')} failed: ${e.stderr || e.message}`);
    }
  };
  const kFail = async (...args: string[]): Promise<string> => {
    const { dir, kubeconfig } = place();
    try {
      await run(kubectlBinary(version), ['--kubeconfig', kubeconfig, ...args], { cwd: dir });
    } catch (e: any) {
      return String(e.stderr);
    }
    throw new Error(`kubectl ${args.join(' ')} should have failed`);
  };
  return { k, kFail };
}

/** The Deployment manifest the kubectl tests apply (web.yaml): one nginx container, `image` and `replicas` varied. */
export function deploymentManifest(image: string, replicas = 2): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: ${image}
        ports:
        - containerPort: 80
        env:
        - name: MODE
          value: prod
`;
}
