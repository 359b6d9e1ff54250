#!/usr/bin/env node
/**
 * The `flotilla` command (package.json "bin"): makes sure node_modules and an up-to-date
 * build exist (FLOTILLA_SKIP_BUILD=1 skips the staleness check), then runs the compiled
 * CLI, dist/cli/main.js.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, ensureBuild, ensureDependencies } from './ensure.js';

if (!process.env.FLOTILLA_SKIP_BUILD) {
  ensureDependencies();
  ensureBuild({ onlyIfStale: true });
}
await import(pathToFileURL(path.join(ROOT, 'dist', 'cli', 'main.js')).href);
