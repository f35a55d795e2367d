/** The gaps of reference/watcher-facts.md through the whole pipeline (8 parallel writers and a seeded storm) with the inotify backend: watch-gaps-suite.ts. */
import { gapsSuite } from './watch-gaps-suite.js';

gapsSuite('inotify', 'load');
