import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';

const PackageJson = z.looseObject({ name: z.string(), version: z.string() });

/** This build's version from package.json, found by walking up from this file (the same from
 * src/ under jest and from dist/); "unknown" when run outside a package. */
export function packageVersion(start = __dirname): string {
  let dir = start;
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const parsed = PackageJson.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
      return parsed.success ? parsed.data.version : 'unknown';
    }
    const parent = path.dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}
