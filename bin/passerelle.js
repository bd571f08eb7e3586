#!/usr/bin/env node
// The `passerelle` command: the compiled CLI (npm run build writes dist/).
import '../dist/cli/entry.js';
