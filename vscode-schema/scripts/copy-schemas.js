#!/usr/bin/env node
// Copies the JSON Schema files of marianne-lint (../schema/*.json, generated from the models by
// `marianne-lint schema`) into this extension's schemas/ folder, byte for byte. Run by the
// `vscode:prepublish` npm script, so `vsce package` always ships the schemas of this checkout.
//
// usage: node scripts/copy-schemas.js [--source DIR] [--dest DIR] [--check]
//   --source DIR  where the schema files are        (default: ../schema beside this extension)
//   --dest DIR    where to copy them                (default: schemas/ in this extension)
//   --check       copy nothing; exit 1 when DIR differs from the source (stale or missing files)
'use strict';

const fs = require('fs');
const path = require('path');

const extensionDir = path.resolve(__dirname, '..');
let source = path.resolve(extensionDir, '..', 'schema');
let dest = path.join(extensionDir, 'schemas');
let check = false;

const args = process.argv.slice(2);
for (let i = 0; i < args.length; i += 1) {
  const arg = args[i];
  if (arg === '--source' && i + 1 < args.length) {
    source = path.resolve(args[(i += 1)]);
  } else if (arg === '--dest' && i + 1 < args.length) {
    dest = path.resolve(args[(i += 1)]);
  } else if (arg === '--check') {
    check = true;
  } else {
    console.error(`copy-schemas: unknown argument ${arg}`);
    process.exit(2);
  }
}

let names;
try {
  names = fs.readdirSync(source).filter((name) => name.endsWith('.schema.json')).sort();
} catch (error) {
  console.error(`copy-schemas: cannot read ${source}: ${error.message}`);
  process.exit(2);
}
if (names.length === 0) {
  console.error(`copy-schemas: no *.schema.json file in ${source}`);
  process.exit(2);
}

if (check) {
  const stale = names.filter((name) => {
    const target = path.join(dest, name);
    return !fs.existsSync(target) || !fs.readFileSync(target).equals(fs.readFileSync(path.join(source, name)));
  });
  if (stale.length > 0) {
    console.error(`copy-schemas: out of date in ${dest}: ${stale.join(', ')} (run: npm run copy-schemas)`);
    process.exit(1);
  }
  console.log(`copy-schemas: ${names.length} schema files in ${dest} match ${source}`);
  process.exit(0);
}

fs.mkdirSync(dest, { recursive: true });
// Files of an earlier build that no longer exist in the source must not be shipped.
for (const name of fs.readdirSync(dest)) {
  if (name.endsWith('.schema.json') && !names.includes(name)) {
    fs.unlinkSync(path.join(dest, name));
  }
}
for (const name of names) {
  fs.copyFileSync(path.join(source, name), path.join(dest, name));
}
console.log(`copy-schemas: copied ${names.length} schema files from ${source} to ${dest}`);
