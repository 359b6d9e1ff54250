/**
 * The controller pattern every controller process shares (upstream's
 * k8s.io/controller-manager library): the kube-controller-manager's controllers and the
 * cloud-controller-manager's are built on the same informer-handler / work-queue / sync
 * wiring.
 */
export { InformerController, QueueController, type Controller, type ControllerContext, type QueueControllerOptions } from './controller.js';
export { enabledControllers } from './enabled.js';
export { runWithLeadership, type ControllerToRun, type LeaderElectionFlags, type Leadership, type LeadershipOptions } from './leadership.js';
