#!/usr/bin/env node
/**
 * The `kvrouter` command (package `bin`). See `kvrouter --help`.
 * @module
 */
import { runCli } from './run.js';

process.on('uncaughtException', (error) => {
  process.stderr.write(`kvrouter: error: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}\n`);
  process.exit(1);
});

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`kvrouter: error: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}\n`);
    process.exitCode = 1;
  },
);
