/**
 * corev1.PodLogOptions: what pods/log takes (HTTP query, the body of a NATS get) and
 * what the apiserver passes on to the pod's kubelet in a log session.
 */
export interface PodLogOptions {
  container?: string;
  follow?: boolean;
  previous?: boolean;
  timestamps?: boolean;
  sinceSeconds?: number;
  sinceTime?: string;
  tailLines?: number;
  limitBytes?: number;
}
