// `npm run lint`: the linter, the architecture rules and the unused-code check, each run even when
// one before it fails, so one run shows every finding; exits non-zero when any of them failed.
import { spawnSync } from 'node:child_process';

const checks = [
  ['lint:code', 'oxlint (correctness, React hooks, import cycles, the editor kept off engine/)'],
  ['lint:architecture', 'dependency-cruiser (no cycles; shared/, editor/, store/ and observe/ import only what they may)'],
  ['lint:unused', 'knip (no unused files, exports or dependencies)'],
];
const failed = [];
for (const [script, what] of checks) {
  process.stdout.write(`\n== ${script}: ${what}\n`);
  const { status } = spawnSync('npm', ['run', '-s', script], { stdio: 'inherit' });
  if (status !== 0) failed.push(script);
}
if (failed.length > 0) {
  process.stderr.write(`\nlint failed: ${failed.join(', ')}\n`);
  process.exit(1);
}
process.stdout.write('\nlint: all checks pass\n');
