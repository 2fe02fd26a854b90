#!/usr/bin/env node
// Each folder under src/ exposes one index.ts; other folders import only that (docs/architecture.md, Modules).
// Prints every import that reaches into another folder's files and exits 1 if there is any.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) yield path;
  }
}

/** The top folder of `path` under src/ ('' for src/index.ts). */
const folderOf = (path) => {
  const parts = relative(src, path).split(sep);
  return parts.length > 1 ? parts[0] : '';
};

const problems = [];
for (const file of files(src)) {
  const text = readFileSync(file, 'utf8');
  for (const match of text.matchAll(/^(?:import|export)[^'"]*from\s+['"](\.[^'"]+)['"]/gm)) {
    const target = resolve(dirname(file), match[1]);
    if (!target.startsWith(src + sep)) continue;
    const from = folderOf(file);
    const to = folderOf(`${target}.ts`);
    if (!to || from === to) continue;
    // Allowed: the folder itself (its index).
    if (target === join(src, to) || target === join(src, to, 'index')) continue;
    problems.push(`${relative(root, file)}: imports ${match[1]} (use ../${to})`);
  }
}
if (problems.length > 0) {
  console.error(`Imports that reach into another module's files (src/<folder>/index.ts is its only door):`);
  for (const problem of problems) console.error(`  ${problem}`);
  process.exit(1);
}
console.log('imports: every cross-module import goes through the module index');
