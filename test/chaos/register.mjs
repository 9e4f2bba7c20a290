// `node --import ./test/chaos/register.mjs FILE.ts`: run TypeScript through ts-hooks.mjs.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
