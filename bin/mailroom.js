#!/usr/bin/env node
// Entry for `npx mailroom`: Node 24 runs the TypeScript sources directly (type stripping).
import '../src/main.ts';
