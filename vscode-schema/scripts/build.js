#!/usr/bin/env node
// Bundles src/extension.js with vscode-languageclient into dist/extension.js (one file, so the
// .vsix ships no node_modules). Run by `vscode:prepublish` after copy-schemas.js; installs the
// build's devDependencies first when they are missing (needs the npm registry once).
//
// usage: node scripts/build.js [--check]   (--check: only verify that dist/extension.js is there)
'use strict';

const childProcess = require('child_process');
const fs = require('fs');
const path = require('path');

const extensionDir = path.resolve(__dirname, '..');
const out = path.join(extensionDir, 'dist', 'extension.js');

if (process.argv.includes('--check')) {
  if (!fs.existsSync(out)) {
    console.error(`build: ${out} is missing (run: npm run build)`);
    process.exit(1);
  }
  process.exit(0);
}

function installed(name) {
  return fs.existsSync(path.join(extensionDir, 'node_modules', name, 'package.json'));
}

if (!installed('esbuild') || !installed('vscode-languageclient')) {
  console.log('build: installing the build dependencies (npm install)');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const done = childProcess.spawnSync(npm, ['install', '--no-audit', '--no-fund', '--no-package-lock',
    '--include=dev', '--loglevel=error'], { cwd: extensionDir, stdio: 'inherit', shell: process.platform === 'win32' });
  if (done.status !== 0) {
    console.error('build: npm install failed');
    process.exit(done.status || 1);
  }
}

const esbuild = require(path.join(extensionDir, 'node_modules', 'esbuild'));
esbuild.buildSync({
  entryPoints: [path.join(extensionDir, 'src', 'extension.js')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node18',
  external: ['vscode'],
  outfile: out,
  minify: true,
  keepNames: true,
  legalComments: 'inline',
  logLevel: 'warning',
});
console.log(`build: wrote ${path.relative(extensionDir, out)}`);
