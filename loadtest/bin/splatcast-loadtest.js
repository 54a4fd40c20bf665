#!/usr/bin/env node
// The installed command. npm links bins when it installs, before the build writes dist/, so the link points here.
import '../dist/cli.js';
