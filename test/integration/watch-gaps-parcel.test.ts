/** Every gap of reference/watcher-facts.md through the whole pipeline, with @parcel/watcher (the suite: watch-gaps-suite.ts). */
import { gapsSuite } from './watch-gaps-suite.js';

gapsSuite('parcel');
