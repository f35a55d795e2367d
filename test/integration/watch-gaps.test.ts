/** The gaps of reference/watcher-facts.md through the whole pipeline (mkdir -p, mv, tar x, cp -r, rm -rf) with the inotify backend: watch-gaps-suite.ts. */
import { gapsSuite } from './watch-gaps-suite.js';

gapsSuite('inotify', 'tools');
