/**
 * Every served kind. Importing this module registers them all (and their types) in
 * lib/schema/registry.ts.
 */
import './meta-v1.js';
import './core-v1-pod.js';
import './core-v1.js';
import './apps-v1.js';
import './batch-v1.js';
import './coordination-v1.js';
import './scheduling-v1.js';
import './discovery-v1.js';
import './events-v1.js';
import './policy-v1.js';
import './apiregistration-v1.js';
