#!/usr/bin/env node
// `npx automations ...`: runs the TypeScript CLI through tsx.
import { register } from "tsx/esm/api";

register();
await import("../local/cli.ts");
