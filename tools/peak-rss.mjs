// Preload (`node --import ./tools/peak-rss.mjs ...`): on exit, write the process's peak resident set size in
// kilobytes to $MEDNER_PEAK_RSS_FILE. Used by tools/hostile-inputs.ts and test/reliability to state memory
// bounds from measurements, without /usr/bin/time.
import { writeFileSync } from 'node:fs';

process.on('exit', () => {
  if (process.env.MEDNER_PEAK_RSS_FILE) writeFileSync(process.env.MEDNER_PEAK_RSS_FILE, String(process.resourceUsage().maxRSS));
});
