/** Every gap of reference/watcher-facts.md through the whole pipeline, with the inotify backend (the suite: watch-gaps-suite.ts). */
import { gapsSuite } from './watch-gaps-suite.js';

gapsSuite('inotify');
